//! Frames: what travels on the websocket, one JSON object per text frame (protocol file,
//! section 2).
//!
//! * [`ClientFrame`]: a request, client → server.
//! * [`ServerFrame`]: a [`Response`] to a request, or a [`PushFrame`], server → client.
//!
//! Both directions encode and decode, so the SDK and the reference server share one
//! definition of every field. Decoding dispatches on `action` while reading (no
//! `serde_json::Value` detour) when `action` comes before `payload`, as every known sender
//! writes it; otherwise the payload is kept raw and decoded once the action is known.

pub(crate) mod client_serde;
pub(crate) mod decode;
pub(crate) mod impls;
pub(crate) mod server_serde;
pub(crate) mod web;

pub use crate::limits::MAX_FRAME_LEN;
pub use decode::{DecodeError, DecodeErrorKind, Limits, MAX_DEPTH};
#[cfg(feature = "agent")]
pub(crate) use decode::{decode_bytes, decode_str, diagnose};

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny};

use crate::actions::Action;
use crate::actions::{OptionSeed, PayloadSeed, ResponsePayload};
use crate::actions::{Request, ResponseData};
use crate::ids::RequestId;
use crate::objects::error::ErrorObject;
use crate::pushes::Push;
use crate::pushes::PushKind;
use crate::pushes::PushPayload;

/// A request frame: `{"request_id":…,"action":…,"payload":{…}}`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ClientFrame {
    /// Chosen by the client; echoed in the response and in the pushes it causes on this
    /// connection. Read from `id` when `request_id` is absent (D14).
    pub request_id: Option<RequestId>,
    /// The action and its payload.
    pub request: Request,
}

impl ClientFrame {
    /// A frame.
    pub fn new(request_id: Option<RequestId>, request: Request) -> Self {
        Self { request_id, request }
    }

    impls::codec_methods!(decode::decode_str, decode::decode_bytes);
}

/// A frame from the server: a response or a push.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ServerFrame {
    /// `"type":"response"`: the answer to one request.
    Response(Response),
    /// `"type":"push"`: something happened.
    Push(PushFrame),
}

/// The customer API's server frames, for the shared server-frame code.
pub(crate) struct CustomerFrames;

impls::server_frame_impls!(CustomerFrames);

/// The response to a request.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Response {
    /// The request's id, if it had one.
    pub request_id: Option<RequestId>,
    /// `success: true` with the action's payload, or `success: false` with the error.
    pub result: Result<ResponseData, Failure>,
}

/// A failed response: the action and `payload.error`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The action that failed (empty when the frame's action could not be read, G7).
    pub action: String,
    /// The error object.
    pub error: ErrorObject,
}

impl Failure {
    /// A failure.
    pub fn new(action: impl Into<String>, error: ErrorObject) -> Self {
        Self { action: action.into(), error }
    }
}

/// A push frame.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct PushFrame {
    /// Present only on the copy delivered to the connection whose request caused the push.
    pub request_id: Option<RequestId>,
    /// The push.
    pub push: Push,
}

pub(crate) fn encode<T: serde::Serialize>(v: &T) -> String {
    // Every Serialize impl of this crate writes string map keys and finite numbers only, so
    // serde_json cannot fail here; the fallback keeps the function total anyway.
    serde_json::to_string(v).unwrap_or_else(|_| String::from("{}"))
}

/// Decodes a known action's success payload into a frame slot (see `ServerFrameSeed`);
/// `null` or absent reads as `{}`.
pub(crate) struct ResponseSeed<'a> {
    pub(crate) action: Action,
    pub(crate) slot: &'a mut Option<ServerFrame>,
}

impl ResponseSeed<'_> {
    fn put(self, data: ResponseData) {
        *self.slot = Some(ServerFrame::Response(Response::success(None, data)));
    }

    fn some<'de, D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.action {
            Action::Login => self.put(ResponseData::Login(Deserialize::deserialize(d)?)),
            Action::GetChatsSummary => self.put(ResponseData::GetChatsSummary(Deserialize::deserialize(d)?)),
            Action::GetChatThreads => self.put(ResponseData::GetChatThreads(Deserialize::deserialize(d)?)),
            Action::GetChatThreadsSummary => {
                self.put(ResponseData::GetChatThreadsSummary(Deserialize::deserialize(d)?))
            }
            Action::StartChat => self.put(ResponseData::StartChat(Deserialize::deserialize(d)?)),
            Action::SendEvent => self.put(ResponseData::SendEvent(Deserialize::deserialize(d)?)),
            Action::SendFile => self.put(ResponseData::SendFile(Deserialize::deserialize(d)?)),
            Action::UpdateCustomer => self.put(ResponseData::UpdateCustomer(Deserialize::deserialize(d)?)),
            Action::UpdateLastSeenTimestamp => {
                self.put(ResponseData::UpdateLastSeenTimestamp(Deserialize::deserialize(d)?))
            }
            other => {
                IgnoredAny::deserialize(d)?;
                // Every remaining action has an empty response.
                let data = ResponseData::empty(other).ok_or_else(|| de::Error::custom("unexpected action"))?;
                self.put(data);
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for ResponseSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(OptionSeed(self))
    }
}

impl PayloadSeed for ResponseSeed<'_> {
    type Out = ();
    fn present<'de, D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.some(d)
    }
}

/// Decodes a known push's payload into a frame slot (see `ServerFrameSeed`).
pub(crate) struct PushSeed<'a> {
    pub(crate) kind: PushKind,
    pub(crate) slot: &'a mut Option<ServerFrame>,
}

impl PushSeed<'_> {
    fn put(self, push: Push) {
        *self.slot = Some(ServerFrame::Push(PushFrame::new(None, push)));
    }
}

impl PayloadSeed for PushSeed<'_> {
    type Out = ();

    fn present<'de, D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.kind {
            PushKind::IncomingChatThread => self.put(Push::IncomingChatThread(Deserialize::deserialize(d)?)),
            PushKind::ChatUsersUpdated => self.put(Push::ChatUsersUpdated(Deserialize::deserialize(d)?)),
            PushKind::IncomingEvent => self.put(Push::IncomingEvent(Deserialize::deserialize(d)?)),
            PushKind::IncomingRichMessagePostback => {
                self.put(Push::IncomingRichMessagePostback(Deserialize::deserialize(d)?))
            }
            PushKind::IncomingMulticast => self.put(Push::IncomingMulticast(Deserialize::deserialize(d)?)),
            PushKind::IncomingTypingIndicator => self.put(Push::IncomingTypingIndicator(Deserialize::deserialize(d)?)),
            PushKind::CustomerDisconnected => self.put(Push::CustomerDisconnected(Deserialize::deserialize(d)?)),
            PushKind::ThreadClosed => self.put(Push::ThreadClosed(Deserialize::deserialize(d)?)),
            PushKind::ChatScopesUpdated => self.put(Push::ChatScopesUpdated(Deserialize::deserialize(d)?)),
            PushKind::CustomerUpdated => self.put(Push::CustomerUpdated(Deserialize::deserialize(d)?)),
            PushKind::ChatPropertiesUpdated => self.put(Push::ChatPropertiesUpdated(Deserialize::deserialize(d)?)),
            PushKind::ChatThreadPropertiesUpdated => {
                self.put(Push::ChatThreadPropertiesUpdated(Deserialize::deserialize(d)?))
            }
            PushKind::LastSeenTimestampUpdated => {
                self.put(Push::LastSeenTimestampUpdated(Deserialize::deserialize(d)?))
            }
        }
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for PushSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(OptionSeed(self))
    }
}
