//! End-to-end tests of the SDK against the reference server, over real loopback sockets.
//! The same suite runs under each runtime feature:
//! `cargo test -p chatio-customer-sdk` (async-std),
//! `cargo test -p chatio-customer-sdk --no-default-features --features smol,tls`,
//! `cargo test -p chatio-customer-sdk --no-default-features --features tokio,tls`.
//! Without the `tls` feature (`--features tokio`, say) everything but the `wss://` test runs.
//! In a browser the suite is `tests/browser.rs` (`cargo xtask wasm test`).

#![cfg(not(target_arch = "wasm32"))]

mod errors;
mod events;
mod faults;
mod history;
mod methods;
mod parity;
mod pipelined;
// The store's tests run a child process on an SQLite file: built with the default `sqlite`
// feature (the other runtimes' CI runs leave it out; the memory store is covered there by the
// transport's store suite).
#[cfg(feature = "sqlite")]
mod child;
#[cfg(feature = "sqlite")]
mod kill_soak;
#[cfg(feature = "sqlite")]
mod store;
mod support;
#[cfg(feature = "tls")]
mod tls;
mod upload;
