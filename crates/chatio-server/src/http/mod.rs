//! The HTTP layer: the router and the handlers of the plain HTTP routes (Web API, uploads,
//! the token endpoint, the accounts iframe page, files, admin). The websocket route hands the
//! upgraded connection to `transport::ws`, the socket.io routes go to `transport::sio`.

use std::collections::HashMap;

use bytes::Bytes;
use chatio_wire::{ErrorObject, ErrorType, Response};
use http::{StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod files;
pub(crate) mod router;
pub(crate) mod static_files;
pub(crate) mod token;
pub(crate) mod web_api;

/// A response of this server.
pub(crate) type Resp = hyper::Response<Full<Bytes>>;

/// A response with a body and its content type.
pub(crate) fn respond(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Resp {
    let mut r = hyper::Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    if let Ok(v) = header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// A JSON response.
pub(crate) fn json_resp(status: StatusCode, v: &serde_json::Value) -> Resp {
    respond(status, "application/json", v.to_string())
}

/// The query parameters of a request.
pub(crate) fn query(req: &hyper::Request<Incoming>) -> HashMap<String, String> {
    req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}

/// The HTTP status of a Web API error (section 2.6).
pub(crate) fn status_of(e: &ErrorObject) -> StatusCode {
    match e.kind {
        ErrorType::Validation => StatusCode::BAD_REQUEST,
        ErrorType::Authentication => StatusCode::UNAUTHORIZED,
        ErrorType::Authorization | ErrorType::CustomerBanned | ErrorType::LicenseExpired => StatusCode::FORBIDDEN,
        ErrorType::RequestTimeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorType::UnsupportedVersion => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A Web API answer: the RTM response envelope without `request_id`.
pub(crate) fn envelope(status: StatusCode, response: Response) -> Resp {
    let (text, replaced) = crate::engine::encode_response(response);
    let status = if replaced { StatusCode::BAD_REQUEST } else { status };
    respond(status, "application/json", text)
}

/// A Web API error answer.
pub(crate) fn web_error(status: StatusCode, action: &str, e: ErrorObject) -> Resp {
    envelope(status, Response::failure(None, action, e))
}

/// The token of `Authorization: Bearer <token>`.
pub(crate) fn bearer(req: &hyper::Request<Incoming>) -> Option<String> {
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    Some(chatio_wire::Token::new(v).access_token().to_owned())
}
