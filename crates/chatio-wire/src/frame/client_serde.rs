//! Serde for request frames, written once for every API ([`ClientApi`]): the customer's
//! [`ClientFrame`] here, the agent's in `agent/frame.rs`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::ClientFrame;
use crate::actions::Action;
use crate::actions::Request;
use crate::actions::{PayloadSeed, RequestPayload, RequestSeed};
use crate::ids::RequestId;
use crate::ids::UserId;
use crate::objects::event_serde::Key;
use crate::raw::RawJson;

/// What the request-frame code needs to know of one API (customer or agent): its action
/// names and how a known action's payload decodes.
pub(crate) trait ClientApi {
    /// The known actions.
    type Action: Copy;
    /// A request (one variant per action, plus `Unknown`).
    type Request;
    /// Whether frames carry a top-level `author_id` (agent frames: act as a bot). When
    /// `false`, the key is an unknown key like any other.
    const AUTHOR_ID: bool;

    /// The action of a wire name, if known.
    fn parse_action(name: &str) -> Option<Self::Action>;
    /// Decodes a known action's payload; `null` reads as `{}`.
    fn decode_payload<'de, D: Deserializer<'de>>(action: Self::Action, d: D) -> Result<Self::Request, D::Error>;
    /// The request of a frame without `payload`: read as `{}`.
    fn absent_payload<E: de::Error>(action: Self::Action) -> Result<Self::Request, E>;
    /// A request for an action this crate does not know.
    fn unknown(action: String, payload: Option<RawJson>) -> Self::Request;
}

/// The customer API's requests.
pub(crate) struct CustomerRequests;

impl ClientApi for CustomerRequests {
    type Action = Action;
    type Request = Request;
    const AUTHOR_ID: bool = false;

    fn parse_action(name: &str) -> Option<Action> {
        Action::parse(name)
    }
    fn decode_payload<'de, D: Deserializer<'de>>(action: Action, d: D) -> Result<Request, D::Error> {
        RequestSeed(action).deserialize(d)
    }
    fn absent_payload<E: de::Error>(action: Action) -> Result<Request, E> {
        RequestSeed(action).absent()
    }
    fn unknown(action: String, payload: Option<RawJson>) -> Request {
        Request::Unknown { action, payload }
    }
}

/// The parts of a request frame.
pub(crate) struct ClientParts<R> {
    pub(crate) request_id: Option<RequestId>,
    /// Always `None` for an API without `author_id` (only the agent side reads it).
    #[cfg_attr(not(feature = "agent"), allow(dead_code))]
    pub(crate) author_id: Option<UserId>,
    pub(crate) request: R,
}

/// Writes a request frame: `request_id`, `action`, `payload` (when there is one), `author_id`.
pub(crate) fn serialize_request<S: Serializer, P: Serialize>(
    s: S,
    request_id: Option<&RequestId>,
    action: &str,
    payload: Option<P>,
    author_id: Option<&UserId>,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    if let Some(id) = request_id {
        m.serialize_entry("request_id", id)?;
    }
    m.serialize_entry("action", action)?;
    if let Some(p) = payload {
        m.serialize_entry("payload", &p)?;
    }
    if let Some(a) = author_id {
        m.serialize_entry("author_id", a)?;
    }
    m.end()
}

impl Serialize for ClientFrame {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let payload = self.request.has_payload().then_some(RequestPayload(&self.request));
        serialize_request(s, self.request_id.as_ref(), self.request.action(), payload, None)
    }
}

/// An action name read from a frame.
pub(crate) enum ActionName<'de, A> {
    Known(A),
    Other(Cow<'de, str>),
}

struct ActionNameSeed<C>(PhantomData<C>);

impl<'de, C: ClientApi> DeserializeSeed<'de> for ActionNameSeed<C> {
    type Value = ActionName<'de, C::Action>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, C: ClientApi> Visitor<'de> for ActionNameSeed<C> {
    type Value = ActionName<'de, C::Action>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an action name string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(C::parse_action(v).map_or(ActionName::Other(Cow::Borrowed(v)), ActionName::Known))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(C::parse_action(v).map_or_else(|| ActionName::Other(Cow::Owned(v.to_owned())), ActionName::Known))
    }
}

/// A known action's payload, decoded while the frame is read.
struct PayloadOf<C: ClientApi>(C::Action);

impl<'de, C: ClientApi> DeserializeSeed<'de> for PayloadOf<C> {
    type Value = C::Request;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<C::Request, D::Error> {
        C::decode_payload(self.0, d)
    }
}

/// Reads a request frame of API `C`: the payload is decoded straight into its type when
/// `action` comes first, else kept raw and decoded at the end.
pub(crate) struct ClientFrameVisitor<C>(PhantomData<C>);

impl<C> ClientFrameVisitor<C> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<'de, C: ClientApi> Visitor<'de> for ClientFrameVisitor<C> {
    type Value = ClientParts<C::Request>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a request frame object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut request_id: Option<RequestId> = None;
        let mut legacy_id: Option<RequestId> = None;
        let mut author_id: Option<UserId> = None;
        let mut action: Option<ActionName<'de, C::Action>> = None;
        let mut request: Option<C::Request> = None;
        let mut raw: Option<Box<RawValue>> = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "request_id" => request_id = map.next_value()?,
                "id" => legacy_id = map.next_value()?,
                "action" => action = Some(map.next_value_seed(ActionNameSeed::<C>(PhantomData))?),
                "payload" => match &action {
                    Some(ActionName::Known(a)) => request = Some(map.next_value_seed(PayloadOf::<C>(*a))?),
                    _ => raw = Some(map.next_value()?),
                },
                "author_id" if C::AUTHOR_ID => author_id = map.next_value()?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let action = action.ok_or_else(|| de::Error::missing_field("action"))?;
        let request = match (request, action) {
            (Some(r), _) => r,
            (None, ActionName::Known(a)) => match raw {
                Some(raw) => C::decode_payload(a, &mut serde_json::Deserializer::from_str(raw.get()))
                    .map_err(de::Error::custom)?,
                None => C::absent_payload(a)?,
            },
            (None, ActionName::Other(name)) => C::unknown(name.into_owned(), raw.map(RawJson::new)),
        };
        Ok(ClientParts { request_id: request_id.or(legacy_id), author_id, request })
    }
}

impl<'de> Deserialize<'de> for ClientFrame {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let parts = d.deserialize_map(ClientFrameVisitor::<CustomerRequests>::new())?;
        Ok(ClientFrame { request_id: parts.request_id, request: parts.request })
    }
}
