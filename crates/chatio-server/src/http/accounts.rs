//! The accounts page the JS SDK's token library (`@livechat/chat.io-customer-auth`) loads in
//! a hidden iframe (protocol file D12, G11):
//! `GET /customer?license_id=…&response_type=token&client_id=…&redirect_uri=…&post_message_uri=…&state=…`.
//!
//! The page posts `{access_token, entity_id, expires_in, token_type, state}` to its parent
//! window with `postMessage`, aimed only at the origin of a registered redirect URI of the
//! app (`post_message_uri`'s origin, checked by the registered apps; without any, the
//! server's own and loopback origins), and may be framed only by that origin
//! (`frame-ancestors`). A refused request posts `{oauth_exception, state}` (bad OAuth
//! parameters, an origin that may not receive tokens) or `{identity_exception, state}` (no
//! customer can be identified: unknown license, banned customer) to `*`: they carry no
//! secret.
//!
//! The browser is remembered by a cookie holding a random secret that the server maps to
//! the customer (never the customer id): `HttpOnly`, and `Secure; SameSite=None` when the
//! server's public URL is https (so that a page on another site can use it in its iframe);
//! over plain http it is `SameSite=Lax`, which browsers do not send to a cross-site iframe
//! (the README says what that means). The page sends no CORS headers.

use std::net::IpAddr;

use bytes::Bytes;
use chatio_wire::UserId;
use http::{HeaderValue, StatusCode, header};
use http_body_util::Full;
use serde_json::{Value, json};

use crate::net::http::query;
use crate::state::State;

/// The cookie remembering the browser for one license.
fn cookie_name(license: u64) -> String {
    format!("chatio_customer_{license}")
}

/// The secret the browser's cookie holds for this license, if any.
fn cookie_secret(headers: &http::HeaderMap, license: u64) -> Option<String> {
    let name = cookie_name(license);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
}

/// A successful answer: what is posted, and the cookie to set (a new browser).
struct Granted {
    message: Value,
    target: String,
    cookie: Option<String>,
}

/// Serves the page.
pub(crate) fn page(
    state: &State,
    req: &hyper::Request<hyper::body::Incoming>,
    peer: IpAddr,
) -> hyper::Response<Full<Bytes>> {
    let q = query(req);
    let oauth_state = q.get("state").cloned().unwrap_or_default();
    let (message, target, cookie) = match answer(state, &q, req.headers(), peer, &oauth_state) {
        Ok(g) => (g.message, g.target, g.cookie),
        Err(Refusal::OAuth(m)) => {
            tracing::info!(%peer, "customer token page refused: {m}");
            (json!({"oauth_exception": m, "state": oauth_state}), "*".to_owned(), None)
        }
        Err(Refusal::Identity(m)) => {
            tracing::info!(%peer, "customer token page refused: {m}");
            (json!({"identity_exception": m, "state": oauth_state}), "*".to_owned(), None)
        }
    };
    let html = render(&message, &target);
    let mut r = hyper::Response::new(Full::new(Bytes::from(html)));
    *r.status_mut() = StatusCode::OK;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if target != "*" {
        // Only the page that may receive the token may frame this one.
        if let Ok(v) = HeaderValue::from_str(&format!("frame-ancestors {target}")) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
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

/// Checks the request and issues the token.
fn answer(
    state: &State,
    q: &std::collections::HashMap<String, String>,
    headers: &http::HeaderMap,
    peer: IpAddr,
    oauth_state: &str,
) -> Result<Granted, Refusal> {
    let cfg = &state.config;
    if q.get("response_type").map(String::as_str) != Some("token") {
        return Err(Refusal::OAuth("`response_type` must be `token`"));
    }
    let Some(client_id) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return Err(Refusal::OAuth("`client_id` is required"));
    };
    let Some(license) = q.get("license_id").and_then(|l| l.parse::<u64>().ok()).filter(|l| cfg.licenses.contains(l))
    else {
        return Err(Refusal::Identity("unknown license"));
    };
    let Some(redirect_uri) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return Err(Refusal::OAuth("`redirect_uri` is required"));
    };
    state.apps.check_redirect(license, client_id, redirect_uri).map_err(|r| Refusal::OAuth(r.message()))?;
    let target_uri = q.get("post_message_uri").filter(|u| !u.is_empty()).unwrap_or(redirect_uri);
    let target = state.apps.token_origin(license, client_id, target_uri).map_err(|r| Refusal::OAuth(r.message()))?;
    if !state.may_issue(peer) {
        return Err(Refusal::OAuth("too many tokens asked from this address: wait and retry"));
    }
    let unavailable = Refusal::Identity("the server cannot identify customers now");
    let remembered = cookie_secret(headers, license).and_then(|s| state.remembered(license, &s));
    if let Some(c) = &remembered {
        match state.customer_banned(license, c) {
            Ok(false) => {}
            Ok(true) => return Err(Refusal::Identity("customer banned")),
            Err(_) => return Err(unavailable),
        }
    }
    let known = remembered.is_some();
    let (token, customer, expires_in): (String, UserId, u64) =
        state.issue_token(license, remembered, None).map_err(|e| match e {
            crate::error::Error::UnknownLicense(_) => Refusal::Identity("unknown license"),
            _ => Refusal::Identity("the server cannot identify customers now"),
        })?;
    let cookie = if known {
        None
    } else {
        let lifetime = cfg.remember_lifetime.as_secs();
        let secret = state.remember(license, &customer).map_err(|_| unavailable)?;
        let https = state.public_url.starts_with("https:");
        let site = if https { "Secure; SameSite=None" } else { "SameSite=Lax" };
        Some(format!("{}={secret}; Path=/customer; HttpOnly; {site}; Max-Age={lifetime}", cookie_name(license)))
    };
    let message = json!({
        "access_token": token,
        "entity_id": customer,
        "expires_in": expires_in,
        "token_type": "Bearer",
        "state": oauth_state,
    });
    Ok(Granted { message, target, cookie })
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
    use super::render;

    #[test]
    fn values_cannot_end_the_script() {
        let html = render(&serde_json::json!({"state": "</script><script>alert(1)"}), "http://a");
        assert!(!html.contains("</script><script>alert"));
        assert!(html.contains("\\u003c/script>"));
    }
}
