//! Our SDK's half of `cargo xtask bench vs-js` (the JS SDK's half is `xtask/js/vs_js.js`,
//! the same scenario): against an already running reference server,
//!
//! 1. one session sends N messages one at a time, then N with 64 in flight: messages/s and
//!    p50/p99 acknowledgement latency;
//! 2. S sessions log in and sit idle (client RSS delta / S), then each sends one message a
//!    second for T seconds: p99 latency.
//!
//! Prints one JSON object.
//!
//! ```text
//! cargo run --release -p chatio-conformance --example vs_js -- --server http://127.0.0.1:PORT [--messages N] [--sessions S] [--seconds T]
//! ```

use std::time::{Duration, Instant};

use chatio_customer_sdk::{ChatId, Config, CustomerSdk, NewEvent, SdkEvent, StartChat};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

fn main() {
    let mut server = String::new();
    let (mut n, mut sessions, mut seconds) = (2000usize, 1000usize, 20u64);
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_default();
        match a.as_str() {
            "--server" => server = v,
            "--messages" => n = v.parse().unwrap_or(n),
            "--sessions" => sessions = v.parse().unwrap_or(sessions),
            "--seconds" => seconds = v.parse().unwrap_or(seconds),
            other => {
                eprintln!("unknown argument `{other}`");
                std::process::exit(2);
            }
        }
    }
    match async_std::task::block_on(run(&server, n, sessions, seconds)) {
        Ok(v) => println!("{v}"),
        Err(e) => {
            eprintln!("vs_js failed: {e}");
            std::process::exit(1);
        }
    }
}

/// The resident set size of this process, in bytes.
fn rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The CPU time this process has used, user + system, in ms: `/proc/self/stat` fields 14
/// and 15, in clock ticks of 10 ms (USER_HZ is 100 on Linux), every thread counted.
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // After the command name in parentheses: field 3 (state) is index 0.
            let rest = s.rsplit_once(") ")?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .map_or(f64::NAN, |ticks| ticks as f64 * 10.0)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A connected session with a chat.
async fn session(server: &str) -> Result<(CustomerSdk, ChatId), String> {
    let sdk = CustomerSdk::init(Config::new(100, "bench").server(server).request_timeout(Duration::from_secs(60)))
        .map_err(|e| e.to_string())?;
    let mut events = sdk.events();
    while let Some(e) = events.next().await {
        if matches!(e, SdkEvent::Connected { .. }) {
            break;
        }
    }
    drop(events);
    let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| e.to_string())?;
    Ok((sdk, chat.id))
}

/// Sends `n` messages keeping `window` in flight: (messages/s, latencies in ms, sorted).
async fn burst(sdk: &CustomerSdk, chat: &ChatId, n: usize, window: usize) -> Result<(f64, Vec<f64>), String> {
    let start = Instant::now();
    let mut inflight = FuturesUnordered::new();
    let (mut next, mut lat) = (0, Vec::with_capacity(n));
    while lat.len() < n {
        while inflight.len() < window && next < n {
            let (sdk, chat) = (sdk.clone(), chat.clone());
            let i = next;
            inflight.push(async move {
                let t = Instant::now();
                sdk.send_event(&chat, NewEvent::message(format!("m{i}"))).await.map(|_| t.elapsed())
            });
            next += 1;
        }
        match inflight.next().await {
            Some(Ok(d)) => lat.push(d.as_secs_f64() * 1e3),
            Some(Err(e)) => return Err(e.to_string()),
            None => break,
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    lat.sort_by(f64::total_cmp);
    Ok((rate, lat))
}

async fn run(server: &str, n: usize, sessions: usize, seconds: u64) -> Result<serde_json::Value, String> {
    let (sdk, chat) = session(server).await?;
    burst(&sdk, &chat, n / 10, 64).await?; // warm up
    let cpu = cpu_ms();
    let (seq_rate, seq) = burst(&sdk, &chat, n, 1).await?;
    let seq_cpu = (cpu_ms() - cpu) * 1e3 / n as f64;
    let cpu = cpu_ms();
    let (win_rate, win) = burst(&sdk, &chat, n, 64).await?;
    let win_cpu = (cpu_ms() - cpu) * 1e3 / n as f64;
    sdk.destroy().await;

    let before = rss();
    let mut all = Vec::with_capacity(sessions);
    let mut pending = FuturesUnordered::new();
    for _ in 0..sessions {
        pending.push(session(server));
        if pending.len() >= 64 {
            if let Some(r) = pending.next().await {
                all.push(r?);
            }
        }
    }
    while let Some(r) = pending.next().await {
        all.push(r?);
    }
    async_std::task::sleep(Duration::from_secs(2)).await;
    let idle_per_session = rss().saturating_sub(before) as f64 / sessions as f64;

    let start = Instant::now();
    let mut tasks = FuturesUnordered::new();
    for (i, (sdk, chat)) in all.iter().enumerate() {
        let (sdk, chat) = (sdk.clone(), chat.clone());
        let offset = Duration::from_micros((i as u64 * 1_000_000) / sessions as u64);
        tasks.push(async move {
            let mut lat = Vec::new();
            for k in 0..seconds {
                let due = start + offset + Duration::from_secs(k);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    async_std::task::sleep(wait).await;
                }
                let t = Instant::now();
                sdk.send_event(&chat, NewEvent::message(format!("tick {k}"))).await.map_err(|e| e.to_string())?;
                lat.push(t.elapsed().as_secs_f64() * 1e3);
            }
            Ok::<_, String>(lat)
        });
    }
    let mut load = Vec::new();
    while let Some(r) = tasks.next().await {
        load.extend(r?);
    }
    load.sort_by(f64::total_cmp);
    for (sdk, _) in all {
        sdk.destroy().await;
    }
    Ok(serde_json::json!({
        "client": "chatio-customer-sdk (Rust, async-std, websocket)",
        "seq_msgs_per_s": seq_rate, "seq_p50_ms": percentile(&seq, 0.5), "seq_p99_ms": percentile(&seq, 0.99),
        "win64_msgs_per_s": win_rate, "win64_p50_ms": percentile(&win, 0.5), "win64_p99_ms": percentile(&win, 0.99),
        "seq_cpu_us_per_msg": seq_cpu, "win64_cpu_us_per_msg": win_cpu,
        "sessions": sessions, "idle_rss_per_session_kib": idle_per_session / 1024.0,
        "load_messages": load.len(), "load_p50_ms": percentile(&load, 0.5), "load_p99_ms": percentile(&load, 0.99),
    }))
}
