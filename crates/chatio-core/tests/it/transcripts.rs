//! Transcript replay: every `fixtures/sessions/*.jsonl` drives a session (format in
//! `fixtures/sessions/README.md`). The frames and driver actions the session produces must
//! be exactly those the transcript lists, where it lists them; everything it hands out
//! (events, outcomes, refused commands) is snapshotted.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::{Duration, UNIX_EPOCH};

use chatio_core::Instant;

use chatio_core::{
    AccessToken, Config, Disconnect, Error, FileSpec, HistoryId, Operation, OutboxPolicy, Rating, Session,
    TransportError, UploadFailure,
};
use chatio_wire::{
    ChatId, CustomerData, ErrorObject, EventId, LicenseId, NewEvent, Postback, Properties, RequestId, Scopes,
    SendFileResponse, StartChat, ThreadId,
};
use serde_json::{Value, json};

use crate::render;

/// Whether `got` matches `want`: equal, except that the string `"*"` matches anything.
pub fn matches(want: &Value, got: &Value) -> bool {
    match (want, got) {
        (Value::String(w), _) if w == "*" => true,
        (Value::Object(w), Value::Object(g)) => {
            w.len() == g.len() && w.iter().all(|(k, wv)| g.get(k).is_some_and(|gv| matches(wv, gv)))
        }
        (Value::Array(w), Value::Array(g)) => w.len() == g.len() && w.iter().zip(g).all(|(a, b)| matches(a, b)),
        _ => want == got,
    }
}

fn id_text(id: &RequestId) -> String {
    id.to_string()
}

struct Replay {
    s: Session,
    t0: Instant,
    now: Instant,
    /// Real request id → symbolic name, and back.
    sym_of: HashMap<String, String>,
    real_of: HashMap<String, RequestId>,
    histories: HashMap<String, HistoryId>,
    sent: VecDeque<String>,
    actions: VecDeque<Value>,
    log: Vec<Value>,
}

fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing `{key}`"))
}

fn string(v: &Value, key: &str) -> Result<String, String> {
    field(v, key)?.as_str().map(str::to_owned).ok_or_else(|| format!("`{key}` must be a string"))
}

fn uint(v: &Value, key: &str) -> Result<u64, String> {
    field(v, key)?.as_u64().ok_or_else(|| format!("`{key}` must be an unsigned integer"))
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    serde_json::from_value(field(v, key)?.clone()).map_err(|e| format!("`{key}`: {e}"))
}

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

impl Replay {
    fn name(&self, id: &RequestId) -> String {
        self.sym_of.get(&id_text(id)).cloned().unwrap_or_else(|| format!("<unnamed {id}>"))
    }

    fn bind(&mut self, sym: &str, real: &RequestId) -> Result<(), String> {
        match (self.real_of.get(sym), self.sym_of.get(&id_text(real))) {
            (None, None) => {
                self.real_of.insert(sym.to_owned(), real.clone());
                self.sym_of.insert(id_text(real), sym.to_owned());
                Ok(())
            }
            (Some(r), _) if r == real => Ok(()),
            (r, s) => Err(format!("request id `{sym}` ↔ `{real}` clashes with earlier pairs ({r:?}, {s:?})")),
        }
    }

    fn real(&self, sym: &str) -> Result<RequestId, String> {
        self.real_of.get(sym).cloned().ok_or_else(|| format!("no request named `{sym}` yet"))
    }

    fn t_ms(&self) -> u64 {
        self.now.duration_since(self.t0).as_millis() as u64
    }

    fn drain(&mut self) {
        while let Some(f) = self.s.poll_transmit() {
            self.sent.push_back(f);
        }
        while let Some(a) = self.s.poll_action() {
            let v = render::action(&a, &|id| self.name(id));
            self.actions.push_back(v);
        }
        while let Some(o) = self.s.poll_event() {
            let mut v = render::output(&o, &|id| self.name(id));
            if let Some(m) = v.as_object_mut() {
                m.insert("t".into(), json!(self.t_ms()));
            }
            self.log.push(v);
        }
    }

    fn line(&mut self, line: &Value) -> Result<(), String> {
        let dir = string(line, "dir")?;
        if let Some(t) = line.get("t_ms") {
            let at = self.t0 + Duration::from_millis(t.as_u64().ok_or("`t_ms` must be an unsigned integer")?);
            if at < self.now {
                return Err("time goes back".into());
            }
            self.now = at;
        }
        self.drain();
        match dir.as_str() {
            "note" => return Ok(()),
            "out" => return self.out(field(line, "frame")?),
            "action" => {
                let want = field(line, "expect")?;
                let got = self.actions.pop_front().ok_or_else(|| format!("no driver action, expected {want}"))?;
                return if matches(want, &got) { Ok(()) } else { Err(format!("driver action {got}, expected {want}")) };
            }
            _ => {}
        }
        if let Some(f) = self.sent.front() {
            return Err(format!("the session wrote a frame the transcript does not list here: {f}"));
        }
        if let Some(a) = self.actions.front() {
            return Err(format!("the session asked an action the transcript does not list here: {a}"));
        }
        let now = self.now;
        match dir.as_str() {
            "connected" => self.s.handle_connected(now),
            "token" => {
                let mut t = AccessToken::new(string(line, "access_token")?, line["token_type"].as_str().unwrap_or(""));
                if let Some(c) = line.get("customer_id").and_then(Value::as_str) {
                    t = t.with_customer_id(c);
                }
                if let Some(e) = line.get("expires_in").and_then(Value::as_u64) {
                    t = t.with_expires_in(Duration::from_secs(e));
                }
                self.s.handle_token(t, now);
            }
            "token_error" => self.s.handle_token_error(
                Error::Transport(TransportError::msg(Operation::FetchToken, string(line, "message")?)),
                now,
            ),
            "in" => {
                let text = match line.get("raw") {
                    Some(r) => r.as_str().ok_or("`raw` must be a string")?.to_owned(),
                    None => {
                        let mut f = field(line, "frame")?.clone();
                        if let Some(sym) = f.get("request_id").and_then(Value::as_str).map(str::to_owned) {
                            if let Some(real) = self.real_of.get(&sym) {
                                f["request_id"] = json!(id_text(real));
                            }
                        }
                        f.to_string()
                    }
                };
                self.s.handle_frame(&text, now);
            }
            "disconnect" => {
                let how = match line.get("error") {
                    Some(e) => Disconnect::Failed(TransportError::msg(
                        Operation::Socket,
                        e.as_str().unwrap_or_default().to_owned(),
                    )),
                    None => Disconnect::Closed {
                        code: line.get("code").and_then(Value::as_u64).map(|c| c as u16),
                        reason: line.get("reason").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    },
                };
                self.s.handle_disconnected(how, now);
            }
            "timeout" => {
                let deadline = self.s.poll_timeout().ok_or("a timeout, but the session has no deadline")?;
                if let Some(want) = line.get("expect_deadline_ms").and_then(Value::as_u64) {
                    let got = deadline.duration_since(self.t0).as_millis() as u64;
                    if got != want {
                        return Err(format!("the deadline is at {got} ms, expected {want} ms"));
                    }
                }
                if line.get("t_ms").is_none() {
                    if deadline < self.now {
                        return Err("the deadline is in the past".into());
                    }
                    self.now = deadline;
                }
                self.s.handle_timeout(self.now);
            }
            "upload_result" => {
                let id = self.real(&string(line, "id")?)?;
                let result = if let Some(url) = line.get("url").and_then(Value::as_str) {
                    Ok(SendFileResponse::new(url))
                } else if let Some(e) = line.get("error") {
                    Err(UploadFailure::Server(
                        serde_json::from_value::<ErrorObject>(e.clone()).map_err(|e| e.to_string())?,
                    ))
                } else {
                    Err(UploadFailure::Transport(TransportError::msg(Operation::Upload, string(line, "transport")?)))
                };
                self.s.handle_upload_result(&id, result, now);
            }
            "cmd" => self.cmd(line)?,
            other => return Err(format!("unknown dir `{other}`")),
        }
        self.drain();
        Ok(())
    }

    fn out(&mut self, want: &Value) -> Result<(), String> {
        let got_text = self.sent.pop_front().ok_or_else(|| format!("the session wrote nothing, expected {want}"))?;
        let mut got: Value = serde_json::from_str(&got_text).map_err(|e| format!("not JSON ({e}): {got_text}"))?;
        let mut want = want.clone();
        let want_id = want.as_object_mut().and_then(|m| m.remove("request_id"));
        let got_id = got.as_object_mut().and_then(|m| m.remove("request_id"));
        if !matches(&want, &got) {
            return Err(format!("the session wrote\n  {got_text}\nexpected\n  {want}"));
        }
        match (want_id, got_id) {
            (None, None) => Ok(()),
            (Some(Value::String(sym)), Some(Value::String(real))) => self.bind(&sym, &RequestId::new(real)),
            (w, g) => Err(format!("request ids differ: expected {w:?}, written {g:?}")),
        }
    }

    fn cmd(&mut self, line: &Value) -> Result<(), String> {
        let name = string(line, "cmd")?;
        let a = line.get("args").cloned().unwrap_or(json!({}));
        let now = self.now;
        let chat = || -> Result<ChatId, String> { Ok(ChatId::new(string(&a, "chat")?)) };
        let s = &mut self.s;
        let r: Result<Option<RequestId>, chatio_core::Error> = match name.as_str() {
            "start_chat" => s.start_chat(parse::<StartChat>(&json!({"v": a}), "v")?, now).map(Some),
            "send_event" => s.send_event(&chat()?, parse::<NewEvent>(&a, "event")?, now).map(Some),
            "send_message" => s.send_message(&chat()?, &string(&a, "text")?, now).map(Some),
            "send_file" => {
                let mut f = FileSpec::new(string(&a, "name")?, uint(&a, "size")?, string(&a, "content_type")?);
                if let Some(c) = a.get("custom_id").and_then(Value::as_str) {
                    f = f.with_custom_id(c);
                }
                s.send_file(&chat()?, f, now).map(Some)
            }
            "send_rating" => {
                let rating = if string(&a, "rating")? == "good" { Rating::Good } else { Rating::Bad };
                s.send_rating(&chat()?, rating, a.get("comment").and_then(Value::as_str), now).map(Some)
            }
            "set_sneak_peek" => s.set_sneak_peek(&chat()?, &string(&a, "text")?, now).map(|()| None),
            "close_thread" => s.close_thread(&chat()?, now).map(Some),
            "update_customer" => s.update_customer(parse::<CustomerData>(&a, "customer")?, now).map(Some),
            "update_chat_properties" => {
                s.update_chat_properties(&chat()?, parse::<Properties>(&a, "properties")?, now).map(Some)
            }
            "update_chat_thread_properties" => s
                .update_chat_thread_properties(
                    &chat()?,
                    &ThreadId::new(string(&a, "thread")?),
                    parse::<Properties>(&a, "properties")?,
                    now,
                )
                .map(Some),
            "update_last_seen_timestamp" => {
                let at = a.get("timestamp").and_then(Value::as_u64).map(|t| UNIX_EPOCH + Duration::from_secs(t));
                s.update_last_seen_timestamp(&chat()?, at, now).map(Some)
            }
            "get_chats_summary" => s.get_chats_summary(uint(&a, "offset")?, uint(&a, "limit")?, now).map(Some),
            "get_chat_threads" => {
                let ids: Vec<ThreadId> = parse::<Vec<String>>(&a, "threads")?.into_iter().map(ThreadId::new).collect();
                s.get_chat_threads(&chat()?, &ids, now).map(Some)
            }
            "get_chat_threads_summary" => {
                s.get_chat_threads_summary(&chat()?, uint(&a, "offset")?, uint(&a, "limit")?, now).map(Some)
            }
            "send_rich_message_postback" => s
                .send_rich_message_postback(
                    &chat()?,
                    &ThreadId::new(string(&a, "thread")?),
                    &EventId::new(string(&a, "event")?),
                    parse::<Postback>(&a, "postback")?,
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
                let h = *self.histories.get(&string(&a, "history")?).ok_or("no such history")?;
                s.history_next(h, now).map(Some)
            }
            "close_history" => {
                let h = *self.histories.get(&string(&a, "history")?).ok_or("no such history")?;
                s.close_history(h);
                Ok(None)
            }
            "cancel" => {
                let id = self.real(&string(&a, "id")?)?;
                let done = self.s.cancel(&id, now);
                self.log.push(json!({"t": self.t_ms(), "cmd": "cancel", "id": a["id"], "cancelled": done}));
                Ok(None)
            }
            "connect" => {
                s.connect(now);
                Ok(None)
            }
            "disconnect" => {
                s.disconnect(now);
                Ok(None)
            }
            "destroy" => {
                s.destroy(now);
                Ok(None)
            }
            other => return Err(format!("unknown command `{other}`")),
        };
        let sym = line.get("id").and_then(Value::as_str);
        match (r, line.get("expect_err").and_then(Value::as_str)) {
            (Ok(id), None) => {
                if let Some(id) = id {
                    let sym = sym.ok_or_else(|| format!("`{name}` returns a request id: name it with `id`"))?;
                    self.bind(sym, &id)?;
                }
                if name != "cancel" {
                    self.log.push(json!({"t": self.t_ms(), "cmd": name, "id": sym}));
                }
                Ok(())
            }
            (Ok(_), Some(kind)) => Err(format!("`{name}` succeeded, expected a `{kind}` refusal")),
            (Err(e), want) => {
                if let Some(kind) = want {
                    if render::error_kind(&e) != kind {
                        return Err(format!("`{name}` refused with {e:?}, expected `{kind}`"));
                    }
                } else {
                    return Err(format!("`{name}` refused: {e}"));
                }
                self.log.push(json!({"t": self.t_ms(), "cmd": name, "refused": render::error(&e)}));
                Ok(())
            }
        }
    }
}

/// Runs one transcript; returns what the session handed out.
pub fn replay(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let lines: Vec<(usize, Value)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).map(|v| (n + 1, v)).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect::<Result<_, _>>()?;
    let (config, rest) = match lines.first() {
        Some((_, l)) if l["dir"] == "config" => (config(l)?, &lines[1..]),
        _ => (config(&json!({}))?, &lines[..]),
    };
    let t0 = Instant::now();
    let mut r = Replay {
        s: Session::new(config, t0),
        t0,
        now: t0,
        sym_of: HashMap::new(),
        real_of: HashMap::new(),
        histories: HashMap::new(),
        sent: VecDeque::new(),
        actions: VecDeque::new(),
        log: Vec::new(),
    };
    for (n, line) in rest {
        r.line(line).map_err(|e| format!("{}:{n}: {e}", path.display()))?;
    }
    r.drain();
    if let Some(f) = r.sent.front() {
        return Err(format!("{}: the session wrote a frame the transcript does not list: {f}", path.display()));
    }
    if let Some(a) = r.actions.front() {
        return Err(format!("{}: the session asked an action the transcript does not list: {a}", path.display()));
    }
    Ok(r.log)
}

#[test]
fn replay_session_transcripts() {
    insta::glob!("../../../../fixtures/sessions", "*.jsonl", |path| {
        match replay(path) {
            Ok(log) => insta::assert_json_snapshot!(log),
            Err(e) => panic!("{e}"),
        }
    });
}

#[test]
fn the_matcher_has_one_wildcard() {
    assert!(matches(&json!({"a": "*", "b": [1, "*"]}), &json!({"a": {"x": 1}, "b": [1, 2]})));
    assert!(!matches(&json!({"a": "*"}), &json!({"a": 1, "b": 2})), "no extra keys");
    assert!(!matches(&json!([1]), &json!([1, 2])));
    assert!(!matches(&json!("x"), &json!("*")), "the wildcard only works one way");
}
