//! `chat_users_updated`: users joined or left a chat.

use serde::de::Deserializer;
use serde::{Deserialize, Serialize};

use crate::ids::{ChatId, UserId};
use crate::objects::user::User;

/// `chat_users_updated` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatUsersUpdated {
    /// The chat.
    pub chat_id: ChatId,
    /// Who joined and who left.
    pub updated_users: UpdatedUsers,
}

impl ChatUsersUpdated {
    /// A push.
    pub fn new(chat_id: impl Into<ChatId>, updated_users: UpdatedUsers) -> Self {
        Self { chat_id: chat_id.into(), updated_users }
    }
}

/// Users added to and removed from a chat.
///
/// Reads the customer form `{added, removed_ids}` and the agent-side form
/// `{customers: {added, removed_ids}, agents: {added, removed_ids}}`, flattened (D7); writes the
/// customer form.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct UpdatedUsers {
    /// Users who joined.
    pub added: Vec<User>,
    /// Ids of users who left.
    pub removed_ids: Vec<UserId>,
}

impl UpdatedUsers {
    /// An update.
    pub fn new(added: Vec<User>, removed_ids: Vec<UserId>) -> Self {
        Self { added, removed_ids }
    }
}

#[derive(Deserialize, Default)]
struct Part {
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    added: Vec<User>,
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    removed_ids: Vec<UserId>,
}

#[derive(Deserialize)]
struct Repr {
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    added: Vec<User>,
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    removed_ids: Vec<UserId>,
    #[serde(default)]
    customers: Option<Part>,
    #[serde(default)]
    agents: Option<Part>,
}

impl<'de> Deserialize<'de> for UpdatedUsers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut r = Repr::deserialize(d)?;
        for part in [r.customers.take(), r.agents.take()].into_iter().flatten() {
            r.added.extend(part.added);
            r.removed_ids.extend(part.removed_ids);
        }
        Ok(UpdatedUsers { added: r.added, removed_ids: r.removed_ids })
    }
}
