//! Hostile and slow clients (issue 14): each finding reproduced over real loopback sockets,
//! and the server's answer to it. Every wait is bounded; raw sockets are used where a
//! well-behaved client library would not misbehave on purpose.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chatio_server::ServerHandle;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::client::{Client, LICENSE, WAIT, builder, http, send_file, web};

// ---------------------------------------------------------------------------- raw sockets

/// A TCP connection to the server from `from` (a loopback address), with a small receive
/// buffer when asked (a client that stops reading then blocks the server's writes early).
async fn tcp(server: &ServerHandle, from: [u8; 4], rcvbuf: Option<u32>) -> TcpStream {
    let sock = TcpSocket::new_v4().expect("socket");
    if let Some(n) = rcvbuf {
        sock.set_recv_buffer_size(n).expect("SO_RCVBUF");
    }
    sock.bind(SocketAddr::from((from, 0))).expect("bind a loopback address");
    tokio::time::timeout(WAIT, sock.connect(server.addr())).await.expect("connect in time").expect("connect")
}

/// Reads up to the end of an HTTP response head.
async fn read_head(s: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut b = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = tokio::time::timeout(WAIT, s.read(&mut b)).await.expect("head in time").expect("read");
        assert!(n == 1, "connection ended in the head: {}", String::from_utf8_lossy(&head));
        head.push(b[0]);
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// A raw websocket on license 100 (handshake done, nothing else).
async fn raw_ws(server: &ServerHandle, rcvbuf: Option<u32>) -> TcpStream {
    let mut s = tcp(server, [127, 0, 0, 1], rcvbuf).await;
    let req = format!(
        "GET /customer/v0.5/rtm/ws?license_id={LICENSE} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        server.addr()
    );
    s.write_all(req.as_bytes()).await.expect("write the upgrade");
    let head = read_head(&mut s).await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    s
}

/// A websocket frame as a client sends it (masked unless told otherwise).
fn frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut f = vec![0x80 | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => f.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            f.push(mask_bit | 126);
            f.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            f.push(mask_bit | 127);
            f.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        f.extend_from_slice(&key);
        f.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        f.extend_from_slice(payload);
    }
    f
}

/// Reads one server frame: (opcode, payload); `None` when the connection ends first.
async fn read_frame(s: &mut TcpStream) -> Option<(u8, Vec<u8>)> {
    let mut h = [0u8; 2];
    tokio::time::timeout(WAIT, s.read_exact(&mut h)).await.expect("frame in time").ok()?;
    let len = match h[1] & 0x7F {
        126 => {
            let mut b = [0u8; 2];
            s.read_exact(&mut b).await.ok()?;
            u64::from(u16::from_be_bytes(b))
        }
        127 => {
            let mut b = [0u8; 8];
            s.read_exact(&mut b).await.ok()?;
            u64::from_be_bytes(b)
        }
        n => u64::from(n),
    };
    let mut payload = vec![0u8; usize::try_from(len).ok()?];
    tokio::time::timeout(WAIT, s.read_exact(&mut payload)).await.expect("payload in time").ok()?;
    Some((h[0] & 0x0F, payload))
}

/// Reads frames until a close frame: its code.
async fn close_code(s: &mut TcpStream) -> Option<u16> {
    while let Some((op, payload)) = read_frame(s).await {
        if op == 8 {
            return payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        }
    }
    None
}

/// Logs a raw websocket in with `token` and reads the answer.
async fn raw_login(s: &mut TcpStream, token: &str) {
    let login = json!({"action": "login", "request_id": "l", "payload": {"token": format!("Bearer {token}")}});
    s.write_all(&frame(1, login.to_string().as_bytes(), true)).await.expect("send login");
    let (_, answer) = read_frame(s).await.expect("login answer");
    let v: Value = serde_json::from_slice(&answer).expect("JSON");
    assert_eq!(v["success"], true, "{v}");
}

/// Polls `cond` every 20 ms until it holds or `limit` passes.
async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cond()
}

/// The process's resident set, in KiB (the server runs in this process).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------------------- 1. slow consumers

/// A logged-in connection that never reads, while pushes for its customer keep coming:
/// the bytes the server holds for it stay under the bound, it is closed (4002), and the
/// customer's other connection gets everything.
#[tokio::test]
async fn a_stalled_reader_under_a_push_flood_is_bounded_and_closed() {
    const BOUND: usize = 256 * 1024;
    let server = builder()
        .agent(false)
        .max_queued_bytes(BOUND)
        .write_timeout(Duration::from_secs(2))
        .quotas(large_property_values())
        .start()
        .await
        .unwrap();
    let mut good = Client::customer(&server).await;
    let mut stalled = raw_ws(&server, Some(4096)).await;
    raw_login(&mut stalled, &good.token).await;
    let (chat, _) = good.start_chat("flood").await;
    let rss_before = rss_kib();
    let value = "v".repeat(100_000);
    let mut max_queued = 0;
    for i in 0..100 {
        let p = json!({"chat_id": chat, "properties": {"flood": {"n": i, "v": value}}});
        good.ok("update_chat_properties", p).await;
        let _ = good.push("chat_properties_updated").await;
        max_queued = max_queued.max(server.stats().queued_bytes);
    }
    let rss_after = rss_kib();
    eprintln!(
        "stalled reader: 100 pushes of 100 kB; max queued {max_queued} B; RSS {rss_before} -> {rss_after} KiB; {:?}",
        server.stats()
    );
    // The bound, plus the one frame in the writer's hands.
    assert!(max_queued <= BOUND + 2 * 100_100, "queued {max_queued} bytes");
    assert_eq!(server.stats().slow_consumers, 1, "{:?}", server.stats());
    assert!(
        eventually(WAIT, || server.stats().sessions == 1).await,
        "stalled session still open: {:?}",
        server.stats()
    );
    assert!(eventually(WAIT, || server.stats().queued_bytes == 0).await, "{:?}", server.stats());
    // The well-behaved connection is fine.
    good.ok("ping", json!({})).await;
}

/// Quotas that let one property value be as large as a frame: the floods here are large
/// pushes, made by rewriting one property.
fn large_property_values() -> chatio_server::Quotas {
    let mut q = chatio_server::Quotas::default();
    q.property_value_bytes = chatio_wire::limits::MAX_FRAME_LEN;
    q
}

/// A blocked write stops neither the timers nor the session's end: with a full socket and a
/// queue far under its bound, the session is gone within the write timeout (+ the idle
/// timeout), not never.
#[tokio::test]
async fn a_blocked_write_does_not_stop_the_timers() {
    let server = builder()
        .agent(false)
        .idle_timeout(Duration::from_secs(1))
        .write_timeout(Duration::from_secs(1))
        .max_queued_bytes(64 << 20)
        .quotas(large_property_values())
        .start()
        .await
        .unwrap();
    let mut good = Client::customer(&server).await;
    let mut stalled = raw_ws(&server, Some(4096)).await;
    raw_login(&mut stalled, &good.token).await;
    let (chat, _) = good.start_chat("flood").await;
    let value = "v".repeat(200_000);
    for i in 0..40 {
        let p = json!({"chat_id": chat, "properties": {"flood": {"n": i, "v": value}}});
        good.ok("update_chat_properties", p).await;
    }
    let started = Instant::now();
    assert!(
        eventually(Duration::from_secs(8), || server.stats().sessions == 1).await,
        "the stalled session outlived its timers: {:?}",
        server.stats()
    );
    eprintln!("blocked writer: session gone {:?} after the flood", started.elapsed());
    drop(stalled);
}

// ---------------------------------------------------------------------------- 2. bodies, caps

/// A request whose body trickles in (one byte every 300 ms of an announced gigabyte) is
/// answered 408 and closed at the body timeout; a connection that sends nothing at all is
/// closed at the same timeout.
#[tokio::test]
async fn a_trickled_body_is_closed_by_its_timeout() {
    let server = builder().agent(false).body_timeout(Duration::from_secs(1)).start().await.unwrap();
    let mut s = tcp(&server, [127, 0, 0, 1], None).await;
    s.write_all(b"POST /customer/ HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741824\r\n\r\n").await.unwrap();
    let started = Instant::now();
    let trickle = async {
        for _ in 0..30 {
            if s.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_millis(1500), trickle).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut answer)).await.expect("closed in time");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(server.stats().body_timeouts, 1);
    // Nothing sent at all: closed too.
    let mut idle = tcp(&server, [127, 0, 0, 1], None).await;
    let mut buf = Vec::new();
    let r = tokio::time::timeout(Duration::from_secs(5), idle.read_to_end(&mut buf)).await;
    assert!(r.is_ok(), "a silent connection is still open");
}

/// The per-address and the global connection caps refuse the one too many with 503 and
/// free their slot when a connection ends.
#[tokio::test]
async fn connection_caps_refuse_the_one_too_many() {
    let server = builder().agent(false).max_connections(4).max_connections_per_address(3).start().await.unwrap();
    async fn refused(server: &ServerHandle, from: [u8; 4]) -> bool {
        let mut s = tcp(server, from, None).await;
        let _ = s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
        let mut buf = [0u8; 12];
        let n = tokio::time::timeout(WAIT, s.read(&mut buf)).await.expect("answer in time").unwrap_or(0);
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        assert!(text.starts_with("HTTP/1.1 "), "{text}");
        text.starts_with("HTTP/1.1 503")
    }
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(tcp(&server, [127, 0, 0, 1], None).await);
    }
    assert!(refused(&server, [127, 0, 0, 1]).await, "per-address cap");
    let other = tcp(&server, [127, 0, 0, 2], None).await;
    assert!(refused(&server, [127, 0, 0, 3]).await, "global cap");
    drop(other);
    assert!(eventually(WAIT, || true).await);
    let mut freed = false;
    for _ in 0..50 {
        if !refused(&server, [127, 0, 0, 3]).await {
            freed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(freed, "the slot of a closed connection is given back");
    assert!(server.stats().refused_connections >= 2);
    drop(held);
}

// ---------------------------------------------------------------------------- 3. big answers

/// A thread too big to answer in one frame: RTM and Web API both answer `validation`
/// (with the request id on the RTM), never a frame over 1 MiB.
#[tokio::test]
async fn an_answer_over_one_mib_is_a_validation_error_on_both_apis() {
    let server = builder().agent(false).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("big").await;
    let text = "t".repeat(16_000);
    for _ in 0..70 {
        c.say(&chat, &text).await;
    }
    let r = c.request("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(r["success"], false, "an answer over 1 MiB went out");
    assert_eq!(r["payload"]["error"]["type"], "validation");
    assert!(r["request_id"].is_string(), "{r}");
    assert!(r["payload"]["error"]["message"].as_str().unwrap().contains("1 MiB"));
    let w = web(&server, "get_chat_threads", &c.token, json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(w.status, 400);
    assert!(w.body.len() < 1024);
    assert_eq!(w.json()["payload"]["error"]["type"], "validation");
    // A smaller thread still answers.
    let (small, small_thread) = c.start_chat("small").await;
    c.ok("get_chat_threads", json!({"chat_id": small, "thread_ids": [small_thread]})).await;
}

// ---------------------------------------------------------------------------- 4. logs

/// `RUST_LOG=trace` on the binary: neither the token of a websocket login nor that of a
/// Web API call shows in the log.
#[tokio::test]
async fn tokens_never_reach_a_trace_log() {
    use std::io::BufRead;
    let log = std::env::temp_dir().join(format!("chatio-trace-{}.log", std::process::id()));
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chatio-server"))
        .args(["--listen", "127.0.0.1:0", "--no-agent", "--memory"])
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(&log).expect("log file"))
        .spawn()
        .expect("the server binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
        line
    })
    .await
    .expect("read the line");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("the URL line").to_owned();
    let addr = url.trim_start_matches("http://").to_owned();
    let body = "client_id=x&response_type=token&redirect_uri=http%3A%2F%2Flocalhost";
    let token_reply = {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        let req = format!(
            "POST /customer/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await.expect("in time").unwrap();
        String::from_utf8_lossy(&out).into_owned()
    };
    let json_start = token_reply.find('{').expect("JSON body");
    let v: Value = serde_json::from_str(&token_reply[json_start..]).expect("token JSON");
    let token = v["access_token"].as_str().expect("a token").to_owned();
    // A websocket login (tungstenite traces every frame it reads) and a Web API call.
    let mut c = Client::connect(&format!("ws://{addr}/customer/v0.5/rtm/ws?license_id={LICENSE}")).await;
    let r = c.request("login", json!({"token": format!("Bearer {token}")})).await;
    assert_eq!(r["success"], true, "{r}");
    c.ok("get_chats_summary", json!({})).await;
    {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        let req = format!(
            "POST /customer/v0.5/action/get_chats_summary?license_id={LICENSE} HTTP/1.1\r\nHost: x\r\n\
             Authorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
             Connection: close\r\n\r\n{{}}"
        );
        s.write_all(req.as_bytes()).await.unwrap();
        let mut out = Vec::new();
        tokio::time::timeout(WAIT, s.read_to_end(&mut out)).await.expect("in time").unwrap();
        assert!(String::from_utf8_lossy(&out).starts_with("HTTP/1.1 200"));
    }
    c.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    assert!(text.contains("listening"), "the log was written: {} bytes", text.len());
    assert!(!text.contains(&token), "the token is in the trace log");
    assert!(!text.contains("Received message"), "frames are traced");
}

// ---------------------------------------------------------------------------- 5. files

/// Uploaded active content comes back as an attachment, never sniffed, sandboxed; raster
/// images stay inline.
#[tokio::test]
async fn uploaded_files_are_served_inert() {
    let server = builder().agent(false).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("files").await;
    let cases: [(&str, &str, &[u8], &str); 3] = [
        ("x.html", "text/html", b"<script>alert(document.cookie)</script>", "attachment"),
        ("x.svg", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "attachment"),
        ("x.png", "image/png", b"\x89PNG\r\n\x1a\n", "inline"),
    ];
    for (name, ct, bytes, disposition) in cases {
        let reply = send_file(&server, &c.token, &[("payload.chat_id", chat.as_str())], Some((name, ct, bytes))).await;
        assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
        let url = reply.json()["payload"]["url"].as_str().unwrap().to_owned();
        let served = http(&server, "GET", url.trim_start_matches(&server.http_url()), &[], "").await;
        assert_eq!(served.status, 200);
        assert_eq!(served.body.as_ref(), bytes);
        let h = |k: &str| served.headers.get(k).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        assert!(h("content-disposition").starts_with(disposition), "{name}: {:?}", served.headers);
        assert_eq!(h("x-content-type-options"), "nosniff", "{name}");
        assert!(h("content-security-policy").contains("sandbox"), "{name}");
        assert!(h("content-security-policy").contains("default-src 'none'"), "{name}");
    }
}

// ---------------------------------------------------------------------------- 6. state

/// Expired tokens go, and so do customers with nothing left; a customer with a chat stays.
#[tokio::test]
async fn expired_tokens_and_empty_customers_are_purged() {
    // Three seconds of life: long enough for the keeper to log in on a loaded machine (a
    // 1 s token could expire before its login), short enough for the test.
    let lifetime = Duration::from_secs(3);
    let server =
        builder().agent(false).token_lifetime(lifetime).expired_token_grace(Duration::ZERO).start().await.unwrap();
    let made = Instant::now();
    for _ in 0..200 {
        server.create_token(LICENSE, None).unwrap();
    }
    let mut keeper = Client::customer(&server).await;
    keeper.start_chat("I stay").await;
    drop(keeper);
    // All still there, unless the machine was so slow that they already expired.
    if made.elapsed() < lifetime {
        assert!(server.stats().tokens >= 201 && server.stats().customers >= 201, "{:?}", server.stats());
    }
    let purged = eventually(Duration::from_secs(30), || {
        let s = server.stats();
        s.tokens == 0 && s.customers == 1
    })
    .await;
    assert!(purged, "{:?}", server.stats());
}

/// `update_customer` (and `login`) cannot grow `fields` past 100 by merging (G23).
#[tokio::test]
async fn merged_customer_fields_stay_under_100() {
    let server = builder().agent(false).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let fields = |from: usize| -> Value { (from..from + 60).map(|i| (format!("k{i}"), json!("v"))).collect() };
    c.ok("update_customer", json!({"customer": {"fields": fields(0)}})).await;
    c.ok("update_customer", json!({"customer": {"fields": fields(0)}})).await;
    let e = c.fails("update_customer", json!({"customer": {"fields": fields(60)}}), "validation").await;
    assert!(e["message"].as_str().unwrap().contains("100"), "{e}");
    c.ok("update_customer", json!({"customer": {"fields": fields(20)}})).await;
}

/// The token endpoint refuses customer ids with control characters, quotes or markup.
#[tokio::test]
async fn the_token_endpoint_validates_customer_ids() {
    let server = builder().agent(false).app_token("backend").start().await.unwrap();
    let form = |id: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", "x")
            .append_pair("response_type", "token")
            .append_pair("redirect_uri", "http://localhost")
            .append_pair("customer_id", id)
            .finish()
    };
    let ct = [("content-type", "application/x-www-form-urlencoded"), ("authorization", "Bearer backend")];
    for bad in ["a\nb", "a\u{0}b", "a\"b", "<script>", "a b"] {
        let r = http(&server, "POST", "/customer/", &ct, form(bad)).await;
        assert_eq!(r.status, 400, "{bad:?} accepted");
        assert_eq!(r.json()["error"], "invalid_request");
    }
    for good in ["pinned-1", "5f1e6c2a-3b4d-4e5f-8a9b-0c1d2e3f4a5b", "user@example.com"] {
        let r = http(&server, "POST", "/customer/", &ct, form(good)).await;
        assert_eq!(r.status, 200, "{good:?} refused");
        assert_eq!(r.json()["entity_id"], good);
    }
}

// ---------------------------------------------------------------------------- 7. seeds

/// Two servers with the same seed give the same ids, but never the same tokens or file URLs.
#[tokio::test]
async fn a_seed_never_predicts_tokens_or_file_urls() {
    let a = builder().agent(false).seed(7).start().await.unwrap();
    let b = builder().agent(false).seed(7).start().await.unwrap();
    let (ta, ca) = a.create_token(LICENSE, None).unwrap();
    let (tb, cb) = b.create_token(LICENSE, None).unwrap();
    assert_eq!(ca, cb, "seeded ids stay deterministic");
    assert_ne!(ta, tb, "tokens follow the seed");
    let mut urls = Vec::new();
    for (server, token) in [(&a, &ta), (&b, &tb)] {
        let mut c = Client::with_token(server, token).await;
        let (chat, _) = c.start_chat("f").await;
        let reply =
            send_file(server, token, &[("payload.chat_id", chat.as_str())], Some(("f.txt", "text/plain", b"x"))).await;
        let url = reply.json()["payload"]["url"].as_str().unwrap().to_owned();
        urls.push(url.rsplit('/').next().unwrap().to_owned());
    }
    assert_ne!(urls[0], urls[1], "file URLs follow the seed");
}

// ---------------------------------------------------------------------------- 8. protocol edges

/// Invalid UTF-8 in a text frame closes with 1007, an unmasked client frame with 1002
/// (RFC 6455 7.4.1), each with a close frame; other connections are unaffected.
#[tokio::test]
async fn bad_frames_get_their_rfc_close_codes() {
    let server = builder().agent(false).start().await.unwrap();
    let mut bystander = Client::customer(&server).await;
    let mut s = raw_ws(&server, None).await;
    s.write_all(&frame(1, b"{\"action\":\"ping\",\"x\":\"\xff\xfe\"}", true)).await.unwrap();
    assert_eq!(close_code(&mut s).await, Some(1007));
    let mut s = raw_ws(&server, None).await;
    s.write_all(&frame(1, br#"{"action":"ping"}"#, false)).await.unwrap();
    assert_eq!(close_code(&mut s).await, Some(1002));
    bystander.ok("ping", json!({})).await;
}

/// A frame failing on an out-of-range number is answered with its request id (G7).
#[tokio::test]
async fn an_out_of_range_number_keeps_the_request_id() {
    let server = builder().agent(false).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    c.send_text(r#"{"request_id":"big-1","action":"get_chats_summary","payload":{"limit":1e400}}"#).await;
    let r = c.recv().await;
    assert_eq!(r["request_id"], "big-1", "{r}");
    assert_eq!(r["payload"]["error"]["type"], "validation");
}
