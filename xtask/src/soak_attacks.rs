//! `cargo xtask soak --attacks` (also `soak --server --attacks`): each attack of issues 14
//! and 21 once, in turn, against one fresh release server with its default limits (but for
//! the upload total, lowered so that the run fits a small machine), while an honest
//! customer keeps chatting from another client address.
//!
//! Two processes on loopback, as in `soak --server`: the release `chatio-server` and the
//! load generator (`xtask soak --server --load-attacks`). The attackers connect from
//! 127.0.0.1; the honest customer from 127.0.0.2 (another address for the per-address caps
//! and the token rate), sending one message every 250 ms over its websocket and counting
//! the answers. Around each attack the orchestrator reads the server's RSS and open file
//! descriptors (its connections, plus a few files) from `/proc`; a sampler keeps the RSS
//! peak. The table says, per attack, what the server answered, whether the honest customer
//! was served throughout (answered / sent, slowest answer), RSS before → peak → after and
//! descriptors before → peak → after. The run fails when the server died, the honest
//! customer lost an answer, or the RSS passed [`RSS_BOUND_KIB`].

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::load::generator::{Opts, log, result, runtime, stage};
use crate::load::http::{access_token, connect_from, read_answer, request, request_from, token, token_path, web};
use crate::load::orchestrator::Sampler;
use crate::load::orchestrator::{ServerProcess, rss_kib, run_generator};
use crate::load::ws::{CLOSE, Connect, Ws, contains};

/// The honest customer's address (the attackers use 127.0.0.1).
const HONEST: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
/// The address that checks, after each attack, that a fresh client is served.
const PROBE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
/// The upload total of the run's server (`--quota upload_bytes`): 300 MiB instead of 1 GiB,
/// so that the upload spam reaches it on a small machine.
const UPLOAD_TOTAL: u64 = 300 * 1024 * 1024;
/// The RSS the server must stay under for the run to pass: the upload total plus room for
/// everything else the attacks make it hold within its limits.
const RSS_BOUND_KIB: u64 = (UPLOAD_TOTAL + 400 * 1024 * 1024) / 1024;

/// Open file descriptors of a process (its sockets, plus a few files).
fn fds(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count() as u64)
}

/// Entry point of the orchestrator.
pub fn orchestrate() -> Result<()> {
    let total = UPLOAD_TOTAL.to_string();
    let quota = format!("upload_bytes={total}");
    let mut server = ServerProcess::start(&["--listen", "127.0.0.1:0", "--memory", "--no-agent", "--quota", &quota])?;
    let pid = server.pid;
    let sampler = Sampler::start(pid, Duration::from_millis(100));
    let mut stages: BTreeMap<String, (Instant, u64, u64)> = BTreeMap::new();
    let results = run_generator(
        &["soak", "--server", "--load-attacks", "--url", &server.url],
        Duration::from_secs(1_200),
        &[pid],
        |stage| {
            let (k, f) = (rss_kib(pid)?, fds(pid));
            eprintln!("  {stage:<14} server RSS {k:>8} KiB, {f:>5} descriptors");
            stages.insert(stage.to_owned(), (Instant::now(), k, f));
            Ok(())
        },
    );
    let alive = server.is_alive();
    let samples = sampler.finish();
    drop(server);
    let results = results?.0;
    let get = |key: &str| results.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    println!(
        "\n| attack | server's answer | honest customer served (answered / sent, slowest) | server alive after | RSS before → peak → after | descriptors before → peak → after |\n|---|---|---|---|---|---|"
    );
    let (mut failures, mut rss_peak) = (Vec::new(), 0);
    for (name, answer) in &results {
        if name.contains('-') {
            continue;
        }
        let (Some(before), Some(after)) = (stages.get(&format!("{name}-before")), stages.get(&format!("{name}-after")))
        else {
            continue;
        };
        let peak = samples.iter().filter(|(t, _)| *t >= before.0 && *t <= after.0).map(|(_, k)| *k).max();
        let peak = peak.unwrap_or(0).max(before.1).max(after.1);
        rss_peak = rss_peak.max(peak);
        let fd_peak = stages.get(&format!("{name}-peak")).map_or(0, |s| s.2).max(before.2).max(after.2);
        let answered = get(&format!("{name}-alive")).as_deref() == Some("yes") && alive;
        let honest = get(&format!("{name}-honest")).unwrap_or_else(|| "?".into());
        if get(&format!("{name}-honest-lost")).as_deref() != Some("0") {
            failures.push(format!("{name}: the honest customer lost answers ({honest})"));
        }
        if !answered {
            failures.push(format!("{name}: the server did not answer a fresh client afterwards"));
        }
        println!(
            "| {} | {answer} | {honest} | {} | {} → {peak} → {} KiB | {} → {fd_peak} → {} |",
            get(&format!("{name}-name")).unwrap_or_else(|| name.clone()),
            if answered { "yes" } else { "no" },
            before.1,
            after.1,
            before.2,
            after.2,
        );
    }
    println!(
        "\nserver RSS peak {rss_peak} KiB (bound for this run: {RSS_BOUND_KIB} KiB); server alive at the end: {alive}"
    );
    if rss_peak > RSS_BOUND_KIB {
        failures.push(format!("the server's RSS reached {rss_peak} KiB, over {RSS_BOUND_KIB} KiB"));
    }
    if !failures.is_empty() {
        bail!("the attacks soak failed:\n  {}", failures.join("\n  "));
    }
    Ok(())
}

/// The honest customer's counts.
#[derive(Default)]
struct Honest {
    sent: AtomicU64,
    answered: AtomicU64,
    slowest_us: AtomicU64,
    stop: AtomicBool,
}

/// One attack's window on the honest customer: its counts when the attack began.
struct Window {
    name: &'static str,
    sent: u64,
    answered: u64,
}

impl Honest {
    /// Starts an attack's window: `STAGE <name>-before`, counts noted, slowest reset.
    fn begin(&self, name: &'static str, label: &str) -> Result<Window> {
        result(&format!("{name}-name"), label);
        stage(&format!("{name}-before"))?;
        self.slowest_us.store(0, Ordering::Relaxed);
        Ok(Window { name, sent: self.sent.load(Ordering::Relaxed), answered: self.answered.load(Ordering::Relaxed) })
    }

    /// Ends it: waits for the honest customer's message in flight, `STAGE <name>-after`,
    /// reports its counts, whether a fresh client is served, and the attack's answer.
    async fn end(&self, w: Window, addr: &str, answer: String) -> Result<()> {
        tokio::time::sleep(Duration::from_millis(600)).await;
        stage(&format!("{}-after", w.name))?;
        let sent = self.sent.load(Ordering::Relaxed) - w.sent;
        let answered = self.answered.load(Ordering::Relaxed) - w.answered;
        let slowest = self.slowest_us.load(Ordering::Relaxed) as f64 / 1000.0;
        result(&format!("{}-honest", w.name), format!("{answered} / {sent}, {slowest:.0} ms"));
        // A message may still be in flight at the window's end: lost only past that one.
        result(&format!("{}-honest-lost", w.name), sent.saturating_sub(answered).saturating_sub(1));
        let ok = matches!(request_from(Some(PROBE), addr, "GET", "/", "", b"").await, Ok((200, _)));
        result(&format!("{}-alive", w.name), if ok { "yes" } else { "no" });
        result(w.name, answer);
        Ok(())
    }
}

/// The honest customer: one message every 250 ms on its own chat until stopped; a lost
/// connection is opened again with the same token.
async fn honest(addr: String, token: String, chat: String, mut ws: Ws, h: Arc<Honest>) {
    let mut n = 0u64;
    while !h.stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        n += 1;
        let id = format!("h{n}");
        let frame = format!(
            r#"{{"request_id":"{id}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"honest {n}"}}}}}}"#
        );
        h.sent.fetch_add(1, Ordering::Relaxed);
        let t = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(10), ws.request(&id, &frame)).await;
        match answer {
            Ok(Ok(r)) if contains(&r, b"\"success\":true") => {
                h.answered.fetch_add(1, Ordering::Relaxed);
                h.slowest_us.fetch_max(t.elapsed().as_micros() as u64, Ordering::Relaxed);
            }
            other => {
                log(&format!("honest customer: message {n} not answered: {}", describe(other)));
                let opts = Connect { local: Some(HONEST), ..Connect::default() };
                loop {
                    if let Ok(mut w) = Ws::connect_with(&addr, opts).await
                        && w.login(&token).await.is_ok()
                    {
                        ws = w;
                        break;
                    }
                    if h.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
    }
}

fn describe(r: std::result::Result<Result<Vec<u8>>, tokio::time::error::Elapsed>) -> String {
    match r {
        Ok(Ok(frame)) => String::from_utf8_lossy(&frame).chars().take(200).collect(),
        Ok(Err(e)) => format!("{e:#}"),
        Err(_) => "no answer within 10 s".into(),
    }
}

/// Entry point of the generator.
pub fn load(args: &[String]) -> Result<()> {
    let addr = Opts::parse(args)?.addr()?;
    runtime()?.block_on(async move {
        // The honest customer, from its own address, set up before any attack.
        let (status, body) = request_from(Some(HONEST), &addr, "POST", &token_path("honest"), "", b"").await?;
        let honest_token = access_token(status, &body)?;
        let mut ws = Ws::connect_with(&addr, Connect { local: Some(HONEST), ..Connect::default() }).await?;
        ws.login(&honest_token).await?;
        let (chat, _) = ws.start_chat().await?;
        let h = Arc::new(Honest::default());
        let task = tokio::spawn(honest(addr.clone(), honest_token, chat, ws, h.clone()));
        let run = async {
            stalled_reader(&addr, &h).await?;
            slow_bodies(&addr, &h).await?;
            big_answers(&addr, &h).await?;
            connection_flood(&addr, &h).await?;
            oversize_frames(&addr, &h).await?;
            event_spam(&addr, &h).await?;
            chat_spam(&addr, &h).await?;
            upload_spam(&addr, &h).await?;
            token_flood(&addr, &h).await?;
            // Last: its sessions hold 127.0.0.1's share of the connection cap for a minute.
            sio_flood(&addr, &h).await
        };
        let outcome = run.await;
        h.stop.store(true, Ordering::Relaxed);
        let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
        outcome
    })
}

/// The `payload.chat.id` of a `start_chat` answer.
fn chat_id(answer: &serde_json::Value) -> Result<String> {
    answer["payload"]["chat"]["id"].as_str().map(str::to_owned).ok_or_else(|| anyhow!("no chat in {answer}"))
}

/// The quota a refusal names (`data.limit`), or its type.
fn refusal(answer: &serde_json::Value) -> String {
    let e = &answer["payload"]["error"];
    match e["data"]["limit"].as_str() {
        Some(limit) => format!("`{}` {limit}", e["type"].as_str().unwrap_or("?")),
        None => format!("`{}`", e["type"].as_str().unwrap_or("?")),
    }
}

/// 1. A logged-in websocket that never reads while 300 `update_customer` calls push the
///    customer's 100 fields of 4 000 characters (~400 kB each) to it; the queue's bound is
///    2 MiB. Nothing is stored beyond the one customer's fields.
async fn stalled_reader(addr: &str, h: &Honest) -> Result<()> {
    let token = token(addr).await?;
    let mut ws = Ws::connect_with(addr, Connect { recv_buffer: Some(4096), ..Connect::default() }).await?;
    ws.send(&format!(r#"{{"action":"login","payload":{{"token":"Bearer {token}"}}}}"#)).await?;
    web(addr, &token, "start_chat", &serde_json::json!({})).await?;
    let w = h.begin("a1", "1. stalled reader, 300 × 400 kB pushes (update_customer, 100 fields)")?;
    let value = "v".repeat(4_000);
    let mut failed = 0;
    for i in 0..300 {
        let mut fields: serde_json::Map<String, serde_json::Value> =
            (0..99).map(|k| (format!("f{k}"), serde_json::Value::from(value.clone()))).collect();
        fields.insert("n".into(), i.to_string().into());
        let body = serde_json::json!({"customer": {"fields": fields}});
        if !matches!(web(addr, &token, "update_customer", &body).await, Ok((200, _))) {
            failed += 1;
        }
    }
    // The stalled client reads at last: the frames the kernel held, then the server's close.
    let mut close = None;
    let ended = tokio::time::timeout(Duration::from_secs(40), async {
        loop {
            match ws.frame() {
                Ok(Some(f)) if f.opcode == CLOSE => {
                    close = f.payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                }
                Ok(Some(_)) => {}
                Ok(None) => {
                    if ws.fill().await.is_err() {
                        return;
                    }
                }
                Err(_) => return,
            }
        }
    })
    .await
    .is_ok();
    let closed = match close {
        Some(4002) => "session closed with 4002 `slow_consumer`".to_owned(),
        Some(code) => format!("session closed with {code}"),
        None if ended => "connection ended without a close frame".to_owned(),
        None => "NOT closed within 40 s".to_owned(),
    };
    let answer = format!("{closed}; {} of 300 Web API calls answered 200", 300 - failed);
    h.end(w, addr, answer).await
}

/// 2. 140 requests announcing a 1 GiB body that never comes.
async fn slow_bodies(addr: &str, h: &Honest) -> Result<()> {
    let w = h.begin("a2", "2. 140 POST /customer/ with Content-Length 1 GiB, no body")?;
    let mut socks = Vec::new();
    for _ in 0..140 {
        let mut s = TcpStream::connect(addr).await?;
        s.write_all(b"POST /customer/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n").await?;
        socks.push(s);
    }
    stage("a2-peak")?;
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
    h.end(w, addr, format!("{timed_out} of 140 answered 408 and closed after {secs:.0} s")).await
}

/// 3. 20 concurrent `get_chat_threads` of a thread over 1 MiB, by clients that do not read.
async fn big_answers(addr: &str, h: &Honest) -> Result<()> {
    let token = token(addr).await?;
    let (_, chat) = web(addr, &token, "start_chat", &serde_json::json!({})).await?;
    let thread = chat["payload"]["chat"]["thread"]["id"].as_str().context("no thread")?.to_owned();
    let chat = chat_id(&chat)?;
    let text = "t".repeat(16_000);
    for _ in 0..70 {
        let body = serde_json::json!({"chat_id": chat, "event": {"type": "message", "text": text}});
        web(addr, &token, "send_event", &body).await?;
    }
    let body = serde_json::json!({"chat_id": chat, "thread_ids": [thread]}).to_string();
    let w = h.begin("a3", "3. 20 concurrent get_chat_threads of a 1.1 MB thread, answers unread")?;
    let mut socks = Vec::new();
    for _ in 0..20 {
        let sa: SocketAddr = addr.parse()?;
        let sock = TcpSocket::new_v4()?;
        sock.set_recv_buffer_size(4096)?;
        let mut s = sock.connect(sa).await?;
        let head = format!(
            "POST /customer/v0.5/action/get_chat_threads?license_id=100 HTTP/1.1\r\nHost: {addr}\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(head.as_bytes()).await?;
        socks.push(s);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (status, answer) =
        web(addr, &token, "get_chat_threads", &serde_json::json!({"chat_id": chat, "thread_ids": [thread]})).await?;
    drop(socks);
    let answer = format!(
        "HTTP {status} `{}` ({} bytes) instead of the answer",
        answer["payload"]["error"]["type"].as_str().unwrap_or("?"),
        answer.to_string().len()
    );
    h.end(w, addr, answer).await
}

/// 7. 2 000 TCP connections from one address, held open without a request.
async fn connection_flood(addr: &str, h: &Honest) -> Result<()> {
    let w = h.begin("a7", "7. 2 000 idle TCP connections from one address")?;
    let mut held = Vec::new();
    let (mut refused, mut failed) = (0, 0);
    for _ in 0..2_000 {
        match TcpStream::connect(addr).await {
            Ok(s) => held.push(s),
            Err(_) => failed += 1,
        }
    }
    // The server answers a connection over a cap with 503 and closes it.
    let mut open = Vec::new();
    for mut s in held {
        let mut b = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(20), s.read(&mut b)).await {
            Ok(Ok(n)) if n > 0 && b.starts_with(b"HTTP/1.1 503") => refused += 1,
            Ok(_) => refused += 1,
            Err(_) => open.push(s),
        }
    }
    stage("a7-peak")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kept = open.len();
    drop(open);
    let answer =
        format!("{kept} held (the per-address cap, 512), {refused} answered 503 and closed, {failed} not connected");
    h.end(w, addr, answer).await
}

/// 8. 50 websockets each sending a frame that announces 16 MiB (the limit is 1 MiB).
async fn oversize_frames(addr: &str, h: &Honest) -> Result<()> {
    let w = h.begin("a8", "8. 50 websocket frames announcing 16 MiB, 2 MiB sent")?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let addr = addr.to_owned();
        tasks.spawn(async move {
            let Ok(mut ws) = Ws::connect(&addr).await else { return (false, false) };
            let mut head = vec![0x81, 0x80 | 127];
            head.extend_from_slice(&(16u64 << 20).to_be_bytes());
            head.extend_from_slice(&[0, 0, 0, 0]);
            let _ = ws.send_raw(&head).await;
            let chunk = vec![b'x'; 64 * 1024];
            for _ in 0..32 {
                if ws.send_raw(&chunk).await.is_err() {
                    break;
                }
            }
            // The server's close frame, then the end of the connection.
            let mut code_1009 = false;
            let ended = tokio::time::timeout(Duration::from_secs(10), async {
                loop {
                    match ws.frame() {
                        Ok(Some(f)) if f.opcode == CLOSE => code_1009 |= f.payload.starts_with(&1009u16.to_be_bytes()),
                        Ok(Some(_)) => {}
                        Ok(None) => {
                            if ws.fill().await.is_err() {
                                return;
                            }
                        }
                        Err(_) => return,
                    }
                }
            })
            .await
            .is_ok();
            (ended, code_1009)
        });
    }
    let (mut ended, mut code) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        let (e, c) = r.unwrap_or((false, false));
        ended += u32::from(e);
        code += u32::from(c);
    }
    h.end(w, addr, format!("{ended} of 50 connections ended by the server ({code} with close 1009 seen)")).await
}

/// 9. One customer sends 12 000 messages of 1 000 characters into one chat.
async fn event_spam(addr: &str, h: &Honest) -> Result<()> {
    let token = token(addr).await?;
    let mut ws = Ws::connect(addr).await?;
    ws.login(&token).await?;
    let (chat, _) = ws.start_chat().await?;
    let w = h.begin("a9", "9. 12 000 messages of 1 000 characters into one chat")?;
    let text = "e".repeat(1_000);
    let (mut ok, mut refused, mut first) = (0u32, 0u32, None);
    for i in 0..12_000 {
        let id = format!("e{i}");
        let frame = format!(
            r#"{{"request_id":"{id}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"{text}"}}}}}}"#
        );
        let r = ws.request(&id, &frame).await?;
        if contains(&r, b"\"success\":true") {
            ok += 1;
        } else {
            refused += 1;
            if first.is_none() {
                first = serde_json::from_slice::<serde_json::Value>(&r).ok().map(|v| refusal(&v));
            }
        }
    }
    let first = first.unwrap_or_else(|| "none".into());
    h.end(w, addr, format!("{ok} stored, then {refused} refused with {first} (8 MiB per chat)")).await
}

/// 10. One customer starts 1 100 chats.
async fn chat_spam(addr: &str, h: &Honest) -> Result<()> {
    let token = token(addr).await?;
    let mut ws = Ws::connect(addr).await?;
    ws.login(&token).await?;
    let w = h.begin("a10", "10. 1 100 start_chat by one customer")?;
    let (mut ok, mut refused, mut first) = (0u32, 0u32, None);
    for i in 0..1_100 {
        let id = format!("c{i}");
        let frame = format!(r#"{{"request_id":"{id}","action":"start_chat","payload":{{"chat":{{}}}}}}"#);
        let r = ws.request(&id, &frame).await?;
        if contains(&r, b"\"success\":true") {
            ok += 1;
        } else {
            refused += 1;
            if first.is_none() {
                first = serde_json::from_slice::<serde_json::Value>(&r).ok().map(|v| refusal(&v));
            }
        }
    }
    let first = first.unwrap_or_else(|| "none".into());
    h.end(w, addr, format!("{ok} started, then {refused} refused with {first}")).await
}

/// `send_file` of `size` bytes through the Web API: (status, answer).
async fn upload(addr: &str, token: &str, chat: &str, size: usize) -> Result<(u16, serde_json::Value)> {
    let boundary = "soakboundary7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"payload.chat_id\"\r\n\r\n{chat}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"payload.file\"; filename=\"spam.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.resize(body.len() + size, b'u');
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let headers =
        format!("Authorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n");
    let (status, b) = request(addr, "POST", "/customer/v0.5/action/send_file?license_id=100", &headers, &body).await?;
    Ok((status, serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null)))
}

/// 11. Three customers upload 10 MiB files, 25 each.
async fn upload_spam(addr: &str, h: &Honest) -> Result<()> {
    let mut customers = Vec::new();
    for _ in 0..3 {
        let token = token(addr).await?;
        let (_, chat) = web(addr, &token, "start_chat", &serde_json::json!({})).await?;
        customers.push((token, chat_id(&chat)?));
    }
    let w = h.begin("a11", "11. 3 customers × 25 uploads of 10 MiB (upload total lowered to 300 MiB)")?;
    let mut refusals: BTreeMap<String, u32> = BTreeMap::new();
    let mut ok = 0;
    for (token, chat) in &customers {
        for _ in 0..25 {
            let (status, answer) = upload(addr, token, chat, 10 << 20).await?;
            if status == 200 {
                ok += 1;
            } else {
                *refusals.entry(format!("HTTP {status} {}", refusal(&answer))).or_default() += 1;
            }
        }
    }
    let refused: Vec<String> = refusals.iter().map(|(k, n)| format!("{n} × {k}")).collect();
    h.end(w, addr, format!("{ok} stored (200 MiB per customer, 300 MiB in all); refused: {}", refused.join(", "))).await
}

/// 6. 20 000 unauthenticated token requests from one address.
async fn token_flood(addr: &str, h: &Honest) -> Result<()> {
    let w = h.begin("a6", "6. 20 000 token requests from one address (new customers)")?;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..4 {
        let addr = addr.to_owned();
        tasks.spawn(async move {
            let (mut ok, mut slow_down, mut other) = (0u32, 0u32, 0u32);
            let mut stream: Option<TcpStream> = None;
            let mut buf = Vec::new();
            let req = format!("POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n", token_path("flood"));
            for _ in 0..5_000 {
                if stream.is_none() {
                    stream = connect_from(None, &addr).await.ok();
                    buf.clear();
                }
                let Some(s) = stream.as_mut() else {
                    other += 1;
                    continue;
                };
                let answer = match s.write_all(req.as_bytes()).await {
                    Ok(()) => read_answer(s, &mut buf).await,
                    Err(e) => Err(e.into()),
                };
                match answer {
                    Ok((200, _)) => ok += 1,
                    Ok((429, _)) => slow_down += 1,
                    Ok(_) => other += 1,
                    Err(_) => {
                        other += 1;
                        stream = None;
                    }
                }
            }
            (ok, slow_down, other)
        });
    }
    let (mut ok, mut slow_down, mut other) = (0, 0, 0);
    while let Some(r) = tasks.join_next().await {
        let (a, b, c) = r.unwrap_or((0, 0, 0));
        (ok, slow_down, other) = (ok + a, slow_down + b, other + c);
    }
    let answer = format!("{ok} tokens issued, {slow_down} answered 429 `slow_down` (20/s after 200), {other} other");
    h.end(w, addr, answer).await
}

/// 12. 30 000 socket.io handshakes over keep-alive connections from one address.
async fn sio_flood(addr: &str, h: &Honest) -> Result<()> {
    let w = h.begin("a12", "12. 30 000 socket.io handshakes from one address (keep-alive)")?;
    let req = format!(
        "GET /customer/v0.5/rtm/sio/?EIO=3&transport=polling&license_id=100 HTTP/1.1\r\nHost: {addr}\r\n\
         X-Padding: {}\r\n\r\n",
        "p".repeat(8_000)
    );
    let (mut ok, mut refused, mut other) = (0u32, 0u32, 0u32);
    let mut stream: Option<TcpStream> = None;
    let mut buf = Vec::new();
    for _ in 0..30_000 {
        if stream.is_none() {
            stream = connect_from(None, addr).await.ok();
            buf.clear();
        }
        let Some(s) = stream.as_mut() else {
            other += 1;
            tokio::time::sleep(Duration::from_millis(1)).await;
            continue;
        };
        let answer = match s.write_all(req.as_bytes()).await {
            Ok(()) => read_answer(s, &mut buf).await,
            Err(e) => Err(e.into()),
        };
        match answer {
            Ok((200, _)) => ok += 1,
            Ok((503, _)) => refused += 1,
            Ok(_) => other += 1,
            Err(_) => {
                other += 1;
                stream = None;
            }
        }
    }
    stage("a12-peak")?;
    drop(stream);
    let answer = format!(
        "{ok} sessions opened (the per-address cap, 512, counts them), {refused} answered 503 `too many sessions`, {other} other; none keeps the 8 kB header"
    );
    h.end(w, addr, answer).await
}
