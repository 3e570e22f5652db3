//! `update_last_seen_timestamp` (RTM): when the customer last saw a chat (protocol file, 4.15).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::time::Timestamp;

/// `update_last_seen_timestamp` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateLastSeenTimestamp {
    /// The chat (required since v0.4).
    pub chat_id: ChatId,
    /// Seconds; absent means the server's current time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

impl UpdateLastSeenTimestamp {
    /// A request.
    pub fn new(chat_id: impl Into<ChatId>, timestamp: Option<Timestamp>) -> Self {
        Self { chat_id: chat_id.into(), timestamp }
    }
}

/// `update_last_seen_timestamp` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateLastSeenTimestampResponse {
    /// The stored value.
    pub timestamp: Timestamp,
}

impl UpdateLastSeenTimestampResponse {
    /// A response.
    pub fn new(timestamp: Timestamp) -> Self {
        Self { timestamp }
    }
}
