//! `update_chat_scopes` (RTM, Web API): adds and removes agent groups (protocol file, 4.11).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::scopes::Scopes;

/// `update_chat_scopes` payload. The response has no payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateChatScopes {
    /// The chat.
    pub chat_id: ChatId,
    /// Groups to add.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub add_scopes: Option<Scopes>,
    /// Groups to remove.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remove_scopes: Option<Scopes>,
}

impl UpdateChatScopes {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, add_scopes: Option<Scopes>, remove_scopes: Option<Scopes>) -> Self {
        Self { chat_id: chat_id.into(), add_scopes, remove_scopes }
    }
}
