//! `chat_thread_properties_updated`: thread properties were set.

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, ThreadId};
use crate::objects::properties::Properties;

/// `chat_thread_properties_updated` payload: only the properties just set.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatThreadPropertiesUpdated {
    /// The chat.
    pub chat_id: ChatId,
    /// The thread.
    pub thread_id: ThreadId,
    /// The properties just set.
    pub properties: Properties,
}

impl ChatThreadPropertiesUpdated {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, thread_id: impl Into<ThreadId>, properties: Properties) -> Self {
        Self { chat_id: chat_id.into(), thread_id: thread_id.into(), properties }
    }
}
