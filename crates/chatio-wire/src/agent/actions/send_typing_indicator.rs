//! `send_typing_indicator` (RTM, Web API): whether the agent is typing (agent protocol file,
//! 5.11).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::event::Recipients;

/// `send_typing_indicator` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendTypingIndicator {
    /// The chat.
    pub chat_id: ChatId,
    /// `all` (the default) or `agents`: the customer is not told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Recipients>,
    /// Started (`true`) or stopped typing.
    pub is_typing: bool,
}

impl SendTypingIndicator {
    /// A request to everyone in the chat.
    pub fn new(chat_id: impl Into<ChatId>, is_typing: bool) -> Self {
        Self { chat_id: chat_id.into(), recipients: None, is_typing }
    }
}
