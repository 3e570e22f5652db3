//! A small raw websocket client for the tests: JSON frames in and out, no SDK.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::time::Duration;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::{ConnectStream, connect_async};
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use chatio_server::ServerHandle;
use futures::StreamExt;
use serde_json::{Value, json};

/// How long a test waits for a frame before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct Client {
    ws: WebSocketStream<ConnectStream>,
    /// Frames read while waiting for something else.
    pub backlog: VecDeque<Value>,
    next_id: u64,
}

/// What a connection ended with.
#[derive(Debug)]
pub enum End {
    Closed(Option<CloseFrame>),
    Dropped,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = connect_async(url).await.expect("websocket handshake");
        Client { ws, backlog: VecDeque::new(), next_id: 0 }
    }

    /// Connects to license 100 and logs in with a fresh customer.
    pub async fn customer(server: &ServerHandle) -> (Client, String, String) {
        let (token, customer) = server.create_token(100, None).expect("token");
        let mut c = Client::connect(&server.ws_url(100)).await;
        let r = c.request("login", json!({"token": format!("Bearer {token}")})).await;
        assert_eq!(r["success"], true, "login failed: {r}");
        (c, token, customer.to_string())
    }

    /// Same customer, another connection.
    pub async fn again(server: &ServerHandle, token: &str) -> Client {
        let mut c = Client::connect(&server.ws_url(100)).await;
        let r = c.request("login", json!({"token": format!("Bearer {token}")})).await;
        assert_eq!(r["success"], true, "login failed: {r}");
        c
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text.to_owned())).await.expect("send");
    }

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

    async fn read(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next()).await.expect("timed out waiting for a frame");
            match msg {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).expect("server sent JSON"),
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Sends a request with a fresh id and returns its response; pushes read meanwhile go
    /// to the backlog.
    pub async fn request(&mut self, action: &str, payload: Value) -> Value {
        self.next_id += 1;
        let id = format!("r{}", self.next_id);
        self.send(&json!({"request_id": id, "action": action, "payload": payload})).await;
        self.response_to(&id).await
    }

    pub async fn response_to(&mut self, id: &str) -> Value {
        if let Some(i) = self.backlog.iter().position(|v| v["type"] == "response" && v["request_id"] == id) {
            return self.backlog.remove(i).expect("index");
        }
        loop {
            let v = self.read().await;
            if v["type"] == "response" && v["request_id"] == id {
                return v;
            }
            self.backlog.push_back(v);
        }
    }

    /// The last request id used.
    pub fn last_id(&self) -> String {
        format!("r{}", self.next_id)
    }

    /// Waits for a push of this name, keeping the others in the backlog.
    pub async fn push(&mut self, action: &str) -> Value {
        if let Some(i) = self.backlog.iter().position(|v| v["type"] == "push" && v["action"] == action) {
            return self.backlog.remove(i).expect("index");
        }
        loop {
            let v = self.read().await;
            if v["type"] == "push" && v["action"] == action {
                return v;
            }
            self.backlog.push_back(v);
        }
    }

    /// Waits for an `incoming_event` whose event matches.
    pub async fn event(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(i) =
            self.backlog.iter().position(|v| v["action"] == "incoming_event" && pred(&v["payload"]["event"]))
        {
            return self.backlog.remove(i).expect("index");
        }
        loop {
            let v = self.read().await;
            if v["action"] == "incoming_event" && pred(&v["payload"]["event"]) {
                return v;
            }
            self.backlog.push_back(v);
        }
    }

    /// Reads until the connection ends.
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

    /// Starts a chat with a message and returns (chat id, thread id).
    pub async fn start_chat(&mut self, text: &str) -> (String, String) {
        let r = self
            .request("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": text}]}}}))
            .await;
        assert_eq!(r["success"], true, "{r}");
        let chat = r["payload"]["chat"]["id"].as_str().expect("chat id").to_owned();
        let thread = r["payload"]["chat"]["thread"]["id"].as_str().expect("thread id").to_owned();
        (chat, thread)
    }

    pub async fn close(mut self) {
        let _ = self.ws.close(None).await;
    }
}
