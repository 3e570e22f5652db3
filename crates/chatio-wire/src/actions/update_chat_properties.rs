//! `update_chat_properties` (RTM, Web API): sets chat properties (protocol file, 4.13).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::properties::Properties;

/// `update_chat_properties` payload (properties sent in the flat form). No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateChatProperties {
    /// The chat.
    pub chat_id: ChatId,
    /// Properties to set.
    #[serde(serialize_with = "crate::objects::properties::flat::serialize")]
    pub properties: Properties,
}

impl UpdateChatProperties {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, properties: Properties) -> Self {
        Self { chat_id: chat_id.into(), properties }
    }
}
