//! Who a `multicast` reaches (agent protocol file, 5.10).

use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// The targets of a `multicast`: agents (all, by id, by group) and customers (by id). At
/// least one target is required (the server refuses an empty one, H20).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MulticastScopes {
    /// Agent targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agents: Option<MulticastAgents>,
    /// Customer targets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customers: Option<MulticastCustomers>,
}

impl MulticastScopes {
    /// Every agent of the license.
    pub fn all_agents() -> Self {
        Self { agents: Some(MulticastAgents { all: Some(true), ..MulticastAgents::default() }), customers: None }
    }

    /// These agents.
    pub fn agents(ids: impl IntoIterator<Item = UserId>) -> Self {
        let ids = Some(ids.into_iter().collect());
        Self { agents: Some(MulticastAgents { ids, ..MulticastAgents::default() }), customers: None }
    }

    /// These customers.
    pub fn customers(ids: impl IntoIterator<Item = UserId>) -> Self {
        Self { agents: None, customers: Some(MulticastCustomers { ids: Some(ids.into_iter().collect()) }) }
    }

    /// Whether no target is given at all (`agents.all` not `true`, no ids, no groups).
    pub fn is_empty(&self) -> bool {
        let agents = self.agents.as_ref().is_none_or(|a| {
            a.all != Some(true)
                && a.ids.as_ref().is_none_or(Vec::is_empty)
                && a.groups.as_ref().is_none_or(Vec::is_empty)
        });
        let customers = self.customers.as_ref().is_none_or(|c| c.ids.as_ref().is_none_or(Vec::is_empty));
        agents && customers
    }
}

/// Agent targets of a `multicast`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MulticastAgents {
    /// Every agent of the license.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
    /// These agents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<UserId>>,
    /// The agents of these groups (integers; numeric strings are read too, A24).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "super::group_ids")]
    pub groups: Option<Vec<u64>>,
}

/// Customer targets of a `multicast`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MulticastCustomers {
    /// These customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ids: Option<Vec<UserId>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_no_target() {
        let s: MulticastScopes = serde_json::from_str(r#"{"agents":{"all":false,"ids":[]},"customers":{}}"#).unwrap();
        assert!(s.is_empty());
        assert!(!MulticastScopes::all_agents().is_empty());
        let g: MulticastScopes = serde_json::from_str(r#"{"agents":{"groups":["1",2]}}"#).unwrap();
        assert_eq!(g.agents.as_ref().and_then(|a| a.groups.clone()), Some(vec![1, 2]));
        assert!(!g.is_empty());
        assert_eq!(serde_json::to_string(&g).unwrap(), r#"{"agents":{"groups":[1,2]}}"#);
    }
}
