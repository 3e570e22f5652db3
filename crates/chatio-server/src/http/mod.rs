//! The HTTP layer: the router and the handlers of the plain HTTP routes (Web API, uploads,
//! the token endpoint, the accounts iframe page, files, admin, the widget's assets). The
//! websocket route hands the upgraded connection to `transport::ws`, the socket.io routes go
//! to `transport::sio`.

use chatio_wire::{ErrorObject, ErrorType, Response};
use http::{StatusCode, header};
use hyper::body::Incoming;

use crate::net::http::{Resp, respond};

pub(crate) mod accounts;
pub(crate) mod admin;
pub(crate) mod agent_sign_in;
pub(crate) mod files;
pub(crate) mod router;
pub(crate) mod static_files;
pub(crate) mod token;
pub(crate) mod web_api;

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
    let (text, replaced) = crate::actions::encode_response(response);
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
