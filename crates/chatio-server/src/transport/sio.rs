//! The socket.io transport at `/customer/v0.5/rtm/sio?license_id=N` (protocol file 1, 6.1):
//! what `@livechat/chat.io-customer-sdk` 0.9.1 speaks through its socket.io-client 2.x fork.
//!
//! Engine.IO protocol 3 (HTTP long-polling first, then the websocket upgrade, heartbeats,
//! payload framing) is `engineioxide`'s (the engine of the socketioxide project, `v3`
//! feature). The socket.io protocol 4 layer on top is written here, because it is small and
//! the transport needs what socketioxide 0.16 (the last release for this MSRV) does not
//! offer: dropping the transport without a socket.io `disconnect` packet (fault injection:
//! the client must reconnect), and answering binary attachments itself.
//!
//! Each v0.5 frame travels as the only argument of a socket.io event named `message`, both
//! ways: `2["message",{…frame…}]`. Each socket.io connection is one RTM session
//! (`crate::session`), like a websocket connection: the same request handling, limits,
//! send queue bound, per-customer cap, fault injection and pushes. Activity:
//! Engine.IO's heartbeat is sized to the server's idle limit (`ping_interval +
//! ping_timeout = idle_timeout`), engineioxide drops a socket whose pings stop, and while the
//! socket is open the session is marked active: heartbeats count as activity, and a quiet
//! but connected SDK is never closed.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chatio_wire::limits::MAX_FRAME_LEN;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::{EngineIoService, NotFoundService};
use engineioxide::{DisconnectReason as EioReason, Socket, Str};
use http::StatusCode;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde_json::value::RawValue;
use tokio::sync::mpsc::error::TrySendError;

use crate::net::http::{Resp, query};
use crate::sendq::{CLOSE_DISCONNECTED, Out};
use crate::session::{self, Outbound, Session};
use crate::state::State;

/// The path the socket.io client requests (it appends a `/`).
pub(crate) const PATH: &str = "/customer/v0.5/rtm/sio";

/// Packets engineioxide buffers for one client; beyond, the writer waits and the session's
/// byte-bounded send queue (and its slow-consumer close) takes over.
const MAX_QUEUED: usize = 256;

/// The largest polling body or websocket message accepted (the v0.5 frame limit plus the
/// socket.io envelope).
const MAX_PAYLOAD: u64 = (MAX_FRAME_LEN as u64) + 1024;

/// The Engine.IO service of one server (the router owns it), and the sessions being
/// upgraded to a websocket.
#[derive(Debug)]
pub(crate) struct Service {
    engine: EngineIoService<Handler, NotFoundService>,
    /// Sids with a websocket upgrade under way (see [`Service::serve`]); entries expire
    /// after [`UPGRADE_WINDOW`]. Only live sids enter it, so it is bounded by the sessions.
    upgrading: Arc<Mutex<HashSet<String>>>,
    /// The open Engine.IO sessions, counted against the connection caps.
    sessions: Arc<Mutex<Sessions>>,
    /// How long a request body may take to arrive.
    body_timeout: Duration,
    /// The caps: sessions in total and per client address (the TCP connection caps).
    max_total: usize,
    max_per_address: usize,
    counters: Arc<crate::counters::Counters>,
}

/// The open Engine.IO sessions: whatever their transport, each counts against the total and
/// per-address caps (a client could otherwise open thousands over one TCP connection).
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    total: usize,
    per_address: HashMap<IpAddr, usize>,
    live: HashSet<String>,
}

/// The client address of a handshake, carried to the socket in the request's extensions.
#[derive(Clone, Copy, Debug)]
struct Peer(IpAddr);

/// Longest sid accepted (engineioxide's are 16 characters).
const MAX_SID_LEN: usize = 32;

/// The request headers a socket keeps for its lifetime (engineioxide stores the handshake
/// request): only what the websocket handshake needs, never what a client chose to send.
const KEPT_HEADERS: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "content-type",
    "content-length",
];

/// How long a sid counts as upgrading after its websocket request.
const UPGRADE_WINDOW: Duration = Duration::from_secs(10);

/// How long a poll of an upgrading session waits for data before it is answered with a
/// `noop` (engine.io's reference server re-checks every 100 ms as well).
const UPGRADE_NOOP_AFTER: Duration = Duration::from_millis(100);

/// The Engine.IO handler: the socket.io layer, each socket one RTM session.
#[derive(Debug)]
pub(crate) struct Handler {
    state: Arc<State>,
    sessions: Arc<Mutex<Sessions>>,
}

/// Per-socket state.
#[derive(Debug, Default)]
pub(crate) struct SockData {
    /// The session, from the Engine.IO open until the socket ends.
    session: Mutex<Option<Arc<Session>>>,
    /// Binary attachments announced by a binary packet and not yet received (swallowed).
    pending_attachments: AtomicUsize,
}

impl SockData {
    fn session(&self) -> Option<Arc<Session>> {
        self.session.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn end(&self) {
        drop(self.session.lock().unwrap_or_else(|e| e.into_inner()).take());
    }
}

/// Builds the service; heartbeats are sized so that a client whose pings stop is dropped
/// after the server's idle limit (G9's 60 s by default: ping every 25 s, 35 s of grace).
pub(crate) fn service(state: Arc<State>) -> Service {
    let idle = state.config.idle_timeout;
    let body_timeout = state.config.body_timeout;
    let interval = (idle / 2).min(Duration::from_secs(25));
    let config = EngineIoConfig::builder()
        .req_path(PATH)
        .ping_interval(interval)
        .ping_timeout(idle.saturating_sub(interval).max(Duration::from_millis(100)))
        .max_buffer_size(MAX_QUEUED)
        .max_payload(MAX_PAYLOAD)
        .build();
    let sessions = Arc::new(Mutex::new(Sessions::default()));
    let (max_total, max_per_address) = (state.config.max_connections, state.config.max_connections_per_address);
    let counters = state.counters.clone();
    Service {
        engine: EngineIoService::with_config(Arc::new(Handler { state, sessions: sessions.clone() }), config),
        upgrading: Arc::new(Mutex::new(HashSet::new())),
        sessions,
        body_timeout,
        max_total,
        max_per_address,
        counters,
    }
}

/// Serves one HTTP request under [`PATH`] (polling, or the websocket upgrade).
///
/// Polling payloads are converted to Engine.IO 3's *binary* payload format on the way in
/// and, for clients that support binary, on the way out. Two reasons: the LC fork of
/// engine.io-client reads a `text/plain` poll answer as the string `ok` when it supports
/// binary (it expects `application/octet-stream`), and in string payloads the JS client
/// counts lengths in UTF-16 code units where engineioxide counts characters (encoder) and
/// graphemes (decoder), so any non-ASCII text would break the framing. Binary payloads
/// count UTF-8 bytes on both sides.
pub(crate) async fn serve(svc: &Service, req: hyper::Request<Incoming>, peer: IpAddr) -> Resp {
    use hyper::service::Service as _;
    let q = query(&req);
    // G12 on this transport: no usable license id → HTTP 400 before any session exists.
    if q.get("license_id").and_then(|l| l.parse::<u64>().ok()).is_none() {
        return plain(StatusCode::BAD_REQUEST, "`license_id` query parameter (an integer) is required");
    }
    if q.get("sid").is_some_and(|s| s.len() > MAX_SID_LEN) {
        return plain(StatusCode::BAD_REQUEST, "unknown `sid`");
    }
    let mut req = req;
    if !q.contains_key("sid") {
        // A handshake: a new session, counted against the caps whatever its transport.
        {
            let sessions = lock(&svc.sessions);
            let mine = sessions.per_address.get(&peer).copied().unwrap_or(0);
            if sessions.total >= svc.max_total || mine >= svc.max_per_address {
                svc.counters.refused_connections.fetch_add(1, Ordering::Relaxed);
                return plain(StatusCode::SERVICE_UNAVAILABLE, "too many sessions");
            }
        }
        // The socket keeps its handshake request for its lifetime: not the client's headers.
        let kept: http::HeaderMap = req
            .headers()
            .iter()
            .filter(|(k, _)| KEPT_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *req.headers_mut() = kept;
        req.extensions_mut().insert(Peer(peer));
    }
    let polling = q.get("transport").is_some_and(|t| t == "polling");
    let eio3 = q.get("EIO").is_some_and(|v| v == "3");
    let b64 = q.contains_key("b64");
    let (mut parts, body) = req.into_parts();
    let read = http_body_util::Limited::new(body, MAX_PAYLOAD as usize).collect();
    let body = match tokio::time::timeout(svc.body_timeout, read).await {
        Ok(Ok(b)) => b.to_bytes(),
        Ok(Err(_)) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "payload too large"),
        Err(_) => return plain(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time"),
    };
    let is_text = |h: &http::HeaderMap| {
        h.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_none_or(|v| v.starts_with("text/plain"))
    };
    let body = if polling && eio3 && parts.method == http::Method::POST && is_text(&parts.headers) {
        match std::str::from_utf8(&body).ok().and_then(utf16_payload_to_binary) {
            Some(bin) => {
                parts
                    .headers
                    .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/octet-stream"));
                parts.headers.remove(http::header::CONTENT_LENGTH);
                Bytes::from(bin)
            }
            None => body,
        }
    } else {
        body
    };
    // The upgrade race engineioxide does not cover: after the probe it answers the pending
    // poll with one `noop`, but a client may already have sent its next poll, which would
    // then hang until the next heartbeat — and engine.io-client does not send the `upgrade`
    // packet (nor anything else: the login waits) before that poll completes. engine.io's
    // own server answers every poll with a `noop` while an upgrade is under way; so do we,
    // when such a poll has nothing to carry after 100 ms.
    let sid = q.get("sid").cloned();
    let websocket = q.get("transport").is_some_and(|t| t == "websocket");
    let live = sid.as_ref().is_some_and(|s| lock(&svc.sessions).live.contains(s));
    if let (true, true, Some(sid)) = (websocket, live, &sid) {
        lock(&svc.upgrading).insert(sid.clone());
        let upgrading = Arc::downgrade(&svc.upgrading);
        let sid = sid.clone();
        tokio::spawn(async move {
            tokio::time::sleep(UPGRADE_WINDOW).await;
            if let Some(upgrading) = upgrading.upgrade() {
                lock(&upgrading).remove(&sid);
            }
        });
    }
    let watch_upgrade = polling && parts.method == http::Method::GET && sid.is_some();
    let call = svc.engine.call(hyper::Request::from_parts(parts, Full::new(body)));
    tokio::pin!(call);
    let resp = loop {
        if !watch_upgrade {
            break call.await;
        }
        tokio::select! {
            r = &mut call => break r,
            () = tokio::time::sleep(UPGRADE_NOOP_AFTER) => {
                let upgrading = sid.as_ref().is_some_and(|s| lock(&svc.upgrading).contains(s));
                if upgrading {
                    return noop(b64);
                }
            }
        }
    };
    let resp = match resp {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (mut parts, body) = resp.into_parts();
    let bytes = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let bytes = if polling && eio3 && parts.status == StatusCode::OK && is_text(&parts.headers) {
        let converted = std::str::from_utf8(&bytes).ok().and_then(|text| {
            if text == "ok" {
                None
            } else if b64 {
                char_payload_to_utf16(text).map(Bytes::from)
            } else {
                char_payload_to_binary(text).map(Bytes::from)
            }
        });
        match converted {
            Some(c) => {
                if !b64 {
                    parts
                        .headers
                        .insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/octet-stream"));
                }
                parts.headers.insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(c.len()));
                c
            }
            None => bytes,
        }
    } else {
        bytes
    };
    hyper::Response::from_parts(parts, Full::new(bytes))
}

/// Splits an Engine.IO 3 string payload (`<len>:<packet>…`) whose lengths are counted by
/// `len_of`; `None` when it is not one.
fn split_payload(text: &str, len_of: fn(char) -> usize) -> Option<Vec<&str>> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let colon = rest.find(':')?;
        let want: usize = rest[..colon].parse().ok()?;
        let body = &rest[colon + 1..];
        let mut used = 0usize;
        let mut end = 0usize;
        for (i, c) in body.char_indices() {
            if used >= want {
                break;
            }
            used += len_of(c);
            end = i + c.len_utf8();
        }
        if used != want {
            return None;
        }
        out.push(&body[..end]);
        rest = &body[end..];
    }
    Some(out)
}

/// The binary payload of these string packets (`0x00`, length digits, `0xFF`, UTF-8).
fn binary_payload(packets: &[&str]) -> Vec<u8> {
    let mut out = Vec::with_capacity(packets.iter().map(|p| p.len() + 8).sum());
    for p in packets {
        out.push(0);
        out.extend(p.len().to_string().bytes().map(|d| d - b'0'));
        out.push(0xFF);
        out.extend_from_slice(p.as_bytes());
    }
    out
}

/// A payload from the JS client (lengths in UTF-16 code units) as a binary payload.
fn utf16_payload_to_binary(text: &str) -> Option<Vec<u8>> {
    split_payload(text, char::len_utf16).map(|p| binary_payload(&p))
}

/// A payload from engineioxide (lengths in characters) as a binary payload.
fn char_payload_to_binary(text: &str) -> Option<Vec<u8>> {
    split_payload(text, |_| 1).map(|p| binary_payload(&p))
}

/// A payload from engineioxide (lengths in characters) with UTF-16 lengths (`b64` clients).
fn char_payload_to_utf16(text: &str) -> Option<String> {
    let packets = split_payload(text, |_| 1)?;
    Some(packets.iter().map(|p| format!("{}:{p}", p.encode_utf16().count())).collect())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A poll answer carrying one `noop` packet, in the client's payload format.
fn noop(b64: bool) -> hyper::Response<Full<Bytes>> {
    let (body, ct): (&'static [u8], &'static str) =
        if b64 { (b"1:6", "text/plain; charset=UTF-8") } else { (&[0, 1, 0xFF, b'6'], "application/octet-stream") };
    let mut r = hyper::Response::new(Full::new(Bytes::from_static(body)));
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static(ct));
    r
}

fn plain(status: StatusCode, text: &'static str) -> hyper::Response<Full<Bytes>> {
    let mut r = hyper::Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("text/plain"));
    r
}

/// The license of a socket's handshake request (checked by [`serve`]).
fn license_of(socket: &Socket<SockData>) -> Option<u64> {
    let q = socket.req_parts.uri.query()?;
    url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "license_id").and_then(|(_, v)| v.parse().ok())
}

/// `2["message",<frame>]`; a frame that is not JSON (the malformed-frame fault) travels as
/// a JSON string, so the socket.io packet itself stays valid.
fn message_packet(frame: &str) -> String {
    if serde_json::from_str::<serde::de::IgnoredAny>(frame).is_ok() {
        format!("2[\"message\",{frame}]")
    } else {
        format!("2[\"message\",{}]", serde_json::Value::String(frame.to_owned()))
    }
}

/// Drains the session's queue into the socket until either ends.
async fn write_loop(socket: Arc<Socket<SockData>>, mut out: Outbound) {
    while let Some(item) = out.next().await {
        match item {
            Out::Text(t) => {
                let len = t.len();
                let mut packet = Some(Str::from(message_packet(t.as_str())));
                while let Some(p) = packet.take() {
                    match socket.reserve() {
                        Ok(permit) => permit.emit(p),
                        // engineioxide's buffer is full: wait; the send queue counts the bytes
                        // and closes a client that stays this slow (4002).
                        Err(TrySendError::Full(())) => {
                            packet = Some(p);
                            tokio::time::sleep(Duration::from_millis(5)).await;
                        }
                        Err(TrySendError::Closed(())) => return,
                    }
                }
                out.flushed(len);
            }
            Out::Close(code, _) if code == CLOSE_DISCONNECTED => {
                // After `customer_disconnected`: a socket.io `disconnect` packet, which the
                // client does not retry (`io server disconnect`), then the transport.
                let _ = socket.emit("1");
                tokio::time::sleep(Duration::from_millis(200)).await;
                socket.close(EioReason::ClosingServer);
                return;
            }
            Out::Close(..) | Out::Finish | Out::Drop => {
                // A transport close (idle, shutdown, slow consumer, dropped): the client
                // reconnects.
                socket.close(EioReason::TransportClose);
                return;
            }
        }
    }
}

/// Runs one socket's session: its writer, its timers, and the activity the open socket
/// (kept open by heartbeats) stands for.
async fn drive(socket: Arc<Socket<SockData>>, session: Arc<Session>, out: Outbound, idle: Duration) {
    let mut writer = tokio::spawn(write_loop(socket.clone(), out));
    let tick = (idle / 4).max(Duration::from_millis(50));
    loop {
        tokio::select! {
            biased;
            _ = &mut writer => break,
            () = socket.closed() => break,
            _ = session.ended() => {
                tracing::debug!(conn = session.id(), "writer stuck: dropping the socket");
                break;
            }
            () = tokio::time::sleep(tick) => session.activity(),
        }
    }
    writer.abort();
    if !socket.is_closed() {
        socket.close(EioReason::TransportError);
    }
    socket.data.end();
    drop(session);
}

impl EngineIoHandler for Handler {
    type Data = SockData;

    fn on_connect(self: Arc<Self>, socket: Arc<Socket<SockData>>) {
        if let Some(Peer(ip)) = socket.req_parts.extensions.get::<Peer>().copied() {
            let mut sessions = lock(&self.sessions);
            sessions.total += 1;
            *sessions.per_address.entry(ip).or_default() += 1;
            sessions.live.insert(socket.id.to_string());
            self.state.counters.sio_sessions.store(sessions.total, Ordering::Relaxed);
        }
        let header_bytes: usize = socket.req_parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
        self.state.counters.sio_kept_header_bytes.fetch_add(header_bytes, Ordering::Relaxed);
        // socket.io protocol 4: the server connects the client to `/` at once.
        let _ = socket.emit("0");
        let Some(license) = license_of(&socket) else {
            socket.close(EioReason::ClosingServer);
            return;
        };
        let (session, out) = session::open(&self.state, license);
        let session = Arc::new(session);
        *socket.data.session.lock().unwrap_or_else(|e| e.into_inner()) = Some(session.clone());
        if !self.state.config.licenses.contains(&license) {
            // G12: unknown license → the push, then the disconnect (no retry).
            session.refuse_license();
        }
        tokio::spawn(drive(socket, session, out, self.state.config.idle_timeout));
    }

    fn on_disconnect(&self, socket: Arc<Socket<SockData>>, _reason: EioReason) {
        socket.data.end();
        if let Some(Peer(ip)) = socket.req_parts.extensions.get::<Peer>().copied() {
            let mut sessions = lock(&self.sessions);
            if sessions.live.remove(&socket.id.to_string()) {
                sessions.total = sessions.total.saturating_sub(1);
                if let Some(n) = sessions.per_address.get_mut(&ip) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        sessions.per_address.remove(&ip);
                    }
                }
            }
            self.state.counters.sio_sessions.store(sessions.total, Ordering::Relaxed);
        }
        let header_bytes: usize = socket.req_parts.headers.iter().map(|(k, v)| k.as_str().len() + v.len()).sum();
        self.state.counters.sio_kept_header_bytes.fetch_sub(header_bytes, Ordering::Relaxed);
    }

    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<Socket<SockData>>) {
        let Some(session) = socket.data.session() else { return };
        match parse(msg.as_str()) {
            Packet::Message(frame) => session.text(frame),
            Packet::OtherEvent | Packet::Ignored => session.activity(),
            Packet::Connect("/") => {
                let _ = socket.emit("0");
            }
            Packet::Connect(nsp) => {
                let _ = socket.emit(format!("4{nsp},\"Invalid namespace\""));
            }
            Packet::Disconnect => socket.close(EioReason::TransportClose),
            Packet::Binary(n) => {
                socket.data.pending_attachments.fetch_add(n, Ordering::Relaxed);
                session.unsupported("binary attachments are not used: send the frame as JSON");
            }
            Packet::Invalid => {
                session.activity();
                let _ = socket.emit("4\"parser error\"");
            }
        }
    }

    fn on_binary(self: &Arc<Self>, _data: Bytes, socket: Arc<Socket<SockData>>) {
        let pending = &socket.data.pending_attachments;
        let announced = pending.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1)).is_ok();
        if !announced {
            let _ = socket.emit("4\"parser error\"");
        }
    }
}

/// A decoded socket.io (protocol 4) packet, as far as this server cares.
#[derive(Debug, PartialEq, Eq)]
enum Packet<'a> {
    /// `message` event on `/`: the raw JSON of its argument.
    Message(&'a str),
    /// Another event on `/`, or an event without argument (ignored, as socket.io does
    /// for events nobody listens to).
    OtherEvent,
    /// `0[/nsp]`.
    Connect(&'a str),
    /// `1`: the client leaves.
    Disconnect,
    /// `5`/`6`: a binary event or ack announcing this many attachments.
    Binary(usize),
    /// Acks, errors, and packets for other namespaces.
    Ignored,
    /// Not a socket.io packet.
    Invalid,
}

/// Decodes one socket.io packet: `<type>[<attachments>-][/nsp,][<ack id>][<json>]`.
fn parse(s: &str) -> Packet<'_> {
    let b = s.as_bytes();
    let Some(&kind) = b.first() else { return Packet::Invalid };
    if !kind.is_ascii_digit() {
        return Packet::Invalid;
    }
    let mut rest = &s[1..];
    let mut attachments = 0usize;
    if kind == b'5' || kind == b'6' {
        let Some(dash) = rest.find('-') else { return Packet::Invalid };
        match rest[..dash].parse::<usize>() {
            Ok(n) if n <= 64 => attachments = n,
            _ => return Packet::Invalid,
        }
        rest = &rest[dash + 1..];
    }
    let mut nsp = "/";
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        nsp = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    rest = &rest[digits..];
    match kind {
        b'0' => Packet::Connect(nsp),
        b'1' if nsp == "/" => Packet::Disconnect,
        b'1' | b'3' | b'4' => Packet::Ignored,
        b'5' | b'6' => Packet::Binary(attachments),
        b'2' => {
            if nsp != "/" {
                return Packet::Ignored;
            }
            let Ok(args) = serde_json::from_str::<Vec<&RawValue>>(rest) else { return Packet::Invalid };
            match args.as_slice() {
                [name, frame, ..] if name.get() == "\"message\"" => Packet::Message(frame.get()),
                [name, ..] if name.get().starts_with('"') => Packet::OtherEvent,
                _ => Packet::Invalid,
            }
        }
        _ => Packet::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::{Packet, message_packet, parse};

    #[test]
    fn parses_socket_io_packets() {
        assert_eq!(parse(r#"2["message",{"action":"ping"}]"#), Packet::Message(r#"{"action":"ping"}"#));
        assert_eq!(parse(r#"21["message",{"a":1}]"#), Packet::Message(r#"{"a":1}"#));
        assert_eq!(parse(r#"2["other",1]"#), Packet::OtherEvent);
        assert_eq!(parse(r#"2["message"]"#), Packet::OtherEvent);
        assert_eq!(parse(r#"2/admin,["message",{}]"#), Packet::Ignored);
        assert_eq!(parse("0"), Packet::Connect("/"));
        assert_eq!(parse("0/admin"), Packet::Connect("/admin"));
        assert_eq!(parse("1"), Packet::Disconnect);
        assert_eq!(parse(r#"51-["message",{"_placeholder":true,"num":0}]"#), Packet::Binary(1));
        assert_eq!(parse("5x-[]"), Packet::Invalid);
        assert_eq!(parse(""), Packet::Invalid);
        assert_eq!(parse("2{not json"), Packet::Invalid);
        assert_eq!(parse("2[1,2]"), Packet::Invalid);
        assert_eq!(parse("9"), Packet::Invalid);
        assert_eq!(parse("ü"), Packet::Invalid);
    }

    #[test]
    fn payload_lengths_are_converted() {
        use super::{char_payload_to_binary, char_payload_to_utf16, utf16_payload_to_binary};
        // "😀" is 1 char, 2 UTF-16 units, 4 bytes.
        assert_eq!(char_payload_to_utf16("2:4😀1:2").as_deref(), Some("3:4😀1:2"));
        let mut want = vec![0u8, 5, 0xFF];
        want.extend_from_slice("4😀".as_bytes());
        assert_eq!(utf16_payload_to_binary("3:4😀").as_deref(), Some(&want[..]));
        assert_eq!(char_payload_to_binary("2:4😀").as_deref(), Some(&want[..]));
        assert_eq!(char_payload_to_binary("12:40"), None);
        assert_eq!(utf16_payload_to_binary("2:4😀"), None, "a length inside a surrogate pair");
        assert_eq!(utf16_payload_to_binary("x:1"), None);
    }

    #[test]
    fn frames_are_wrapped_in_message_events() {
        assert_eq!(message_packet(r#"{"a":1}"#), r#"2["message",{"a":1}]"#);
        assert_eq!(message_packet("{oops"), r#"2["message","{oops"]"#);
    }
}
