//! The Web API (section 2.6): JSON actions and `send_file` uploads. The HTTP side (paths,
//! statuses, bodies, multipart) is here; every call passes the request gate (`crate::gate`)
//! like an RTM frame, then the state runs it.

use std::sync::Arc;

use bytes::Bytes;
use chatio_wire::limits::{MAX_FRAME_LEN, MAX_ID_LEN};
use chatio_wire::{Action, ChatId, ErrorObject, ErrorType, Response, ResponseData, SendFileResponse};
use http::{StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::{bearer, envelope, status_of, web_error};
use crate::actions::agent::AgentCaller;
use crate::actions::{Caller, Upload};
use crate::gate::{self, Api, Credential, Refusal};
use crate::net::http::{Resp, query};
use crate::state::State;

/// The HTTP answer to a refusal of the gate.
fn refused(action: &str, refusal: Refusal) -> Resp {
    let status = match &refusal {
        Refusal::UnknownAction(_) | Refusal::WrongApi(_) => StatusCode::NOT_FOUND,
        Refusal::NoCredential(_) => StatusCode::UNAUTHORIZED,
        Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
        Refusal::Refused(e) => status_of(e),
    };
    web_error(status, action, refusal.into_error())
}

/// Serves `POST /customer/v0.5/action/<action>`.
pub(crate) async fn web_api(
    state: &Arc<State>,
    req: hyper::Request<Incoming>,
    version: Option<String>,
    action: String,
) -> Resp {
    if version.as_deref().is_some_and(|v| v != "v0.5") {
        return web_error(
            StatusCode::BAD_REQUEST,
            &action,
            ErrorObject::with_default_message(ErrorType::UnsupportedVersion),
        );
    }
    let q = query(&req);
    let Some(license) = q.get("license_id").and_then(|l| l.parse::<u64>().ok()) else {
        return web_error(
            StatusCode::BAD_REQUEST,
            &action,
            ErrorObject::validation("`license_id` (an integer) is required"),
        );
    };
    if !state.config.licenses.contains(&license) {
        return web_error(
            StatusCode::NOT_FOUND,
            &action,
            ErrorObject::validation(format!("license {license} not found")),
        );
    }
    let token = bearer(&req);
    let caller = match gate::admit(state, Api::Web, license, &action, Credential::Bearer(token.as_deref())) {
        Ok(caller) => caller,
        Err(refusal) => return refused(&action, refusal),
    };
    // What the scripted bot does about the customer's previous requests comes first (G8).
    state.bot_settled(license).await;
    if Action::parse(&action) == Some(Action::SendFile) {
        return send_file(state, req, caller).await;
    }
    let body = match Limited::new(req.into_body(), MAX_FRAME_LEN).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return web_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &action,
                ErrorObject::validation("the body is larger than 1 MiB"),
            );
        }
    };
    let request = match gate::web_request(&action, &body) {
        Ok(r) => r,
        Err(refusal) => return refused(&action, refusal),
    };
    // Pushes of a Web API call carry no request_id (1.3).
    match state.act_web(&caller, request) {
        Ok(data) => envelope(StatusCode::OK, Response::success(None, data)),
        Err(e) => web_error(status_of(&e), &action, e),
    }
}

/// Serves `POST /agent/v0.5/action/<action>` (Agent API, H3): the bearer token names the
/// agent and its license; the body is `{"payload": …, "author_id": …}` or the bare payload.
pub(crate) async fn agent_web_api(
    state: &Arc<State>,
    req: hyper::Request<Incoming>,
    version: Option<String>,
    action: String,
) -> Resp {
    use chatio_wire::agent;
    if version.as_deref().is_some_and(|v| v != "v0.5") {
        return web_error(
            StatusCode::BAD_REQUEST,
            &action,
            ErrorObject::with_default_message(ErrorType::UnsupportedVersion),
        );
    }
    // The action first (404 for an unknown one, whoever asks), then the credential.
    if let Err(refusal) = gate::admit_agent(state, Api::Web, &action, None, None) {
        if !matches!(refusal, Refusal::NoCredential(_)) {
            return refused(&action, refusal);
        }
    }
    let Some(token) = bearer(&req) else {
        let e = ErrorObject::new(ErrorType::Authentication, "`Authorization: Bearer <token>` is required");
        return refused(&action, Refusal::NoCredential(e));
    };
    let agent = match state.authenticate_agent(&token) {
        Ok(a) => a,
        Err(e) => return web_error(status_of(&e), &action, e),
    };
    if agent::Action::parse(&action) == Some(agent::Action::UploadImage) {
        let caller = match gate::admit_agent(state, Api::Web, &action, Some(&agent), None) {
            Ok(c) => c,
            Err(refusal) => return refused(&action, refusal),
        };
        return upload_image(state, req, &caller).await;
    }
    let body = match Limited::new(req.into_body(), MAX_FRAME_LEN).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return web_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &action,
                ErrorObject::validation("the body is larger than 1 MiB"),
            );
        }
    };
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) { b"{}" } else { &body };
    let frame = match agent::ClientFrame::decode_web_body(&action, body) {
        Ok(f) => f,
        Err(e) => return web_error(StatusCode::BAD_REQUEST, &action, ErrorObject::validation(e.to_string())),
    };
    let caller = match gate::admit_agent(state, Api::Web, &action, Some(&agent), frame.author_id.as_ref()) {
        Ok(c) => c,
        Err(refusal) => return refused(&action, refusal),
    };
    agent_answer(&action, state.act_agent_web(&caller, frame.request))
}

async fn send_file(state: &Arc<State>, req: hyper::Request<Incoming>, caller: Caller) -> Resp {
    let action = "send_file";
    let (fields, file) = match read_multipart(req, action, state.config.max_file_size, "payload.file").await {
        Ok(parts) => parts,
        Err(resp) => return resp,
    };
    let custom_id = fields.get("payload.custom_id").cloned();
    let Some(chat_id) = fields.get("payload.chat_id").filter(|c| !c.is_empty()).cloned() else {
        return web_error(StatusCode::BAD_REQUEST, action, ErrorObject::validation("`payload.chat_id` is required"));
    };
    let Some((name, declared, bytes)) = file else {
        return web_error(StatusCode::BAD_REQUEST, action, ErrorObject::validation("`payload.file` is required"));
    };
    if custom_id.as_ref().is_some_and(|c| c.len() > MAX_ID_LEN) {
        return web_error(
            StatusCode::BAD_REQUEST,
            action,
            ErrorObject::validation("`payload.custom_id` is longer than 256 bytes"),
        );
    }
    let upload = Upload { chat: ChatId::from(chat_id), custom_id, name, declared_type: declared, bytes };
    match state.send_file(&caller, upload) {
        Ok(url) => {
            envelope(StatusCode::OK, Response::success(None, ResponseData::SendFile(SendFileResponse::new(url))))
        }
        Err(e) => web_error(status_of(&e), action, e),
    }
}

/// `upload_image` of the Agent API (§5.23, H26): the multipart part `payload.image`, at most
/// 10 MiB (larger: 413).
async fn upload_image(state: &Arc<State>, req: hyper::Request<Incoming>, caller: &AgentCaller) -> Resp {
    use chatio_wire::agent;
    let action = "upload_image";
    let limit = crate::actions::agent::upload::MAX_IMAGE_SIZE;
    let (_, file) = match read_multipart(req, action, limit, agent::UploadImage::FIELD_IMAGE).await {
        Ok(parts) => parts,
        Err(resp) => return resp,
    };
    let Some((_, _, bytes)) = file else {
        return web_error(StatusCode::BAD_REQUEST, action, ErrorObject::validation("`payload.image` is required"));
    };
    let result = state.upload_image(caller, bytes).map(agent::ResponseData::UploadImage);
    agent_answer(action, result)
}

/// The Agent API's answer to a Web API call.
fn agent_answer(action: &str, result: Result<chatio_wire::agent::ResponseData, ErrorObject>) -> Resp {
    use chatio_wire::agent;
    match result {
        Ok(data) => {
            let text = crate::actions::encode_agent_response(agent::Response::success(None, data));
            crate::net::http::respond(StatusCode::OK, "application/json", text)
        }
        Err(e) => {
            let text = crate::actions::encode_agent_response(agent::Response::failure(None, action, e.clone()));
            crate::net::http::respond(status_of(&e), "application/json", text)
        }
    }
}

/// A file part and its name and declared type.
type FilePart = (String, Option<String>, Bytes);

/// Reads a `multipart/form-data` body of at most `limit` bytes of file (plus 64 KiB of
/// the rest): the text fields by name, and the part named `file_field`. Refusals (no
/// multipart body, too large, malformed) are the HTTP answers.
async fn read_multipart(
    req: hyper::Request<Incoming>,
    action: &str,
    limit: u64,
    file_field: &str,
) -> Result<(std::collections::HashMap<String, String>, Option<FilePart>), Resp> {
    let announced =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit + 64 * 1024) {
        return Err(web_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            action,
            ErrorObject::validation(format!("the file is too big (max size is {limit} bytes)")),
        ));
    }
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        return Err(web_error(
            StatusCode::BAD_REQUEST,
            action,
            ErrorObject::validation(format!("{action} needs a multipart/form-data body")),
        ));
    };
    let stream = http_body_util::BodyStream::new(req.into_body()).filter_map_frames();
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limit + 64 * 1024).per_field(limit));
    let mut mp = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut fields = std::collections::HashMap::new();
    let mut file = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(action, &e, limit)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            let fname = field.file_name().filter(|n| !n.is_empty()).unwrap_or("file").to_owned();
            let ct = field.content_type().map(|m| m.to_string());
            match field.bytes().await {
                Ok(b) => file = Some((fname, ct, b)),
                Err(e) => return Err(multipart_error(action, &e, limit)),
            }
        } else if name.starts_with("payload.") && fields.len() < 16 {
            match field.text().await {
                Ok(t) => {
                    fields.insert(name, t);
                }
                Err(e) => return Err(multipart_error(action, &e, limit)),
            }
        } else if let Err(e) = field.bytes().await {
            return Err(multipart_error(action, &e, limit));
        }
    }
    Ok((fields, file))
}

trait FilterFrames {
    fn filter_map_frames(self) -> futures::stream::BoxStream<'static, Result<Bytes, hyper::Error>>;
}

impl FilterFrames for http_body_util::BodyStream<Incoming> {
    fn filter_map_frames(self) -> futures::stream::BoxStream<'static, Result<Bytes, hyper::Error>> {
        use futures::StreamExt;
        self.filter_map(|f| async move {
            match f {
                Ok(frame) => frame.into_data().ok().map(Ok),
                Err(e) => Some(Err(e)),
            }
        })
        .boxed()
    }
}

fn multipart_error(action: &str, e: &multer::Error, limit: u64) -> Resp {
    match e {
        multer::Error::FieldSizeExceeded { .. } | multer::Error::StreamSizeExceeded { .. } => web_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            action,
            ErrorObject::validation(format!("the file is too big (max size is {limit} bytes)")),
        ),
        other => web_error(
            StatusCode::BAD_REQUEST,
            action,
            ErrorObject::validation(format!("malformed multipart body: {other}")),
        ),
    }
}
