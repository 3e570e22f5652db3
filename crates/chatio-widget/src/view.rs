//! What the widget shows, as plain data: pure functions from SDK values to display items and
//! readable text. No DOM here, so all of it is unit-tested on native; `app` turns the items
//! into elements.

use std::time::Duration;

use chatio_core::Error;
use chatio_core::model::Event;
use chatio_wire::{EventKind, UserId};

/// Largest file the server accepts (10 MiB); checked before the file is read.
pub const MAX_FILE_SIZE: u64 = chatio_wire::SendFile::MAX_FILE_SIZE;

/// Who wrote an item: decides its side and colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Who {
    /// The customer using the widget.
    Me,
    /// Someone else (the agent).
    Other,
    /// The server (system messages).
    System,
}

/// A rich message card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Card {
    /// Title.
    pub title: Option<String>,
    /// Subtitle.
    pub subtitle: Option<String>,
    /// Image URL (only `http(s)://` and same-origin `/` URLs).
    pub image: Option<String>,
    /// Buttons: text, postback id, whether the customer chose it.
    pub buttons: Vec<CardButton>,
}

/// A button of a card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardButton {
    /// The label.
    pub text: String,
    /// What pressing it sends.
    pub postback_id: String,
    /// The customer has toggled it on.
    pub chosen: bool,
}

/// What one event looks like in the list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Body {
    /// A text message.
    Text(String),
    /// A server message (agent joined, thread closed...).
    System(String),
    /// A file: name, URL (when safe to link), size, whether to show it as an image.
    File {
        /// File name.
        name: String,
        /// Download URL.
        url: Option<String>,
        /// Human size.
        size: String,
        /// An image: shown inline.
        image: bool,
    },
    /// Cards with buttons.
    Rich(Vec<Card>),
    /// A filled form: label and value of each field.
    Form(Vec<(String, String)>),
    /// Anything else (annotations, custom events, unknown types), as a one-line note.
    Note(String),
}

/// One event as shown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// Side.
    pub who: Who,
    /// The author's display name.
    pub author: String,
    /// Content.
    pub body: Body,
}

/// Only `http(s)://` and same-origin paths are linked or loaded; anything else (a
/// `javascript:` URL from a hostile server) is dropped.
pub fn safe_url(url: &str) -> Option<String> {
    let lower = url.trim_start().to_ascii_lowercase();
    (lower.starts_with("https://")
        || lower.starts_with("http://")
        || (lower.starts_with('/') && !lower.starts_with("//")))
    .then(|| url.trim_start().to_owned())
}

/// Bytes as `512 B`, `1.5 KiB`, `10.0 MiB`.
pub fn bytes_text(n: u64) -> String {
    const KIB: f64 = 1024.0;
    #[allow(clippy::cast_precision_loss)]
    let f = n as f64;
    if f < KIB {
        format!("{n} B")
    } else if f < KIB * KIB {
        format!("{:.1} KiB", f / KIB)
    } else {
        format!("{:.1} MiB", f / (KIB * KIB))
    }
}

/// A progress fraction as a whole percentage in 0..=100 (NaN and out-of-range values are
/// clamped, never a panic).
pub fn percent(fraction: f64) -> u32 {
    if fraction.is_nan() {
        return 0;
    }
    // Clamped to [0, 100] first, so the cast cannot truncate or wrap.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let p = (fraction.clamp(0.0, 1.0) * 100.0).round() as u32;
    p
}

/// The message shown when a chosen file is over the limit, before anything is read or sent.
pub fn too_big(name: &str, size: u64) -> String {
    format!("“{name}” is too big to send: {size} bytes (the limit is 10 MiB, {MAX_FILE_SIZE} bytes).")
}

/// The reconnect banner's text.
pub fn reconnecting_text(attempt: u32, delay: Duration) -> String {
    let secs = delay.as_secs_f64();
    if secs < 0.05 {
        format!("Connection lost. Reconnecting now (attempt {attempt})…")
    } else {
        format!("Connection lost. Reconnecting in {secs:.1} s (attempt {attempt})…")
    }
}

/// The causes under an error (`source()` chain), as `": cause: cause"`.
fn causes(e: &dyn std::error::Error) -> String {
    let mut out = String::new();
    let mut next = e.source();
    while let Some(c) = next {
        let text = c.to_string();
        if !text.is_empty() && !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = c.source();
    }
    out
}

fn capitalized(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// An SDK error as a sentence a visitor understands. Connection trouble says what to do
/// (the banner tells the reconnects); technical detail (URLs, causes) goes to the console,
/// never into the sentence.
pub fn error_text(e: &Error) -> String {
    match e {
        Error::Authentication { .. } => "The chat could not sign you in. Reload the page to try again.".into(),
        Error::ConnectionLost | Error::Transport(_) => {
            "The chat server cannot be reached. Check your connection; the chat reconnects by itself.".into()
        }
        Error::Timeout => "The chat server did not answer in time. Please try again.".into(),
        Error::InvalidArgs { reason } => format!("That cannot be sent: {reason}."),
        Error::Config { reason, .. } => format!("The chat cannot start: {reason}."),
        Error::Cancelled => "Cancelled.".into(),
        Error::Server { kind: chatio_wire::ErrorType::Authorization, .. } => {
            "This chat is no longer available. Your next message starts a new one.".into()
        }
        Error::Server { message, .. } => format!("The chat server refused this: {}.", message.trim_end_matches('.')),
        Error::Disconnected { .. } => "The chat server ended this session. Reload the page to chat again.".into(),
        Error::Closed => "The chat session has ended. Reload the page to chat again.".into(),
        Error::Protocol(_) => "The chat server sent something this page cannot read. Please reload the page.".into(),
        other => format!("{}.", capitalized(other.to_string().trim_end_matches('.'))),
    }
}

/// The error with its causes, for the console (developers), on one line.
pub fn error_detail(e: &Error) -> String {
    format!("{e}{}", causes(e))
}

/// Connection trouble: the reconnect banner tells it, so it stays out of the error bar and
/// anything it showed goes away when the connection is back.
pub fn is_connection_error(e: &Error) -> bool {
    matches!(e.kind(), chatio_core::ErrorKind::Connection | chatio_core::ErrorKind::Transport)
}

/// The server no longer knows the chat as this customer's (it forgot it: restarted without
/// its data, or the customer is a new one): forget it and start a new chat.
pub fn is_unknown_chat(e: &Error) -> bool {
    matches!(e, Error::Server { kind: chatio_wire::ErrorType::Authorization, .. })
}

/// A page title with the unread count in front while there is one: `(2) Chat`.
pub fn unread_title(base: &str, unread: u32) -> String {
    if unread == 0 { base.to_owned() } else { format!("({unread}) {base}") }
}

/// The time of a message as `HH:MM` (the browser gives the local hours and minutes).
pub fn clock_text(hours: u32, minutes: u32) -> String {
    format!("{hours:02}:{minutes:02}")
}

/// Whether an item counts as unread when it arrives while the visitor is not looking:
/// what someone else wrote (not system lines, not the visitor's own messages).
pub fn counts_as_unread(item: &Item) -> bool {
    item.who == Who::Other
}

fn form_value(f: &chatio_wire::FormField) -> String {
    if let Some(options) = &f.options {
        let chosen: Vec<&str> = options.iter().filter(|o| o.checked).map(|o| o.label.as_str()).collect();
        if !chosen.is_empty() {
            return chosen.join(", ");
        }
    }
    f.value.clone().unwrap_or_default()
}

/// How `event` looks to the customer `me`; `name` gives a user's display name.
pub fn item(event: &Event, me: Option<&UserId>, name: &dyn Fn(&UserId) -> String) -> Item {
    let (who, author) = match &event.author {
        Some(a) if Some(a) == me => (Who::Me, "You".to_owned()),
        Some(a) => (Who::Other, name(a)),
        None => (Who::System, String::new()),
    };
    let body = match &event.kind {
        EventKind::Message(m) => Body::Text(m.text.clone()),
        EventKind::SystemMessage(m) => Body::System(m.text.clone()),
        EventKind::File(f) => Body::File {
            name: f.name.clone(),
            url: safe_url(&f.url),
            size: bytes_text(f.size),
            image: f.content_type.starts_with("image/"),
        },
        EventKind::RichMessage(r) => Body::Rich(
            r.elements
                .iter()
                .map(|e| Card {
                    title: e.title.clone(),
                    subtitle: e.subtitle.clone(),
                    image: e.image.as_ref().and_then(|i| safe_url(&i.url)),
                    buttons: e
                        .buttons
                        .iter()
                        .map(|b| CardButton {
                            text: b.text.clone(),
                            postback_id: b.postback_id.clone(),
                            chosen: me.is_some_and(|me| b.user_ids.contains(me)),
                        })
                        .collect(),
                })
                .collect(),
        ),
        EventKind::FilledForm(f) => Body::Form(
            f.fields
                .iter()
                .map(|field| {
                    let label =
                        field.label.clone().or_else(|| field.name.clone()).unwrap_or_else(|| field.field_type.clone());
                    (label, form_value(field))
                })
                .collect(),
        ),
        EventKind::Annotation(a) => Body::Note(match &a.text {
            Some(t) => format!("Note ({}): {t}", a.annotation_type),
            None => format!("Note ({})", a.annotation_type),
        }),
        EventKind::Custom(_) => Body::Note("A custom event (not shown by this widget)".into()),
        other => Body::Note(format!("An event of type “{}” (not shown by this widget)", other.event_type())),
    };
    let who = if matches!(body, Body::System(_)) { Who::System } else { who };
    Item { who, author, body }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_wire as wire;
    use std::time::UNIX_EPOCH;

    fn event(author: Option<&str>, kind: EventKind) -> Event {
        let mut e = wire::Event::new("e1", 1, wire::Timestamp::from_secs(1_500_000_000), kind);
        e.author_id = author.map(UserId::new);
        Event::from_wire(e, &wire::ChatId::new("c"), Some(&wire::ThreadId::new("t")))
    }

    fn names(id: &UserId) -> String {
        format!("name of {id}")
    }

    #[test]
    fn messages_are_mine_or_the_agents() {
        let me = UserId::new("me");
        let mine = item(&event(Some("me"), EventKind::Message(wire::Message::new("hi"))), Some(&me), &names);
        assert_eq!(mine, Item { who: Who::Me, author: "You".into(), body: Body::Text("hi".into()) });
        let theirs = item(&event(Some("bot"), EventKind::Message(wire::Message::new("yo"))), Some(&me), &names);
        assert_eq!(theirs.who, Who::Other);
        assert_eq!(theirs.author, "name of bot");
        let sys = item(
            &event(None, EventKind::SystemMessage(wire::SystemMessage::new("Bot joined", "agent_joined"))),
            Some(&me),
            &names,
        );
        assert_eq!(sys.who, Who::System);
        assert_eq!(sys.body, Body::System("Bot joined".into()));
        assert!(event(None, EventKind::Message(wire::Message::new("x"))).timestamp > UNIX_EPOCH);
    }

    #[test]
    fn rich_cards_know_the_customers_choice_and_drop_unsafe_urls() {
        let me = UserId::new("me");
        let mut yes = wire::Button::new("Yes!", "like_yes");
        yes.user_ids = vec![me.clone()];
        let mut card = wire::RichElement::new("Like it?", vec![yes, wire::Button::new("No", "like_no")]);
        card.image = Some(wire::Image::new("javascript:alert(1)"));
        let it = item(
            &event(Some("bot"), EventKind::RichMessage(wire::RichMessage::new("cards", vec![card]))),
            Some(&me),
            &names,
        );
        let Body::Rich(cards) = it.body else { panic!("not rich: {it:?}") };
        assert_eq!(cards[0].title.as_deref(), Some("Like it?"));
        assert_eq!(cards[0].image, None);
        assert_eq!(cards[0].buttons.iter().map(|b| b.chosen).collect::<Vec<_>>(), vec![true, false]);
    }

    #[test]
    fn files_forms_and_unknown_kinds_are_displayed() {
        let f = wire::FileAttachment::new("a.png", "http://127.0.0.1:1/api/file/a.png", "image/png", 2048);
        let it = item(&event(Some("bot"), EventKind::File(f)), None, &names);
        assert_eq!(
            it.body,
            Body::File {
                name: "a.png".into(),
                url: Some("http://127.0.0.1:1/api/file/a.png".into()),
                size: "2.0 KiB".into(),
                image: true
            }
        );
        let mut field = wire::FormField::new("radio", "purpose", "Chat purpose");
        field.options = Some(vec![
            wire::FormOption::new("Support", "support", true),
            wire::FormOption::new("Sales", "sales", false),
        ]);
        let form = item(&event(Some("bot"), EventKind::FilledForm(wire::FilledForm::new(vec![field]))), None, &names);
        assert_eq!(form.body, Body::Form(vec![("Chat purpose".into(), "Support".into())]));
        let custom =
            item(&event(Some("bot"), EventKind::Custom(wire::Custom::new(serde_json::json!({"a": 1})))), None, &names);
        assert!(matches!(custom.body, Body::Note(_)));
    }

    #[test]
    fn numbers_and_errors_read_well() {
        assert_eq!(bytes_text(12), "12 B");
        assert_eq!(bytes_text(10 * 1024 * 1024), "10.0 MiB");
        assert_eq!(percent(f64::NAN), 0);
        assert_eq!(percent(1.7), 100);
        assert_eq!(percent(0.504), 50);
        assert_eq!(
            too_big("big.bin", MAX_FILE_SIZE + 1),
            "“big.bin” is too big to send: 10485761 bytes (the limit is 10 MiB, 10485760 bytes)."
        );
        assert_eq!(
            error_text(&Error::Server {
                kind: wire::ErrorType::Validation,
                message: "no such chat".into(),
                data: None
            }),
            "The chat server refused this: no such chat."
        );
        assert_eq!(error_text(&Error::DeliveryUnknown { attempts: 3 }).chars().next(), Some('U'));
        let unknown = Error::Server {
            kind: wire::ErrorType::Authorization,
            message: "chat `c` is not one of the customer's chats".into(),
            data: None,
        };
        assert!(is_unknown_chat(&unknown));
        assert!(!error_text(&unknown).contains('`'), "no ids in sentences: {}", error_text(&unknown));
        assert!(is_connection_error(&Error::ConnectionLost));
        assert!(is_connection_error(&Error::Timeout));
        assert!(!is_connection_error(&unknown));
        assert_eq!(unread_title("Chat", 0), "Chat");
        assert_eq!(unread_title("Chat", 3), "(3) Chat");
        assert_eq!(clock_text(9, 5), "09:05");
        assert!(reconnecting_text(2, Duration::from_millis(1500)).contains("1.5 s (attempt 2)"));
        assert_eq!(safe_url("//evil.example/x"), None);
        assert_eq!(safe_url("/api/file/x").as_deref(), Some("/api/file/x"));
    }
}
