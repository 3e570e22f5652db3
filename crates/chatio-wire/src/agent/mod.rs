//! The chat.io **Agent API v0.5** (the `agent` feature): every request, response and push
//! an agent client sends or receives, as typed serde values (the project's protocol
//! reference is `docs/protocol/agent-api-v0.5.md`).
//!
//! Agents and customers are in the same chats, and the two APIs share their objects: a
//! [`Chat`](crate::Chat), [`Thread`](crate::Thread), [`User`](crate::User) or
//! [`Event`](crate::Event) is one type for both sides. With this feature the shared objects
//! also carry what only agents see: users' [`monitoring`](crate::User::monitoring),
//! [`banned`](crate::User::banned), [`routing_status`](crate::User::routing_status) and
//! [`permission`](crate::User::permission), [`recipients`](crate::NewEvent::recipients) on
//! events, typing indicators and sneak peeks, and the `threads_summary` of
//! `get_chat_threads`. Where an action or push has the same payload on both sides (`send_event`,
//! `close_thread`, `incoming_event`, `thread_closed`...), this module's enums use the customer
//! side's payload type; where the agent side differs (`login`, `chat_users_updated`...) or has
//! something the customer side has not (`join_chat`, `agent_updated`...), the type is here.
//!
//! The frames have the customer side's envelopes, decoding rules and errors: total decoding
//! with a [`DecodeError`](crate::DecodeError) saying what and where, `Unknown` variants for
//! actions and pushes from a newer server, unknown keys ignored, the reference form written.
//!
//! ```
//! use chatio_wire::agent::{ClientFrame, Push, Request, ServerFrame};
//! use chatio_wire::{NewEvent, Recipients, RequestId, SendEvent};
//!
//! // A whisper: only agents see it.
//! let event = NewEvent::message("she asked for a refund").with_recipients(Recipients::Agents);
//! let frame = ClientFrame::new(Some(RequestId::new("7")), Request::SendEvent(SendEvent::new("OU0V0P0OWT", event)));
//! assert_eq!(
//!     frame.encode(),
//!     r#"{"request_id":"7","action":"send_event","payload":{"chat_id":"OU0V0P0OWT","event":{"type":"message","text":"she asked for a refund","recipients":"agents"}}}"#
//! );
//!
//! let push = ServerFrame::decode(
//!     r#"{"action":"incoming_sneak_peek","type":"push","payload":{"chat_id":"OU0V0P0OWT",
//!         "sneak_peek":{"author_id":"c1","recipients":"agents","timestamp":1520000003,"text":"what is the pri"}}}"#,
//! )?;
//! let ServerFrame::Push(frame) = push else { panic!("expected a push") };
//! let Push::IncomingSneakPeek(peek) = frame.push else { panic!("expected incoming_sneak_peek") };
//! assert_eq!(peek.sneak_peek.text, "what is the pri");
//! # Ok::<(), chatio_wire::DecodeError>(())
//! ```

mod actions;
mod frame;
pub(crate) mod objects;
mod pushes;

pub use actions::*;
pub use frame::{ClientFrame, PushFrame, Response, ServerFrame};
pub use objects::auto_chat_scopes::{AutoChatScopesConfig, AutoChatScopesRules, UrlFilter, UrlMatch};
pub use objects::ban::Ban;
pub use objects::chat_summary::{ChatSummary, LastThreadSummary};
pub use objects::filters::{Date, DateError, PropertyFilter, PropertyFilters};
pub use objects::license::License;
pub use objects::multicast::{MulticastAgents, MulticastCustomers, MulticastScopes};
pub use pushes::*;

pub use crate::actions::{
    CloseThread, GetChatThreads, GetChatThreadsResponse, SendEvent, SendEventResponse, SendRichMessagePostback,
    StartChat, StartChatResponse, UpdateChatProperties, UpdateChatScopes, UpdateChatThreadProperties,
    UpdateLastSeenTimestamp, UpdateLastSeenTimestampResponse,
};
pub use crate::frame::Failure;
/// The agent-view objects of the shared types.
pub use crate::objects::agent_view::{
    CurrentVisit, CustomerMonitoring, Geolocation, ThreadRef, VisitStats, VisitedPage,
};
pub use crate::objects::agent_view::{Permission, RoutingStatus};
/// The shared payload types this module's enums use, under the same paths as the agent-only
/// ones.
pub use crate::pushes::{
    ChatPropertiesUpdated, ChatScopesUpdated, ChatThreadPropertiesUpdated, CustomerUpdated, IncomingChatThread,
    IncomingEvent, IncomingMulticast, IncomingRichMessagePostback, IncomingTypingIndicator, LastSeenTimestampUpdated,
    ThreadClosed,
};
