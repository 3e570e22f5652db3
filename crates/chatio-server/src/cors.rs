//! Cross-origin access for browser clients (the SDK compiled to wasm, the sample widget):
//! the Customer API is called from whatever website embeds the chat, so every origin is
//! allowed, without credentials (tokens travel in `Authorization` or in the login frame, never
//! in cookies). Preflights (`OPTIONS`) are answered here; every other answer to a request
//! that has an `Origin` gets `Access-Control-Allow-Origin` for it.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::{Method, StatusCode, header};

type Resp = hyper::Response<Full<Bytes>>;

/// The request's `Origin`, if any.
pub(crate) fn origin<B>(req: &hyper::Request<B>) -> Option<header::HeaderValue> {
    req.headers().get(header::ORIGIN).cloned()
}

/// The answer to a CORS preflight (`OPTIONS` with `Origin` and
/// `Access-Control-Request-Method`), or `None` for any other request.
pub(crate) fn preflight<B>(req: &hyper::Request<B>) -> Option<Resp> {
    if req.method() != Method::OPTIONS || !req.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD) {
        return None;
    }
    let origin = origin(req)?;
    let mut r = hyper::Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, header::HeaderValue::from_static("GET, POST, OPTIONS"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        header::HeaderValue::from_static("Authorization, Content-Type, Accept, X-Requested-With"),
    );
    h.insert(header::ACCESS_CONTROL_MAX_AGE, header::HeaderValue::from_static("600"));
    h.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    Some(r)
}

/// Lets the requesting origin read `resp`.
pub(crate) fn allow(resp: &mut Resp, origin: Option<header::HeaderValue>) {
    if let Some(o) = origin {
        resp.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        resp.headers_mut().append(header::VARY, header::HeaderValue::from_static("Origin"));
    }
}
