//! A small raw websocket client and HTTP helper for the tests: JSON frames in and out over
//! real loopback sockets, no SDK.

use std::collections::VecDeque;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::{ConnectStream, connect_async};
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use bytes::Bytes;
use chatio_server::{Server, ServerBuilder, ServerHandle};
use futures::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// How long a test waits for something that must happen before failing (a bound against
/// hangs, never a synchronisation).
pub const WAIT: Duration = Duration::from_secs(10);

/// The license every test uses.
pub const LICENSE: u64 = 100;

/// A server on a free port, seeded, agent on with no delay.
pub async fn server() -> ServerHandle {
    builder().start().await.expect("server starts")
}

/// A server without the agent.
pub async fn quiet_server() -> ServerHandle {
    builder().agent(false).start().await.expect("server starts")
}

/// The builder the tests start from.
pub fn builder() -> ServerBuilder {
    Server::builder().ephemeral().seed(7).workers(1)
}

/// A raw websocket client.
pub struct Client {
    ws: WebSocketStream<ConnectStream>,
    /// Frames read while waiting for something else, in arrival order.
    pub backlog: VecDeque<Value>,
    next_id: u64,
    /// The customer this connection logged in as, if any.
    pub customer: String,
    /// The token it logged in with, if any.
    pub token: String,
}

/// How a connection ended.
#[derive(Debug)]
pub enum End {
    /// A close frame arrived.
    Closed(Option<CloseFrame>),
    /// The TCP connection ended without a close frame.
    Dropped,
}

impl End {
    /// The close code, if the connection was closed with a frame.
    pub fn code(&self) -> Option<u16> {
        match self {
            End::Closed(Some(f)) => Some(f.code.into()),
            _ => None,
        }
    }

    /// The close reason text.
    pub fn reason(&self) -> String {
        match self {
            End::Closed(Some(f)) => f.reason.as_str().to_owned(),
            _ => String::new(),
        }
    }
}

impl Client {
    /// Opens a websocket to `url`.
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio::time::timeout(WAIT, connect_async(url))
            .await
            .expect("handshake in time")
            .expect("websocket handshake");
        Client { ws, backlog: VecDeque::new(), next_id: 0, customer: String::new(), token: String::new() }
    }

    /// A new customer on license 100, logged in.
    pub async fn customer(server: &ServerHandle) -> Client {
        let (token, _) = server.create_token(LICENSE, None).expect("token");
        Client::with_token(server, &token).await
    }

    /// Connects and logs in with `token` (`Bearer ` prefixed).
    pub async fn with_token(server: &ServerHandle, token: &str) -> Client {
        let mut c = Client::connect(&server.ws_url(LICENSE)).await;
        let r = c.request("login", json!({"token": format!("Bearer {token}")})).await;
        assert_eq!(r["success"], true, "login failed: {r}");
        c.customer = r["payload"]["customer_id"].as_str().expect("customer_id").to_owned();
        c.token = token.to_owned();
        c
    }

    /// Another connection of the same customer.
    pub async fn again(&self, server: &ServerHandle) -> Client {
        Client::with_token(server, &self.token).await
    }

    /// Sends a text frame as is.
    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.expect("send");
    }

    /// Sends any websocket message.
    pub async fn send_message(&mut self, m: Message) {
        self.ws.send(m).await.expect("send");
    }

    /// Sends a JSON value as a text frame.
    pub async fn send(&mut self, v: &Value) {
        self.send_text(&v.to_string()).await;
    }

    /// The next frame (from the backlog first).
    pub async fn recv(&mut self) -> Value {
        if let Some(v) = self.backlog.pop_front() {
            return v;
        }
        self.read().await
    }

    /// The next text frame from the socket, as it was written (not parsed).
    pub async fn recv_raw(&mut self) -> String {
        assert!(self.backlog.is_empty(), "frames left in the backlog: {:?}", self.backlog);
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => return t.as_str().to_owned(),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// The next websocket message of any kind, straight from the socket.
    pub async fn next_message(&mut self) -> Message {
        tokio::time::timeout(WAIT, self.ws.next()).await.expect("in time").expect("still open").expect("no error")
    }

    async fn read(&mut self) -> Value {
        let text = loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => break t,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        };
        serde_json::from_str(text.as_str()).unwrap_or_else(|e| panic!("server sent invalid JSON ({e}): {text}"))
    }

    /// Sends a request with a fresh id and returns its response; frames read meanwhile go
    /// to the backlog.
    pub async fn request(&mut self, action: &str, payload: Value) -> Value {
        let id = self.send_request(action, payload).await;
        self.response_to(&id).await
    }

    /// Sends a request with a fresh id, returns the id.
    pub async fn send_request(&mut self, action: &str, payload: Value) -> String {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.send(&json!({"request_id": id, "action": action, "payload": payload})).await;
        id
    }

    /// A request that must succeed; returns its payload.
    pub async fn ok(&mut self, action: &str, payload: Value) -> Value {
        let r = self.request(action, payload).await;
        assert_eq!(r["success"], true, "{action} failed: {r}");
        assert_eq!(r["type"], "response");
        assert_eq!(r["action"], action);
        r["payload"].clone()
    }

    /// A request that must fail with `error_type`; returns the error object.
    pub async fn fails(&mut self, action: &str, payload: Value, error_type: &str) -> Value {
        let r = self.request(action, payload).await;
        assert_eq!(r["success"], false, "{action} should fail: {r}");
        assert_eq!(r["action"], action, "{r}");
        let e = r["payload"]["error"].clone();
        assert_eq!(e["type"], error_type, "{r}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {r}");
        e
    }

    /// Waits for the response to request `id`.
    pub async fn response_to(&mut self, id: &str) -> Value {
        self.frame(|v| v["type"] == "response" && v["request_id"] == id).await
    }

    /// Waits for the first frame (backlog included) that matches; others stay in the
    /// backlog.
    pub async fn frame(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return self.backlog.remove(i).expect("index");
        }
        loop {
            let v = self.read().await;
            if pred(&v) {
                return v;
            }
            self.backlog.push_back(v);
        }
    }

    /// Waits for a push of this name.
    pub async fn push(&mut self, action: &str) -> Value {
        self.frame(|v| v["type"] == "push" && v["action"] == action).await
    }

    /// Waits for an `incoming_event` whose event matches.
    pub async fn event(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        self.frame(|v| v["action"] == "incoming_event" && pred(&v["payload"]["event"])).await
    }

    /// Waits for an agent message with this text.
    pub async fn says(&mut self, text: &str) -> Value {
        self.event(|e| e["type"] == "message" && e["text"] == text).await
    }

    /// Makes sure every frame the server queued for this connection so far has arrived:
    /// a `ping` round trip (frames are written in order). Returns everything unread.
    pub async fn settle(&mut self) -> Vec<Value> {
        let id = self.send_request("ping", json!({})).await;
        let _ = self.response_to(&id).await;
        self.backlog.drain(..).collect()
    }

    /// Reads until the connection ends; text frames read meanwhile go to the backlog.
    pub async fn end(&mut self) -> End {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for the end");
            match msg {
                Some(Ok(Message::Close(f))) => return End::Closed(f),
                Some(Ok(Message::Text(t))) => self.backlog.push_back(serde_json::from_str(t.as_str()).expect("JSON")),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return End::Dropped,
            }
        }
    }

    /// Starts a chat with a first message; returns (chat id, thread id).
    pub async fn start_chat(&mut self, text: &str) -> (String, String) {
        let p =
            self.ok("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": text}]}}})).await;
        let chat = p["chat"]["id"].as_str().expect("chat id").to_owned();
        let thread = p["chat"]["thread"]["id"].as_str().expect("thread id").to_owned();
        (chat, thread)
    }

    /// Sends a message; returns the `send_event` response payload.
    pub async fn say(&mut self, chat: &str, text: &str) -> Value {
        self.ok("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": text}})).await
    }

    /// Closes the connection politely.
    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}

/// An HTTP answer.
pub struct HttpReply {
    pub status: u16,
    pub content_type: String,
    pub headers: hyper::header::HeaderMap,
    pub body: Bytes,
}

impl HttpReply {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// One HTTP/1.1 request over a fresh loopback connection.
pub async fn http(
    server: &ServerHandle,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> HttpReply {
    let stream = tokio::net::TcpStream::connect(server.addr()).await.expect("connect");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.expect("handshake");
    tokio::spawn(conn);
    let mut req =
        hyper::Request::builder().method(method).uri(path_and_query).header("host", server.addr().to_string());
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(body.into())).expect("request");
    let resp = tokio::time::timeout(WAIT, sender.send_request(req)).await.expect("in time").expect("response");
    let status = resp.status().as_u16();
    let content_type = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let headers = resp.headers().clone();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    HttpReply { status, content_type, headers, body }
}

/// A Web API call with a JSON body.
pub async fn web(server: &ServerHandle, action: &str, token: &str, body: Value) -> HttpReply {
    let path = format!("/customer/v0.5/action/{action}?license_id={LICENSE}");
    let auth = format!("Bearer {token}");
    http(server, "POST", &path, &[("authorization", &auth), ("content-type", "application/json")], body.to_string())
        .await
}

/// A multipart/form-data body: text fields, then an optional file part.
pub fn multipart(fields: &[(&str, &str)], file: Option<(&str, &str, &[u8])>) -> (String, Vec<u8>) {
    let boundary = "chatio-test-boundary-1234";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    if let Some((filename, content_type, bytes)) = file {
        let ct = if content_type.is_empty() { String::new() } else { format!("Content-Type: {content_type}\r\n") };
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"payload.file\"; filename=\"{filename}\"\r\n{ct}\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `send_file` through the Web API.
pub async fn send_file(
    server: &ServerHandle,
    token: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> HttpReply {
    let (ct, body) = multipart(fields, file);
    let auth = format!("Bearer {token}");
    http(
        server,
        "POST",
        &format!("/customer/v0.5/action/send_file?license_id={LICENSE}"),
        &[("authorization", &auth), ("content-type", &ct)],
        body,
    )
    .await
}
