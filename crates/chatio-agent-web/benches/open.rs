//! What the agent page costs and how fast a person is at work, in headless Chromium:
//!
//! * bytes of a first open of `/agent/` (cold cache) and of a repeat open (the page
//!   reloaded, the browser's cache warm: revalidations and nothing else),
//! * time from navigation start to the sign-in form being usable (the wasm loaded and
//!   started), on loopback and under Fast 3G throttling (1.6 Mbit/s down, 750 kbit/s up,
//!   150 ms latency),
//! * time from pressing Sign in to `Signed in as …` (the session's login over the websocket),
//!
//! each the median (and min, max) of `--runs N` (default 5) fresh browser sessions. Needs
//! `cargo xtask widget` (it builds the page), `chromium` and `chromedriver`:
//!
//! ```sh
//! cargo xtask widget && cargo bench -p chatio-agent-web --bench open -- --runs 7
//! ```

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../../chatio-widget/tests/browser/support.rs"]
#[allow(dead_code)]
mod support;

use support::*;

const TOKEN: &str = "bench-agent-token-0123456789";

/// One open of the page on a fresh browser.
struct Run {
    first: f64,
    repeat: f64,
    ready_ms: f64,
    sign_in_ms: f64,
}

/// Milliseconds from navigation start to the sign-in form enabled (the page marks it).
async fn ready(c: &fantoccini::Client) -> f64 {
    let at = until(c, "document.documentElement.dataset.readyAt", "the sign-in form ready").await;
    let at: f64 = at.as_str().unwrap().parse().unwrap();
    at - js(c, "performance.timeOrigin").await.as_f64().unwrap()
}

fn bytes(list: &[(String, f64)]) -> f64 {
    list.iter().map(|(_, b)| *b).sum()
}

async fn one(env: &Env, url: &str, throttle: Option<NetworkConditions>) -> Run {
    let (_driver, c) = browser(env, Screen::Desktop(1280, 800)).await;
    if let Some(t) = throttle {
        c.issue_cmd(t).await.expect("throttle");
    }
    c.goto(url).await.unwrap();
    let ready_ms = ready(&c).await;
    let first = bytes(&resources(&c).await);
    let pressed = js(
        &c,
        &format!(
            "(() => {{ document.getElementById('token').value = {}; \
              document.getElementById('signin').requestSubmit(); return Date.now(); }})()",
            serde_json::json!(TOKEN)
        ),
    )
    .await
    .as_f64()
    .unwrap();
    let at = until(&c, "document.documentElement.dataset.signedInAt", "signed in").await;
    let sign_in_ms = at.as_str().unwrap().parse::<f64>().unwrap() - pressed;
    c.refresh().await.unwrap();
    ready(&c).await;
    let repeat = bytes(&resources(&c).await);
    c.close().await.unwrap();
    Run { first, repeat, ready_ms, sign_in_ms }
}

fn stats(name: &str, unit: &str, mut v: Vec<f64>) {
    v.sort_by(f64::total_cmp);
    let median = if v.len() % 2 == 1 { v[v.len() / 2] } else { (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0 };
    println!(
        "{name:<44} median {median:>10.1} {unit}   min {:>10.1}   max {:>10.1}   (n = {})",
        v[0],
        v[v.len() - 1],
        v.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs = args
        .iter()
        .position(|a| a == "--runs")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(5usize);
    let Some(env) = env("the agent page open benchmark") else { return };
    if !env.assets.join("agent/index.html").is_file() {
        eprintln!("SKIPPED the agent page open benchmark: the agent page is not built (run `cargo xtask widget`)");
        return;
    }
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_token(100, "bench@example.com", TOKEN)
        .start()
        .await
        .expect("server");
    let url = format!("{}/agent/", server.http_url());
    let mut loopback = Vec::new();
    let mut fast3g = Vec::new();
    for i in 0..runs {
        loopback.push(one(&env, &url, None).await);
        let t = NetworkConditions { latency_ms: 150, download: 1_600_000 / 8, upload: 750_000 / 8 };
        fast3g.push(one(&env, &url, Some(t)).await);
        eprintln!("run {}/{runs} done", i + 1);
    }
    println!("agent page, {runs} runs each (transferred bytes from Resource Timing; times marked by the page)");
    stats("bytes of a first open (cold cache)", "B", loopback.iter().map(|r| r.first).collect());
    stats("bytes of a repeat open (page reloaded)", "B", loopback.iter().map(|r| r.repeat).collect());
    stats("navigation → sign-in form ready, loopback", "ms", loopback.iter().map(|r| r.ready_ms).collect());
    stats("navigation → sign-in form ready, Fast 3G", "ms", fast3g.iter().map(|r| r.ready_ms).collect());
    stats("Sign in → signed in, loopback", "ms", loopback.iter().map(|r| r.sign_in_ms).collect());
    stats("Sign in → signed in, Fast 3G", "ms", fast3g.iter().map(|r| r.sign_in_ms).collect());
    server.shutdown().await;
}
