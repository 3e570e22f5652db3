//! `get_chats_summary` (RTM): one page of the customer's chats (protocol file, 4.2).

use serde::{Deserialize, Serialize};

use crate::objects::chat::ChatSummary;

/// `get_chats_summary` payload. Both fields optional: offset 0, limit 10 by default.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetChatsSummary {
    /// How many chats to skip (most recently active first).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size, at most [`GetChatsSummary::MAX_LIMIT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl GetChatsSummary {
    /// Default page size.
    pub const DEFAULT_LIMIT: u64 = 10;
    /// Largest page size.
    pub const MAX_LIMIT: u64 = 25;

    /// A request for this page.
    pub fn new(offset: u64, limit: u64) -> Self {
        Self { offset: Some(offset), limit: Some(limit) }
    }
}

/// `get_chats_summary` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetChatsSummaryResponse {
    /// The page.
    pub chats_summary: Vec<ChatSummary>,
    /// Number of chats of the customer.
    pub total_chats: u64,
}

impl GetChatsSummaryResponse {
    /// A response.
    pub fn new(chats_summary: Vec<ChatSummary>, total_chats: u64) -> Self {
        Self { chats_summary, total_chats }
    }
}
