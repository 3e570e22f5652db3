//! `get_filtered_chats` (RTM): summaries of the chats the agent sees (agent protocol file,
//! 5.3).

use serde::{Deserialize, Serialize};

use crate::agent::objects::chat_summary::ChatSummary;
use crate::agent::objects::filters::PropertyFilters;

/// `get_filtered_chats` payload.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetFilteredChats {
    /// Which chats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<ChatFilters>,
}

impl GetFilteredChats {
    /// Every chat with an active thread.
    pub fn new() -> Self {
        Self::default()
    }

    /// With these filters.
    pub fn filtered(filters: ChatFilters) -> Self {
        Self { filters: Some(filters) }
    }
}

/// `get_filtered_chats` filters.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatFilters {
    /// `false` keeps chats without an active thread too (default `true`, H23).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_active: Option<bool>,
    /// Filters on chat properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<PropertyFilters>,
}

/// `get_filtered_chats` response payload (no paging: at most 100, newest activity first).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetFilteredChatsResponse {
    /// The chats.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub chats_summary: Vec<ChatSummary>,
}

impl GetFilteredChatsResponse {
    /// A response.
    pub fn new(chats_summary: Vec<ChatSummary>) -> Self {
        Self { chats_summary }
    }
}
