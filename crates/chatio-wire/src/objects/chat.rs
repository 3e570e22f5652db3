//! Chats (protocol file, 3.1) and chat summaries (3.9).

use std::collections::BTreeMap;

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};
#[cfg(feature = "agent")]
use crate::objects::agent_view::ThreadRef;
use crate::objects::event::Event;
use crate::objects::event_serde::Key;
use crate::objects::properties::Properties;
use crate::objects::scopes::Scopes;
use crate::objects::thread::Thread;
use crate::objects::user::User;

/// A chat. One type for every shape of the protocol (D8): `start_chat` and
/// `incoming_chat_thread` carry `thread`, `get_chat_threads` carries `threads`.
///
/// With the `agent` feature it also holds the agent side's `threads_summary` of
/// `get_chat_threads`, and reads that answer's misspelt `properites` as `properties` (A14).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", serde(from = "agent_repr::ChatRepr"))]
#[non_exhaustive]
pub struct Chat {
    /// Chat id.
    pub id: ChatId,
    /// Participants: the customer and the agents.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub users: Vec<User>,
    /// Chat properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    /// Chat scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Scopes>,
    /// The thread just created (`start_chat`, `incoming_chat_thread`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<Thread>,
    /// The requested threads (`get_chat_threads`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<Vec<Thread>>,
    /// Every thread of the chat by order (agent-side `get_chat_threads`, H24).
    #[cfg(feature = "agent")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads_summary: Option<Vec<ThreadRef>>,
}

impl Chat {
    /// A chat with only its id.
    pub fn new(id: impl Into<ChatId>) -> Self {
        Self {
            id: id.into(),
            users: Vec::new(),
            properties: None,
            scopes: None,
            thread: None,
            threads: None,
            #[cfg(feature = "agent")]
            threads_summary: None,
        }
    }

    /// The user with this id, if in the chat.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
}

#[cfg(feature = "agent")]
mod agent_repr {
    use serde::Deserialize;

    use super::Chat;
    use crate::ids::ChatId;
    use crate::objects::agent_view::ThreadRef;
    use crate::objects::properties::Properties;
    use crate::objects::scopes::Scopes;
    use crate::objects::thread::Thread;
    use crate::objects::user::User;

    /// A chat as read with the `agent` feature: `properites` (A14) is read when
    /// `properties` is absent.
    #[derive(Deserialize)]
    pub(super) struct ChatRepr {
        id: ChatId,
        #[serde(default, deserialize_with = "crate::objects::null_as_default")]
        users: Vec<User>,
        #[serde(default)]
        properties: Option<Properties>,
        #[serde(default)]
        properites: Option<Properties>,
        #[serde(default)]
        scopes: Option<Scopes>,
        #[serde(default)]
        thread: Option<Thread>,
        #[serde(default)]
        threads: Option<Vec<Thread>>,
        #[serde(default)]
        threads_summary: Option<Vec<ThreadRef>>,
    }

    impl From<ChatRepr> for Chat {
        fn from(r: ChatRepr) -> Self {
            Chat {
                id: r.id,
                users: r.users,
                properties: r.properties.or(r.properites),
                scopes: r.scopes,
                thread: r.thread,
                threads: r.threads,
                threads_summary: r.threads_summary,
            }
        }
    }
}

/// The latest event of one type in a chat (`last_event_per_type` values).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastEvent {
    /// Thread holding the event.
    pub thread_id: ThreadId,
    /// That thread's order; unknown when read from the v0.3 shape (D24).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_order: Option<u64>,
    /// The event.
    pub event: Event,
}

impl LastEvent {
    /// An entry.
    pub fn new(thread_id: impl Into<ThreadId>, thread_order: u64, event: Event) -> Self {
        Self { thread_id: thread_id.into(), thread_order: Some(thread_order), event }
    }
}

/// An item of `get_chats_summary`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatSummary {
    /// Chat id.
    pub id: ChatId,
    /// Ordering key (the reference server uses the Unix seconds of the last activity).
    pub order: u64,
    /// Participants.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub users: Vec<User>,
    /// Chat properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    /// Chat scopes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Scopes>,
    /// Event type → the latest event of that type in the whole chat. Both the v0.4+ shape
    /// and the v0.3 shape `{thread_id, events: {type: Event}}` are read (D24); the v0.4+ shape
    /// is written.
    #[serde(default, deserialize_with = "last_event_per_type", skip_serializing_if = "Option::is_none")]
    pub last_event_per_type: Option<BTreeMap<String, LastEvent>>,
}

impl ChatSummary {
    /// A summary with only id and order.
    pub fn new(id: impl Into<ChatId>, order: u64) -> Self {
        Self { id: id.into(), order, users: Vec::new(), properties: None, scopes: None, last_event_per_type: None }
    }

    /// The most recent entry of `last_event_per_type`: highest thread order, then event order.
    pub fn last_event(&self) -> Option<&LastEvent> {
        self.last_event_per_type.as_ref()?.values().max_by_key(|e| (e.thread_order.unwrap_or(0), e.event.order))
    }
}

pub(crate) fn last_event_per_type<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, LastEvent>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<BTreeMap<String, LastEvent>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of event types to last events")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            // v0.3 shape: {"thread_id": "...", "events": {type: Event}}
            let mut v03_thread: Option<ThreadId> = None;
            let mut v03_events: Option<BTreeMap<String, Option<Event>>> = None;
            while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                match &*key {
                    "thread_id" => v03_thread = map.next_value()?,
                    "events" => v03_events = map.next_value()?,
                    _ => {
                        // `null` reads as absent (protocol file, section 0).
                        if let Some(v) = map.next_value::<Option<LastEvent>>()? {
                            out.insert(key.into_owned(), v);
                        }
                    }
                }
            }
            if let Some(events) = v03_events {
                let thread_id = v03_thread.ok_or_else(|| de::Error::missing_field("thread_id"))?;
                for (ty, event) in events.into_iter().filter_map(|(ty, e)| Some((ty, e?))) {
                    out.insert(ty, LastEvent { thread_id: thread_id.clone(), thread_order: None, event });
                }
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(V)
}
