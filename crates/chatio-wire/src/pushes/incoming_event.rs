//! `incoming_event`: an event was added to an existing thread.

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};
use crate::objects::event::Event;

/// `incoming_event` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingEvent {
    /// The chat.
    pub chat_id: ChatId,
    /// The thread; absent in the agent-side shape (D17), always written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
    /// The event.
    pub event: Event,
}

impl IncomingEvent {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, thread_id: impl Into<ThreadId>, event: Event) -> Self {
        Self { chat_id: chat_id.into(), thread_id: Some(thread_id.into()), event }
    }
}
