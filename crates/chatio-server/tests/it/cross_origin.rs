//! Issue 21, finding 3 in a real browser: `tests/js/cross_origin.js` drives headless
//! Chromium through pages on two local origins (another port of the same host is the same
//! site, so the accounts cookie is sent). Only the registered origin receives a token; the
//! other page frames the accounts page and reads the token endpoint, the accounts page and
//! the Web API with credentials, and gets nothing. Ignored in a plain `cargo test`; run with
//! `-- --include-ignored cross_origin`, it is skipped (with the reason) without node,
//! chromium or chromedriver, unless `CHATIO_JS_REQUIRED=1`.

use std::process::Command;
use std::time::Duration;

use crate::client::builder;
use crate::js_sdk::{run_with_deadline, scripts_dir, skip, tool_works, which};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node, Chromium and chromedriver: cargo test -p chatio-server --test it cross_origin -- --include-ignored"]
async fn finding_3_no_other_origin_receives_a_token_in_chromium() {
    if !tool_works("node") {
        return skip("node is not installed: the cross-origin test needs it").unwrap_or(());
    }
    let Some(chromium) = which(&["chromium", "chromium-browser", "google-chrome"]) else {
        return skip("chromium is not installed (Debian: apt-get install chromium chromium-driver)").unwrap_or(());
    };
    let Some(driver) = which(&["chromedriver"]) else {
        return skip("chromedriver is not installed (Debian: apt-get install chromium-driver)").unwrap_or(());
    };
    let (a, b) = (free_port(), free_port());
    let shop = chatio_server::RegisteredApp::new(100, "shop", &[&format!("http://127.0.0.1:{a}/")]).expect("app");
    let server = builder().agent(false).register_app(shop).start().await.expect("server starts");
    let mut cmd = Command::new("node");
    cmd.arg(scripts_dir().join("cross_origin.js"))
        .arg(server.http_url())
        .arg(a.to_string())
        .arg(b.to_string())
        .arg(chromium)
        .arg(driver)
        .current_dir(scripts_dir());
    let (ok, output) = tokio::task::spawn_blocking(move || run_with_deadline(&mut cmd, Duration::from_secs(120)))
        .await
        .expect("the runner");
    println!("{output}");
    assert!(ok, "the cross-origin checks failed:\n{output}");
    assert!(output.contains("cross-origin: all checks passed"), "{output}");
}
