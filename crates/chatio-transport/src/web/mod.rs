//! The browser driver (`web` feature, `wasm32-unknown-unknown`): the same core session as the
//! native driver, on the browser's I/O.
//!
//! | native driver | browser driver |
//! |---|---|
//! | async-tungstenite over the runtime's TCP (+ rustls) | the browser's `WebSocket` ([`socket`]) |
//! | hyper client: token endpoint | `fetch` ([`fetch`]), with an `AbortController` timeout |
//! | hyper client: streamed multipart upload | `XMLHttpRequest` + `FormData`: `upload.onprogress`, `abort()` ([`upload`]) |
//! | the runtime's timer | `setTimeout` (gloo-timers) ([`time`]) |
//! | the runtime's `spawn` | `wasm_bindgen_futures::spawn_local` |
//! | `std::time::Instant` | `chatio_core::Instant` (`performance.now()`) |
//!
//! The browser's `offline` and `online` events pause and resume connecting: going offline drops
//! the socket (the session reports `ConnectionLost` and its calls wait or fail as usual), and
//! a reconnect waits for `online` instead of spending attempts.
//!
//! [`DriverHandle`] has the native handle's methods, so the facade (`chatio-customer-sdk` with
//! its `web` feature) is one API on both.

mod driver;
pub mod fetch;
pub mod socket;
pub mod time;
pub mod upload;

pub use driver::{AbandonOnDrop, DriverConfig, DriverHandle, ReplyReceiver, Snapshot, UploadIdReceiver, spawn};
pub use fetch::AccountsToken;

use wasm_bindgen::{JsCast, JsValue};

use crate::error::{BrowserError, Error};

/// A readable message from a JavaScript exception or value (never a token: we only describe
/// errors the browser raised).
pub(crate) fn js_message(v: &JsValue) -> String {
    if let Some(e) = v.dyn_ref::<js_sys::Error>() {
        return String::from(e.message());
    }
    if let Some(s) = v.as_string() {
        return s;
    }
    format!("{v:?}")
}

/// An HTTP-level failure the browser reported while doing `context`.
pub(crate) fn http_error(context: &str, v: &JsValue) -> Error {
    Error::Http { context: context.to_owned(), source: Box::new(BrowserError(js_message(v))) }
}

/// 64 random bits from the browser's `Math.random()`, for the session's seed (without
/// getrandom's `wasm_js` backend, `fastrand` has no entropy source on `wasm32-unknown-unknown`).
pub fn random_seed() -> u64 {
    let half = || (js_sys::Math::random() * 4_294_967_296.0) as u64 & 0xffff_ffff;
    (half() << 32) | half()
}
