//! What the chat widget costs a host page, and how fast it opens, in headless Chromium:
//!
//! * bytes the host page downloads for the widget before the chat is opened (the loader
//!   and `embed.json`; budget 10 KiB),
//! * bytes of a first open (cold cache) and of a repeat open (the page reloaded, the
//!   browser's cache warm: revalidations and nothing else),
//! * time from the click to `Connected`, on loopback and under Fast 3G throttling
//!   (1.6 Mbit/s down, 750 kbit/s up, 150 ms latency),
//!
//! each the median (and min, max) of `--runs N` (default 5) fresh browser sessions. Needs
//! `cargo xtask widget`, `chromium` and `chromedriver`:
//!
//! ```sh
//! cargo xtask widget && cargo bench -p chatio-widget --bench open -- --runs 7
//! ```

#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "../tests/browser/support.rs"]
#[allow(dead_code)]
mod support;

use std::time::Duration;

use support::*;

/// One open of the widget on a fresh browser.
struct Run {
    before: f64,
    first: f64,
    repeat: f64,
    connect_ms: f64,
}

fn widget_bytes(list: &[(String, f64)]) -> f64 {
    list.iter().filter(|(n, _)| n.contains("/widget/")).map(|(_, b)| *b).sum()
}

/// Clicks the bubble, waits for Connected in the window; the bytes the window loaded and
/// the milliseconds from the click to Connected.
async fn open(c: &fantoccini::Client) -> (f64, f64) {
    until(c, BUBBLE, "the bubble").await;
    let clicked = js(c, "(() => { window.chatio.open(); return Date.now(); })()").await.as_f64().unwrap();
    enter_widget(c).await;
    let at = until(c, "document.getElementById('widget').dataset.connectedAt", "Connected").await;
    let at: f64 = at.as_str().unwrap().parse().unwrap();
    let bytes: f64 = resources(c).await.iter().map(|(_, b)| *b).sum();
    c.enter_parent_frame().await.unwrap();
    (bytes, at - clicked)
}

async fn one(env: &Env, host: &str, throttle: Option<NetworkConditions>) -> Run {
    // Chromium applies chromedriver's network conditions to the page's own process only:
    // with site isolation the cross-origin chat window would load unthrottled, so the
    // throttled runs keep it in the page's process.
    let extra: &[&str] = if throttle.is_some() { &["--disable-site-isolation-trials"] } else { &[] };
    let (_driver, c) = browser_with(env, Screen::Desktop(1280, 800), extra).await;
    if let Some(t) = throttle {
        c.issue_cmd(t).await.expect("throttle");
    }
    c.goto(host).await.unwrap();
    until(&c, BUBBLE, "the bubble").await;
    let before = widget_bytes(&resources(&c).await);
    let (window, connect_ms) = open(&c).await;
    // The iframe's own document shows in the host page's list.
    let first = window + widget_bytes(&resources(&c).await) - before;
    c.refresh().await.unwrap();
    let (repeat, _) = open(&c).await;
    c.close().await.unwrap();
    Run { before, first, repeat, connect_ms }
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
    let Some(env) = env("the widget open benchmark") else { return };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(50))
        .start()
        .await
        .expect("server");
    let host = host_site(host_page(&server.http_url(), "", "")).await;
    let mut loopback = Vec::new();
    let mut fast3g = Vec::new();
    for i in 0..runs {
        loopback.push(one(&env, &host, None).await);
        let t = NetworkConditions { latency_ms: 150, download: 1_600_000 / 8, upload: 750_000 / 8 };
        fast3g.push(one(&env, &host, Some(t)).await);
        eprintln!("run {}/{runs} done", i + 1);
    }
    println!("chat widget, {runs} runs each (transferred bytes from Resource Timing; Connected from the window)");
    stats("bytes before the chat is opened", "B", loopback.iter().map(|r| r.before).collect());
    stats("bytes of a first open (cold cache)", "B", loopback.iter().map(|r| r.first).collect());
    stats("bytes of a repeat open (page reloaded)", "B", loopback.iter().map(|r| r.repeat).collect());
    stats("click → Connected, loopback", "ms", loopback.iter().map(|r| r.connect_ms).collect());
    stats("click → Connected, Fast 3G", "ms", fast3g.iter().map(|r| r.connect_ms).collect());
    stats("bytes of a first open, Fast 3G", "B", fast3g.iter().map(|r| r.first).collect());
    server.shutdown().await;
}
