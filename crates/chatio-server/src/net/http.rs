//! HTTP response helpers shared by the router, its handlers and the transports.

use std::collections::HashMap;

use bytes::Bytes;
use http::{StatusCode, header};
use http_body_util::Full;

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
pub(crate) fn query<B>(req: &hyper::Request<B>) -> HashMap<String, String> {
    req.uri().query().map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect()).unwrap_or_default()
}
