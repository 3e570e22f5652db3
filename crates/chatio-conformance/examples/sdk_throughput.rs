//! SDK end to end: messages per second one session sends and has acknowledged by the
//! reference server on loopback, one at a time and with many in flight.
//!
//! ```text
//! cargo run --release -p chatio-conformance --example sdk_throughput -- [--messages N] [--json]
//! ```

use std::time::{Duration, Instant};

use chatio_customer_sdk::{Config, CustomerSdk, NewEvent, SdkEvent, StartChat};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

fn main() {
    let mut n = 20_000usize;
    let mut json = false;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--messages" => n = it.next().and_then(|v| v.parse().ok()).unwrap_or(n),
            "--json" => json = true,
            other => {
                eprintln!("unknown argument `{other}` (use --messages N, --json)");
                std::process::exit(2);
            }
        }
    }
    if let Err(e) = async_std::task::block_on(run(n, json)) {
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

async fn run(n: usize, json: bool) -> Result<(), String> {
    let server = chatio_server::Server::builder()
        .ephemeral()
        .agent(false)
        .workers(1)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let sdk =
        CustomerSdk::init(Config::new(100, "bench").server(server.http_url()).request_timeout(Duration::from_secs(60)))
            .map_err(|e| e.to_string())?;
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
    if json {
        println!("{}", serde_json::json!({"sequential_msgs_per_s": sequential, "window_64_msgs_per_s": pipelined}));
    } else {
        println!(
            "SDK end to end on loopback: {sequential:.0} msg/s one at a time, {pipelined:.0} msg/s with 64 in flight"
        );
    }
    sdk.destroy().await;
    server.shutdown().await;
    Ok(())
}
