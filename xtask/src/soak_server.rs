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

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::bench_server::{cargo_release, cpu_secs, rss_kib, spawn_raised, target_dir};

/// What to run.
struct Plan {
    sessions: usize,
    secs: u64,
    clean_secs: u64,
    stalled_pct: usize,
    slow_pct: usize,
}

impl Plan {
    fn parse(args: &[String]) -> Result<Plan, String> {
        let mut p = Plan { sessions: 2_000, secs: 300, clean_secs: 0, stalled_pct: 5, slow_pct: 5 };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let mut num = |name: &str| -> Result<u64, String> {
                it.next().and_then(|v| v.parse().ok()).ok_or_else(|| format!("{name} needs a number"))
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
                         cargo xtask soak --server --attacks   (each attack of issue 14 once: the attack table)\n\n\
                         The reference server under hostile clients (release builds, two processes, loopback).\n\
                         --sessions       all sessions together (default 2 000)\n\
                         --secs           length of the hostile run (default 300)\n\
                         --clean-secs     length of the clean run (default: min(secs, 60))\n\
                         --stalled-pct    share of stalled readers (default 5)\n\
                         --slow-body-pct  share of slow-body HTTP clients (default 5)"
                    );
                    std::process::exit(0);
                }
                other => return Err(format!("unknown option `{other}` (see --help)")),
            }
        }
        if p.clean_secs == 0 {
            p.clean_secs = p.secs.min(60);
        }
        Ok(p)
    }
}

/// Entry point of `cargo xtask soak --server [options]` (and of its load generator).
pub fn main(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("--load") {
        return load::main(args.get(1..).unwrap_or_default());
    }
    if args.first().map(String::as_str) == Some("--load-attacks") {
        return attacks::load(args.get(1..).unwrap_or_default());
    }
    if args.iter().any(|a| a == "--attacks") {
        cargo_release(&["-p", "chatio-server", "--bin", "chatio-server"])?;
        cargo_release(&["-p", "xtask", "--bin", "xtask"])?;
        return attacks::orchestrate();
    }
    let plan = Plan::parse(args)?;
    if !std::path::Path::new("/proc/self/status").exists() {
        return Err("the server soak reads /proc: Linux only".into());
    }
    cargo_release(&["-p", "chatio-server", "--bin", "chatio-server"])?;
    cargo_release(&["-p", "xtask", "--bin", "xtask"])?;
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
            r.get("load"),
            r.get("sent"),
            r.get("answered"),
            r.get("pushes"),
            r.get("lost"),
            r.get("dropped"),
            r.num("p50_us") / 1000.0,
            r.num("p99_us") / 1000.0,
            r.num("max_us") / 1000.0,
            r.rss_start,
            r.rss_end,
            r.rss_max,
            r.cpu,
        );
    }
    println!(
        "\np99 hostile / clean: {:.2}×; stalled readers reconnected {} times (each reconnect = a connection the server ended), slow-body requests ended by the server: {}",
        hostile.num("p99_us") / clean.num("p99_us"),
        hostile.get("stalled_reconnects"),
        hostile.get("slow_closed"),
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
    results: std::collections::BTreeMap<String, String>,
    curve: Vec<(u64, u64)>,
    rss_start: u64,
    rss_end: u64,
    rss_max: u64,
    cpu: f64,
}

impl Run {
    fn get(&self, k: &str) -> String {
        self.results.get(k).cloned().unwrap_or_default()
    }
    fn num(&self, k: &str) -> f64 {
        self.results.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    }
}

fn run(good: usize, stalled: usize, slow: usize, secs: u64) -> Result<Run, String> {
    let server_bin = target_dir().join("release/chatio-server");
    let load_bin = target_dir().join("release/xtask");
    let server_args: Vec<String> = [
        "--listen",
        "127.0.0.1:0",
        "--no-agent",
        "--workers",
        "2",
        "--max-connections",
        "10000",
        "--max-connections-per-address",
        "10000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut server = spawn_raised(&server_bin, &server_args, Stdio::null())?;
    let pid = server.id();
    let mut out = BufReader::new(server.stdout.take().ok_or("no server stdout")?);
    let mut line = String::new();
    out.read_line(&mut line).map_err(|e| format!("reading the server's line: {e}"))?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .ok_or_else(|| format!("the server printed no URL: {line:?}"))?
        .to_owned();
    let args: Vec<String> = [
        "soak",
        "--server",
        "--load",
        "--url",
        &url,
        "--good",
        &good.to_string(),
        "--stalled",
        &stalled.to_string(),
        "--slow",
        &slow.to_string(),
        "--secs",
        &secs.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut load = spawn_raised(&load_bin, &args, Stdio::piped())?;
    let load_pid = load.id();
    // Watchdog: both die if the run overruns.
    let limit = Duration::from_secs(secs + 300);
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            eprintln!("soak: the run overran {limit:?}: killing it");
            for p in [load_pid, pid] {
                let _ = Command::new("kill").args(["-9", &p.to_string()]).status();
            }
        }
    });
    // Sampler: the server's RSS every 10 s once the load starts.
    let started = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (started, stop) = (started.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut curve = Vec::new();
            while !started.load(Ordering::Relaxed) && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
            let t0 = Instant::now();
            let mut next = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                if t0.elapsed() >= next {
                    if let Ok(kib) = rss_kib(pid) {
                        curve.push((next.as_secs(), kib));
                    }
                    next += Duration::from_secs(10);
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            curve
        })
    };
    let mut r = Run::default();
    let mut cpu_start = (0.0, Instant::now());
    let result = (|| -> Result<(), String> {
        let mut to_load = load.stdin.take().ok_or("no load stdin")?;
        for line in BufReader::new(load.stdout.take().ok_or("no load stdout")?).lines() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(stage) = line.strip_prefix("STAGE ") {
                let kib = rss_kib(pid)?;
                eprintln!("  {stage:<8} server RSS {kib:>8} KiB");
                match stage {
                    "start" => {
                        r.rss_start = kib;
                        cpu_start = (cpu_secs(pid)?, Instant::now());
                        started.store(true, Ordering::Relaxed);
                    }
                    "end" => {
                        r.rss_end = kib;
                        r.cpu = (cpu_secs(pid)? - cpu_start.0) / cpu_start.1.elapsed().as_secs_f64();
                        stop.store(true, Ordering::Relaxed);
                    }
                    _ => {}
                }
                writeln!(to_load, "GO").map_err(|e| e.to_string())?;
                to_load.flush().map_err(|e| e.to_string())?;
            } else if let Some(kv) = line.strip_prefix("RESULT ") {
                let (k, v) = kv.split_once(' ').unwrap_or((kv, ""));
                r.results.insert(k.to_owned(), v.to_owned());
            } else if let Some(log) = line.strip_prefix("LOG ") {
                eprintln!("  {log}");
            }
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    let status = load.wait().map_err(|e| e.to_string())?;
    let alive = server.try_wait().map(|s| s.is_none()).unwrap_or(false);
    let _ = server.kill();
    let _ = server.wait();
    let _ = done_tx.send(());
    let _ = watchdog.join();
    r.curve = sampler.join().unwrap_or_default();
    r.rss_max = r.curve.iter().map(|(_, k)| *k).max().unwrap_or(0).max(r.rss_end);
    r.results.insert("server_alive".into(), alive.to_string());
    r.results.insert("load".into(), format!("{good} good, {stalled} stalled, {slow} slow-body, {secs} s"));
    result?;
    if !status.success() {
        return Err(format!("the load generator failed ({status})"));
    }
    if !alive {
        return Err("the server died during the run".into());
    }
    Ok(r)
}

/// The load generator (its own process).
mod load {
    use std::collections::HashMap;
    use std::io::BufRead;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};
    use tokio::sync::Semaphore;

    const WAIT: Duration = Duration::from_secs(20);
    type Res<T> = Result<T, String>;

    pub(super) fn main(args: &[String]) -> Res<()> {
        let mut opts: HashMap<String, String> = HashMap::new();
        let mut it = args.iter();
        while let Some(k) = it.next() {
            let v = it.next().ok_or_else(|| format!("{k} needs a value"))?;
            opts.insert(k.trim_start_matches("--").to_owned(), v.clone());
        }
        let get = |k: &str| -> Res<u64> {
            opts.get(k).and_then(|v| v.parse().ok()).ok_or_else(|| format!("--{k} is required"))
        };
        let addr = opts.get("url").ok_or("--url is required")?.trim_start_matches("http://").to_owned();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(soak(&addr, get("good")? as usize, get("stalled")? as usize, get("slow")? as usize, get("secs")?))
    }

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

    fn contains(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// A minimal websocket client (masked with a zero key, unfragmented text frames).
    struct Ws {
        stream: TcpStream,
        buf: Vec<u8>,
        pos: usize,
    }

    impl Ws {
        async fn connect(addr: &str, rcvbuf: Option<u32>) -> Res<Ws> {
            let sa: SocketAddr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
            let sock = TcpSocket::new_v4().map_err(|e| e.to_string())?;
            if let Some(n) = rcvbuf {
                sock.set_recv_buffer_size(n).map_err(|e| e.to_string())?;
            }
            let mut stream = sock.connect(sa).await.map_err(|e| format!("connect: {e}"))?;
            let _ = stream.set_nodelay(true);
            let req = format!(
                "GET /customer/v0.5/rtm/ws?license_id=100 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            );
            stream.write_all(req.as_bytes()).await.map_err(|e| format!("handshake: {e}"))?;
            let mut buf = Vec::with_capacity(1024);
            let end = loop {
                let mut chunk = [0u8; 512];
                let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
                    .await
                    .map_err(|_| "handshake timed out")?
                    .map_err(|e| format!("handshake: {e}"))?;
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

        async fn send(&mut self, payload: &str) -> Res<()> {
            let p = payload.as_bytes();
            let mut out = Vec::with_capacity(p.len() + 14);
            out.push(0x81);
            if p.len() < 126 {
                out.push(0x80 | p.len() as u8);
            } else if p.len() <= 0xFFFF {
                out.push(0x80 | 126);
                out.extend_from_slice(&(p.len() as u16).to_be_bytes());
            } else {
                out.push(0x80 | 127);
                out.extend_from_slice(&(p.len() as u64).to_be_bytes());
            }
            out.extend_from_slice(&[0, 0, 0, 0]);
            out.extend_from_slice(p);
            self.stream.write_all(&out).await.map_err(|e| format!("write: {e}"))
        }

        async fn fill(&mut self) -> Res<()> {
            if self.pos > 0 && self.pos * 2 >= self.buf.len() {
                self.buf.drain(..self.pos);
                self.pos = 0;
            }
            let len = self.buf.len();
            self.buf.resize(len + 16 * 1024, 0);
            let n = match self.stream.read(&mut self.buf[len..]).await {
                Ok(n) => n,
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(format!("read: {e}"));
                }
            };
            self.buf.truncate(len + n);
            if n == 0 { Err("the server closed the connection".into()) } else { Ok(()) }
        }

        fn frame(&mut self) -> Option<(u8, Vec<u8>)> {
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
            Some((opcode, self.buf[start..start + len].to_vec()))
        }

        /// Reads until the response to `id`; counts the `incoming_event` pushes seen on the
        /// way.
        async fn response(&mut self, id: &str, pushes: &mut u64) -> Res<Vec<u8>> {
            let prefix = format!("{{\"request_id\":\"{id}\",");
            let deadline = tokio::time::Instant::now() + WAIT;
            loop {
                while let Some((op, p)) = self.frame() {
                    if op == 0x8 {
                        return Err("close frame".into());
                    }
                    if op != 0x1 {
                        continue;
                    }
                    let head = &p[..p.len().min(120)];
                    if contains(head, b"\"action\":\"incoming_event\"") && contains(head, b"\"type\":\"push\"") {
                        *pushes += 1;
                    } else if p.starts_with(prefix.as_bytes()) && contains(head, b"\"type\":\"response\"") {
                        return Ok(p);
                    }
                }
                tokio::time::timeout_at(deadline, self.fill()).await.map_err(|_| "timed out".to_owned())??;
            }
        }
    }

    async fn token(addr: &str) -> Res<String> {
        let mut s = TcpStream::connect(addr).await.map_err(|e| format!("token endpoint: {e}"))?;
        let req = format!(
            "POST /customer/?client_id=soak&response_type=token&redirect_uri=http%3A%2F%2Fsoak%2F HTTP/1.1\r\n\
             Host: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        s.write_all(req.as_bytes()).await.map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut out))
            .await
            .map_err(|_| "token: timed out")?
            .map_err(|e| e.to_string())?;
        let body = out.windows(4).position(|w| w == b"\r\n\r\n").map(|i| &out[i + 4..]).ok_or("token: no body")?;
        let v: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        v["access_token"].as_str().map(str::to_owned).ok_or_else(|| format!("no token: {v}"))
    }

    /// Connects and logs in with `t`, then starts a chat when asked: (websocket, chat id,
    /// thread id; empty without a chat).
    async fn login(addr: &str, t: &str, rcvbuf: Option<u32>, chat: bool) -> Res<(Ws, String, String)> {
        let mut ws = Ws::connect(addr, rcvbuf).await?;
        let mut pushes = 0;
        ws.send(&format!(r#"{{"request_id":"login","action":"login","payload":{{"token":"Bearer {t}"}}}}"#)).await?;
        let r = ws.response("login", &mut pushes).await?;
        if !contains(&r, b"\"success\":true") {
            return Err(format!("login failed: {}", String::from_utf8_lossy(&r)));
        }
        if !chat {
            return Ok((ws, String::new(), String::new()));
        }
        ws.send(r#"{"request_id":"start","action":"start_chat","payload":{}}"#).await?;
        let r = ws.response("start", &mut pushes).await?;
        let v: serde_json::Value = serde_json::from_slice(&r).map_err(|e| e.to_string())?;
        let id = v["payload"]["chat"]["id"].as_str().ok_or("start_chat: no chat id")?.to_owned();
        let thread = v["payload"]["chat"]["thread"]["id"].as_str().unwrap_or_default().to_owned();
        Ok((ws, id, thread))
    }

    /// Connects, logs in, starts a chat: (websocket, chat id).
    async fn session(addr: &str, rcvbuf: Option<u32>) -> Res<(Ws, String)> {
        let t = token(addr).await?;
        let mut ws = Ws::connect(addr, rcvbuf).await?;
        let mut pushes = 0;
        ws.send(&format!(r#"{{"request_id":"login","action":"login","payload":{{"token":"Bearer {t}"}}}}"#)).await?;
        let r = ws.response("login", &mut pushes).await?;
        if !contains(&r, b"\"success\":true") {
            return Err(format!("login failed: {}", String::from_utf8_lossy(&r)));
        }
        ws.send(r#"{"request_id":"start","action":"start_chat","payload":{}}"#).await?;
        let r = ws.response("start", &mut pushes).await?;
        let v: serde_json::Value = serde_json::from_slice(&r).map_err(|e| e.to_string())?;
        let chat = v["payload"]["chat"]["id"].as_str().ok_or("start_chat: no chat id")?.to_owned();
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
            if ws.send(&f).await.is_err() || ws.response(&format!("f{i}"), &mut pushes).await.is_err() {
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
                            tokio::time::timeout(Duration::from_millis(10), ws.stream.read(&mut b)).await
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
                g.error = Some(e);
                return g;
            }
            g.sent += 1;
            match ws.response(&id, &mut g.pushes).await {
                Ok(r) if contains(&r, b"\"success\":true") => {
                    g.answered += 1;
                    g.lat.push(sent.elapsed().as_micros() as u32);
                }
                Ok(r) => {
                    g.error = Some(format!("failed: {}", String::from_utf8_lossy(&r)));
                    return g;
                }
                Err(e) => {
                    g.error = Some(e);
                    return g;
                }
            }
            at += Duration::from_secs(1);
        }
        // The last pushes: a ping's response comes after them.
        let _ = ws.send(r#"{"request_id":"last","action":"ping"}"#).await;
        if let Err(e) = ws.response("last", &mut g.pushes).await {
            g.error = Some(e);
        }
        g
    }

    async fn soak(addr: &str, n_good: usize, n_stalled: usize, n_slow: usize, secs: u64) -> Res<()> {
        let t0 = Instant::now();
        let gate = Arc::new(Semaphore::new(100));
        let mut setups = tokio::task::JoinSet::new();
        for i in 0..n_good {
            let (gate, addr) = (gate.clone(), addr.to_owned());
            setups.spawn(async move {
                let _p = gate.acquire_owned().await.map_err(|e| e.to_string())?;
                session(&addr, None).await.map(|s| (i, s))
            });
        }
        let mut goods = Vec::new();
        while let Some(r) = setups.join_next().await {
            goods.push(r.map_err(|e| e.to_string())??);
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
            let g = r.map_err(|e| e.to_string())?;
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
        let pct = |p: f64| -> u32 {
            if lat.is_empty() {
                return 0;
            }
            let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
            lat[i]
        };
        result("sent", sent);
        result("answered", answered);
        result("pushes", pushes);
        result("lost", sent.saturating_sub(answered).max(sent.saturating_sub(pushes)));
        result("dropped", dropped);
        result("p50_us", pct(0.50));
        result("p99_us", pct(0.99));
        result("max_us", lat.last().copied().unwrap_or(0));
        result("stalled_reconnects", counts.stalled_reconnects.load(Ordering::Relaxed));
        result("slow_closed", counts.slow_closed.load(Ordering::Relaxed));
        Ok(())
    }
}

/// `cargo xtask soak --server --attacks`: each attack of issue 14 once against a fresh
/// release server with its default limits; the server's RSS before, at its peak and after,
/// and whether it still answers.
mod attacks {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Write};
    use std::net::SocketAddr;
    use std::process::Stdio;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpSocket, TcpStream};

    use crate::bench_server::{rss_kib, spawn_raised, target_dir};

    type Res<T> = Result<T, String>;

    pub(super) fn orchestrate() -> Res<()> {
        let server_bin = target_dir().join("release/chatio-server");
        let load_bin = target_dir().join("release/xtask");
        let args: Vec<String> = ["--listen", "127.0.0.1:0", "--no-agent"].iter().map(|s| s.to_string()).collect();
        let mut server = spawn_raised(&server_bin, &args, Stdio::null())?;
        let pid = server.id();
        let mut line = String::new();
        BufReader::new(server.stdout.take().ok_or("no stdout")?).read_line(&mut line).map_err(|e| e.to_string())?;
        let url = line.split_whitespace().find(|w| w.starts_with("http://")).ok_or("no URL")?.to_owned();
        let samples: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let sampler = {
            let (samples, stop) = (samples.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Ok(k) = rss_kib(pid) {
                        samples.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), k));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        let a: Vec<String> =
            ["soak", "--server", "--load-attacks", "--url", &url].iter().map(|s| s.to_string()).collect();
        let mut load = spawn_raised(&load_bin, &a, Stdio::piped())?;
        let mut stages: BTreeMap<String, (Instant, u64)> = BTreeMap::new();
        let mut results: Vec<(String, String)> = Vec::new();
        let mut to_load = load.stdin.take().ok_or("no stdin")?;
        for line in BufReader::new(load.stdout.take().ok_or("no stdout")?).lines() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(stage) = line.strip_prefix("STAGE ") {
                let k = rss_kib(pid)?;
                eprintln!("  {stage:<14} server RSS {k:>8} KiB");
                stages.insert(stage.to_owned(), (Instant::now(), k));
                writeln!(to_load, "GO").map_err(|e| e.to_string())?;
                to_load.flush().map_err(|e| e.to_string())?;
            } else if let Some(kv) = line.strip_prefix("RESULT ") {
                let (k, v) = kv.split_once(' ').unwrap_or((kv, ""));
                results.push((k.to_owned(), v.to_owned()));
            } else if let Some(log) = line.strip_prefix("LOG ") {
                eprintln!("  {log}");
            }
        }
        let status = load.wait().map_err(|e| e.to_string())?;
        let alive = server.try_wait().map(|s| s.is_none()).unwrap_or(false);
        stop.store(true, Ordering::Relaxed);
        let _ = sampler.join();
        let _ = server.kill();
        let _ = server.wait();
        if !status.success() {
            return Err(format!("the attack generator failed ({status})"));
        }
        println!(
            "\n| attack | server's response | server alive after | RSS before → peak → after |\n|---|---|---|---|"
        );
        let samples = samples.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let label = |key: &str| results.iter().find(|(k, _)| *k == format!("{key}-name")).map(|(_, v)| v.clone());
        for (name, response) in &results {
            if name.ends_with("-alive") || name.ends_with("-name") {
                continue;
            }
            let (Some(before), Some(after)) =
                (stages.get(&format!("{name}-before")), stages.get(&format!("{name}-after")))
            else {
                continue;
            };
            let peak = samples
                .iter()
                .filter(|(t, _)| *t >= before.0 && *t <= after.0)
                .map(|(_, k)| *k)
                .max()
                .unwrap_or(after.1);
            let answered = results.iter().any(|(k, v)| k == &format!("{name}-alive") && v == "yes");
            println!(
                "| {} | {response} | {} | {} → {} → {} KiB |",
                label(name).unwrap_or_else(|| name.clone()),
                if answered && alive { "yes" } else { "no" },
                before.1,
                peak.max(before.1).max(after.1),
                after.1
            );
        }
        Ok(())
    }

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

    const WAIT: Duration = Duration::from_secs(30);

    /// One HTTP/1.1 request on a fresh connection: (status, body).
    async fn http(addr: &str, method: &str, path: &str, headers: &str, body: &[u8]) -> Res<(u16, Vec<u8>)> {
        let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        );
        s.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
        s.write_all(body).await.map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut out))
            .await
            .map_err(|_| "timed out")?
            .map_err(|e| e.to_string())?;
        let status =
            std::str::from_utf8(out.get(9..12).unwrap_or_default()).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = out.windows(4).position(|w| w == b"\r\n\r\n").map(|i| out[i + 4..].to_vec()).unwrap_or_default();
        Ok((status, body))
    }

    async fn token(addr: &str) -> Res<String> {
        let (_, body) =
            http(addr, "POST", "/customer/?client_id=a&response_type=token&redirect_uri=http%3A%2F%2Fa", "", b"")
                .await?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        v["access_token"].as_str().map(str::to_owned).ok_or_else(|| "no token".into())
    }

    async fn web(addr: &str, token: &str, action: &str, body: &serde_json::Value) -> Res<(u16, serde_json::Value)> {
        let (status, b) = http(
            addr,
            "POST",
            &format!("/customer/v0.5/action/{action}?license_id=100"),
            &format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"),
            body.to_string().as_bytes(),
        )
        .await?;
        Ok((status, serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null)))
    }

    /// Whether the server still answers a fresh client (GET /).
    async fn alive(addr: &str, name: &str) {
        let ok = matches!(http(addr, "GET", "/", "", b"").await, Ok((200, _)));
        result(&format!("{name}-alive"), if ok { "yes" } else { "no" });
    }

    fn masked(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x81];
        if payload.len() < 126 {
            f.push(0x80 | payload.len() as u8);
        } else {
            f.push(0x80 | 126);
            f.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        }
        f.extend_from_slice(&[0, 0, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    pub(super) fn load(args: &[String]) -> Res<()> {
        let url = args.iter().skip_while(|a| *a != "--url").nth(1).ok_or("--url is required")?;
        let addr = url.trim_start_matches("http://").to_owned();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            stalled_reader(&addr).await?;
            slow_bodies(&addr).await?;
            big_answers(&addr).await?;
            token_flood(&addr).await
        })
    }

    /// 1. A logged-in websocket that never reads while 300 Web API calls push 1 MB each to it.
    async fn stalled_reader(addr: &str) -> Res<()> {
        let name = "a1";
        result("a1-name", "1. stalled reader, 300 × 1 MB pushes");
        let token = token(addr).await?;
        let sa: SocketAddr = addr.parse().map_err(|e| format!("{e}"))?;
        let sock = TcpSocket::new_v4().map_err(|e| e.to_string())?;
        sock.set_recv_buffer_size(4096).map_err(|e| e.to_string())?;
        let mut ws = sock.connect(sa).await.map_err(|e| e.to_string())?;
        ws.write_all(
            format!(
                "GET /customer/v0.5/rtm/ws?license_id=100 HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .map_err(|e| e.to_string())?;
        let login = format!(r#"{{"action":"login","payload":{{"token":"Bearer {token}"}}}}"#);
        ws.write_all(&masked(login.as_bytes())).await.map_err(|e| e.to_string())?;
        let (_, chat) = web(addr, &token, "start_chat", &serde_json::json!({})).await?;
        let chat = chat["payload"]["chat"]["id"].as_str().ok_or("no chat")?.to_owned();
        stage(&format!("{name}-before"))?;
        let value = "v".repeat(1_000_000);
        let mut failed = 0;
        for i in 0..300 {
            let body = serde_json::json!({"chat_id": chat, "properties": {"p": {"v": value, "n": i}}});
            if !matches!(web(addr, &token, "update_chat_properties", &body).await, Ok((200, _))) {
                failed += 1;
            }
        }
        // The connection's end, seen from the stalled client (its unread bytes first).
        let started = Instant::now();
        let mut buf = vec![0u8; 64 * 1024];
        let mut closed = false;
        while started.elapsed() < Duration::from_secs(40) {
            match tokio::time::timeout(Duration::from_secs(40), ws.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed = true;
                    break;
                }
                Ok(Ok(_)) => {}
                Err(_) => break,
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        stage(&format!("{name}-after"))?;
        alive(addr, name).await;
        result(
            name,
            format!(
                "session closed with 4002 `slow_consumer` (connection ended: {closed}); {} of 300 Web API calls answered 200",
                300 - failed
            ),
        );
        Ok(())
    }

    /// 2. 140 requests announcing a 1 GiB body that never comes.
    async fn slow_bodies(addr: &str) -> Res<()> {
        let name = "a2";
        result("a2-name", "2. 140 POST /customer/ with Content-Length 1 GiB, no body");
        stage(&format!("{name}-before"))?;
        let mut socks = Vec::new();
        for _ in 0..140 {
            let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            s.write_all(b"POST /customer/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n")
                .await
                .map_err(|e| e.to_string())?;
            socks.push(s);
        }
        let fresh = matches!(http(addr, "GET", "/", "", b"").await, Ok((200, _)));
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for mut s in socks {
            tasks.spawn(async move {
                let mut out = Vec::new();
                let _ = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut out)).await;
                out.starts_with(b"HTTP/1.1 408")
            });
        }
        let mut timed_out = 0;
        while let Some(r) = tasks.join_next().await {
            if r.unwrap_or(false) {
                timed_out += 1;
            }
        }
        let secs = started.elapsed().as_secs_f64();
        stage(&format!("{name}-after"))?;
        alive(addr, name).await;
        result(
            name,
            format!(
                "{timed_out} of 140 answered 408 and closed after {secs:.0} s; a fresh client meanwhile: {}",
                if fresh { "served" } else { "refused" }
            ),
        );
        Ok(())
    }

    /// 3. 20 concurrent `get_chat_threads` of a thread over 1 MiB, by clients that do not read.
    async fn big_answers(addr: &str) -> Res<()> {
        let name = "a3";
        result("a3-name", "3. 20 concurrent get_chat_threads of a 1.1 MB thread, answers unread");
        let token = token(addr).await?;
        let (_, chat) = web(addr, &token, "start_chat", &serde_json::json!({})).await?;
        let thread = chat["payload"]["chat"]["thread"]["id"].as_str().ok_or("no thread")?.to_owned();
        let chat = chat["payload"]["chat"]["id"].as_str().ok_or("no chat")?.to_owned();
        let text = "t".repeat(16_000);
        for _ in 0..70 {
            let body = serde_json::json!({"chat_id": chat, "event": {"type": "message", "text": text}});
            web(addr, &token, "send_event", &body).await?;
        }
        let body = serde_json::json!({"chat_id": chat, "thread_ids": [thread]}).to_string();
        stage(&format!("{name}-before"))?;
        let mut socks = Vec::new();
        for _ in 0..20 {
            let sa: SocketAddr = addr.parse().map_err(|e| format!("{e}"))?;
            let sock = TcpSocket::new_v4().map_err(|e| e.to_string())?;
            sock.set_recv_buffer_size(4096).map_err(|e| e.to_string())?;
            let mut s = sock.connect(sa).await.map_err(|e| e.to_string())?;
            let head = format!(
                "POST /customer/v0.5/action/get_chat_threads?license_id=100 HTTP/1.1\r\nHost: {addr}\r\n\
                 Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(head.as_bytes()).await.map_err(|e| e.to_string())?;
            socks.push(s);
        }
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (status, answer) =
            web(addr, &token, "get_chat_threads", &serde_json::json!({"chat_id": chat, "thread_ids": [thread]}))
                .await?;
        stage(&format!("{name}-after"))?;
        drop(socks);
        alive(addr, name).await;
        result(
            name,
            format!(
                "HTTP {status} `{}` ({} bytes) instead of the answer",
                answer["payload"]["error"]["type"].as_str().unwrap_or("?"),
                answer.to_string().len()
            ),
        );
        Ok(())
    }

    /// 6. 20 000 unauthenticated token requests.
    async fn token_flood(addr: &str) -> Res<()> {
        let name = "a6";
        result("a6-name", "6. 20 000 token requests (new customers)");
        stage(&format!("{name}-before"))?;
        let mut tasks = tokio::task::JoinSet::new();
        for lane in 0..4 {
            let addr = addr.to_owned();
            tasks.spawn(async move {
                let mut ok = 0;
                for _ in 0..5_000 {
                    if token(&addr).await.is_ok() {
                        ok += 1;
                    }
                }
                let _ = lane;
                ok
            });
        }
        let mut ok = 0;
        while let Some(r) = tasks.join_next().await {
            ok += r.unwrap_or(0);
        }
        stage(&format!("{name}-after"))?;
        alive(addr, name).await;
        log(
            "tokens live 1 h by default; expired ones and customers with nothing left are purged 5 min after expiry (tested in tests/it/hostile.rs)",
        );
        result(name, format!("{ok} tokens issued; held until expiry + 5 min, then purged with their empty customers"));
        Ok(())
    }
}
