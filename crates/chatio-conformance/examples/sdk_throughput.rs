//! SDK end to end: messages per second one session sends and has acknowledged by the
//! reference server on loopback, one at a time and with many in flight.
//!
//! ```text
//! cargo run --release -p chatio-conformance --example sdk_throughput -- [--messages N] [--json] [--stores]
//! ```
//!
//! `--stores`: the cost of the SDK's persisted outbox (issue 24) in one run — the same
//! measurement with no store, the memory store and the SQLite store (a new file in the
//! temporary directory), each on its own session.

use std::time::{Duration, Instant};

use chatio_customer_sdk::{Config, CustomerSdk, NewEvent, SdkEvent, StartChat};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

fn main() {
    let mut n = 20_000usize;
    let mut json = false;
    let mut stores = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--messages" => n = it.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            "--json" => json = true,
            "--stores" => stores = true,
            other => {
                eprintln!("unknown argument `{other}` (use --messages N, --json, --stores)");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = async_std::task::block_on(run(n, json, stores)) {
        eprintln!("sdk_throughput failed: {e}");
        std::process::exit(1);
    }
}

async fn rate(sdk: &CustomerSdk, chat: &chatio_customer_sdk::ChatId, n: usize, window: usize) -> Result<f64, String> {
    let start = Instant::now();
    let mut inflight = FuturesUnordered::new();
    let mut next = 0;
    let mut done = 0;
    while done < n {
        while inflight.len() < window && next < n {
            let (sdk, chat) = (sdk.clone(), chat.clone());
            let i = next;
            inflight.push(async move { sdk.send_event(&chat, NewEvent::message(format!("m{i}"))).await });
            next += 1;
        }
        match inflight.next().await {
            Some(Ok(_)) => done += 1,
            Some(Err(e)) => return Err(e.to_string()),
            None => break,
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

async fn run(n: usize, json: bool, stores: bool) -> Result<(), String> {
    let server = chatio_server::Server::builder()
        .ephemeral()
        .agent(false)
        .workers(1)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let config = Config::new(100, "bench").server(server.http_url()).request_timeout(Duration::from_secs(60));
    if !stores {
        let (sequential, pipelined) = measure(config, n).await?;
        if json {
            println!("{}", serde_json::json!({"sequential_msgs_per_s": sequential, "window_64_msgs_per_s": pipelined}));
        } else {
            println!(
                "SDK end to end on loopback: {sequential:.0} msg/s one at a time, {pipelined:.0} msg/s with 64 in flight"
            );
        }
        server.shutdown().await;
        return Ok(());
    }
    let dir = std::env::temp_dir().join(format!("chatio-sdk-throughput-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let runs = [
        ("none", config.clone()),
        ("memory", config.clone().store(chatio_customer_sdk::MemoryStore::new())),
        ("sqlite", config.clone().store_path(dir.join("store.db"))),
    ];
    let mut results = serde_json::Map::new();
    for (name, config) in runs {
        let (sequential, pipelined) = measure(config, n).await?;
        if json {
            results.insert(
                name.into(),
                serde_json::json!({"sequential_msgs_per_s": sequential, "window_64_msgs_per_s": pipelined}),
            );
        } else {
            println!("store {name:>6}: {sequential:.0} msg/s one at a time, {pipelined:.0} msg/s with 64 in flight");
        }
    }
    if json {
        println!("{}", serde_json::Value::Object(results));
    }
    let _ = std::fs::remove_dir_all(&dir);
    server.shutdown().await;
    Ok(())
}

/// One session's rates (one at a time, 64 in flight) after a warm-up.
async fn measure(config: Config, n: usize) -> Result<(f64, f64), String> {
    let sdk = CustomerSdk::init(config).map_err(|e| e.to_string())?;
    let mut events = sdk.events();
    while let Some(e) = events.next().await {
        if matches!(e, SdkEvent::Connected { .. }) {
            break;
        }
    }
    drop(events);
    let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| e.to_string())?;
    // Warm up.
    rate(&sdk, &chat.id, n / 10, 64).await?;
    let sequential = rate(&sdk, &chat.id, n / 4, 1).await?;
    let pipelined = rate(&sdk, &chat.id, n, 64).await?;
    sdk.destroy().await;
    Ok((sequential, pipelined))
}
