//! `ban_customer` (RTM, Web API): bans a customer for some days (agent protocol file, 5.12).

use serde::{Deserialize, Serialize};

use crate::agent::objects::ban::Ban;
use crate::ids::UserId;

/// `ban_customer` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BanCustomer {
    /// The customer.
    pub customer_id: UserId,
    /// For how long.
    pub ban: Ban,
}

impl BanCustomer {
    /// A request.
    pub fn new(customer_id: impl Into<UserId>, days: u32) -> Self {
        Self { customer_id: customer_id.into(), ban: Ban::days(days) }
    }
}
