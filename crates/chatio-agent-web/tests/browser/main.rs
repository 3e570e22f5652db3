//! The agent page in headless Chromium, driven through WebDriver (chromedriver +
//! fantoccini) the way a person uses it, against the reference server serving the built page
//! (`cargo xtask widget` builds it with the widget), with a visitor on our customer SDK.
//!
//! Without the built assets, `chromium` or `chromedriver` each test prints why and passes;
//! with `CHATIO_BROWSER_TESTS=require` (as `cargo xtask ci` sets) a missing piece is a
//! failure. Screenshots go to `target/widget-test/`.
#![cfg(not(target_arch = "wasm32"))]

mod conversation;
mod page;
// The widget's browser harness (chromedriver, Chromium, waits, axe-core), shared.
#[path = "../../../chatio-widget/tests/browser/support.rs"]
#[allow(dead_code)]
mod support;
