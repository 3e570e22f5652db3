//! `cargo xtask bench agent`: the agent side of the reference server under load (issue 23).
//!
//! Two processes on loopback, as `bench server` ([`crate::load`]): the release
//! `chatio-server` binary (`--no-agent`, 2 worker threads, one agent registered with
//! `--agent-token`) and the load generator (this xtask in release, `bench agent --load`).
//!
//! One agent session (Agent API RTM, `/agent/v0.5/rtm/ws`) and N customer sessions, each
//! customer with a chat the agent joined. The agent sends `send_event` messages open loop,
//! one every `--period-ms` per chat (the chats in turn), and each customer's connection
//! times the `incoming_event` of the message meant for it: the round trip **agent sends →
//! customer receives**, p50/p99, per step of N. N grows (250, 500, 1 000, 2 000, … up to
//! `--max-chats`) on the same server, chats added as it goes, until a step breaks the
//! stated limit: p99 above `--p99-limit-ms` (default 100 ms), an agent request refused, a
//! message not received within 10 s, a connection dropped. The last step within it is how
//! many concurrent chats one agent session carried.

use std::time::Duration;

use anyhow::{Result, anyhow, bail};

use crate::load::orchestrator::{ServerProcess, build_server_and_generator, cpu_secs, rss_kib, run_generator};

/// The benchmark agent (its token is fixed: a benchmark, on loopback).
const AGENT: &str = "bench-agent@example.com";
const AGENT_TOKEN: &str = "bench-agent-fixed-token-0123456789";

/// Entry point of `cargo xtask bench agent [options]` (and of its load generator).
pub fn main(args: &[String]) -> Result<()> {
    if args.first().map(String::as_str) == Some("--load") {
        return generator::main(args.get(1..).unwrap_or_default());
    }
    orchestrate(args)
}

/// What to run.
struct Plan {
    max_chats: u64,
    period_ms: u64,
    secs: u64,
    p99_limit_ms: u64,
    sqlite: bool,
}

impl Plan {
    fn parse(args: &[String]) -> Result<Plan> {
        let mut p = Plan { max_chats: 8_000, period_ms: 5_000, secs: 10, p99_limit_ms: 100, sqlite: false };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |name: &str| -> Result<u64> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| anyhow!("{name} needs a number"))
            };
            match a.as_str() {
                "--quick" => {
                    p.max_chats = 1_000;
                    p.secs = 3;
                }
                "--max-chats" => p.max_chats = num("--max-chats")?,
                "--period-ms" => p.period_ms = num("--period-ms")?.max(1),
                "--secs" => p.secs = num("--secs")?.max(1),
                "--p99-limit-ms" => p.p99_limit_ms = num("--p99-limit-ms")?,
                "--sqlite" => p.sqlite = true,
                "-h" | "--help" => {
                    println!(
                        "cargo xtask bench agent [--quick] [--max-chats N] [--period-ms P] [--secs S] [--p99-limit-ms L] [--sqlite]\n\n\
                         One agent session and N customers with a chat each, on loopback (release builds, two\n\
                         processes): the agent sends one message per chat every P ms (default 5 000); each\n\
                         customer times its message from the agent's send (p50/p99). N doubles from 250 up to\n\
                         --max-chats (default 8 000) until p99 > L ms (default 100), an error, a lost message\n\
                         or a dropped connection.\n\
                         --quick      up to 1 000 chats, 3 s per step\n\
                         --secs       length of each step's sending (default 10)\n\
                         --sqlite     the server keeps its data in SQLite (a fresh --data directory)"
                    );
                    std::process::exit(0);
                }
                other => bail!("unknown option `{other}` (see --help)"),
            }
        }
        Ok(p)
    }
}

fn orchestrate(args: &[String]) -> Result<()> {
    let plan = Plan::parse(args)?;
    build_server_and_generator()?;
    let data = std::env::temp_dir().join(format!("chatio-bench-agent-{}", std::process::id()));
    let data_arg = data.display().to_string();
    let agent_token = format!("{AGENT}={AGENT_TOKEN}");
    let mut server_args = vec![
        "--listen",
        "127.0.0.1:0",
        "--no-agent",
        "--idle-timeout-s",
        "3600",
        "--workers",
        "2",
        "--token-rate",
        "1000000",
        "--token-burst",
        "1000000",
        "--max-connections",
        "20000",
        "--max-connections-per-address",
        "20000",
        "--agent-token",
        &agent_token,
    ];
    if plan.sqlite {
        server_args.extend(["--data", data_arg.as_str()]);
    } else {
        server_args.push("--memory");
    }
    let server = ServerProcess::start(&server_args)?;
    let (max, period, secs, limit) =
        (plan.max_chats.to_string(), plan.period_ms.to_string(), plan.secs.to_string(), plan.p99_limit_ms.to_string());
    let args = [
        "bench",
        "agent",
        "--load",
        "--max-chats",
        &max,
        "--period-ms",
        &period,
        "--secs",
        &secs,
        "--p99-limit-ms",
        &limit,
        "--url",
        &server.url,
    ];
    let mut cpu_at = std::collections::BTreeMap::new();
    let results = run_generator(&args, Duration::from_secs(1_800), &[server.pid], |stage| {
        let (rss, cpu) = (rss_kib(server.pid)?, cpu_secs(server.pid)?);
        eprintln!("  {stage:<12} server RSS {rss:>8} KiB");
        cpu_at.insert(stage.to_owned(), (rss, cpu, std::time::Instant::now()));
        Ok(())
    })?;
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
    let store = if plan.sqlite { "SQLite" } else { "memory" };
    println!(
        "\n| chats (one agent session) | messages sent (1 per chat every {} ms) | agent sends → customer receives | errors, lost, dropped | server CPU, RSS |\n|---|---|---|---|---|",
        plan.period_ms
    );
    for step in results.get("steps").split(',').filter(|s| !s.is_empty()) {
        let num = |k: &str| results.num(&format!("{step}.{k}"));
        let cpu = match (cpu_at.get(&format!("send_{step}")), cpu_at.get(&format!("sent_{step}"))) {
            (Some(a), Some(b)) => {
                format!("{:.2} cores, {} KiB", (b.1 - a.1) / b.2.duration_since(a.2).as_secs_f64(), b.0)
            }
            _ => "-".into(),
        };
        println!(
            "| {step} | {:.0} in {:.0} s | p50 **{:.2} ms**, p90 {:.2} ms, p99 **{:.2} ms**, max {:.2} ms | {:.0}, {:.0}, {:.0} | {cpu} |",
            num("sent"),
            num("secs"),
            num("p50_us") / 1000.0,
            num("p90_us") / 1000.0,
            num("p99_us") / 1000.0,
            num("max_us") / 1000.0,
            num("errors"),
            num("lost"),
            num("dropped"),
        );
    }
    println!(
        "\n{store} store; limit p99 ≤ {} ms, no error, nothing lost: one agent session carried **{}** concurrent chats{}",
        plan.p99_limit_ms,
        results.get("carried"),
        match results.get("broken").as_str() {
            "" => format!(" (every step up to --max-chats {} passed)", plan.max_chats),
            b => format!(" (the next step broke it: {b})"),
        }
    );
    Ok(())
}

/// The load generator (runs in its own process).
mod generator {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, Result, bail, ensure};
    use tokio::sync::{Semaphore, watch};

    use super::AGENT_TOKEN;
    use crate::load::generator::{Opts, log, percentile, result, runtime, stage};
    use crate::load::http::tokens;
    use crate::load::ws::{CLOSE, Connect, TEXT, WAIT, Ws, contains, find, is_push, is_response};

    /// Customer setups in flight at once.
    const SETUP_CONCURRENCY: usize = 100;
    /// How long a step waits for its last messages to arrive.
    const DRAIN: Duration = Duration::from_secs(10);

    /// Received messages: (sequence number, microseconds from the agent's send).
    type Received = Arc<Mutex<Vec<(u64, u32)>>>;

    /// When each message was sent, in microseconds since the start (0: not sent).
    struct Clock {
        start: Instant,
        sent: Mutex<Vec<u64>>,
    }

    pub(super) fn main(args: &[String]) -> Result<()> {
        let opts = Opts::parse(args)?;
        let addr = opts.addr()?;
        let (max, period_ms, secs, limit_ms) =
            (opts.num("max-chats")?, opts.num("period-ms")?, opts.num("secs")?, opts.num("p99-limit-ms")?);
        runtime()?.block_on(run(&addr, max, period_ms, secs, limit_ms))
    }

    async fn run(addr: &str, max: u64, period_ms: u64, secs: u64, limit_ms: u64) -> Result<()> {
        let clock = Arc::new(Clock { start: Instant::now(), sent: Mutex::new(Vec::new()) });
        let received: Received = Arc::new(Mutex::new(Vec::new()));
        let dropped = Arc::new(AtomicU64::new(0));
        let (stop_tx, stop) = watch::channel(false);
        let mut agent = Ws::connect_with(addr, Connect { agent: true, ..Connect::default() })
            .await
            .context("the agent connects")?;
        agent.login(AGENT_TOKEN).await.context("the agent logs in")?;
        let mut chats: Vec<String> = Vec::new();
        let mut customers = tokio::task::JoinSet::new();
        let mut steps = Vec::new();
        let mut carried = 0;
        let mut n = 250u64.min(max);
        loop {
            // Grow to n chats, a batch at a time; the agent joins each batch's chats (and
            // reads what the server pushed it meanwhile).
            let t0 = Instant::now();
            while (chats.len() as u64) < n {
                let batch = (n - chats.len() as u64).min(SETUP_CONCURRENCY as u64 * 5) as usize;
                let new = open_customers(addr, batch, &clock, &received, &dropped, &stop, &mut customers).await?;
                for chat in &new {
                    let frame =
                        format!(r#"{{"request_id":"j","action":"join_chat","payload":{{"chat_id":"{chat}"}}}}"#);
                    let r = agent.request("j", &frame).await?;
                    ensure!(contains(&r, b"\"success\":true"), "join_chat failed: {}", String::from_utf8_lossy(&r));
                }
                chats.extend(new);
            }
            log(&format!("{n} chats, the agent in each, in {:.1} s", t0.elapsed().as_secs_f64()));
            stage(&format!("send_{n}"))?;
            let (sent, errors, first, elapsed) = send_phase(&mut agent, &chats, &clock, period_ms, secs).await?;
            stage(&format!("sent_{n}"))?;
            // Wait for every message of the step to arrive (or the drain time).
            let last = first + sent;
            let deadline = Instant::now() + DRAIN;
            let lat = loop {
                let lat: Vec<u32> = {
                    let r = received.lock().unwrap_or_else(|e| e.into_inner());
                    r.iter().filter(|(s, _)| (first..last).contains(s)).map(|(_, l)| *l).collect()
                };
                if lat.len() as u64 >= sent || Instant::now() >= deadline {
                    break lat;
                }
                // Keep the agent's socket read while waiting.
                let _ = tokio::time::timeout(Duration::from_millis(50), drain(&mut agent)).await;
            };
            let mut lat = lat;
            lat.sort_unstable();
            let lost = sent.saturating_sub(lat.len() as u64);
            let drops = dropped.load(Ordering::Relaxed);
            let p99 = percentile(&lat, 0.99);
            result(&format!("{n}.sent"), sent);
            result(&format!("{n}.secs"), format!("{elapsed:.3}"));
            result(&format!("{n}.p50_us"), percentile(&lat, 0.50));
            result(&format!("{n}.p90_us"), percentile(&lat, 0.90));
            result(&format!("{n}.p99_us"), p99);
            result(&format!("{n}.max_us"), lat.last().copied().unwrap_or(0));
            result(&format!("{n}.errors"), errors);
            result(&format!("{n}.lost"), lost);
            result(&format!("{n}.dropped"), drops);
            steps.push(n.to_string());
            result("steps", steps.join(","));
            log(&format!(
                "{n} chats: p50 {} µs, p99 {p99} µs, {errors} errors, {lost} lost, {drops} dropped",
                percentile(&lat, 0.5)
            ));
            let broken = if u64::from(p99) > limit_ms * 1000 {
                Some(format!("p99 {:.1} ms at {n} chats", f64::from(p99) / 1000.0))
            } else if errors > 0 || lost > 0 || drops > 0 {
                Some(format!("{errors} errors, {lost} lost, {drops} dropped at {n} chats"))
            } else {
                None
            };
            if let Some(b) = broken {
                result("broken", b);
                break;
            }
            carried = n;
            if n >= max {
                break;
            }
            n = (n * 2).min(max);
        }
        result("carried", carried);
        let _ = stop_tx.send(true);
        while customers.join_next().await.is_some() {}
        Ok(())
    }

    /// Opens `count` customers with a chat each, each then reading its connection in a task
    /// of `set` until `stop`; returns their chats.
    async fn open_customers(
        addr: &str,
        count: usize,
        clock: &Arc<Clock>,
        received: &Received,
        dropped: &Arc<AtomicU64>,
        stop: &watch::Receiver<bool>,
        set: &mut tokio::task::JoinSet<()>,
    ) -> Result<Vec<String>> {
        let tokens = tokens(addr, count).await?;
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut setups = tokio::task::JoinSet::new();
        for token in tokens {
            let (gate, addr) = (gate.clone(), addr.to_owned());
            setups.spawn(async move {
                let _permit = gate.acquire_owned().await?;
                let mut ws = Ws::connect(&addr).await?;
                ws.login(&token).await?;
                let (chat, _) = ws.start_chat().await?;
                anyhow::Ok((ws, chat))
            });
        }
        let mut chats = Vec::with_capacity(count);
        while let Some(r) = setups.join_next().await {
            let (ws, chat) = r.context("a setup task panicked")??;
            chats.push(chat);
            let (clock, received, dropped, stop) = (clock.clone(), received.clone(), dropped.clone(), stop.clone());
            set.spawn(customer(ws, clock, received, dropped, stop));
        }
        Ok(chats)
    }

    /// A customer's connection: times every agent message it receives until `stop`.
    async fn customer(
        mut ws: Ws,
        clock: Arc<Clock>,
        received: Received,
        dropped: Arc<AtomicU64>,
        mut stop: watch::Receiver<bool>,
    ) {
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                r = ws.fill() => {
                    if r.is_err() {
                        dropped.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                    let now = clock.start.elapsed().as_micros() as u64;
                    let mut got = Vec::new();
                    loop {
                        match ws.frame() {
                            Ok(Some(f)) if f.opcode == CLOSE => {
                                dropped.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                            Ok(Some(f)) if f.opcode == TEXT && is_push(f.payload, "incoming_event") => {
                                got.extend(seq_of(f.payload));
                            }
                            Ok(Some(_)) => {}
                            Ok(None) => break,
                            Err(_) => {
                                dropped.fetch_add(1, Ordering::Relaxed);
                                return;
                            }
                        }
                    }
                    if !got.is_empty() {
                        let sent = clock.sent.lock().unwrap_or_else(|e| e.into_inner());
                        let lat: Vec<(u64, u32)> = got
                            .into_iter()
                            .filter_map(|s| {
                                let at = *sent.get(s as usize)?;
                                Some((s, now.saturating_sub(at).min(u64::from(u32::MAX)) as u32))
                            })
                            .collect();
                        drop(sent);
                        received.lock().unwrap_or_else(|e| e.into_inner()).extend(lat);
                    }
                }
            }
        }
    }

    /// The sequence number in an agent message's text (`"text":"agent message N"`).
    fn seq_of(p: &[u8]) -> Option<u64> {
        const MARK: &[u8] = b"\"text\":\"agent message ";
        let at = find(p, MARK)? + MARK.len();
        let digits = p[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        std::str::from_utf8(&p[at..at + digits]).ok()?.parse().ok()
    }

    /// Reads what the server sent the agent; counts refused requests.
    async fn drain(agent: &mut Ws) -> Result<u64> {
        agent.fill().await?;
        let mut errors = 0;
        while let Some(f) = agent.frame()? {
            if f.opcode == CLOSE {
                bail!("the agent's connection was closed");
            }
            if f.opcode == TEXT && is_response(f.payload) && contains(f.payload, b"\"success\":false") {
                errors += 1;
                if errors <= 3 {
                    log(&format!("agent request refused: {}", String::from_utf8_lossy(f.payload)));
                }
            }
        }
        Ok(errors)
    }

    /// The agent sends to the chats in turn, one message per chat every `period_ms`, open
    /// loop, for `secs`. Returns (messages sent, refused, first sequence number, seconds).
    async fn send_phase(
        agent: &mut Ws,
        chats: &[String],
        clock: &Clock,
        period_ms: u64,
        secs: u64,
    ) -> Result<(u64, u64, u64, f64)> {
        let every = Duration::from_micros(period_ms * 1000 / chats.len().max(1) as u64).max(Duration::from_micros(1));
        let first = clock.sent.lock().unwrap_or_else(|e| e.into_inner()).len() as u64;
        let begin = tokio::time::Instant::now();
        let end = begin + Duration::from_secs(secs);
        let mut next = begin;
        let (mut sent, mut errors) = (0u64, 0u64);
        let mut out = Vec::new();
        while next < end {
            tokio::select! {
                () = tokio::time::sleep_until(next) => {
                    // Every message due by now, in one write.
                    out.clear();
                    let now = tokio::time::Instant::now();
                    {
                        let mut stamps = clock.sent.lock().unwrap_or_else(|e| e.into_inner());
                        let at = clock.start.elapsed().as_micros() as u64;
                        while next <= now && next < end {
                            let seq = stamps.len() as u64;
                            let chat = &chats[(seq - first) as usize % chats.len()];
                            let frame = format!(
                                r#"{{"request_id":"s{seq}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"agent message {seq}"}}}}}}"#
                            );
                            Ws::encode(&mut out, frame.as_bytes());
                            stamps.push(at);
                            sent += 1;
                            next += every;
                        }
                    }
                    agent.send_raw(&out).await?;
                }
                r = drain(agent) => errors += r?,
            }
        }
        let elapsed = begin.elapsed().as_secs_f64();
        // The responses still on their way.
        let deadline = tokio::time::Instant::now() + WAIT.min(Duration::from_secs(2));
        while let Ok(r) = tokio::time::timeout_at(deadline, drain(agent)).await {
            errors += r?;
        }
        Ok((sent, errors, first, elapsed))
    }
}
