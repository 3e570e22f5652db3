//! `agent_disconnected`: the server is about to close this connection (agent protocol file, 6).

use serde::{Deserialize, Serialize};

use crate::objects::error::name_enum;

/// `agent_disconnected` payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentDisconnected {
    /// Why.
    pub reason: AgentDisconnectReason,
}

impl AgentDisconnected {
    /// A push.
    pub fn new(reason: AgentDisconnectReason) -> Self {
        Self { reason }
    }
}

name_enum!(
    /// The `reason` of an `agent_disconnected` push.
    AgentDisconnectReason {
        /// The access token was revoked.
        AccessTokenRevoked = "access_token_revoked",
        /// The license expired.
        LicenseExpired = "license_expired",
        /// The agent account was deleted.
        AgentDeleted = "agent_deleted",
        /// The agent was logged out remotely.
        LoggedOutRemotely = "logged_out_remotely",
        /// The connection targets an unsupported Agent API version.
        UnsupportedVersion = "unsupported_version",
    }
);

impl AgentDisconnectReason {
    /// Whether reconnecting with the same credentials cannot help: every documented reason
    /// (a revoked token needs a new one from a person or an accounts flow). An unknown reason
    /// is not final.
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::Other(_))
    }
}
