//! What the page shows, as data: names, chat rows, conversation lines and the sentences for
//! errors and connection states. Plain Rust (no DOM), tested on native.

use std::collections::HashMap;

use chatio_agent_sdk::model::{ChatView, Event, User};
use chatio_agent_sdk::{AgentDisconnectReason, AgentEvent, Error, ErrorKind, ErrorType, EventKind, Recipients, UserId};

/// The name to show for a user: its name, else its e-mail, else a generic word for its kind
/// (an id means nothing to a person).
pub fn display_name(u: &User) -> String {
    u.name.clone().filter(|n| !n.trim().is_empty()).or_else(|| u.email.clone()).unwrap_or_else(|| {
        if u.kind == chatio_agent_sdk::UserType::Agent { "Agent".to_owned() } else { "Visitor".to_owned() }
    })
}

/// A chat as a row of the lists: who the visitor is, the last thing said, the unread count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatRow {
    /// The visitor's name.
    pub title: String,
    /// The last event, as one short line (empty when none).
    pub preview: String,
    /// Unread events from others (0: none).
    pub unread: u32,
}

/// The longest preview shown in a chat row, in characters.
const PREVIEW_CHARS: usize = 60;

/// Whether an event is worth a chat row's preview: something a person said or sent (not the
/// router's system messages).
pub fn is_said(e: &Event) -> bool {
    e.author.is_some() && !matches!(e.kind, EventKind::SystemMessage(_))
}

/// The row of a chat; `last_said` is the last thing a person said in it, when the page saw
/// it (else the chat's last event).
pub fn chat_row(chat: &ChatView, last_said: Option<&Event>) -> ChatRow {
    let title = chat.customer().map_or_else(|| "A chat without a visitor".to_owned(), display_name);
    let preview = last_said.or(chat.last_event.as_ref()).map(|e| short(&event_text(e))).unwrap_or_default();
    ChatRow { title, preview, unread: chat.unread }
}

/// The words a screen reader hears after an unread count's digits.
pub fn unread_words(n: u32) -> &'static str {
    if n == 1 { " unread message" } else { " unread messages" }
}

fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if line.chars().count() > PREVIEW_CHARS {
        let cut: String = line.chars().take(PREVIEW_CHARS - 1).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// What an event says, without its author.
pub fn event_text(e: &Event) -> String {
    match &e.kind {
        EventKind::Message(m) => m.text.clone(),
        EventKind::SystemMessage(m) => m.text.clone(),
        EventKind::File(f) => format!("sent a file: {}", f.name),
        EventKind::RichMessage(r) => {
            let titles: Vec<&str> = r.elements.iter().filter_map(|el| el.title.as_deref()).collect();
            if titles.is_empty() { "sent a card".to_owned() } else { format!("sent a card: {}", titles.join(", ")) }
        }
        EventKind::FilledForm(f) => format!("sent a form with {} fields", f.fields.len()),
        EventKind::Annotation(a) => a.text.clone().unwrap_or_else(|| "added a note".to_owned()),
        EventKind::Custom(_) => "sent a custom event".to_owned(),
        other => format!("sent a {} event", other.event_type()),
    }
}

/// Who a line of the conversation is from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// This agent.
    Me,
    /// The visitor or another agent.
    Other,
    /// The system (no author).
    System,
}

/// A line of the conversation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// Whose it is.
    pub side: Side,
    /// The author's name (empty for the system).
    pub who: String,
    /// What was said.
    pub text: String,
    /// A whisper: only agents see it.
    pub whisper: bool,
}

/// The line of an event: `names` maps user ids to display names, `me` is this agent.
pub fn line(e: &Event, names: &HashMap<UserId, String>, me: Option<&UserId>) -> Line {
    let (side, who) = match &e.author {
        None => (Side::System, String::new()),
        Some(a) if Some(a) == me => (Side::Me, "You".to_owned()),
        Some(a) => (Side::Other, names.get(a).cloned().unwrap_or_else(|| "Visitor".to_owned())),
    };
    Line { side, who, text: event_text(e), whisper: e.recipients == Some(Recipients::Agents) }
}

/// A file or picture in a conversation line: a link, with a thumbnail for pictures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    /// The file's name, the link's text.
    pub name: String,
    /// Where it is: only `http:` or `https:` URLs (anything else is not linked).
    pub url: String,
    /// A picture: shown as a thumbnail.
    pub image: bool,
    /// Its size, as words (`"12 KB"`), when known.
    pub size: Option<String>,
}

/// Whether a URL may be a link or a picture's source on the page: `http:` or `https:` only
/// (an event's URL comes from the network).
pub fn is_web_url(url: &str) -> bool {
    let lower = url.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The files and pictures an event carries: a visitor's file, the pictures of a card.
pub fn attachments(e: &Event) -> Vec<Attachment> {
    match &e.kind {
        EventKind::File(f) if is_web_url(&f.url) => vec![Attachment {
            name: f.name.clone(),
            url: f.url.clone(),
            image: f.is_image() || f.content_type.starts_with("image/"),
            size: Some(size_words(f.size)),
        }],
        EventKind::RichMessage(r) => r
            .elements
            .iter()
            .filter_map(|el| {
                let img = el.image.as_ref().filter(|i| is_web_url(&i.url))?;
                let name = img.name.clone().or_else(|| el.title.clone()).unwrap_or_else(|| "picture".to_owned());
                Some(Attachment { name, url: img.url.clone(), image: true, size: img.size.map(size_words) })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A size in bytes as a person reads it: `512 B`, `12 KB`, `3.4 MB` (1 KB = 1 024 B).
pub fn size_words(bytes: u64) -> String {
    #[allow(clippy::cast_precision_loss)] // a file size, shown to one decimal
    let b = bytes as f64;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / (1024.0 * 1024.0))
    }
}

/// The most a picture the agent sends may weigh (the Agent API's `upload_image` limit).
pub const MAX_PICTURE_BYTES: u64 = chatio_wire::agent::UploadImage::MAX_FILE_SIZE;

/// Why a picture is not sent before anything goes to the server: too big; `None` when it
/// may go.
pub fn picture_refusal(name: &str, size: u64) -> Option<String> {
    (size > MAX_PICTURE_BYTES).then(|| {
        format!("“{name}” is too big to send: {} (at most {}).", size_words(size), size_words(MAX_PICTURE_BYTES))
    })
}

/// The sentence for a picture the server did not take.
pub fn picture_failed_text(name: &str, e: &Error) -> String {
    match e {
        Error::Server { kind: ErrorType::Validation, .. } => {
            format!("“{name}” was not sent: only PNG, GIF and JPEG pictures can be sent.")
        }
        Error::InvalidArgs { .. } => {
            format!("“{name}” was not sent: it is too big (at most {}).", size_words(MAX_PICTURE_BYTES))
        }
        other => format!("“{name}” was not sent. {}", error_text(other)),
    }
}

/// The question before a chat goes back to the queue.
pub fn to_queue_question(visitor: &str) -> String {
    format!("Put the chat with {visitor} back in the queue? You leave it, and another agent can take it.")
}

/// The question before a ban.
pub fn ban_question(visitor: &str, days: u32) -> String {
    format!("Ban {visitor} for {}? Their chats end now and they cannot start one until then.", days_words(days))
}

/// The line in the conversation after a ban.
pub fn banned_text(visitor: &str, days: u32) -> String {
    format!("{visitor} is banned for {}.", days_words(days))
}

fn days_words(days: u32) -> String {
    if days == 1 { "1 day".to_owned() } else { format!("{days} days") }
}

/// What to tell a person who signed out, from the server's answer to the revocation
/// (`status`, its OAuth `error`; `None`: the request failed): nothing when the token was
/// revoked (or was unknown already).
pub fn sign_out_note(status: Option<u16>, error: Option<&str>) -> Option<String> {
    match (status, error) {
        (Some(200), _) => None,
        (Some(400), Some("unsupported_token_type")) => Some(
            "Signed out. Your token comes from the server's configuration and stays valid until the operator removes it."
                .to_owned(),
        ),
        (Some(status), _) => Some(format!(
            "Signed out here, but the server did not revoke your token (HTTP {status}): it stays valid until it expires."
        )),
        (None, _) => Some(
            "Signed out here, but the server could not be reached to revoke your token: it stays valid until it expires."
                .to_owned(),
        ),
    }
}

/// What the page shows of a visitor beside the conversation (the agent view of the
/// customer: its data, `banned` and `monitoring`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VisitorDetails {
    /// Facts as label and value, in the order shown (only the known ones).
    pub facts: Vec<(String, String)>,
    /// The pages of the visit under way, newest first: what to show, and the URL when it
    /// may be a link (`http(s)` only).
    pub pages: Vec<(String, Option<String>)>,
}

/// The visitor's details from the customer as agents see it.
pub fn visitor_details(u: &User) -> VisitorDetails {
    let mut facts = vec![("Name".to_owned(), display_name(u))];
    if let Some(email) = u.email.as_ref().filter(|e| !e.trim().is_empty()) {
        facts.push(("E-mail".to_owned(), email.clone()));
    }
    for (k, v) in &u.fields {
        facts.push((k.clone(), v.clone()));
    }
    if u.banned == Some(true) {
        facts.push(("Banned".to_owned(), "yes".to_owned()));
    }
    let mut pages = Vec::new();
    if let Some(m) = u.monitoring.as_deref() {
        let count = |n: Option<u64>| n.map(|n| n.to_string());
        if let Some(stats) = &m.stats {
            for (label, value) in [
                ("Visits", count(stats.visits)),
                ("Page views", count(stats.page_views)),
                ("Chats", count(stats.threads)),
            ] {
                if let Some(value) = value {
                    facts.push((label.to_owned(), value));
                }
            }
        }
        for (label, value) in [("Came from", &m.referrer), ("IP address", &m.ip), ("Browser", &m.user_agent)] {
            if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
                facts.push((label.to_owned(), value.clone()));
            }
        }
        if let Some(g) = &m.geolocation {
            let place: Vec<&str> = [&g.city, &g.region, &g.country].into_iter().flatten().map(String::as_str).collect();
            if !place.is_empty() {
                facts.push(("Location".to_owned(), place.join(", ")));
            }
        }
        if let Some(visit) = &m.current_visit {
            for p in visit.pages.iter().rev() {
                let url = p.url.clone().unwrap_or_default();
                let shown = p.title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| url.clone());
                if !shown.is_empty() {
                    pages.push((shown, Some(url).filter(|u| is_web_url(u))));
                }
            }
        }
    }
    VisitorDetails { facts, pages }
}

/// A sentence for an error a person can act on (the detail goes to the console).
pub fn error_text(e: &Error) -> String {
    match e {
        Error::Authentication { .. } | Error::Server { kind: ErrorType::Authentication, .. } => {
            "The server did not accept this token. Check it and sign in again.".to_owned()
        }
        Error::Server { kind: ErrorType::Authorization, .. } => {
            "You are not allowed to do that in this chat.".to_owned()
        }
        Error::Server { kind: ErrorType::CustomerBanned, .. } => "This visitor is banned.".to_owned(),
        Error::Server { message, .. } => format!("The server refused it: {message}"),
        _ => match e.kind() {
            ErrorKind::Connection | ErrorKind::Transport => {
                "The connection to the server failed. It will be tried again; try once more when it is back.".to_owned()
            }
            ErrorKind::Usage => format!("That did not work: {e}"),
            _ => "Something went wrong. Try again, or reload the page.".to_owned(),
        },
    }
}

/// Whether an error means the sign-in failed (the page goes back to the sign-in form).
pub fn is_sign_in_error(e: &Error) -> bool {
    matches!(e, Error::Authentication { .. } | Error::Server { kind: ErrorType::Authentication, .. })
}

/// The status line for a connection event, or `None` for other events.
pub fn status_text(e: &AgentEvent) -> Option<String> {
    Some(match e {
        AgentEvent::Connected { me, .. } => format!("Signed in as {}", display_name(me)),
        AgentEvent::ConnectionRestored { .. } | AgentEvent::ConnectionRecovered => "Connected".to_owned(),
        AgentEvent::ConnectionLost => "Connection lost: reconnecting…".to_owned(),
        AgentEvent::ConnectionUnstable => "The server is not answering: checking the connection…".to_owned(),
        AgentEvent::Reconnecting { .. } => "Reconnecting…".to_owned(),
        AgentEvent::Disconnected { reason } => disconnect_text(reason),
        _ => return None,
    })
}

/// Why the server ended the session, as a sentence.
pub fn disconnect_text(reason: &AgentDisconnectReason) -> String {
    match reason {
        AgentDisconnectReason::AccessTokenRevoked => "Your token was revoked. Sign in again.".to_owned(),
        AgentDisconnectReason::LoggedOutRemotely => "You were signed out from elsewhere.".to_owned(),
        other => format!("The server ended the session ({other}). Sign in again."),
    }
}

/// The code of a sign-in link (H9: `…/agent/#code=CODE`), from the page's fragment as
/// `location.hash` gives it (still percent-encoded); `None` when there is none.
pub fn sign_in_code(fragment: &str) -> Option<&str> {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    fragment.split('&').find_map(|pair| pair.strip_prefix("code=")).filter(|c| !c.is_empty())
}

/// The sentence for a sign-in link the server did not take (`POST /agent/sign-in` answered
/// `status` with the OAuth `error`).
pub fn link_refused_text(status: u16, error: Option<&str>) -> String {
    match (status, error) {
        (429, _) | (_, Some("slow_down")) => {
            "Too many sign-ins from here. Wait a minute, then open your link again.".to_owned()
        }
        (400, Some("invalid_grant")) => {
            "This sign-in link was already used, replaced or has expired. Ask for a new one, or sign in with your token."
                .to_owned()
        }
        _ => format!("The server could not sign you in with this link (HTTP {status}). Sign in with your token."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_agent_sdk::ChatId;

    fn user(id: &str, kind: &str, name: Option<&str>) -> User {
        let json = serde_json::json!({ "id": id, "type": kind, "name": name });
        User::from_wire(serde_json::from_value(json).expect("a wire user"))
    }

    fn message(author: Option<&str>, text: &str) -> Event {
        let mut json = serde_json::json!({ "id": "e1", "order": 1, "timestamp": 1, "type": "message", "text": text });
        if let Some(a) = author {
            json["author_id"] = a.into();
        }
        Event::from_wire(serde_json::from_value(json).expect("a wire event"), &ChatId::new("c1"), None)
    }

    #[test]
    fn names_never_show_ids() {
        assert_eq!(display_name(&user("u-1", "customer", Some("Ann"))), "Ann");
        assert_eq!(display_name(&user("u-1", "customer", Some("  "))), "Visitor");
        assert_eq!(display_name(&user("u-1", "agent", None)), "Agent");
    }

    #[test]
    fn lines_say_who_and_what() {
        let names = HashMap::from([(UserId::new("v"), "Ann".to_owned())]);
        let me = UserId::new("a");
        let l = line(&message(Some("v"), "Hello"), &names, Some(&me));
        assert_eq!((l.side, l.who.as_str(), l.text.as_str(), l.whisper), (Side::Other, "Ann", "Hello", false));
        assert_eq!(line(&message(Some("a"), "Hi"), &names, Some(&me)).side, Side::Me);
        assert_eq!(line(&message(None, "closed"), &names, Some(&me)).side, Side::System);
        let mut w = message(Some("a"), "psst");
        w.recipients = Some(Recipients::Agents);
        assert!(line(&w, &names, Some(&me)).whisper);
    }

    #[test]
    fn rows_have_short_previews_and_counts() {
        let mut chat = ChatView::new(ChatId::new("c1"));
        chat.users.push(user("v", "customer", Some("Ann")));
        chat.last_event = Some(message(Some("v"), &"x".repeat(200)));
        chat.unread = 2;
        let row = chat_row(&chat, None);
        assert_eq!(row.preview.chars().count(), PREVIEW_CHARS);
        let said = message(Some("v"), "Where is my parcel?");
        assert_eq!(chat_row(&chat, Some(&said)).preview, "Where is my parcel?");
        assert!(!is_said(&message(None, "Chat is unassigned")));
        assert!(row.preview.ends_with('…'));
        assert_eq!((row.title.as_str(), row.unread), ("Ann", 2));
        assert_eq!(unread_words(1), " unread message");
        assert_eq!(unread_words(2), " unread messages");
    }

    #[test]
    fn a_refused_token_is_a_sign_in_error_and_its_sentence_has_no_token() {
        let e = Error::Server { kind: ErrorType::Authentication, message: "invalid token".into(), data: None };
        assert!(is_sign_in_error(&e));
        assert!(error_text(&e).contains("did not accept this token"));
        assert!(!is_sign_in_error(&Error::Server { kind: ErrorType::Validation, message: "x".into(), data: None }));
    }

    #[test]
    fn a_sign_in_link_s_code_is_read_from_the_fragment() {
        assert_eq!(sign_in_code("#code=sgn-abc"), Some("sgn-abc"));
        assert_eq!(sign_in_code("#x=1&code=sgn-abc&y=2"), Some("sgn-abc"));
        assert_eq!(sign_in_code("#code="), None);
        assert_eq!(sign_in_code(""), None);
        assert_eq!(sign_in_code("#access_token=abc"), None, "only a code, never a token, from a link");
        assert!(link_refused_text(400, Some("invalid_grant")).contains("already used"));
        assert!(link_refused_text(429, Some("slow_down")).starts_with("Too many"));
        assert!(link_refused_text(500, None).contains("HTTP 500"));
    }
    #[test]
    fn files_and_pictures_are_links_with_thumbnails_and_only_web_urls() {
        let file = |url: &str, ct: &str| {
            let json = serde_json::json!({ "id": "e2", "order": 2, "timestamp": 1, "type": "file", "author_id": "v",
                "name": "parcel.png", "url": url, "content_type": ct, "size": 2048, "width": 4, "height": 3 });
            Event::from_wire(serde_json::from_value(json).expect("a wire file"), &ChatId::new("c1"), None)
        };
        let a = attachments(&file("http://127.0.0.1:1/files/x.png", "image/png"));
        assert_eq!(a.len(), 1);
        assert_eq!((a[0].name.as_str(), a[0].image, a[0].size.as_deref()), ("parcel.png", true, Some("2 KB")));
        assert_eq!(attachments(&file("javascript:alert(1)", "image/png")), vec![], "never a script link");
        assert_eq!(attachments(&file("data:image/png;base64,AA", "image/png")), vec![]);
        let json = serde_json::json!({ "id": "e3", "order": 3, "timestamp": 1, "type": "rich_message", "author_id": "a",
            "template_id": "cards", "elements": [{ "title": "map.gif", "image": { "url": "https://x.test/map.gif" } }] });
        let card = Event::from_wire(serde_json::from_value(json).expect("a wire card"), &ChatId::new("c1"), None);
        let a = attachments(&card);
        assert_eq!((a.len(), a[0].name.as_str(), a[0].image), (1, "map.gif", true));
        assert_eq!(size_words(512), "512 B");
        assert_eq!(size_words(3 * 1024 * 1024 + 400 * 1024), "3.4 MB");
        assert!(
            picture_refusal("big.png", MAX_PICTURE_BYTES + 1).expect("refused").contains("too big to send: 10.0 MB")
        );
        assert_eq!(picture_refusal("ok.png", MAX_PICTURE_BYTES), None);
        let refused = Error::Server { kind: ErrorType::Validation, message: "not an image".into(), data: None };
        assert!(picture_failed_text("notes.txt", &refused).contains("only PNG, GIF and JPEG"));
    }

    #[test]
    fn a_ban_and_a_transfer_are_asked_in_words() {
        assert_eq!(
            ban_question("Ann", 1),
            "Ban Ann for 1 day? Their chats end now and they cannot start one until then."
        );
        assert_eq!(banned_text("Ann", 7), "Ann is banned for 7 days.");
        assert!(to_queue_question("Ann").starts_with("Put the chat with Ann back in the queue?"));
    }

    #[test]
    fn signing_out_says_when_the_token_stays_valid() {
        assert_eq!(sign_out_note(Some(200), None), None);
        assert!(sign_out_note(Some(400), Some("unsupported_token_type")).expect("a note").contains("configuration"));
        assert!(sign_out_note(Some(500), Some("server_error")).expect("a note").contains("HTTP 500"));
        assert!(sign_out_note(None, None).expect("a note").contains("could not be reached"));
    }

    #[test]
    fn a_visitor_s_details_say_what_agents_see_and_link_only_web_pages() {
        let json = serde_json::json!({ "id": "v", "type": "customer", "name": "Ann", "email": "ann@example.com",
            "fields": { "order": "A-17" }, "banned": false, "monitoring": {
                "current_visit": { "start": 1, "pages": [
                    { "start": 1, "url": "https://shop.test/", "title": "Shop" },
                    { "start": 2, "url": "javascript:alert(1)", "title": "Trap" } ] },
                "stats": { "visits": 3, "page_views": 9 }, "referrer": "https://search.test/", "ip": "192.0.2.7",
                "user_agent": "Firefox" } });
        let d = visitor_details(&User::from_wire(serde_json::from_value(json).expect("a wire user")));
        let facts: Vec<(&str, &str)> = d.facts.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(
            facts,
            [
                ("Name", "Ann"),
                ("E-mail", "ann@example.com"),
                ("order", "A-17"),
                ("Visits", "3"),
                ("Page views", "9"),
                ("Came from", "https://search.test/"),
                ("IP address", "192.0.2.7"),
                ("Browser", "Firefox")
            ]
        );
        assert_eq!(
            d.pages,
            [("Trap".to_owned(), None), ("Shop".to_owned(), Some("https://shop.test/".to_owned()))],
            "newest first; a script URL is no link"
        );
    }
}
