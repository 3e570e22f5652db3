//! The widget on the SDK's IndexedDB store: a message typed while the server is away survives
//! the page going away and is delivered exactly once on the next visit; the chat of the last
//! visit is painted before the connection is up; a second tab does not open the store the
//! first one holds.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::json;

use crate::support::*;

/// A server keeping its data in `dir` (so the chat survives its restart), on `addr`.
async fn durable(env: &Env, dir: &Path, addr: SocketAddr) -> chatio_server::ServerHandle {
    let deadline = Instant::now() + WAIT;
    loop {
        let started = chatio_server::Server::builder()
            .listen(addr)
            .data_dir(dir)
            .widget_dir(&env.assets)
            .agent_delay(Duration::from_millis(100))
            .start()
            .await;
        match started {
            Ok(s) => return s,
            Err(e) if Instant::now() < deadline => {
                eprintln!("start on {addr}: {e}; again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the server could not start on {addr}: {e}"),
        }
    }
}

async fn connected(c: &Client) {
    until(c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
}

/// How many entries the widget's IndexedDB outbox holds (every database of the page's
/// origin whose name starts with `chatio-widget.`).
async fn stored_outbox(c: &Client) -> u64 {
    let script = "const done = arguments[arguments.length - 1];
        indexedDB.databases().then(async (dbs) => {
          let n = 0;
          for (const d of dbs.filter(d => d.name.startsWith('chatio-widget.'))) {
            n += await new Promise((ok) => {
              const r = indexedDB.open(d.name);
              r.onsuccess = () => {
                const db = r.result;
                if (!db.objectStoreNames.contains('outbox')) { db.close(); ok(0); return; }
                const q = db.transaction('outbox').objectStore('outbox').count();
                q.onsuccess = () => { db.close(); ok(q.result); };
                q.onerror = () => { db.close(); ok(0); };
              };
              r.onerror = () => ok(0);
            });
          }
          done(n);
        }, () => done(-1));";
    c.execute_async(script, vec![]).await.ok().and_then(|v| v.as_u64()).unwrap_or(0)
}

/// Rows of the customer's own messages with exactly `text`.
fn mine(text: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll('.row.me .text')).filter(e => e.textContent === {}).length",
        json!(text)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn a_message_typed_while_away_is_delivered_once_after_the_page_comes_back() {
    let Some(env) = env("the widget's store test") else { return };
    let dir = std::env::temp_dir().join(format!("chatio-widget-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = durable(&env, &dir, SocketAddr::from(([127, 0, 0, 1], 0))).await;
    let addr = server.addr();
    let base = format!("{}/widget/", server.http_url());
    let (_driver, c) = browser(&env, Screen::Desktop(480, 800)).await;

    // A first visit, then a second one (whose login lists the chat: the store keeps that
    // list for the first screen of the next visit).
    c.goto(&format!("{base}?new")).await.unwrap();
    connected(&c).await;
    say(&c, "First visit").await;
    until(&c, &has_text(".row.other", "You said: First visit"), "the answer").await;
    c.goto(&base).await.unwrap();
    connected(&c).await;
    until(&c, &has_text(".row", "You said: First visit"), "the history").await;
    assert_eq!(js(&c, "document.getElementById('widget').dataset.cached || null").await, json!(null));

    // The server goes away; the visitor writes anyway: the message waits in the outbox, which
    // is in IndexedDB before the widget shows it as sending.
    server.shutdown().await;
    until(&c, "!document.getElementById('banner').hidden", "the reconnect banner").await;
    say(&c, "Typed while the server was away").await;
    let deadline = Instant::now() + WAIT;
    while stored_outbox(&c).await != 1 {
        assert!(Instant::now() < deadline, "the message never reached the store");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The visitor leaves (the page and its session are gone, the message unsent).
    c.goto("about:blank").await.unwrap();
    let server = durable(&env, &dir, addr).await;

    // The visitor comes back over a slow network: the last visit's chat is painted before
    // the connection is up, then the kept message is sent and shows in the history.
    c.issue_cmd(NetworkConditions { latency_ms: 200, download: 0, upload: 0 }).await.expect("throttle");
    c.goto(&base).await.unwrap();
    connected(&c).await;
    c.issue_cmd(NetworkConditions { latency_ms: 0, download: 0, upload: 0 }).await.expect("unthrottle");
    let painted = js(
        &c,
        "(() => { const w = document.getElementById('widget').dataset; \
         return [Number(w.cached || 0), Number(w.cachedAt || 0), Number(w.connectedAt || 0)]; })()",
    )
    .await;
    eprintln!("cached rows, painted at, connected at: {painted}");
    assert!(painted[0].as_f64().unwrap_or(0.0) >= 1.0, "nothing painted from the store: {painted}");
    assert!(painted[1].as_f64() < painted[2].as_f64(), "the cached chat came after Connected: {painted}");
    until(&c, &format!("{} === 1", mine("Typed while the server was away")), "the kept message in the history").await;
    until(&c, &has_text(".row.other", "You said: Typed while the server was away"), "its answer").await;
    assert_eq!(stored_outbox(&c).await, 0, "delivered: the outbox is empty");

    // A second tab while the first holds the store: it does not open it (no cached paint, it
    // runs in memory) and is still the same customer (the refresh token in localStorage).
    let first = c.window().await.unwrap();
    let second = c.new_window(true).await.unwrap().handle;
    c.switch_to_window(second.clone()).await.unwrap();
    c.goto(&base).await.unwrap();
    connected(&c).await;
    until(&c, &has_text(".row", "You said: Typed while the server was away"), "the second tab's history").await;
    assert_eq!(js(&c, "document.getElementById('widget').dataset.cached || null").await, json!(null), "locked");

    // Once, on the server: after the first tab closed, a visit's history has it once (and
    // this tab now holds the store: nothing is left in it to send).
    c.switch_to_window(first).await.unwrap();
    c.close_window().await.unwrap();
    c.switch_to_window(second).await.unwrap();
    c.goto(&base).await.unwrap();
    connected(&c).await;
    until(&c, &has_text(".row", "You said: Typed while the server was away"), "the history").await;
    assert_eq!(js(&c, &mine("Typed while the server was away")).await, json!(1), "delivered exactly once");
    assert_eq!(js(&c, &mine("First visit")).await, json!(1));
    assert!(js(&c, "Number(document.getElementById('widget').dataset.cached || 0)").await.as_f64() >= Some(1.0));
    c.close().await.unwrap();
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
