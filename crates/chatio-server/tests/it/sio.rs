//! The socket.io transport (`/customer/v0.5/rtm/sio`) with a raw Engine.IO 3 / socket.io 4
//! client over real loopback HTTP and websocket: the session, the upgrade, heartbeats as the
//! idle rule, the per-customer cap, and bad input (each answered, the server and the other
//! sessions unaffected).

use std::time::{Duration, Instant};

use async_tungstenite::tokio::connect_async;
use async_tungstenite::tungstenite::Message;
use chatio_server::ServerHandle;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::client::{Client, LICENSE, WAIT, builder, http, server};

/// A raw socket.io session over long-polling.
struct Sio<'a> {
    server: &'a ServerHandle,
    sid: String,
    b64: bool,
    /// socket.io packets read and not consumed yet.
    backlog: Vec<String>,
    handshake: Value,
}

/// Splits a string payload whose lengths count UTF-16 code units (what the JS client reads).
fn split_utf16(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(colon) = rest.find(':') {
        let want: usize = rest[..colon].parse().expect("length");
        let body = &rest[colon + 1..];
        let (mut used, mut end) = (0, 0);
        for (i, c) in body.char_indices() {
            if used >= want {
                break;
            }
            used += c.len_utf16();
            end = i + c.len_utf8();
        }
        assert_eq!(used, want, "length in UTF-16 units: {text}");
        out.push(body[..end].to_owned());
        rest = &body[end..];
    }
    out
}

/// Splits a binary payload (`0x00`, length digits, `0xFF`, UTF-8 text).
fn split_binary(mut b: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    while !b.is_empty() {
        assert_eq!(b[0], 0, "a string packet");
        let sep = b.iter().position(|x| *x == 0xFF).expect("separator");
        let len = b[1..sep].iter().fold(0usize, |n, d| n * 10 + *d as usize);
        out.push(String::from_utf8(b[sep + 1..sep + 1 + len].to_vec()).expect("UTF-8"));
        b = &b[sep + 1 + len..];
    }
    out
}

/// A string payload of these Engine.IO packets, lengths in UTF-16 units (as the JS client writes).
fn payload(packets: &[&str]) -> String {
    packets.iter().map(|p| format!("{}:{p}", p.encode_utf16().count())).collect()
}

impl<'a> Sio<'a> {
    fn path(license: &str, b64: bool, sid: Option<&str>) -> String {
        let mut p = format!("/customer/v0.5/rtm/sio/?EIO=3&transport=polling&license_id={license}&bh=x1");
        if b64 {
            p.push_str("&b64=1");
        }
        if let Some(s) = sid {
            p.push_str("&sid=");
            p.push_str(s);
        }
        p
    }

    /// Opens a session: the handshake, then socket.io's implicit connect to `/`.
    async fn open(server: &'a ServerHandle, b64: bool) -> Sio<'a> {
        Sio::open_license(server, &LICENSE.to_string(), b64).await
    }

    async fn open_license(server: &'a ServerHandle, license: &str, b64: bool) -> Sio<'a> {
        let r = http(server, "GET", &Sio::path(license, b64, None), &[], "").await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let packets = Sio::decode(&r.content_type, &r.body, b64);
        let open = packets[0].strip_prefix('0').expect("an open packet");
        let handshake: Value = serde_json::from_str(open).expect("handshake JSON");
        let sid = handshake["sid"].as_str().expect("sid").to_owned();
        assert_eq!(handshake["upgrades"], json!(["websocket"]));
        let mut s = Sio { server, sid, b64, backlog: Vec::new(), handshake };
        s.backlog.extend(packets[1..].iter().filter_map(|p| p.strip_prefix('4').map(str::to_owned)));
        assert_eq!(s.next().await, "0", "socket.io connects the client to / at once");
        s
    }

    fn decode(content_type: &str, body: &[u8], b64: bool) -> Vec<String> {
        if b64 {
            assert!(content_type.starts_with("text/plain"), "{content_type}");
            split_utf16(std::str::from_utf8(body).expect("text"))
        } else {
            assert_eq!(content_type, "application/octet-stream", "the LC fork reads only binary payloads");
            split_binary(body)
        }
    }

    /// POSTs Engine.IO packets; returns the HTTP status.
    async fn post(&self, packets: &[&str]) -> u16 {
        let path = Sio::path(&LICENSE.to_string(), self.b64, Some(&self.sid));
        let r =
            http(self.server, "POST", &path, &[("content-type", "text/plain;charset=UTF-8")], payload(packets)).await;
        r.status
    }

    /// One poll: the Engine.IO packets, or the HTTP status when it is not 200.
    async fn poll(&self) -> Result<Vec<String>, u16> {
        let path = Sio::path(&LICENSE.to_string(), self.b64, Some(&self.sid));
        let r = http(self.server, "GET", &path, &[], "").await;
        if r.status != 200 {
            return Err(r.status);
        }
        Ok(Sio::decode(&r.content_type, &r.body, self.b64))
    }

    /// The next socket.io packet (polling as needed).
    async fn next(&mut self) -> String {
        let deadline = Instant::now() + WAIT;
        while self.backlog.is_empty() {
            assert!(Instant::now() < deadline, "no socket.io packet in time");
            let packets = self.poll().await.expect("poll");
            for p in packets {
                if let Some(sio) = p.strip_prefix('4') {
                    self.backlog.push(sio.to_owned());
                } else if p == "1" {
                    self.backlog.push("<engine.io close>".to_owned());
                }
            }
        }
        self.backlog.remove(0)
    }

    /// Emits a v0.5 frame as the `message` event.
    async fn send(&self, frame: &Value) {
        assert_eq!(self.post(&[&format!("42[\"message\",{frame}]")]).await, 200);
    }

    /// The next v0.5 frame (skipping other socket.io packets).
    async fn frame(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        loop {
            let p = self.next().await;
            if let Some(args) = p.strip_prefix('2') {
                let v: Vec<Value> = serde_json::from_str(args).expect("event JSON");
                assert_eq!(v[0], "message");
                if pred(&v[1]) {
                    return v[1].clone();
                }
            }
        }
    }

    async fn response(&mut self, id: &str) -> Value {
        self.frame(|f| f["type"] == "response" && f["request_id"] == id).await
    }

    async fn login(&mut self, token: &str) -> Value {
        self.send(&json!({"request_id":"l1","action":"login","payload":{"token":format!("Bearer {token}")}})).await;
        self.response("l1").await
    }
}

#[tokio::test]
async fn a_polling_session_logs_in_acts_and_receives_pushes() {
    for b64 in [false, true] {
        let server = server().await;
        let mut s = Sio::open(&server, b64).await;
        let (token, customer) = server.create_token(LICENSE, None).expect("token");
        let login = s.login(&token).await;
        assert_eq!(login["success"], true, "{login}");
        assert_eq!(login["payload"]["customer_id"], customer.as_str());
        s.send(&json!({"request_id":"s1","action":"start_chat","payload":{"routing_scope":{"type":"license"}}})).await;
        let r = s.response("s1").await;
        assert_eq!(r["success"], true);
        // The requester's push copy carries the request id (the JS SDK resolves start_chat from it).
        let push = s.frame(|f| f["action"] == "incoming_chat_thread").await;
        assert_eq!(push["request_id"], "s1");
        let chat = push["payload"]["chat"]["id"].as_str().expect("chat id").to_owned();
        // Non-ASCII text survives the payload framing both ways.
        let text = "héllo 😀 中文";
        s.send(&json!({"request_id":"m1","action":"send_event","payload":{"chat_id":chat,"event":{"type":"message","text":text}}}))
            .await;
        let echoed = s.frame(|f| f["action"] == "incoming_event" && f["request_id"] == "m1").await;
        assert_eq!(echoed["payload"]["event"]["text"], text);
        // The agent's answer is an ordinary push: no request_id key at all.
        let answer = s
            .frame(|f| f["action"] == "incoming_event" && f["payload"]["event"]["author_id"] != customer.as_str())
            .await;
        assert!(answer.get("request_id").is_none(), "{answer}");
    }
}

#[tokio::test]
async fn the_session_upgrades_to_a_websocket() {
    let server = server().await;
    let mut s = Sio::open(&server, false).await;
    let (token, _) = server.create_token(LICENSE, None).expect("token");
    assert_eq!(s.login(&token).await["success"], true);
    let url = format!(
        "ws://{}/customer/v0.5/rtm/sio/?EIO=3&transport=websocket&license_id={LICENSE}&sid={}",
        server.addr(),
        s.sid
    );
    let (mut ws, _) = connect_async(url).await.expect("websocket");
    ws.send(Message::text("2probe")).await.expect("probe");
    let pong = tokio::time::timeout(WAIT, ws.next()).await.expect("in time").expect("a frame").expect("ok");
    assert_eq!(pong.into_text().expect("text").as_str(), "3probe");
    // A poll sent during the upgrade is answered with a noop at once (engine.io-client
    // does not send `5` before its last poll completes; without the noop the session hung
    // until the next heartbeat, and the JS SDK's login with it).
    // The first poll takes engineioxide's own noop; the second is the one that hung.
    for _ in 0..2 {
        let started = Instant::now();
        let polled = tokio::time::timeout(Duration::from_secs(3), s.poll())
            .await
            .expect("the poll is answered during the upgrade");
        assert_eq!(polled, Ok(vec!["6".to_owned()]));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    ws.send(Message::text("5")).await.expect("upgrade");
    let frame = json!({"request_id":"g1","action":"get_chats_summary","payload":{}});
    ws.send(Message::text(format!("42[\"message\",{frame}]"))).await.expect("send");
    let deadline = Instant::now() + WAIT;
    loop {
        assert!(Instant::now() < deadline);
        let m = tokio::time::timeout(WAIT, ws.next()).await.expect("in time").expect("a frame").expect("ok");
        let t = m.into_text().expect("text");
        if let Some(ev) = t.as_str().strip_prefix("42") {
            let v: Vec<Value> = serde_json::from_str(ev).expect("JSON");
            if v[1]["request_id"] == "g1" {
                assert_eq!(v[1]["success"], true);
                assert_eq!(v[1]["payload"]["total_chats"], 0);
                break;
            }
        }
    }
}

#[tokio::test]
async fn heartbeats_keep_a_quiet_session_and_their_absence_ends_it() {
    let server = builder().idle_timeout(Duration::from_millis(1200)).start().await.expect("server");
    let alive = Sio::open(&server, true).await;
    let silent = Sio::open(&server, true).await;
    let interval = alive.handshake["pingInterval"].as_u64().expect("pingInterval");
    let timeout = alive.handshake["pingTimeout"].as_u64().expect("pingTimeout");
    assert_eq!(interval + timeout, 1200, "heartbeats sized to the idle limit");
    // 3 s, well past the idle limit, with only heartbeats.
    for _ in 0..6 {
        assert_eq!(alive.post(&["2"]).await, 200);
        tokio::time::sleep(Duration::from_millis(interval)).await;
    }
    assert_eq!(alive.post(&["42[\"message\",{\"request_id\":\"p\",\"action\":\"ping\"}]"]).await, 200);
    let polled = alive.poll().await.expect("the heartbeating session is alive");
    assert!(polled.iter().any(|p| p.starts_with("3") || p.contains("\"p\"")), "{polled:?}");
    // The silent one was closed by the server.
    let r = silent.poll().await;
    assert!(matches!(r, Err(400)) || r.as_ref().is_ok_and(|p| p.contains(&"1".to_owned())), "{r:?}");
}

#[tokio::test]
async fn the_per_customer_cap_applies_across_transports() {
    let server = builder().max_connections_per_customer(1).start().await.expect("server");
    let ws = Client::customer(&server).await;
    let mut s = Sio::open(&server, true).await;
    s.send(&json!({"request_id":"l1","action":"login","payload":{"token":format!("Bearer {}", ws.token)}})).await;
    let push = s.frame(|f| f["action"] == "customer_disconnected").await;
    assert_eq!(push["payload"]["reason"], "too_many_connections");
    assert_eq!(s.next().await, "1", "a socket.io disconnect: the JS client does not retry");
}

#[tokio::test]
async fn unknown_license_and_missing_license() {
    let server = server().await;
    let r = http(&server, "GET", "/customer/v0.5/rtm/sio/?EIO=3&transport=polling", &[], "").await;
    assert_eq!(r.status, 400);
    let mut s = Sio::open_license(&server, "999", true).await;
    let push = s.frame(|f| f["action"] == "customer_disconnected").await;
    assert_eq!(push["payload"]["reason"], "license_not_found");
    assert_eq!(s.next().await, "1");
}

#[tokio::test]
async fn bad_input_is_answered_and_harms_no_other_session() {
    let server = server().await;
    let mut bystander = Client::customer(&server).await;
    let mut other = Sio::open(&server, true).await;
    let (token, _) = server.create_token(LICENSE, None).expect("token");
    assert_eq!(other.login(&token).await["success"], true);

    let mut s = Sio::open(&server, true).await;
    // A socket.io packet that is not one → socket.io's error packet; the session goes on.
    assert_eq!(s.post(&["4zzz"]).await, 200);
    assert_eq!(s.next().await, "4\"parser error\"");
    // An unknown event → ignored, as socket.io does.
    assert_eq!(s.post(&["42[\"nope\",{\"a\":1}]"]).await, 200);
    // A `message` whose argument is not a frame → the v0.5 validation error (G7).
    assert_eq!(s.post(&["42[\"message\",\"hello\"]"]).await, 200);
    let r = s.frame(|f| f["type"] == "response").await;
    assert_eq!(r["success"], false);
    assert_eq!(r["payload"]["error"]["type"], "validation");
    // A binary attachment → the validation error; the attachment is swallowed.
    assert_eq!(s.post(&["451-[\"message\",{\"_placeholder\":true,\"num\":0}]", "b4AQID"]).await, 200);
    let r = s.frame(|f| f["type"] == "response").await;
    assert!(r["payload"]["error"]["message"].as_str().unwrap_or_default().contains("binary"), "{r}");
    // The session still works.
    let (t2, _) = server.create_token(LICENSE, None).expect("token");
    assert_eq!(s.login(&t2).await["success"], true);

    // Polling with an unknown sid → HTTP 400 (Engine.IO "Session ID unknown").
    let bad = Sio::path(&LICENSE.to_string(), true, Some("AAAAAAAAAAAAAAAA"));
    assert_eq!(http(&server, "GET", &bad, &[], "").await.status, 400);
    assert_eq!(http(&server, "POST", &bad, &[], "1:2").await.status, 400);
    // An oversize polling body → 413.
    let big = "x".repeat((1 << 20) + 4096);
    let path = Sio::path(&LICENSE.to_string(), true, Some(&s.sid));
    assert_eq!(http(&server, "POST", &path, &[], big).await.status, 413);
    // Garbage Engine.IO framing → 400, and that session ends (Engine.IO's rule).
    let victim = Sio::open(&server, true).await;
    let path = Sio::path(&LICENSE.to_string(), true, Some(&victim.sid));
    assert_eq!(http(&server, "POST", &path, &[], "garbage").await.status, 400);
    // A websocket upgrade that is not one, and an unknown transport.
    let q = format!("/customer/v0.5/rtm/sio/?EIO=3&transport=carrier-pigeon&license_id={LICENSE}");
    assert_eq!(http(&server, "GET", &q, &[], "").await.status, 400);

    // The other sessions are unaffected.
    other.send(&json!({"request_id":"g","action":"get_chats_summary","payload":{}})).await;
    assert_eq!(other.response("g").await["success"], true);
    bystander.ok("get_chats_summary", json!({})).await;
}

/// Issue 21, finding 4: socket.io sessions count against the connection caps whatever their
/// transport (here: many sessions over short HTTP requests, no TCP connection left open),
/// keep none of the client's headers, and a sid that is too long or unknown never enters
/// the upgrade set. A session that ends frees its slot.
#[tokio::test]
async fn sessions_count_against_the_caps_and_keep_no_client_headers() {
    let server = builder().agent(false).max_connections_per_address(5).start().await.unwrap();
    let big = "x".repeat(50 * 1024);
    let mut sessions = Vec::new();
    for _ in 0..5 {
        let r = http(&server, "GET", &Sio::path("100", false, None), &[("x-big", big.as_str())], "").await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        let packets = Sio::decode(&r.content_type, &r.body, false);
        let open: Value = serde_json::from_str(packets[0].strip_prefix('0').unwrap()).unwrap();
        sessions.push(open["sid"].as_str().unwrap().to_owned());
    }
    let over = http(&server, "GET", &Sio::path("100", false, None), &[], "").await;
    assert_eq!(over.status, 503, "the sixth session from this address");
    let stats = server.stats();
    assert_eq!(stats.sio_sessions, 5);
    assert!(stats.sio_kept_header_bytes < 5 * 1024, "{} header bytes kept", stats.sio_kept_header_bytes);
    // A sid of 50 KB is refused unread; an unknown one never enters the upgrade set.
    let long = format!("/customer/v0.5/rtm/sio/?EIO=3&transport=websocket&license_id=100&sid={}", "A".repeat(50_000));
    assert_eq!(http(&server, "GET", &long, &[], "").await.status, 400);
    // Closing a session (Engine.IO close packet) frees its slot for a well-behaved client.
    let path = Sio::path("100", true, Some(&sessions[0]));
    let r = http(&server, "POST", &path, &[("content-type", "text/plain;charset=UTF-8")], payload(&["1"])).await;
    assert_eq!(r.status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while server.stats().sio_sessions > 4 {
        assert!(std::time::Instant::now() < deadline, "the closed session still counts");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let again = Sio::open(&server, false).await;
    again.post(&["42[\"message\",{\"action\":\"ping\"}]"]).await;
}
