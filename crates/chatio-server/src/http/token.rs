//! The customer token endpoint (G11).

use chatio_wire::UserId;
use http::{StatusCode, header};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::json;

use crate::net::http::{Resp, json_resp, query};
use crate::state::State;

fn token_error(status: StatusCode, error: &str, description: &str) -> Resp {
    json_resp(status, &json!({"error": error, "error_description": description}))
}

/// The app access token check of the token endpoint (G11), when the server has app tokens.
fn app_token_ok(state: &State, req: &hyper::Request<Incoming>) -> bool {
    let wanted = &state.config.app_tokens;
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

/// Whether a customer id given to the token endpoint is acceptable: ASCII letters, digits
/// and `-_.:@+` (UUIDs, e-mail-like and prefixed ids pass; quotes, markup and control
/// characters, which would follow the id into logs, pages and JSON, do not).
pub(crate) fn valid_customer_id(id: &str) -> bool {
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:@+".contains(&b))
}

/// Serves `POST /customer/`.
pub(crate) async fn token_endpoint(state: &State, req: hyper::Request<Incoming>) -> Resp {
    if !app_token_ok(state, &req) {
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
    let cfg = &state.config;
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
    if customer.as_ref().is_some_and(|c| c.as_str().len() > chatio_wire::limits::MAX_ID_LEN) {
        return token_error(StatusCode::BAD_REQUEST, "invalid_request", "`customer_id` is longer than 256 bytes");
    }
    if customer.as_ref().is_some_and(|c| !valid_customer_id(c.as_str())) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "`customer_id` may only hold letters, digits and `-_.:@+`",
        );
    }
    let (token, customer, expires_in) = match state.issue_token(license, customer, valid_for) {
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
        }),
    )
}
