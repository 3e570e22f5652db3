//! The browser platform (`web` feature, `wasm32-unknown-unknown`): the same driver and core
//! session as natively, on the browser's I/O. [`Web`] is the [`Platform`].
//!
//! | native (`Native`) | browser ([`Web`]) |
//! |---|---|
//! | async-tungstenite over the runtime's TCP (+ rustls) | the browser's `WebSocket` ([`socket`]) |
//! | hyper client: token endpoint | `fetch` ([`fetch`]), with an `AbortController` timeout |
//! | hyper client: streamed multipart upload | `XMLHttpRequest` + `FormData`: `upload.onprogress`, `abort()` ([`upload`]) |
//! | the runtime's timer | `setTimeout` (gloo-timers) ([`time`]) |
//! | the runtime's `spawn` | `wasm_bindgen_futures::spawn_local` |
//! | `std::time::Instant` | `chatio_core::Instant` (`performance.now()`) |
//! | no network events | `navigator.onLine`, the `offline` and `online` events |
//! | `SqliteStore` (`sqlite` feature): one process at a time | [`IndexedDbStore`] ([`indexeddb`]): one tab at a time (Web Locks API) |
//!
//! Going offline drops the socket (the session reports `ConnectionLost` and its calls wait or
//! fail as usual), and a reconnect waits for `online` instead of spending attempts: the
//! driver's rule, fed by this platform's events.
//!
//! [`DriverHandle`] is the native handle, so the facade (`chatio-customer-sdk` with its `web`
//! feature) is one API on both.

pub mod fetch;
pub mod indexeddb;
pub mod socket;
pub mod time;
pub mod upload;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chatio_core::{Instant, Session};
use chatio_wire::SendFileResponse;
use url::Url;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Event;

pub use crate::bounds::{MaybeSend, MaybeSync, StoreFuture};
use crate::credentials::TokenProvider;
pub use crate::driver::DriverConfig;
use crate::driver::spawn_on;
use crate::error::{BrowserError, Error};
pub use crate::handle::{AbandonOnDrop, DriverHandle, UploadIdReceiver};
use crate::platform::{NetworkEvents, Platform};
pub use crate::reply::ReplyReceiver;
pub use crate::session::Snapshot;
use crate::upload_spec::{Progress, Upload, UploadError};
pub use fetch::AccountsToken;
pub use indexeddb::IndexedDbStore;
pub use socket::{RtmSocket, connect};
pub use upload::{file_size, send_file};

/// TLS settings in a browser: none, the browser does its own TLS. The type exists so that a
/// configuration written for every platform (the facade's `Config::tls`) is one API; it holds
/// nothing and has nothing to set.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct TlsConfig {}

/// The browser platform.
#[derive(Clone, Copy, Debug, Default)]
pub struct Web;

impl Platform for Web {
    type Socket = socket::Socket;
    type Sleep = gloo_timers::future::TimeoutFuture;
    type NetworkWatch = Option<NetListeners>;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> gloo_timers::future::TimeoutFuture {
        time::sleep_until(deadline)
    }

    fn spawn(&self, task: impl Future<Output = ()> + MaybeSend + 'static) {
        wasm_bindgen_futures::spawn_local(task);
    }

    fn connect(
        &self,
        url: &Url,
        _max_frame_len: usize,
    ) -> impl Future<Output = Result<socket::Socket, Error>> + MaybeSend + 'static {
        let url = url.clone();
        async move { connect(&url).await }
    }

    fn upload(
        &self,
        upload: Upload,
        progress: Option<Progress>,
        timeout: Duration,
    ) -> impl Future<Output = Result<SendFileResponse, UploadError>> + MaybeSend + 'static {
        send_file(upload, progress, timeout)
    }

    fn is_online(&self) -> bool {
        web_sys::window().is_none_or(|w| w.navigator().on_line())
    }

    fn watch_network(&self, events: NetworkEvents<socket::Socket>) -> Option<NetListeners> {
        NetListeners::install(events)
    }
}

/// Starts a browser driver task for the customer `session` (on the page's task queue).
///
/// # Errors
/// [`Error::InvalidUrl`] when the server URL has an unusable scheme.
pub fn spawn(session: Session, config: DriverConfig, tokens: Arc<dyn TokenProvider>) -> Result<DriverHandle, Error> {
    spawn_on(Web, session, config, tokens)
}

/// The `offline`/`online` listeners on `window`, removed on drop.
#[derive(Debug)]
pub struct NetListeners {
    window: web_sys::Window,
    offline: Closure<dyn FnMut(Event)>,
    online: Closure<dyn FnMut(Event)>,
}

impl NetListeners {
    fn install(events: NetworkEvents<socket::Socket>) -> Option<Self> {
        let window = web_sys::window()?;
        let e = events.clone();
        let offline = Closure::<dyn FnMut(Event)>::new(move |_: Event| e.offline());
        let online = Closure::<dyn FnMut(Event)>::new(move |_: Event| events.online());
        let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        Some(Self { window, offline, online })
    }
}

impl Drop for NetListeners {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback("offline", self.offline.as_ref().unchecked_ref());
        let _ = self.window.remove_event_listener_with_callback("online", self.online.as_ref().unchecked_ref());
    }
}

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
