//! Chat summaries of `login` and `get_filtered_chats` (agent protocol file, 4.10).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId, UserId};
use crate::objects::chat::LastEvent;
use crate::objects::event::Event;
use crate::objects::properties::Properties;
use crate::objects::scopes::Scopes;
use crate::objects::user::User;
use crate::time::Timestamp;

/// A chat as `login` and `get_filtered_chats` list it: no `order` (unlike the customer
/// side's summary), the last thread without its events.
///
/// The v0.2–v0.3 shape, where `last_thread_summary` held an array `last_event_per_type` of
/// that thread's events, is read into the chat-wide map (A8); the map is written.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(from = "ChatSummaryRepr")]
#[non_exhaustive]
pub struct ChatSummary {
    /// The chat.
    pub id: ChatId,
    /// Its users.
    pub users: Vec<User>,
    /// Event type → the latest event of that type in the whole chat, whispers included.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_event_per_type: Option<BTreeMap<String, LastEvent>>,
    /// The chat's last thread, without events.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_thread_summary: Option<LastThreadSummary>,
    /// Chat properties.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    /// Chat scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Scopes>,
}

impl ChatSummary {
    /// A summary with only the chat's id.
    pub fn new(id: impl Into<ChatId>) -> Self {
        Self {
            id: id.into(),
            users: Vec::new(),
            last_event_per_type: None,
            last_thread_summary: None,
            properties: None,
            scopes: None,
        }
    }

    /// The most recent entry of `last_event_per_type`: highest thread order, then event order.
    pub fn last_event(&self) -> Option<&LastEvent> {
        self.last_event_per_type.as_ref()?.values().max_by_key(|e| (e.thread_order.unwrap_or(0), e.event.order))
    }

    /// Whether the last thread is active; `None` when the server did not say (`active` is a
    /// project extension, H23).
    pub fn is_active(&self) -> Option<bool> {
        self.last_thread_summary.as_ref()?.active
    }
}

/// The last thread of a chat summary.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastThreadSummary {
    /// The thread.
    pub id: ThreadId,
    /// When it was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Its users.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub user_ids: Vec<UserId>,
    /// Its order among the chat's threads.
    pub order: u64,
    /// Thread properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    /// Whether it is the chat's active thread (a project extension, H23: clients treat it as
    /// optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

impl LastThreadSummary {
    /// A summary of this thread.
    pub fn new(id: impl Into<ThreadId>, order: u64) -> Self {
        Self { id: id.into(), timestamp: None, user_ids: Vec::new(), order, properties: None, active: None }
    }
}

#[derive(Deserialize)]
struct ChatSummaryRepr {
    id: ChatId,
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    users: Vec<User>,
    #[serde(default, deserialize_with = "crate::objects::chat::last_event_per_type")]
    last_event_per_type: Option<BTreeMap<String, LastEvent>>,
    #[serde(default)]
    last_thread_summary: Option<LastThreadRepr>,
    #[serde(default)]
    properties: Option<Properties>,
    #[serde(default)]
    scopes: Option<Scopes>,
}

/// A last thread summary, with the v0.2–v0.3 per-thread `last_event_per_type` array (A8).
#[derive(Deserialize)]
struct LastThreadRepr {
    #[serde(flatten)]
    summary: LastThreadSummary,
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    last_event_per_type: Vec<Event>,
}

impl From<ChatSummaryRepr> for ChatSummary {
    fn from(r: ChatSummaryRepr) -> Self {
        let mut last_event_per_type = r.last_event_per_type;
        let last_thread_summary = r.last_thread_summary.map(|t| {
            if !t.last_event_per_type.is_empty() {
                let map = last_event_per_type.get_or_insert_with(BTreeMap::new);
                for event in t.last_event_per_type {
                    // The chat-wide map wins over the older per-thread list.
                    map.entry(event.event_type().to_owned()).or_insert_with(|| LastEvent {
                        thread_id: t.summary.id.clone(),
                        thread_order: Some(t.summary.order),
                        event,
                    });
                }
            }
            t.summary
        });
        Self {
            id: r.id,
            users: r.users,
            last_event_per_type,
            last_thread_summary,
            properties: r.properties,
            scopes: r.scopes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v03_thread_events_become_the_chat_map() {
        let s: ChatSummary = serde_json::from_str(
            r#"{"id":"C","users":[],"last_thread_summary":{"id":"T","order":7,"user_ids":["a"],
                "last_event_per_type":[{"id":"T_1","order":1,"type":"message","timestamp":1,"text":"hi"}]}}"#,
        )
        .unwrap();
        let e = s.last_event().unwrap();
        assert_eq!((e.thread_id.as_str(), e.thread_order, e.event.order), ("T", Some(7), 1));
        let out = serde_json::to_value(&s).unwrap();
        assert_eq!(out["last_event_per_type"]["message"]["thread_order"], 7);
        assert!(out["last_thread_summary"].get("last_event_per_type").is_none());
    }
}
