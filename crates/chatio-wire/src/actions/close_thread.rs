//! `close_thread` (RTM, Web API): closes a chat's active thread (protocol file, 4.10).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};

/// `close_thread` payload. The response has no payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CloseThread {
    /// The chat whose active thread is closed.
    pub chat_id: ChatId,
    /// Only in the reference's sample; clients send `chat_id` only (D9).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread_id: Option<ThreadId>,
}

impl CloseThread {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>) -> Self {
        Self { chat_id: chat_id.into(), thread_id: None }
    }
}
