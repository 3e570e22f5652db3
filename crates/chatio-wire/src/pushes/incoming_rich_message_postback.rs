//! `incoming_rich_message_postback`: a user toggled a rich message button (active threads only).

use serde::{Deserialize, Serialize};

use crate::actions::Postback;
use crate::ids::{ChatId, EventId, ThreadId, UserId};

/// `incoming_rich_message_postback` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingRichMessagePostback {
    /// Who sent the postback.
    pub user_id: UserId,
    /// The chat.
    pub chat_id: ChatId,
    /// The thread.
    pub thread_id: ThreadId,
    /// The rich message event.
    pub event_id: EventId,
    /// The postback.
    pub postback: Postback,
}

impl IncomingRichMessagePostback {
    /// A push.
    pub fn new(
        user_id: impl Into<UserId>,
        chat_id: impl Into<ChatId>,
        thread_id: impl Into<ThreadId>,
        event_id: impl Into<EventId>,
        postback: Postback,
    ) -> Self {
        Self {
            user_id: user_id.into(),
            chat_id: chat_id.into(),
            thread_id: thread_id.into(),
            event_id: event_id.into(),
            postback,
        }
    }
}
