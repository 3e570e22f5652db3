//! `customer_banned`: an agent banned a customer (agent protocol file, 6).

use serde::{Deserialize, Serialize};

use crate::agent::objects::ban::Ban;
use crate::ids::UserId;

/// `customer_banned` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerBanned {
    /// The customer.
    pub customer_id: UserId,
    /// For how long.
    pub ban: Ban,
}

impl CustomerBanned {
    /// A push.
    pub fn new(customer_id: impl Into<UserId>, ban: Ban) -> Self {
        Self { customer_id: customer_id.into(), ban }
    }
}
