//! `update_chat_thread_properties` (RTM, Web API): sets thread properties (protocol file, 4.14).

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};
use crate::objects::properties::Properties;

/// `update_chat_thread_properties` payload (flat properties). No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateChatThreadProperties {
    /// The chat.
    pub chat_id: ChatId,
    /// The thread.
    pub thread_id: ThreadId,
    /// Properties to set.
    #[serde(serialize_with = "crate::objects::properties::flat::serialize")]
    pub properties: Properties,
}

impl UpdateChatThreadProperties {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, thread_id: impl Into<ThreadId>, properties: Properties) -> Self {
        Self { chat_id: chat_id.into(), thread_id: thread_id.into(), properties }
    }
}
