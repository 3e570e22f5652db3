//! `get_chat_threads_summary` (RTM): a page of a chat's threads, newest first (protocol file, 4.4).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::thread::ThreadSummary;

/// `get_chat_threads_summary` payload. Offset 0 is the newest page.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetChatThreadsSummary {
    /// The chat.
    pub chat_id: ChatId,
    /// Threads to skip, counted from the newest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// Page size (default 25, at most [`GetChatThreadsSummary::MAX_LIMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
}

impl GetChatThreadsSummary {
    /// Default page size.
    pub const DEFAULT_LIMIT: u64 = 25;
    /// Largest page size (the reference's; the JS SDK allowed 1000, D3).
    pub const MAX_LIMIT: u64 = 100;
    /// The largest `limit` a client may ask for: 1 000, as the JS SDK accepts (D3). The
    /// server answers at most [`MAX_LIMIT`](Self::MAX_LIMIT) summaries per page.
    pub const MAX_REQUEST_LIMIT: u64 = 1000;

    /// A request for this page.
    pub fn new(chat_id: impl Into<ChatId>, offset: u64, limit: u64) -> Self {
        Self { chat_id: chat_id.into(), offset: Some(offset), limit: Some(limit) }
    }
}

/// `get_chat_threads_summary` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetChatThreadsSummaryResponse {
    /// The page (sort by `order`: not guaranteed sorted).
    pub threads_summary: Vec<ThreadSummary>,
    /// Number of threads in the chat.
    pub total_threads: u64,
}

impl GetChatThreadsSummaryResponse {
    /// A response.
    pub fn new(threads_summary: Vec<ThreadSummary>, total_threads: u64) -> Self {
        Self { threads_summary, total_threads }
    }
}
