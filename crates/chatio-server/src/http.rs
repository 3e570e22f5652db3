//! HTTP: routing, the websocket upgrade, the Web API, the customer token endpoint, files,
//! the license config and the admin (fault-injection) routes.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::TokioAdapter;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use bytes::Bytes;
use chatio_wire::{
    Action, DisconnectReason, ErrorObject, ErrorType, EventKind, FileAttachment, NewEvent, Request, Response,
    ResponseData, SendFileResponse, ServerFrame, UserId,
};
use http::{Method, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::json;

use crate::conn;
use crate::engine::{self, Caller};
use crate::files;
use crate::server::{Fault, Shared, now_secs};
use crate::store::FileRec;

type Resp = hyper::Response<Full<Bytes>>;

/// Websocket read buffer per connection (tungstenite grows it for larger frames).
const READ_BUFFER: usize = 2 * 1024;
/// Websocket write batching threshold per connection.
const WRITE_BUFFER: usize = 8 * 1024;

/// Serves HTTP/1.1 on one accepted connection (upgrades included).
pub(crate) async fn serve_connection(shared: Arc<Shared>, io: TokioIo<tokio::net::TcpStream>, peer: SocketAddr) {
    let svc = hyper::service::service_fn(move |req| {
        let shared = shared.clone();
        async move { Ok::<_, Infallible>(route(shared, req).await) }
    });
    // The timer makes hyper's header read timeout (30 s) effective: a client that never
    // finishes its request head does not hold the connection forever.
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .max_buf_size(64 * 1024)
        .serve_connection(io, svc)
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(%peer, error = %e, "http connection ended with an error");
    }
}

fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = hyper::Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

fn json_resp(status: StatusCode, v: &serde_json::Value) -> Resp {
    respond(status, "application/json", v.to_string())
}

fn query(req: &hyper::Request<Incoming>) -> HashMap<String, String> {
    req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

/// Browser clients: preflights answered, every answer readable by the requesting origin.
async fn route(shared: Arc<Shared>, req: hyper::Request<Incoming>) -> Resp {
    if let Some(r) = crate::cors::preflight(&req) {
        return r;
    }
    let origin = crate::cors::origin(&req);
    let mut resp = route_request(shared, req).await;
    crate::cors::allow(&mut resp, origin);
    resp
}

async fn route_request(shared: Arc<Shared>, req: hyper::Request<Incoming>) -> Resp {
    let path = req.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match (req.method().clone(), segments.as_slice()) {
        (Method::GET, ["customer", version, "rtm", "ws"]) => websocket(shared, req, Some((*version).to_owned())),
        (Method::GET, ["customer", "rtm", "ws"]) => websocket(shared, req, None),
        (_, ["customer", _, "rtm", "sio"]) | (_, ["customer", "rtm", "sio"]) => {
            respond(StatusCode::NOT_FOUND, "text/plain", "socket.io is not served: use /customer/v0.5/rtm/ws")
        }
        (Method::POST, ["customer", version, "action", action]) => {
            let (v, a) = ((*version).to_owned(), (*action).to_owned());
            web_api(shared, req, Some(v), a).await
        }
        (Method::POST, ["customer", "action", action]) => {
            let a = (*action).to_owned();
            web_api(shared, req, None, a).await
        }
        (Method::POST, ["customer"]) => token_endpoint(shared, req).await,
        (Method::GET, ["api", "file", ..]) => file(&shared, &path),
        (Method::GET, ["static", "bot.png"]) => respond(StatusCode::OK, "image/png", files::sample_png(48, 48)),
        (Method::GET, ["licence", license, "config.json"]) => {
            let known = license.parse::<u64>().ok().is_some_and(|l| shared.config.licenses.contains(&l));
            if known {
                json_resp(StatusCode::OK, &json!({}))
            } else {
                respond(StatusCode::NOT_FOUND, "text/plain", "no such license")
            }
        }
        (_, ["admin", op]) if shared.config.admin => {
            let op = (*op).to_owned();
            admin(&shared, req, &op).await
        }
        (Method::GET, [""]) => respond(
            StatusCode::OK,
            "text/plain",
            "chatio reference server: chat.io Customer API v0.5 at /customer/v0.5/rtm/ws and /customer/v0.5/action/<action>\n",
        ),
        _ => respond(StatusCode::NOT_FOUND, "text/plain", "not found"),
    }
}

// ---------------------------------------------------------------------------- websocket

fn websocket(shared: Arc<Shared>, req: hyper::Request<Incoming>, version: Option<String>) -> Resp {
    let q = query(&req);
    let Some(license) = q.get("license_id").and_then(|l| l.parse::<u64>().ok()) else {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/plain",
            "the `license_id` query parameter (an integer) is required",
        );
    };
    let upgrade_ok = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "a websocket upgrade is required here");
    };
    if !upgrade_ok {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "a websocket upgrade is required here");
    }
    let accept = derive_accept_key(key.as_bytes());
    let refuse = match version.as_deref() {
        None | Some("v0.5") => {
            (!shared.config.licenses.contains(&license)).then_some(DisconnectReason::LicenseNotFound)
        }
        Some(_) => Some(DisconnectReason::UnsupportedVersion),
    };
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                return;
            }
        };
        // Small buffers: an idle session must stay cheap (tungstenite's 128 KiB defaults would
        // cost ~134 KiB a connection). Writes are batched up to WRITE_BUFFER and flushed by
        // the connection task after each burst.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER)
            .max_message_size(Some(conn::MAX_FRAME))
            .max_frame_size(Some(conn::MAX_FRAME));
        let io = TokioAdapter::new(TokioIo::new(upgraded));
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        match refuse {
            Some(reason) => conn::refuse(ws, reason).await,
            None => conn::run(shared, ws, license).await,
        }
    });
    let mut r = respond(StatusCode::SWITCHING_PROTOCOLS, "text/plain", Bytes::new());
    let h = r.headers_mut();
    h.remove(header::CONTENT_TYPE);
    h.insert(header::UPGRADE, header::HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, header::HeaderValue::from_static("Upgrade"));
    if let Ok(v) = header::HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}

// ---------------------------------------------------------------------------- Web API

fn status_of(e: &ErrorObject) -> StatusCode {
    match e.kind {
        ErrorType::Validation => StatusCode::BAD_REQUEST,
        ErrorType::Authentication => StatusCode::UNAUTHORIZED,
        ErrorType::Authorization | ErrorType::CustomerBanned | ErrorType::LicenseExpired => StatusCode::FORBIDDEN,
        ErrorType::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorType::UnsupportedVersion => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn envelope(status: StatusCode, response: Response) -> Resp {
    respond(status, "application/json", ServerFrame::Response(response).encode())
}

fn web_error(status: StatusCode, action: &str, e: ErrorObject) -> Resp {
    envelope(status, Response::failure(None, action, e))
}

fn bearer(req: &hyper::Request<Incoming>) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(chatio_wire::Token::new(v).access_token().to_owned())
}

async fn web_api(shared: Arc<Shared>, req: hyper::Request<Incoming>, version: Option<String>, action: String) -> Resp {
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
        Some(a) if engine::web_api_allows(a) => {}
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
        match engine::authenticate(&inner.store, license, &token, now_secs()) {
            Ok(c) => c,
            Err(e) => return web_error(status_of(&e), &action, e),
        }
    };
    let caller = Caller { license, customer };
    if known == Some(Action::SendFile) {
        return send_file(shared, req, caller).await;
    }
    let body = match Limited::new(req.into_body(), conn::MAX_FRAME).collect().await {
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
    let (result, fx) = engine::handle(&mut inner.store, &inner.hub.presence, &caller, request, now_secs());
    // Pushes of a Web API call carry no request_id (1.3).
    shared.finish(inner, license, fx, None);
    match result {
        Ok(data) => envelope(StatusCode::OK, Response::success(None, data)),
        Err(e) => web_error(status_of(&e), &action, e),
    }
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
    if custom_id.as_ref().is_some_and(|c| c.len() > engine::MAX_ID) {
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
        inner.store.ids.hex(32),
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
    let (thread, ev, opened) = match engine::add_customer_event(&mut inner.store, &caller, &chat, event, now) {
        Ok(x) => x,
        Err(e) => return web_error(status_of(&e), action, e),
    };
    inner.store.files.insert(key, FileRec { content_type, bytes });
    let mut fx = engine::Effects::default();
    engine::deliver_new_event(
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
        fx.triggers.push(engine::Trigger::NeedsAgent { chat });
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

// ---------------------------------------------------------------------------- files

fn file(shared: &Shared, path: &str) -> Resp {
    let inner = shared.lock();
    match inner.store.files.get(path) {
        Some(f) => respond(StatusCode::OK, &f.content_type, f.bytes.clone()),
        None => respond(StatusCode::NOT_FOUND, "text/plain", "no such file"),
    }
}

// ---------------------------------------------------------------------------- tokens

fn token_error(status: StatusCode, error: &str, description: &str) -> Resp {
    json_resp(status, &json!({"error": error, "error_description": description}))
}

/// The app access token check of the token endpoint (G11), when the server has app tokens.
fn app_token_ok(shared: &Shared, req: &hyper::Request<Incoming>) -> bool {
    let wanted = &shared.config.app_tokens;
    if wanted.is_empty() {
        return true;
    }
    let Some(given) = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let given = chatio_wire::Token::new(given);
    let given = given.access_token();
    !given.is_empty() && wanted.iter().any(|t| t.access_token() == given)
}

async fn token_endpoint(shared: Arc<Shared>, req: hyper::Request<Incoming>) -> Resp {
    if !app_token_ok(&shared, &req) {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized_client",
            "a valid app access token is required (`Authorization: Bearer <app access token>`)",
        );
    }
    let mut params = query(&req);
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return token_error(StatusCode::BAD_REQUEST, "invalid_request", "the body is too large"),
    };
    if is_json {
        match serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&body) {
            Ok(m) => {
                for (k, v) in m {
                    let s = match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Null => continue,
                        other => other.to_string(),
                    };
                    params.insert(k, s);
                }
            }
            Err(e) => return token_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("malformed JSON: {e}")),
        }
    } else {
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`client_id` is required");
    };
    if params.get("response_type").map(String::as_str) != Some("token") {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`response_type` must be `token`");
    }
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`redirect_uri` is required");
    };
    let cfg = &shared.config;
    if !cfg.allowed_client_ids.is_empty() && !cfg.allowed_client_ids.contains(client_id) {
        return token_error(StatusCode::UNAUTHORIZED, "unauthorized_client", "unknown `client_id`");
    }
    if !cfg.allowed_redirect_uris.is_empty()
        && !cfg.allowed_redirect_uris.iter().any(|p| redirect_uri.starts_with(p.as_str()))
    {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "`redirect_uri` does not match the app's configuration",
        );
    }
    let license = match params.get("license_id") {
        Some(l) => match l.parse::<u64>() {
            Ok(l) if cfg.licenses.contains(&l) => l,
            _ => return token_error(StatusCode::BAD_REQUEST, "invalid_request", "unknown `license_id`"),
        },
        None => match cfg.licenses.first() {
            Some(l) => *l,
            None => return token_error(StatusCode::BAD_REQUEST, "invalid_request", "the server has no license"),
        },
    };
    let valid_for = match params.get("valid_for") {
        Some(v) => match v.parse::<u64>() {
            Ok(n) if (60..=2_592_000).contains(&n) => Some(n),
            _ => {
                return token_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "`valid_for` must be 60 to 2592000 seconds",
                );
            }
        },
        None => None,
    };
    let customer = params.get("customer_id").filter(|c| !c.is_empty()).map(|c| UserId::new(c.clone()));
    if customer.as_ref().is_some_and(|c| c.as_str().len() > engine::MAX_ID) {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`customer_id` is longer than 256 bytes");
    }
    let mut inner = shared.lock();
    let Ok((token, customer, expires_in)) = shared.issue_token(&mut inner, license, customer, valid_for) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "unknown license");
    };
    drop(inner);
    json_resp(
        StatusCode::OK,
        &json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "entity_id": customer,
            "client_id": client_id,
            "license_id": license,
        }),
    )
}

// ---------------------------------------------------------------------------- admin

/// `/admin/<op>?license_id=N&customer_id=ID[&ms=N][&chat_id=ID]` (only with `--admin`).
async fn admin(shared: &Arc<Shared>, req: hyper::Request<Incoming>, op: &str) -> Resp {
    let q = query(&req);
    let bad = |msg: &str| json_resp(StatusCode::BAD_REQUEST, &json!({"error": msg}));
    let license = match q.get("license_id") {
        Some(l) => match l.parse::<u64>() {
            Ok(l) if shared.config.licenses.contains(&l) => l,
            _ => return bad("unknown `license_id`"),
        },
        None => match shared.config.licenses.first() {
            Some(l) => *l,
            None => return bad("`license_id` is required"),
        },
    };
    let customer = q.get("customer_id").filter(|c| !c.is_empty()).map(|c| UserId::new(c.clone()));
    match (req.method().clone(), op) {
        (Method::POST, "token") => {
            let mut inner = shared.lock();
            return match shared.issue_token(&mut inner, license, customer, None) {
                Ok((t, c, e)) => {
                    json_resp(StatusCode::OK, &json!({"access_token": t, "entity_id": c, "expires_in": e}))
                }
                Err(e) => bad(&e.to_string()),
            };
        }
        (Method::POST, "restart") => {
            return match shared.restart().await {
                Ok(()) => json_resp(StatusCode::OK, &json!({"ok": true})),
                Err(e) => json_resp(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": e.to_string()})),
            };
        }
        (Method::GET, "events") => {
            let Some(chat) = q.get("chat_id") else { return bad("`chat_id` is required") };
            return match shared.chat_events(license, &chatio_wire::ChatId::from(chat.as_str())) {
                Some(events) => match serde_json::to_value(&events) {
                    Ok(v) => json_resp(StatusCode::OK, &json!({ "events": v })),
                    Err(e) => json_resp(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": e.to_string()})),
                },
                None => json_resp(StatusCode::NOT_FOUND, &json!({"error": "no such chat"})),
            };
        }
        (Method::POST, _) => {}
        _ => return json_resp(StatusCode::NOT_FOUND, &json!({"error": format!("unknown admin operation `{op}`")})),
    }
    let fault = match op {
        "drop" => Fault::Drop,
        "ban" => Fault::Ban,
        "unban" => Fault::Unban,
        "expire_tokens" => Fault::ExpireTokens,
        "delay_next_response" => {
            let ms = q.get("ms").and_then(|m| m.parse::<u64>().ok()).unwrap_or(1000);
            Fault::DelayNextResponse(Duration::from_millis(ms))
        }
        "swallow_next_response" => Fault::SwallowNextResponse,
        "malformed" => Fault::Malformed,
        _ => return json_resp(StatusCode::NOT_FOUND, &json!({"error": format!("unknown admin operation `{op}`")})),
    };
    let Some(c) = customer else { return bad("`customer_id` is required") };
    shared.inject(license, &c, fault);
    json_resp(StatusCode::OK, &json!({"ok": true}))
}
