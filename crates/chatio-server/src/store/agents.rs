//! Agents (the scripted bot and the configured agents), the access tokens the server
//! issued to agents by sign-in (H9, H10), kept as SHA-256 digests only, and the agents'
//! routing state: presence, grace periods and the queues of waiting chats (H21, H30, H33).

use chatio_wire::{ChatId, UserId};

use serde::{Deserialize, Serialize};

use super::Result;
use crate::identity::secret::Digest;

/// An access token the server issued to an agent (sign-in, H9): only its digest is kept.
/// Its scopes are not stored: they follow the agent's permission in the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IssuedAgentToken {
    pub(crate) hash: Digest,
    pub(crate) license: u64,
    /// The agent's id (lower case, H40).
    pub(crate) agent: String,
    /// Unix seconds after which it is refused.
    pub(crate) expires_at: u64,
}

/// An agent's presence as a restart needs it (H21, H33): its status while logged in, and
/// whether it was logged in, or in its grace period since when. Its connections are not
/// kept: a restart closed them all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredPresence {
    pub(crate) license: u64,
    /// The agent's id (lower case, H40).
    pub(crate) agent: String,
    /// `accepting_chats` (else `not_accepting_chats`) while logged in.
    pub(crate) accepting: bool,
    /// Logged in, or in its grace period.
    pub(crate) online: bool,
    /// Unix seconds when its last connection closed, while its grace period runs.
    pub(crate) gone_since: Option<u64>,
}

/// An agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Agent {
    pub(crate) id: UserId,
    pub(crate) name: String,
    pub(crate) avatar: String,
}

/// Agents, by id.
pub(crate) trait AgentStore {
    /// The agent, if it exists.
    fn agent(&mut self, id: &UserId) -> Result<Option<Agent>>;

    /// Every agent, in the order they were first stored.
    fn agents(&mut self) -> Result<Vec<Agent>>;

    /// Creates or replaces an agent.
    fn put_agent(&mut self, agent: Agent) -> Result<()>;

    /// Every issued agent token, oldest issued first. Bounded by the writers: at most
    /// `agents::tokens::MAX_ISSUED_PER_AGENT` per agent, expired ones deleted as new ones
    /// are issued and at each start.
    fn issued_agent_tokens(&mut self) -> Result<Vec<IssuedAgentToken>>;

    /// Stores a newly issued agent token (the newest of all).
    fn put_issued_agent_token(&mut self, token: IssuedAgentToken) -> Result<()>;

    /// Deletes issued agent tokens (unknown digests are ignored).
    fn delete_issued_agent_tokens(&mut self, hashes: &[Digest]) -> Result<()>;

    /// Every agent's stored presence. Bounded by the configured agents (one per agent and
    /// license).
    fn agent_presences(&mut self) -> Result<Vec<StoredPresence>>;

    /// Creates or replaces an agent's presence.
    fn put_agent_presence(&mut self, presence: StoredPresence) -> Result<()>;

    /// The chats waiting for an agent, every license's, each license's in queue order.
    /// Bounded by the chats with an active thread.
    fn queued_chats(&mut self) -> Result<Vec<(u64, ChatId)>>;

    /// Adds a chat at the end of its license's queue (no-op if it waits already).
    fn queue_chat(&mut self, license: u64, chat: &ChatId) -> Result<()>;

    /// Removes a chat from its license's queue (no-op if it does not wait).
    fn unqueue_chat(&mut self, license: u64, chat: &ChatId) -> Result<()>;
}
