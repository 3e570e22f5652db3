//! The customer token endpoint (G11): `POST /customer/`.
//!
//! Three ways to a token: a new customer (no `customer_id`, no `grant_type`), the refresh
//! grant (`grant_type=refresh_token&refresh_token=…`: the same customer, the refresh token
//! rotated), and a server-side app naming `customer_id` (authenticated by an app token or
//! its client secret). The registered apps decide which `client_id`/`redirect_uri` are
//! accepted; issuance is rate-limited per client address.

use std::collections::HashMap;
use std::net::IpAddr;

use chatio_wire::UserId;
use http::{StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;

use crate::identity::secret::ct_eq;
use crate::net::http::{Resp, json_resp, query};
use crate::state::State;

/// A refusal of the token endpoint, logged at `info` (the descriptions name what was wrong,
/// never a secret that was sent).
pub(crate) fn token_error(status: StatusCode, error: &str, description: &str) -> Resp {
    tracing::info!(status = status.as_u16(), error, "token refused: {description}");
    json_resp(status, &json!({"error": error, "error_description": description}))
}

/// Whether a customer id given to the token endpoint is acceptable: ASCII letters, digits
/// and `-_.:@+` (UUIDs, e-mail-like and prefixed ids pass; quotes, markup and control
/// characters, which would follow the id into logs, pages and JSON, do not).
pub(crate) fn valid_customer_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@+".contains(&b))
}

/// Whether the request authenticates as a server-side app (G11): an app token in
/// `Authorization: Bearer`, or the registered app's client secret (`client_secret`, or
/// `Authorization: Basic client_id:secret`), compared in constant time.
fn server_app(
    state: &State,
    authorization: Option<&str>,
    params: &HashMap<String, String>,
    license: u64,
    client_id: &str,
) -> bool {
    let mut presented: Vec<String> = params.get("client_secret").cloned().into_iter().collect();
    if let Some(auth) = authorization {
        let auth = auth.trim();
        let (scheme, value) = auth.split_once(' ').unwrap_or(("", auth));
        if scheme.eq_ignore_ascii_case("basic") {
            let decoded = base64_decode(value.trim());
            if let Some((id, secret)) = decoded.as_deref().and_then(|s| s.split_once(':')) {
                if id == client_id {
                    presented.push(secret.to_owned());
                }
            }
        } else {
            let bearer = chatio_wire::Token::new(auth);
            let given = bearer.access_token();
            if !given.is_empty()
                && state
                    .config
                    .app_tokens
                    .iter()
                    .fold(false, |ok, t| ok | ct_eq(t.access_token().as_bytes(), given.as_bytes()))
            {
                return true;
            }
            presented.push(given.to_owned());
        }
    }
    presented.iter().any(|s| !s.is_empty() && state.apps.authenticates(license, client_id, s))
}

/// Standard base64 (RFC 4648, with or without padding) to UTF-8, for HTTP Basic.
fn base64_decode(text: &str) -> Option<String> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').bytes() {
        let v = A.iter().position(|x| *x == c)?;
        bits = (bits << 6) | u32::try_from(v).ok()?;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push(u8::try_from((bits >> n) & 0xff).ok()?);
        }
    }
    String::from_utf8(out).ok()
}

/// The request's parameters: query, then the form or JSON body.
pub(crate) async fn params(req: hyper::Request<Incoming>) -> Result<HashMap<String, String>, Resp> {
    let mut params = query(&req);
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    let body = match Limited::new(req.into_body(), 64 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Err(token_error(StatusCode::BAD_REQUEST, "invalid_request", "the body is too large")),
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
            Err(e) => {
                return Err(token_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("malformed JSON: {e}")));
            }
        }
    } else {
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    Ok(params)
}

/// Serves `POST /customer/`.
pub(crate) async fn token_endpoint(state: &State, req: hyper::Request<Incoming>, peer: IpAddr) -> Resp {
    let authorization = req.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let params = match params(req).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(client_id) = params.get("client_id").filter(|c| !c.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`client_id` is required");
    };
    let cfg = &state.config;
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
    if let Err(r) = state.apps.check_client(license, client_id) {
        return token_error(StatusCode::UNAUTHORIZED, "unauthorized_client", r.message());
    }
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
    if !state.may_issue(peer) {
        return token_error(
            StatusCode::TOO_MANY_REQUESTS,
            "slow_down",
            "too many tokens asked from this address: wait and retry (see `--token-rate`)",
        );
    }
    match params.get("grant_type").map(String::as_str) {
        None | Some("") => {}
        Some("refresh_token") => {
            let answer = refresh(state, &params, client_id, valid_for);
            if state.config.conformance_fault == Some(crate::config::ConformanceFault::SlowRefresh) {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            return answer;
        }
        Some(_) => {
            return token_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "`grant_type` must be `refresh_token`",
            );
        }
    }
    if params.get("response_type").map(String::as_str) != Some("token") {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`response_type` must be `token`");
    }
    let Some(redirect_uri) = params.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`redirect_uri` is required");
    };
    if let Err(r) = state.apps.check_redirect(license, client_id, redirect_uri) {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", r.message());
    }
    let customer = params.get("customer_id").filter(|c| !c.is_empty()).map(|c| UserId::new(c.clone()));
    if let Some(c) = &customer {
        if !server_app(state, authorization.as_deref(), &params, license, client_id) {
            return token_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized_client",
                "`customer_id` is only for an authenticated server-side app (an app token in `Authorization: Bearer`, \
                 or the app's client secret); browsers resume a customer with its `refresh_token`",
            );
        }
        if c.as_str().len() > chatio_wire::limits::MAX_ID_LEN {
            return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`customer_id` is longer than 256 bytes");
        }
        if !valid_customer_id(c.as_str()) {
            return token_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "`customer_id` may only hold letters, digits and `-_.:@+`",
            );
        }
    }
    let issued = state.issue_token(license, customer, valid_for).and_then(|(token, customer, expires_in)| {
        let refresh = state.issue_refresh(license, &customer, client_id)?;
        Ok((token, customer, expires_in, refresh))
    });
    let (token, customer, expires_in, refresh_token) = match issued {
        Ok(issued) => issued,
        Err(crate::error::Error::UnknownLicense(_)) => {
            return token_error(StatusCode::BAD_REQUEST, "invalid_request", "unknown license");
        }
        Err(e) => return token_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", &e.to_string()),
    };
    json_resp(
        StatusCode::OK,
        &json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": expires_in,
            "entity_id": customer,
            "client_id": client_id,
            "license_id": license,
            "refresh_token": refresh_token,
        }),
    )
}

/// The refresh grant.
fn refresh(state: &State, params: &HashMap<String, String>, client_id: &str, valid_for: Option<u64>) -> Resp {
    let Some(secret) = params.get("refresh_token").filter(|r| !r.is_empty()) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`refresh_token` is required");
    };
    match state.refresh(secret, client_id, valid_for) {
        Ok(r) => json_resp(
            StatusCode::OK,
            &json!({
                "access_token": r.access_token,
                "token_type": "Bearer",
                "expires_in": r.expires_in,
                "entity_id": r.customer,
                "client_id": client_id,
                "license_id": r.license,
                "refresh_token": r.refresh_token,
            }),
        ),
        Err(e) => token_error(StatusCode::BAD_REQUEST, "invalid_grant", e.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_decode() {
        assert_eq!(base64_decode("YmFja2VuZDpzM2NyZXQ=").as_deref(), Some("backend:s3cret"));
        assert_eq!(base64_decode("YmFja2VuZDpzM2NyZXQ").as_deref(), Some("backend:s3cret"));
        assert_eq!(base64_decode("!!"), None);
    }
}
