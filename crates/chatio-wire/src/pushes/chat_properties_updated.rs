//! `chat_properties_updated`: chat properties were set.

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::properties::Properties;

/// `chat_properties_updated` payload: only the properties just set (wrapped form).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatPropertiesUpdated {
    /// The chat.
    pub chat_id: ChatId,
    /// The properties just set.
    pub properties: Properties,
}

impl ChatPropertiesUpdated {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, properties: Properties) -> Self {
        Self { chat_id: chat_id.into(), properties }
    }
}
