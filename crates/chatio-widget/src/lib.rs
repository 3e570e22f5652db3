//! # chatio-widget
//!
//! A sample customer chat widget for the browser, in Rust on
//! [`chatio-customer-sdk`](chatio_customer_sdk): the Rust counterpart of the JS SDK's sample
//! widget. Plain `web-sys` (no framework), compiled to wasm; `cargo xtask widget` builds the
//! assets into `target/widget/` and `chatio server --widget` serves them at `/widget/`.
//!
//! It shows the connection state and a reconnect banner, the customer's and the agent's
//! messages, typing indicators (and sends sneak peeks while the customer types), agents
//! joining and leaving, older history on scroll-up, file uploads with a progress bar and a
//! cancel button, rich messages as cards whose buttons send postbacks, forms and system
//! messages, closed threads (the next message opens a new one) and a rating control.
//! Errors are shown as sentences ([`view::error_text`]); nothing panics on input.
//!
//! [`view`] (what is shown, as data) is plain Rust, tested on native. The DOM side (`app`)
//! compiles on native too, so `cargo clippy`/`cargo test --workspace` check it, but it only
//! runs in a browser: the wasm build starts it from `#[wasm_bindgen(start)]`.
//!
//! Page options (query string): `license=N` (default 100), `history=N` (events per history
//! page, default 50), `server=URL` (default: the page's origin), `new` (a new customer
//! instead of the one remembered in `localStorage`).

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod app;
mod dom;
pub mod view;

pub use app::start;

/// The wasm entry point: starts the widget once the module is loaded.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn main() {
    start();
}
