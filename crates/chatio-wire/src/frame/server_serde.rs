//! Serde for server frames, written once for every API ([`ServerApi`]): the customer's
//! [`ServerFrame`] here, the agent's in `agent/frame.rs`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::ids::RequestId;
use crate::objects::error::ErrorObject;
use crate::objects::event_serde::Key;
use crate::raw::RawJson;

struct ErrorPayload<'a>(&'a ErrorObject);

impl Serialize for ErrorPayload<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("error", self.0)?;
        m.end()
    }
}

#[derive(Deserialize)]
struct FailurePayload {
    error: ErrorObject,
}

/// What the server-frame code needs to know of one API (customer or agent): its action and
/// push names, how their payloads decode, and how its frame type is built.
pub(crate) trait ServerApi {
    /// The known actions.
    type Action: Copy;
    /// The known pushes.
    type PushKind: Copy;
    /// The frame type (a response or a push).
    type Frame;

    /// The action of a wire name, if known.
    fn parse_action(name: &str) -> Option<Self::Action>;
    /// The wire name of an action.
    fn action_name(action: Self::Action) -> &'static str;
    /// The push of a wire name, if known.
    fn parse_push(name: &str) -> Option<Self::PushKind>;
    /// The wire name of a push.
    fn push_name(push: Self::PushKind) -> &'static str;
    /// Decodes a known action's success payload into `slot`; `null` reads as `{}`.
    fn decode_success<'de, D: Deserializer<'de>>(
        action: Self::Action,
        d: D,
        slot: &mut Option<Self::Frame>,
    ) -> Result<(), D::Error>;
    /// Decodes a known push's payload into `slot`; `null` reads as `{}`.
    fn decode_push<'de, D: Deserializer<'de>>(
        push: Self::PushKind,
        d: D,
        slot: &mut Option<Self::Frame>,
    ) -> Result<(), D::Error>;
    /// A failed response.
    fn failure(action: String, error: ErrorObject) -> Self::Frame;
    /// A success response to an unknown action.
    fn unknown_response(action: String, payload: Option<RawJson>) -> Self::Frame;
    /// An unknown push.
    fn unknown_push(action: String, payload: Option<RawJson>) -> Self::Frame;
    /// Sets the frame's request id.
    fn set_request_id(frame: &mut Self::Frame, request_id: Option<RequestId>);
}

/// Writes a response frame: `payload` is the success payload (`None`: no `payload` key) or
/// the error.
pub(crate) fn serialize_response<S: Serializer, P: Serialize>(
    s: S,
    request_id: Option<&RequestId>,
    action: &str,
    result: Result<Option<P>, &ErrorObject>,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    if let Some(id) = request_id {
        m.serialize_entry("request_id", id)?;
    }
    m.serialize_entry("action", action)?;
    m.serialize_entry("type", "response")?;
    match result {
        Ok(payload) => {
            m.serialize_entry("success", &true)?;
            if let Some(p) = payload {
                m.serialize_entry("payload", &p)?;
            }
        }
        Err(error) => {
            m.serialize_entry("success", &false)?;
            m.serialize_entry("payload", &ErrorPayload(error))?;
        }
    }
    m.end()
}

/// Writes a push frame (`payload` `None`: no `payload` key).
pub(crate) fn serialize_push<S: Serializer, P: Serialize>(
    s: S,
    request_id: Option<&RequestId>,
    action: &str,
    payload: Option<P>,
) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(None)?;
    if let Some(id) = request_id {
        m.serialize_entry("request_id", id)?;
    }
    m.serialize_entry("action", action)?;
    m.serialize_entry("type", "push")?;
    if let Some(p) = payload {
        m.serialize_entry("payload", &p)?;
    }
    m.end()
}

/// A server frame's name: a response action, a push name, or something else.
enum Name<'de, S: ServerApi> {
    Action(S::Action),
    Push(S::PushKind),
    Other(Cow<'de, str>),
}

impl<'de, S: ServerApi> Name<'de, S> {
    fn parse(s: Cow<'de, str>) -> Self {
        if let Some(a) = S::parse_action(&s) {
            Name::Action(a)
        } else if let Some(p) = S::parse_push(&s) {
            Name::Push(p)
        } else {
            Name::Other(s)
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Name::Action(a) => S::action_name(*a),
            Name::Push(p) => S::push_name(*p),
            Name::Other(s) => s,
        }
    }
}

struct NameSeed<S>(PhantomData<S>);

impl<'de, S: ServerApi> DeserializeSeed<'de> for NameSeed<S> {
    type Value = Name<'de, S>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, S: ServerApi> Visitor<'de> for NameSeed<S> {
    type Value = Name<'de, S>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an action name string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Name::parse(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Name::parse(Cow::Owned(v.to_owned())))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FrameType {
    Response,
    Push,
}

impl<'de> Deserialize<'de> for FrameType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = FrameType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"response\" or \"push\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FrameType, E> {
                match v {
                    "response" => Ok(FrameType::Response),
                    "push" => Ok(FrameType::Push),
                    other => Err(E::invalid_value(de::Unexpected::Str(other), &self)),
                }
            }
        }
        d.deserialize_str(V)
    }
}

/// The frame type: as given, else inferred (a `success` key means a response; otherwise the
/// name tells).
fn frame_type<S: ServerApi>(given: Option<FrameType>, name: &Name<'_, S>, success: Option<bool>) -> Option<FrameType> {
    given.or(match (success, name) {
        (Some(_), _) => Some(FrameType::Response),
        (None, Name::Push(_)) => Some(FrameType::Push),
        (None, Name::Action(_)) => Some(FrameType::Response),
        (None, Name::Other(_)) => None,
    })
}

/// Decodes the payload directly when everything needed to choose its type is known.
///
/// The `type` key must have been read: an inferred type could be contradicted by a `type`
/// that follows the payload, and the result would then depend on the order of the keys.
fn payload_seed_ready<S: ServerApi>(ty: Option<FrameType>, name: &Name<'_, S>, success: Option<bool>) -> bool {
    if ty.is_none() {
        return false;
    }
    match (frame_type(ty, name, success), name) {
        (Some(FrameType::Push), Name::Push(_)) => true,
        (Some(FrameType::Response), Name::Action(_)) => success.is_some(),
        (Some(FrameType::Response), _) => success == Some(false),
        _ => false,
    }
}

/// Decodes a payload into `slot` when the frame's kind allows it; `false` when it does not
/// (an unknown action or push).
fn decode_payload<'de, D: Deserializer<'de>, S: ServerApi>(
    d: D,
    ty: FrameType,
    name: &Name<'_, S>,
    success: Option<bool>,
    slot: &mut Option<S::Frame>,
) -> Result<bool, D::Error> {
    match (ty, name, success) {
        (FrameType::Push, Name::Push(p), _) => S::decode_push(*p, d, slot)?,
        (FrameType::Response, _, Some(false)) => {
            let error = FailurePayload::deserialize(d)?.error;
            *slot = Some(S::failure(name.as_str().to_owned(), error));
        }
        (FrameType::Response, Name::Action(a), Some(true)) => S::decode_success(*a, d, slot)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Decodes a server frame of API `S` into a slot.
///
/// The frame is built where it ends up: a server frame is a few hundred bytes, and returning
/// it through every layer of the decoder (payload seed, option handling, frame visitor,
/// `serde_json`'s map and document layers) would copy it at each one.
pub(crate) struct ServerFrameSeed<'a, S: ServerApi>(pub(crate) &'a mut Option<S::Frame>);

impl<'de, S: ServerApi> DeserializeSeed<'de> for ServerFrameSeed<'_, S> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(FrameVisitor::<S>(self.0))
    }
}

/// Decodes a server frame of API `S` (see [`ServerFrameSeed`]).
pub(crate) fn deserialize_server_frame<'de, S: ServerApi, D: Deserializer<'de>>(d: D) -> Result<S::Frame, D::Error> {
    let mut slot = None;
    ServerFrameSeed::<S>(&mut slot).deserialize(d)?;
    slot.ok_or_else(|| de::Error::custom("no frame decoded"))
}

struct FrameVisitor<'a, S: ServerApi>(&'a mut Option<S::Frame>);

impl<'de, S: ServerApi> Visitor<'de> for FrameVisitor<'_, S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response or push frame object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let slot = self.0;
        let mut request_id: Option<RequestId> = None;
        let mut name: Option<Name<'de, S>> = None;
        let mut ty: Option<FrameType> = None;
        let mut success: Option<bool> = None;
        let mut decoded = false;
        let mut raw: Option<Box<RawValue>> = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "request_id" => request_id = map.next_value()?,
                "action" => name = Some(map.next_value_seed(NameSeed::<S>(PhantomData))?),
                "type" => ty = Some(map.next_value()?),
                "success" => success = map.next_value()?,
                "payload" => match (&name, ty) {
                    (Some(n), Some(t)) if payload_seed_ready(ty, n, success) => {
                        decoded = map.next_value_seed(PayloadSink { slot: &mut *slot, ty: t, name: n, success })?;
                    }
                    _ => raw = Some(map.next_value()?),
                },
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let name = name.ok_or_else(|| de::Error::missing_field("action"))?;
        let ty = frame_type(ty, &name, success).ok_or_else(|| de::Error::missing_field("type"))?;
        if !decoded {
            resolve(ty, &name, success, raw.as_deref(), slot).map_err(de::Error::custom)?;
        }
        match slot {
            Some(frame) => S::set_request_id(frame, request_id),
            None => return Err(de::Error::custom("no frame decoded")),
        }
        Ok(())
    }
}

/// Decodes a payload whose frame kind is known while reading.
struct PayloadSink<'a, 'n, S: ServerApi> {
    slot: &'a mut Option<S::Frame>,
    ty: FrameType,
    name: &'a Name<'n, S>,
    success: Option<bool>,
}

impl<'de, S: ServerApi> DeserializeSeed<'de> for PayloadSink<'_, '_, S> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        decode_payload(d, self.ty, self.name, self.success, self.slot)
    }
}

/// Decodes a payload that came before the keys that say how to read it (or is absent).
fn resolve<S: ServerApi>(
    ty: FrameType,
    name: &Name<'_, S>,
    success: Option<bool>,
    raw: Option<&RawValue>,
    slot: &mut Option<S::Frame>,
) -> Result<(), serde_json::Error> {
    let text = raw.map_or("null", RawValue::get);
    let success = match success {
        Some(s) => s,
        // No `success` key: a payload holding an error object means failure.
        None => serde_json::from_str::<FailurePayload>(text).is_err(),
    };
    if decode_payload(&mut serde_json::Deserializer::from_str(text), ty, name, Some(success), slot)? {
        return Ok(());
    }
    let payload = raw.map(|r| RawJson::new(r.to_owned()));
    let action = name.as_str().to_owned();
    *slot = Some(match ty {
        FrameType::Push => S::unknown_push(action, payload),
        FrameType::Response => S::unknown_response(action, payload),
    });
    Ok(())
}
