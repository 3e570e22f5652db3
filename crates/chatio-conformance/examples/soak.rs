//! Chaos soak: an SDK session sends messages continuously while the reference server kills
//! its connection at random points (mid-request, mid-upload, between frames).
//!
//! ```text
//! cargo run --release -p chatio-conformance --example soak -- --cycles 1000
//! ```
//!
//! Reports messages acknowledged, lost (target 0), duplicated (target 0), requests left
//! hanging (target 0: every in-flight request that cannot be kept resolves within 1 s of the
//! drop) and reconnect time p50/p99. Loopback only; stops by itself (`--max-seconds`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chatio_customer_sdk::{
    Backoff, Config, CustomerSdk, Error, EventKind, File, NewEvent, Pagination, SdkEvent, StartChat,
};
use futures::StreamExt;
use futures::future::join_all;

struct Args {
    cycles: usize,
    seed: u64,
    max_seconds: u64,
    json: bool,
}

fn args() -> Result<Args, String> {
    let mut a = Args { cycles: 1000, seed: 1, max_seconds: 900, json: false };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        let mut num = |name: &str| -> Result<u64, String> {
            it.next().and_then(|v| v.parse().ok()).ok_or(format!("{name} needs a number"))
        };
        match x.as_str() {
            "--cycles" => a.cycles = num("--cycles")? as usize,
            "--seed" => a.seed = num("--seed")?,
            "--max-seconds" => a.max_seconds = num("--max-seconds")?,
            "--json" => a.json = true,
            other => {
                return Err(format!("unknown argument `{other}` (use --cycles N, --seed S, --max-seconds S, --json)"));
            }
        }
    }
    Ok(a)
}

fn pct(v: &mut [Duration], p: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn main() {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("soak: {e}");
            std::process::exit(2);
        }
    };
    match async_std::task::block_on(run(a)) {
        Ok(clean) => std::process::exit(if clean { 0 } else { 1 }),
        Err(e) => {
            eprintln!("soak failed: {e}");
            std::process::exit(1);
        }
    }
}

async fn run(a: Args) -> Result<bool, String> {
    let started = Instant::now();
    let server = Arc::new(
        chatio_server::Server::builder()
            .ephemeral()
            .agent(false)
            .seed(a.seed)
            .start()
            .await
            .map_err(|e| e.to_string())?,
    );
    let config = Config::new(100, "soak").server(server.http_url()).seed(a.seed).reconnect(Backoff::new(
        Duration::from_millis(5),
        Duration::from_millis(40),
        0.5,
    ));
    let sdk = CustomerSdk::init(config).map_err(|e| e.to_string())?;
    let mut events = sdk.events();
    if !matches!(wait_for(&mut events, false).await, Ok(true)) {
        return Err("no connection".into());
    }
    let customer = sdk.customer_id().ok_or("no customer id")?.to_string();
    let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| e.to_string())?;
    let mut rng = fastrand::Rng::with_seed(a.seed);
    let mut sent = Vec::new();
    let mut acked = 0usize;
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let mut reconnects = Vec::new();
    let mut resolve_after_drop = Vec::new();
    let mut hanging = 0usize;
    let mut modes = [0usize; 3];
    let mut cycles = 0;
    for cycle in 0..a.cycles {
        if started.elapsed() > Duration::from_secs(a.max_seconds) {
            break;
        }
        cycles += 1;
        let mode = rng.usize(..3);
        modes[mode] += 1;
        let k = rng.usize(1..=5);
        let ids: Vec<String> = (0..k).map(|i| format!("soak-{cycle}-{i}")).collect();
        sent.extend(ids.iter().cloned());
        let sends =
            ids.iter().map(|id| sdk.send_event(&chat.id, NewEvent::message(id.clone()).with_custom_id(id.clone())));
        let sends = join_all(sends);
        // A request that cannot be kept across a drop: it must resolve, not hang.
        let probe = sdk.chats_summary(Pagination::new(0, 1));
        let dropped = Arc::new(AtomicBool::new(false));
        let drop_at: Arc<std::sync::Mutex<Option<Instant>>> = Arc::default();
        let upload = if mode == 1 {
            let (handle, customer, dropped, drop_at) =
                (server.clone(), customer.clone(), dropped.clone(), drop_at.clone());
            let cut = rng.f64() * 0.8 + 0.1;
            // Mid-upload: drop from the progress callback.
            Some(
                sdk.send_file(&chat.id, File::bytes("soak.bin", vec![9u8; 256 * 1024]))
                    .on_progress(move |p| {
                        if p >= cut && !dropped.swap(true, Ordering::SeqCst) {
                            if let Ok(mut t) = drop_at.lock() {
                                *t = Some(Instant::now());
                            }
                            handle.drop_connections(100, &customer);
                        }
                    })
                    .start(),
            )
        } else {
            None
        };
        let delay = Duration::from_micros(rng.u64(0..400));
        let chaos = async {
            if mode == 2 {
                // Between frames: let the requests finish first.
                return;
            }
            async_std::task::sleep(delay).await;
            if !dropped.swap(true, Ordering::SeqCst) {
                if let Ok(mut t) = drop_at.lock() {
                    *t = Some(Instant::now());
                }
                server.drop_connections(100, &customer);
            }
        };
        let probe_timed = async {
            let r = timed(probe).await;
            (r, Instant::now())
        };
        let upload_timed = async {
            match upload {
                Some(u) => Some((timed(u).await, Instant::now())),
                None => None,
            }
        };
        let (results, (probe_r, probe_t), up, ()) = futures::join!(timed(sends), probe_timed, upload_timed, chaos);
        if mode == 2 && !dropped.swap(true, Ordering::SeqCst) {
            if let Ok(mut t) = drop_at.lock() {
                *t = Some(Instant::now());
            }
            server.drop_connections(100, &customer);
        }
        let t_drop = drop_at.lock().ok().and_then(|t| *t).unwrap_or_else(Instant::now);
        match results {
            Ok(rs) => {
                for r in rs {
                    match r {
                        Ok(_) => acked += 1,
                        Err(e) => *errors.entry(kind(&e)).or_default() += 1,
                    }
                }
            }
            Err(_) => hanging += k,
        }
        for (r, at) in
            [(probe_r.map(|r| r.map(drop)), probe_t)].into_iter().chain(up.map(|(r, at)| (r.map(|r| r.map(drop)), at)))
        {
            match r {
                Err(_) => hanging += 1,
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    *errors.entry(kind(&e)).or_default() += 1;
                    let after = at.saturating_duration_since(t_drop);
                    resolve_after_drop.push(after);
                    if after > Duration::from_secs(1) {
                        hanging += 1;
                    }
                }
            }
        }
        match wait_for(&mut events, true).await {
            Ok(true) => reconnects.push(t_drop.elapsed()),
            _ => return Err(format!("cycle {cycle}: no reconnect within 10 s")),
        }
    }
    // Everything the session still owes must arrive.
    let stored = server.chat_events(100, chat.id.as_str());
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for e in &stored {
        if let (EventKind::Message(_), Some(c)) = (&e.kind, &e.custom_id) {
            *counts.entry(c.clone()).or_default() += 1;
        }
    }
    let lost = sent.iter().filter(|id| !counts.contains_key(*id)).count();
    let duplicated = counts.values().filter(|c| **c > 1).count();
    let p50 = pct(&mut reconnects.clone(), 0.5);
    let p99 = pct(&mut reconnects.clone(), 0.99);
    let fail_p99 = pct(&mut resolve_after_drop.clone(), 0.99);
    let report = serde_json::json!({
        "cycles": cycles,
        "modes": {"mid_request": modes[0], "mid_upload": modes[1], "between_frames": modes[2]},
        "messages_sent": sent.len(),
        "acknowledged": acked,
        "lost": lost,
        "duplicated": duplicated,
        "requests_failed_by_drop": errors,
        "hanging": hanging,
        "failed_request_resolution_p99_ms": fail_p99.as_secs_f64() * 1000.0,
        "reconnect_p50_ms": p50.as_secs_f64() * 1000.0,
        "reconnect_p99_ms": p99.as_secs_f64() * 1000.0,
        "seconds": started.elapsed().as_secs_f64(),
    });
    if a.json {
        println!("{report}");
    } else {
        println!(
            "chaos soak: {cycles} cycles ({} mid-request, {} mid-upload, {} between frames) in {:.1} s",
            modes[0],
            modes[1],
            modes[2],
            started.elapsed().as_secs_f64()
        );
        println!("  messages sent          {}", sent.len());
        println!("  acknowledged           {acked}");
        println!("  lost                   {lost}   (target 0)");
        println!("  duplicated             {duplicated}   (target 0)");
        println!(
            "  hanging requests       {hanging}   (target 0; failed requests resolved within {:.1} ms of the drop at p99)",
            fail_p99.as_secs_f64() * 1000.0
        );
        println!("  requests failed by the drop: {errors:?}");
        println!(
            "  reconnect time         p50 {:.1} ms, p99 {:.1} ms",
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        );
    }
    sdk.destroy().await;
    if let Ok(server) = Arc::try_unwrap(server) {
        server.shutdown().await;
    }
    Ok(lost == 0 && duplicated == 0 && hanging == 0 && acked == sent.len())
}

/// Waits for `Connected` (or `ConnectionRestored` when `restored`), at most 10 s.
async fn wait_for(
    events: &mut chatio_customer_sdk::Events,
    restored: bool,
) -> Result<bool, async_std::future::TimeoutError> {
    let fut = async move {
        while let Some(e) = events.next().await {
            match e {
                SdkEvent::Connected { .. } if !restored => return true,
                SdkEvent::ConnectionRestored { .. } if restored => return true,
                _ => {}
            }
        }
        false
    };
    async_std::future::timeout(Duration::from_secs(10), fut).await
}

fn timed<F: std::future::Future>(
    f: F,
) -> impl std::future::Future<Output = Result<F::Output, async_std::future::TimeoutError>> {
    async_std::future::timeout(Duration::from_secs(15), f)
}

fn kind(e: &Error) -> String {
    match e {
        Error::ConnectionLost => "connection_lost".into(),
        Error::Transport(t) if t.operation() == chatio_customer_sdk::Operation::Upload => "upload".into(),
        Error::Timeout => "timeout".into(),
        other => other.to_string(),
    }
}
