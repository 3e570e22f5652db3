//! `send_sneak_peek` (RTM, Web API): the draft the customer is typing (protocol file, 4.9).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;

/// `send_sneak_peek` payload. The response has no payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendSneakPeek {
    /// The chat.
    pub chat_id: ChatId,
    /// Current draft.
    pub sneak_peek_text: String,
}

impl SendSneakPeek {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, sneak_peek_text: impl Into<String>) -> Self {
        Self { chat_id: chat_id.into(), sneak_peek_text: sneak_peek_text.into() }
    }
}
