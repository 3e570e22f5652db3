//! The agent session's transcripts: every `fixtures/agent-sessions/*.jsonl` replayed into an
//! [`AgentSession`] (format in `fixtures/sessions/README.md`, commands in
//! `fixtures/agent-sessions/README.md`), what it hands out snapshotted, and the chat state it
//! ends with.

use std::time::{Duration, UNIX_EPOCH};

use chatio_core::agent::{AgentConfig, AgentSession};
use chatio_core::{AccessToken, Disconnect, DriverAction, Error, Instant, UploadFailure};
use chatio_wire::agent::{ArchiveFilters, AutoChatScopesRules, ChatFilters, MulticastScopes, Platform};
use chatio_wire::{
    ChatId, EventId, NewEvent, Postback, Properties, RequestId, RoutingStatus, Scopes, SendFileResponse, StartChat,
    ThreadId, UserId,
};
use serde_json::{Value, json};

use super::render;
use crate::replay::{Ids, Replayable, parse, replay, string, uint};

fn config(line: &Value) -> AgentConfig {
    let mut c = AgentConfig::new(line.get("seed").and_then(Value::as_u64).unwrap_or(1));
    if let Some(b) = line.get("resume_routing_status").and_then(Value::as_bool) {
        c.resume_routing_status = b;
    }
    if let (Some(n), Some(v)) = (line.pointer("/application/name"), line.pointer("/application/version")) {
        c = c.with_application(n.as_str().unwrap_or_default(), v.as_str().unwrap_or_default());
    }
    if let Some(n) = line.get("max_chats").and_then(Value::as_u64) {
        c.max_chats = usize::try_from(n).unwrap_or(usize::MAX);
    }
    c
}

fn users(a: &Value, key: &str) -> Result<Vec<UserId>, String> {
    Ok(parse::<Vec<String>>(a, key)?.into_iter().map(UserId::new).collect())
}

fn opt<T: serde::de::DeserializeOwned>(a: &Value, key: &str) -> Result<Option<T>, String> {
    a.get(key).map(|v| serde_json::from_value(v.clone()).map_err(|e| format!("`{key}`: {e}"))).transpose()
}

/// The agent session, and what the transcript's end shows of its chats.
pub struct Agent(pub AgentSession);

impl Replayable for Agent {
    fn new(config_line: &Value, t0: Instant) -> Result<Self, String> {
        Ok(Self(AgentSession::new(config(config_line), t0)))
    }
    fn handle_connected(&mut self, now: Instant) {
        self.0.handle_connected(now);
    }
    fn handle_frame(&mut self, text: &str, now: Instant) {
        self.0.handle_frame(text, now);
    }
    fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        self.0.handle_disconnected(how, now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now);
    }
    fn handle_token(&mut self, token: AccessToken, now: Instant) {
        self.0.handle_token(token, now);
    }
    fn handle_token_error(&mut self, err: Error, now: Instant) {
        self.0.handle_token_error(err, now);
    }
    fn handle_upload_result(&mut self, id: &RequestId, result: Result<SendFileResponse, UploadFailure>, now: Instant) {
        self.0.handle_upload_result(id, result, now);
    }
    fn poll_transmit(&mut self) -> Option<String> {
        self.0.poll_transmit()
    }
    fn poll_action(&mut self) -> Option<DriverAction> {
        self.0.poll_action()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }
    fn poll_output(&mut self, name: &dyn Fn(&RequestId) -> String) -> Option<Value> {
        self.0.poll_event().map(|o| render::output(&o, name))
    }
    fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        self.0.cancel(id, now)
    }
    fn connect(&mut self, now: Instant) {
        self.0.connect(now);
    }
    fn disconnect(&mut self, now: Instant) {
        self.0.disconnect(now);
    }
    fn destroy(&mut self, now: Instant) {
        self.0.destroy(now);
    }
    fn final_state(&self) -> Option<Value> {
        let mut chats: Vec<_> = self.0.chats().collect();
        chats.sort_by(|a, b| a.id.cmp(&b.id));
        Some(json!({
            "status": format!("{:?}", self.0.status()),
            "me": self.0.my_id(),
            "routing_status": self.0.routing_status().map(|s| s.as_str()),
            "chats": chats.into_iter().map(render::chat_view).collect::<Vec<_>>(),
            "waiting": self.0.waiting_chats().iter().map(|c| &c.id).collect::<Vec<_>>(),
            "mine": self.0.my_chats().iter().map(|c| &c.id).collect::<Vec<_>>(),
            "pending": self.0.pending_count(),
        }))
    }

    fn command(
        &mut self,
        name: &str,
        _line: &Value,
        a: &Value,
        now: Instant,
        _ids: &Ids,
    ) -> Result<Result<Option<RequestId>, Error>, String> {
        let chat = || -> Result<ChatId, String> { Ok(ChatId::new(string(a, "chat")?)) };
        let thread = || -> Result<ThreadId, String> { Ok(ThreadId::new(string(a, "thread")?)) };
        let s = &mut self.0;
        let r = match name {
            "get_archives" => {
                s.get_archives(opt::<ArchiveFilters>(a, "filters")?, uint(a, "page")?, uint(a, "limit")?, now)
            }
            "get_filtered_chats" => s.get_filtered_chats(opt::<ChatFilters>(a, "filters")?, now),
            "get_chat_threads" => {
                let ids = parse::<Vec<String>>(a, "threads")?.into_iter().map(ThreadId::new).collect();
                s.get_chat_threads(&chat()?, ids, now)
            }
            "start_chat" => s.start_chat(parse::<StartChat>(&json!({"v": a.clone()}), "v")?, now),
            "join_chat" => s.join_chat(&chat()?, users(a, "agents")?, now),
            "take_chat" => s.take_chat(&chat()?, now),
            "remove_from_chat" => s.remove_from_chat(&chat()?, users(a, "agents")?, now),
            "leave_chat" => s.leave_chat(&chat()?, now),
            "send_event" => s.send_event(&chat()?, parse::<NewEvent>(a, "event")?, now),
            "send_message" => s.send_message(&chat()?, &string(a, "text")?, now),
            "send_whisper" => s.send_whisper(&chat()?, &string(a, "text")?, now),
            "send_rich_message_postback" => s.send_rich_message_postback(
                &chat()?,
                &thread()?,
                &EventId::new(string(a, "event")?),
                parse::<Postback>(a, "postback")?,
                now,
            ),
            "multicast" => s.multicast(parse::<MulticastScopes>(a, "scopes")?, parse::<Value>(a, "content")?, now),
            "send_typing_indicator" => s.send_typing_indicator(
                &chat()?,
                parse::<bool>(a, "is_typing")?,
                a.get("to_agents_only").and_then(Value::as_bool).unwrap_or(false),
                now,
            ),
            "ban_customer" => s.ban_customer(
                &UserId::new(string(a, "customer")?),
                u32::try_from(uint(a, "days")?).map_err(|e| e.to_string())?,
                now,
            ),
            "close_thread" => s.close_thread(&chat()?, now),
            "update_chat_scopes" => {
                s.update_chat_scopes(&chat()?, opt::<Scopes>(a, "add")?, opt::<Scopes>(a, "remove")?, now)
            }
            "set_routing_status" => s.set_routing_status(parse::<RoutingStatus>(a, "status")?, now),
            "update_agent" => s.update_agent(
                a.get("agent").and_then(Value::as_str).map(UserId::new),
                parse::<RoutingStatus>(a, "status")?,
                now,
            ),
            "change_push_notifications" => s.change_push_notifications(
                &string(a, "firebase_token")?,
                parse::<Platform>(a, "platform")?,
                parse::<bool>(a, "enabled")?,
                now,
            ),
            "update_chat_properties" => s.update_chat_properties(&chat()?, parse::<Properties>(a, "properties")?, now),
            "update_chat_thread_properties" => {
                s.update_chat_thread_properties(&chat()?, &thread()?, parse::<Properties>(a, "properties")?, now)
            }
            "update_last_seen_timestamp" => {
                let at = a.get("timestamp").and_then(Value::as_u64).map(|t| UNIX_EPOCH + Duration::from_secs(t));
                s.update_last_seen_timestamp(&chat()?, at, now)
            }
            "add_auto_chat_scopes" => s.add_auto_chat_scopes(
                parse::<Scopes>(a, "scopes")?,
                parse::<AutoChatScopesRules>(a, "rules")?,
                opt::<String>(a, "description")?,
                now,
            ),
            "remove_auto_chat_scopes" => s.remove_auto_chat_scopes(&string(a, "id")?, now),
            "get_auto_chat_scopes_config" => s.get_auto_chat_scopes_config(now),
            other => return Err(format!("unknown command `{other}`")),
        };
        Ok(r.map(Some))
    }
}

#[test]
fn replay_agent_transcripts() {
    insta::glob!("../../../../../fixtures/agent-sessions", "*.jsonl", |path| {
        match replay::<Agent>(path) {
            Ok(log) => insta::assert_json_snapshot!(log),
            Err(e) => panic!("{e}"),
        }
    });
}
