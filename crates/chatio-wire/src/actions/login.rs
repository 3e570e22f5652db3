//! `login` (RTM): authenticates the connection and subscribes it to pushes (protocol file, 4.1).

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::objects::customer::CustomerData;
use crate::token::Token;

/// `login` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Login {
    /// `"Bearer <customer access token>"`.
    pub token: Token,
    /// Customer data to store (name, e-mail, fields, monitoring).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerData>,
}

impl Login {
    /// A login with this token and no customer data.
    pub fn new(token: Token) -> Self {
        Self { token, customer: None }
    }
}

/// `login` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LoginResponse {
    /// The customer's id.
    pub customer_id: UserId,
    /// Location of the license's static widget configuration (meaning otherwise undefined).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_config_path: Option<String>,
}

impl LoginResponse {
    /// A response.
    pub fn new(customer_id: impl Into<UserId>, static_config_path: Option<String>) -> Self {
        Self { customer_id: customer_id.into(), static_config_path }
    }
}
