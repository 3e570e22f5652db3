//! The Web API (section 2.6): JSON actions and `send_file` uploads.

use std::sync::Arc;

use bytes::Bytes;
use chatio_wire::limits::{MAX_FRAME_LEN, MAX_ID_LEN};
use chatio_wire::{
    Action, ErrorObject, ErrorType, EventKind, FileAttachment, NewEvent, Request, Response, ResponseData,
    SendFileResponse,
};
use http::{StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use super::{bearer, envelope, status_of, web_error};
use crate::actions::{self, Caller};
use crate::files;
use crate::net::http::{Resp, query};
use crate::state::{Shared, now_secs};
use crate::store::FileRec;

/// Serves `POST /customer/v0.5/action/<action>`.
pub(crate) async fn web_api(
    shared: Arc<Shared>,
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
    if !shared.config.licenses.contains(&license) {
        return web_error(
            StatusCode::NOT_FOUND,
            &action,
            ErrorObject::validation(format!("license {license} not found")),
        );
    }
    let known = Action::parse(&action);
    match known {
        Some(a) if web_api_allows(a) => {}
        Some(_) => {
            return web_error(
                StatusCode::NOT_FOUND,
                &action,
                ErrorObject::validation(format!("`{action}` is available over the RTM API only")),
            );
        }
        None => {
            return web_error(
                StatusCode::NOT_FOUND,
                &action,
                ErrorObject::validation(format!("unknown action `{action}`")),
            );
        }
    }
    let Some(token) = bearer(&req) else {
        return web_error(
            StatusCode::UNAUTHORIZED,
            &action,
            ErrorObject::new(ErrorType::Authentication, "`Authorization: Bearer <token>` is required"),
        );
    };
    let customer = {
        let inner = shared.lock();
        match actions::authenticate(&inner.store, license, &token, now_secs()) {
            Ok(c) => c,
            Err(e) => return web_error(status_of(&e), &action, e),
        }
    };
    let caller = Caller { license, customer };
    if known == Some(Action::SendFile) {
        return send_file(shared, req, caller).await;
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
    let request = match Request::decode_web_body(&action, body) {
        Ok(r) => r,
        Err(e) => return web_error(StatusCode::BAD_REQUEST, &action, ErrorObject::validation(e.to_string())),
    };
    let mut guard = shared.lock();
    let inner = &mut *guard;
    if inner.store.licenses.get(&license).is_some_and(|l| l.expired) {
        return web_error(StatusCode::FORBIDDEN, &action, ErrorObject::with_default_message(ErrorType::LicenseExpired));
    }
    let (result, fx) = actions::handle(&mut inner.store, &inner.hub.presence, &caller, request, now_secs());
    // Pushes of a Web API call carry no request_id (1.3).
    shared.finish(inner, license, fx, None);
    match result {
        Ok(data) => envelope(StatusCode::OK, Response::success(None, data)),
        Err(e) => web_error(status_of(&e), &action, e),
    }
}

/// Which actions exist on the Web API of the reference server (1.3 and G33).
fn web_api_allows(action: Action) -> bool {
    !matches!(action, Action::Login | Action::Ping)
}

async fn send_file(shared: Arc<Shared>, req: hyper::Request<Incoming>, caller: Caller) -> Resp {
    let action = "send_file";
    let limit = shared.config.max_file_size;
    // Refuse before reading when the announced body cannot fit (413, G14).
    let announced =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit + 64 * 1024) {
        return web_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            action,
            ErrorObject::validation(format!("the file is too big (max size is {limit} bytes)")),
        );
    }
    let boundary = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|ct| multer::parse_boundary(ct).ok());
    let Some(boundary) = boundary else {
        return web_error(
            StatusCode::BAD_REQUEST,
            action,
            ErrorObject::validation("send_file needs a multipart/form-data body"),
        );
    };
    let stream = http_body_util::BodyStream::new(req.into_body()).filter_map_frames();
    let constraints = multer::Constraints::new()
        .size_limit(multer::SizeLimit::new().whole_stream(limit + 64 * 1024).per_field(limit));
    let mut mp = multer::Multipart::with_constraints(stream, boundary, constraints);
    let mut chat_id = None;
    let mut custom_id = None;
    let mut file: Option<(String, Option<String>, Bytes)> = None;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return multipart_error(action, &e, limit),
        };
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "payload.chat_id" => match field.text().await {
                Ok(t) => chat_id = Some(t),
                Err(e) => return multipart_error(action, &e, limit),
            },
            "payload.custom_id" => match field.text().await {
                Ok(t) => custom_id = Some(t),
                Err(e) => return multipart_error(action, &e, limit),
            },
            "payload.file" => {
                let fname = field.file_name().filter(|n| !n.is_empty()).unwrap_or("file").to_owned();
                let ct = field.content_type().map(|m| m.to_string());
                match field.bytes().await {
                    Ok(b) => file = Some((fname, ct, b)),
                    Err(e) => return multipart_error(action, &e, limit),
                }
            }
            _ => {
                if let Err(e) = field.bytes().await {
                    return multipart_error(action, &e, limit);
                }
            }
        }
    }
    let Some(chat_id) = chat_id.filter(|c| !c.is_empty()) else {
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
    let content_type = files::content_type(declared.as_deref(), &bytes);
    let size = bytes.len() as u64;
    let dims = files::image_size(&bytes);
    let now = now_secs();
    let mut guard = shared.lock();
    let inner = &mut *guard;
    let key = format!(
        "/api/file/chatio/att/{}/{}.{}",
        caller.license,
        crate::store::Ids::secret_hex(32),
        files::extension(&name, &content_type)
    );
    let url = format!("{}{key}", shared.public_url);
    let mut attachment = FileAttachment::new(name, url.clone(), content_type.clone(), size);
    if let Some((w, h)) = dims {
        attachment.width = Some(w);
        attachment.height = Some(h);
    }
    let mut event = NewEvent::new(EventKind::File(attachment));
    event.custom_id = custom_id;
    let chat = chatio_wire::ChatId::from(chat_id);
    let (thread, ev, opened) = match actions::add_customer_event(&mut inner.store, &caller, &chat, event, now) {
        Ok(x) => x,
        Err(e) => return web_error(status_of(&e), action, e),
    };
    inner.store.files.insert(key, FileRec { content_type, bytes });
    let mut fx = actions::Effects::default();
    actions::deliver_new_event(
        &inner.store,
        &inner.hub.presence,
        caller.license,
        &chat,
        &thread,
        &ev,
        opened,
        false,
        &mut fx,
    );
    if opened {
        fx.triggers.push(actions::Trigger::NeedsAgent { chat });
    }
    shared.finish(inner, caller.license, fx, None);
    envelope(StatusCode::OK, Response::success(None, ResponseData::SendFile(SendFileResponse::new(url))))
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
