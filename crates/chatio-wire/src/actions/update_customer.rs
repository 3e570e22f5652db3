//! `update_customer` (RTM, Web API): updates the customer's data (protocol file, 4.12).

use serde::{Deserialize, Serialize};

use crate::objects::customer::CustomerData;
use crate::objects::user::User;

/// `update_customer` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateCustomer {
    /// The data to set (`fields` are merged).
    pub customer: CustomerData,
}

impl UpdateCustomer {
    /// A request.
    pub fn new(customer: CustomerData) -> Self {
        Self { customer }
    }
}

/// `update_customer` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateCustomerResponse {
    /// The updated customer.
    pub customer: User,
}

impl UpdateCustomerResponse {
    /// A response.
    pub fn new(customer: User) -> Self {
        Self { customer }
    }
}
