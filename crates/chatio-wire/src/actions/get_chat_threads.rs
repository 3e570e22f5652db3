//! `get_chat_threads` (RTM): threads with all their events (protocol file, 4.3).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};
use crate::objects::chat::Chat;

/// `get_chat_threads` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetChatThreads {
    /// The chat.
    pub chat_id: ChatId,
    /// Threads to return. Always sent; missing reads as empty (D26).
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub thread_ids: Vec<ThreadId>,
}

impl GetChatThreads {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, thread_ids: Vec<ThreadId>) -> Self {
        Self { chat_id: chat_id.into(), thread_ids }
    }
}

/// `get_chat_threads` response payload: the chat with `threads` set.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GetChatThreadsResponse {
    /// The chat, its `threads` holding the requested threads.
    pub chat: Chat,
}

impl GetChatThreadsResponse {
    /// A response.
    pub fn new(chat: Chat) -> Self {
        Self { chat }
    }
}
