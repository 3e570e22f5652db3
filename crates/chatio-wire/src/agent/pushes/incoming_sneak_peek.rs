//! `incoming_sneak_peek`: what a customer is typing, before sending it (agent protocol file, 6).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::typing::SneakPeek;

/// `incoming_sneak_peek` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingSneakPeek {
    /// The chat.
    pub chat_id: ChatId,
    /// The draft.
    pub sneak_peek: SneakPeek,
}

impl IncomingSneakPeek {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, sneak_peek: SneakPeek) -> Self {
        Self { chat_id: chat_id.into(), sneak_peek }
    }
}
