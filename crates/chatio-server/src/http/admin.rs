//! The fault-injection routes (`--admin` only).

use std::time::Duration;

use chatio_wire::UserId;
use http::{Method, StatusCode};
use hyper::body::Incoming;
use serde_json::json;

use crate::identity::secret::ct_eq;
use crate::net::http::{Resp, json_resp, query};
use crate::state::{Fault, State};
use http_body_util::BodyExt;

/// Whether the request carries the admin secret: `Authorization: Bearer <secret>`, or a
/// form body `admin_secret=<secret>` (what a browser page can send without a preflight),
/// compared in constant time.
async fn authorized(state: &State, req: hyper::Request<Incoming>) -> bool {
    let Some(wanted) = &state.admin_secret else { return false };
    let wanted = wanted.expose().as_bytes();
    let header = req.headers().get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(h) = header {
        return ct_eq(chatio_wire::Token::new(h).access_token().as_bytes(), wanted);
    }
    let Ok(body) = http_body_util::Limited::new(req.into_body(), 4096).collect().await else { return false };
    let body = body.to_bytes();
    url::form_urlencoded::parse(&body).any(|(k, v)| k == "admin_secret" && ct_eq(v.as_bytes(), wanted))
}

/// `/admin/<op>?license_id=N&customer_id=ID[&ms=N][&chat_id=ID]` (only with `--admin`).
pub(crate) async fn admin(state: &State, req: hyper::Request<Incoming>, op: &str) -> Resp {
    let q = query(&req);
    let method = req.method().clone();
    if !authorized(state, req).await {
        return json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "the admin routes need the admin secret (`Authorization: Bearer <secret>`)"}),
        );
    }
    let bad = |msg: &str| json_resp(StatusCode::BAD_REQUEST, &json!({"error": msg}));
    let license = match q.get("license_id") {
        Some(l) => match l.parse::<u64>() {
            Ok(l) if state.config.licenses.contains(&l) => l,
            _ => return bad("unknown `license_id`"),
        },
        None => match state.config.licenses.first() {
            Some(l) => *l,
            None => return bad("`license_id` is required"),
        },
    };
    let customer = q.get("customer_id").filter(|c| !c.is_empty()).map(|c| UserId::new(c.clone()));
    match (method, op) {
        (Method::POST, "token") => {
            return match state.issue_token(license, customer, None) {
                Ok((t, c, e)) => {
                    json_resp(StatusCode::OK, &json!({"access_token": t, "entity_id": c, "expires_in": e}))
                }
                Err(e) => bad(&e.to_string()),
            };
        }
        (Method::POST, "restart") => {
            return match state.restart().await {
                Ok(()) => json_resp(StatusCode::OK, &json!({"ok": true})),
                Err(e) => json_resp(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": e.to_string()})),
            };
        }
        (Method::GET, "events") => {
            let Some(chat) = q.get("chat_id") else { return bad("`chat_id` is required") };
            return match state.chat_events(license, &chatio_wire::ChatId::from(chat.as_str())) {
                Ok(Some(events)) => match serde_json::to_value(&events) {
                    Ok(v) => json_resp(StatusCode::OK, &json!({ "events": v })),
                    Err(e) => json_resp(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": e.to_string()})),
                },
                Ok(None) => json_resp(StatusCode::NOT_FOUND, &json!({"error": "no such chat"})),
                Err(e) => json_resp(StatusCode::INTERNAL_SERVER_ERROR, &json!({"error": e.to_string()})),
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
    state.inject(license, &c, fault);
    json_resp(StatusCode::OK, &json!({"ok": true}))
}
