//! The raw websocket client of the load generators (`bench server`, `soak --server`).
//!
//! Deliberately minimal so that it costs the shared CPUs as little as possible and so that
//! it can misbehave on purpose (never read, tiny receive buffers): client frames are
//! unfragmented text frames masked with a zero key (the payload goes out as is, the server
//! still unmasks), server frames are parsed in place from one read buffer, and frames are
//! told apart by byte prefixes instead of JSON parsing (the reference server writes
//! `request_id`, `action`, `type` first). A frame announcing more than [`MAX_FRAME`] bytes
//! ends the connection with an error instead of growing the buffer.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Bound on any single wait: a handshake, a response.
pub const WAIT: Duration = Duration::from_secs(20);
/// The largest server frame read (the server's answers are capped at 1 MiB; pushes of
/// properties can be larger, up to a few MiB).
pub const MAX_FRAME: usize = 64 * 1024 * 1024;
/// Opcode of a text frame.
pub const TEXT: u8 = 0x1;
/// Opcode of a close frame.
pub const CLOSE: u8 = 0x8;

/// How to open a connection.
#[derive(Clone, Copy, Debug)]
pub struct Connect {
    /// The license in the RTM URL.
    pub license: u64,
    /// The socket's receive buffer in bytes (a small one makes a stalled reader).
    pub recv_buffer: Option<u32>,
    /// The local address to connect from (another loopback address is another client
    /// address for the server's per-address limits).
    pub local: Option<std::net::IpAddr>,
    /// The Agent API's RTM endpoint (`/agent/v0.5/rtm/ws`) instead of the customer's.
    pub agent: bool,
}

impl Default for Connect {
    fn default() -> Self {
        Connect { license: 100, recv_buffer: None, local: None, agent: false }
    }
}

/// One server frame, borrowed from the read buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The frame's opcode ([`TEXT`], [`CLOSE`], …).
    pub opcode: u8,
    /// Its payload.
    pub payload: &'a [u8],
}

/// A websocket connection to the reference server's `/customer/v0.5/rtm/ws` (or, with
/// [`Connect::agent`], `/agent/v0.5/rtm/ws`).
pub struct Ws {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
}

impl Ws {
    /// Connects to `addr` (`HOST:PORT`) with the default options and completes the handshake.
    pub async fn connect(addr: &str) -> Result<Ws> {
        Ws::connect_with(addr, Connect::default()).await
    }

    /// Connects to `addr` (`HOST:PORT`, an IP address) and completes the handshake.
    pub async fn connect_with(addr: &str, opts: Connect) -> Result<Ws> {
        let sa: SocketAddr = addr.parse().with_context(|| format!("`{addr}` is not an IP address and port"))?;
        let sock = if sa.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.context("socket")?;
        if let Some(n) = opts.recv_buffer {
            sock.set_recv_buffer_size(n).context("setting the receive buffer")?;
        }
        if let Some(ip) = opts.local {
            sock.bind(SocketAddr::new(ip, 0)).with_context(|| format!("binding to {ip}"))?;
        }
        let mut stream = sock.connect(sa).await.with_context(|| format!("connecting to {addr}"))?;
        let _ = stream.set_nodelay(true);
        let side = if opts.agent { "agent" } else { "customer" };
        let req = format!(
            "GET /{side}/v0.5/rtm/ws?license_id={} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            opts.license
        );
        stream.write_all(req.as_bytes()).await.context("writing the handshake")?;
        let mut buf = Vec::with_capacity(1024);
        let end = loop {
            let mut chunk = [0u8; 512];
            let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
                .await
                .map_err(|_| anyhow!("the handshake timed out"))?
                .context("reading the handshake")?;
            ensure!(n > 0, "the server closed the connection during the handshake");
            buf.extend_from_slice(&chunk[..n]);
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            ensure!(buf.len() < 16 * 1024, "the handshake answer has no end");
        };
        ensure!(buf.starts_with(b"HTTP/1.1 101"), "handshake refused: {}", String::from_utf8_lossy(&buf[..end]));
        buf.drain(..end);
        Ok(Ws { stream, buf, pos: 0 })
    }

    /// Appends `payload` to `out` as one masked (zero key) text frame.
    pub fn encode(out: &mut Vec<u8>, payload: &[u8]) {
        out.push(0x80 | TEXT);
        let len = payload.len();
        if len < 126 {
            out.push(0x80 | len as u8);
        } else if let Ok(len) = u16::try_from(len) {
            out.push(0x80 | 126);
            out.extend_from_slice(&len.to_be_bytes());
        } else {
            out.push(0x80 | 127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(payload);
    }

    /// Sends one text frame.
    pub async fn send(&mut self, payload: &str) -> Result<()> {
        let mut out = Vec::with_capacity(payload.len() + 14);
        Ws::encode(&mut out, payload.as_bytes());
        self.send_raw(&out).await
    }

    /// Writes bytes as they are (frames made with [`Ws::encode`], or deliberately broken ones).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.stream.write_all(bytes).await.context("writing to the websocket")
    }

    /// Reads more bytes into the buffer; an error when the connection ended.
    pub async fn fill(&mut self) -> Result<()> {
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
                return Err(e).context("reading from the websocket");
            }
        };
        self.buf.truncate(len + n);
        ensure!(n > 0, "the server closed the connection");
        Ok(())
    }

    /// The next complete frame already read, if any. Fails on a frame announcing more than
    /// [`MAX_FRAME`] bytes (the connection is then unusable).
    pub fn frame(&mut self) -> Result<Option<Frame<'_>>> {
        let Some((opcode, head, len)) = parse_head(&self.buf[self.pos..])? else { return Ok(None) };
        if self.buf.len() - self.pos < head + len {
            return Ok(None);
        }
        let start = self.pos + head;
        self.pos = start + len;
        Ok(Some(Frame { opcode, payload: &self.buf[start..start + len] }))
    }

    /// Reads until a text frame that `pick` accepts (within [`WAIT`]); `seen` sees every
    /// text frame passed over on the way. A close frame ends the wait with an error.
    pub async fn wait_for(&mut self, pick: impl Fn(&[u8]) -> bool, mut seen: impl FnMut(&[u8])) -> Result<Vec<u8>> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            while let Some(f) = self.frame()? {
                match f.opcode {
                    CLOSE => bail!("the server sent a close frame: {}", close_reason(f.payload)),
                    TEXT if pick(f.payload) => return Ok(f.payload.to_vec()),
                    TEXT => seen(f.payload),
                    _ => {}
                }
            }
            tokio::time::timeout_at(deadline, self.fill())
                .await
                .map_err(|_| anyhow!("no answer within {WAIT:?}"))??;
        }
    }

    /// Reads until the response to request `id`; `seen` sees the frames passed over.
    pub async fn response(&mut self, id: &str, seen: impl FnMut(&[u8])) -> Result<Vec<u8>> {
        self.wait_for(|p| is_response_to(p, id.as_bytes()), seen).await
    }

    /// Sends `frame` and reads until the response to its request `id`.
    pub async fn request(&mut self, id: &str, frame: &str) -> Result<Vec<u8>> {
        self.send(frame).await?;
        self.response(id, |_| {}).await
    }

    /// Logs in with a customer token (an agent token on the agent endpoint); fails unless the
    /// server says `success`.
    pub async fn login(&mut self, token: &str) -> Result<()> {
        let r = self
            .request(
                "login",
                &format!(r#"{{"request_id":"login","action":"login","payload":{{"token":"Bearer {token}"}}}}"#),
            )
            .await?;
        ensure!(contains(&r, b"\"success\":true"), "login failed: {}", String::from_utf8_lossy(&r));
        Ok(())
    }

    /// Starts a chat: its id and its thread's id.
    pub async fn start_chat(&mut self) -> Result<(String, String)> {
        let r = self.request("start", r#"{"request_id":"start","action":"start_chat","payload":{}}"#).await?;
        let v: serde_json::Value = serde_json::from_slice(&r).context("start_chat: the answer is not JSON")?;
        let chat = v["payload"]["chat"]["id"].as_str().ok_or_else(|| anyhow!("start_chat: no chat id in {v}"))?;
        let thread = v["payload"]["chat"]["thread"]["id"].as_str().unwrap_or_default();
        Ok((chat.to_owned(), thread.to_owned()))
    }

    /// The socket itself (to read or write around the framing, e.g. probe a stalled peer).
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }
}

/// A frame's head: (opcode, head length, payload length); `None` while incomplete.
fn parse_head(b: &[u8]) -> Result<Option<(u8, usize, usize)>> {
    let (Some(&b0), Some(&b1)) = (b.first(), b.get(1)) else { return Ok(None) };
    ensure!(b1 & 0x80 == 0, "the server sent a masked frame");
    let (len, head) = match b1 & 0x7F {
        126 => match b.get(2..4) {
            Some(l) => (u64::from(u16::from_be_bytes([l[0], l[1]])), 4),
            None => return Ok(None),
        },
        127 => match b.get(2..10).and_then(|l| <[u8; 8]>::try_from(l).ok()) {
            Some(l) => (u64::from_be_bytes(l), 10),
            None => return Ok(None),
        },
        n => (u64::from(n), 2),
    };
    let len = usize::try_from(len).ok().filter(|l| *l <= MAX_FRAME);
    let len = len.ok_or_else(|| anyhow!("the server announced a frame over {MAX_FRAME} bytes"))?;
    Ok(Some((b0 & 0x0F, head, len)))
}

/// A close frame's code and reason, for messages.
fn close_reason(payload: &[u8]) -> String {
    match payload {
        [a, b, reason @ ..] => format!("{} {}", u16::from_be_bytes([*a, *b]), String::from_utf8_lossy(reason)),
        _ => "no code".to_owned(),
    }
}

/// Where `needle` first occurs in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Whether `needle` occurs in `hay`.
pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    find(hay, needle).is_some()
}

/// The first bytes of a server frame, where the reference server writes `request_id`,
/// `action` and `type`.
fn head(p: &[u8]) -> &[u8] {
    &p[..p.len().min(128)]
}

/// Whether a server frame is a response.
pub fn is_response(p: &[u8]) -> bool {
    contains(head(p), b"\"type\":\"response\"")
}

/// Whether a server frame is the push `action`.
pub fn is_push(p: &[u8], action: &str) -> bool {
    let h = head(p);
    contains(h, b"\"type\":\"push\"") && contains(h, format!("\"action\":\"{action}\"").as_bytes())
}

/// Whether a server frame is the response to request `id`.
pub fn is_response_to(p: &[u8], id: &[u8]) -> bool {
    request_id(p) == Some(id) && is_response(p)
}

/// The request id a server frame starts with.
pub fn request_id(p: &[u8]) -> Option<&[u8]> {
    let rest = p.strip_prefix(b"{\"request_id\":\"")?;
    let end = rest.iter().position(|c| *c == b'"')?;
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> chatio_server::ServerHandle {
        chatio_server::Server::builder().ephemeral().agent(false).start_blocking().expect("server")
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    }

    /// A server frame as the server writes it (unmasked), with the given length form.
    fn server_frame(opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0x80 | opcode];
        match payload.len() {
            n if n < 126 => f.push(n as u8),
            n if n <= 0xFFFF => {
                f.push(126);
                f.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                f.push(127);
                f.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn heads_of_every_length_form_parse_and_wait_for_their_bytes() {
        for len in [0usize, 125, 126, 65_535, 65_536, 200_000] {
            let f = server_frame(TEXT, &vec![b'x'; len]);
            let (op, head, l) = parse_head(&f).expect("valid").expect("complete head");
            assert_eq!((op, l, head + l), (TEXT, len, f.len()), "length {len}");
            // Every proper prefix of the head is incomplete, not an error.
            for cut in 0..head {
                assert_eq!(parse_head(&f[..cut]).expect("valid"), None, "length {len}, cut {cut}");
            }
        }
    }

    #[test]
    fn oversize_and_masked_server_frames_are_errors_not_allocations() {
        let mut huge = vec![0x81, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(parse_head(&huge).expect_err("over the limit").to_string().contains("over"));
        assert!(parse_head(&[0x81, 0x85, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn frame_matchers_read_the_servers_key_order() {
        let r = br#"{"request_id":"m7","action":"send_event","type":"response","success":true,"payload":{}}"#;
        let p = br#"{"action":"incoming_event","type":"push","payload":{}}"#;
        assert_eq!(request_id(r), Some(&b"m7"[..]));
        assert!(is_response_to(r, b"m7") && !is_response_to(r, b"m70") && !is_response_to(p, b"m7"));
        assert!(is_push(p, "incoming_event") && !is_push(p, "incoming_chat") && !is_push(r, "send_event"));
        assert_eq!(close_reason(b"\x0f\xa2slow_consumer"), "4002 slow_consumer");
    }

    /// Against the real server: handshake, login, a chat, pipelined requests answered in
    /// order, frames of all three length forms both ways, the pushes counted on the way.
    #[test]
    fn talks_to_the_reference_server_in_every_frame_length_form() {
        let server = server();
        let addr = server.addr().to_string();
        let (token, _) = server.create_token(100, None).expect("token");
        rt().block_on(async {
            let mut ws = Ws::connect(&addr).await.expect("connect");
            ws.login(&token).await.expect("login");
            let (chat, thread) = ws.start_chat().await.expect("chat");
            assert!(!chat.is_empty() && !thread.is_empty());
            // Client frames: 7-bit, 16-bit and 64-bit lengths (unknown keys pad the last).
            let (short, medium, padding) = ("hi".to_owned(), "m".repeat(15_000), "p".repeat(70_000));
            let mut out = Vec::new();
            for (i, (text, pad)) in [(&short, ""), (&medium, ""), (&medium, ""), (&medium, ""), (&medium, ""), (&medium, ""), (&short, &padding[..])]
                .into_iter()
                .enumerate()
            {
                let f = format!(
                    r#"{{"request_id":"r{i}","action":"send_event","payload":{{"chat_id":"{chat}","pad":"{pad}","event":{{"type":"message","text":"{text}"}}}}}}"#
                );
                Ws::encode(&mut out, f.as_bytes());
            }
            ws.send_raw(&out).await.expect("send");
            let mut pushes = 0;
            for i in 0..7 {
                let r = ws.response(&format!("r{i}"), |p| pushes += usize::from(is_push(p, "incoming_event"))).await;
                let r = r.expect("response");
                assert!(contains(&r, b"\"success\":true"), "{}", String::from_utf8_lossy(&r));
            }
            // A server frame with a 64-bit length: the thread of 75 000 characters and more.
            ws.send(&format!(
                r#"{{"request_id":"t","action":"get_chat_threads","payload":{{"chat_id":"{chat}","thread_ids":["{thread}"]}}}}"#
            ))
            .await
            .expect("send");
            let r = ws.response("t", |p| pushes += usize::from(is_push(p, "incoming_event"))).await.expect("thread");
            assert!(r.len() > 65_535 && contains(&r, medium.as_bytes()), "{} bytes", r.len());
            assert_eq!(pushes, 7, "one incoming_event push per message, seen on the way");
        });
    }

    #[test]
    fn the_pushes_on_the_way_are_seen_and_counted() {
        let server = server();
        let addr = server.addr().to_string();
        let (token, _) = server.create_token(100, None).expect("token");
        rt().block_on(async {
            let mut ws = Ws::connect(&addr).await.expect("connect");
            ws.login(&token).await.expect("login");
            let (chat, _) = ws.start_chat().await.expect("chat");
            for i in 0..3 {
                let f = format!(
                    r#"{{"request_id":"m{i}","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message","text":"{}"}}}}}}"#,
                    "x".repeat(1 + i * 8_000)
                );
                ws.send(&f).await.expect("send");
            }
            ws.send(r#"{"request_id":"last","action":"ping"}"#).await.expect("ping");
            let mut pushes = 0;
            ws.response("last", |p| pushes += usize::from(is_push(p, "incoming_event"))).await.expect("pong");
            assert_eq!(pushes, 3);
        });
    }

    #[test]
    fn a_refused_login_and_a_closed_connection_are_errors() {
        let server = server();
        let addr = server.addr().to_string();
        rt().block_on(async {
            let mut ws = Ws::connect(&addr).await.expect("connect");
            let e = ws.login("not-a-token").await.expect_err("refused");
            assert!(e.to_string().contains("login failed"), "{e:#}");
            // A broken frame (reserved opcode 3): the server closes with 1002.
            ws.send_raw(&[0x83, 0x80, 0, 0, 0, 0]).await.expect("write");
            let e = ws.wait_for(|_| true, |_| {}).await.expect_err("closed");
            assert!(format!("{e:#}").contains("1002") || format!("{e:#}").contains("closed"), "{e:#}");
            let e =
                Ws::connect_with(&addr, Connect { recv_buffer: Some(4096), ..Connect::default() }).await.map(|_| ());
            assert!(e.is_ok());
            assert!(Ws::connect("localhost:1").await.is_err(), "a host name is refused, not resolved");
        });
    }
}
