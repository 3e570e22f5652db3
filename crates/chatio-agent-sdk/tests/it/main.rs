//! End-to-end tests of the agent SDK against the reference server over real loopback
//! sockets: an agent (this SDK) and a customer (`chatio-customer-sdk`) in the same chats.
//! The same suite runs under each runtime feature:
//! `cargo test -p chatio-agent-sdk` (async-std),
//! `cargo test -p chatio-agent-sdk --no-default-features --features smol,tls`,
//! `cargo test -p chatio-agent-sdk --no-default-features --features tokio,tls`.

#![cfg(not(target_arch = "wasm32"))]

mod conversation;
mod js_visitor;
mod lifecycle;
mod queue;
mod support;
