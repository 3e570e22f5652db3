//! Integration tests of chatio-core: transcript replay (`fixtures/sessions`), behaviour
//! scenarios on a simulated server and clock, and properties over random interleavings.

#![cfg_attr(target_arch = "wasm32", allow(dead_code))] // helpers the native-only tests use

// The agent session (its transcripts use insta and its properties proptest: native only).
#[cfg(not(target_arch = "wasm32"))]
mod agent;
mod health;
// On wasm32 (wasm-bindgen-test in Node): the scenarios. The transcripts read fixture files
// and insta snapshots from disk, and proptest needs getrandom: native only.
#[cfg(not(target_arch = "wasm32"))]
mod props;
#[cfg(not(target_arch = "wasm32"))]
mod render;
#[cfg(not(target_arch = "wasm32"))]
mod replay;
mod scenarios;
mod server;
mod sim;
#[cfg(not(target_arch = "wasm32"))]
mod transcripts;
