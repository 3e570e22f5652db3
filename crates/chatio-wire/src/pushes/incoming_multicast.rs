//! `incoming_multicast`: an agent or app multicast something to this customer (since v0.4).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::UserId;

/// `incoming_multicast` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingMulticast {
    /// Who sent it.
    pub author_id: UserId,
    /// Any JSON object.
    pub content: Value,
}

impl IncomingMulticast {
    /// A push.
    pub fn new(author_id: impl Into<UserId>, content: Value) -> Self {
        Self { author_id: author_id.into(), content }
    }
}
