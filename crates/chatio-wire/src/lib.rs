//! # chatio-wire
//!
//! The chat.io **Customer API v0.5** as typed serde values: every frame, object, method
//! payload, response, push, event type and error of the protocol (the project's protocol
//! reference is `docs/protocol/customer-api-v0.5.md`). With the `agent` feature, the
//! **Agent API v0.5** too: `chatio_wire::agent` (`docs/protocol/agent-api-v0.5.md`), sharing every object
//! with the customer side.
//!
//! This crate does no I/O, reads no clock and keeps no state. The SDK (`chatio-core`) encodes
//! [`ClientFrame`]s and decodes [`ServerFrame`]s; the reference server (`chatio-server`) does
//! the opposite with the same types, so the two can never disagree on a field name.
//!
//! ## Getting started
//!
//! ```
//! use chatio_wire::{ClientFrame, NewEvent, Push, Request, RequestId, SendEvent, ServerFrame};
//!
//! // Encode a request.
//! let frame = ClientFrame::new(
//!     Some(RequestId::new("k3j2l1x9q")),
//!     Request::SendEvent(SendEvent::new("OU0V0P0OWT", NewEvent::message("hi"))),
//! );
//! assert_eq!(
//!     frame.encode(),
//!     r#"{"request_id":"k3j2l1x9q","action":"send_event","payload":{"chat_id":"OU0V0P0OWT","event":{"type":"message","text":"hi"}}}"#
//! );
//!
//! // Decode what the server sends.
//! let push = ServerFrame::decode(
//!     r#"{"action":"incoming_event","type":"push","payload":{"chat_id":"OU0V0P0OWT","thread_id":"OU0V0U3IMN",
//!         "event":{"id":"OU0V0U3IMN_3","order":3,"type":"message","author_id":"agent@example.com","timestamp":1520000000,"text":"hello"}}}"#,
//! )?;
//! let ServerFrame::Push(frame) = push else { panic!("expected a push") };
//! let Push::IncomingEvent(incoming) = frame.push else { panic!("expected incoming_event") };
//! assert_eq!(incoming.event.kind.to_string(), "hello");
//! # Ok::<(), chatio_wire::DecodeError>(())
//! ```
//!
//! ## Crate features
//!
//! * `agent` (off by default): the `agent` module, and the agent-view fields of the shared
//!   objects ([`User`]'s `monitoring`, `banned`, `routing_status`, `permission`; `recipients`
//!   on [`NewEvent`], [`TypingIndicator`] and [`SneakPeek`]; [`Chat`]'s `threads_summary`).
//!   A customer client leaves it off: none of that code is compiled in.
//!
//! ## Forward compatibility
//!
//! * An unknown action, push or event type decodes to an `Unknown` variant that keeps the raw
//!   JSON ([`Request::Unknown`], [`ResponseData::Unknown`], [`Push::Unknown`],
//!   [`EventKind::Unknown`]) and encodes back unchanged. Unknown error types, disconnect
//!   reasons and user types become `Other(String)`.
//! * Unknown keys are ignored, never an error.
//! * Public enums and protocol structs are `#[non_exhaustive]`; structs have public fields and
//!   `new(..)` constructors taking their required fields.
//!
//! ## Tolerant input, canonical output
//!
//! Every form listed under "Where sources disagree" in the protocol file is accepted, and the
//! reference form is written. Among others: both `start_chat` shapes (D1), `total_events` and
//! `events_count` (D2), wrapped and flat property values (D6), both `chat_users_updated`
//! shapes (D7), the legacy request id key `id` and numeric ids (D14), a missing `is_typing`
//! (D23), both `last_event_per_type` shapes (D24), a `scopes` wrapper (D27), `properties` as
//! an alias of a customer's `fields` (D28), JSON `null` read as an absent key.
//!
//! ## Decoding untrusted input
//!
//! [`ClientFrame::decode`] and [`ServerFrame::decode`] (and their `_bytes` forms) are total:
//! they return a [`DecodeError`] saying what is wrong and where (action, field path, line and
//! column, and the request id when it could be read), and never panic. Limits:
//!
//! * frame size: at most [`MAX_FRAME_LEN`] (1 MiB, the limit on what a server accepts, G23)
//!   by default, checked before parsing ([`Limits`] changes it; the SDK's core decodes server
//!   frames with a 16 MiB limit, since a `get_chat_threads` answer carries whole threads);
//! * nesting: a value the decoder reads may be nested at most [`MAX_DEPTH`] (128) levels
//!   (serde_json's recursion limit; deeper fails with [`DecodeErrorKind::TooDeep`]). Values
//!   it skips (unknown keys) or keeps raw (the payload of an unknown action or push) are
//!   scanned without recursion: their depth costs no stack and is bounded by the frame size;
//! * string sizes are bounded only by the frame size; semantic limits (text length, number
//!   of elements) are the server's to enforce.
//!
//! ## Timestamps
//!
//! [`Timestamp`] keeps the wire unit, whole seconds since the Unix epoch, and converts with
//! [`Timestamp::to_system_time`] and [`Timestamp::as_millis`].
//!
//! ## Secrets
//!
//! A login [`Token`] prints as `Token(<redacted>)` in `Debug` output and has no `Display`.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

mod actions;
#[cfg(feature = "agent")]
pub mod agent;
mod frame;
mod ids;
pub mod limits;
mod objects;
mod pushes;
mod raw;
mod time;
mod token;

pub use actions::*;
pub use frame::*;
pub use ids::{ChatId, EventId, LicenseId, RequestId, ThreadId, UserId};
#[cfg(feature = "agent")]
pub use objects::agent_view::{
    CurrentVisit, CustomerMonitoring, Geolocation, Permission, RoutingStatus, ThreadRef, VisitStats, VisitedPage,
};
pub use objects::chat::{Chat, ChatSummary, LastEvent};
pub use objects::customer::{CustomerData, Monitoring, Page};
pub use objects::error::{DisconnectReason, ErrorObject, ErrorType};
pub use objects::event::{
    Annotation, Button, Custom, Event, EventKind, FileAttachment, FilledForm, FormField, FormOption, Image, Message,
    NewEvent, Recipients, RichElement, RichMessage, SystemMessage,
};
pub use objects::properties::{Properties, PropertyValue};
pub use objects::scopes::Scopes;
pub use objects::thread::{Thread, ThreadSummary};
pub use objects::typing::{SneakPeek, TypingIndicator};
pub use objects::user::{User, UserType};
pub use pushes::*;
pub use raw::RawJson;
pub use time::Timestamp;
pub use token::Token;

/// `serialize_with` helpers for the flat (request) form of properties.
pub mod properties {
    pub use crate::objects::properties::flat;
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
