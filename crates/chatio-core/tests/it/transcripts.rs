//! The customer session's transcripts: every `fixtures/sessions/*.jsonl` replayed into a
//! [`Session`] (format in `fixtures/sessions/README.md`, engine in `replay.rs`), what it hands
//! out snapshotted.

use std::collections::HashMap;
use std::time::{Duration, UNIX_EPOCH};

use chatio_core::Instant;

use chatio_core::{
    AccessToken, Config, Disconnect, DriverAction, Error, FileSpec, HistoryId, OutboxPolicy, Rating, Session,
    UploadFailure,
};
use chatio_wire::{
    ChatId, CustomerData, EventId, LicenseId, NewEvent, Postback, Properties, RequestId, Scopes, SendFileResponse,
    StartChat, ThreadId,
};
use serde_json::{Value, json};

use crate::render;
use crate::replay::{Ids, Replayable, parse, replay, string, uint};

fn config(line: &Value) -> Result<Config, String> {
    let mut c = Config::new(LicenseId(100), line.get("seed").and_then(Value::as_u64).unwrap_or(1));
    if let Some(o) = line.get("outbox").and_then(Value::as_str) {
        c.outbox = match o {
            "resend" => OutboxPolicy::Resend,
            "fail_on_disconnect" => OutboxPolicy::FailOnDisconnect,
            other => return Err(format!("unknown outbox policy `{other}`")),
        };
    }
    if let Some(n) = line.get("history_page_events").and_then(Value::as_u64) {
        c.history_page_events = n;
    }
    if let Some(b) = line.get("legacy_start_chat").and_then(Value::as_bool) {
        c.legacy_start_chat = b;
    }
    if line.get("customer").is_some() {
        c.customer = parse::<CustomerData>(line, "customer")?;
    }
    Ok(c)
}

/// The customer session with the transcript's history cursors.
struct Customer {
    s: Session,
    histories: HashMap<String, HistoryId>,
}

impl Replayable for Customer {
    fn new(config_line: &Value, t0: Instant) -> Result<Self, String> {
        Ok(Self { s: Session::new(config(config_line)?, t0), histories: HashMap::new() })
    }
    fn handle_connected(&mut self, now: Instant) {
        self.s.handle_connected(now);
    }
    fn handle_frame(&mut self, text: &str, now: Instant) {
        self.s.handle_frame(text, now);
    }
    fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        self.s.handle_disconnected(how, now);
    }
    fn handle_timeout(&mut self, now: Instant) {
        self.s.handle_timeout(now);
    }
    fn handle_token(&mut self, token: AccessToken, now: Instant) {
        self.s.handle_token(token, now);
    }
    fn handle_token_error(&mut self, err: Error, now: Instant) {
        self.s.handle_token_error(err, now);
    }
    fn handle_upload_result(&mut self, id: &RequestId, result: Result<SendFileResponse, UploadFailure>, now: Instant) {
        self.s.handle_upload_result(id, result, now);
    }
    fn poll_transmit(&mut self) -> Option<String> {
        self.s.poll_transmit()
    }
    fn poll_action(&mut self) -> Option<DriverAction> {
        self.s.poll_action()
    }
    fn poll_timeout(&self) -> Option<Instant> {
        self.s.poll_timeout()
    }
    fn poll_output(&mut self, name: &dyn Fn(&RequestId) -> String) -> Option<Value> {
        self.s.poll_event().map(|o| render::output(&o, name))
    }
    fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        self.s.cancel(id, now)
    }
    fn connect(&mut self, now: Instant) {
        self.s.connect(now);
    }
    fn disconnect(&mut self, now: Instant) {
        self.s.disconnect(now);
    }
    fn destroy(&mut self, now: Instant) {
        self.s.destroy(now);
    }

    fn command(
        &mut self,
        name: &str,
        line: &Value,
        a: &Value,
        now: Instant,
        _ids: &Ids,
    ) -> Result<Result<Option<RequestId>, Error>, String> {
        let chat = || -> Result<ChatId, String> { Ok(ChatId::new(string(a, "chat")?)) };
        let s = &mut self.s;
        Ok(match name {
            "start_chat" => s.start_chat(parse::<StartChat>(&json!({"v": a.clone()}), "v")?, now).map(Some),
            "send_event" => s.send_event(&chat()?, parse::<NewEvent>(a, "event")?, now).map(Some),
            "send_message" => s.send_message(&chat()?, &string(a, "text")?, now).map(Some),
            "send_file" => {
                let mut f = FileSpec::new(string(a, "name")?, uint(a, "size")?, string(a, "content_type")?);
                if let Some(c) = a.get("custom_id").and_then(Value::as_str) {
                    f = f.with_custom_id(c);
                }
                s.send_file(&chat()?, f, now).map(Some)
            }
            "send_rating" => {
                let rating = if string(a, "rating")? == "good" { Rating::Good } else { Rating::Bad };
                s.send_rating(&chat()?, rating, a.get("comment").and_then(Value::as_str), now).map(Some)
            }
            "set_sneak_peek" => s.set_sneak_peek(&chat()?, &string(a, "text")?, now).map(|()| None),
            "close_thread" => s.close_thread(&chat()?, now).map(Some),
            "update_customer" => s.update_customer(parse::<CustomerData>(a, "customer")?, now).map(Some),
            "update_chat_properties" => {
                s.update_chat_properties(&chat()?, parse::<Properties>(a, "properties")?, now).map(Some)
            }
            "update_chat_thread_properties" => s
                .update_chat_thread_properties(
                    &chat()?,
                    &ThreadId::new(string(a, "thread")?),
                    parse::<Properties>(a, "properties")?,
                    now,
                )
                .map(Some),
            "update_last_seen_timestamp" => {
                let at = a.get("timestamp").and_then(Value::as_u64).map(|t| UNIX_EPOCH + Duration::from_secs(t));
                s.update_last_seen_timestamp(&chat()?, at, now).map(Some)
            }
            "get_chats_summary" => s.get_chats_summary(uint(a, "offset")?, uint(a, "limit")?, now).map(Some),
            "get_chat_threads" => {
                let ids: Vec<ThreadId> = parse::<Vec<String>>(a, "threads")?.into_iter().map(ThreadId::new).collect();
                s.get_chat_threads(&chat()?, &ids, now).map(Some)
            }
            "get_chat_threads_summary" => {
                s.get_chat_threads_summary(&chat()?, uint(a, "offset")?, uint(a, "limit")?, now).map(Some)
            }
            "send_rich_message_postback" => s
                .send_rich_message_postback(
                    &chat()?,
                    &ThreadId::new(string(a, "thread")?),
                    &EventId::new(string(a, "event")?),
                    parse::<Postback>(a, "postback")?,
                    now,
                )
                .map(Some),
            "update_chat_scopes" => {
                let add = a.get("add").map(|v| serde_json::from_value::<Scopes>(v.clone())).transpose();
                let remove = a.get("remove").map(|v| serde_json::from_value::<Scopes>(v.clone())).transpose();
                s.update_chat_scopes(&chat()?, add.map_err(|e| e.to_string())?, remove.map_err(|e| e.to_string())?, now)
                    .map(Some)
            }
            "chat_history" => match s.chat_history(&chat()?) {
                Ok(h) => {
                    self.histories.insert(string(line, "id")?, h);
                    Ok(None)
                }
                Err(e) => Err(e),
            },
            "history_next" => {
                let h = *self.histories.get(&string(a, "history")?).ok_or("no such history")?;
                s.history_next(h, now).map(Some)
            }
            "close_history" => {
                let h = *self.histories.get(&string(a, "history")?).ok_or("no such history")?;
                s.close_history(h);
                Ok(None)
            }
            other => return Err(format!("unknown command `{other}`")),
        })
    }
}

#[test]
fn replay_session_transcripts() {
    insta::glob!("../../../../fixtures/sessions", "*.jsonl", |path| {
        match replay::<Customer>(path) {
            Ok(log) => insta::assert_json_snapshot!(log),
            Err(e) => panic!("{e}"),
        }
    });
}
