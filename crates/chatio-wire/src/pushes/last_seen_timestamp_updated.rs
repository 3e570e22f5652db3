//! `last_seen_timestamp_updated`: a user's last-seen time in a chat changed.

use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, UserId};
use crate::time::Timestamp;

/// `last_seen_timestamp_updated` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastSeenTimestampUpdated {
    /// The user.
    pub user_id: UserId,
    /// The chat.
    pub chat_id: ChatId,
    /// The stored time.
    pub timestamp: Timestamp,
}

impl LastSeenTimestampUpdated {
    /// A push.
    pub fn new(user_id: impl Into<UserId>, chat_id: impl Into<ChatId>, timestamp: Timestamp) -> Self {
        Self { user_id: user_id.into(), chat_id: chat_id.into(), timestamp }
    }
}
