//! How events and steps are printed: a coloured transcript on a terminal, plain text
//! otherwise (or with `--plain`), or JSON lines (`--json`).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use chatio_customer_sdk::{EventKind, SdkEvent, UserId};
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

/// Prints events and steps; remembers user names to show them instead of ids.
#[derive(Clone)]
pub struct Renderer {
    mode: Mode,
    names: Arc<Mutex<HashMap<UserId, String>>>,
    me: Arc<Mutex<Option<UserId>>>,
    /// Typing shown on a status line that the next output replaces (interactive terminals).
    status_line: bool,
    status_shown: Arc<Mutex<bool>>,
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Renderer {
    pub fn new(mode: Mode) -> Self {
        Self { mode, names: Arc::default(), me: Arc::default(), status_line: false, status_shown: Arc::default() }
    }

    /// Shows typing indicators on a transient status line (for the interactive client on a
    /// terminal) instead of as lines of the transcript.
    pub fn with_status_line(mut self, on: bool) -> Self {
        self.status_line = on && matches!(self.mode, Mode::Text { color: true });
        self
    }

    /// Replaces the status line with `text` (none: clears it).
    fn status(&self, text: Option<&str>) {
        let mut out = std::io::stdout().lock();
        let mut shown = self.status_shown.lock().unwrap_or_else(|e| e.into_inner());
        if *shown {
            let _ = write!(out, "\r\x1b[2K");
        }
        *shown = text.is_some();
        if let Some(t) = text {
            let _ = write!(out, "{}", self.style(Style::new().dim().italic()).apply_to(t));
        }
        let _ = out.flush();
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    fn style(&self, s: Style) -> Style {
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

    /// A step of the script (what the demo or the user does).
    pub fn step(&self, text: &str) {
        match self.mode {
            Mode::Json => self.line(&json!({"step": text}).to_string()),
            Mode::Text { .. } => self.line(&format!("{} {text}", self.style(Style::new().cyan().bold()).apply_to("→"))),
        }
    }

    /// A heading.
    pub fn title(&self, text: &str) {
        match self.mode {
            Mode::Json => self.line(&json!({"title": text}).to_string()),
            Mode::Text { .. } => self.line(&format!("{}", self.style(Style::new().bold().underlined()).apply_to(text))),
        }
    }

    /// A success line.
    pub fn ok(&self, text: &str) {
        match self.mode {
            Mode::Json => self.line(&json!({"ok": text}).to_string()),
            Mode::Text { .. } => {
                self.line(&format!("{} {text}", self.style(Style::new().green().bold()).apply_to("✔")))
            }
        }
    }

    /// A problem.
    pub fn error(&self, text: &str) {
        match self.mode {
            Mode::Json => self.line(&json!({"error": text}).to_string()),
            Mode::Text { .. } => {
                eprintln!("{} {text}", self.style(Style::new().red().bold()).apply_to("✘"));
            }
        }
    }

    fn name(&self, id: &UserId) -> String {
        if self.me.lock().ok().and_then(|m| m.clone()).as_ref() == Some(id) {
            return "you".into();
        }
        self.names.lock().ok().and_then(|n| n.get(id).cloned()).unwrap_or_else(|| id.to_string())
    }

    fn who(&self, id: &Option<UserId>) -> String {
        id.as_ref().map_or_else(|| "system".into(), |u| self.name(u))
    }

    /// Learns names and ids from an event, then prints it.
    pub fn event(&self, e: &SdkEvent) {
        match e {
            SdkEvent::UserData(u) => {
                if let (Ok(mut n), Some(name)) = (self.names.lock(), &u.name) {
                    n.insert(u.id.clone(), name.clone());
                }
            }
            SdkEvent::CustomerId(id) => {
                if let Ok(mut m) = self.me.lock() {
                    *m = Some(id.clone());
                }
            }
            _ => {}
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
        match self.mode {
            Mode::Json => self.line(&event_json(e).to_string()),
            Mode::Text { .. } => {
                if let Some(text) = self.text(e) {
                    let tag = self.style(Style::new().dim()).apply_to("  ·");
                    self.line(&format!("{tag} {text}"));
                }
            }
        }
    }

    fn text(&self, e: &SdkEvent) -> Option<String> {
        let bold = self.style(Style::new().bold());
        let agent = self.style(Style::new().magenta().bold());
        Some(match e {
            SdkEvent::Connected { total_chats, .. } => format!("connected ({total_chats} chats)"),
            SdkEvent::ConnectionLost => self.style(Style::new().yellow()).apply_to("connection lost").to_string(),
            SdkEvent::ConnectionRestored { .. } => "connection restored".into(),
            SdkEvent::Reconnecting { attempt, delay } => {
                format!("reconnecting (attempt {attempt}) in {:.1} s", delay.as_secs_f64())
            }
            SdkEvent::CustomerId(id) => format!("customer id {}", bold.apply_to(id)),
            SdkEvent::Disconnected { reason } => format!("disconnected by the server: {reason}"),
            SdkEvent::ChatPropertiesUpdated { properties, .. } => {
                format!("chat properties updated: {}", props(properties))
            }
            SdkEvent::ChatThreadPropertiesUpdated { properties, .. } => {
                format!("thread properties updated: {}", props(properties))
            }
            SdkEvent::LastSeenTimestampUpdated { user, timestamp, .. } => {
                format!("{} saw the chat at {}", self.name(user), secs(*timestamp))
            }
            SdkEvent::NewEvent { event, .. } => {
                let who = self.who(&event.author);
                match &event.kind {
                    EventKind::Message(m) => format!("{}: {}", agent.apply_to(who), m.text),
                    EventKind::SystemMessage(m) => self.style(Style::new().italic()).apply_to(&m.text).to_string(),
                    EventKind::File(f) => format!("{} sent a file: {} ({} bytes) {}", who, f.name, f.size, f.url),
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
                    EventKind::FilledForm(f) => format!("{} sent a form with {} fields", who, f.fields.len()),
                    EventKind::Annotation(a) => {
                        format!("{} annotated ({}): {}", who, a.annotation_type, a.text.as_deref().unwrap_or(""))
                    }
                    EventKind::Custom(c) => format!("{} sent a custom event: {}", who, c.content),
                    other => format!("{} sent a `{}` event", who, other.event_type()),
                }
            }
            SdkEvent::UserData(_) => return None,
            SdkEvent::UserJoinedChat { user, .. } => format!("{} is now in the chat", agent.apply_to(self.name(user))),
            SdkEvent::UserLeftChat { user, .. } => format!("{} is no longer in the chat", self.name(user)),
            SdkEvent::UserIsTyping { user, .. } => {
                self.style(Style::new().dim()).apply_to(format!("{} is typing…", self.name(user))).to_string()
            }
            SdkEvent::UserStoppedTyping { user, .. } => {
                self.style(Style::new().dim()).apply_to(format!("{} stopped typing", self.name(user))).to_string()
            }
            SdkEvent::ThreadClosed { user, .. } => format!("thread closed by {}", self.who(user)),
            SdkEvent::ThreadSummary(t) => format!(
                "thread {} (order {}, {} events)",
                t.id,
                t.order,
                t.total_events.map_or_else(|| "?".into(), |n| n.to_string())
            ),
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
                format!("chat scopes updated: +{:?} -{:?}", added.groups, removed.groups)
            }
            SdkEvent::CustomerUpdated { customer, .. } => {
                format!("customer updated: {}", customer.name.as_deref().unwrap_or("(no name)"))
            }
            SdkEvent::UnknownPush { action, .. } => format!("unknown push `{action}`"),
            SdkEvent::Error(e) => self.style(Style::new().red()).apply_to(format!("error: {e}")).to_string(),
            _ => format!("{e:?}"),
        })
    }
}

fn props(p: &chatio_customer_sdk::Properties) -> String {
    p.iter().map(|(ns, k, v)| format!("{ns}.{k}={v}")).collect::<Vec<_>>().join(", ")
}

/// An event as JSON (for `--json`).
pub fn event_json(e: &SdkEvent) -> Value {
    let ev = |event: &chatio_customer_sdk::Event| {
        json!({
            "id": event.id,
            "custom_id": event.custom_id,
            "order": event.order,
            "author": event.author,
            "timestamp": secs(event.timestamp),
            "thread": event.thread,
            "type": event.kind.event_type(),
            "text": event.text(),
        })
    };
    match e {
        SdkEvent::Connected { total_chats, chats_summary } => {
            json!({"event": "connected", "total_chats": total_chats, "chats": chats_summary.iter().map(|c| c.id.to_string()).collect::<Vec<_>>()})
        }
        SdkEvent::ConnectionLost => json!({"event": "connection_lost"}),
        SdkEvent::ConnectionRestored { total_chats, .. } => {
            json!({"event": "connection_restored", "total_chats": total_chats})
        }
        SdkEvent::Reconnecting { attempt, delay } => {
            json!({"event": "reconnecting", "attempt": attempt, "delay_ms": delay.as_millis() as u64})
        }
        SdkEvent::CustomerId(id) => json!({"event": "customer_id", "customer_id": id}),
        SdkEvent::Disconnected { reason } => json!({"event": "disconnected", "reason": reason.as_str()}),
        SdkEvent::ChatPropertiesUpdated { chat, properties } => {
            json!({"event": "chat_properties_updated", "chat": chat, "properties": properties})
        }
        SdkEvent::ChatThreadPropertiesUpdated { chat, thread, properties } => {
            json!({"event": "chat_thread_properties_updated", "chat": chat, "thread": thread, "properties": properties})
        }
        SdkEvent::LastSeenTimestampUpdated { chat, user, timestamp } => {
            json!({"event": "last_seen_timestamp_updated", "chat": chat, "user": user, "timestamp": secs(*timestamp)})
        }
        SdkEvent::NewEvent { chat, event } => json!({"event": "new_event", "chat": chat, "data": ev(event)}),
        SdkEvent::UserData(u) => json!({"event": "user_data", "id": u.id, "type": u.kind.as_str(), "name": u.name}),
        SdkEvent::UserJoinedChat { chat, user } => json!({"event": "user_joined_chat", "chat": chat, "user": user}),
        SdkEvent::UserLeftChat { chat, user } => json!({"event": "user_left_chat", "chat": chat, "user": user}),
        SdkEvent::UserIsTyping { chat, user } => json!({"event": "user_is_typing", "chat": chat, "user": user}),
        SdkEvent::UserStoppedTyping { chat, user } => {
            json!({"event": "user_stopped_typing", "chat": chat, "user": user})
        }
        SdkEvent::ThreadClosed { chat, thread, user } => {
            json!({"event": "thread_closed", "chat": chat, "thread": thread, "user": user})
        }
        SdkEvent::ThreadSummary(t) => {
            json!({"event": "thread_summary", "chat": t.chat, "id": t.id, "order": t.order, "total_events": t.total_events})
        }
        SdkEvent::RichMessagePostback { user, chat, thread, event, postback } => json!({
            "event": "incoming_rich_message_postback", "user": user, "chat": chat, "thread": thread,
            "event_id": event, "postback": {"id": postback.id, "toggled": postback.toggled}
        }),
        SdkEvent::Multicast { author, content } => {
            json!({"event": "incoming_multicast", "author": author, "content": content})
        }
        SdkEvent::ChatScopesUpdated { chat, added, removed } => {
            json!({"event": "chat_scopes_updated", "chat": chat, "added": added, "removed": removed})
        }
        SdkEvent::CustomerUpdated { chat, customer } => {
            json!({"event": "customer_updated", "chat": chat, "customer": customer.id, "name": customer.name})
        }
        SdkEvent::UnknownPush { action, payload } => {
            json!({"event": "unknown_push", "action": action, "payload": payload.as_ref().map(|p| p.get())})
        }
        SdkEvent::Error(e) => json!({"event": "error", "message": e.to_string()}),
        other => json!({"event": format!("{other:?}")}),
    }
}
