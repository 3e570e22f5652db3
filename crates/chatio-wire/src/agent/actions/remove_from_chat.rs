//! `remove_from_chat` (RTM, Web API): removes agents from a chat (agent protocol file, 5.7).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, UserId};

/// `remove_from_chat` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoveFromChat {
    /// The chat.
    pub chat_id: ChatId,
    /// The agents to remove; absent means the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_ids: Option<Vec<UserId>>,
    /// Customers to remove: an older form (A19) kept so a server can refuse it
    /// (`authorization`, H17): customers cannot be removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ids: Option<Vec<UserId>>,
}

impl RemoveFromChat {
    /// A request removing these agents.
    pub fn new(chat_id: impl Into<ChatId>, agent_ids: Vec<UserId>) -> Self {
        Self { chat_id: chat_id.into(), agent_ids: Some(agent_ids), customer_ids: None }
    }

    /// A request removing the requester.
    pub fn me(chat_id: impl Into<ChatId>) -> Self {
        Self { chat_id: chat_id.into(), agent_ids: None, customer_ids: None }
    }
}
