//! The actions of the Customer API v0.5: what each request does to the data.
//!
//! Pure: each call takes a [`Ctx`] (the store, who is present, the configured rules, the
//! time) and the caller, and returns the response plus the pushes to deliver and the
//! triggers the scripted agent reacts to; no I/O of its own, no clock, no lock, no task.
//! The state layer (`crate::state`) takes the lock, calls an action, and delivers what it
//! returns through the hub. Every action checks its arguments and rights before it writes,
//! so a refused request leaves the store as it was.
//!
//! One file per concern: `chats.rs` (starting and reading chats), `events.rs` (events and
//! threads), `updates.rs` (scopes, properties, last seen, customer data), `send_file.rs`
//! (the upload's event), `auth.rs` (the token check and `login`), `checks.rs` (argument
//! checks), `views.rs` (wire objects from the stored records), `answer.rs` (the
//! answer-size limit).

use std::collections::HashSet;

use chatio_wire::{ChatId, ErrorObject, Push, Request, ResponseData, UserId};

use crate::config::{ConformanceFault, DeclaredProperty, ServerConfig};
use crate::store::{ChatRec, Store};

pub(crate) mod agent;
mod answer;
mod auth;
mod chats;
mod checks;
mod event_json;
mod events;
pub(crate) mod file_refs;
pub(crate) mod quota;
mod send_file;
mod updates;
mod views;

pub(crate) use answer::{encode_agent_response, encode_response};
pub(crate) use auth::{authenticate, login};
use checks::{authorization, validation};
pub(crate) use event_json::EventJson;
pub(crate) use events::add_agent_event;
pub(crate) use send_file::{Upload, send_file};
pub(crate) use updates::customer_updated;

/// Who is calling.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub(crate) license: u64,
    pub(crate) customer: UserId,
}

/// What routing and the auto chat scopes react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A customer started a chat or opened a thread.
    NeedsAgent { chat: ChatId },
}

/// Pushes for a customer's connections.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub(crate) license: u64,
    pub(crate) customer: UserId,
    pub(crate) push: Push,
    /// Whether the requester's connection gets its copy with `request_id`.
    pub(crate) caused_by_request: bool,
    /// The JSON of the event an `incoming_event` push carries, when it was encoded already.
    pub(crate) event_json: Option<EventJson>,
}

/// Pushes for agents' connections (Agent API).
#[derive(Clone, Debug)]
pub(crate) struct AgentDelivery {
    pub(crate) license: u64,
    pub(crate) to: AgentTarget,
    pub(crate) push: chatio_wire::agent::Push,
    /// Whether the requester's connection gets its copy with `request_id`.
    pub(crate) caused_by_request: bool,
}

/// Which agents' connections get an agent push.
#[derive(Clone, Debug)]
pub(crate) enum AgentTarget {
    /// Every agent that sees the chat (H13): its members, and those whose token reads
    /// every chat and whom the chat's scopes let in.
    Chat(agent::Audience),
    /// Every agent of the license.
    License,
    /// These agents (lower-case ids) of the license (`multicast`).
    Agents(Vec<String>),
}

/// What a call did besides its response.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) agent_deliveries: Vec<AgentDelivery>,
    pub(crate) triggers: Vec<Trigger>,
    /// Customers banned by the request (`ban_customer`): after the pushes, their
    /// connections get `customer_disconnected` `customer_banned` and close.
    pub(crate) banned: Vec<(u64, UserId)>,
    /// The JSON of the event the response carries (`send_event`), encoded once.
    pub(crate) response_event: Option<EventJson>,
}

impl Effects {
    /// A push to the chat's customer caused by the request being handled.
    fn push(&mut self, license: u64, customer: &UserId, push: Push) {
        self.deliveries.push(Delivery {
            license,
            customer: customer.clone(),
            push,
            caused_by_request: true,
            event_json: None,
        });
    }
}

/// Customers with at least one logged-in RTM connection (G20).
pub(crate) type Presence = HashSet<(u64, UserId)>;

/// The configured rules the actions enforce: the licenses served (and expired ones), the
/// G4 chat cap, the quotas (G38) with the uploaded bytes held, the G15 declared
/// properties, and the test-only conformance fault.
#[derive(Clone, Debug, Default)]
pub(crate) struct Policy {
    pub(crate) licenses: Vec<u64>,
    pub(crate) expired_licenses: Vec<u64>,
    /// Chats one customer may start (`None`: unlimited).
    pub(crate) max_chats_per_customer: Option<usize>,
    /// The quotas on events, properties and uploads (G38).
    pub(crate) quotas: crate::config::Quotas,
    /// Bytes of uploaded files the server holds now (against `quotas.upload_bytes`).
    pub(crate) upload_bytes: u64,
    /// Properties customers may write (empty: any).
    pub(crate) declared_properties: Vec<DeclaredProperty>,
    /// A deliberate fault for conformance tests (see [`ConformanceFault`]).
    pub(crate) conformance_fault: Option<ConformanceFault>,
    /// Whether [`ConformanceFault::DropPush`] has dropped its push.
    pub(crate) push_dropped: bool,
}

impl Policy {
    /// The rules a server configuration sets.
    pub(crate) fn of(config: &ServerConfig) -> Self {
        Self {
            licenses: config.licenses.clone(),
            expired_licenses: config.expired_licenses.clone(),
            max_chats_per_customer: config.max_chats_per_customer,
            quotas: config.quotas.clone(),
            upload_bytes: 0,
            declared_properties: config.declared_properties.clone(),
            conformance_fault: config.conformance_fault,
            push_dropped: false,
        }
    }
}

/// What an action works with besides its request.
pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a mut dyn Store,
    pub(crate) presence: &'a Presence,
    pub(crate) policy: &'a mut Policy,
    /// The Agent API's agents, their tokens, presence and routing state.
    pub(crate) agents: &'a mut crate::agents::AgentData,
    /// Unix seconds now.
    pub(crate) now: u64,
}

impl Ctx<'_> {
    /// Whether a customer has a logged-in RTM connection (G20).
    fn present(&self, license: u64, customer: &UserId) -> bool {
        self.presence.contains(&(license, customer.clone()))
    }

    /// One of the caller's chats: another customer's chat and a missing one look the same
    /// (no probing of ids).
    fn own_chat(&mut self, caller: &Caller, chat: &ChatId) -> Result<ChatRec, ErrorObject> {
        match self.store.chat(caller.license, chat)? {
            Some(c) if c.customer == caller.customer => Ok(c),
            _ => Err(authorization(format!("chat `{chat}` is not one of the customer's chats"))),
        }
    }
}

/// Runs one request (every action except `login`, which the state runs on a session).
pub(crate) fn handle(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    request: Request,
) -> (Result<ResponseData, ErrorObject>, Effects) {
    let mut fx = Effects::default();
    // A deliberate fault for conformance tests: times in milliseconds.
    let now = cx.now;
    if cx.policy.conformance_fault == Some(ConformanceFault::TimestampsMs) {
        cx.now = now.saturating_mul(1000);
    }
    let sneak_peek = match &request {
        Request::SendSneakPeek(p) => Some(p.clone()),
        _ => None,
    };
    let mut result = dispatch(cx, caller, request, &mut fx);
    cx.now = now;
    if result.is_err() {
        fx = Effects::default();
    }
    if result.is_ok() {
        // What the customer did reaches the agents who see the chat, in their shapes, and
        // a chat that needs an agent is routed (H30).
        let sides = agent::mirror(cx, &mut fx)
            .and_then(|()| sneak_peek.map_or(Ok(()), |p| agent::sneak_peek(cx, caller, &p, &mut fx)))
            .and_then(|()| agent::route_triggers(cx, caller.license, &mut fx));
        if let Err(e) = sides {
            result = Err(e.into());
            fx = Effects::default();
        }
    }
    // After the mirror: the agents (the scripted bot among them) still hear it.
    conformance_drop_push(cx.policy, &mut fx);
    (result, fx)
}

/// A deliberate fault for conformance tests: the first `incoming_event` push a request
/// causes is not delivered.
fn conformance_drop_push(policy: &mut Policy, fx: &mut Effects) {
    if policy.conformance_fault != Some(ConformanceFault::DropPush) || policy.push_dropped {
        return;
    }
    if let Some(i) = fx.deliveries.iter().position(|d| matches!(d.push, Push::IncomingEvent(_))) {
        fx.deliveries.remove(i);
        policy.push_dropped = true;
    }
}

fn dispatch(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    request: Request,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    match request {
        Request::Ping => Ok(ResponseData::Ping),
        Request::GetChatsSummary(p) => chats::get_chats_summary(cx, caller, &p),
        Request::GetChatThreads(p) => chats::get_chat_threads(cx, caller, &p),
        Request::GetChatThreadsSummary(p) => chats::get_chat_threads_summary(cx, caller, &p),
        Request::StartChat(p) => chats::start_chat(cx, caller, p, fx),
        Request::SendEvent(p) => events::send_event(cx, caller, p, fx),
        Request::SendFile(_) => Err(validation("send_file is available over the Web API only (multipart upload)")),
        Request::SendRichMessagePostback(p) => events::send_rich_message_postback(cx, caller, &p, fx),
        Request::SendSneakPeek(p) => events::send_sneak_peek(cx, caller, &p),
        Request::CloseThread(p) => events::close_thread(cx, caller, p, fx),
        Request::UpdateChatScopes(p) => updates::update_chat_scopes(cx, caller, p, fx),
        Request::UpdateCustomer(p) => updates::update_customer(cx, caller, &p, fx),
        Request::UpdateChatProperties(p) => updates::update_chat_properties(cx, caller, p, fx),
        Request::UpdateChatThreadProperties(p) => updates::update_chat_thread_properties(cx, caller, p, fx),
        Request::UpdateLastSeenTimestamp(p) => updates::update_last_seen_timestamp(cx, caller, &p, fx),
        Request::Login(_) => Err(validation("already handled")),
        Request::Unknown { action, .. } => Err(validation(format!("unknown action `{action}`"))),
        other => Err(validation(format!("unknown action `{}`", other.action()))),
    }
}
