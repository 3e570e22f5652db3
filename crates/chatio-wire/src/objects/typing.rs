//! Typing indicator (protocol file, 3.5) and sneak peek (3.6).

use serde::{Deserialize, Serialize};

use crate::{Timestamp, UserId};

/// Whether a user (an agent, for customers) is typing.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TypingIndicator {
    /// Who is (not) typing.
    pub author_id: UserId,
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
        Self { author_id: author_id.into(), timestamp, is_typing }
    }
}

/// The draft a customer is typing, seen only by agents.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SneakPeek {
    /// The customer.
    pub author_id: UserId,
    /// When.
    pub timestamp: Timestamp,
    /// Current draft.
    pub text: String,
}

impl SneakPeek {
    /// A sneak peek.
    pub fn new(author_id: impl Into<UserId>, timestamp: Timestamp, text: impl Into<String>) -> Self {
        Self { author_id: author_id.into(), timestamp, text: text.into() }
    }
}
