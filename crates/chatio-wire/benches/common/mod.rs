//! Inputs of the decode benchmark and their plain `#[derive(Deserialize)]` mirrors, shared by
//! `benches/decode.rs` (criterion) and `examples/decode_loop.rs` (a loop for profilers).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use chatio_wire::{
    Chat, ChatId, Event, EventKind, GetChatThreadsResponse, IncomingEvent, Message, Properties, Push, PushFrame,
    Response, ResponseData, Scopes, ServerFrame, Thread, Timestamp, User, UserId,
};
use serde::Deserialize;

// ---------------------------------------------------------------------------------------------
// Plain mirrors of the two benchmarked frames: exactly their keys, nothing tolerant.

#[derive(Deserialize)]
pub struct PlainFrame<P> {
    #[serde(default)]
    pub request_id: Option<String>,
    pub action: String,
    #[serde(rename = "type")]
    pub frame_type: String,
    #[serde(default)]
    pub success: Option<bool>,
    pub payload: P,
}

#[derive(Deserialize)]
pub struct PlainMessage {
    pub id: String,
    #[serde(default)]
    pub custom_id: Option<String>,
    pub order: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub author_id: String,
    pub timestamp: u64,
    pub text: String,
}

#[derive(Deserialize)]
pub struct PlainIncomingEvent {
    pub chat_id: String,
    pub thread_id: String,
    pub event: PlainMessage,
}

#[derive(Deserialize)]
pub struct PlainUser {
    pub id: String,
    #[serde(rename = "type")]
    pub user_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub present: Option<bool>,
    #[serde(default)]
    pub fields: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub last_seen_timestamp: Option<u64>,
}

#[derive(Deserialize)]
pub struct PlainWrapped {
    pub value: bool,
}

#[derive(Deserialize)]
pub struct PlainScopes {
    #[serde(default)]
    pub groups: Option<Vec<u64>>,
}

#[derive(Deserialize)]
pub struct PlainThread {
    pub id: String,
    pub active: bool,
    pub order: u64,
    pub user_ids: Vec<String>,
    pub events: Vec<PlainMessage>,
}

#[derive(Deserialize)]
pub struct PlainChat {
    pub id: String,
    pub users: Vec<PlainUser>,
    pub properties: BTreeMap<String, BTreeMap<String, PlainWrapped>>,
    pub scopes: PlainScopes,
    pub threads: Vec<PlainThread>,
}

#[derive(Deserialize)]
pub struct PlainChatThreads {
    pub chat: PlainChat,
}

// ---------------------------------------------------------------------------------------------
// Inputs.

const CUSTOMER: &str = "b7eff798-f8df-4364-8059-649c35c9ed0c";
const AGENT: &str = "75a90b82-e6a4-4ded-b3eb-cb531741ee0d";

/// Removes the whitespace between tokens (pretty fixtures → one-line wire frames), keeping the
/// order of the keys as written.
pub fn minify(pretty: &str) -> String {
    let mut out = String::with_capacity(pretty.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in pretty.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Every server frame of the fixture corpus (files not named `request.*` or `tolerant.client.*`).
pub fn corpus() -> Vec<String> {
    server_frames("frames")
}

/// Every agent server frame of the fixtures, one line each.
pub fn agent_corpus() -> Vec<String> {
    server_frames("agent-frames")
}

/// The server frames of `fixtures/<folder>`, one line each, in file-name order.
fn server_frames(folder: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(folder);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("fixtures folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.starts_with("request.") && !n.starts_with("tolerant.client."))
        .collect();
    names.sort();
    names.iter().map(|n| minify(&std::fs::read_to_string(dir.join(n)).expect("fixture"))).collect()
}

fn message(thread: &str, n: u64, author: &str, text: &str) -> Event {
    let mut e = Event::new(
        format!("{thread}_{n}"),
        n,
        Timestamp::from_secs(1_520_000_000 + n),
        EventKind::Message(Message::new(text)),
    );
    e.author_id = Some(UserId::new(author));
    e
}

/// A ~300-byte `incoming_event` push: an agent's message with a custom id.
pub fn incoming_event() -> String {
    let event =
        message("OU0V0U3IMN", 3, AGENT, "Hello! Your order ships today.").with_custom_id("12312.301231238591134");
    let push = Push::IncomingEvent(IncomingEvent::new("OU0V0P0OWT", "OU0V0U3IMN", event));
    ServerFrame::Push(PushFrame::new(None, push)).encode()
}

/// A ~16 KiB `get_chat_threads` response: 9 threads of 10 messages each, two users.
pub fn chat_threads() -> String {
    let mut chat = Chat::new(ChatId::new("OU0V0P0OWT"));
    let mut customer = User::customer(CUSTOMER);
    customer.name = Some("John Smith".into());
    customer.email = Some("john@gmail.com".into());
    customer.present = Some(true);
    customer.fields = Some([("plan".to_owned(), "pro".to_owned())].into());
    customer.last_seen_timestamp = Some(Timestamp::from_secs(1_520_000_100));
    let mut agent = User::agent(AGENT);
    agent.name = Some("Support Team".into());
    agent.avatar = Some("https://cdn.livechatinc.com/avatars/1.png".into());
    agent.present = Some(true);
    agent.last_seen_timestamp = Some(Timestamp::from_secs(1_520_000_100));
    chat.users = vec![customer, agent];
    chat.properties = Some(Properties::new().with("routing", "idle", false));
    chat.scopes = Some(Scopes::all());
    let mut threads = Vec::new();
    let mut order = 0;
    for t in 0..9u64 {
        let id = format!("OU0V0U3I{t:02}");
        let mut thread = Thread::new(id.clone(), t == 8, t + 1);
        thread.user_ids = vec![UserId::new(CUSTOMER), UserId::new(AGENT)];
        for i in 0..10 {
            order += 1;
            let (author, text) = if i % 2 == 0 {
                (CUSTOMER, "Is the blue one still in stock?")
            } else {
                (AGENT, "Yes, we have three left.")
            };
            thread.events.push(message(&id, order, author, text));
        }
        threads.push(thread);
    }
    chat.threads = Some(threads);
    let data = ResponseData::GetChatThreads(GetChatThreadsResponse::new(chat));
    ServerFrame::Response(Response::success(Some("k3j2l1x9q".into()), data)).encode()
}
