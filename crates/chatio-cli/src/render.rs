//! How events and steps are printed: a coloured transcript on a terminal, plain text
//! otherwise (or with `--plain`, `NO_COLOR`, `TERM=dumb`), or JSON lines (`--json`), each
//! with a `type` field: `title`, `step`, `ok`, `error`, `progress` or `event`.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use chatio_customer_sdk::{ChatId, Event, EventKind, SdkEvent, ThreadId, UserId};
use console::Style;
use serde_json::{Value, json};

/// Output mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Readable text; coloured when `color`.
    Text { color: bool },
    /// One JSON object per line.
    Json,
}

/// What the text transcript remembers to print each thing once, under a name.
#[derive(Default)]
struct Memory {
    names: HashMap<UserId, String>,
    me: Option<UserId>,
    /// The thread of the last live event per chat (a change prints "new thread").
    threads: HashMap<ChatId, ThreadId>,
    /// Joins and leaves printed from `chat_users_updated`, whose system message (the
    /// reference server's `agent_joined`, `agent_left`) would say the same again.
    membership: Vec<(ChatId, &'static str)>,
    /// The error lines printed since the session was last connected: each once (reconnect
    /// attempts fail the same way again and again).
    errors_shown: HashSet<String>,
    status_shown: bool,
}

/// Prints events and steps; remembers user names to show them instead of ids.
#[derive(Clone)]
pub struct Renderer {
    mode: Mode,
    memory: Arc<Mutex<Memory>>,
    /// Typing shown on a status line that the next output replaces (interactive terminals).
    status_line: bool,
}

/// `n thing` or `n things`.
pub fn plural(n: usize, thing: &str) -> String {
    if n == 1 { format!("1 {thing}") } else { format!("{n} {thing}s") }
}

/// A wall-clock time of day, UTC (`14:03:27 UTC`).
pub fn clock(t: SystemTime) -> String {
    let s = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    format!("{:02}:{:02}:{:02} UTC", (s / 3600) % 24, (s / 60) % 60, s % 60)
}

/// A byte count for people: `512 B`, `1.5 KiB`, `3.0 MiB`.
pub fn bytes(n: u64) -> String {
    const KIB: f64 = 1024.0;
    let f = n as f64;
    if f < KIB {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{:.1} MiB", f / (KIB * KIB))
    }
}

/// An event's kind-specific content as JSON (rich message cards, file, form...).
fn content(kind: &EventKind) -> Value {
    let v = match kind {
        EventKind::Message(m) => serde_json::to_value(m),
        EventKind::SystemMessage(m) => serde_json::to_value(m),
        EventKind::Annotation(a) => serde_json::to_value(a),
        EventKind::FilledForm(f) => serde_json::to_value(f),
        EventKind::File(f) => serde_json::to_value(f),
        EventKind::Custom(c) => serde_json::to_value(c),
        EventKind::RichMessage(r) => serde_json::to_value(r),
        EventKind::Unknown { fields, .. } => Ok(Value::Object(fields.clone())),
        _ => Ok(Value::Null),
    };
    v.unwrap_or(Value::Null)
}

/// The JSON line of an event: `{"type": "event", "event": name, ...}`, with each chat
/// event's content.
pub fn event_json(e: &SdkEvent) -> Value {
    let mut v = e.to_json();
    match e {
        SdkEvent::NewEvent { event, .. } => {
            if let Some(data) = v.get_mut("data").and_then(Value::as_object_mut) {
                data.insert("content".into(), content(&event.kind));
            }
        }
        SdkEvent::Error(err) => {
            if let Some(m) = v.as_object_mut() {
                m.insert("message".into(), Value::from(crate::errors::describe(err)));
                m.insert("transient".into(), Value::from(err.is_transient()));
            }
        }
        _ => {}
    }
    if let Some(m) = v.as_object_mut() {
        m.insert("type".into(), Value::from("event"));
    }
    v
}

impl Renderer {
    pub fn new(mode: Mode) -> Self {
        Self { mode, memory: Arc::default(), status_line: false }
    }

    /// Shows typing indicators on a transient status line (for the interactive client on a
    /// terminal) instead of as lines of the transcript.
    pub fn with_status_line(mut self, on: bool) -> Self {
        self.status_line = on && matches!(self.mode, Mode::Text { color: true });
        self
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether typing goes to the status line (see [`with_status_line`](Self::with_status_line)).
    pub(crate) fn has_status_line(&self) -> bool {
        self.status_line
    }

    /// Replaces the status line with `text` (none: clears it).
    pub(crate) fn status(&self, text: Option<&str>) {
        let mut out = std::io::stdout().lock();
        let mut m = self.memory();
        if m.status_shown {
            let _ = write!(out, "\r\x1b[2K");
        }
        m.status_shown = text.is_some();
        if let Some(t) = text {
            let _ = write!(out, "{}", self.style(Style::new().dim().italic()).apply_to(t));
        }
        let _ = out.flush();
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn style(&self, s: Style) -> Style {
        match self.mode {
            Mode::Text { color: true } => s.force_styling(true),
            _ => s.force_styling(false),
        }
    }

    fn line(&self, text: &str) {
        if self.status_line {
            self.status(None);
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    }

    fn json(&self, kind: &str, text: &str) {
        self.line(&json!({"type": kind, "text": text}).to_string());
    }

    /// A step of the script (what the demo or the user does).
    pub fn step(&self, text: &str) {
        match self.mode {
            Mode::Json => self.json("step", text),
            Mode::Text { .. } => self.line(&format!("{} {text}", self.style(Style::new().cyan().bold()).apply_to("→"))),
        }
    }

    /// Lines printed as they are (a help text).
    pub fn block(&self, text: &str) {
        self.line(text);
    }

    /// A heading.
    pub fn title(&self, text: &str) {
        match self.mode {
            Mode::Json => self.json("title", text),
            Mode::Text { .. } => self.line(&format!("{}", self.style(Style::new().bold().underlined()).apply_to(text))),
        }
    }

    /// A success line.
    pub fn ok(&self, text: &str) {
        match self.mode {
            Mode::Json => self.json("ok", text),
            Mode::Text { .. } => {
                self.line(&format!("{} {text}", self.style(Style::new().green().bold()).apply_to("✔")))
            }
        }
    }

    /// A problem (text: on stderr).
    pub fn error(&self, text: &str) {
        match self.mode {
            Mode::Json => self.json("error", text),
            Mode::Text { .. } => {
                if self.status_line {
                    self.status(None);
                }
                eprintln!("{} {text}", self.style(Style::new().red().bold()).apply_to("✘"));
            }
        }
    }

    /// Upload progress: a JSON line, or a plain text line (where no progress bar is drawn).
    pub fn progress(&self, name: &str, sent: u64, total: u64) {
        match self.mode {
            Mode::Json => self
                .line(&json!({"type": "progress", "file": name, "sent_bytes": sent, "total_bytes": total}).to_string()),
            Mode::Text { .. } => {
                let pct = sent.saturating_mul(100).checked_div(total).unwrap_or(100);
                self.line(&format!("    upload {pct:>3}%  {} of {}", bytes(sent), bytes(total)));
            }
        }
    }

    fn name(&self, id: &UserId) -> String {
        let m = self.memory();
        if m.me.as_ref() == Some(id) {
            return "you".into();
        }
        m.names.get(id).cloned().unwrap_or_else(|| id.to_string())
    }

    fn who(&self, id: &Option<UserId>) -> String {
        id.as_ref().map_or_else(|| "system".into(), |u| self.name(u))
    }

    /// Learns names and ids from a live event, then prints it.
    pub fn event(&self, e: &SdkEvent) {
        if self.mode == Mode::Json {
            self.learn(e);
            return self.line(&event_json(e).to_string());
        }
        if self.status_line {
            match e {
                SdkEvent::UserIsTyping { user, .. } => {
                    return self.status(Some(&format!("  {} is typing…", self.name(user))));
                }
                SdkEvent::UserStoppedTyping { .. } => return self.status(None),
                _ => {}
            }
        }
        if let Some(new_thread) = self.learn(e) {
            self.note(&format!("new thread {new_thread}"));
        }
        if let Some(text) = self.text(e) {
            self.note(&text);
        }
    }

    /// One event of a history listing (not a live event: nothing is remembered from it).
    pub fn history_event(&self, chat: &ChatId, event: &Event) {
        match self.mode {
            Mode::Json => {
                self.line(&event_json(&SdkEvent::NewEvent { chat: chat.clone(), event: event.clone() }).to_string())
            }
            Mode::Text { .. } => self.note(&self.event_text(event)),
        }
    }

    /// A line of the transcript (an event).
    pub(crate) fn note(&self, text: &str) {
        let tag = self.style(Style::new().dim()).apply_to("  ·");
        self.line(&format!("{tag} {text}"));
    }

    /// Remembers names, our id and each chat's thread; returns the thread a live event
    /// opened, if it is not the chat's first.
    fn learn(&self, e: &SdkEvent) -> Option<ThreadId> {
        let mut m = self.memory();
        match e {
            SdkEvent::UserData(u) => {
                if let Some(name) = &u.name {
                    m.names.insert(u.id.clone(), name.clone());
                }
            }
            SdkEvent::CustomerId(id) => m.me = Some(id.clone()),
            SdkEvent::Connected { .. } | SdkEvent::ConnectionRestored { .. } => m.errors_shown.clear(),
            SdkEvent::NewEvent { chat, event } => {
                let thread = event.thread.clone()?;
                let previous = m.threads.insert(chat.clone(), thread.clone());
                return previous.filter(|p| *p != thread).map(|_| thread);
            }
            _ => {}
        }
        None
    }

    fn event_text(&self, event: &Event) -> String {
        let who = self.who(&event.author);
        let bold = self.style(Style::new().magenta().bold());
        match &event.kind {
            EventKind::Message(m) => format!("{}: {}", bold.apply_to(who), m.text),
            EventKind::SystemMessage(m) => self.style(Style::new().italic()).apply_to(&m.text).to_string(),
            EventKind::File(f) => format!("{} sent a file: {} ({}) {}", who, f.name, bytes(f.size), f.url),
            EventKind::RichMessage(r) => {
                let mut s = format!("{} sent a rich message ({}):", who, r.template_id);
                let mut n = 0;
                for el in &r.elements {
                    s.push_str(&format!("\n      [{}]", el.title.as_deref().unwrap_or("")));
                    for b in &el.buttons {
                        n += 1;
                        s.push_str(&format!(" ({n}) {}", b.text));
                    }
                }
                s
            }
            EventKind::FilledForm(f) => format!("{} sent a form with {}", who, plural(f.fields.len(), "field")),
            EventKind::Annotation(a) => {
                format!("{} annotated ({}): {}", who, a.annotation_type, a.text.as_deref().unwrap_or(""))
            }
            EventKind::Custom(c) => format!("{} sent a custom event: {}", who, c.content),
            other => format!("{} sent a `{}` event", who, other.event_type()),
        }
    }

    /// The text line of a live event, if it has one worth printing.
    fn text(&self, e: &SdkEvent) -> Option<String> {
        let agent = self.style(Style::new().magenta().bold());
        Some(match e {
            SdkEvent::Connected { total_chats, .. } => format!("connected ({})", plural(*total_chats as usize, "chat")),
            SdkEvent::ConnectionLost => self.style(Style::new().yellow()).apply_to("connection lost").to_string(),
            SdkEvent::ConnectionRestored { .. } => "connection restored".into(),
            SdkEvent::ConnectionUnstable => {
                self.style(Style::new().yellow()).apply_to("the server is silent: checking the connection").to_string()
            }
            SdkEvent::ConnectionRecovered => "the connection is fine again".into(),
            SdkEvent::Lagged { missed } => {
                format!("{} not shown (the terminal fell behind)", plural(*missed as usize, "event"))
            }
            SdkEvent::Reconnecting { attempt, delay } => {
                format!("reconnecting (attempt {attempt}) in {:.1} s", delay.as_secs_f64())
            }
            SdkEvent::CustomerId(id) => format!("you are customer {}", self.style(Style::new().bold()).apply_to(id)),
            SdkEvent::Disconnected { reason } => format!("disconnected by the server: {reason}"),
            SdkEvent::ChatPropertiesUpdated { properties, .. } => {
                format!("chat properties updated: {}", props(properties))
            }
            SdkEvent::ChatThreadPropertiesUpdated { properties, .. } => {
                format!("thread properties updated: {}", props(properties))
            }
            SdkEvent::LastSeenTimestampUpdated { user, timestamp, .. } => {
                format!("{} saw the chat at {}", self.name(user), clock(*timestamp))
            }
            SdkEvent::NewEvent { chat, event } => {
                if let EventKind::SystemMessage(m) = &event.kind {
                    let said = match m.system_message_type.as_deref() {
                        Some("agent_joined") => Some("joined"),
                        Some("agent_left") => Some("left"),
                        _ => None,
                    };
                    let mut mem = self.memory();
                    if let Some(i) = said.and_then(|s| mem.membership.iter().position(|(c, k)| c == chat && *k == s)) {
                        mem.membership.remove(i);
                        return None;
                    }
                }
                self.event_text(event)
            }
            SdkEvent::UserData(_) | SdkEvent::ThreadSummary(_) => return None,
            SdkEvent::UserJoinedChat { chat, user } => {
                self.memory().membership.push((chat.clone(), "joined"));
                format!("{} joined the chat", agent.apply_to(self.name(user)))
            }
            SdkEvent::UserLeftChat { chat, user } => {
                self.memory().membership.push((chat.clone(), "left"));
                format!("{} left the chat", self.name(user))
            }
            SdkEvent::UserIsTyping { user, .. } => {
                self.style(Style::new().dim()).apply_to(format!("{} is typing…", self.name(user))).to_string()
            }
            SdkEvent::UserStoppedTyping { user, .. } => {
                self.style(Style::new().dim()).apply_to(format!("{} stopped typing", self.name(user))).to_string()
            }
            SdkEvent::ThreadClosed { user, .. } => format!("thread closed by {}", self.who(user)),
            SdkEvent::RichMessagePostback { user, postback, .. } => {
                format!(
                    "{} {} postback `{}`",
                    self.name(user),
                    if postback.toggled { "sent" } else { "withdrew" },
                    postback.id
                )
            }
            SdkEvent::Multicast { author, content } => format!("multicast from {}: {content}", self.name(author)),
            SdkEvent::ChatScopesUpdated { added, removed, .. } => {
                format!("chat scopes updated: added {}; removed {}", groups(added), groups(removed))
            }
            SdkEvent::CustomerUpdated { customer, .. } => {
                format!("customer updated: {}", customer.name.as_deref().unwrap_or("(no name)"))
            }
            SdkEvent::UnknownPush { action, .. } => format!("unknown push `{action}`"),
            SdkEvent::Error(e) => {
                let text = format!("error: {}", crate::errors::describe(e));
                if !self.memory().errors_shown.insert(text.clone()) {
                    return None;
                }
                self.style(Style::new().red()).apply_to(text).to_string()
            }
            other => format!("{} event", other.name()),
        })
    }
}

fn props(p: &chatio_customer_sdk::Properties) -> String {
    p.iter().map(|(ns, k, v)| format!("{ns}.{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// A scopes change for people: `groups 1, 2`, `no groups` or `nothing`.
fn groups(s: &chatio_customer_sdk::Scopes) -> String {
    match &s.groups {
        None => "nothing".into(),
        Some(g) if g.is_empty() => "no groups".into(),
        Some(g) => {
            let list = g.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
            format!("{} {list}", if g.len() == 1 { "group" } else { "groups" })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_times_and_sizes_read_well() {
        assert_eq!(plural(1, "event"), "1 event");
        assert_eq!(plural(0, "event"), "0 events");
        assert_eq!(plural(2, "event"), "2 events");
        assert_eq!(clock(UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 3 + 3600 * 14 + 63)), "14:01:03 UTC");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(3 * 1024 * 1024), "3.0 MiB");
    }

    #[test]
    fn scopes_print_as_groups() {
        assert_eq!(groups(&chatio_customer_sdk::Scopes::groups([1])), "group 1");
        assert_eq!(groups(&chatio_customer_sdk::Scopes::groups([1, 2])), "groups 1, 2");
        assert_eq!(groups(&chatio_customer_sdk::Scopes::all()), "nothing");
    }
}
