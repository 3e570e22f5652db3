//! Agent actions (methods): one module per action only the Agent API has, its request and
//! response payloads side by side; the actions both APIs share reuse the customer side's
//! payload types (`crate::actions`). Here: the [`Action`] names and the [`Request`] and
//! [`ResponseData`] enums that dispatch on them.

mod auto_chat_scopes;
mod ban_customer;
mod change_push_notifications;
mod get_archives;
mod get_filtered_chats;
mod join_chat;
mod login;
mod multicast;
mod remove_from_chat;
mod send_typing_indicator;
pub(crate) mod start_chat;
mod update_agent;
mod upload_image;

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize, Serializer};

pub use auto_chat_scopes::{
    AddAutoChatScopes, AddAutoChatScopesResponse, GetAutoChatScopesConfigResponse, RemoveAutoChatScopes,
};
pub use ban_customer::BanCustomer;
pub use change_push_notifications::ChangePushNotifications;
pub use get_archives::{ArchiveFilters, ArchivedThread, ArchivesPage, GetArchives, GetArchivesResponse, Pagination};
pub use get_filtered_chats::{ChatFilters, GetFilteredChats, GetFilteredChatsResponse};
pub use join_chat::JoinChat;
pub use login::{Application, Login, LoginResponse, Platform, PushNotifications};
pub use multicast::Multicast;
pub use remove_from_chat::RemoveFromChat;
pub use send_typing_indicator::SendTypingIndicator;
pub use update_agent::UpdateAgent;
pub use upload_image::{UploadImage, UploadImageResponse};

use crate::actions::{
    CloseThread, GetChatThreads, GetChatThreadsResponse, SendEvent, SendEventResponse, SendRichMessagePostback,
    StartChat, StartChatResponse, UpdateChatProperties, UpdateChatScopes, UpdateChatThreadProperties,
    UpdateLastSeenTimestamp, UpdateLastSeenTimestampResponse,
};
use crate::actions::{EmptyObject, OptionSeed, PayloadSeed, names};
use crate::raw::RawJson;

names!(
    /// The v0.5 agent actions (agent protocol file, 2.2): the 23 methods of the reference and
    /// `ping`.
    Action {
        /// `login` (RTM).
        Login = "login",
        /// `get_archives` (RTM).
        GetArchives = "get_archives",
        /// `get_filtered_chats` (RTM).
        GetFilteredChats = "get_filtered_chats",
        /// `get_chat_threads` (RTM).
        GetChatThreads = "get_chat_threads",
        /// `start_chat` (RTM, Web API).
        StartChat = "start_chat",
        /// `join_chat` (RTM, Web API).
        JoinChat = "join_chat",
        /// `remove_from_chat` (RTM, Web API).
        RemoveFromChat = "remove_from_chat",
        /// `send_event` (RTM, Web API).
        SendEvent = "send_event",
        /// `send_rich_message_postback` (RTM, Web API).
        SendRichMessagePostback = "send_rich_message_postback",
        /// `multicast` (RTM, Web API).
        Multicast = "multicast",
        /// `send_typing_indicator` (RTM, Web API).
        SendTypingIndicator = "send_typing_indicator",
        /// `ban_customer` (RTM, Web API).
        BanCustomer = "ban_customer",
        /// `close_thread` (RTM, Web API).
        CloseThread = "close_thread",
        /// `update_chat_scopes` (RTM, Web API).
        UpdateChatScopes = "update_chat_scopes",
        /// `update_agent` (RTM).
        UpdateAgent = "update_agent",
        /// `change_push_notifications` (RTM).
        ChangePushNotifications = "change_push_notifications",
        /// `update_chat_properties` (RTM, Web API).
        UpdateChatProperties = "update_chat_properties",
        /// `update_chat_thread_properties` (RTM, Web API).
        UpdateChatThreadProperties = "update_chat_thread_properties",
        /// `update_last_seen_timestamp` (RTM, Web API).
        UpdateLastSeenTimestamp = "update_last_seen_timestamp",
        /// `add_auto_chat_scopes` (RTM).
        AddAutoChatScopes = "add_auto_chat_scopes",
        /// `remove_auto_chat_scopes` (RTM).
        RemoveAutoChatScopes = "remove_auto_chat_scopes",
        /// `get_auto_chat_scopes_config` (RTM).
        GetAutoChatScopesConfig = "get_auto_chat_scopes_config",
        /// `upload_image` (Web API only).
        UploadImage = "upload_image",
        /// `ping` (RTM keep-alive).
        Ping = "ping",
    }
);

impl Action {
    /// Whether the action exists on the RTM (websocket) transport.
    pub const fn on_rtm(self) -> bool {
        !matches!(self, Self::UploadImage)
    }

    /// Whether the reference lists the action for the Web API (the reference server also
    /// serves the RTM-only ones there, except `login` and `ping`, H3).
    pub const fn on_web_api(self) -> bool {
        !matches!(
            self,
            Self::Login
                | Self::Ping
                | Self::GetArchives
                | Self::GetFilteredChats
                | Self::GetChatThreads
                | Self::UpdateAgent
                | Self::ChangePushNotifications
                | Self::AddAutoChatScopes
                | Self::RemoveAutoChatScopes
                | Self::GetAutoChatScopesConfig
        )
    }
}

/// An agent request: one variant per action, each with its payload.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Request {
    /// `login`.
    Login(Login),
    /// `get_archives`.
    GetArchives(GetArchives),
    /// `get_filtered_chats`.
    GetFilteredChats(GetFilteredChats),
    /// `get_chat_threads`.
    GetChatThreads(GetChatThreads),
    /// `start_chat`.
    StartChat(StartChat),
    /// `join_chat`.
    JoinChat(JoinChat),
    /// `remove_from_chat`.
    RemoveFromChat(RemoveFromChat),
    /// `send_event`.
    SendEvent(SendEvent),
    /// `send_rich_message_postback`.
    SendRichMessagePostback(SendRichMessagePostback),
    /// `multicast`.
    Multicast(Multicast),
    /// `send_typing_indicator`.
    SendTypingIndicator(SendTypingIndicator),
    /// `ban_customer`.
    BanCustomer(BanCustomer),
    /// `close_thread`.
    CloseThread(CloseThread),
    /// `update_chat_scopes`.
    UpdateChatScopes(UpdateChatScopes),
    /// `update_agent`.
    UpdateAgent(UpdateAgent),
    /// `change_push_notifications`.
    ChangePushNotifications(ChangePushNotifications),
    /// `update_chat_properties`.
    UpdateChatProperties(UpdateChatProperties),
    /// `update_chat_thread_properties`.
    UpdateChatThreadProperties(UpdateChatThreadProperties),
    /// `update_last_seen_timestamp`.
    UpdateLastSeenTimestamp(UpdateLastSeenTimestamp),
    /// `add_auto_chat_scopes`.
    AddAutoChatScopes(AddAutoChatScopes),
    /// `remove_auto_chat_scopes`.
    RemoveAutoChatScopes(RemoveAutoChatScopes),
    /// `get_auto_chat_scopes_config` (no payload).
    GetAutoChatScopesConfig,
    /// `upload_image` (the multipart form's request; never a JSON frame).
    UploadImage(UploadImage),
    /// `ping` (no payload).
    Ping,
    /// An action this crate does not know, with its payload kept verbatim.
    Unknown {
        /// The action name.
        action: String,
        /// The payload, if the frame had one.
        payload: Option<RawJson>,
    },
}

impl Request {
    /// The action name.
    pub fn action(&self) -> &str {
        match (self.known_action(), self) {
            (Some(a), _) => a.as_str(),
            (None, Self::Unknown { action, .. }) => action,
            (None, _) => "",
        }
    }

    /// The action, unless it is unknown.
    pub fn known_action(&self) -> Option<Action> {
        Some(match self {
            Self::Login(_) => Action::Login,
            Self::GetArchives(_) => Action::GetArchives,
            Self::GetFilteredChats(_) => Action::GetFilteredChats,
            Self::GetChatThreads(_) => Action::GetChatThreads,
            Self::StartChat(_) => Action::StartChat,
            Self::JoinChat(_) => Action::JoinChat,
            Self::RemoveFromChat(_) => Action::RemoveFromChat,
            Self::SendEvent(_) => Action::SendEvent,
            Self::SendRichMessagePostback(_) => Action::SendRichMessagePostback,
            Self::Multicast(_) => Action::Multicast,
            Self::SendTypingIndicator(_) => Action::SendTypingIndicator,
            Self::BanCustomer(_) => Action::BanCustomer,
            Self::CloseThread(_) => Action::CloseThread,
            Self::UpdateChatScopes(_) => Action::UpdateChatScopes,
            Self::UpdateAgent(_) => Action::UpdateAgent,
            Self::ChangePushNotifications(_) => Action::ChangePushNotifications,
            Self::UpdateChatProperties(_) => Action::UpdateChatProperties,
            Self::UpdateChatThreadProperties(_) => Action::UpdateChatThreadProperties,
            Self::UpdateLastSeenTimestamp(_) => Action::UpdateLastSeenTimestamp,
            Self::AddAutoChatScopes(_) => Action::AddAutoChatScopes,
            Self::RemoveAutoChatScopes(_) => Action::RemoveAutoChatScopes,
            Self::GetAutoChatScopesConfig => Action::GetAutoChatScopesConfig,
            Self::UploadImage(_) => Action::UploadImage,
            Self::Ping => Action::Ping,
            Self::Unknown { .. } => return None,
        })
    }

    /// Whether the frame carries a `payload` key (every request but those without one).
    pub(crate) fn has_payload(&self) -> bool {
        match self {
            Self::Ping | Self::GetAutoChatScopesConfig => false,
            Self::Unknown { payload, .. } => payload.is_some(),
            _ => true,
        }
    }
}

/// Serializes the payload of a request (its `payload` value).
pub(crate) struct RequestPayload<'a>(pub(crate) &'a Request);

impl Serialize for RequestPayload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Request::Login(p) => p.serialize(s),
            Request::GetArchives(p) => p.serialize(s),
            Request::GetFilteredChats(p) => p.serialize(s),
            Request::GetChatThreads(p) => p.serialize(s),
            Request::StartChat(p) => p.serialize(s),
            Request::JoinChat(p) => p.serialize(s),
            Request::RemoveFromChat(p) => p.serialize(s),
            Request::SendEvent(p) => p.serialize(s),
            Request::SendRichMessagePostback(p) => p.serialize(s),
            Request::Multicast(p) => p.serialize(s),
            Request::SendTypingIndicator(p) => p.serialize(s),
            Request::BanCustomer(p) => p.serialize(s),
            Request::CloseThread(p) => p.serialize(s),
            Request::UpdateChatScopes(p) => p.serialize(s),
            Request::UpdateAgent(p) => p.serialize(s),
            Request::ChangePushNotifications(p) => p.serialize(s),
            Request::UpdateChatProperties(p) => p.serialize(s),
            Request::UpdateChatThreadProperties(p) => p.serialize(s),
            Request::UpdateLastSeenTimestamp(p) => p.serialize(s),
            Request::AddAutoChatScopes(p) => p.serialize(s),
            Request::RemoveAutoChatScopes(p) => p.serialize(s),
            Request::UploadImage(p) => p.serialize(s),
            Request::Unknown { payload: Some(p), .. } => p.serialize(s),
            Request::Ping | Request::GetAutoChatScopesConfig | Request::Unknown { payload: None, .. } => {
                EmptyObject.serialize(s)
            }
        }
    }
}

/// Decodes a known action's payload; `null` or absent reads as `{}`.
pub(crate) struct RequestSeed(pub(crate) Action);

impl PayloadSeed for RequestSeed {
    type Out = Request;

    fn present<'de, D: Deserializer<'de>>(self, d: D) -> Result<Request, D::Error> {
        Ok(match self.0 {
            Action::Login => Request::Login(Deserialize::deserialize(d)?),
            Action::GetArchives => Request::GetArchives(Deserialize::deserialize(d)?),
            Action::GetFilteredChats => Request::GetFilteredChats(Deserialize::deserialize(d)?),
            Action::GetChatThreads => Request::GetChatThreads(Deserialize::deserialize(d)?),
            Action::StartChat => Request::StartChat(start_chat::decode(d)?),
            Action::JoinChat => Request::JoinChat(Deserialize::deserialize(d)?),
            Action::RemoveFromChat => Request::RemoveFromChat(Deserialize::deserialize(d)?),
            Action::SendEvent => Request::SendEvent(Deserialize::deserialize(d)?),
            Action::SendRichMessagePostback => Request::SendRichMessagePostback(Deserialize::deserialize(d)?),
            Action::Multicast => Request::Multicast(Deserialize::deserialize(d)?),
            Action::SendTypingIndicator => Request::SendTypingIndicator(Deserialize::deserialize(d)?),
            Action::BanCustomer => Request::BanCustomer(Deserialize::deserialize(d)?),
            Action::CloseThread => Request::CloseThread(Deserialize::deserialize(d)?),
            Action::UpdateChatScopes => Request::UpdateChatScopes(Deserialize::deserialize(d)?),
            Action::UpdateAgent => Request::UpdateAgent(Deserialize::deserialize(d)?),
            Action::ChangePushNotifications => Request::ChangePushNotifications(Deserialize::deserialize(d)?),
            Action::UpdateChatProperties => Request::UpdateChatProperties(Deserialize::deserialize(d)?),
            Action::UpdateChatThreadProperties => Request::UpdateChatThreadProperties(Deserialize::deserialize(d)?),
            Action::UpdateLastSeenTimestamp => Request::UpdateLastSeenTimestamp(Deserialize::deserialize(d)?),
            Action::AddAutoChatScopes => Request::AddAutoChatScopes(Deserialize::deserialize(d)?),
            Action::RemoveAutoChatScopes => Request::RemoveAutoChatScopes(Deserialize::deserialize(d)?),
            Action::GetAutoChatScopesConfig => {
                IgnoredAny::deserialize(d)?;
                Request::GetAutoChatScopesConfig
            }
            Action::UploadImage => Request::UploadImage(Deserialize::deserialize(d)?),
            Action::Ping => {
                IgnoredAny::deserialize(d)?;
                Request::Ping
            }
        })
    }
}

impl<'de> DeserializeSeed<'de> for RequestSeed {
    type Value = Request;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Request, D::Error> {
        d.deserialize_option(OptionSeed(self))
    }
}

/// The success payload of an agent response: one variant per action.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ResponseData {
    /// `login`.
    Login(LoginResponse),
    /// `get_archives`.
    GetArchives(GetArchivesResponse),
    /// `get_filtered_chats`.
    GetFilteredChats(GetFilteredChatsResponse),
    /// `get_chat_threads`.
    GetChatThreads(GetChatThreadsResponse),
    /// `start_chat`.
    StartChat(StartChatResponse),
    /// `join_chat` (no payload).
    JoinChat,
    /// `remove_from_chat` (no payload).
    RemoveFromChat,
    /// `send_event`.
    SendEvent(SendEventResponse),
    /// `send_rich_message_postback` (no payload).
    SendRichMessagePostback,
    /// `multicast` (no payload).
    Multicast,
    /// `send_typing_indicator` (no payload).
    SendTypingIndicator,
    /// `ban_customer` (no payload).
    BanCustomer,
    /// `close_thread` (no payload).
    CloseThread,
    /// `update_chat_scopes` (no payload).
    UpdateChatScopes,
    /// `update_agent` (no payload).
    UpdateAgent,
    /// `change_push_notifications` (no payload).
    ChangePushNotifications,
    /// `update_chat_properties` (no payload).
    UpdateChatProperties,
    /// `update_chat_thread_properties` (no payload).
    UpdateChatThreadProperties,
    /// `update_last_seen_timestamp`.
    UpdateLastSeenTimestamp(UpdateLastSeenTimestampResponse),
    /// `add_auto_chat_scopes`.
    AddAutoChatScopes(AddAutoChatScopesResponse),
    /// `remove_auto_chat_scopes` (no payload).
    RemoveAutoChatScopes,
    /// `get_auto_chat_scopes_config`.
    GetAutoChatScopesConfig(GetAutoChatScopesConfigResponse),
    /// `upload_image`.
    UploadImage(UploadImageResponse),
    /// `ping` (no payload).
    Ping,
    /// A response to an action this crate does not know, its payload kept verbatim.
    Unknown {
        /// The action name.
        action: String,
        /// The payload, if the frame had one.
        payload: Option<RawJson>,
    },
}

impl ResponseData {
    /// The action name.
    pub fn action(&self) -> &str {
        match (self.known_action(), self) {
            (Some(a), _) => a.as_str(),
            (None, Self::Unknown { action, .. }) => action,
            (None, _) => "",
        }
    }

    /// The action, unless it is unknown.
    pub fn known_action(&self) -> Option<Action> {
        Some(match self {
            Self::Login(_) => Action::Login,
            Self::GetArchives(_) => Action::GetArchives,
            Self::GetFilteredChats(_) => Action::GetFilteredChats,
            Self::GetChatThreads(_) => Action::GetChatThreads,
            Self::StartChat(_) => Action::StartChat,
            Self::JoinChat => Action::JoinChat,
            Self::RemoveFromChat => Action::RemoveFromChat,
            Self::SendEvent(_) => Action::SendEvent,
            Self::SendRichMessagePostback => Action::SendRichMessagePostback,
            Self::Multicast => Action::Multicast,
            Self::SendTypingIndicator => Action::SendTypingIndicator,
            Self::BanCustomer => Action::BanCustomer,
            Self::CloseThread => Action::CloseThread,
            Self::UpdateChatScopes => Action::UpdateChatScopes,
            Self::UpdateAgent => Action::UpdateAgent,
            Self::ChangePushNotifications => Action::ChangePushNotifications,
            Self::UpdateChatProperties => Action::UpdateChatProperties,
            Self::UpdateChatThreadProperties => Action::UpdateChatThreadProperties,
            Self::UpdateLastSeenTimestamp(_) => Action::UpdateLastSeenTimestamp,
            Self::AddAutoChatScopes(_) => Action::AddAutoChatScopes,
            Self::RemoveAutoChatScopes => Action::RemoveAutoChatScopes,
            Self::GetAutoChatScopesConfig(_) => Action::GetAutoChatScopesConfig,
            Self::UploadImage(_) => Action::UploadImage,
            Self::Ping => Action::Ping,
            Self::Unknown { .. } => return None,
        })
    }

    /// The payload-less success response of an action that has no response payload.
    pub fn empty(action: Action) -> Option<Self> {
        Some(match action {
            Action::JoinChat => Self::JoinChat,
            Action::RemoveFromChat => Self::RemoveFromChat,
            Action::SendRichMessagePostback => Self::SendRichMessagePostback,
            Action::Multicast => Self::Multicast,
            Action::SendTypingIndicator => Self::SendTypingIndicator,
            Action::BanCustomer => Self::BanCustomer,
            Action::CloseThread => Self::CloseThread,
            Action::UpdateChatScopes => Self::UpdateChatScopes,
            Action::UpdateAgent => Self::UpdateAgent,
            Action::ChangePushNotifications => Self::ChangePushNotifications,
            Action::UpdateChatProperties => Self::UpdateChatProperties,
            Action::UpdateChatThreadProperties => Self::UpdateChatThreadProperties,
            Action::RemoveAutoChatScopes => Self::RemoveAutoChatScopes,
            Action::Ping => Self::Ping,
            _ => return None,
        })
    }
}

/// Serializes the payload of a success response.
pub(crate) struct ResponsePayload<'a>(pub(crate) &'a ResponseData);

impl Serialize for ResponsePayload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            ResponseData::Login(p) => p.serialize(s),
            ResponseData::GetArchives(p) => p.serialize(s),
            ResponseData::GetFilteredChats(p) => p.serialize(s),
            ResponseData::GetChatThreads(p) => p.serialize(s),
            ResponseData::StartChat(p) => p.serialize(s),
            ResponseData::SendEvent(p) => p.serialize(s),
            ResponseData::UpdateLastSeenTimestamp(p) => p.serialize(s),
            ResponseData::AddAutoChatScopes(p) => p.serialize(s),
            ResponseData::GetAutoChatScopesConfig(p) => p.serialize(s),
            ResponseData::UploadImage(p) => p.serialize(s),
            ResponseData::Unknown { payload: Some(p), .. } => p.serialize(s),
            ResponseData::Unknown { payload: None, .. } => EmptyObject.serialize(s),
            ResponseData::JoinChat
            | ResponseData::RemoveFromChat
            | ResponseData::SendRichMessagePostback
            | ResponseData::Multicast
            | ResponseData::SendTypingIndicator
            | ResponseData::BanCustomer
            | ResponseData::CloseThread
            | ResponseData::UpdateChatScopes
            | ResponseData::UpdateAgent
            | ResponseData::ChangePushNotifications
            | ResponseData::UpdateChatProperties
            | ResponseData::UpdateChatThreadProperties
            | ResponseData::RemoveAutoChatScopes
            | ResponseData::Ping => EmptyObject.serialize(s),
        }
    }
}

impl fmt::Display for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.action())
    }
}
