//! Chats, their threads, and the threads' events.
//!
//! A chat's record holds what a request reads or writes on every call (its customer, agents,
//! properties, scopes, orders, last-seen times); its threads and their events are records of
//! their own, read one thread (or one event) at a time, so that no operation loads a
//! chat's whole history.

use std::collections::{BTreeMap, BTreeSet};

use chatio_wire as wire;
use chatio_wire::{ChatId, Event, EventId, Properties, ThreadId, Timestamp, UserId};

use serde::{Deserialize, Serialize};

use super::Result;

/// A chat, without its threads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChatRec {
    pub(crate) id: ChatId,
    /// The customer who started it.
    pub(crate) customer: UserId,
    /// Agents currently in the chat, in joining order.
    pub(crate) agents: Vec<UserId>,
    pub(crate) properties: Properties,
    pub(crate) scopes: BTreeSet<u64>,
    /// Order of the next event, across threads (G2).
    pub(crate) next_event_order: u64,
    /// Unix seconds of the last activity (the summary `order`, G2).
    pub(crate) last_activity: u64,
    /// Position of the last activity among all chats (newer is larger): pages of
    /// `get_chats_summary` are sorted by it, since seconds tie.
    pub(crate) activity_seq: u64,
    /// Last-seen time per user (G19).
    pub(crate) last_seen: BTreeMap<UserId, Timestamp>,
    /// What the chat holds, counted against its quotas (G38).
    #[serde(default)]
    pub(crate) held: Held,
}

/// What a chat holds, counted against its quotas (`crate::config::Quotas`): its events,
/// their bytes (each event's JSON) and its uploaded files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub(crate) events: u64,
    pub(crate) bytes: u64,
    pub(crate) files: u64,
}

impl ChatRec {
    /// Records activity at `now` (Unix seconds), `seq` from the store's activity sequence.
    pub(crate) fn touch(&mut self, now: u64, seq: u64) {
        self.last_activity = now;
        self.activity_seq = seq;
    }

    /// The chat's scopes as the wire has them (empty: every group).
    pub(crate) fn scopes_wire(&self) -> wire::Scopes {
        if self.scopes.is_empty() { wire::Scopes::all() } else { wire::Scopes::groups(self.scopes.iter().copied()) }
    }
}

/// A thread, without its events.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ThreadRec {
    pub(crate) id: ThreadId,
    pub(crate) active: bool,
    /// Position among the chat's threads (1, 2, ...).
    pub(crate) order: u64,
    pub(crate) user_ids: Vec<UserId>,
    pub(crate) properties: Properties,
    /// Last event or creation, Unix seconds (for archiving).
    pub(crate) last_activity: u64,
    /// How many events the thread has.
    pub(crate) events: u64,
}

impl ThreadRec {
    /// Adds a user to the thread's users (once).
    pub(crate) fn add_user(&mut self, id: &UserId) {
        if !self.user_ids.contains(id) {
            self.user_ids.push(id.clone());
        }
    }
}

/// The newest event of one type in a chat (a `get_chats_summary` item's
/// `last_event_per_type`).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct LastEvent {
    pub(crate) thread: ThreadId,
    pub(crate) thread_order: u64,
    pub(crate) event: Event,
}

/// Chats by license and id, their threads and events.
pub(crate) trait ChatStore {
    /// The chat, if it exists.
    fn chat(&mut self, license: u64, id: &ChatId) -> Result<Option<ChatRec>>;

    /// Creates or replaces a chat. A new chat joins the end of its customer's chats.
    fn put_chat(&mut self, license: u64, chat: ChatRec) -> Result<()>;

    /// The ids of a customer's chats, in creation order.
    fn chats_of(&mut self, license: u64, customer: &UserId) -> Result<Vec<ChatId>>;

    /// How many chats a customer has.
    fn chat_count(&mut self, license: u64, customer: &UserId) -> Result<usize>;

    /// A page of a customer's chats, most recently active first (by `activity_seq`),
    /// skipping `offset`, at most `limit`; and how many the customer has.
    fn recent_chats(
        &mut self,
        license: u64,
        customer: &UserId,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<ChatRec>, usize)>;

    /// A page of a license's chats (every customer's, and those agents started), most
    /// recently active first, skipping `offset`, at most `limit` (the Agent API's lists).
    fn license_chats(&mut self, license: u64, offset: usize, limit: usize) -> Result<Vec<ChatRec>>;

    /// How many of a license's chats whose last thread is active have `agent` among their
    /// agents (its load, for routing).
    fn agent_load(&mut self, license: u64, agent: &UserId) -> Result<usize>;

    /// Up to `limit` chats whose last thread is active and idle since `idle_since` or
    /// earlier (Unix seconds), the longest idle first, as `(license, chat)`.
    fn idle_chats(&mut self, idle_since: u64, limit: usize) -> Result<Vec<(u64, ChatId)>>;

    /// A chat's threads, by order.
    fn threads(&mut self, license: u64, chat: &ChatId) -> Result<Vec<ThreadRec>>;

    /// One thread of a chat.
    fn thread(&mut self, license: u64, chat: &ChatId, id: &ThreadId) -> Result<Option<ThreadRec>>;

    /// A chat's last thread (the active one when there is one).
    fn last_thread(&mut self, license: u64, chat: &ChatId) -> Result<Option<ThreadRec>>;

    /// Creates or replaces a thread of a chat. A new thread's order is above every other's.
    fn put_thread(&mut self, license: u64, chat: &ChatId, thread: ThreadRec) -> Result<()>;

    /// Appends an event to a thread (its order is above every other event's of the chat).
    /// The thread's record (its count) is the caller's to update.
    fn add_event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, event: &Event) -> Result<()>;

    /// Replaces a stored event (same id).
    fn put_event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, event: Event) -> Result<()>;

    /// One event of a thread.
    fn event(&mut self, license: u64, chat: &ChatId, thread: &ThreadId, id: &EventId) -> Result<Option<Event>>;

    /// A thread's events, by order.
    fn events(&mut self, license: u64, chat: &ChatId, thread: &ThreadId) -> Result<Vec<Event>>;

    /// The newest event of each type in a chat, agents-only events left out.
    fn last_events(&mut self, license: u64, chat: &ChatId) -> Result<Vec<LastEvent>>;

    /// Retention: up to `limit` closed threads whose last activity is before `before` (Unix
    /// seconds), never a chat's last thread (so that thread orders go on and the chat keeps
    /// its latest conversation).
    fn old_threads(&mut self, before: u64, limit: usize) -> Result<Vec<(u64, ChatId, ThreadId)>>;

    /// Deletes a thread and its events (the chat's record, its counts, is the caller's to
    /// update).
    fn delete_thread(&mut self, license: u64, chat: &ChatId, thread: &ThreadId) -> Result<()>;
}
