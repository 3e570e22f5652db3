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
//! This file is the only one outside `native/` and `web/` that chooses by target.
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
pub mod bus;
mod calls;
pub mod driver;
pub mod error;
mod handle;
pub mod platform;
pub mod reply;
pub mod runtime;
pub mod session;
pub mod store;
pub mod tap;
pub mod token;
pub mod upload;
pub mod ws;

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

pub use bus::{Recv, Subscriber};
pub use driver::{DriverConfig, DriverHandle, Snapshot, spawn_on};
pub use error::Error;
pub use platform::Platform;
pub use platform_impl::{MaybeSend, MaybeSync, TlsConfig};
pub use reply::{Answer, FromReply};
pub use session::{DrivenSession, Endpoint, Polled};
pub use store::{MemoryStore, Store, StoreError};
pub use tap::{Tap, TapEvent};
