//! Serde for [`ServerFrame`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::{Failure, PushFrame, Response, ServerFrame};
use crate::actions::{ResponsePayload, ResponseSeed};
use crate::objects::event_serde::Key;
use crate::pushes::{PushPayload, PushSeed};
use crate::{Action, ErrorObject, Push, PushKind, RawJson, RequestId, ResponseData};

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

impl Serialize for ServerFrame {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            ServerFrame::Response(r) => {
                if let Some(id) = &r.request_id {
                    m.serialize_entry("request_id", id)?;
                }
                m.serialize_entry("action", r.action())?;
                m.serialize_entry("type", "response")?;
                match &r.result {
                    Ok(data) => {
                        m.serialize_entry("success", &true)?;
                        if !matches!(data, ResponseData::Unknown { payload: None, .. }) {
                            m.serialize_entry("payload", &ResponsePayload(data))?;
                        }
                    }
                    Err(f) => {
                        m.serialize_entry("success", &false)?;
                        m.serialize_entry("payload", &ErrorPayload(&f.error))?;
                    }
                }
            }
            ServerFrame::Push(p) => {
                if let Some(id) = &p.request_id {
                    m.serialize_entry("request_id", id)?;
                }
                m.serialize_entry("action", p.push.action())?;
                m.serialize_entry("type", "push")?;
                if !matches!(p.push, Push::Unknown { payload: None, .. }) {
                    m.serialize_entry("payload", &PushPayload(&p.push))?;
                }
            }
        }
        m.end()
    }
}

/// A server frame's name: a response action, a push name, or something else.
enum Name<'de> {
    Action(Action),
    Push(PushKind),
    Other(Cow<'de, str>),
}

impl<'de> Name<'de> {
    fn parse(s: Cow<'de, str>) -> Self {
        if let Some(a) = Action::parse(&s) {
            Name::Action(a)
        } else if let Some(p) = PushKind::parse(&s) {
            Name::Push(p)
        } else {
            Name::Other(s)
        }
    }

    fn as_str(&self) -> &str {
        match self {
            Name::Action(a) => a.as_str(),
            Name::Push(p) => p.as_str(),
            Name::Other(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Name<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an action name string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Name<'de>, E> {
                Ok(Name::parse(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Name<'de>, E> {
                Ok(Name::parse(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
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
fn frame_type(given: Option<FrameType>, name: &Name<'_>, success: Option<bool>) -> Option<FrameType> {
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
fn payload_seed_ready(ty: Option<FrameType>, name: &Name<'_>, success: Option<bool>) -> bool {
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
fn decode_payload<'de, D: Deserializer<'de>>(
    d: D,
    ty: FrameType,
    name: &Name<'_>,
    success: Option<bool>,
    slot: &mut Option<ServerFrame>,
) -> Result<bool, D::Error> {
    match (ty, name, success) {
        (FrameType::Push, Name::Push(p), _) => PushSeed { kind: *p, slot }.deserialize(d)?,
        (FrameType::Response, _, Some(false)) => {
            let error = FailurePayload::deserialize(d)?.error;
            *slot = Some(ServerFrame::Response(Response {
                request_id: None,
                result: Err(Failure { action: name.as_str().to_owned(), error }),
            }));
        }
        (FrameType::Response, Name::Action(a), Some(true)) => ResponseSeed { action: *a, slot }.deserialize(d)?,
        _ => return Ok(false),
    }
    Ok(true)
}

/// Decodes a server frame into a slot.
///
/// The frame is built where it ends up: a [`ServerFrame`] is a few hundred bytes, and returning
/// it through every layer of the decoder (payload seed, option handling, frame visitor,
/// `serde_json`'s map and document layers) would copy it at each one.
pub(crate) struct ServerFrameSeed<'a>(pub(crate) &'a mut Option<ServerFrame>);

impl<'de> DeserializeSeed<'de> for ServerFrameSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(FrameVisitor(self.0))
    }
}

impl<'de> Deserialize<'de> for ServerFrame {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut slot = None;
        ServerFrameSeed(&mut slot).deserialize(d)?;
        slot.ok_or_else(|| de::Error::custom("no frame decoded"))
    }
}

struct FrameVisitor<'a>(&'a mut Option<ServerFrame>);

impl<'de> Visitor<'de> for FrameVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response or push frame object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let slot = self.0;
        let mut request_id: Option<RequestId> = None;
        let mut name: Option<Name<'de>> = None;
        let mut ty: Option<FrameType> = None;
        let mut success: Option<bool> = None;
        let mut decoded = false;
        let mut raw: Option<Box<RawValue>> = None;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "request_id" => request_id = map.next_value()?,
                "action" => name = Some(map.next_value()?),
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
            Some(ServerFrame::Response(r)) => r.request_id = request_id,
            Some(ServerFrame::Push(p)) => p.request_id = request_id,
            None => return Err(de::Error::custom("no frame decoded")),
        }
        Ok(())
    }
}

/// Decodes a payload whose frame kind is known while reading.
struct PayloadSink<'a, 'n> {
    slot: &'a mut Option<ServerFrame>,
    ty: FrameType,
    name: &'a Name<'n>,
    success: Option<bool>,
}

impl<'de> DeserializeSeed<'de> for PayloadSink<'_, '_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        decode_payload(d, self.ty, self.name, self.success, self.slot)
    }
}

/// Decodes a payload that came before the keys that say how to read it (or is absent).
fn resolve(
    ty: FrameType,
    name: &Name<'_>,
    success: Option<bool>,
    raw: Option<&RawValue>,
    slot: &mut Option<ServerFrame>,
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
        FrameType::Push => ServerFrame::Push(PushFrame { request_id: None, push: Push::Unknown { action, payload } }),
        FrameType::Response => {
            ServerFrame::Response(Response { request_id: None, result: Ok(ResponseData::Unknown { action, payload }) })
        }
    });
    Ok(())
}
