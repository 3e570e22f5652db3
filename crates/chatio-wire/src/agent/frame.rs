//! Agent frames (agent protocol file, 2.3): what travels on the agent websocket, one JSON
//! object per text frame, and the Agent Web API's bodies.
//!
//! * [`ClientFrame`]: a request, client → server, with the optional top-level `author_id`
//!   of a bot (9).
//! * [`ServerFrame`]: a [`Response`] to a request, or a [`PushFrame`].
//!
//! The envelopes are the customer side's (same keys, same tolerant reading, same errors):
//! the serde code is shared (`crate::frame`), only the action and push sets differ.

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize, Serializer};

use super::actions::{RequestPayload, RequestSeed, ResponsePayload};
use super::pushes::PushPayload;
use crate::actions::{OptionSeed, PayloadSeed};
use crate::agent::actions::Action;
use crate::agent::actions::{Request, ResponseData};
use crate::agent::pushes::Push;
use crate::agent::pushes::PushKind;
use crate::frame::client_serde::{ClientApi, ClientFrameVisitor, serialize_request};
use crate::frame::{DecodeError, Failure};
use crate::frame::{decode_bytes, decode_str, encode, web};
use crate::ids::RequestId;
use crate::ids::UserId;
use crate::raw::RawJson;

/// An agent request frame: `{"request_id":…,"action":…,"payload":{…},"author_id":…}`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ClientFrame {
    /// Chosen by the client; echoed in the response and in the pushes it causes on this
    /// connection. Read from `id` when `request_id` is absent (CUST D14).
    pub request_id: Option<RequestId>,
    /// Act as this bot agent, owned by the requesting agent (H34).
    pub author_id: Option<UserId>,
    /// The action and its payload.
    pub request: Request,
}

impl ClientFrame {
    /// A frame, acting as the requesting agent.
    pub fn new(request_id: Option<RequestId>, request: Request) -> Self {
        Self { request_id, author_id: None, request }
    }

    /// Acts as this bot, returning `self`.
    #[must_use]
    pub fn with_author(mut self, author_id: impl Into<UserId>) -> Self {
        self.author_id = Some(author_id.into());
        self
    }

    crate::frame::impls::codec_methods!(decode_str, decode_bytes);

    /// The Web API body of the frame: `{"payload":{…},"author_id":…}` (2.1). The action goes
    /// in the URL; the request id has no place there.
    pub fn encode_web_body(&self) -> String {
        encode(&WebBody(self))
    }

    /// Decodes the body of a Web API request to `action` (from the URL path): the `payload`
    /// member if it is an object, else the whole body (CUST D11); `author_id` is the body's
    /// top-level key in both forms. An unknown action yields [`Request::Unknown`]. The frame
    /// has no request id.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the action and the field, as for websocket frames.
    pub fn decode_web_body(action: &str, body: &[u8]) -> Result<Self, DecodeError> {
        let frame = web::decode_request_body(action, body, Self::decode_with)?;
        // `request_frame` checked the body: it is a UTF-8 JSON object.
        let text = std::str::from_utf8(body).unwrap_or_default();
        let author_id = serde_json::from_str::<AuthorProbe>(text)
            .map_err(|e| crate::frame::diagnose::<AuthorProbe>(text, e).with_action(action))?
            .author_id;
        Ok(Self { request_id: None, author_id, request: frame.request })
    }
}

/// A Web API body's top-level `author_id`.
#[derive(Deserialize)]
struct AuthorProbe {
    #[serde(default)]
    author_id: Option<UserId>,
}

struct WebBody<'a>(&'a ClientFrame);

impl Serialize for WebBody<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("payload", &RequestPayload(&self.0.request))?;
        if let Some(a) = &self.0.author_id {
            m.serialize_entry("author_id", a)?;
        }
        m.end()
    }
}

/// The agent API's requests, for the shared request-frame code.
pub(crate) struct AgentRequests;

impl ClientApi for AgentRequests {
    type Action = Action;
    type Request = Request;
    const AUTHOR_ID: bool = true;

    fn parse_action(name: &str) -> Option<Action> {
        Action::parse(name)
    }
    fn decode_payload<'de, D: Deserializer<'de>>(action: Action, d: D) -> Result<Request, D::Error> {
        de::DeserializeSeed::deserialize(RequestSeed(action), d)
    }
    fn absent_payload<E: de::Error>(action: Action) -> Result<Request, E> {
        RequestSeed(action).absent()
    }
    fn unknown(action: String, payload: Option<RawJson>) -> Request {
        Request::Unknown { action, payload }
    }
}

impl Serialize for ClientFrame {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let payload = self.request.has_payload().then_some(RequestPayload(&self.request));
        serialize_request(s, self.request_id.as_ref(), self.request.action(), payload, self.author_id.as_ref())
    }
}

impl<'de> Deserialize<'de> for ClientFrame {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parts = d.deserialize_map(ClientFrameVisitor::<AgentRequests>::new())?;
        Ok(ClientFrame { request_id: parts.request_id, author_id: parts.author_id, request: parts.request })
    }
}

/// A frame from the server to an agent: a response or a push.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ServerFrame {
    /// `"type":"response"`: the answer to one request.
    Response(Response),
    /// `"type":"push"`: something happened.
    Push(PushFrame),
}

/// The response to an agent's request.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Response {
    /// The request's id, if it had one.
    pub request_id: Option<RequestId>,
    /// `success: true` with the action's payload, or `success: false` with the error.
    pub result: Result<ResponseData, Failure>,
}

impl Response {
    /// Decodes a Web API response body to `action`: the response envelope (recognised by a
    /// `success` or `type` key), or a bare success payload.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the field.
    pub fn decode_web(action: &str, body: &[u8]) -> Result<Response, DecodeError> {
        match web::decode_response_body(action, body, ServerFrame::decode_with)? {
            ServerFrame::Response(r) => Ok(r),
            ServerFrame::Push(p) => Err(DecodeError::push_not_response(p.push.action(), p.request_id)),
        }
    }
}

/// A push frame to an agent.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct PushFrame {
    /// Present only on the copy delivered to the connection whose request caused the push.
    pub request_id: Option<RequestId>,
    /// The push.
    pub push: Push,
}

/// The agent API's server frames, for the shared server-frame code.
pub(crate) struct AgentFrames;

crate::frame::impls::server_frame_impls!(AgentFrames);

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
}

impl PayloadSeed for ResponseSeed<'_> {
    type Out = ();

    fn present<'de, D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.action {
            Action::Login => self.put(ResponseData::Login(Deserialize::deserialize(d)?)),
            Action::GetArchives => self.put(ResponseData::GetArchives(Deserialize::deserialize(d)?)),
            Action::GetFilteredChats => self.put(ResponseData::GetFilteredChats(Deserialize::deserialize(d)?)),
            Action::GetChatThreads => self.put(ResponseData::GetChatThreads(Deserialize::deserialize(d)?)),
            Action::StartChat => self.put(ResponseData::StartChat(Deserialize::deserialize(d)?)),
            Action::SendEvent => self.put(ResponseData::SendEvent(Deserialize::deserialize(d)?)),
            Action::UpdateLastSeenTimestamp => {
                self.put(ResponseData::UpdateLastSeenTimestamp(Deserialize::deserialize(d)?))
            }
            Action::AddAutoChatScopes => self.put(ResponseData::AddAutoChatScopes(Deserialize::deserialize(d)?)),
            Action::GetAutoChatScopesConfig => {
                self.put(ResponseData::GetAutoChatScopesConfig(Deserialize::deserialize(d)?))
            }
            Action::UploadImage => self.put(ResponseData::UploadImage(Deserialize::deserialize(d)?)),
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
            PushKind::IncomingSneakPeek => self.put(Push::IncomingSneakPeek(Deserialize::deserialize(d)?)),
            PushKind::CustomerBanned => self.put(Push::CustomerBanned(Deserialize::deserialize(d)?)),
            PushKind::ThreadClosed => self.put(Push::ThreadClosed(Deserialize::deserialize(d)?)),
            PushKind::ChatScopesUpdated => self.put(Push::ChatScopesUpdated(Deserialize::deserialize(d)?)),
            PushKind::CustomerUpdated => self.put(Push::CustomerUpdated(Deserialize::deserialize(d)?)),
            PushKind::AgentUpdated => self.put(Push::AgentUpdated(Deserialize::deserialize(d)?)),
            PushKind::AgentDisconnected => self.put(Push::AgentDisconnected(Deserialize::deserialize(d)?)),
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
