//! # chatio-agent-web
//!
//! The agent page: a person answers visitors' chats in a browser. Rust on
//! [`chatio-agent-sdk`](chatio_agent_sdk) (the transport's browser platform), plain
//! `web-sys` like the chat widget, compiled to wasm. `cargo xtask widget` builds it with the
//! widget, into `target/widget/agent/` (hashed, pre-compressed, the same pipeline), and
//! `chatio server --widget` serves it at `/agent/`.
//!
//! ## Using it
//!
//! Start a server with an agent, open `/agent/`, sign in with the token:
//!
//! ```text
//! cargo xtask widget
//! cargo run -p chatio-cli -- server --widget --agent-token jane@example.com=jane-token-0123456789
//! # then open http://127.0.0.1:8080/agent/ and the widget at /widget/ in another window
//! ```
//!
//! The page shows the queue (chats waiting for an agent, each with a **Take** button) and
//! the agent's own chats with their unread counts; the open chat's conversation (its last
//! thread, then what is said live, the visitor's typing and sneak peeks), a reply box
//! (Enter sends, Shift+Enter is a new line; while the agent writes, the visitor sees it typing:
//! [`typing`] says when), **Send a picture** (PNG, GIF or JPEG up to 10 MiB: uploaded, then
//! posted as a card; the visitor's files show as links, pictures with a thumbnail),
//! **Close chat**, **Back to the queue** (the agent leaves; the router gives the chat out
//! again) and **Ban visitor** (for the days chosen beside it), the last two after a
//! confirmation; an **Accepting chats** switch (the routing status: off, new chats wait in
//! the queue), and **Sign out** (the server revokes the token first: `POST /agent/sign-out`;
//! a token from the server's configuration stays valid, and the page says so).
//! Beside the conversation, the **visitor**: name, e-mail, fields, and what the server reports
//! of their visits (pages seen, counts, where they came from), kept current as it changes.
//!
//! **The token** is read from the sign-in form once, cleared from the field, and kept only in
//! the session's memory: never in the URL, storage or a log. A **sign-in link** the server
//! printed (`chatio server --agent EMAIL --agent-sign-in`, `…/agent/#code=…`) signs the person
//! in without a token: the page takes the one-time code out of the address bar and history at
//! once, exchanges it at `POST /agent/sign-in` (the page's own server) and hands the token
//! straight to the session. The form is disabled until the
//! wasm runs and posts nowhere (its submit is always handled by the page), so a token cannot
//! end up in a query string. The server serves the page with `frame-ancestors 'none'` and
//! `Referrer-Policy: no-referrer`.
//!
//! **Accessibility** (WCAG 2.2 AA, checked with axe-core in the browser test): headings for
//! every part, the conversation a named `role="log"`, the lists' buttons named with the
//! visitor and the unread count, visible focus, the keyboard focus kept on a chat's button
//! while the lists redraw, `dir="auto"` on messages, light and dark colour schemes.
//!
//! [`view`] (what is shown, as data) and [`typing`] are plain Rust, tested on native. The DOM side (`app`)
//! compiles on native too, so clippy and `cargo test --workspace` check it, but only runs in
//! a browser (`#[wasm_bindgen(start)]`).

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod app;
pub mod typing;
pub mod view;

pub use app::start;

/// The wasm entry point: starts the page once the module is loaded.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn main() {
    start();
}
