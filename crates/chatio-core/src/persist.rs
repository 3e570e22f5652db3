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

use chatio_wire::{ChatId, GetChatsSummaryResponse, NewEvent, Token};

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
}

impl StoredState {
    /// A state with these outbox entries.
    pub fn with_outbox(outbox: Vec<StoredEvent>) -> Self {
        Self { outbox, refresh_token: None, chats_summary: None }
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
