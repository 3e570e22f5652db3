//! The chat widget in headless Chromium, driven through WebDriver (chromedriver +
//! fantoccini) the way a visitor and a site owner use it, against the reference server
//! serving the built widget (`cargo xtask widget`).
//!
//! Without the built assets, `chromium` or `chromedriver` each test prints why and passes;
//! with `CHATIO_BROWSER_TESTS=require` (as `cargo xtask ci` sets) a missing piece is a
//! failure. Screenshots go to `target/widget-test/`.
#![cfg(not(target_arch = "wasm32"))]

mod a11y;
mod embed;
mod page;
mod phone;
mod scroll;
mod serving;
mod store;
mod support;
mod title;
mod visit;
