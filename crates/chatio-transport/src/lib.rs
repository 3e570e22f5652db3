//! # chatio-transport
//!
//! Runtime-agnostic I/O for a [`chatio-core`](chatio_core) customer session: the websocket, Web API uploads,
//! the customer token endpoint, timers and reconnects.
//!
//! ## Crate features
//!
//! * `async-std` (default) — run on async-std.
//! * `smol` — run on smol.
//! * `tokio` — run on tokio (inside a running tokio runtime).
//! * `tls` (default) — `wss://` and `https://` through rustls with the webpki roots, on the
//!   application's process-wide crypto provider if it installed one, else aws-lc-rs.
//!
//! * `web` — the browser driver (the `web` module), for `wasm32-unknown-unknown` (build with
//!   `--no-default-features --features web`).
//!
//! Runtime features are additive; [`runtime::default_runtime`] picks a running tokio runtime
//! first, then async-std, then smol.
//!
//! On `wasm32` the native driver (TCP, hyper, tungstenite) is not built: the `web` module
//! drives the same core session with the browser's `WebSocket`, `fetch`, `XMLHttpRequest` and
//! `setTimeout`, behind a `web::DriverHandle` with the native handle's methods.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod accounts;
pub mod bus;
mod calls;
#[cfg(not(target_arch = "wasm32"))]
pub mod driver;
pub mod error;
mod handle;
#[cfg(not(target_arch = "wasm32"))]
pub mod http;
#[cfg(not(target_arch = "wasm32"))]
pub mod net;
pub mod reply;
pub mod runtime;
pub mod token;
pub mod upload;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
pub mod web;
pub mod ws;

pub use bus::{Recv, Subscriber};
#[cfg(not(target_arch = "wasm32"))]
pub use driver::{DriverConfig, DriverHandle, Snapshot, Tap, TapEvent, spawn};
pub use error::Error;
pub use reply::{Answer, FromReply};
