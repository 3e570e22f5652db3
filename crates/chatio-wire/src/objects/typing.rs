//! Typing indicator (protocol file, 3.5) and sneak peek (3.6).

use serde::{Deserialize, Serialize};

use crate::ids::UserId;
#[cfg(feature = "agent")]
use crate::objects::event::Recipients;
use crate::time::Timestamp;

/// Whether a user (an agent, for customers) is typing.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TypingIndicator {
    /// Who is (not) typing.
    pub author_id: UserId,
    /// `all` or `agents` (agent side only, A20; absent = `all`).
    #[cfg(feature = "agent")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Recipients>,
    /// When.
    pub timestamp: Timestamp,
    /// `true` = started, `false` = stopped. Missing or `null` (the agent-side shape) reads as
    /// `true` (D23).
    #[serde(default = "yes", deserialize_with = "null_as_yes")]
    pub is_typing: bool,
}

fn yes() -> bool {
    true
}

fn null_as_yes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(true))
}

impl TypingIndicator {
    /// An indicator.
    pub fn new(author_id: impl Into<UserId>, timestamp: Timestamp, is_typing: bool) -> Self {
        Self {
            author_id: author_id.into(),
            #[cfg(feature = "agent")]
            recipients: None,
            timestamp,
            is_typing,
        }
    }
}

/// The draft a customer is typing, seen only by agents.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SneakPeek {
    /// The customer.
    pub author_id: UserId,
    /// Always `agents` (agent side only, A44).
    #[cfg(feature = "agent")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Recipients>,
    /// When.
    pub timestamp: Timestamp,
    /// Current draft.
    pub text: String,
}

impl SneakPeek {
    /// A sneak peek.
    pub fn new(author_id: impl Into<UserId>, timestamp: Timestamp, text: impl Into<String>) -> Self {
        Self {
            author_id: author_id.into(),
            #[cfg(feature = "agent")]
            recipients: None,
            timestamp,
            text: text.into(),
        }
    }
}
