//! Actions (methods): one module per action with its request payload and response payload,
//! and the [`Request`] and [`ResponseData`] enums that dispatch on the action name.

mod close_thread;
mod get_chat_threads;
mod get_chat_threads_summary;
mod get_chats_summary;
mod login;
mod send_event;
mod send_file;
mod send_rich_message_postback;
mod send_sneak_peek;
mod start_chat;
mod update_chat_properties;
mod update_chat_scopes;
mod update_chat_thread_properties;
mod update_customer;
mod update_last_seen_timestamp;

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, Visitor};
use serde::{Deserialize, Serialize, Serializer};

pub use close_thread::CloseThread;
pub use get_chat_threads::{GetChatThreads, GetChatThreadsResponse};
pub use get_chat_threads_summary::{GetChatThreadsSummary, GetChatThreadsSummaryResponse};
pub use get_chats_summary::{GetChatsSummary, GetChatsSummaryResponse};
pub use login::{Login, LoginResponse};
pub use send_event::{SendEvent, SendEventResponse};
pub use send_file::{SendFile, SendFileResponse};
pub use send_rich_message_postback::{Postback, SendRichMessagePostback};
pub use send_sneak_peek::SendSneakPeek;
#[cfg(feature = "agent")]
pub(crate) use start_chat::scopes_from_routing;
pub use start_chat::{NewChat, NewThread, StartChat, StartChatResponse};
pub use update_chat_properties::UpdateChatProperties;
pub use update_chat_scopes::UpdateChatScopes;
pub use update_chat_thread_properties::UpdateChatThreadProperties;
pub use update_customer::{UpdateCustomer, UpdateCustomerResponse};
pub use update_last_seen_timestamp::{UpdateLastSeenTimestamp, UpdateLastSeenTimestampResponse};

use crate::raw::RawJson;

macro_rules! names {
    ($(#[$meta:meta])* $name:ident { $( $(#[$vmeta:meta])* $var:ident = $wire:literal ),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $var, )+
        }

        impl $name {
            /// Every name, in the protocol file's order.
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$var => $wire, )+
                }
            }

            /// The value for a wire name, if known.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $( $wire => Some(Self::$var), )+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use names;

names!(
    /// The v0.5 customer actions (protocol file, 1.3).
    Action {
        /// `login` (RTM).
        Login = "login",
        /// `get_chats_summary` (RTM).
        GetChatsSummary = "get_chats_summary",
        /// `get_chat_threads` (RTM).
        GetChatThreads = "get_chat_threads",
        /// `get_chat_threads_summary` (RTM).
        GetChatThreadsSummary = "get_chat_threads_summary",
        /// `start_chat` (RTM, Web API).
        StartChat = "start_chat",
        /// `send_event` (RTM, Web API).
        SendEvent = "send_event",
        /// `send_file` (Web API only).
        SendFile = "send_file",
        /// `send_rich_message_postback` (RTM, Web API).
        SendRichMessagePostback = "send_rich_message_postback",
        /// `send_sneak_peek` (RTM, Web API).
        SendSneakPeek = "send_sneak_peek",
        /// `close_thread` (RTM, Web API).
        CloseThread = "close_thread",
        /// `update_chat_scopes` (RTM, Web API).
        UpdateChatScopes = "update_chat_scopes",
        /// `update_customer` (RTM, Web API).
        UpdateCustomer = "update_customer",
        /// `update_chat_properties` (RTM, Web API).
        UpdateChatProperties = "update_chat_properties",
        /// `update_chat_thread_properties` (RTM, Web API).
        UpdateChatThreadProperties = "update_chat_thread_properties",
        /// `update_last_seen_timestamp` (RTM).
        UpdateLastSeenTimestamp = "update_last_seen_timestamp",
        /// `ping` (RTM keep-alive).
        Ping = "ping",
    }
);

impl Action {
    /// Whether the action exists on the RTM (websocket) transport.
    pub const fn on_rtm(self) -> bool {
        !matches!(self, Self::SendFile)
    }

    /// Whether the reference lists the action for the Web API (the reference server also
    /// serves the RTM-only reads there, G33).
    pub const fn on_web_api(self) -> bool {
        !matches!(
            self,
            Self::Login
                | Self::Ping
                | Self::GetChatsSummary
                | Self::GetChatThreads
                | Self::GetChatThreadsSummary
                | Self::UpdateLastSeenTimestamp
        )
    }
}

/// A request: one variant per action, each with its payload.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Request {
    /// `login`.
    Login(Login),
    /// `get_chats_summary`.
    GetChatsSummary(GetChatsSummary),
    /// `get_chat_threads`.
    GetChatThreads(GetChatThreads),
    /// `get_chat_threads_summary`.
    GetChatThreadsSummary(GetChatThreadsSummary),
    /// `start_chat`.
    StartChat(StartChat),
    /// `send_event`.
    SendEvent(SendEvent),
    /// `send_file` (the multipart form's text fields; never a JSON frame).
    SendFile(SendFile),
    /// `send_rich_message_postback`.
    SendRichMessagePostback(SendRichMessagePostback),
    /// `send_sneak_peek`.
    SendSneakPeek(SendSneakPeek),
    /// `close_thread`.
    CloseThread(CloseThread),
    /// `update_chat_scopes`.
    UpdateChatScopes(UpdateChatScopes),
    /// `update_customer`.
    UpdateCustomer(UpdateCustomer),
    /// `update_chat_properties`.
    UpdateChatProperties(UpdateChatProperties),
    /// `update_chat_thread_properties`.
    UpdateChatThreadProperties(UpdateChatThreadProperties),
    /// `update_last_seen_timestamp`.
    UpdateLastSeenTimestamp(UpdateLastSeenTimestamp),
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
        match self.known_action() {
            Some(a) => a.as_str(),
            None => match self {
                Self::Unknown { action, .. } => action,
                _ => "",
            },
        }
    }

    /// The action, unless it is unknown.
    pub fn known_action(&self) -> Option<Action> {
        Some(match self {
            Self::Login(_) => Action::Login,
            Self::GetChatsSummary(_) => Action::GetChatsSummary,
            Self::GetChatThreads(_) => Action::GetChatThreads,
            Self::GetChatThreadsSummary(_) => Action::GetChatThreadsSummary,
            Self::StartChat(_) => Action::StartChat,
            Self::SendEvent(_) => Action::SendEvent,
            Self::SendFile(_) => Action::SendFile,
            Self::SendRichMessagePostback(_) => Action::SendRichMessagePostback,
            Self::SendSneakPeek(_) => Action::SendSneakPeek,
            Self::CloseThread(_) => Action::CloseThread,
            Self::UpdateChatScopes(_) => Action::UpdateChatScopes,
            Self::UpdateCustomer(_) => Action::UpdateCustomer,
            Self::UpdateChatProperties(_) => Action::UpdateChatProperties,
            Self::UpdateChatThreadProperties(_) => Action::UpdateChatThreadProperties,
            Self::UpdateLastSeenTimestamp(_) => Action::UpdateLastSeenTimestamp,
            Self::Ping => Action::Ping,
            Self::Unknown { .. } => return None,
        })
    }

    /// Whether the frame carries a `payload` key (every request but `ping` and an unknown one
    /// without payload).
    pub(crate) fn has_payload(&self) -> bool {
        match self {
            Self::Ping => false,
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
            Request::GetChatsSummary(p) => p.serialize(s),
            Request::GetChatThreads(p) => p.serialize(s),
            Request::GetChatThreadsSummary(p) => p.serialize(s),
            Request::StartChat(p) => p.serialize(s),
            Request::SendEvent(p) => p.serialize(s),
            Request::SendFile(p) => p.serialize(s),
            Request::SendRichMessagePostback(p) => p.serialize(s),
            Request::SendSneakPeek(p) => p.serialize(s),
            Request::CloseThread(p) => p.serialize(s),
            Request::UpdateChatScopes(p) => p.serialize(s),
            Request::UpdateCustomer(p) => p.serialize(s),
            Request::UpdateChatProperties(p) => p.serialize(s),
            Request::UpdateChatThreadProperties(p) => p.serialize(s),
            Request::UpdateLastSeenTimestamp(p) => p.serialize(s),
            Request::Ping => EmptyObject.serialize(s),
            Request::Unknown { payload: Some(p), .. } => p.serialize(s),
            Request::Unknown { payload: None, .. } => EmptyObject.serialize(s),
        }
    }
}

/// `{}`.
pub(crate) struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        s.serialize_map(Some(0))?.end()
    }
}

/// Decodes a known action's payload; `null` or absent reads as `{}`.
pub(crate) struct RequestSeed(pub(crate) Action);

impl RequestSeed {
    fn some<'de, D: Deserializer<'de>>(self, d: D) -> Result<Request, D::Error> {
        Ok(match self.0 {
            Action::Login => Request::Login(Deserialize::deserialize(d)?),
            Action::GetChatsSummary => Request::GetChatsSummary(Deserialize::deserialize(d)?),
            Action::GetChatThreads => Request::GetChatThreads(Deserialize::deserialize(d)?),
            Action::GetChatThreadsSummary => Request::GetChatThreadsSummary(Deserialize::deserialize(d)?),
            Action::StartChat => Request::StartChat(Deserialize::deserialize(d)?),
            Action::SendEvent => Request::SendEvent(Deserialize::deserialize(d)?),
            Action::SendFile => Request::SendFile(Deserialize::deserialize(d)?),
            Action::SendRichMessagePostback => Request::SendRichMessagePostback(Deserialize::deserialize(d)?),
            Action::SendSneakPeek => Request::SendSneakPeek(Deserialize::deserialize(d)?),
            Action::CloseThread => Request::CloseThread(Deserialize::deserialize(d)?),
            Action::UpdateChatScopes => Request::UpdateChatScopes(Deserialize::deserialize(d)?),
            Action::UpdateCustomer => Request::UpdateCustomer(Deserialize::deserialize(d)?),
            Action::UpdateChatProperties => Request::UpdateChatProperties(Deserialize::deserialize(d)?),
            Action::UpdateChatThreadProperties => Request::UpdateChatThreadProperties(Deserialize::deserialize(d)?),
            Action::UpdateLastSeenTimestamp => Request::UpdateLastSeenTimestamp(Deserialize::deserialize(d)?),
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

/// The success payload of a response: one variant per action.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ResponseData {
    /// `login`.
    Login(LoginResponse),
    /// `get_chats_summary`.
    GetChatsSummary(GetChatsSummaryResponse),
    /// `get_chat_threads`.
    GetChatThreads(GetChatThreadsResponse),
    /// `get_chat_threads_summary`.
    GetChatThreadsSummary(GetChatThreadsSummaryResponse),
    /// `start_chat`.
    StartChat(StartChatResponse),
    /// `send_event`.
    SendEvent(SendEventResponse),
    /// `send_file`.
    SendFile(SendFileResponse),
    /// `send_rich_message_postback` (no payload).
    SendRichMessagePostback,
    /// `send_sneak_peek` (no payload).
    SendSneakPeek,
    /// `close_thread` (no payload).
    CloseThread,
    /// `update_chat_scopes` (no payload).
    UpdateChatScopes,
    /// `update_customer`.
    UpdateCustomer(UpdateCustomerResponse),
    /// `update_chat_properties` (no payload).
    UpdateChatProperties,
    /// `update_chat_thread_properties` (no payload).
    UpdateChatThreadProperties,
    /// `update_last_seen_timestamp`.
    UpdateLastSeenTimestamp(UpdateLastSeenTimestampResponse),
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
        match self.known_action() {
            Some(a) => a.as_str(),
            None => match self {
                Self::Unknown { action, .. } => action,
                _ => "",
            },
        }
    }

    /// The action, unless it is unknown.
    pub fn known_action(&self) -> Option<Action> {
        Some(match self {
            Self::Login(_) => Action::Login,
            Self::GetChatsSummary(_) => Action::GetChatsSummary,
            Self::GetChatThreads(_) => Action::GetChatThreads,
            Self::GetChatThreadsSummary(_) => Action::GetChatThreadsSummary,
            Self::StartChat(_) => Action::StartChat,
            Self::SendEvent(_) => Action::SendEvent,
            Self::SendFile(_) => Action::SendFile,
            Self::SendRichMessagePostback => Action::SendRichMessagePostback,
            Self::SendSneakPeek => Action::SendSneakPeek,
            Self::CloseThread => Action::CloseThread,
            Self::UpdateChatScopes => Action::UpdateChatScopes,
            Self::UpdateCustomer(_) => Action::UpdateCustomer,
            Self::UpdateChatProperties => Action::UpdateChatProperties,
            Self::UpdateChatThreadProperties => Action::UpdateChatThreadProperties,
            Self::UpdateLastSeenTimestamp(_) => Action::UpdateLastSeenTimestamp,
            Self::Ping => Action::Ping,
            Self::Unknown { .. } => return None,
        })
    }

    /// The payload-less success response of an action that has no response payload.
    pub fn empty(action: Action) -> Option<Self> {
        Some(match action {
            Action::SendRichMessagePostback => Self::SendRichMessagePostback,
            Action::SendSneakPeek => Self::SendSneakPeek,
            Action::CloseThread => Self::CloseThread,
            Action::UpdateChatScopes => Self::UpdateChatScopes,
            Action::UpdateChatProperties => Self::UpdateChatProperties,
            Action::UpdateChatThreadProperties => Self::UpdateChatThreadProperties,
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
            ResponseData::GetChatsSummary(p) => p.serialize(s),
            ResponseData::GetChatThreads(p) => p.serialize(s),
            ResponseData::GetChatThreadsSummary(p) => p.serialize(s),
            ResponseData::StartChat(p) => p.serialize(s),
            ResponseData::SendEvent(p) => p.serialize(s),
            ResponseData::SendFile(p) => p.serialize(s),
            ResponseData::UpdateCustomer(p) => p.serialize(s),
            ResponseData::UpdateLastSeenTimestamp(p) => p.serialize(s),
            ResponseData::Unknown { payload: Some(p), .. } => p.serialize(s),
            ResponseData::SendRichMessagePostback
            | ResponseData::SendSneakPeek
            | ResponseData::CloseThread
            | ResponseData::UpdateChatScopes
            | ResponseData::UpdateChatProperties
            | ResponseData::UpdateChatThreadProperties
            | ResponseData::Ping
            | ResponseData::Unknown { payload: None, .. } => EmptyObject.serialize(s),
        }
    }
}

/// A payload decoder per action, whose `null` or absent payload reads as `{}`.
pub(crate) trait PayloadSeed: Sized {
    /// What it decodes.
    type Out;

    /// Decodes a present payload.
    fn present<'de, D: Deserializer<'de>>(self, d: D) -> Result<Self::Out, D::Error>;

    /// Decodes an absent (or `null`) payload as `{}`: payloads whose fields are all optional
    /// succeed, others fail naming their first missing field.
    fn absent<E: de::Error>(self) -> Result<Self::Out, E> {
        let mut de = serde_json::Deserializer::from_str("{}");
        self.present(&mut de).map_err(E::custom)
    }
}

impl PayloadSeed for RequestSeed {
    type Out = Request;
    fn present<'de, D: Deserializer<'de>>(self, d: D) -> Result<Request, D::Error> {
        self.some(d)
    }
}

pub(crate) struct OptionSeed<S>(pub(crate) S);

impl<'de, S: PayloadSeed> Visitor<'de> for OptionSeed<S> {
    type Value = S::Out;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a payload object")
    }
    fn visit_none<E: de::Error>(self) -> Result<S::Out, E> {
        self.0.absent()
    }
    fn visit_unit<E: de::Error>(self) -> Result<S::Out, E> {
        self.0.absent()
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<S::Out, D::Error> {
        self.0.present(d)
    }
}
