//! # chatio-transport
//!
//! Runs a sans-IO session of [`chatio-core`](chatio_core) — the customer's, or any
//! [`DrivenSession`] — on a real platform: the websocket, Web API uploads, the customer token
//! endpoint, timers and reconnects.
//!
//! ## Layout
//!
//! * The driver is written once ([`driver`]): the loop, the order of writes, the transcript
//!   [`Tap`], the frame-size rule, close codes, waiting for the network. It is generic over
//!   the [`Platform`] it runs on and the [`DrivenSession`] it runs.
//! * `native/` is the native platform (`Native`: a [`runtime::Runtime`], rustls,
//!   tungstenite, hyper); `web/` the browser's (`web::Web`: `WebSocket`, `fetch`,
//!   `XMLHttpRequest`, `setTimeout`, `online`/`offline`).
//! * The rest is shared: the handle ([`DriverHandle`]), typed answers ([`FromReply`]), the
//!   event bus, the token endpoint's form and cache, the errors, the URLs.
//!
//! This file (the platform's part of the public `ws`, `upload` and `token` modules) and
//! `bounds.rs` (the `Send` bounds the shared code names) are the only ones outside `native/`
//! and `web/` that choose by target.
//!
//! ## Crate features
//!
//! * `async-std` (default) — run on async-std.
//! * `smol` — run on smol.
//! * `tokio` — run on tokio (inside a running tokio runtime).
//! * `tls` (default) — `wss://` and `https://` through rustls with the webpki roots, on the
//!   application's process-wide crypto provider if it installed one, else aws-lc-rs.
//!
//! * `web` — the browser platform (the `web` module), for `wasm32-unknown-unknown` (build with
//!   `--no-default-features --features web`).
//! * `sqlite` — the SDK's store in an SQLite file (`sqlite::SqliteStore`, native targets only;
//!   the bundled SQLite library).
//! * `agent` — the agent session (`chatio_core::agent`) on the same driver (the `agent`
//!   module).
//!
//! Runtime features are additive; [`runtime::default_runtime`] picks a running tokio runtime
//! first, then async-std, then smol.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod accounts;
#[cfg(feature = "agent")]
pub mod agent;
pub(crate) mod bounds;
pub mod bus;
mod calls;
mod credentials;
pub mod driver;
pub mod error;
mod handle;
pub mod platform;
pub mod reply;
pub mod runtime;
pub mod session;
pub mod store;
pub mod tap;
mod upload_spec;
mod urls;

// The platform, chosen by target: native everywhere but in a browser.
#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
use native as platform_impl;
#[cfg(all(not(target_arch = "wasm32"), feature = "sqlite"))]
pub use native::sqlite;
#[cfg(not(target_arch = "wasm32"))]
pub use native::{Native, http, net, spawn};
#[cfg(target_arch = "wasm32")]
pub mod web;
#[cfg(target_arch = "wasm32")]
use web as platform_impl;
#[cfg(all(target_arch = "wasm32", not(feature = "web")))]
compile_error!("chatio-transport on wasm32 is the browser platform: enable its `web` feature");

// The public modules that join a shared part and this platform's part.

/// Where a session connects: the RTM websocket `<base>/<api>/rtm/ws[?license_id=N]` and the
/// Web API `<base>/<api>/action/<name>[?license_id=N]` for an [`Endpoint`]; and this
/// platform's websocket itself ([`connect`](ws::connect), [`RtmSocket`](ws::RtmSocket)).
pub mod ws {
    pub use crate::platform_impl::{RtmSocket, connect};
    pub use crate::urls::*;
}

/// Web API `send_file`: what an upload is (its URL, token, form fields and bytes) and how it
/// fails; each platform sends it its own way (protocol file, 4.7): [`send_file`](upload::send_file)
/// over hyper natively, `XMLHttpRequest` in a browser, with its way to read a file's size
/// ([`file_size`](upload::file_size)).
pub mod upload {
    pub use crate::platform_impl::{file_size, send_file};
    pub use crate::upload_spec::*;
}

/// Customer access tokens: where they come from and how they are cached.
///
/// Two providers: [`StaticToken`](token::StaticToken) (a token the program already has) and
/// [`AccountsToken`](token::AccountsToken), the customer token endpoint
/// `POST <accounts>/customer/` (protocol file 1.4, G11) of this platform (over hyper natively,
/// over `fetch` in a browser), cached until it expires and fetched anew when the session asks
/// for a fresh one (after an `authentication` error).
pub mod token {
    pub use crate::accounts::AccountsProvider;
    pub use crate::credentials::*;
    pub use crate::platform_impl::AccountsToken;
}

pub use crate::handle::DriverHandle;
pub use crate::session::Snapshot;
pub use bounds::{MaybeSend, MaybeSync};
pub use bus::{Recv, Subscriber};
pub use driver::{DriverConfig, spawn_on};
pub use error::Error;
pub use platform::Platform;
pub use platform_impl::TlsConfig;
pub use reply::{Answer, FromReply};
pub use session::{DrivenSession, Endpoint, Polled};
pub use store::{MemoryStore, Store, StoreError};
pub use tap::{Tap, TapEvent};
