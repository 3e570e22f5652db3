//! `send_rich_message_postback` (RTM, Web API): toggles a rich message button (protocol file, 4.8).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, EventId, ThreadId};

/// `send_rich_message_postback` payload. The response has no payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendRichMessagePostback {
    /// The chat.
    pub chat_id: ChatId,
    /// The thread holding the rich message.
    pub thread_id: ThreadId,
    /// The `rich_message` event.
    pub event_id: EventId,
    /// Which button and whether it is on.
    pub postback: Postback,
}

impl SendRichMessagePostback {
    /// A request.
    pub fn new(
        chat_id: impl Into<ChatId>,
        thread_id: impl Into<ThreadId>,
        event_id: impl Into<EventId>,
        postback: Postback,
    ) -> Self {
        Self { chat_id: chat_id.into(), thread_id: thread_id.into(), event_id: event_id.into(), postback }
    }
}

/// A postback: a button's `postback_id` and its new state.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Postback {
    /// A button's `postback_id`.
    pub id: String,
    /// `true` adds the user to every button of the event with this id; `false` removes it.
    pub toggled: bool,
}

impl Postback {
    /// A postback.
    pub fn new(id: impl Into<String>, toggled: bool) -> Self {
        Self { id: id.into(), toggled }
    }
}
