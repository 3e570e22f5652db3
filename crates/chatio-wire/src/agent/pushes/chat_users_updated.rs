//! `chat_users_updated` as agents receive it: users joined or left a chat, customers and
//! agents apart (agent protocol file, 6).

use serde::{Deserialize, Deserializer, Serialize};

use crate::ids::{ChatId, UserId};
use crate::objects::user::User;

/// `chat_users_updated` payload (agent side).
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

/// The users of a `chat_users_updated`, split into customers and agents.
///
/// Also reads the customer side's flat `{added, removed_ids}` (A22): added users go where
/// their `type` says (anything but a customer counts as an agent), removed ids to the agents
/// (customers cannot be removed from a chat, H17). The v0.2 `supervisors` are agents. The split
/// form is written.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct UpdatedUsers {
    /// Customers added and removed.
    pub customers: UsersChange,
    /// Agents added and removed.
    pub agents: UsersChange,
}

impl UpdatedUsers {
    /// Agents joined.
    pub fn agents_added(added: Vec<User>) -> Self {
        Self { customers: UsersChange::default(), agents: UsersChange::new(added, Vec::new()) }
    }

    /// Agents left.
    pub fn agents_removed(removed_ids: Vec<UserId>) -> Self {
        Self { customers: UsersChange::default(), agents: UsersChange::new(Vec::new(), removed_ids) }
    }

    /// Every added user, customers first.
    pub fn added(&self) -> impl Iterator<Item = &User> {
        self.customers.added.iter().chain(&self.agents.added)
    }

    /// Every removed id, customers first.
    pub fn removed_ids(&self) -> impl Iterator<Item = &UserId> {
        self.customers.removed_ids.iter().chain(&self.agents.removed_ids)
    }
}

/// Users added to and removed from a chat.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UsersChange {
    /// Users who joined.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub added: Vec<User>,
    /// Ids of users who left.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub removed_ids: Vec<UserId>,
}

impl UsersChange {
    /// A change.
    pub fn new(added: Vec<User>, removed_ids: Vec<UserId>) -> Self {
        Self { added, removed_ids }
    }
}

#[derive(Deserialize)]
struct Repr {
    #[serde(default)]
    customers: Option<UsersChange>,
    #[serde(default)]
    agents: Option<UsersChange>,
    #[serde(default)]
    supervisors: Option<UsersChange>,
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    added: Vec<User>,
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    removed_ids: Vec<UserId>,
}

impl<'de> Deserialize<'de> for UpdatedUsers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = Repr::deserialize(d)?;
        let mut customers = r.customers.unwrap_or_default();
        let mut agents = r.agents.unwrap_or_default();
        if let Some(s) = r.supervisors {
            agents.added.extend(s.added);
            agents.removed_ids.extend(s.removed_ids);
        }
        for user in r.added {
            if user.is_customer() { customers.added.push(user) } else { agents.added.push(user) }
        }
        agents.removed_ids.extend(r.removed_ids);
        Ok(Self { customers, agents })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flat_form_is_split_by_type() {
        let u: UpdatedUsers = serde_json::from_str(
            r#"{"added":[{"id":"c","type":"customer"},{"id":"a","type":"agent"}],"removed_ids":["b"],"supervisors":{"added":[{"id":"s","type":"agent"}]}}"#,
        )
        .unwrap();
        assert_eq!(u.customers.added.len(), 1);
        assert_eq!(u.agents.added.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["s", "a"]);
        assert_eq!(u.agents.removed_ids, [UserId::new("b")]);
        assert_eq!(
            serde_json::to_string(&UpdatedUsers::agents_removed(vec![UserId::new("b")])).unwrap(),
            r#"{"customers":{"added":[],"removed_ids":[]},"agents":{"added":[],"removed_ids":["b"]}}"#
        );
    }
}
