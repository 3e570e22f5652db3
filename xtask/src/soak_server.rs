//! `cargo xtask soak --server`: the reference server under hostile and slow clients, for
//! minutes (issue 14).
//!
//! Two processes on loopback, as in `bench server`: the release `chatio-server` binary and a
//! load generator (this xtask, `xtask soak --server --load ...`, 2 tokio threads). The load:
//!
//! * well-behaved sessions (90 % by default): one chat each, one `send_event` a second; each
//!   message's response and its `incoming_event` push are counted, the round trip to the
//!   response is timed;
//! * stalled readers (5 %): log in, start a chat of 4 × 16 000 characters (once), then ask
//!   for that thread (`get_chat_threads`, a ~65 kB answer) every 500 ms and never read (4 KiB
//!   receive buffer); when the server ends the connection they log in again and go on;
//! * slow-body clients (5 %): `POST /customer/` (the token endpoint) announcing a 1 MiB body, one byte
//!   every 5 s; when the server ends the connection they start over.
//!
//! Two runs against fresh servers: a clean one (the well-behaved sessions alone, shorter)
//! and the hostile one. The orchestrator samples the server's RSS every 10 s and prints the
//! curve, the message counts (lost = sent − answered, and sent − pushes seen) and the p99 of
//! both runs.

use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail, ensure};

use crate::load::orchestrator::{
    Results, Sampler, ServerProcess, build_server_and_generator, cpu_secs, rss_kib, run_generator,
};

/// What to run.
struct Plan {
    sessions: usize,
    secs: u64,
    clean_secs: u64,
    stalled_pct: usize,
    slow_pct: usize,
}

impl Plan {
    fn parse(args: &[String]) -> Result<Plan> {
        let mut p = Plan { sessions: 2_000, secs: 300, clean_secs: 0, stalled_pct: 5, slow_pct: 5 };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |name: &str| -> Result<u64> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| anyhow!("{name} needs a number"))
            };
            match a.as_str() {
                "--sessions" => p.sessions = num("--sessions")? as usize,
                "--secs" => p.secs = num("--secs")?,
                "--clean-secs" => p.clean_secs = num("--clean-secs")?,
                "--stalled-pct" => p.stalled_pct = num("--stalled-pct")? as usize,
                "--slow-body-pct" => p.slow_pct = num("--slow-body-pct")? as usize,
                "-h" | "--help" => {
                    println!(
                        "cargo xtask soak --server [--sessions N] [--secs S] [--clean-secs S] [--stalled-pct P] [--slow-body-pct P]\n\
                         cargo xtask soak --attacks   (each attack of issues 14 and 21 once, an honest customer beside: the attack table)\n\n\
                         The reference server under hostile clients (release builds, two processes, loopback).\n\
                         --sessions       all sessions together (default 2 000)\n\
                         --secs           length of the hostile run (default 300)\n\
                         --clean-secs     length of the clean run (default: min(secs, 60))\n\
                         --stalled-pct    share of stalled readers (default 5)\n\
                         --slow-body-pct  share of slow-body HTTP clients (default 5)"
                    );
                    std::process::exit(0);
                }
                other => bail!("unknown option `{other}` (see --help)"),
            }
        }
        if p.clean_secs == 0 {
            p.clean_secs = p.secs.min(60);
        }
        ensure!(p.stalled_pct + p.slow_pct <= 100, "--stalled-pct and --slow-body-pct add up to more than 100");
        Ok(p)
    }
}

/// Entry point of `cargo xtask soak --server [options]` (and of its load generators).
pub fn main(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("--load") {
        return generator::main(args.get(1..).unwrap_or_default());
    }
    if args.first().map(String::as_str) == Some("--load-attacks") {
        return crate::soak_attacks::load(args.get(1..).unwrap_or_default());
    }
    if args.iter().any(|a| a == "--attacks") {
        build_server_and_generator()?;
        return crate::soak_attacks::orchestrate();
    }
    let plan = Plan::parse(args)?;
    build_server_and_generator()?;
    let stalled = plan.sessions * plan.stalled_pct / 100;
    let slow = plan.sessions * plan.slow_pct / 100;
    let good = plan.sessions - stalled - slow;
    eprintln!("== clean run: {good} sessions, {} s", plan.clean_secs);
    let clean = run(good, 0, 0, plan.clean_secs)?;
    eprintln!(
        "== hostile run: {good} sessions + {stalled} stalled readers + {slow} slow-body clients, {} s",
        plan.secs
    );
    let hostile = run(good, stalled, slow, plan.secs)?;
    println!(
        "\n| run | load | sent | answered | pushes | lost | dropped | p50 | p99 | max | RSS start → end (max) | server CPU |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, r) in [("clean", &clean), ("hostile", &hostile)] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {:.2} ms | **{:.2} ms** | {:.1} ms | {} → {} KiB ({}) | {:.2} cores |",
            r.results.get("load"),
            r.results.get("sent"),
            r.results.get("answered"),
            r.results.get("pushes"),
            r.results.get("lost"),
            r.results.get("dropped"),
            r.results.num("p50_us") / 1000.0,
            r.results.num("p99_us") / 1000.0,
            r.results.num("max_us") / 1000.0,
            r.rss_start,
            r.rss_end,
            r.rss_max,
            r.cpu,
        );
    }
    println!(
        "\np99 hostile / clean: {:.2}×; stalled readers reconnected {} times (each reconnect = a connection the server ended), slow-body requests ended by the server: {}",
        hostile.results.num("p99_us") / clean.results.num("p99_us"),
        hostile.results.get("stalled_reconnects"),
        hostile.results.get("slow_closed"),
    );
    println!("\nRSS curve of the hostile run (seconds since the load started, KiB):\n");
    println!("| s | RSS KiB |\n|---|---|");
    for (t, kib) in &hostile.curve {
        println!("| {t} | {kib} |");
    }
    Ok(())
}

/// What one run produced.
#[derive(Default)]
struct Run {
    results: Results,
    curve: Vec<(u64, u64)>,
    rss_start: u64,
    rss_end: u64,
    rss_max: u64,
    cpu: f64,
}

fn run(good: usize, stalled: usize, slow: usize, secs: u64) -> Result<Run> {
    let mut server = ServerProcess::start(&[
        "--listen",
        "127.0.0.1:0",
        "--memory",
        "--no-agent",
        "--workers",
        "2",
        "--max-connections",
        "10000",
        "--max-connections-per-address",
        "10000",
        // The soak's clients all come from loopback: lift the per-address token rate.
        "--token-rate",
        "1000000",
        "--token-burst",
        "1000000",
    ])?;
    let pid = server.pid;
    let (good_s, stalled_s, slow_s, secs_s) =
        (good.to_string(), stalled.to_string(), slow.to_string(), secs.to_string());
    let args = [
        "soak",
        "--server",
        "--load",
        "--url",
        &server.url,
        "--good",
        &good_s,
        "--stalled",
        &stalled_s,
        "--slow",
        &slow_s,
        "--secs",
        &secs_s,
    ];
    let mut r = Run::default();
    // The server's RSS every 10 s from the start of the load.
    let mut sampler = None;
    let mut cpu_start = (0.0, Instant::now());
    let results = run_generator(&args, Duration::from_secs(secs + 300), &[pid], |stage| {
        let kib = rss_kib(pid)?;
        eprintln!("  {stage:<8} server RSS {kib:>8} KiB");
        match stage {
            "start" => {
                r.rss_start = kib;
                cpu_start = (cpu_secs(pid)?, Instant::now());
                sampler = Some(Sampler::start(pid, Duration::from_secs(10)));
            }
            "end" => {
                r.rss_end = kib;
                r.cpu = (cpu_secs(pid)? - cpu_start.0) / cpu_start.1.elapsed().as_secs_f64();
            }
            _ => {}
        }
        Ok(())
    });
    let t0 = cpu_start.1;
    if let Some(s) = sampler {
        r.curve = s.finish().into_iter().map(|(t, kib)| (t.duration_since(t0).as_secs(), kib)).collect();
    }
    let alive = server.is_alive();
    drop(server);
    r.results = results?;
    r.rss_max = r.curve.iter().map(|(_, k)| *k).max().unwrap_or(0).max(r.rss_end);
    r.results.insert("server_alive", alive.to_string());
    r.results.insert("load", format!("{good} good, {stalled} stalled, {slow} slow-body, {secs} s"));
    ensure!(alive, "the server died during the run");
    Ok(r)
}

/// The load generator (its own process).
mod generator {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, Result};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::Semaphore;

    use crate::load::generator::{Opts, log, percentile, result, runtime, stage};
    use crate::load::http::token;
    use crate::load::ws::{Connect, Ws, contains, is_push};

    pub(super) fn main(args: &[String]) -> Result<()> {
        let o = Opts::parse(args)?;
        let addr = o.addr()?;
        let (good, stalled, slow, secs) = (o.num("good")?, o.num("stalled")?, o.num("slow")?, o.num("secs")?);
        runtime()?.block_on(soak(&addr, good as usize, stalled as usize, slow as usize, secs))
    }

    /// Counts the `incoming_event` pushes among the frames passed over.
    fn count_pushes(pushes: &mut u64) -> impl FnMut(&[u8]) + '_ {
        |p| *pushes += u64::from(is_push(p, "incoming_event"))
    }

    /// Connects and logs in with `t`, then starts a chat when asked: (websocket, chat id,
    /// thread id; empty without a chat).
    async fn login(addr: &str, t: &str, recv_buffer: Option<u32>, chat: bool) -> Result<(Ws, String, String)> {
        let mut ws = Ws::connect_with(addr, Connect { recv_buffer, ..Connect::default() }).await?;
        ws.login(t).await?;
        if !chat {
            return Ok((ws, String::new(), String::new()));
        }
        let (chat, thread) = ws.start_chat().await?;
        Ok((ws, chat, thread))
    }

    /// A new customer's connection, logged in, with a chat: (websocket, chat id).
    async fn session(addr: &str) -> Result<(Ws, String)> {
        let t = token(addr).await?;
        let (ws, chat, _) = login(addr, &t, None, true).await?;
        Ok((ws, chat))
    }

    #[derive(Default)]
    struct Counts {
        stalled_reconnects: AtomicU64,
        slow_closed: AtomicU64,
    }

    /// A stalled reader until `end`: 4 KiB a second, never a read; starts over when the
    /// server ends the connection.
    async fn stalled(addr: String, end: tokio::time::Instant, counts: Arc<Counts>) {
        // One customer and one chat of 4 × 16 000 characters, made once (so the stored data
        // does not grow with the attack), then a `get_chat_threads` of it (~65 kB answer)
        // every 500 ms that is never read, again on every new connection.
        let Ok(token) = token(&addr).await else { return };
        let Ok((mut ws, chat, thread)) = login(&addr, &token, Some(4096), true).await else { return };
        let text = "s".repeat(16_000);
        let mut pushes = 0;
        for i in 0..4 {
            let f = format!(
                r#"{{"request_id":"f{i}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"{text}"}}}}}}"#
            );
            if ws.send(&f).await.is_err() || ws.response(&format!("f{i}"), count_pushes(&mut pushes)).await.is_err() {
                return;
            }
        }
        let ask = format!(
            r#"{{"request_id":"t","action":"get_chat_threads","payload":{{"chat_id":"{chat}","thread_ids":["{thread}"]}}}}"#
        );
        while tokio::time::Instant::now() < end {
            loop {
                if tokio::time::Instant::now() >= end {
                    return;
                }
                match tokio::time::timeout(Duration::from_secs(5), ws.send(&ask)).await {
                    Ok(Ok(())) => tokio::time::sleep(Duration::from_millis(500)).await,
                    // A write error: the server ended the connection. A write blocked 5 s: the
                    // server stopped reading; a zero-length or failed read then says it is gone.
                    Ok(Err(_)) => break,
                    Err(_) => {
                        let mut b = [0u8; 1];
                        if let Ok(Ok(0) | Err(_)) =
                            tokio::time::timeout(Duration::from_millis(10), ws.stream_mut().read(&mut b)).await
                        {
                            break;
                        }
                    }
                }
            }
            counts.stalled_reconnects.fetch_add(1, Ordering::Relaxed);
            loop {
                if tokio::time::Instant::now() >= end {
                    return;
                }
                match login(&addr, &token, Some(4096), false).await {
                    Ok((w, _, _)) => {
                        ws = w;
                        break;
                    }
                    Err(_) => tokio::time::sleep(Duration::from_secs(1)).await,
                }
            }
        }
    }

    /// A slow-body client until `end`: a 1 MiB body announced, one byte every 5 s.
    async fn slow_body(addr: String, end: tokio::time::Instant, counts: Arc<Counts>) {
        while tokio::time::Instant::now() < end {
            let Ok(mut s) = TcpStream::connect(&addr).await else {
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            };
            // The token endpoint reads the body before anything else, unauthenticated.
            let head = format!(
                "POST /customer/ HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1048576\r\n\r\n"
            );
            if s.write_all(head.as_bytes()).await.is_err() {
                continue;
            }
            loop {
                if tokio::time::Instant::now() >= end {
                    return;
                }
                let mut b = [0u8; 256];
                match tokio::time::timeout(Duration::from_secs(5), s.read(&mut b)).await {
                    // The server answered or closed: it ended the request.
                    Ok(_) => {
                        counts.slow_closed.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Err(_) => {
                        if s.write_all(b" ").await.is_err() {
                            counts.slow_closed.fetch_add(1, Ordering::Relaxed);
                            break;
                        }
                    }
                }
            }
        }
    }

    struct Good {
        lat: Vec<u32>,
        sent: u64,
        answered: u64,
        pushes: u64,
        error: Option<String>,
    }

    async fn good(mut ws: Ws, chat: String, i: usize, begin: tokio::time::Instant, end: tokio::time::Instant) -> Good {
        let mut g = Good { lat: Vec::new(), sent: 0, answered: 0, pushes: 0, error: None };
        let phase = Duration::from_millis(((i as f64 * 0.618_033_988_75).fract() * 1000.0) as u64);
        let mut at = begin + phase;
        while at < end {
            tokio::time::sleep_until(at).await;
            let id = format!("m{}", g.sent);
            let frame = format!(
                r#"{{"request_id":"{id}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"message {} of session {i}"}}}}}}"#,
                g.sent
            );
            let sent = Instant::now();
            if let Err(e) = ws.send(&frame).await {
                g.error = Some(format!("{e:#}"));
                return g;
            }
            g.sent += 1;
            match ws.response(&id, count_pushes(&mut g.pushes)).await {
                Ok(r) if contains(&r, b"\"success\":true") => {
                    g.answered += 1;
                    g.lat.push(sent.elapsed().as_micros() as u32);
                }
                Ok(r) => {
                    g.error = Some(format!("failed: {}", String::from_utf8_lossy(&r)));
                    return g;
                }
                Err(e) => {
                    g.error = Some(format!("{e:#}"));
                    return g;
                }
            }
            at += Duration::from_secs(1);
        }
        // The last pushes: a ping's response comes after them.
        let _ = ws.send(r#"{"request_id":"last","action":"ping"}"#).await;
        if let Err(e) = ws.response("last", count_pushes(&mut g.pushes)).await {
            g.error = Some(format!("{e:#}"));
        }
        g
    }

    async fn soak(addr: &str, n_good: usize, n_stalled: usize, n_slow: usize, secs: u64) -> Result<()> {
        let t0 = Instant::now();
        let gate = Arc::new(Semaphore::new(100));
        let mut setups = tokio::task::JoinSet::new();
        for i in 0..n_good {
            let (gate, addr) = (gate.clone(), addr.to_owned());
            setups.spawn(async move {
                let _p = gate.acquire_owned().await?;
                session(&addr).await.map(|s| (i, s))
            });
        }
        let mut goods = Vec::new();
        while let Some(r) = setups.join_next().await {
            goods.push(r.context("a setup task panicked")??);
        }
        log(&format!("{} well-behaved sessions with a chat each in {:.1} s", goods.len(), t0.elapsed().as_secs_f64()));
        stage("start")?;
        let begin = tokio::time::Instant::now() + Duration::from_millis(200);
        let end = begin + Duration::from_secs(secs);
        let counts = Arc::new(Counts::default());
        let mut attackers = tokio::task::JoinSet::new();
        for _ in 0..n_stalled {
            attackers.spawn(stalled(addr.to_owned(), end, counts.clone()));
        }
        for _ in 0..n_slow {
            attackers.spawn(slow_body(addr.to_owned(), end, counts.clone()));
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, (ws, chat)) in goods {
            tasks.spawn(good(ws, chat, i, begin, end));
        }
        let (mut lat, mut sent, mut answered, mut pushes, mut dropped) = (Vec::new(), 0, 0, 0, 0);
        while let Some(r) = tasks.join_next().await {
            let g = r.context("a session task panicked")?;
            lat.extend(g.lat);
            sent += g.sent;
            answered += g.answered;
            pushes += g.pushes;
            if let Some(e) = g.error {
                dropped += 1;
                if dropped <= 5 {
                    log(&format!("session failed: {e}"));
                }
            }
        }
        stage("end")?;
        attackers.abort_all();
        lat.sort_unstable();
        result("sent", sent);
        result("answered", answered);
        result("pushes", pushes);
        result("lost", sent.saturating_sub(answered).max(sent.saturating_sub(pushes)));
        result("dropped", dropped);
        result("p50_us", percentile(&lat, 0.50));
        result("p99_us", percentile(&lat, 0.99));
        result("max_us", lat.last().copied().unwrap_or(0));
        result("stalled_reconnects", counts.stalled_reconnects.load(Ordering::Relaxed));
        result("slow_closed", counts.slow_closed.load(Ordering::Relaxed));
        Ok(())
    }
}
