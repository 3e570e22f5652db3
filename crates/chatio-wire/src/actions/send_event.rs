//! `send_event` (RTM, Web API): adds an event to a chat (protocol file, 4.6).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};
use crate::objects::event::{Event, NewEvent};

/// `send_event` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendEvent {
    /// Target chat.
    pub chat_id: ChatId,
    /// The event (client fields only).
    pub event: NewEvent,
}

impl SendEvent {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, event: NewEvent) -> Self {
        Self { chat_id: chat_id.into(), event }
    }
}

/// `send_event` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendEventResponse {
    /// The thread the event went to.
    pub thread_id: ThreadId,
    /// The complete event (id, order, author, time filled in).
    pub event: Event,
}

impl SendEventResponse {
    /// A response.
    pub fn new(thread_id: impl Into<ThreadId>, event: Event) -> Self {
        Self { thread_id: thread_id.into(), event }
    }
}
