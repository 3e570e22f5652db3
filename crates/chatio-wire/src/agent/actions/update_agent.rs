//! `update_agent` (RTM): changes an agent's routing status (agent protocol file, 5.15).

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
use crate::objects::agent_view::RoutingStatus;

/// `update_agent` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateAgent {
    /// The agent; absent means the requester.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<UserId>,
    /// The new status (`accepting_chats` or `not_accepting_chats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_status: Option<RoutingStatus>,
}

impl UpdateAgent {
    /// Sets the requester's routing status.
    pub fn routing_status(status: RoutingStatus) -> Self {
        Self { agent_id: None, routing_status: Some(status) }
    }
}
