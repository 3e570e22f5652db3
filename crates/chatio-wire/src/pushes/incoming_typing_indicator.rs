//! `incoming_typing_indicator`: an agent started or stopped typing.

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::typing::TypingIndicator;

/// `incoming_typing_indicator` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingTypingIndicator {
    /// The chat.
    pub chat_id: ChatId,
    /// Who and whether.
    pub typing_indicator: TypingIndicator,
}

impl IncomingTypingIndicator {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, typing_indicator: TypingIndicator) -> Self {
        Self { chat_id: chat_id.into(), typing_indicator }
    }
}
