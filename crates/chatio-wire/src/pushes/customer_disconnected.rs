//! `customer_disconnected`: the server is about to close this connection.

use serde::{Deserialize, Serialize};

use crate::objects::error::DisconnectReason;

/// `customer_disconnected` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerDisconnected {
    /// Why.
    pub reason: DisconnectReason,
}

impl CustomerDisconnected {
    /// A push.
    pub fn new(reason: DisconnectReason) -> Self {
        Self { reason }
    }
}
