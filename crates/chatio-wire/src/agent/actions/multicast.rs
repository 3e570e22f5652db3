//! `multicast` (RTM, Web API): sends any JSON object to agents and customers (agent protocol
//! file, 5.10).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::agent::objects::multicast::MulticastScopes;

/// `multicast` payload. No response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Multicast {
    /// Who receives it (at least one target).
    pub scopes: MulticastScopes,
    /// What they receive: a JSON object (the server refuses anything else, H20).
    pub content: Value,
}

impl Multicast {
    /// A request.
    pub fn new(scopes: MulticastScopes, content: Value) -> Self {
        Self { scopes, content }
    }
}
