//! `customer_updated`: customer data changed (one push per active chat).

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;
use crate::objects::user::User;

/// `customer_updated` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerUpdated {
    /// The active chat this copy is for.
    pub chat_id: ChatId,
    /// The full updated customer.
    pub customer: User,
}

impl CustomerUpdated {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, customer: User) -> Self {
        Self { chat_id: chat_id.into(), customer }
    }
}
