//! `join_chat` (RTM, Web API): adds agents to a chat (agent protocol file, 5.6).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, UserId};

/// `join_chat` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct JoinChat {
    /// The chat.
    pub chat_id: ChatId,
    /// The agents to add. Required by the reference and always sent; a server reads its
    /// absence as the requester (A18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_ids: Option<Vec<UserId>>,
}

impl JoinChat {
    /// A request adding these agents.
    pub fn new(chat_id: impl Into<ChatId>, agent_ids: Vec<UserId>) -> Self {
        Self { chat_id: chat_id.into(), agent_ids: Some(agent_ids) }
    }
}
