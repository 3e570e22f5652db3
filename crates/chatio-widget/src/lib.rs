//! # chatio-widget
//!
//! A customer chat widget for any website, in Rust on
//! [`chatio-customer-sdk`](chatio_customer_sdk): plain `web-sys` (no framework), compiled
//! to wasm. `cargo xtask widget` builds it into `target/widget/`; `chatio server --widget`
//! serves that folder at `/widget/`, and the folder also works from any static host.
//!
//! ## Embedding a site
//!
//! One line on any page:
//!
//! ```html
//! <script src="https://SERVER/widget/loader.js" data-license="100" async></script>
//! ```
//!
//! `loader.js` (a few KiB, `assets/loader.js`) asks `embed.json?license=N` next to it which
//! sites may embed this license's widget; on any other site it writes why to the console and
//! shows nothing. Allowed, it adds a launcher bubble at the bottom right. Nothing else is
//! loaded until the visitor clicks the bubble (or, with `data-preload="idle"` or for a
//! visitor who has a chat going, until the browser is idle): then the chat window opens in
//! an iframe of `index.html` from the widget's own origin, so the host page's CSS and
//! scripts cannot touch it, and it cannot touch them. The bubble lives in a shadow
//! root with `!important` inline styles on its host element, so the page's CSS (even
//! `* { all: unset }`) does not reach it.
//!
//! **Settings**, as `data-*` attributes of the script tag, or in a `window.__chatio = {…}`
//! object set before it (attributes win):
//!
//! | attribute | `__chatio` key | meaning |
//! |---|---|---|
//! | `data-license` | `license` | the license (required) |
//! | `data-label` | `label` | the bubble's and the window's accessible name (`Chat with us`) |
//! | `data-color` | `color` | the bubble's colour, `#rgb` / `#rrggbb` |
//! | `data-position="left"` | `position` | bubble on the left |
//! | `data-open="true"` | `open` | open the window at once |
//! | `data-preload="idle"` | `preload` | load the window when the browser is idle |
//! | `data-page="false"` | `page` | do not tell the agent the page's URL and title |
//! | `data-title-badge="false"` | `titleBadge` | no `(2)` in the page title while its tab is hidden |
//! | `data-customer-name`, `data-customer-email` | `customer: {name, email, fields}` | who the visitor is, for the agent |
//!
//! **The page's API**, `window.chatio`: `open()` (loads the window on first use),
//! `minimize()` (back to the bubble; the chat goes on and the bubble counts unread
//! messages), `close()` (hides window and bubble until `open()`), `setCustomer({name,
//! email, fields})`, `setPage()` (a single-page app moved), `on(name, fn)` / `off` for
//! `ready`, `open`, `minimize`, `close` and `unread` (with the count), and the read-only
//! `unread` and `isOpen`.
//!
//! **Between loader and window** (`postMessage`, objects with `chatio: "host"` or
//! `chatio: "frame"` and a `type`): the loader accepts only messages whose `source` is its
//! iframe and whose origin is the widget's; the window only those whose `source` is its
//! parent and whose origin is the one the loader named in the fragment (`#embed=ORIGIN`,
//! cross-checked with `location.ancestorOrigins`); each posts only to the other's origin.
//! Window → page: `ready`, `unread {count}`, `minimize`, `active {value}`. Page → window:
//! `init {visible, page: {url, title, referrer}, customer}` (after `ready`; what the page
//! asks before is queued), `visible {value}`, `customer {customer}`, `page {page}`. The window's side is the
//! private module `embed` (`src/embed.rs`).
//!
//! **Which sites may embed** is the server's per-license list of origins (its registered
//! apps; without any, the server's own origin and loopback origins). The server sends it as
//! `Content-Security-Policy: frame-ancestors` with `index.html`, so a page elsewhere gets
//! no chat window even with a copied loader, and as `embed.json` for the loader.
//!
//! ## The window
//!
//! It shows the connection state and a reconnect banner, the customer's and the agent's
//! messages with their times, typing indicators (and sends sneak peeks while the customer
//! types), agents joining and leaving, older history on scroll-up, file uploads (button,
//! paste, drag and drop) with a progress bar and a cancel button, rich messages as cards
//! whose buttons send postbacks, forms and system messages, closed threads (the next
//! message opens a new one), End chat with a confirmation, and a rating. A message sent
//! before the wasm is ready is kept and sent when it is; a failed one keeps its text and
//! offers a retry; a chat the server no longer knows is replaced by a new one. Errors are
//! sentences ([`view::error_text`]), their detail goes to the console; nothing panics on
//! input. Settings of the window itself: [`settings`].
//!
//! [`view`] (what is shown, as data) and [`settings`] are plain Rust, tested on native.
//! The DOM side (`app`, `embed`) compiles on native too, so `cargo clippy`/`cargo test
//! --workspace` check it, but it only runs in a browser: the wasm build starts it from
//! `#[wasm_bindgen(start)]`.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod app;
mod dom;
mod embed;
pub mod settings;
pub mod view;

pub use app::start;

/// The wasm entry point: starts the widget once the module is loaded.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn main() {
    start();
}
