//! `chat_scopes_updated`: a chat's scopes changed.

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::scopes::Scopes;

/// `chat_scopes_updated` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatScopesUpdated {
    /// The chat.
    pub chat_id: ChatId,
    /// Groups added.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub scopes_added: Scopes,
    /// Groups removed.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub scopes_removed: Scopes,
}

impl ChatScopesUpdated {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, scopes_added: Scopes, scopes_removed: Scopes) -> Self {
        Self { chat_id: chat_id.into(), scopes_added, scopes_removed }
    }
}
