//! The accounts page the JS SDK's token library (`@livechat/chat.io-customer-auth`) loads in
//! a hidden iframe (protocol file D12, G11):
//! `GET /customer?license_id=…&response_type=token&client_id=…&redirect_uri=…&post_message_uri=…&state=…`.
//!
//! The page posts `{access_token, entity_id, expires_in, token_type, state}` to its parent
//! window with `postMessage`, aimed at the origin of `post_message_uri`; a refused request
//! posts `{oauth_exception, state}` (bad OAuth parameters) or `{identity_exception, state}`
//! (no customer can be identified: unknown license, banned customer). The customer is
//! remembered in a cookie of the accounts origin, as the hosted service did, so a fresh
//! token (after expiry) names the same customer.

use std::collections::HashMap;

use bytes::Bytes;
use chatio_wire::UserId;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::net::http::query;

use crate::state::State;

/// The cookie naming the customer of one license.
fn cookie_name(license: u64) -> String {
    format!("chatio_customer_{license}")
}

/// The customer id remembered by the browser for this license, if any.
fn cookie_customer(headers: &http::HeaderMap, license: u64) -> Option<String> {
    let name = cookie_name(license);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| {
            !v.is_empty() && v.len() <= chatio_wire::limits::MAX_ID_LEN && v.bytes().all(|b| b.is_ascii_graphic())
        })
}

/// The serialized origin of a URI, when it has a tuple origin (`scheme://host[:port]`).
fn origin_of(uri: &str) -> Option<String> {
    let origin = url::Url::parse(uri).ok()?.origin();
    origin.is_tuple().then(|| origin.ascii_serialization())
}

/// Serves the page.
pub(crate) fn page(server: &State, req: &hyper::Request<hyper::body::Incoming>) -> hyper::Response<Full<Bytes>> {
    let q = query(req);
    let state = q.get("state").cloned().unwrap_or_default();
    let target = q.get("post_message_uri").or_else(|| q.get("redirect_uri")).and_then(|u| origin_of(u));
    let (message, cookie) = match answer(server, &q, req.headers(), target.is_some()) {
        Ok((token, customer, expires_in, license)) => (
            json!({
                "access_token": token,
                "entity_id": customer,
                "expires_in": expires_in,
                "token_type": "Bearer",
                "state": state,
            }),
            Some(format!("{}={customer}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000", cookie_name(license))),
        ),
        Err(Refusal::OAuth(m)) => (json!({"oauth_exception": m, "state": state}), None),
        Err(Refusal::Identity(m)) => (json!({"identity_exception": m, "state": state}), None),
    };
    // A token only ever goes to the origin the request named; refusals carry no secret.
    let target = target.unwrap_or_else(|| "*".to_owned());
    let html = render(&message, &target);
    let mut r = hyper::Response::new(Full::new(Bytes::from(html)));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(c) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::SET_COOKIE, c);
    }
    r
}

/// Why no token is posted.
enum Refusal {
    OAuth(&'static str),
    Identity(&'static str),
}

/// Checks the request and issues the token: `(secret, customer, lifetime s, license)`.
fn answer(
    server: &State,
    q: &HashMap<String, String>,
    headers: &http::HeaderMap,
    has_target: bool,
) -> Result<(String, UserId, u64, u64), Refusal> {
    let cfg = &server.config;
    if q.get("response_type").map(String::as_str) != Some("token") {
        return Err(Refusal::OAuth("`response_type` must be `token`"));
    }
    let Some(client_id) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(Refusal::OAuth("`client_id` is required"));
    };
    if !cfg.allowed_client_ids.is_empty() && !cfg.allowed_client_ids.contains(client_id) {
        return Err(Refusal::OAuth("unknown `client_id`"));
    }
    let Some(redirect_uri) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return Err(Refusal::OAuth("`redirect_uri` is required"));
    };
    if !cfg.allowed_redirect_uris.is_empty() && !cfg.allowed_redirect_uris.iter().any(|p| redirect_uri.starts_with(p)) {
        return Err(Refusal::OAuth("`redirect_uri` does not match the app's configuration"));
    }
    if !has_target {
        return Err(Refusal::OAuth("`post_message_uri` must be an absolute http(s) URI"));
    }
    let Some(license) = q.get("license_id").and_then(|l| l.parse::<u64>().ok()).filter(|l| cfg.licenses.contains(l))
    else {
        return Err(Refusal::Identity("unknown license"));
    };
    let remembered = cookie_customer(headers, license).map(UserId::new);
    if let Some(c) = &remembered {
        match server.customer_banned(license, c) {
            Ok(false) => {}
            Ok(true) => return Err(Refusal::Identity("customer banned")),
            Err(_) => return Err(Refusal::Identity("the server cannot identify customers now")),
        }
    }
    server.issue_token(license, remembered, None).map(|(t, c, e)| (t, c, e, license)).map_err(|e| match e {
        crate::error::Error::UnknownLicense(_) => Refusal::Identity("unknown license"),
        _ => Refusal::Identity("the server cannot identify customers now"),
    })
}

/// The page: one inline script posting `message` to the parent.
fn render(message: &Value, target: &str) -> String {
    // `<` is escaped so that no value (the caller-chosen `state`) can end the script.
    let message = message.to_string().replace('<', "\\u003c");
    let target = Value::String(target.to_owned()).to_string().replace('<', "\\u003c");
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>chatio accounts</title></head><body>\n\
         <script>\n(function () {{\n  var message = {message};\n  var target = {target};\n  \
         if (window.parent && window.parent !== window) {{ window.parent.postMessage(message, target); }}\n}})();\n\
         </script>\n</body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::{origin_of, render};

    #[test]
    fn origins_and_escaping() {
        assert_eq!(origin_of("http://127.0.0.1:9/page.html").as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(origin_of("data:text/plain,x"), None);
        assert_eq!(origin_of("nonsense"), None);
        let html = render(&serde_json::json!({"state": "</script><script>alert(1)"}), "http://a");
        assert!(!html.contains("</script><script>alert"));
        assert!(html.contains("\\u003c/script>"));
    }
}
