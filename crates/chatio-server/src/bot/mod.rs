//! The scripted agent ("Chatio Bot") as a client of the Agent API (protocol file §8.2 H37,
//! §9): the server has no agent code path of its own. For each license no configured agent
//! serves, the bot opens a websocket to the server's own `/agent/v0.5/rtm/ws` over loopback,
//! logs in with a token the server drew for it at start (OS randomness, kept as a digest,
//! never logged), and does what any agent client does: it hears the pushes of the chats it
//! sees and answers with Agent API requests — `join_chat`, `send_event`,
//! `send_typing_indicator`, `multicast`, `update_chat_properties`, `close_thread`... — each
//! waiting for its response before the next. Its picture for `/rich` and `/file` is uploaded
//! once per connection with `upload_image` (the Web API, over loopback HTTP).
//!
//! What it does is [`script`] (pure). This module is the connection: it reconnects while the
//! server runs (a restart drops every connection), and catches up on login with the chats it
//! is not in yet.
//!
//! **Order.** With a zero delay (the default) the bot tells the server when it has reacted
//! to every push it got: after each push it handled it sends a `ping` whose `request_id` is
//! `idle:N`, N the pushes handled on this connection. The server holds a customer's next
//! request on that license until the bot has caught up (at most two seconds), so what the
//! bot does follows the request that caused it and precedes the customer's next one (CUST
//! G8), as when it was a code path of the server. With a delay each step waits it.

pub(crate) mod script;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::sync::watch;

use script::{Heard, Script, Step};

/// How long the bot waits for one response before it gives the connection up.
const RESPONSE_WAIT: Duration = Duration::from_secs(15);

use crate::state::BOT_IDLE_PREFIX as IDLE_PREFIX;

/// One license the bot serves: the license and the bot's access token there.
#[derive(Clone)]
pub(crate) struct BotLogin {
    pub(crate) license: u64,
    pub(crate) token: String,
}

impl std::fmt::Debug for BotLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotLogin").field("license", &self.license).finish_non_exhaustive()
    }
}

/// What every connection of the bot needs.
#[derive(Clone, Debug)]
pub(crate) struct BotSetup {
    /// The server's listening address (the bot connects over loopback to it).
    pub(crate) addr: SocketAddr,
    /// The bot's user id.
    pub(crate) id: String,
    /// The bot's name (its system texts).
    pub(crate) name: String,
    /// The delay before each step.
    pub(crate) delay: Duration,
}

/// Runs the bot on `login`'s license until `stop` turns true: connect, log in, serve,
/// and again after a dropped connection.
pub(crate) async fn run(setup: BotSetup, login: BotLogin, mut stop: watch::Receiver<bool>) {
    let mut script = Script::default();
    while !*stop.borrow() {
        let served = tokio::select! {
            r = serve(&setup, &login, &mut script) => r,
            _ = stop.changed() => return,
        };
        if let Err(e) = served {
            tracing::debug!(license = login.license, error = %e, "the bot's connection ended");
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
            _ = stop.changed() => return,
        }
    }
}

type Ws = async_tungstenite::WebSocketStream<async_tungstenite::tokio::TokioAdapter<tokio::net::TcpStream>>;

/// One connection of the bot.
struct Conn<'a> {
    ws: Ws,
    setup: &'a BotSetup,
    login: &'a BotLogin,
    /// Frames read while waiting for a response, in order.
    backlog: VecDeque<Value>,
    next_request: u64,
    /// Pushes handled on this connection.
    handled: u64,
    /// The chats it heard of: their customer and active thread.
    chats: HashMap<String, ChatInfo>,
    /// The URL and size of its uploaded pictures: for `/rich`, for `/file`.
    pictures: [Option<(String, u64)>; 2],
}

#[derive(Clone, Debug, Default)]
struct ChatInfo {
    customer: String,
    active_thread: Option<String>,
}

async fn serve(setup: &BotSetup, login: &BotLogin, script: &mut Script) -> Result<(), String> {
    let tcp = tokio::net::TcpStream::connect(setup.addr).await.map_err(|e| e.to_string())?;
    let url = format!("ws://{}/agent/v0.5/rtm/ws", setup.addr);
    let (ws, _) = async_tungstenite::tokio::client_async(url, tcp).await.map_err(|e| e.to_string())?;
    let mut conn = Conn {
        ws,
        setup,
        login,
        backlog: VecDeque::new(),
        next_request: 0,
        handled: 0,
        chats: HashMap::new(),
        pictures: [None, None],
    };
    let me = conn
        .request("login", json!({"token": format!("Bearer {}", login.token), "application": {"name": "chatio-bot"}}))
        .await?;
    // Catch up with the customer chats it is not in (started while it was away).
    let mut missed = Vec::new();
    for s in me["chats_summary"].as_array().into_iter().flatten() {
        let chat = s["id"].as_str().unwrap_or_default().to_owned();
        let users = s["users"].as_array().cloned().unwrap_or_default();
        let customer = users.iter().find(|u| u["type"] == "customer").and_then(|u| u["id"].as_str());
        let member = users.iter().any(|u| u["id"] == setup.id.as_str());
        let thread = s["last_thread_summary"]["id"].as_str().map(str::to_owned);
        if let Some(customer) = customer {
            conn.chats.insert(chat.clone(), ChatInfo { customer: customer.to_owned(), active_thread: thread });
            script.react(&Heard::Membership { chat: &chat, member });
            if !member {
                missed.push(chat);
            }
        }
    }
    for chat in missed {
        let (_, steps) = script.react(&Heard::NewThread { chat: &chat, has_customer: true, customer_text: None });
        conn.perform(&chat, &steps).await?;
    }
    conn.idle().await?;
    loop {
        let frame = conn.next_frame().await?;
        if frame["type"] != "push" {
            continue;
        }
        conn.handled += 1;
        conn.hear(script, &frame).await?;
        if conn.backlog.is_empty() {
            conn.idle().await?;
        }
    }
}

impl Conn<'_> {
    /// The next frame: from the backlog, else from the socket.
    async fn next_frame(&mut self) -> Result<Value, String> {
        if let Some(f) = self.backlog.pop_front() {
            return Ok(f);
        }
        self.read().await
    }

    async fn read(&mut self) -> Result<Value, String> {
        loop {
            match self.ws.next().await {
                Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).map_err(|e| e.to_string()),
                Some(Ok(Message::Close(_))) | None => return Err("closed".into()),
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e.to_string()),
            }
        }
    }

    async fn send(&mut self, action: &str, request_id: &str, payload: Value) -> Result<(), String> {
        let frame = json!({"request_id": request_id, "action": action, "payload": payload});
        self.ws.send(Message::text(frame.to_string())).await.map_err(|e| e.to_string())
    }

    /// Sends a request and waits for its response (other frames go to the backlog); the
    /// response's payload, or an error naming the refusal.
    async fn request(&mut self, action: &str, payload: Value) -> Result<Value, String> {
        self.next_request += 1;
        let id = format!("bot{}", self.next_request);
        self.send(action, &id, payload).await?;
        let deadline = tokio::time::Instant::now() + RESPONSE_WAIT;
        loop {
            let f = tokio::time::timeout_at(deadline, self.read())
                .await
                .map_err(|_| format!("no answer to {action}"))??;
            if f["type"] == "response" && f["request_id"] == id.as_str() {
                if f["success"] == true {
                    return Ok(f["payload"].clone());
                }
                return Err(format!("{action} refused: {}", f["payload"]["error"]));
            }
            self.backlog.push_back(f);
        }
    }

    /// Tells the server it has handled every push so far (its response is read as any
    /// other frame and ignored).
    async fn idle(&mut self) -> Result<(), String> {
        if self.setup.delay.is_zero() {
            let id = format!("{IDLE_PREFIX}{}", self.handled);
            self.send("ping", &id, json!({})).await?;
        }
        Ok(())
    }

    /// Reacts to one push.
    async fn hear(&mut self, script: &mut Script, frame: &Value) -> Result<(), String> {
        let p = &frame["payload"];
        let action = frame["action"].as_str().unwrap_or_default();
        match action {
            "incoming_chat_thread" => {
                let chat = p["chat"]["id"].as_str().unwrap_or_default().to_owned();
                let users = p["chat"]["users"].as_array().cloned().unwrap_or_default();
                let customer = users.iter().find(|u| u["type"] == "customer").and_then(|u| u["id"].as_str());
                let thread = &p["chat"]["thread"];
                let active = thread["active"] != false;
                let Some(customer) = customer.map(str::to_owned) else {
                    script.react(&Heard::NewThread { chat: &chat, has_customer: false, customer_text: None });
                    return Ok(());
                };
                let thread_id = thread["id"].as_str().filter(|_| active).map(str::to_owned);
                self.chats.insert(chat.clone(), ChatInfo { customer: customer.clone(), active_thread: thread_id });
                let member = users.iter().any(|u| u["id"] == self.setup.id.as_str());
                script.react(&Heard::Membership { chat: &chat, member });
                let text = thread["events"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .rev()
                    .find(|e| e["type"] == "message" && e["author_id"] == customer.as_str())
                    .and_then(|e| e["text"].as_str())
                    .map(str::to_owned);
                let (_, steps) =
                    script.react(&Heard::NewThread { chat: &chat, has_customer: true, customer_text: text.as_deref() });
                self.perform(&chat, &steps).await
            }
            "incoming_event" => {
                let chat = p["chat_id"].as_str().unwrap_or_default().to_owned();
                let Some(info) = self.chats.get_mut(&chat) else { return Ok(()) };
                if let Some(t) = p["thread_id"].as_str() {
                    info.active_thread = Some(t.to_owned());
                }
                let e = &p["event"];
                if e["type"] != "message" || e["author_id"] != info.customer.as_str() {
                    return Ok(());
                }
                let text = e["text"].as_str().unwrap_or_default().to_owned();
                let (_, steps) = script.react(&Heard::CustomerMessage { chat: &chat, text: &text });
                self.perform(&chat, &steps).await
            }
            "thread_closed" => {
                if let Some(info) = p["chat_id"].as_str().and_then(|c| self.chats.get_mut(c)) {
                    info.active_thread = None;
                }
                Ok(())
            }
            "chat_users_updated" => {
                let chat = p["chat_id"].as_str().unwrap_or_default();
                let agents = &p["updated_users"]["agents"];
                let me = self.setup.id.as_str();
                if agents["added"].as_array().into_iter().flatten().any(|u| u["id"] == me) {
                    script.react(&Heard::Membership { chat, member: true });
                }
                if agents["removed_ids"].as_array().into_iter().flatten().any(|u| u == me) {
                    script.react(&Heard::Membership { chat, member: false });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// Performs the steps on `chat`, in order; a refused step ends them (the chat changed
    /// meanwhile), a broken connection ends the connection.
    async fn perform(&mut self, chat: &str, steps: &[Step]) -> Result<(), String> {
        for step in steps {
            if !self.setup.delay.is_zero() {
                tokio::time::sleep(self.setup.delay).await;
            }
            let Some(info) = self.chats.get(chat).cloned() else { return Ok(()) };
            let Some((action, payload)) = self.request_for(chat, &info, step).await? else { continue };
            if let Err(e) = self.request(action, payload).await {
                if e.starts_with("no answer") {
                    return Err(e);
                }
                tracing::debug!(chat, step = ?step, error = %e, "the bot's step was refused");
                return Ok(());
            }
            if *step == Step::Close {
                if let Some(i) = self.chats.get_mut(chat) {
                    i.active_thread = None;
                }
            }
        }
        Ok(())
    }

    /// The request of one step; `None` when it has nothing to do (no active thread).
    async fn request_for(
        &mut self,
        chat: &str,
        info: &ChatInfo,
        step: &Step,
    ) -> Result<Option<(&'static str, Value)>, String> {
        let me = self.setup.id.clone();
        let Some(thread) = info.active_thread.clone() else {
            return Ok(match step {
                Step::Leave => Some(("remove_from_chat", json!({"chat_id": chat, "agent_ids": [me]}))),
                _ => None,
            });
        };
        let event = |e: Value| Some(("send_event", json!({"chat_id": chat, "event": e})));
        Ok(match step {
            Step::Join => Some(("join_chat", json!({"chat_id": chat, "agent_ids": [me]}))),
            Step::Leave => Some(("remove_from_chat", json!({"chat_id": chat, "agent_ids": [me]}))),
            Step::Typing(on) => Some(("send_typing_indicator", json!({"chat_id": chat, "is_typing": on}))),
            Step::Say(text) => event(json!({"type": "message", "text": text})),
            Step::Rich => {
                let (url, size) = self.picture(0).await?;
                event(json!({"type": "rich_message", "template_id": "cards", "elements": [
                    {"title": "Do you like chatio-rs?", "subtitle": "Answer with a postback",
                     "image": {"url": url, "name": "chatio.png", "content_type": "image/png", "size": size,
                               "width": 64, "height": 48},
                     "buttons": [{"text": "Yes!", "postback_id": "like_yes", "user_ids": []},
                                 {"text": "Not yet", "postback_id": "like_no", "user_ids": []}]},
                    {"title": "Want the docs?",
                     "buttons": [{"text": "Sure", "postback_id": "docs_yes", "user_ids": []}]}
                ]}))
            }
            Step::File => {
                let (url, size) = self.picture(1).await?;
                event(json!({"type": "file", "name": "chatio.png", "url": url, "content_type": "image/png",
                             "size": size, "width": 64, "height": 48}))
            }
            Step::Form => event(json!({"type": "filled_form", "fields": [
                {"type": "text", "name": "name", "label": "Your name", "required": true, "value": "Chatio Bot"},
                {"type": "radio", "name": "purpose", "label": "Chat purpose", "options": [
                    {"label": "Support", "value": "support", "checked": true},
                    {"label": "Sale", "value": "sale", "checked": false}]}
            ]})),
            Step::Annotation => event(
                json!({"type": "annotation", "annotation_type": "note", "text": "The customer tried /annotation"}),
            ),
            Step::Custom => event(json!({"type": "custom", "content": {"kind": "demo", "value": 42}})),
            Step::System => {
                event(json!({"type": "system_message", "text": format!("Chat assigned to {}", self.setup.name),
                                         "system_message_type": "routing.assigned"}))
            }
            Step::Multicast => Some((
                "multicast",
                json!({"scopes": {"customers": {"ids": [info.customer]}},
                       "content": {"announcement": "Multicast from Chatio Bot"}}),
            )),
            Step::Props => {
                let r = json!({"chat_id": chat, "properties": {"bot": {"mood": "cheerful"}}});
                self.request("update_chat_properties", r).await?;
                Some((
                    "update_chat_thread_properties",
                    json!({"chat_id": chat, "thread_id": thread, "properties": {"bot": {"topic": "demo"}}}),
                ))
            }
            Step::Scopes => Some(("update_chat_scopes", json!({"chat_id": chat, "add_scopes": {"groups": [1]}}))),
            Step::Seen => Some(("update_last_seen_timestamp", json!({"chat_id": chat}))),
            Step::Close => Some(("close_thread", json!({"chat_id": chat}))),
        })
    }

    /// The URL and size of its picture for `/rich` (0) or `/file` (1): uploaded with
    /// `upload_image` the first time on this connection (two files per license and
    /// connection, however often they are asked for).
    async fn picture(&mut self, which: usize) -> Result<(String, u64), String> {
        if let Some(p) = &self.pictures[which] {
            return Ok(p.clone());
        }
        let png = crate::files::sample_png(64, 48);
        let size = png.len() as u64;
        let answer = upload_image(self.setup.addr, &self.login.token, png).await?;
        let url = answer["payload"]["url"].as_str().ok_or("upload_image gave no url")?.to_owned();
        self.pictures[which] = Some((url.clone(), size));
        Ok((url, size))
    }
}

/// `upload_image` over the Web API (multipart), on the server at `addr`.
async fn upload_image(addr: SocketAddr, token: &str, png: Vec<u8>) -> Result<Value, String> {
    use http_body_util::BodyExt;
    let boundary = "chatio-bot-picture";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"payload.image\"; filename=\"chatio.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&png);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let tcp = tokio::net::TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let req = hyper::Request::post("/agent/v0.5/action/upload_image")
        .header(http::header::HOST, addr.to_string())
        .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
        .header(http::header::CONTENT_TYPE, format!("multipart/form-data; boundary={boundary}"))
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .map_err(|e| e.to_string())?;
    let resp = tokio::time::timeout(RESPONSE_WAIT, sender.send_request(req))
        .await
        .map_err(|_| "upload_image timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| e.to_string())
}
