//! Agents (the scripted bot, and others once the Agent API lands).

use chatio_wire::UserId;

use serde::{Deserialize, Serialize};

use super::Result;

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
}
