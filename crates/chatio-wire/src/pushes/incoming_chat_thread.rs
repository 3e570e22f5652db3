//! `incoming_chat_thread`: a chat was started or an event opened a new thread.

use serde::{Deserialize, Serialize};

use crate::objects::chat::Chat;

/// `incoming_chat_thread` payload: the chat with its new `thread`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingChatThread {
    /// The chat (`id`, `users`, `properties`, `scopes`, `thread`).
    pub chat: Chat,
}

impl IncomingChatThread {
    /// A push.
    pub fn new(chat: Chat) -> Self {
        Self { chat }
    }
}
