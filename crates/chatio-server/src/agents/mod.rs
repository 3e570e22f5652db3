//! Agents of the Agent API v0.5 (protocol file §3, §8): who they are, what their tokens
//! allow, and how chats are routed to them. Data and pure rules, no I/O: the actions use
//! them under the state's lock.
//!
//! * [`access`]: who sees a chat (H13).
//! * [`directory`]: the configured agents per license (H7, H8).
//! * [`scopes`]: the OAuth scopes and the agent permissions (H11).
//! * [`tokens`]: agent access tokens, stored as SHA-256 digests (H8, H10).
//! * [`sign_in`]: one-time sign-in codes, exchanged for access tokens (H9).
//! * [`presence`]: logged in, grace period, routing status (H21, H33).
//! * [`routing`]: the choice of an agent and the queue (H30–H33).

pub(crate) mod access;
pub(crate) mod directory;
pub(crate) mod presence;
pub(crate) mod routing;
pub(crate) mod scopes;
pub(crate) mod sign_in;
pub(crate) mod tokens;

use std::collections::{BTreeSet, HashMap};

use chatio_wire::ChatId;

use crate::config::{AgentConfig, AgentPermission};

/// The agent side's data in the store: accounts, tokens, presence and routing queues.
#[derive(Debug, Default)]
pub(crate) struct AgentData {
    pub(crate) directory: directory::Directory,
    pub(crate) tokens: tokens::AgentTokens,
    /// Presence per (license, agent id).
    pub(crate) presence: HashMap<(u64, String), presence::Presence>,
    /// Chats waiting for an agent, per license.
    pub(crate) queues: HashMap<u64, routing::Queue<ChatId>>,
    /// Numbers routing assignments (for "longest since the last assignment").
    pub(crate) assign_seq: u64,
    /// When each agent was last given a chat (an `assign_seq` value), per license.
    pub(crate) last_assigned: HashMap<u64, HashMap<String, u64>>,
    /// The router's chat properties (namespace `routing`), which only agents see (H31).
    pub(crate) routing_props: HashMap<(u64, ChatId), chatio_wire::Properties>,
    /// The auto chat scopes configurations per license, oldest first (H25; at most
    /// `actions::agent::auto_scopes::MAX_CONFIGS` each).
    pub(crate) auto_scopes: HashMap<u64, Vec<chatio_wire::agent::AutoChatScopesConfig>>,
    /// Waiting one-time sign-in codes (H9).
    pub(crate) sign_in: sign_in::SignInCodes,
    /// Agents whose presence changed since the store was last told
    /// ([`take_presence_changes`](Self::take_presence_changes)).
    presence_changed: BTreeSet<(u64, String)>,
}

impl AgentData {
    /// Whether an agent of `license` has a logged-in connection (the scripted bot's
    /// included): whether agent pushes about its chats reach anyone.
    pub(crate) fn anyone_connected(&self, license: u64) -> bool {
        self.presence.iter().any(|((l, _), p)| *l == license && p.connections() > 0)
    }

    /// The data for the configured agents (their accounts and fixed tokens).
    pub(crate) fn from_config(agents: &[AgentConfig]) -> Self {
        let mut data = Self::default();
        for a in agents {
            let permission = match a.permission {
                AgentPermission::Administrator => scopes::Permission::Administrator,
                _ => scopes::Permission::Normal,
            };
            let account = directory::Account {
                id: a.email.to_lowercase(),
                name: a.name.clone(),
                avatar: a.avatar.clone(),
                permission,
                groups: a.groups.iter().map(|g| (*g, routing::Priority::Normal)).collect(),
                max_chats: a.max_chats,
                bot: a.bot_owner.as_ref().map(|owner| directory::Bot {
                    owner: Some(owner.clone()),
                    status: routing::RoutingStatus::AcceptingChats,
                }),
            };
            for t in &a.tokens {
                data.tokens.insert(
                    t.expose(),
                    tokens::Grant {
                        license: a.license,
                        agent: account.id.clone(),
                        client_id: None,
                        scopes: permission.scopes(),
                        expires_at: None,
                    },
                );
            }
            data.directory.insert(a.license, account);
        }
        data
    }

    /// The presence of an agent, to change it (noted for the store).
    pub(crate) fn presence_mut(&mut self, license: u64, agent: &str) -> &mut presence::Presence {
        self.presence_changed.insert((license, agent.to_owned()));
        self.presence.entry((license, agent.to_owned())).or_default()
    }

    /// The agents whose presence changed since the last call, with their presence now.
    pub(crate) fn take_presence_changes(&mut self) -> Vec<(u64, String, presence::Presence)> {
        let changed = std::mem::take(&mut self.presence_changed);
        changed
            .into_iter()
            .map(|(license, agent)| {
                let p = self.presence_of(license, &agent);
                (license, agent, p)
            })
            .collect()
    }

    /// The presence of an agent (offline when never seen).
    pub(crate) fn presence_of(&self, license: u64, agent: &str) -> presence::Presence {
        self.presence.get(&(license, agent.to_owned())).cloned().unwrap_or_default()
    }
}
