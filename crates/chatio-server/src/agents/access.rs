//! Who may see and act on a chat (protocol file H11–H13, H38).
//!
//! An agent sees a chat when it is a member, or when its token holds `chats--all:read`
//! and the chat's scopes let it in: empty scopes are license-wide, otherwise the chat and
//! the agent share a group. While no agent of the license has configured groups, scopes
//! are ignored (CUST G34: every agent is in group 0, and a customer's `/scopes` must not
//! hide its chat from everybody). Pushes of a chat go to every logged-in connection of
//! the agents who see it; an unknown chat and an invisible one give the same
//! `authorization` error, so ids cannot be probed.

use std::collections::BTreeSet;

use super::scopes::{Scope, ScopeSet};

/// The facts about one chat that decide who sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChatFacts<'a> {
    /// Agent ids (lower case) in the chat.
    pub(crate) members: &'a [String],
    /// The chat's scope groups (empty: license-wide).
    pub(crate) groups: &'a BTreeSet<u64>,
    /// Whether scopes restrict anything on this license (some agent has groups other
    /// than 0).
    pub(crate) scopes_enforced: bool,
}

impl ChatFacts<'_> {
    /// Whether `agent` is in the chat.
    pub(crate) fn is_member(&self, agent: &str) -> bool {
        self.members.iter().any(|m| m == agent)
    }

    /// Whether the chat's scopes let an agent of these groups in.
    pub(crate) fn in_scope(&self, groups: &[u64]) -> bool {
        !self.scopes_enforced || self.groups.is_empty() || groups.iter().any(|g| self.groups.contains(g))
    }

    /// Whether `agent`, in `groups` and holding `scopes`, sees the chat (H13).
    pub(crate) fn visible(&self, agent: &str, groups: &[u64], scopes: ScopeSet) -> bool {
        self.is_member(agent) || (scopes.contains(Scope::ChatsAllRead) && self.in_scope(groups))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::scopes::Permission;

    struct Jane;
    impl Jane {
        const ID: &'static str = "jane@x";
        const GROUPS: &'static [u64] = &[1];
    }

    #[test]
    fn members_always_see_others_by_scope_and_group() {
        let all = Permission::Normal.scopes();
        let my_only: ScopeSet = [Scope::ChatsMyRead].into_iter().collect();
        let g2: BTreeSet<u64> = [2].into();
        let g1: BTreeSet<u64> = [1].into();
        let none = BTreeSet::new();
        let facts =
            |members: &'static [String], groups, enforced| ChatFacts { members, groups, scopes_enforced: enforced };
        assert!(facts(&[], &none, true).visible(Jane::ID, Jane::GROUPS, all), "license-wide chat");
        assert!(facts(&[], &g1, true).visible(Jane::ID, Jane::GROUPS, all), "shares group 1");
        assert!(!facts(&[], &g2, true).visible(Jane::ID, Jane::GROUPS, all), "group 2 only");
        assert!(facts(&[], &g2, false).visible(Jane::ID, Jane::GROUPS, all), "scopes not enforced (G34)");
        assert!(
            !facts(&[], &none, true).visible(Jane::ID, Jane::GROUPS, my_only),
            "chats--my:read alone: members only"
        );
        let members: &'static [String] = Box::leak(Box::new(["jane@x".to_owned()]));
        assert!(facts(members, &g2, true).visible(Jane::ID, Jane::GROUPS, my_only), "a member sees its chat");
    }
}
