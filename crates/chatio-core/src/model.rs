//! The SDK's view of chats, threads, users and events.
//!
//! These mirror the wire objects with two differences: times are [`SystemTime`]s, converted
//! from the wire's seconds once, here; and each object says which chat (and thread) it
//! belongs to, as the JS SDK's objects do. Kind-specific event content stays the wire's
//! [`EventKind`].

use std::collections::BTreeMap;
use std::time::SystemTime;

use chatio_wire as wire;
use chatio_wire::{ChatId, EventId, EventKind, Properties, Scopes, ThreadId, UserId, UserType};

/// A chat participant.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// User id.
    pub id: UserId,
    /// Customer or agent.
    pub kind: UserType,
    /// Display name.
    pub name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Avatar URL (agents).
    pub avatar: Option<String>,
    /// Presence flag.
    pub present: Option<bool>,
    /// Custom fields (customers).
    pub fields: BTreeMap<String, String>,
    /// When the user last saw the chat the object came with.
    pub last_seen: Option<SystemTime>,
    /// A customer's visits, as agents see them (agent view).
    #[cfg(feature = "agent")]
    pub monitoring: Option<Box<wire::CustomerMonitoring>>,
    /// Whether a customer is banned (agent view).
    #[cfg(feature = "agent")]
    pub banned: Option<bool>,
    /// An agent's routing status, while it is logged in (agent view).
    #[cfg(feature = "agent")]
    pub routing_status: Option<wire::RoutingStatus>,
    /// The permission of one's own profile (agent view).
    #[cfg(feature = "agent")]
    pub permission: Option<wire::Permission>,
}

impl User {
    /// Converts a wire user.
    pub fn from_wire(u: wire::User) -> Self {
        Self {
            id: u.id,
            kind: u.kind,
            name: u.name,
            email: u.email,
            avatar: u.avatar,
            present: u.present,
            fields: u.fields.unwrap_or_default(),
            last_seen: u.last_seen_timestamp.map(wire::Timestamp::to_system_time),
            #[cfg(feature = "agent")]
            monitoring: u.monitoring,
            #[cfg(feature = "agent")]
            banned: u.banned,
            #[cfg(feature = "agent")]
            routing_status: u.routing_status,
            #[cfg(feature = "agent")]
            permission: u.permission,
        }
    }

    /// Whether the user is an agent.
    pub fn is_agent(&self) -> bool {
        self.kind == UserType::Agent
    }
}

/// An event in a chat.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// Event id.
    pub id: EventId,
    /// The sender's own id for it.
    pub custom_id: Option<String>,
    /// Sort key within the chat.
    pub order: u64,
    /// The sender (absent on system messages).
    pub author: Option<UserId>,
    /// When it was created.
    pub timestamp: SystemTime,
    /// The chat.
    pub chat: ChatId,
    /// The thread, when known.
    pub thread: Option<ThreadId>,
    /// Event properties.
    pub properties: Option<Properties>,
    /// Who it is for: `agents` marks a whisper customers never see (agent view; absent
    /// means everyone).
    #[cfg(feature = "agent")]
    pub recipients: Option<wire::Recipients>,
    /// The content.
    pub kind: EventKind,
}

impl Event {
    /// Converts a wire event of `chat` / `thread`.
    pub fn from_wire(e: wire::Event, chat: &ChatId, thread: Option<&ThreadId>) -> Self {
        Self {
            id: e.id,
            custom_id: e.custom_id,
            order: e.order,
            author: e.author_id,
            timestamp: e.timestamp.to_system_time(),
            chat: chat.clone(),
            thread: thread.cloned(),
            properties: e.properties,
            #[cfg(feature = "agent")]
            recipients: e.recipients,
            kind: e.kind,
        }
    }

    /// The text of a message (or system message, or annotation), if it has one.
    pub fn text(&self) -> Option<&str> {
        match &self.kind {
            EventKind::Message(m) => Some(&m.text),
            EventKind::SystemMessage(m) => Some(&m.text),
            EventKind::Annotation(a) => a.text.as_deref(),
            _ => None,
        }
    }
}

/// A thread with its events, sorted by `order`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Thread {
    /// Thread id.
    pub id: ThreadId,
    /// The chat.
    pub chat: ChatId,
    /// Whether it is open.
    pub active: bool,
    /// Position among the chat's threads.
    pub order: u64,
    /// Users taking part.
    pub users: Vec<UserId>,
    /// Events, ascending by `order`.
    pub events: Vec<Event>,
    /// Thread properties (empty if none).
    pub properties: Properties,
    /// When it was created (agent view).
    #[cfg(feature = "agent")]
    pub created: Option<SystemTime>,
}

impl Thread {
    /// Converts a wire thread of `chat`, sorting its events.
    pub fn from_wire(t: wire::Thread, chat: &ChatId) -> Self {
        let id = t.id;
        let mut events: Vec<Event> = t.events.into_iter().map(|e| Event::from_wire(e, chat, Some(&id))).collect();
        crate::order::sort_by_u64(&mut events, |e| e.order);
        Self {
            chat: chat.clone(),
            active: t.active,
            order: t.order,
            users: t.user_ids,
            events,
            properties: t.properties.unwrap_or_default(),
            #[cfg(feature = "agent")]
            created: t.timestamp.map(wire::Timestamp::to_system_time),
            id,
        }
    }
}

/// A chat: `start_chat`'s result.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Chat {
    /// Chat id.
    pub id: ChatId,
    /// Participants.
    pub users: Vec<User>,
    /// Chat properties (empty if none).
    pub properties: Properties,
    /// Scopes.
    pub scopes: Scopes,
    /// The threads that came with it (the first thread for a new chat).
    pub threads: Vec<Thread>,
}

impl Chat {
    /// Converts a wire chat.
    pub fn from_wire(c: wire::Chat) -> Self {
        let id = c.id;
        let mut threads: Vec<Thread> =
            c.thread.into_iter().chain(c.threads.unwrap_or_default()).map(|t| Thread::from_wire(t, &id)).collect();
        crate::order::sort_by_u64(&mut threads, |t| t.order);
        Self {
            users: c.users.into_iter().map(User::from_wire).collect(),
            properties: c.properties.unwrap_or_default(),
            scopes: c.scopes.unwrap_or_default(),
            threads,
            id,
        }
    }
}

/// An item of the chats summary (`get_chats_summary`, `Connected`, `ConnectionRestored`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatSummary {
    /// Chat id.
    pub id: ChatId,
    /// The server's ordering key.
    pub order: u64,
    /// Participants.
    pub users: Vec<User>,
    /// Chat properties (empty if none).
    pub properties: Properties,
    /// Scopes.
    pub scopes: Scopes,
    /// User id → when that user last saw the chat.
    pub last_seen: BTreeMap<UserId, Option<SystemTime>>,
    /// Event type → the latest event of that type.
    pub last_events_per_type: BTreeMap<String, Event>,
    /// The latest event of all: highest thread order, then event order.
    pub last_event: Option<Event>,
}

impl ChatSummary {
    /// Converts a wire chat summary.
    pub fn from_wire(s: wire::ChatSummary) -> Self {
        let id = s.id;
        let mut last: Option<(u64, u64, Event)> = None;
        let mut per_type = BTreeMap::new();
        for (ty, le) in s.last_event_per_type.unwrap_or_default() {
            let key = (le.thread_order.unwrap_or(0), le.event.order);
            let ev = Event::from_wire(le.event, &id, Some(&le.thread_id));
            if last.as_ref().is_none_or(|(t, o, _)| key > (*t, *o)) {
                last = Some((key.0, key.1, ev.clone()));
            }
            per_type.insert(ty, ev);
        }
        let users: Vec<User> = s.users.into_iter().map(User::from_wire).collect();
        Self {
            last_seen: users.iter().map(|u| (u.id.clone(), u.last_seen)).collect(),
            users,
            properties: s.properties.unwrap_or_default(),
            scopes: s.scopes.unwrap_or_default(),
            last_events_per_type: per_type,
            last_event: last.map(|(_, _, e)| e),
            order: s.order,
            id,
        }
    }
}

/// A thread summary: `get_chat_threads_summary` items and `ThreadSummary` events.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadSummary {
    /// Thread id.
    pub id: ThreadId,
    /// The chat.
    pub chat: ChatId,
    /// Thread order.
    pub order: u64,
    /// Number of events, when the server says (`total_events`, or `events_count`).
    pub total_events: Option<u64>,
}

impl ThreadSummary {
    /// Converts a wire thread summary.
    pub fn from_wire(s: wire::ThreadSummary, chat: &ChatId) -> Self {
        Self { id: s.id, chat: chat.clone(), order: s.order, total_events: s.total_events }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn ev(id: &str, order: u64) -> wire::Event {
        wire::Event::new(
            id,
            order,
            wire::Timestamp::from_secs(1_500_000_000 + order),
            EventKind::Message(wire::Message::new(id)),
        )
    }

    #[test]
    fn times_are_converted_once_and_events_sorted() {
        let mut t = wire::Thread::new("T1", true, 4);
        t.events = vec![ev("b", 2), ev("a", 1)];
        let th = Thread::from_wire(t, &ChatId::new("C"));
        assert_eq!(th.events.iter().map(|e| e.order).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(th.events[0].timestamp, UNIX_EPOCH + Duration::from_secs(1_500_000_001));
        assert_eq!(th.events[0].thread, Some(ThreadId::new("T1")));
        assert_eq!(th.events[0].chat, ChatId::new("C"));
        assert!(th.properties.is_empty());
    }

    #[test]
    fn the_last_event_is_in_the_newest_thread_then_the_highest_order() {
        let mut s = wire::ChatSummary::new("C", 1);
        s.last_event_per_type = Some(
            [
                ("message".to_owned(), wire::LastEvent::new("T2", 2, ev("m", 5))),
                ("annotation".to_owned(), wire::LastEvent::new("T1", 1, ev("n", 9))),
            ]
            .into(),
        );
        let mut u = wire::User::customer("me");
        u.last_seen_timestamp = Some(wire::Timestamp::from_secs(10));
        s.users = vec![u];
        let c = ChatSummary::from_wire(s);
        assert_eq!(c.last_event.map(|e| e.id), Some(EventId::new("m")));
        assert_eq!(c.last_seen.get(&UserId::new("me")), Some(&Some(UNIX_EPOCH + Duration::from_secs(10))));
        assert_eq!(c.last_events_per_type.len(), 2);
    }

    #[test]
    fn a_chat_gathers_its_thread_and_threads() {
        let mut c = wire::Chat::new("C");
        c.thread = Some(wire::Thread::new("T3", true, 3));
        c.threads = Some(vec![wire::Thread::new("T1", false, 1)]);
        let chat = Chat::from_wire(c);
        assert_eq!(chat.threads.iter().map(|t| t.order).collect::<Vec<_>>(), vec![1, 3]);
        let s = ThreadSummary::from_wire(wire::ThreadSummary::new("T1", 1, 7), &chat.id);
        assert_eq!((s.total_events, s.chat), (Some(7), ChatId::new("C")));
    }
}
