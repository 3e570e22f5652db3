//! `thread_closed`: a thread stopped being active.

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId, UserId};

/// `thread_closed` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThreadClosed {
    /// The chat.
    pub chat_id: ChatId,
    /// The thread.
    pub thread_id: ThreadId,
    /// Who closed it; absent when the router did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
}

impl ThreadClosed {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, thread_id: impl Into<ThreadId>, user_id: Option<UserId>) -> Self {
        Self { chat_id: chat_id.into(), thread_id: thread_id.into(), user_id }
    }
}
