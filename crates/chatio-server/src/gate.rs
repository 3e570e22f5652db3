//! The request gate: what every request of the Customer API passes before an action runs,
//! whichever way it came (an RTM frame over the websocket or socket.io, or a Web API call).
//!
//! In order: the request decodes (a frame over 1 MiB never reaches here: the transports and
//! the Web API refuse it first, at [`MAX_FRAME_LEN`](chatio_wire::limits::MAX_FRAME_LEN));
//! the action exists, and on this API ([`Api`]); the caller has a credential (a session
//! logged in with `login`, a Web API call's bearer token); the credential is valid; the
//! license is not expired. Only then does the state run the action as that [`Caller`]. A
//! refusal is a typed [`Refusal`] whose error object is what the client gets.
//!
//! `login` is the one RTM request that passes without a credential: it is how a session
//! gets one ([`rtm_frame`] hands it to the state).

use std::sync::Arc;

use chatio_wire::{
    Action, ClientFrame, DecodeError, DecodeErrorKind, ErrorObject, ErrorType, Request, Response, UserId,
};

use chatio_wire::agent;

use crate::actions::Caller;
use crate::actions::agent::AgentCaller;
use crate::state::{ConnId, State};

/// Which API a request came by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// The RTM API (websocket or socket.io).
    Rtm,
    /// The Web API (HTTP).
    Web,
}

impl Api {
    /// Whether `action` exists on this API of the reference server (1.3, G33): `login` and
    /// `ping` only make sense on a connection; everything else is on both (`send_file`
    /// runs on the Web API only, and its action says so over the RTM).
    fn allows(self, action: Action) -> bool {
        match self {
            Self::Rtm => true,
            Self::Web => !matches!(action, Action::Login | Action::Ping),
        }
    }
}

/// Who claims to be calling.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Credential<'a> {
    /// An RTM session: the customer it logged in as, if it did.
    Session(Option<&'a UserId>),
    /// A Web API call: the token of its `Authorization: Bearer` header, if it had one.
    Bearer(Option<&'a str>),
}

/// Why the gate refused a request; each carries the error object the client gets.
#[derive(Clone, Debug)]
pub(crate) enum Refusal {
    /// The request did not decode (`validation`).
    Malformed(ErrorObject),
    /// No such action (`validation`; the Web API answers 404).
    UnknownAction(ErrorObject),
    /// An action of the other API (`validation`; the Web API answers 404).
    WrongApi(ErrorObject),
    /// No credential: a session that has not logged in, a call without a bearer token
    /// (`authentication`).
    NoCredential(ErrorObject),
    /// The credential or the license was refused (`authentication`, `customer_banned`,
    /// `license_expired`).
    Refused(ErrorObject),
}

impl Refusal {
    /// The error object the client gets.
    pub(crate) fn into_error(self) -> ErrorObject {
        match self {
            Self::Malformed(e)
            | Self::UnknownAction(e)
            | Self::WrongApi(e)
            | Self::NoCredential(e)
            | Self::Refused(e) => e,
        }
    }
}

/// The checks every request passes, on either API: the action exists there, a credential,
/// a valid one, a license not expired. Returns who the action runs as.
pub(crate) fn admit(
    state: &State,
    api: Api,
    license: u64,
    action: &str,
    credential: Credential<'_>,
) -> Result<Caller, Refusal> {
    let Some(known) = Action::parse(action) else {
        return Err(Refusal::UnknownAction(ErrorObject::validation(format!("unknown action `{action}`"))));
    };
    if !api.allows(known) {
        return Err(Refusal::WrongApi(ErrorObject::validation(format!(
            "`{action}` is available over the RTM API only"
        ))));
    }
    let customer = match credential {
        Credential::Session(Some(customer)) => customer.clone(),
        Credential::Session(None) => {
            let e = ErrorObject::new(ErrorType::Authentication, "login required: the first request must be `login`");
            return Err(Refusal::NoCredential(e));
        }
        Credential::Bearer(None) => {
            let e = ErrorObject::new(ErrorType::Authentication, "`Authorization: Bearer <token>` is required");
            return Err(Refusal::NoCredential(e));
        }
        Credential::Bearer(Some(token)) => state.authenticate(license, token).map_err(Refusal::Refused)?,
    };
    if state.license_expired(license) {
        return Err(Refusal::Refused(ErrorObject::with_default_message(ErrorType::LicenseExpired)));
    }
    Ok(Caller { license, customer })
}

/// One RTM text frame of a session on `license`, logged in as `customer` (or not yet):
/// decoded, passed through the gate and run, its response and pushes queued on the session.
/// Returns the customer when the frame was a successful `login`.
pub(crate) fn rtm_frame(
    state: &Arc<State>,
    id: ConnId,
    license: u64,
    customer: Option<&UserId>,
    text: &str,
) -> Option<UserId> {
    let frame = match ClientFrame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            state.respond(id, undecodable(&e));
            return None;
        }
    };
    let request_id = frame.request_id;
    if let Request::Login(login) = &frame.request {
        return state.login(id, license, request_id, login);
    }
    let action = frame.request.action().to_owned();
    match admit(state, Api::Rtm, license, &action, Credential::Session(customer)) {
        Ok(caller) => state.act_rtm(id, request_id, &caller, frame.request),
        Err(refusal) => state.respond(id, Response::failure(request_id, action, refusal.into_error())),
    }
    None
}

/// A Web API body (JSON; blank counts as `{}`) as the request of `action`.
pub(crate) fn web_request(action: &str, body: &[u8]) -> Result<Request, Refusal> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { body };
    Request::decode_web_body(action, body).map_err(|e| Refusal::Malformed(ErrorObject::validation(e.to_string())))
}

/// The validation error for a frame that could not be decoded (G7): the request id and
/// action when they could be read, and a message naming the field.
fn undecodable(e: &DecodeError) -> Response {
    let action = match e.kind() {
        DecodeErrorKind::InvalidPayload | DecodeErrorKind::InvalidFrame => e.action().unwrap_or(""),
        _ => "",
    };
    let message = match e.field() {
        Some(field) if !e.to_string().contains(field) => format!("{e} (field `{field}`)"),
        _ => e.to_string(),
    };
    Response::failure(e.request_id().cloned(), action, ErrorObject::validation(message))
}

// --- The Agent API --------------------------------------------------------------------------

/// Whether an agent `action` exists on this API of the reference server (H3): every
/// method on the RTM but `upload_image`; on the Web API every one but `login` and `ping`.
fn agent_api_allows(api: Api, action: agent::Action) -> bool {
    match api {
        Api::Rtm => action.on_rtm(),
        Api::Web => !matches!(action, agent::Action::Login | agent::Action::Ping),
    }
}

/// The checks every agent request passes besides the token (which `login` or the Web API
/// call checked): the action exists on this API, the connection logged in, and `author_id`
/// names a bot the agent owns (H34): the request then runs as that bot, under the agent's
/// token scopes.
pub(crate) fn admit_agent(
    state: &State,
    api: Api,
    action: &str,
    agent: Option<&AgentCaller>,
    author_id: Option<&UserId>,
) -> Result<AgentCaller, Refusal> {
    let Some(known) = agent::Action::parse(action) else {
        return Err(Refusal::UnknownAction(ErrorObject::validation(format!("unknown action `{action}`"))));
    };
    if !agent_api_allows(api, known) {
        let which = if api == Api::Rtm { "the Web API" } else { "the RTM API" };
        return Err(Refusal::WrongApi(ErrorObject::validation(format!("`{action}` is available over {which} only"))));
    }
    let Some(agent) = agent else {
        let e = ErrorObject::new(ErrorType::Authentication, "login required: the first request must be `login`");
        return Err(Refusal::NoCredential(e));
    };
    match author_id {
        Some(bot) => state.as_bot(agent, bot).ok_or_else(|| {
            let e =
                ErrorObject::new(ErrorType::Authorization, format!("`author_id`: `{bot}` is no bot of this agent's"));
            Refusal::Refused(e)
        }),
        None => Ok(agent.clone()),
    }
}

/// One text frame of an Agent API session, logged in as `agent` (or not yet): decoded,
/// passed through the gate and run. Returns the agent when the frame was a successful
/// `login`.
pub(crate) fn agent_frame(
    state: &Arc<State>,
    id: ConnId,
    agent: Option<&AgentCaller>,
    text: &str,
) -> Option<AgentCaller> {
    let frame = match agent::ClientFrame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            state.respond(id, undecodable(&e));
            return None;
        }
    };
    let request_id = frame.request_id;
    if let agent::Request::Login(login) = &frame.request {
        return state.agent_login(id, request_id, login, agent);
    }
    let action = frame.request.action().to_owned();
    match admit_agent(state, Api::Rtm, &action, agent, frame.author_id.as_ref()) {
        Ok(caller) => state.act_agent_rtm(id, request_id, &caller, frame.request),
        Err(refusal) => {
            state.respond_agent(id, agent::Response::failure(request_id, action, refusal.into_error()));
        }
    }
    None
}
