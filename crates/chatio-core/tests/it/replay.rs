//! The transcript replay engine (format in `fixtures/sessions/README.md`), for any session
//! type ([`Replayable`]): the customer session's transcripts (`transcripts.rs`) and the agent
//! session's (`agent/transcripts.rs`). The frames and driver actions the session produces must
//! be exactly those the transcript lists, where it lists them; everything it hands out
//! (events, outcomes, refused commands) is returned for a snapshot.

use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::time::Duration;

use chatio_core::{AccessToken, Disconnect, DriverAction, Error, Instant, Operation, TransportError, UploadFailure};
use chatio_wire::{ErrorObject, RequestId, SendFileResponse};
use serde_json::{Value, json};

use crate::render;

/// What the replay needs of a session type.
pub trait Replayable: Sized {
    /// A session as the transcript's `config` line says (`{}` without one).
    fn new(config: &Value, t0: Instant) -> Result<Self, String>;
    fn handle_connected(&mut self, now: Instant);
    fn handle_frame(&mut self, text: &str, now: Instant);
    fn handle_disconnected(&mut self, how: Disconnect, now: Instant);
    fn handle_timeout(&mut self, now: Instant);
    fn handle_token(&mut self, token: AccessToken, now: Instant);
    fn handle_token_error(&mut self, err: Error, now: Instant);
    fn handle_upload_result(&mut self, id: &RequestId, result: Result<SendFileResponse, UploadFailure>, now: Instant);
    fn poll_transmit(&mut self) -> Option<String>;
    fn poll_action(&mut self) -> Option<DriverAction>;
    fn poll_timeout(&self) -> Option<Instant>;
    /// The next output, rendered with request ids shown through `name`.
    fn poll_output(&mut self, name: &dyn Fn(&RequestId) -> String) -> Option<Value>;
    fn cancel(&mut self, id: &RequestId, now: Instant) -> bool;
    fn connect(&mut self, now: Instant);
    fn disconnect(&mut self, now: Instant);
    fn destroy(&mut self, now: Instant);
    /// What the session knows at the end of the transcript, for the snapshot (none by
    /// default).
    fn final_state(&self) -> Option<Value> {
        None
    }
    /// A command of the session's own (`cmd` lines other than `cancel`, `connect`,
    /// `disconnect`, `destroy`): `Err` for a transcript mistake, `Ok(Err)` for a refusal.
    fn command(
        &mut self,
        name: &str,
        line: &Value,
        args: &Value,
        now: Instant,
        ids: &Ids,
    ) -> Result<Result<Option<RequestId>, Error>, String>;
}

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

pub fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing `{key}`"))
}

pub fn string(v: &Value, key: &str) -> Result<String, String> {
    field(v, key)?.as_str().map(str::to_owned).ok_or_else(|| format!("`{key}` must be a string"))
}

pub fn uint(v: &Value, key: &str) -> Result<u64, String> {
    field(v, key)?.as_u64().ok_or_else(|| format!("`{key}` must be an unsigned integer"))
}

pub fn parse<T: serde::de::DeserializeOwned>(v: &Value, key: &str) -> Result<T, String> {
    serde_json::from_value(field(v, key)?.clone()).map_err(|e| format!("`{key}`: {e}"))
}

/// The symbolic request ids of a transcript.
#[derive(Default)]
pub struct Ids {
    /// Real request id → symbolic name, and back.
    sym_of: HashMap<String, String>,
    real_of: HashMap<String, RequestId>,
}

impl Ids {
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

    /// The request id bound to a name.
    pub fn real(&self, sym: &str) -> Result<RequestId, String> {
        self.real_of.get(sym).cloned().ok_or_else(|| format!("no request named `{sym}` yet"))
    }
}

struct Replay<S> {
    s: S,
    t0: Instant,
    now: Instant,
    ids: Ids,
    sent: VecDeque<String>,
    actions: VecDeque<Value>,
    log: Vec<Value>,
}

impl<S: Replayable> Replay<S> {
    fn t_ms(&self) -> u64 {
        self.now.duration_since(self.t0).as_millis() as u64
    }

    fn drain(&mut self) {
        while let Some(f) = self.s.poll_transmit() {
            self.sent.push_back(f);
        }
        while let Some(a) = self.s.poll_action() {
            let v = render::action(&a, &|id| self.ids.name(id));
            self.actions.push_back(v);
        }
        let ids = &self.ids;
        while let Some(mut v) = self.s.poll_output(&|id| ids.name(id)) {
            if let Some(m) = v.as_object_mut() {
                m.insert("t".into(), json!(self.now.duration_since(self.t0).as_millis() as u64));
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
                            if let Ok(real) = self.ids.real(&sym) {
                                f["request_id"] = json!(id_text(&real));
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
                let id = self.ids.real(&string(line, "id")?)?;
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
            (Some(Value::String(sym)), Some(Value::String(real))) => self.ids.bind(&sym, &RequestId::new(real)),
            (w, g) => Err(format!("request ids differ: expected {w:?}, written {g:?}")),
        }
    }

    fn cmd(&mut self, line: &Value) -> Result<(), String> {
        let name = string(line, "cmd")?;
        let a = line.get("args").cloned().unwrap_or(json!({}));
        let now = self.now;
        let r: Result<Option<RequestId>, Error> = match name.as_str() {
            "cancel" => {
                let id = self.ids.real(&string(&a, "id")?)?;
                let done = self.s.cancel(&id, now);
                self.log.push(json!({"t": self.t_ms(), "cmd": "cancel", "id": a["id"], "cancelled": done}));
                Ok(None)
            }
            "connect" => {
                self.s.connect(now);
                Ok(None)
            }
            "disconnect" => {
                self.s.disconnect(now);
                Ok(None)
            }
            "destroy" => {
                self.s.destroy(now);
                Ok(None)
            }
            _ => self.s.command(&name, line, &a, now, &self.ids)?,
        };
        let sym = line.get("id").and_then(Value::as_str);
        match (r, line.get("expect_err").and_then(Value::as_str)) {
            (Ok(id), None) => {
                if let Some(id) = id {
                    let sym = sym.ok_or_else(|| format!("`{name}` returns a request id: name it with `id`"))?;
                    self.ids.bind(sym, &id)?;
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
pub fn replay<S: Replayable>(path: &Path) -> Result<Vec<Value>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let lines: Vec<(usize, Value)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str(l).map(|v| (n + 1, v)).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect::<Result<_, _>>()?;
    let (config, rest) = match lines.first() {
        Some((_, l)) if l["dir"] == "config" => (l.clone(), &lines[1..]),
        _ => (json!({}), &lines[..]),
    };
    let t0 = Instant::now();
    let mut r = Replay {
        s: S::new(&config, t0)?,
        t0,
        now: t0,
        ids: Ids::default(),
        sent: VecDeque::new(),
        actions: VecDeque::new(),
        log: Vec::new(),
    };
    for (n, line) in rest {
        r.line(line).map_err(|e| format!("{}:{n}: {e}", path.display()))?;
    }
    r.drain();
    if let Some(state) = r.s.final_state() {
        r.log.push(json!({"state": state}));
    }
    if let Some(f) = r.sent.front() {
        return Err(format!("{}: the session wrote a frame the transcript does not list: {f}", path.display()));
    }
    if let Some(a) = r.actions.front() {
        return Err(format!("{}: the session asked an action the transcript does not list: {a}", path.display()));
    }
    Ok(r.log)
}

#[test]
fn the_matcher_has_one_wildcard() {
    assert!(matches(&json!({"a": "*", "b": [1, "*"]}), &json!({"a": {"x": 1}, "b": [1, 2]})));
    assert!(!matches(&json!({"a": "*"}), &json!({"a": 1, "b": 2})), "no extra keys");
    assert!(!matches(&json!([1]), &json!([1, 2])));
    assert!(!matches(&json!("x"), &json!("*")), "the wildcard only works one way");
}
