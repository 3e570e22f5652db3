//! How events and steps are printed: a coloured transcript on a terminal, plain text
//! otherwise (or with `--plain`), or JSON lines (`--json`).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use chatio_customer_sdk::{EventKind, SdkEvent, UserId};
use console::Style;
use serde_json::json;

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
            Mode::Json => self.line(&e.to_json().to_string()),
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
