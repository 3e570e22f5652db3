//! `chatio conformance serve`: the recorded server side of the transcripts, played on a
//! local port for any client to connect to.
//!
//! The [`Player`] listens on one port and serves what a v0.5 client needs:
//!
//! * the RTM websocket (`/customer/v0.5/rtm/ws`): each frame the client writes is compared
//!   with the recorded `out` frame ([`compare`]: the recorded `request_id`s
//!   and `custom_id`s are paired with the client's, the login token is not compared, times
//!   need seconds); the recorded `in` frames are written back with those ids rewritten to
//!   the client's and `http://server` to the player's address;
//! * the customer token endpoint (`POST /customer/`): a token for the recorded customer;
//! * the Web API `send_file` (multipart): chat, custom id, file name and size compared with
//!   the recorded upload, answered with the recorded file URL;
//! * `GET /licence/<n>/config.json`: `{}`.
//!
//! Recorded faults are played by the player itself where it can: `drop_connections` drops
//! the connection without a close frame; the other faults (`expire_tokens`,
//! `swallow_next_response`, `ban`) need nothing, their effect is in the recorded frames
//! (an `authentication` error, a missing response). A frame a client wrote to a connection
//! the player had dropped is not expected.
//!
//! The client must be driven through the transcript's scenario (the commands its frames
//! imply: a `send_event` frame means "send this event"). Each client frame that differs is
//! reported; a transcript stops after five differences or when the client goes silent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_std::io::BufReader;
use async_std::net::{TcpListener, TcpStream};
use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::Role;
use futures::channel::{mpsc, oneshot};
use futures::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, StreamExt};
use serde_json::{Value, json};

use crate::Error;
use crate::compare::{self, Diff, IdMap};
use crate::normalize;
use crate::report::{Failure, Report, Status, TranscriptResult, frame_name};
use crate::transcript::{Line, Transcript};

/// How the player runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// The local port (0: any free one).
    pub port: u16,
    /// How long to wait for each thing the client does.
    pub timeout: Duration,
}

/// What an upload carried.
#[derive(Debug)]
struct UploadSeen {
    chat_id: Option<String>,
    custom_id: Option<String>,
    name: Option<String>,
    size: usize,
}

enum Incoming {
    Ws(WebSocketStream<TcpStream>),
    Upload(UploadSeen, oneshot::Sender<String>),
}

/// The state the connection tasks share with the player.
#[derive(Default)]
struct Shared {
    customer: Mutex<String>,
    tokens: Mutex<u64>,
}

/// The recorded server side, listening on a local port.
pub struct Player {
    url: String,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    shared: Arc<Shared>,
    pending: VecDeque<Incoming>,
    timeout: Duration,
    _accept: async_std::task::JoinHandle<()>,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player").field("url", &self.url).finish_non_exhaustive()
    }
}

impl Player {
    /// Listens on `127.0.0.1:port`.
    ///
    /// # Errors
    /// When the port cannot be bound.
    pub async fn bind(options: &Options) -> Result<Self, Error> {
        let port = options.port;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(Error::net(format_args!("listening on port {port}")))?;
        let addr = listener.local_addr().map_err(Error::net("reading the listener's address"))?;
        let url = format!("http://{addr}");
        let (tx, incoming) = mpsc::unbounded();
        let shared = Arc::new(Shared::default());
        let accept = {
            let shared = shared.clone();
            let url = url.clone();
            async_std::task::spawn(async move {
                while let Some(Ok(stream)) = listener.incoming().next().await {
                    let (tx, shared, url) = (tx.clone(), shared.clone(), url.clone());
                    async_std::task::spawn(async move {
                        let _ = connection(stream, tx, &shared, &url).await;
                    });
                }
            })
        };
        Ok(Self { url, incoming, shared, pending: VecDeque::new(), timeout: options.timeout, _accept: accept })
    }

    /// The base URL to point a client at (`http://127.0.0.1:PORT`, license 100).
    pub fn url(&self) -> &str {
        &self.url
    }

    async fn next(&mut self, want: fn(&Incoming) -> bool) -> Option<Incoming> {
        if let Some(i) = self.pending.iter().position(want) {
            return self.pending.remove(i);
        }
        loop {
            match async_std::future::timeout(self.timeout, self.incoming.next()).await {
                Ok(Some(x)) if want(&x) => return Some(x),
                Ok(Some(x)) => self.pending.push_back(x),
                _ => return None,
            }
        }
    }

    /// Plays one transcript to the client that connects next.
    pub async fn play(&mut self, name: &str, t: &Transcript) -> TranscriptResult {
        self.pending.clear();
        let customer = t.lines.iter().find_map(|l| match l {
            Line::Token { customer_id: Some(c), .. } => Some(c.clone()),
            _ => None,
        });
        if let Ok(mut c) = self.shared.customer.lock() {
            *c = customer.unwrap_or_default();
        }
        let mut ids = IdMap::of_client(t);
        let mut failures = Vec::new();
        let mut compared = 0;
        let mut ws: Option<WebSocketStream<TcpStream>> = None;
        let mut dropped = false;
        let lines: Vec<&Line> = t.lines.iter().collect();
        let mut n = 1;
        while n < lines.len() && failures.len() < 5 {
            let at = n + 1;
            let line = lines[n];
            n += 1;
            match line {
                Line::Session { .. } | Line::Token { .. } => {}
                Line::Connected { .. } => match self.next(|i| matches!(i, Incoming::Ws(_))).await {
                    Some(Incoming::Ws(w)) => {
                        ws = Some(w);
                        dropped = false;
                    }
                    _ => {
                        failures.push(missing(at, "the websocket", "the client did not open the websocket"));
                        break;
                    }
                },
                Line::Out { frame, .. } => {
                    let Some(w) = ws.as_mut() else {
                        if dropped {
                            // Written to the connection the player had dropped: lost.
                            continue;
                        }
                        failures.push(missing(at, &frame_name(frame), "expected with no websocket open"));
                        break;
                    };
                    match expect_frame(w, self.timeout, &self.url, at, frame, &mut ids).await {
                        Ok(()) => compared += 1,
                        Err((f, fatal)) => {
                            failures.push(f);
                            if fatal {
                                break;
                            }
                        }
                    }
                }
                Line::In { frame, .. } => {
                    if let Some(w) = ws.as_mut() {
                        let mut f = ids.to_actual(frame);
                        server_url(&mut f, &self.url);
                        let _ = w.send(Message::text(f.to_string())).await;
                    }
                }
                Line::Fault { fault, .. } => {
                    if fault == "drop_connections" {
                        // The frames the client wrote before it saw the drop come first: the
                        // connection is dropped once they are read, as when recording.
                        if let Some(w) = ws.as_mut() {
                            while let Some(Line::Out { frame, .. }) = lines.get(n) {
                                n += 1;
                                match expect_frame(w, self.timeout, &self.url, n, frame, &mut ids).await {
                                    Ok(()) => compared += 1,
                                    Err((f, _)) => {
                                        failures.push(f);
                                        break;
                                    }
                                }
                            }
                        }
                        // Without a close frame: the client sees a broken connection.
                        if ws.take().is_some() {
                            dropped = true;
                        }
                    }
                }
                Line::Upload { chat_id, custom_id, name, size, .. } => {
                    let Some(Incoming::Upload(seen, reply)) = self.next(|i| matches!(i, Incoming::Upload(..))).await
                    else {
                        failures.push(missing(at, "the Web API `send_file`", "the client did not upload"));
                        break;
                    };
                    let expected = json!({"chat_id": chat_id, "custom_id": custom_id, "name": name, "size": size});
                    let got = json!({"chat_id": seen.chat_id, "custom_id": seen.custom_id, "name": seen.name, "size": seen.size});
                    let diffs = compare::frames(&expected, &got, &mut ids);
                    if diffs.is_empty() {
                        compared += 1;
                    } else {
                        failures.push(Failure {
                            line: at,
                            frame: "the Web API `send_file`".into(),
                            message: format!("differs in {} place{}", diffs.len(), plural(diffs.len())),
                            diffs,
                            expected: Some(expected),
                            got: Some(got),
                        });
                    }
                    // The URL of the file event that follows, as the recording has it.
                    let url = lines[n..]
                        .iter()
                        .find_map(|l| match l {
                            Line::In { frame, .. } => frame.pointer("/payload/event/url").and_then(Value::as_str),
                            _ => None,
                        })
                        .unwrap_or("http://server/api/file/conformance/file")
                        .replace(normalize::SERVER, &self.url);
                    let _ = reply.send(url);
                }
                Line::Disconnected { code, .. } => {
                    if let (Some(1000), Some(mut w)) = (code, ws.take()) {
                        // The client closes: nothing more may come.
                        match read(&mut w, self.timeout).await {
                            Ok(None) => {}
                            Ok(Some(v)) => failures.push(Failure {
                                line: at,
                                frame: frame_name(&v),
                                message: "unexpected: the recording has the client closing the connection here".into(),
                                diffs: vec![],
                                expected: None,
                                got: Some(v),
                            }),
                            Err(e) => {
                                failures.push(missing(at, "the close", &format!("the client did not close: {e}")))
                            }
                        }
                    }
                    ws = None;
                }
            }
        }
        TranscriptResult {
            name: name.into(),
            status: if failures.is_empty() { Status::Pass } else { Status::Fail },
            frames_compared: compared,
            reason: None,
            failures,
        }
    }
}

/// Reads the client's next frame and compares it with the recorded one. A failure is fatal
/// (`true`) when nothing came.
async fn expect_frame(
    w: &mut WebSocketStream<TcpStream>,
    timeout: Duration,
    base: &str,
    at: usize,
    frame: &Value,
    ids: &mut IdMap,
) -> Result<(), (Failure, bool)> {
    let got = match read(w, timeout).await {
        Ok(Some(v)) => v,
        Ok(None) => return Err((missing(at, &frame_name(frame), "the client closed the connection instead"), true)),
        Err(e) => return Err((missing(at, &frame_name(frame), &format!("never came: {e}")), true)),
    };
    let mut norm = got.clone();
    client_normalize(&mut norm, base);
    let diffs = compare::frames(frame, &norm, ids);
    if diffs.is_empty() { Ok(()) } else { Err((differs(at, frame, got, diffs), false)) }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn missing(line: usize, frame: &str, message: &str) -> Failure {
    Failure { line, frame: frame.into(), message: message.into(), diffs: vec![], expected: None, got: None }
}

fn differs(line: usize, expected: &Value, got: Value, diffs: Vec<Diff>) -> Failure {
    Failure {
        line,
        frame: frame_name(expected),
        message: format!("differs in {} place{}", diffs.len(), plural(diffs.len())),
        diffs,
        expected: Some(expected.clone()),
        got: Some(got),
    }
}

/// The client's frame in the recorded form: its login token and the player's address.
fn client_normalize(v: &mut Value, base: &str) {
    if v.get("action").and_then(Value::as_str) == Some("login") {
        if let Some(t) = v.pointer_mut("/payload/token") {
            if t.is_string() {
                *t = Value::String(normalize::TOKEN.into());
            }
        }
    }
    replace_strings(v, base, normalize::SERVER);
}

fn server_url(v: &mut Value, base: &str) {
    replace_strings(v, normalize::SERVER, base);
}

fn replace_strings(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(a) => a.iter_mut().for_each(|x| replace_strings(x, from, to)),
        Value::Object(m) => m.values_mut().for_each(|x| replace_strings(x, from, to)),
        _ => {}
    }
}

async fn read(w: &mut WebSocketStream<TcpStream>, timeout: Duration) -> Result<Option<Value>, Error> {
    loop {
        let msg = async_std::future::timeout(timeout, w.next())
            .await
            .map_err(|_| Error::Timeout { waiting_for: "a frame".into(), after: timeout })?;
        match msg {
            Some(Ok(Message::Text(t))) => {
                return Ok(Some(
                    serde_json::from_str(t.as_str()).unwrap_or_else(|_| Value::String(t.as_str().to_owned())),
                ));
            }
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return Ok(None),
            Some(Ok(_)) => {}
        }
    }
}

/// Plays every transcript, one after the other, to the clients that connect; `notify` is
/// told the URL first, then each transcript's name before it is played.
///
/// # Errors
/// When the port cannot be bound.
pub async fn serve(
    options: &Options,
    transcripts: &[(String, Transcript)],
    mut notify: impl FnMut(&str),
) -> Result<Report, Error> {
    let mut player = Player::bind(options).await?;
    notify(player.url());
    let mut results = Vec::new();
    for (name, t) in transcripts {
        notify(name);
        results.push(player.play(name, t).await);
    }
    Ok(Report { mode: "client".into(), target: player.url().to_owned(), transcripts: results })
}

// ------------------------------------------------------------------------------- HTTP

struct Head {
    method: String,
    path: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

const MAX_BODY: usize = 16 << 20;

async fn read_head(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Head>> {
    let mut line = String::new();
    if r.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else { return Ok(None) };
    let mut head = Head { method: method.to_owned(), path: path.to_owned(), headers: Vec::new() };
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 || line.trim().is_empty() {
            break;
        }
        if head.headers.len() > 100 {
            return Ok(None);
        }
        if let Some((k, v)) = line.split_once(':') {
            head.headers.push((k.trim().to_owned(), v.trim().to_owned()));
        }
    }
    Ok(Some(head))
}

async fn read_body(r: &mut BufReader<TcpStream>, head: &Head) -> std::io::Result<Vec<u8>> {
    let too_big = || std::io::Error::new(std::io::ErrorKind::InvalidData, "body too large");
    if let Some(n) = head.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if n > MAX_BODY {
            return Err(too_big());
        }
        let mut body = vec![0; n];
        r.read_exact(&mut body).await?;
        return Ok(body);
    }
    let mut body = Vec::new();
    if head.header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        let mut line = String::new();
        loop {
            line.clear();
            r.read_line(&mut line).await?;
            let n = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad chunk size"))?;
            if body.len() + n > MAX_BODY {
                return Err(too_big());
            }
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).await?;
            chunk.truncate(n);
            body.extend_from_slice(&chunk);
            if n == 0 {
                break;
            }
        }
    }
    Ok(body)
}

async fn respond(s: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body).await?;
    s.flush().await
}

async fn connection(
    stream: TcpStream,
    tx: mpsc::UnboundedSender<Incoming>,
    shared: &Shared,
    url: &str,
) -> std::io::Result<()> {
    let mut out = stream.clone();
    let mut r = BufReader::new(stream);
    let Some(head) = read_head(&mut r).await? else { return Ok(()) };
    let path = head.path.split('?').next().unwrap_or("").to_owned();
    if head.header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket")) && path.ends_with("/rtm/ws") {
        let Some(key) = head.header("sec-websocket-key") else {
            return respond(&mut out, "400 Bad Request", "text/plain", b"no Sec-WebSocket-Key").await;
        };
        let accept = async_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
        let resp = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        out.write_all(resp.as_bytes()).await?;
        drop(r);
        let ws = WebSocketStream::from_raw_socket(out, Role::Server, None).await;
        let _ = tx.unbounded_send(Incoming::Ws(ws));
        return Ok(());
    }
    let body = read_body(&mut r, &head).await?;
    match (head.method.as_str(), path.as_str()) {
        ("POST", p) if p.ends_with("/customer/") || p.ends_with("/customer") => {
            let n = shared.tokens.lock().map(|mut n| {
                *n += 1;
                *n
            });
            let customer = shared.customer.lock().map(|c| c.clone()).unwrap_or_default();
            let answer = json!({
                "access_token": format!("conformance-token-{}", n.unwrap_or(0)),
                "token_type": "Bearer",
                "expires_in": 3600,
                "entity_id": customer,
                "license_id": 100,
            });
            respond(&mut out, "200 OK", "application/json", answer.to_string().as_bytes()).await
        }
        ("POST", p) if p.ends_with("/action/send_file") => {
            let seen = multipart(&head, &body);
            let (reply, answer) = oneshot::channel();
            let _ = tx.unbounded_send(Incoming::Upload(seen, reply));
            let file_url = answer.await.unwrap_or_else(|_| format!("{url}/api/file/conformance/file"));
            let frame = chatio_wire::ServerFrame::Response(chatio_wire::Response::success(
                None,
                chatio_wire::ResponseData::SendFile(chatio_wire::SendFileResponse::new(file_url)),
            ));
            respond(&mut out, "200 OK", "application/json", frame.encode().as_bytes()).await
        }
        ("GET", p) if p.starts_with("/licence/") && p.ends_with("/config.json") => {
            respond(&mut out, "200 OK", "application/json", b"{}").await
        }
        _ => respond(&mut out, "404 Not Found", "text/plain", b"not part of the recorded server").await,
    }
}

/// The fields of a `send_file` multipart body.
fn multipart(head: &Head, body: &[u8]) -> UploadSeen {
    let mut seen = UploadSeen { chat_id: None, custom_id: None, name: None, size: 0 };
    let Some(boundary) = head
        .header("content-type")
        .and_then(|ct| ct.split(';').find_map(|p| p.trim().strip_prefix("boundary=")))
        .map(|b| format!("--{}", b.trim_matches('"')))
    else {
        return seen;
    };
    let b = boundary.as_bytes();
    let mut starts = Vec::new();
    let mut i = 0;
    while i + b.len() <= body.len() {
        if &body[i..i + b.len()] == b {
            starts.push(i);
            i += b.len();
        } else {
            i += 1;
        }
    }
    for w in starts.windows(2) {
        let part = &body[w[0] + b.len()..w[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let part = part.strip_suffix(b"\r\n").unwrap_or(part);
        let Some(split) = part.windows(4).position(|x| x == b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let headers = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or_default()
            .to_owned();
        let content = &part[split + 4..];
        let attr = |name: &str| {
            headers
                .split(';')
                .find_map(|p| p.trim().strip_prefix(&format!("{name}=")).map(|v| v.trim_matches('"').to_owned()))
        };
        match attr("name").as_deref() {
            Some("payload.chat_id") => seen.chat_id = Some(String::from_utf8_lossy(content).into_owned()),
            Some("payload.custom_id") => seen.custom_id = Some(String::from_utf8_lossy(content).into_owned()),
            Some("payload.file") => {
                seen.name = attr("filename");
                seen.size = content.len();
            }
            _ => {}
        }
    }
    seen
}
