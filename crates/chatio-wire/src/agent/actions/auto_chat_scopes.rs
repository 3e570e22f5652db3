//! `add_auto_chat_scopes`, `remove_auto_chat_scopes` and `get_auto_chat_scopes_config` (RTM;
//! agent protocol file, 5.20–5.22).

use serde::{Deserialize, Serialize};

use crate::agent::objects::auto_chat_scopes::{AutoChatScopesConfig, AutoChatScopesRules};
use crate::objects::scopes::Scopes;

/// `add_auto_chat_scopes` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddAutoChatScopes {
    /// The scopes to add to matching chats (not empty).
    pub scopes: Scopes,
    /// When they apply.
    pub rules: AutoChatScopesRules,
    /// What the configuration is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl AddAutoChatScopes {
    /// A request.
    pub fn new(scopes: Scopes, rules: AutoChatScopesRules) -> Self {
        Self { scopes, rules, description: None }
    }
}

/// `add_auto_chat_scopes` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AddAutoChatScopesResponse {
    /// The new configuration's id.
    pub auto_chat_scopes_id: String,
}

impl AddAutoChatScopesResponse {
    /// A response.
    pub fn new(auto_chat_scopes_id: impl Into<String>) -> Self {
        Self { auto_chat_scopes_id: auto_chat_scopes_id.into() }
    }
}

/// `remove_auto_chat_scopes` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RemoveAutoChatScopes {
    /// The configuration to remove.
    pub auto_chat_scopes_id: String,
}

impl RemoveAutoChatScopes {
    /// A request.
    pub fn new(auto_chat_scopes_id: impl Into<String>) -> Self {
        Self { auto_chat_scopes_id: auto_chat_scopes_id.into() }
    }
}

/// `get_auto_chat_scopes_config` response payload (the request has no payload).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetAutoChatScopesConfigResponse {
    /// Every configuration of the license, oldest first.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub auto_chat_scopes_config: Vec<AutoChatScopesConfig>,
}

impl GetAutoChatScopesConfigResponse {
    /// A response.
    pub fn new(auto_chat_scopes_config: Vec<AutoChatScopesConfig>) -> Self {
        Self { auto_chat_scopes_config }
    }
}
