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
//! * `tls` (default) — `wss://` and `https://` through rustls with the webpki roots.
//!
//! Runtime features are additive; [`runtime::default_runtime`] picks a running tokio runtime
//! first, then async-std, then smol.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod bus;
pub mod driver;
pub mod error;
pub mod http;
pub mod net;
pub mod runtime;
pub mod token;
pub mod upload;
pub mod ws;

pub use bus::{Recv, Subscriber};
pub use driver::{DriverConfig, DriverHandle, Snapshot, Tap, TapEvent, spawn};
pub use error::Error;
