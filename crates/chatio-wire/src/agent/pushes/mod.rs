//! Agent pushes (agent protocol file, 6): one module per push only agents receive or that
//! agents receive in another shape; the others reuse the customer side's payload types
//! (`crate::pushes`). Here: the [`PushKind`] names and the [`Push`] enum.

mod agent_disconnected;
mod agent_updated;
mod chat_users_updated;
mod customer_banned;
mod incoming_sneak_peek;

use std::fmt;

use serde::{Serialize, Serializer};

pub use agent_disconnected::{AgentDisconnectReason, AgentDisconnected};
pub use agent_updated::AgentUpdated;
pub use chat_users_updated::{ChatUsersUpdated, UpdatedUsers, UsersChange};
pub use customer_banned::CustomerBanned;
pub use incoming_sneak_peek::IncomingSneakPeek;

use crate::actions::{EmptyObject, names};
use crate::ids::ChatId;
use crate::pushes::{
    ChatPropertiesUpdated, ChatScopesUpdated, ChatThreadPropertiesUpdated, CustomerUpdated, IncomingChatThread,
    IncomingEvent, IncomingMulticast, IncomingRichMessagePostback, IncomingTypingIndicator, LastSeenTimestampUpdated,
    ThreadClosed,
};
use crate::raw::RawJson;

names!(
    /// The v0.5 pushes an agent receives (agent protocol file, 6).
    PushKind {
        /// `incoming_chat_thread`.
        IncomingChatThread = "incoming_chat_thread",
        /// `chat_users_updated`.
        ChatUsersUpdated = "chat_users_updated",
        /// `incoming_event`.
        IncomingEvent = "incoming_event",
        /// `incoming_rich_message_postback`.
        IncomingRichMessagePostback = "incoming_rich_message_postback",
        /// `incoming_multicast`.
        IncomingMulticast = "incoming_multicast",
        /// `incoming_typing_indicator`.
        IncomingTypingIndicator = "incoming_typing_indicator",
        /// `incoming_sneak_peek`.
        IncomingSneakPeek = "incoming_sneak_peek",
        /// `customer_banned`.
        CustomerBanned = "customer_banned",
        /// `thread_closed`.
        ThreadClosed = "thread_closed",
        /// `chat_scopes_updated`.
        ChatScopesUpdated = "chat_scopes_updated",
        /// `customer_updated`.
        CustomerUpdated = "customer_updated",
        /// `agent_updated`.
        AgentUpdated = "agent_updated",
        /// `agent_disconnected`.
        AgentDisconnected = "agent_disconnected",
        /// `chat_properties_updated`.
        ChatPropertiesUpdated = "chat_properties_updated",
        /// `chat_thread_properties_updated`.
        ChatThreadPropertiesUpdated = "chat_thread_properties_updated",
        /// `last_seen_timestamp_updated`.
        LastSeenTimestampUpdated = "last_seen_timestamp_updated",
    }
);

/// An agent push: one variant per push name, each with its payload.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Push {
    /// `incoming_chat_thread`.
    IncomingChatThread(IncomingChatThread),
    /// `chat_users_updated`.
    ChatUsersUpdated(ChatUsersUpdated),
    /// `incoming_event`.
    IncomingEvent(IncomingEvent),
    /// `incoming_rich_message_postback`.
    IncomingRichMessagePostback(IncomingRichMessagePostback),
    /// `incoming_multicast`.
    IncomingMulticast(IncomingMulticast),
    /// `incoming_typing_indicator`.
    IncomingTypingIndicator(IncomingTypingIndicator),
    /// `incoming_sneak_peek`.
    IncomingSneakPeek(IncomingSneakPeek),
    /// `customer_banned`.
    CustomerBanned(CustomerBanned),
    /// `thread_closed`.
    ThreadClosed(ThreadClosed),
    /// `chat_scopes_updated`.
    ChatScopesUpdated(ChatScopesUpdated),
    /// `customer_updated`.
    CustomerUpdated(CustomerUpdated),
    /// `agent_updated`.
    AgentUpdated(AgentUpdated),
    /// `agent_disconnected`.
    AgentDisconnected(AgentDisconnected),
    /// `chat_properties_updated`.
    ChatPropertiesUpdated(ChatPropertiesUpdated),
    /// `chat_thread_properties_updated`.
    ChatThreadPropertiesUpdated(ChatThreadPropertiesUpdated),
    /// `last_seen_timestamp_updated`.
    LastSeenTimestampUpdated(LastSeenTimestampUpdated),
    /// A push this crate does not know, its payload kept verbatim.
    Unknown {
        /// The push name.
        action: String,
        /// The payload, if the frame had one.
        payload: Option<RawJson>,
    },
}

impl Push {
    /// The push name.
    pub fn action(&self) -> &str {
        match (self.kind(), self) {
            (Some(k), _) => k.as_str(),
            (None, Self::Unknown { action, .. }) => action,
            (None, _) => "",
        }
    }

    /// The push kind, unless unknown.
    pub fn kind(&self) -> Option<PushKind> {
        Some(match self {
            Self::IncomingChatThread(_) => PushKind::IncomingChatThread,
            Self::ChatUsersUpdated(_) => PushKind::ChatUsersUpdated,
            Self::IncomingEvent(_) => PushKind::IncomingEvent,
            Self::IncomingRichMessagePostback(_) => PushKind::IncomingRichMessagePostback,
            Self::IncomingMulticast(_) => PushKind::IncomingMulticast,
            Self::IncomingTypingIndicator(_) => PushKind::IncomingTypingIndicator,
            Self::IncomingSneakPeek(_) => PushKind::IncomingSneakPeek,
            Self::CustomerBanned(_) => PushKind::CustomerBanned,
            Self::ThreadClosed(_) => PushKind::ThreadClosed,
            Self::ChatScopesUpdated(_) => PushKind::ChatScopesUpdated,
            Self::CustomerUpdated(_) => PushKind::CustomerUpdated,
            Self::AgentUpdated(_) => PushKind::AgentUpdated,
            Self::AgentDisconnected(_) => PushKind::AgentDisconnected,
            Self::ChatPropertiesUpdated(_) => PushKind::ChatPropertiesUpdated,
            Self::ChatThreadPropertiesUpdated(_) => PushKind::ChatThreadPropertiesUpdated,
            Self::LastSeenTimestampUpdated(_) => PushKind::LastSeenTimestampUpdated,
            Self::Unknown { .. } => return None,
        })
    }

    /// The chat the push is about, for every push that names one.
    pub fn chat_id(&self) -> Option<&ChatId> {
        Some(match self {
            Self::IncomingChatThread(p) => &p.chat.id,
            Self::ChatUsersUpdated(p) => &p.chat_id,
            Self::IncomingEvent(p) => &p.chat_id,
            Self::IncomingRichMessagePostback(p) => &p.chat_id,
            Self::IncomingTypingIndicator(p) => &p.chat_id,
            Self::IncomingSneakPeek(p) => &p.chat_id,
            Self::ThreadClosed(p) => &p.chat_id,
            Self::ChatScopesUpdated(p) => &p.chat_id,
            Self::CustomerUpdated(p) => &p.chat_id,
            Self::ChatPropertiesUpdated(p) => &p.chat_id,
            Self::ChatThreadPropertiesUpdated(p) => &p.chat_id,
            Self::LastSeenTimestampUpdated(p) => &p.chat_id,
            Self::IncomingMulticast(_)
            | Self::CustomerBanned(_)
            | Self::AgentUpdated(_)
            | Self::AgentDisconnected(_)
            | Self::Unknown { .. } => return None,
        })
    }
}

pub(crate) struct PushPayload<'a>(pub(crate) &'a Push);

impl Serialize for PushPayload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Push::IncomingChatThread(p) => p.serialize(s),
            Push::ChatUsersUpdated(p) => p.serialize(s),
            Push::IncomingEvent(p) => p.serialize(s),
            Push::IncomingRichMessagePostback(p) => p.serialize(s),
            Push::IncomingMulticast(p) => p.serialize(s),
            Push::IncomingTypingIndicator(p) => p.serialize(s),
            Push::IncomingSneakPeek(p) => p.serialize(s),
            Push::CustomerBanned(p) => p.serialize(s),
            Push::ThreadClosed(p) => p.serialize(s),
            Push::ChatScopesUpdated(p) => p.serialize(s),
            Push::CustomerUpdated(p) => p.serialize(s),
            Push::AgentUpdated(p) => p.serialize(s),
            Push::AgentDisconnected(p) => p.serialize(s),
            Push::ChatPropertiesUpdated(p) => p.serialize(s),
            Push::ChatThreadPropertiesUpdated(p) => p.serialize(s),
            Push::LastSeenTimestampUpdated(p) => p.serialize(s),
            Push::Unknown { payload: Some(p), .. } => p.serialize(s),
            Push::Unknown { payload: None, .. } => EmptyObject.serialize(s),
        }
    }
}

impl fmt::Display for Push {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action())
    }
}
