//! What the session asks to keep across restarts, and what it is given back at start.
//!
//! The session does no I/O: once a store is attached
//! ([`Session::restore`](crate::Session::restore)), every change to what must survive a
//! restart is queued as a [`StoreChange`], drained by the driver with
//! [`Session::poll_change`](crate::Session::poll_change) **before** the frames of the same
//! step (so an event is in the store before it is on the wire), and written to a store. At
//! the next start the driver reads the store back and hands it to `restore`.
//!
//! Outbox entries: an event accepted by `send_event` is added; it is removed when its outcome
//! is known — the server stored it (or a check after a reconnect found it), the server
//! refused it, the caller cancelled it. An entry whose call ended because the session ended
//! (`disconnect`, `destroy`, a final disconnect) or whose process died is **kept**: the next
//! session on the same store restores it as *unconfirmed* and checks by `custom_id` whether
//! it arrived before sending it (the outbox's usual check after a reconnect), so it is
//! delivered exactly once.
//!
//! The history cache: the latest events the session saw in each chat (the server's answers
//! to `send_event`, pushed events, pages of history) are logged as [`StoreChange::CachedEvent`]
//! so the next start can show each chat's latest events before it is connected. The session
//! bounds it ([`Config::cached_events`](crate::Config::cached_events) events per chat,
//! [`Config::cached_chats`](crate::Config::cached_chats) chats): a chat whose cache reaches
//! twice its bound is trimmed to the bound ([`StoreChange::CacheTrimmed`]), and past the
//! chat bound the chat updated longest ago is evicted whole ([`StoreChange::CacheEvicted`]).

use chatio_wire::{ChatId, Event, GetChatsSummaryResponse, NewEvent, ThreadId, Token};

/// An outbox event as stored: its chat and the event (its `custom_id` is always set and is
/// its key).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct StoredEvent {
    /// The chat it goes to.
    pub chat: ChatId,
    /// The event, with its `custom_id`.
    pub event: NewEvent,
}

impl StoredEvent {
    /// An entry for `event` in `chat`.
    pub fn new(chat: ChatId, event: NewEvent) -> Self {
        Self { chat, event }
    }

    /// Its key: the event's `custom_id` (empty if it has none, which the session never
    /// stores).
    pub fn key(&self) -> &str {
        self.event.custom_id.as_deref().unwrap_or_default()
    }
}

/// One change to write to the store, in the order given.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StoreChange {
    /// An event entered the outbox (appended after every entry kept so far).
    OutboxAdded(StoredEvent),
    /// The outbox entry with this `custom_id` is done.
    OutboxRemoved {
        /// Its `custom_id`.
        custom_id: String,
    },
    /// The customer's latest refresh token (the identity: it resumes the customer at the next
    /// start; a secret, never shown by `Debug`). Replaces the one kept.
    RefreshToken(Token),
    /// Wipe everything (the application's `forget`: the next start is a new customer).
    Forget,
    /// The customer's chats as the server last listed them at login (the first page, as it
    /// came: its size is the server's page), for the first screen of the next start.
    /// Replaces the one kept.
    ChatsSummary(GetChatsSummaryResponse),
    /// An event of a chat as the server gave it, for the chat's cached history: added to the
    /// chat's cached events, or — when one with the same id is kept — replacing it (the
    /// server's latest copy wins).
    CachedEvent(CachedEvent),
    /// Keep only the chat's `keep` latest cached events (highest `order`: the chat's sort key).
    CacheTrimmed {
        /// The chat.
        chat: ChatId,
        /// How many of its latest cached events stay.
        keep: u32,
    },
    /// Drop the chat's cached events (evicted: the cache holds too many chats).
    CacheEvicted {
        /// The chat.
        chat: ChatId,
    },
}

/// An event of the history cache: its chat, its thread when known, the event as the server
/// sent it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CachedEvent {
    /// The chat.
    pub chat: ChatId,
    /// Its thread, when the server said.
    pub thread: Option<ThreadId>,
    /// The event (its `id` is its key within the chat).
    pub event: Event,
}

impl CachedEvent {
    /// An entry for `event` of `chat` (in `thread`).
    pub fn new(chat: ChatId, thread: Option<ThreadId>, event: Event) -> Self {
        Self { chat, thread, event }
    }
}

/// A chat's cached history as a store gives it back: its events in the chat's order (the
/// events' `order`, lowest first).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CachedChat {
    /// The chat.
    pub chat: ChatId,
    /// Its cached events, lowest `order` first.
    pub events: Vec<CachedEvent>,
}

impl CachedChat {
    /// A chat's cache.
    pub fn new(chat: ChatId, events: Vec<CachedEvent>) -> Self {
        Self { chat, events }
    }
}

/// What a store gives back at start.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct StoredState {
    /// The outbox entries kept, oldest first.
    pub outbox: Vec<StoredEvent>,
    /// The customer's refresh token kept, if any (the transport resumes the customer with it
    /// unless the application named one).
    pub refresh_token: Option<Token>,
    /// The chats summary kept from the last login, if any: emitted as
    /// [`SdkEvent::CachedChats`](crate::SdkEvent::CachedChats) before the connection is up.
    pub chats_summary: Option<GetChatsSummaryResponse>,
    /// The history cache: each chat's cached events, the chat updated longest ago first
    /// (emitted as [`SdkEvent::CachedHistory`](crate::SdkEvent::CachedHistory) before the
    /// connection is up).
    pub history: Vec<CachedChat>,
}

impl StoredState {
    /// A state with these outbox entries.
    pub fn with_outbox(outbox: Vec<StoredEvent>) -> Self {
        Self { outbox, refresh_token: None, chats_summary: None, history: Vec::new() }
    }

    /// This state with a history cache.
    pub fn with_history(mut self, history: Vec<CachedChat>) -> Self {
        self.history = history;
        self
    }

    /// This state with a chats summary.
    pub fn with_chats_summary(mut self, summary: Option<GetChatsSummaryResponse>) -> Self {
        self.chats_summary = summary;
        self
    }

    /// This state with a refresh token.
    pub fn with_refresh_token(mut self, token: Option<Token>) -> Self {
        self.refresh_token = token;
        self
    }
}
