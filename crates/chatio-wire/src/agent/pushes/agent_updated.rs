//! `agent_updated`: an agent's routing status changed (agent protocol file, 6).

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::objects::agent_view::RoutingStatus;

/// `agent_updated` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentUpdated {
    /// The agent.
    pub agent_id: UserId,
    /// Its new status (`offline` when it logged out, H33). Always sent by the reference
    /// server; optional on input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_status: Option<RoutingStatus>,
}

impl AgentUpdated {
    /// A push.
    pub fn new(agent_id: impl Into<UserId>, routing_status: RoutingStatus) -> Self {
        Self { agent_id: agent_id.into(), routing_status: Some(routing_status) }
    }
}
