//! The SDK's first screen from its store (issue 24): how long from `CustomerSdk::init` to the
//! cached chats and their latest events being emitted (before `Connected`), and how the SQLite
//! store grows over a long run (bounded by the history cache's limits).
//!
//! ```text
//! cargo run --release -p chatio-conformance --example first_screen -- [--chats M] [--messages N] [--runs R] [--json]
//! ```
//!
//! One customer fills `M` chats with `N` messages each on a new SQLite store (in the temporary
//! directory), recording the file's size (with its write-ahead log) every `N / 4` messages of
//! the last chat; then `R` sessions start on the store: for each, the time to the last
//! `CachedHistory` event and to `Connected`.

use std::path::Path;
use std::time::{Duration, Instant};

use chatio_customer_sdk::{Config, CustomerSdk, SdkEvent, StartChat};
use futures::StreamExt;

fn main() {
    let (mut chats, mut messages, mut runs, mut json) = (20usize, 200usize, 7usize, false);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut num = |d: usize| it.next().and_then(|v| v.parse().ok()).unwrap_or(d);
        match a.as_str() {
            "--chats" => chats = num(chats).max(1),
            "--messages" => messages = num(messages).max(4),
            "--runs" => runs = num(runs).max(1),
            "--json" => json = true,
            other => {
                eprintln!("unknown argument `{other}` (use --chats M, --messages N, --runs R, --json)");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = async_std::task::block_on(run(chats, messages, runs, json)) {
        eprintln!("first_screen failed: {e}");
        std::process::exit(1);
    }
}

/// The store's bytes on disk: the file and its write-ahead log.
fn store_bytes(path: &Path) -> u64 {
    let wal = path.with_file_name("store.db-wal");
    [path, wal.as_path()].iter().filter_map(|p| std::fs::metadata(p).ok()).map(|m| m.len()).sum()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn run(chats: usize, messages: usize, runs: usize, json: bool) -> Result<(), String> {
    let server = chatio_server::Server::builder().ephemeral().agent(false).start().await.map_err(|e| e.to_string())?;
    let dir = std::env::temp_dir().join(format!("chatio-first-screen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join("store.db");
    let config = || Config::new(100, "bench").server(server.http_url()).store_path(&path);

    // Fill: the default token source keeps the customer in the store, so every later session
    // is the same customer with the same chats.
    let sdk = CustomerSdk::init(config()).map_err(|e| e.to_string())?;
    let mut growth = Vec::new();
    for c in 0..chats {
        let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| e.to_string())?.id;
        for m in 0..messages {
            sdk.send_message(&chat, format!("message {m} of chat {c}, about as long as a short chat line"))
                .await
                .map_err(|e| e.to_string())?;
            if c + 1 == chats && (m + 1) % (messages / 4) == 0 {
                growth.push((c * messages + m + 1, store_bytes(&path)));
            }
        }
    }
    sdk.destroy().await;

    let mut to_history = Vec::new();
    let mut to_connected = Vec::new();
    let mut cached_events = 0;
    for _ in 0..runs {
        let start = Instant::now();
        let sdk = CustomerSdk::init(config()).map_err(|e| e.to_string())?;
        let mut events = sdk.events();
        let (mut seen, mut events_seen, mut history_at) = (0, 0, None);
        while let Some(e) = events.next().await {
            match e {
                SdkEvent::CachedHistory { events, .. } => {
                    seen += 1;
                    events_seen += events.len();
                    if seen == chats {
                        history_at = Some(start.elapsed());
                    }
                }
                SdkEvent::Connected { .. } => {
                    to_connected.push(start.elapsed());
                    break;
                }
                _ => {}
            }
        }
        to_history.push(history_at.ok_or_else(|| format!("only {seen} of {chats} chats came from the cache"))?);
        cached_events = events_seen;
        sdk.destroy().await;
    }
    let (history, connected) = (median(to_history), median(to_connected));
    let total = chats * messages;
    let last = growth.last().map_or(0, |g| g.1);
    if json {
        println!(
            "{}",
            serde_json::json!({
                "chats": chats, "messages_per_chat": messages, "cached_events": cached_events,
                "to_cached_history_ms": history.as_secs_f64() * 1e3,
                "to_connected_ms": connected.as_secs_f64() * 1e3,
                "store_bytes": growth, "bytes_per_message": last as f64 / total as f64,
            })
        );
    } else {
        println!(
            "{chats} chats × {messages} messages: {cached_events} cached events shown {:.1} ms after init, Connected after {:.1} ms (medians of {runs})",
            history.as_secs_f64() * 1e3,
            connected.as_secs_f64() * 1e3
        );
        for (sent, bytes) in &growth {
            println!("store after {sent} messages: {bytes} bytes ({:.0} per message)", *bytes as f64 / *sent as f64);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
    Ok(())
}
