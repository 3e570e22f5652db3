//! The OAuth scopes of the Agent API (protocol file §3.1, H11): what a token may do.
//!
//! A token carries a [`ScopeSet`]: the scopes of its app ∩ the scopes of the agent's
//! [`Permission`]. A method needs one of the scopes it lists ([`required`]); a `--my`
//! scope counts only in chats where the acting agent is a member (the caller checks that
//! with [`ScopeSet::allows`]).

use std::fmt;

/// One Agent API scope (AUTH `scopes.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Scope {
    ChatsAllRead,
    ChatsMyRead,
    ConversationAllWrite,
    ConversationMyWrite,
    MetaAllWrite,
    MetaMyWrite,
    MulticastWrite,
    BanWrite,
    AgentsMyWrite,
    AgentsAllWrite,
    AutoScopesRead,
    AutoScopesWrite,
}

impl Scope {
    /// Every scope, in a fixed order (the bit order of [`ScopeSet`]).
    pub(crate) const ALL: [Scope; 12] = [
        Scope::ChatsAllRead,
        Scope::ChatsMyRead,
        Scope::ConversationAllWrite,
        Scope::ConversationMyWrite,
        Scope::MetaAllWrite,
        Scope::MetaMyWrite,
        Scope::MulticastWrite,
        Scope::BanWrite,
        Scope::AgentsMyWrite,
        Scope::AgentsAllWrite,
        Scope::AutoScopesRead,
        Scope::AutoScopesWrite,
    ];

    /// The scope's name on the wire (`/info`'s `scope`, the token endpoint's `scope`).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Scope::ChatsAllRead => "chats--all:read",
            Scope::ChatsMyRead => "chats--my:read",
            Scope::ConversationAllWrite => "chats.conversation--all:write",
            Scope::ConversationMyWrite => "chats.conversation--my:write",
            Scope::MetaAllWrite => "chats.meta--all:write",
            Scope::MetaMyWrite => "chats.meta--my:write",
            Scope::MulticastWrite => "multicast:write",
            Scope::BanWrite => "customers.ban:write",
            Scope::AgentsMyWrite => "agents--my:write",
            Scope::AgentsAllWrite => "agents--all:write",
            Scope::AutoScopesRead => "auto_chat_scopes:read",
            Scope::AutoScopesWrite => "auto_chat_scopes:write",
        }
    }

    /// Whether the scope only counts in chats the acting agent is a member of.
    pub(crate) fn member_only(self) -> bool {
        matches!(self, Scope::ChatsMyRead | Scope::ConversationMyWrite | Scope::MetaMyWrite)
    }

    /// The lowest permission that may hold the scope (scopes.md, A31).
    fn needs_administrator(self) -> bool {
        matches!(self, Scope::MetaAllWrite | Scope::AgentsAllWrite | Scope::AutoScopesRead | Scope::AutoScopesWrite)
    }

    fn bit(self) -> u16 {
        // The discriminants are 0..12, the order of `ALL`.
        1 << (self as u16)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An agent's level (scopes.md): what the scopes of its tokens may include.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Permission {
    /// Every scope.
    Administrator,
    /// Every scope but the administrator ones (`chats.meta--all:write`,
    /// `agents--all:write`, the auto chat scopes).
    #[default]
    Normal,
}

impl Permission {
    /// Every scope this permission may hold.
    pub(crate) fn scopes(self) -> ScopeSet {
        Scope::ALL.into_iter().filter(|s| self == Permission::Administrator || !s.needs_administrator()).collect()
    }
}

/// A set of scopes.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub(crate) struct ScopeSet(u16);

impl ScopeSet {
    /// Whether the set holds `scope`.
    pub(crate) fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether one of `any` is held; `member_only` scopes count only when `member`.
    pub(crate) fn allows(self, any: &[Scope], member: bool) -> bool {
        any.iter().any(|s| self.contains(*s) && (member || !s.member_only()))
    }

    /// The scopes held, in the fixed order.
    pub(crate) fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |acc, s| acc | s.bit()))
    }
}

impl fmt::Debug for ScopeSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Scope::name)).finish()
    }
}

/// The scopes an Agent API method lists (AREF *Permissions*, protocol file §3.1); one of
/// them suffices. An empty list: the method needs no scope. `None`: not a method whose
/// rights depend on scopes alone (the caller decides, e.g. `join_chat` of oneself).
pub(crate) fn required(action: &str) -> &'static [Scope] {
    use Scope::*;
    match action {
        "get_archives" => &[ChatsAllRead],
        "get_filtered_chats" | "get_chat_threads" | "update_last_seen_timestamp" => &[ChatsAllRead, ChatsMyRead],
        "send_event"
        | "send_typing_indicator"
        | "send_rich_message_postback"
        | "update_chat_properties"
        | "update_chat_thread_properties" => &[ConversationAllWrite, ConversationMyWrite],
        // Joining or removing oneself also works with `chats.conversation--all:write` (and,
        // to leave, `--my:write`): the action checks that case itself.
        "join_chat" | "remove_from_chat" | "close_thread" | "update_chat_scopes" => &[MetaAllWrite, MetaMyWrite],
        "multicast" => &[MulticastWrite],
        "ban_customer" => &[BanWrite],
        "update_agent" => &[AgentsMyWrite, AgentsAllWrite],
        "get_auto_chat_scopes_config" => &[AutoScopesRead, AutoScopesWrite],
        "add_auto_chat_scopes" | "remove_auto_chat_scopes" => &[AutoScopesWrite],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_agents_lack_the_administrator_scopes() {
        let normal = Permission::Normal.scopes();
        let admin = Permission::Administrator.scopes();
        assert_eq!(admin.iter().count(), Scope::ALL.len());
        for s in [Scope::MetaAllWrite, Scope::AgentsAllWrite, Scope::AutoScopesRead, Scope::AutoScopesWrite] {
            assert!(!normal.contains(s), "{s}");
            assert!(admin.contains(s), "{s}");
        }
        assert!(normal.contains(Scope::ChatsAllRead), "scopes.md: chats--all:read is a normal scope (A31)");
        assert!(normal.contains(Scope::MetaMyWrite));
    }

    #[test]
    fn my_scopes_count_only_in_member_chats() {
        let my: ScopeSet = [Scope::ConversationMyWrite].into_iter().collect();
        let need = required("send_event");
        assert!(my.allows(need, true));
        assert!(!my.allows(need, false));
        let all: ScopeSet = [Scope::ConversationAllWrite].into_iter().collect();
        assert!(all.allows(need, false));
        assert!(!ScopeSet::default().allows(need, true));
        assert!(required("start_chat").is_empty() && required("login").is_empty());
    }
}
