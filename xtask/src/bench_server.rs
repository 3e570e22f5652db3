//! `cargo xtask bench server`: the load benchmark of the reference server.
//!
//! Two processes on loopback, so that the server's memory can be read from
//! `/proc/<pid>/status` without the load generator in it:
//!
//! * the release `chatio-server` binary (`--no-agent`, 2 worker threads);
//! * the load generator: this xtask, built in release and started as
//!   `xtask bench server --load <scenario> ...`, on its own 2-thread tokio runtime. It speaks
//!   websocket with the load tools' raw client ([`crate::load::ws`]: unfragmented text frames,
//!   a zero mask key, no JSON parsing on the hot path) so that it costs the shared CPUs as
//!   little as possible.
//!
//! Scenarios, each against a fresh server:
//!
//! 1. `idle`: N customers (tokens from the token endpoint), one logged-in websocket session
//!    each, idle; the server's RSS before the tokens, after them and with every session
//!    open gives the memory per session; then every session answers a `ping`.
//! 2. `throughput`: 100 sessions, each with a chat, pipelining `send_event` (a window of 32
//!    requests in flight each) for a fixed time: responses per second (each request also
//!    makes the server write its `incoming_event` push).
//! 3. `latency`: M sessions, each sending one `send_event` every P ms (open loop, random
//!    phase): request → response round trip percentiles, dropped connections, missing
//!    answers. Run with 1 000 sessions at 1/s and at 10/s, and 10 000 sessions at 1/s.
//!
//! The two processes talk over the load generator's stdin/stdout ([`crate::load::generator`]);
//! at each stage the orchestrator samples the server's RSS and CPU time. Every phase is
//! bounded in time; a watchdog kills both processes if a scenario overruns.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow, bail};

use crate::load::orchestrator::{ServerProcess, build_server_and_generator, cpu_secs, rss_kib, run_generator};

/// Entry point of `cargo xtask bench server [options]` (and of the load generator).
pub fn main(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("--load") {
        return generator::main(args.get(1..).unwrap_or_default());
    }
    orchestrate(args)
}

/// What to run.
struct Plan {
    sessions: usize,
    throughput_conns: usize,
    window: usize,
    throughput_secs: u64,
    latency_secs: u64,
    soak_secs: u64,
    /// Whether the server keeps its data in SQLite (`--data` in a fresh temporary
    /// directory per scenario) instead of memory.
    sqlite: bool,
}

impl Plan {
    fn parse(args: &[String]) -> Result<Plan> {
        let mut p = Plan {
            sessions: 10_000,
            throughput_conns: 100,
            window: 32,
            throughput_secs: 10,
            latency_secs: 10,
            soak_secs: 20,
            sqlite: false,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |name: &str| -> Result<u64> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| anyhow!("{name} needs a number"))
            };
            match a.as_str() {
                "--quick" => {
                    p.sessions = 2_000;
                    p.throughput_secs = 3;
                    p.latency_secs = 3;
                    p.soak_secs = 5;
                }
                "--sessions" => p.sessions = num("--sessions")? as usize,
                "--secs" => {
                    let s = num("--secs")?;
                    p.throughput_secs = s;
                    p.latency_secs = s;
                    p.soak_secs = s * 2;
                }
                "--window" => p.window = num("--window")? as usize,
                "--sqlite" => p.sqlite = true,
                "-h" | "--help" => {
                    println!(
                        "cargo xtask bench server [--quick] [--sessions N] [--secs S] [--window W]\n\n\
                         Load benchmark of chatio-server on loopback (release builds, two processes).\n\
                         --quick      2 000 sessions, 3 s phases\n\
                         --sessions   idle sessions and the large latency run (default 10 000)\n\
                         --secs       length of the throughput and 1 000-session phases (default 10; the\n\
                         \x20            large latency run lasts twice as long)\n\
                         --window     requests in flight per connection in the throughput run (default 32)\n\
                         --sqlite     the server keeps its data in SQLite (a fresh --data directory per\n\
                         \x20            scenario) instead of memory"
                    );
                    std::process::exit(0);
                }
                other => bail!("unknown option `{other}` (see --help)"),
            }
        }
        Ok(p)
    }
}

/// A sample taken at a stage.
#[derive(Clone, Copy, Debug)]
struct Sample {
    rss_kib: u64,
    cpu_s: f64,
    at: Instant,
}

/// What one scenario produced.
#[derive(Debug, Default)]
struct Outcome {
    stages: BTreeMap<String, Sample>,
    results: crate::load::orchestrator::Results,
}

impl Outcome {
    fn num(&self, key: &str) -> f64 {
        self.results.num(key)
    }

    fn get(&self, key: &str) -> String {
        self.results.get(key)
    }

    fn stage(&self, name: &str) -> Result<Sample> {
        self.stages.get(name).copied().ok_or_else(|| anyhow!("no `{name}` stage"))
    }
}

/// A fresh data directory for a SQLite server, removed when dropped.
struct DataDir(std::path::PathBuf);

impl DataDir {
    fn new() -> Self {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Self(std::env::temp_dir().join(format!("chatio-bench-{}-{n}", std::process::id())))
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs one scenario: a fresh server, the load generator, samples at each stage.
fn scenario(load_args: &[&str], limit: Duration, sqlite: bool) -> Result<Outcome> {
    let data = sqlite.then(DataDir::new);
    let data_dir = data.as_ref().map(|d| d.0.display().to_string());
    let mut server_args = vec![
        "--listen",
        "127.0.0.1:0",
        "--no-agent",
        "--idle-timeout-s",
        "3600",
        "--max-connections-per-customer",
        "10",
        "--workers",
        "2",
        // Every session's token comes from this one address: lift the per-address rate.
        "--token-rate",
        "1000000",
        "--token-burst",
        "1000000",
    ];
    match &data_dir {
        Some(dir) => server_args.extend(["--data", dir.as_str()]),
        None => server_args.push("--memory"),
    }
    let server = ServerProcess::start(&server_args)?;
    let mut args = vec!["bench", "server", "--load"];
    args.extend(load_args);
    args.extend(["--url", &server.url]);
    let mut stages = BTreeMap::new();
    let results = run_generator(&args, limit, &[server.pid], |stage| {
        let s = Sample { rss_kib: rss_kib(server.pid)?, cpu_s: cpu_secs(server.pid)?, at: Instant::now() };
        eprintln!("  {stage:<10} server RSS {:>8} KiB", s.rss_kib);
        stages.insert(stage.to_owned(), s);
        Ok(())
    })?;
    Ok(Outcome { stages, results })
}

fn orchestrate(args: &[String]) -> Result<()> {
    let plan = Plan::parse(args)?;
    build_server_and_generator()?;
    let mut report = Vec::new();

    eprintln!("== idle sessions: {}", plan.sessions);
    let o = scenario(&["idle", "--sessions", &plan.sessions.to_string()], Duration::from_secs(300), plan.sqlite)?;
    let (base, tokens, open, pinged) =
        (o.stage("baseline")?, o.stage("tokens")?, o.stage("sessions")?, o.stage("pinged")?);
    let n = plan.sessions as f64;
    let per = (open.rss_kib.saturating_sub(base.rss_kib)) as f64 / n;
    let per_pinged = (pinged.rss_kib.saturating_sub(base.rss_kib)) as f64 / n;
    let per_conn = (open.rss_kib.saturating_sub(tokens.rss_kib)) as f64 / n;
    report.push(format!(
        "| idle sessions | {} logged-in sessions ({} answered a ping) | RSS {} KiB → {} KiB with tokens → {} KiB with sessions → {} KiB after the pings: **{per:.1} KiB per session** ({per_conn:.1} KiB for the connection alone, {per_pinged:.1} KiB after a ping each) | ≤ 16 KiB |",
        plan.sessions,
        o.get("alive"),
        base.rss_kib,
        tokens.rss_kib,
        open.rss_kib,
        pinged.rss_kib
    ));

    eprintln!("== throughput: {} connections, window {}", plan.throughput_conns, plan.window);
    let o = scenario(
        &[
            "throughput",
            "--conns",
            &plan.throughput_conns.to_string(),
            "--window",
            &plan.window.to_string(),
            "--secs",
            &plan.throughput_secs.to_string(),
        ],
        Duration::from_secs(120 + plan.throughput_secs),
        plan.sqlite,
    )?;
    let (start, end) = (o.stage("start")?, o.stage("end")?);
    let secs = end.at.duration_since(start.at).as_secs_f64();
    let rate = o.num("responses") / o.num("secs");
    let cpu = (end.cpu_s - start.cpu_s) / secs;
    report.push(format!(
        "| send_event throughput | {} connections, {} requests in flight each, {:.0} s | **{rate:.0} responses/s** (plus as many `incoming_event` pushes; {:.0} frames/s written by the server), server CPU {cpu:.2} cores, errors {} | ≥ 90 000/s |",
        plan.throughput_conns,
        plan.window,
        o.num("secs"),
        rate * 2.0,
        o.get("errors")
    ));

    for (sessions, period_ms, secs, target) in [
        (1_000usize, 1_000u64, plan.latency_secs, "p99 ≤ 2 ms"),
        (1_000, 100, plan.latency_secs, "(extra: 10 messages/s each)"),
        (plan.sessions, 1_000, plan.soak_secs, "p99 ≤ 10 ms, no drop"),
    ] {
        eprintln!("== latency: {sessions} sessions, one message every {period_ms} ms");
        let o = scenario(
            &[
                "latency",
                "--sessions",
                &sessions.to_string(),
                "--period-ms",
                &period_ms.to_string(),
                "--secs",
                &secs.to_string(),
            ],
            Duration::from_secs(240 + secs),
            plan.sqlite,
        )?;
        let (start, end) = (o.stage("start")?, o.stage("end")?);
        let cpu = (end.cpu_s - start.cpu_s) / end.at.duration_since(start.at).as_secs_f64();
        report.push(format!(
            "| round trip | {sessions} sessions × 1 message / {period_ms} ms, {secs} s ({:.0} requests) | p50 **{:.2} ms**, p90 {:.2} ms, p99 **{:.2} ms**, p99.9 {:.2} ms, max {:.2} ms; dropped connections {}, unanswered {}; server CPU {cpu:.2} cores | {target} |",
            o.num("count"),
            o.num("p50_us") / 1000.0,
            o.num("p90_us") / 1000.0,
            o.num("p99_us") / 1000.0,
            o.num("p999_us") / 1000.0,
            o.num("max_us") / 1000.0,
            o.get("dropped"),
            o.get("unanswered"),
        ));
    }

    println!("\n| measure | load | result | target |\n|---|---|---|---|");
    for r in report {
        println!("{r}");
    }
    Ok(())
}

/// The load generator (runs in its own process).
mod generator {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, Result, bail};
    use tokio::sync::Semaphore;

    use crate::load::generator::{Opts, log, percentile, result, runtime, stage};
    use crate::load::http::tokens;
    use crate::load::ws::{TEXT, WAIT, Ws, contains, is_response, is_response_to};

    /// Connection setups in flight at once.
    const SETUP_CONCURRENCY: usize = 100;

    pub(super) fn main(args: &[String]) -> Result<()> {
        let scenario = args.first().cloned().context("which scenario?")?;
        let opts = Opts::parse(args.get(1..).unwrap_or_default())?;
        let addr = opts.addr()?;
        runtime()?.block_on(async {
            match scenario.as_str() {
                "idle" => idle(&addr, opts.num("sessions")? as usize).await,
                "throughput" => {
                    throughput(&addr, opts.num("conns")? as usize, opts.num("window")? as usize, opts.num("secs")?)
                        .await
                }
                "latency" => {
                    latency(&addr, opts.num("sessions")? as usize, opts.num("period-ms")?, opts.num("secs")?).await
                }
                other => bail!("unknown scenario `{other}`"),
            }
        })
    }

    /// A logged-in session, optionally with a chat of its own.
    struct Session {
        ws: Ws,
        chat: Option<String>,
    }

    async fn open(addr: &str, token: &str, with_chat: bool) -> Result<Session> {
        let mut ws = Ws::connect(addr).await?;
        ws.login(token).await?;
        let chat = if with_chat { Some(ws.start_chat().await?.0) } else { None };
        Ok(Session { ws, chat })
    }

    /// Opens `tokens.len()` sessions, a bounded number of setups at a time.
    async fn open_all(addr: &str, tokens: Vec<String>, with_chat: bool) -> Result<Vec<Session>> {
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, token) in tokens.into_iter().enumerate() {
            let gate = gate.clone();
            let addr = addr.to_owned();
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                open(&addr, &token, with_chat).await.map(|s| (i, s))
            });
        }
        let mut sessions = Vec::new();
        while let Some(r) = tasks.join_next().await {
            sessions.push(r.context("a setup task panicked")??);
        }
        sessions.sort_by_key(|(i, _)| *i);
        Ok(sessions.into_iter().map(|(_, s)| s).collect())
    }

    async fn idle(addr: &str, n: usize) -> Result<()> {
        stage("baseline")?;
        let t0 = Instant::now();
        let tokens = tokens(addr, n).await?;
        log(&format!("{n} tokens in {:.1} s", t0.elapsed().as_secs_f64()));
        stage("tokens")?;
        let t0 = Instant::now();
        let sessions = open_all(addr, tokens, false).await?;
        log(&format!("{} sessions logged in in {:.1} s", sessions.len(), t0.elapsed().as_secs_f64()));
        tokio::time::sleep(Duration::from_secs(1)).await;
        stage("sessions")?;
        // Every session still answers.
        let mut tasks = tokio::task::JoinSet::new();
        for mut s in sessions {
            tasks.spawn(async move { s.ws.request("p", r#"{"request_id":"p","action":"ping"}"#).await.map(|_| s) });
        }
        let mut alive = Vec::new();
        while let Some(r) = tasks.join_next().await {
            if let Ok(Ok(s)) = r {
                alive.push(s);
            }
        }
        result("alive", alive.len());
        stage("pinged")?;
        drop(alive);
        Ok(())
    }

    async fn throughput(addr: &str, conns: usize, window: usize, secs: u64) -> Result<()> {
        let tokens = tokens(addr, conns).await?;
        let sessions = open_all(addr, tokens, true).await?;
        stage("start")?;
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut tasks = tokio::task::JoinSet::new();
        for mut s in sessions {
            let chat = s.chat.take().unwrap_or_default();
            tasks.spawn(async move {
                let frame = |n: u64| {
                    format!(
                        r#"{{"request_id":"{n}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"hello, this is the load generator"}}}}}}"#
                    )
                };
                let mut next = 0u64;
                let mut out = Vec::new();
                for _ in 0..window {
                    Ws::encode(&mut out, frame(next).as_bytes());
                    next += 1;
                }
                s.ws.send_raw(&out).await?;
                let mut responses = 0u64;
                let mut in_flight = window as u64;
                while tokio::time::Instant::now() < deadline || in_flight > 0 {
                    let until = deadline.max(tokio::time::Instant::now()) + WAIT;
                    tokio::time::timeout_at(until, s.ws.fill()).await.context("timed out")??;
                    let mut done = 0;
                    while let Some(f) = s.ws.frame()? {
                        if f.opcode == TEXT && is_response(f.payload) {
                            done += 1;
                        }
                    }
                    responses += done;
                    in_flight -= done;
                    if done > 0 && tokio::time::Instant::now() < deadline {
                        out.clear();
                        for _ in 0..done {
                            Ws::encode(&mut out, frame(next).as_bytes());
                            next += 1;
                        }
                        in_flight += done;
                        s.ws.send_raw(&out).await?;
                    }
                }
                anyhow::Ok(responses)
            });
        }
        let mut total = 0;
        let mut errors = 0;
        while let Some(r) = tasks.join_next().await {
            match r.context("a connection task panicked")? {
                Ok(n) => total += n,
                Err(e) => {
                    errors += 1;
                    log(&format!("connection failed: {e:#}"));
                }
            }
        }
        let elapsed = started.elapsed().as_secs_f64();
        stage("end")?;
        result("responses", total);
        result("secs", format!("{elapsed:.3}"));
        result("errors", errors);
        Ok(())
    }

    async fn latency(addr: &str, n: usize, period_ms: u64, secs: u64) -> Result<()> {
        let tokens = tokens(addr, n).await?;
        let t0 = Instant::now();
        let sessions = open_all(addr, tokens, true).await?;
        log(&format!("{} sessions with a chat each in {:.1} s", sessions.len(), t0.elapsed().as_secs_f64()));
        stage("start")?;
        let period = Duration::from_millis(period_ms);
        let begin = tokio::time::Instant::now() + Duration::from_millis(100);
        let end = begin + Duration::from_secs(secs);
        let mut tasks = tokio::task::JoinSet::new();
        for (i, mut s) in sessions.into_iter().enumerate() {
            let chat = s.chat.take().unwrap_or_default();
            // Phases spread evenly over the period.
            let phase = period.mul_f64((i as f64 * 0.618_033_988_75).fract());
            tasks.spawn(async move {
                let mut lat = Vec::with_capacity((secs * 1000 / period_ms.max(1)) as usize + 1);
                let mut at = begin + phase;
                let mut n = 0u64;
                while at < end {
                    tokio::time::sleep_until(at).await;
                    let id = format!("m{n}");
                    let frame = format!(
                        r#"{{"request_id":"{id}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"ping from session {i}"}}}}}}"#
                    );
                    let sent = Instant::now();
                    let got = match s.ws.send(&frame).await {
                        Ok(()) => s.ws.wait_for(|p| is_response_to(p, id.as_bytes()), |_| {}).await,
                        Err(e) => Err(e),
                    };
                    let got = match got {
                        Ok(got) => got,
                        Err(e) => return Err((e, lat)),
                    };
                    lat.push(sent.elapsed().as_micros() as u32);
                    if !contains(&got, b"\"success\":true") {
                        return Err((anyhow::anyhow!("failed: {}", String::from_utf8_lossy(&got)), lat));
                    }
                    n += 1;
                    at += period;
                }
                Ok((lat, s))
            });
        }
        let mut all = Vec::new();
        let mut dropped = 0;
        let mut kept = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r.context("a session task panicked")? {
                Ok((lat, s)) => {
                    all.extend(lat);
                    kept.push(s);
                }
                Err((e, lat)) => {
                    dropped += 1;
                    all.extend(lat);
                    if dropped <= 5 {
                        log(&format!("session failed: {e:#}"));
                    }
                }
            }
        }
        stage("end")?;
        // Every session that finished is still connected: one more request each proves it.
        let mut tasks = tokio::task::JoinSet::new();
        for mut s in kept {
            tasks.spawn(async move { s.ws.request("last", r#"{"request_id":"last","action":"ping"}"#).await.is_ok() });
        }
        let mut unanswered = 0;
        while let Some(r) = tasks.join_next().await {
            if !r.unwrap_or(false) {
                unanswered += 1;
            }
        }
        all.sort_unstable();
        result("count", all.len());
        result("p50_us", percentile(&all, 0.50));
        result("p90_us", percentile(&all, 0.90));
        result("p99_us", percentile(&all, 0.99));
        result("p999_us", percentile(&all, 0.999));
        result("max_us", all.last().copied().unwrap_or(0));
        result("dropped", dropped);
        result("unanswered", unanswered);
        Ok(())
    }
}
