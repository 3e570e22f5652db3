//! Threads: the parts a chat is split into (protocol file, 3.2).

use serde::{Deserialize, Serialize};

use crate::ids::{ThreadId, UserId};
use crate::objects::event::Event;
use crate::objects::properties::Properties;
use crate::time::Timestamp;

/// A thread with its events.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Thread {
    /// Thread id.
    pub id: ThreadId,
    /// Whether the thread is open; only a chat's last thread can be.
    pub active: bool,
    /// Position among the chat's threads (ascending = older first).
    pub order: u64,
    /// Users taking part in the thread.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub user_ids: Vec<UserId>,
    /// The thread's events. Not guaranteed sorted on input: sort by `order`.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub events: Vec<Event>,
    /// Thread properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Properties>,
    /// Creation time (agent-side documents only; D18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

impl Thread {
    /// A thread without users, events or properties.
    pub fn new(id: impl Into<ThreadId>, active: bool, order: u64) -> Self {
        Self {
            id: id.into(),
            active,
            order,
            user_ids: Vec::new(),
            events: Vec::new(),
            properties: None,
            timestamp: None,
        }
    }

    /// Sorts the events by `order`.
    pub fn sort_events(&mut self) {
        self.events.sort_by_key(|e| e.order);
    }
}

/// An item of `get_chat_threads_summary` (protocol file, 3.10).
#[derive(Clone, PartialEq, Eq, Debug, Deserialize)]
#[serde(from = "ThreadSummaryRepr")]
#[non_exhaustive]
pub struct ThreadSummary {
    /// Thread id.
    pub id: ThreadId,
    /// Thread order.
    pub order: u64,
    /// Number of events in the thread. Read from `total_events`, else from the JS SDK's
    /// `events_count` (D2; a summary carrying both is read too); `None` when neither is
    /// present. Written as both `total_events` and `events_count` (D2: the JS SDK 0.9.1
    /// reads only `events_count`), or neither when `None`.
    pub total_events: Option<u64>,
}

impl Serialize for ThreadSummary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = serializer.serialize_map(Some(if self.total_events.is_some() { 4 } else { 2 }))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("order", &self.order)?;
        if let Some(n) = self.total_events {
            m.serialize_entry("total_events", &n)?;
            m.serialize_entry("events_count", &n)?;
        }
        m.end()
    }
}

#[derive(Deserialize)]
struct ThreadSummaryRepr {
    id: ThreadId,
    order: u64,
    #[serde(default)]
    total_events: Option<u64>,
    #[serde(default)]
    events_count: Option<u64>,
}

impl From<ThreadSummaryRepr> for ThreadSummary {
    fn from(r: ThreadSummaryRepr) -> Self {
        Self { id: r.id, order: r.order, total_events: r.total_events.or(r.events_count) }
    }
}

impl ThreadSummary {
    /// A summary.
    pub fn new(id: impl Into<ThreadId>, order: u64, total_events: u64) -> Self {
        Self { id: id.into(), order, total_events: Some(total_events) }
    }
}
