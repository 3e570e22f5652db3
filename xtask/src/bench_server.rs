//! `cargo xtask bench server`: the load benchmark of the reference server.
//!
//! Two processes on loopback, so that the server's memory can be read from
//! `/proc/<pid>/status` without the load generator in it:
//!
//! * the release `chatio-server` binary (`--no-agent`, 2 worker threads);
//! * the load generator: this xtask, built in release and started as
//!   `xtask bench server --load <scenario> ...`, on its own 2-thread tokio runtime. It speaks
//!   websocket with a minimal client of its own (unfragmented text frames, a zero mask key, no
//!   JSON parsing on the hot path) so that it costs the shared CPUs as little as possible.
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
//! The two processes talk over the load generator's stdin/stdout: `STAGE <name>` (the
//! orchestrator samples the server's RSS and CPU time, then answers `GO`), `RESULT <key>
//! <value>`, `LOG <text>`. Every phase is bounded in time; a watchdog kills both processes
//! if a scenario overruns.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Entry point of `cargo xtask bench server [options]` (and of the load generator).
pub fn main(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("--load") {
        return load::main(args.get(1..).unwrap_or_default());
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
}

impl Plan {
    fn parse(args: &[String]) -> Result<Plan, String> {
        let mut p = Plan {
            sessions: 10_000,
            throughput_conns: 100,
            window: 32,
            throughput_secs: 10,
            latency_secs: 10,
            soak_secs: 20,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |name: &str| -> Result<u64, String> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a number"))
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
                "-h" | "--help" => {
                    println!(
                        "cargo xtask bench server [--quick] [--sessions N] [--secs S] [--window W]\n\n\
                         Load benchmark of chatio-server on loopback (release builds, two processes).\n\
                         --quick      2 000 sessions, 3 s phases\n\
                         --sessions   idle sessions and the large latency run (default 10 000)\n\
                         --secs       length of the throughput and 1 000-session phases (default 10; the\n\
                         \x20            large latency run lasts twice as long)\n\
                         --window     requests in flight per connection in the throughput run (default 32)"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown option `{other}` (see --help)")),
            }
        }
        Ok(p)
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"))
}

pub(crate) fn cargo_release(args: &[&str]) -> Result<(), String> {
    eprintln!("$ cargo build --release {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["build", "--release", "--quiet"])
        .args(args)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("cargo build failed ({status})")) }
}

/// Spawns `program args` with the soft file-descriptor limit raised to 20 000 (10 000
/// sockets per process need more than the usual 1 024).
pub(crate) fn spawn_raised(program: &PathBuf, args: &[String], stdin: Stdio) -> Result<Child, String> {
    Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@""#)
        .arg(program)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env("RUST_LOG", "warn")
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))
}

/// The server's resident memory in KiB.
pub(crate) fn rss_kib(pid: u32) -> Result<u64, String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc/<pid>/status".to_owned())
}

/// User + system CPU time of a process, in seconds.
pub(crate) fn cpu_secs(pid: u32) -> Result<f64, String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).map_err(|e| format!("/proc: {e}"))?;
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or("bad /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based).
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).ok_or("bad /proc/<pid>/stat");
    let total = ticks(11)? + ticks(12)?;
    Ok(total as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
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
    results: BTreeMap<String, String>,
}

impl Outcome {
    fn num(&self, key: &str) -> f64 {
        self.results.get(key).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }

    fn stage(&self, name: &str) -> Result<Sample, String> {
        self.stages.get(name).copied().ok_or_else(|| format!("no `{name}` stage"))
    }
}

/// Runs one scenario: a fresh server, the load generator, samples at each stage.
fn scenario(
    server_bin: &PathBuf,
    load_bin: &PathBuf,
    load_args: &[String],
    limit: Duration,
) -> Result<Outcome, String> {
    let server_args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--no-agent",
        "--idle-timeout-s",
        "3600",
        "--max-connections-per-customer",
        "10",
        "--workers",
        "2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut server = spawn_raised(server_bin, &server_args, Stdio::null())?;
    let server_pid = server.id();
    let mut server_out = BufReader::new(server.stdout.take().ok_or("no server stdout")?);
    let mut line = String::new();
    server_out.read_line(&mut line).map_err(|e| format!("reading the server's line: {e}"))?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("the server printed no URL: {line:?}"))?
        .to_owned();

    let mut args: Vec<String> = vec!["bench".into(), "server".into(), "--load".into()];
    args.extend(load_args.iter().cloned());
    args.extend(["--url".into(), url]);
    let mut load = spawn_raised(load_bin, &args, Stdio::piped())?;
    let load_pid = load.id();

    // The watchdog: both processes die if the scenario overruns.
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            eprintln!("bench: the scenario overran {limit:?}: killing it");
            for pid in [load_pid, server_pid] {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    });

    let mut outcome = Outcome::default();
    let result = (|| -> Result<(), String> {
        let mut to_load = load.stdin.take().ok_or("no load stdin")?;
        let from_load = BufReader::new(load.stdout.take().ok_or("no load stdout")?);
        for line in from_load.lines() {
            let line = line.map_err(|e| format!("reading the load generator: {e}"))?;
            if let Some(stage) = line.strip_prefix("STAGE ") {
                let s = Sample { rss_kib: rss_kib(server_pid)?, cpu_s: cpu_secs(server_pid)?, at: Instant::now() };
                eprintln!("  {stage:<10} server RSS {:>8} KiB", s.rss_kib);
                outcome.stages.insert(stage.to_owned(), s);
                writeln!(to_load, "GO").map_err(|e| format!("writing to the load generator: {e}"))?;
                to_load.flush().map_err(|e| e.to_string())?;
            } else if let Some(r) = line.strip_prefix("RESULT ") {
                let (k, v) = r.split_once(' ').unwrap_or((r, ""));
                outcome.results.insert(k.to_owned(), v.to_owned());
            } else if let Some(log) = line.strip_prefix("LOG ") {
                eprintln!("  {log}");
            }
        }
        Ok(())
    })();
    let status = load.wait().map_err(|e| e.to_string())?;
    let _ = server.kill();
    let _ = server.wait();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    result?;
    if !status.success() {
        return Err(format!("the load generator failed ({status})"));
    }
    Ok(outcome)
}

fn orchestrate(args: &[String]) -> Result<(), String> {
    let plan = Plan::parse(args)?;
    if !std::path::Path::new("/proc/self/status").exists() {
        return Err("the server benchmark reads /proc: Linux only".into());
    }
    cargo_release(&["-p", "chatio-server", "--bin", "chatio-server"])?;
    cargo_release(&["-p", "xtask", "--bin", "xtask"])?;
    let server_bin = target_dir().join("release/chatio-server");
    let load_bin = target_dir().join("release/xtask");
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut report = Vec::new();

    eprintln!("== idle sessions: {}", plan.sessions);
    let o = scenario(
        &server_bin,
        &load_bin,
        &s(&["idle", "--sessions", &plan.sessions.to_string()]),
        Duration::from_secs(300),
    )?;
    let (base, tokens, open, pinged) =
        (o.stage("baseline")?, o.stage("tokens")?, o.stage("sessions")?, o.stage("pinged")?);
    let n = plan.sessions as f64;
    let per = (open.rss_kib.saturating_sub(base.rss_kib)) as f64 / n;
    let per_pinged = (pinged.rss_kib.saturating_sub(base.rss_kib)) as f64 / n;
    let per_conn = (open.rss_kib.saturating_sub(tokens.rss_kib)) as f64 / n;
    report.push(format!(
        "| idle sessions | {} logged-in sessions ({} answered a ping) | RSS {} KiB → {} KiB with tokens → {} KiB with sessions → {} KiB after the pings: **{per:.1} KiB per session** ({per_conn:.1} KiB for the connection alone, {per_pinged:.1} KiB after a ping each) | ≤ 16 KiB |",
        plan.sessions,
        o.results.get("alive").cloned().unwrap_or_default(),
        base.rss_kib,
        tokens.rss_kib,
        open.rss_kib,
        pinged.rss_kib
    ));

    eprintln!("== throughput: {} connections, window {}", plan.throughput_conns, plan.window);
    let o = scenario(
        &server_bin,
        &load_bin,
        &s(&[
            "throughput",
            "--conns",
            &plan.throughput_conns.to_string(),
            "--window",
            &plan.window.to_string(),
            "--secs",
            &plan.throughput_secs.to_string(),
        ]),
        Duration::from_secs(120 + plan.throughput_secs),
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
        o.results.get("errors").cloned().unwrap_or_default()
    ));

    for (sessions, period_ms, secs, target) in [
        (1_000usize, 1_000u64, plan.latency_secs, "p99 ≤ 2 ms"),
        (1_000, 100, plan.latency_secs, "(extra: 10 messages/s each)"),
        (plan.sessions, 1_000, plan.soak_secs, "p99 ≤ 10 ms, no drop"),
    ] {
        eprintln!("== latency: {sessions} sessions, one message every {period_ms} ms");
        let o = scenario(
            &server_bin,
            &load_bin,
            &s(&[
                "latency",
                "--sessions",
                &sessions.to_string(),
                "--period-ms",
                &period_ms.to_string(),
                "--secs",
                &secs.to_string(),
            ]),
            Duration::from_secs(240 + secs),
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
            o.results.get("dropped").cloned().unwrap_or_default(),
            o.results.get("unanswered").cloned().unwrap_or_default(),
        ));
    }

    println!("\n| measure | load | result | target |\n|---|---|---|---|");
    for r in report {
        println!("{r}");
    }
    Ok(())
}

/// The load generator (runs in its own process).
mod load {
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio::sync::Semaphore;

    /// Bound on any single wait (a handshake, a response).
    const WAIT: Duration = Duration::from_secs(20);
    /// Connection setups in flight at once.
    const SETUP_CONCURRENCY: usize = 100;

    type Res<T> = Result<T, String>;

    pub(super) fn main(args: &[String]) -> Res<()> {
        let mut opts: HashMap<String, String> = HashMap::new();
        let scenario = args.first().cloned().ok_or("which scenario?")?;
        let mut it = args.iter().skip(1);
        while let Some(k) = it.next() {
            let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
            opts.insert(k.trim_start_matches("--").to_owned(), v.clone());
        }
        let get = |k: &str| -> Res<u64> {
            opts.get(k).and_then(|v| v.parse().ok()).ok_or_else(|| format!("--{k} is required"))
        };
        let url = opts.get("url").ok_or("--url is required")?;
        let addr = url.trim_start_matches("http://").to_owned();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            match scenario.as_str() {
                "idle" => idle(&addr, get("sessions")? as usize).await,
                "throughput" => throughput(&addr, get("conns")? as usize, get("window")? as usize, get("secs")?).await,
                "latency" => latency(&addr, get("sessions")? as usize, get("period-ms")?, get("secs")?).await,
                other => Err(format!("unknown scenario `{other}`")),
            }
        })
    }

    /// Tells the orchestrator a stage is reached and waits for its `GO`.
    fn stage(name: &str) -> Res<()> {
        println!("STAGE {name}");
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| e.to_string())?;
        if line.trim() == "GO" { Ok(()) } else { Err(format!("expected GO, got {line:?}")) }
    }

    fn result(key: &str, value: impl std::fmt::Display) {
        println!("RESULT {key} {value}");
    }

    fn log(text: &str) {
        println!("LOG {text}");
    }

    /// A minimal websocket client: masked (zero key) unfragmented text frames out, server
    /// frames in.
    struct Ws {
        stream: TcpStream,
        buf: Vec<u8>,
        pos: usize,
    }

    impl Ws {
        async fn connect(addr: &str) -> Res<Ws> {
            let mut stream = TcpStream::connect(addr).await.map_err(|e| format!("connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let req = format!(
                "GET /customer/v0.5/rtm/ws?license_id=100 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            stream.write_all(req.as_bytes()).await.map_err(|e| format!("handshake: {e}"))?;
            let mut buf = Vec::with_capacity(1024);
            let end = loop {
                let mut chunk = [0u8; 512];
                let n = stream.read(&mut chunk).await.map_err(|e| format!("handshake: {e}"))?;
                if n == 0 {
                    return Err("handshake: connection closed".into());
                }
                buf.extend_from_slice(&chunk[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    break i + 4;
                }
            };
            if !buf.starts_with(b"HTTP/1.1 101") {
                return Err(format!("handshake refused: {}", String::from_utf8_lossy(&buf[..end])));
            }
            buf.drain(..end);
            Ok(Ws { stream, buf, pos: 0 })
        }

        fn encode(out: &mut Vec<u8>, payload: &[u8]) {
            out.push(0x81);
            let len = payload.len();
            if len < 126 {
                out.push(0x80 | len as u8);
            } else if len <= 0xFFFF {
                out.push(0x80 | 126);
                out.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                out.push(0x80 | 127);
                out.extend_from_slice(&(len as u64).to_be_bytes());
            }
            // A zero mask key: the payload goes out as is (the server still unmasks).
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(payload);
        }

        async fn send(&mut self, payload: &str) -> Res<()> {
            let mut out = Vec::with_capacity(payload.len() + 14);
            Ws::encode(&mut out, payload.as_bytes());
            self.stream.write_all(&out).await.map_err(|e| format!("write: {e}"))
        }

        async fn send_raw(&mut self, frames: &[u8]) -> Res<()> {
            self.stream.write_all(frames).await.map_err(|e| format!("write: {e}"))
        }

        /// Reads more bytes; `Err` when the connection ended.
        async fn fill(&mut self) -> Res<()> {
            if self.pos > 0 && self.pos * 2 >= self.buf.len() {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            let len = self.buf.len();
            self.buf.resize(len + 16 * 1024, 0);
            let n = self.stream.read(&mut self.buf[len..]).await;
            let n = match n {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(format!("read: {e}"));
                }
            };
            self.buf.truncate(len + n);
            if n == 0 { Err("the server closed the connection".into()) } else { Ok(()) }
        }

        /// The next complete frame already read: (opcode, payload).
        fn frame(&mut self) -> Option<(u8, &[u8])> {
            let b = &self.buf[self.pos..];
            if b.len() < 2 {
                return None;
            }
            let opcode = b[0] & 0x0F;
            let (len, head) = match b[1] & 0x7F {
                126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 if b.len() >= 10 => {
                    (u64::from_be_bytes([b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9]]) as usize, 10)
                }
                126 | 127 => return None,
                n => (n as usize, 2),
            };
            if b.len() < head + len {
                return None;
            }
            let start = self.pos + head;
            self.pos += head + len;
            Some((opcode, &self.buf[start..start + len]))
        }

        /// Waits for the next text frame that `pick` accepts; close frames end the wait.
        async fn wait_for(&mut self, pick: impl Fn(&[u8]) -> bool) -> Res<Vec<u8>> {
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                while let Some((op, payload)) = self.frame() {
                    if op == 0x8 {
                        return Err("close frame".into());
                    }
                    if op == 0x1 && pick(payload) {
                        return Ok(payload.to_vec());
                    }
                }
                tokio::time::timeout_at(deadline, self.fill()).await.map_err(|_| "timed out".to_owned())??;
            }
        }

        async fn request(&mut self, id: &str, frame: &str) -> Res<Vec<u8>> {
            self.send(frame).await?;
            let prefix = format!("{{\"request_id\":\"{id}\",");
            self.wait_for(|p| p.starts_with(prefix.as_bytes()) && contains(p, b"\"type\":\"response\"")).await
        }
    }

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// Whether a server frame is a response (they start with the request id, then the
    /// action, then `"type"`).
    fn is_response(p: &[u8]) -> bool {
        let head = &p[..p.len().min(96)];
        contains(head, b"\"type\":\"response\"")
    }

    /// The request id at the start of a frame written by the server.
    fn request_id(p: &[u8]) -> Option<&[u8]> {
        let rest = p.strip_prefix(b"{\"request_id\":\"")?;
        let end = rest.iter().position(|c| *c == b'"')?;
        Some(&rest[..end])
    }

    /// Customer tokens from the token endpoint, over a few keep-alive connections.
    async fn tokens(addr: &str, n: usize) -> Res<Vec<String>> {
        let lanes = 4.min(n.max(1));
        let mut tasks = tokio::task::JoinSet::new();
        for lane in 0..lanes {
            let addr = addr.to_owned();
            let count = n / lanes + usize::from(lane < n % lanes);
            tasks.spawn(async move {
                let mut stream = TcpStream::connect(&addr).await.map_err(|e| format!("token endpoint: {e}"))?;
                let mut out = Vec::with_capacity(count);
                let mut buf = Vec::new();
                let req = format!(
                    "POST /customer/?client_id=bench&response_type=token&redirect_uri=http%3A%2F%2Fbench%2F HTTP/1.1\r\n\
                     Host: {addr}\r\nContent-Length: 0\r\n\r\n"
                );
                for _ in 0..count {
                    stream.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
                    let body = read_http_body(&mut stream, &mut buf).await?;
                    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
                    let t = v["access_token"].as_str().ok_or_else(|| format!("no token: {v}"))?;
                    out.push(t.to_owned());
                }
                Ok::<_, String>(out)
            });
        }
        let mut all = Vec::with_capacity(n);
        while let Some(r) = tasks.join_next().await {
            all.extend(r.map_err(|e| e.to_string())??);
        }
        Ok(all)
    }

    /// Reads one HTTP/1.1 response with a Content-Length body; `buf` keeps what follows.
    async fn read_http_body(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Res<Vec<u8>> {
        loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
                if !head.starts_with("http/1.1 200") {
                    return Err(format!("token endpoint: {head}"));
                }
                let len: usize = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse().ok())
                    .ok_or("token endpoint: no content-length")?;
                if buf.len() >= i + 4 + len {
                    let body = buf[i + 4..i + 4 + len].to_vec();
                    buf.drain(..i + 4 + len);
                    return Ok(body);
                }
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
                .await
                .map_err(|_| "token endpoint: timed out")?
                .map_err(|e| e.to_string())?;
            if n == 0 {
                return Err("token endpoint: closed".into());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// A logged-in session, optionally with a chat of its own.
    struct Session {
        ws: Ws,
        chat: Option<String>,
    }

    async fn open(addr: &str, token: &str, with_chat: bool) -> Res<Session> {
        let mut ws = Ws::connect(addr).await?;
        let r = ws
            .request(
                "login",
                &format!(r#"{{"request_id":"login","action":"login","payload":{{"token":"Bearer {token}"}}}}"#),
            )
            .await?;
        if !contains(&r, b"\"success\":true") {
            return Err(format!("login failed: {}", String::from_utf8_lossy(&r)));
        }
        let chat = if with_chat {
            let r = ws.request("start", r#"{"request_id":"start","action":"start_chat","payload":{}}"#).await?;
            let v: serde_json::Value = serde_json::from_slice(&r).map_err(|e| e.to_string())?;
            Some(v["payload"]["chat"]["id"].as_str().ok_or("start_chat: no chat id")?.to_owned())
        } else {
            None
        };
        Ok(Session { ws, chat })
    }

    /// Opens `tokens.len()` sessions, a bounded number of setups at a time.
    async fn open_all(addr: &str, tokens: Vec<String>, with_chat: bool) -> Res<Vec<Session>> {
        let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, token) in tokens.into_iter().enumerate() {
            let gate = gate.clone();
            let addr = addr.to_owned();
            tasks.spawn(async move {
                let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                open(&addr, &token, with_chat).await.map(|s| (i, s))
            });
        }
        let mut sessions = Vec::new();
        while let Some(r) = tasks.join_next().await {
            sessions.push(r.map_err(|e| e.to_string())??);
        }
        sessions.sort_by_key(|(i, _)| *i);
        Ok(sessions.into_iter().map(|(_, s)| s).collect())
    }

    async fn idle(addr: &str, n: usize) -> Res<()> {
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

    async fn throughput(addr: &str, conns: usize, window: usize, secs: u64) -> Res<()> {
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
                    match tokio::time::timeout_at(deadline.max(tokio::time::Instant::now()) + WAIT, s.ws.fill()).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return Err(e),
                        Err(_) => return Err("timed out".into()),
                    }
                    let mut done = 0;
                    while let Some((op, p)) = s.ws.frame() {
                        if op == 0x1 && is_response(p) {
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
                Ok::<u64, String>(responses)
            });
        }
        let mut total = 0;
        let mut errors = 0;
        while let Some(r) = tasks.join_next().await {
            match r.map_err(|e| e.to_string())? {
                Ok(n) => total += n,
                Err(e) => {
                    errors += 1;
                    log(&format!("connection failed: {e}"));
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

    async fn latency(addr: &str, n: usize, period_ms: u64, secs: u64) -> Res<()> {
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
                    s.ws.send(&frame).await.map_err(|e| (e, lat.clone()))?;
                    let idb = id.as_bytes();
                    let got =
                        s.ws.wait_for(|p| request_id(p) == Some(idb) && is_response(p)).await.map_err(|e| (e, lat.clone()))?;
                    lat.push(sent.elapsed().as_micros() as u32);
                    if !contains(&got, b"\"success\":true") {
                        return Err((format!("failed: {}", String::from_utf8_lossy(&got)), lat));
                    }
                    n += 1;
                    at += period;
                }
                Ok::<(Vec<u32>, Session), (String, Vec<u32>)>((lat, s))
            });
        }
        let mut all = Vec::new();
        let mut dropped = 0;
        let mut kept = Vec::new();
        while let Some(r) = tasks.join_next().await {
            match r.map_err(|e| e.to_string())? {
                Ok((lat, s)) => {
                    all.extend(lat);
                    kept.push(s);
                }
                Err((e, lat)) => {
                    dropped += 1;
                    all.extend(lat);
                    if dropped <= 5 {
                        log(&format!("session failed: {e}"));
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
        let pct = |p: f64| -> u32 {
            if all.is_empty() {
                return 0;
            }
            let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
            all[i]
        };
        result("count", all.len());
        result("p50_us", pct(0.50));
        result("p90_us", pct(0.90));
        result("p99_us", pct(0.99));
        result("p999_us", pct(0.999));
        result("max_us", all.last().copied().unwrap_or(0));
        result("dropped", dropped);
        result("unanswered", unanswered);
        Ok(())
    }
}
