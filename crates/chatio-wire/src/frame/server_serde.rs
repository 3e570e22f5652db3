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

/// What a frame turned out to be once its payload was read.
enum Decoded {
    Push(Push),
    Success(ResponseData),
    Failure(ErrorObject),
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
fn payload_seed_ready(ty: Option<FrameType>, name: &Name<'_>, success: Option<bool>) -> bool {
    match (frame_type(ty, name, success), name) {
        (Some(FrameType::Push), Name::Push(_)) => true,
        (Some(FrameType::Response), Name::Action(_)) => success.is_some(),
        (Some(FrameType::Response), _) => success == Some(false),
        _ => false,
    }
}

fn decode_payload<'de, D: Deserializer<'de>>(
    d: D,
    ty: FrameType,
    name: &Name<'_>,
    success: Option<bool>,
) -> Result<Option<Decoded>, D::Error> {
    Ok(Some(match (ty, name, success) {
        (FrameType::Push, Name::Push(p), _) => Decoded::Push(PushSeed(*p).deserialize(d)?),
        (FrameType::Response, _, Some(false)) => Decoded::Failure(FailurePayload::deserialize(d)?.error),
        (FrameType::Response, Name::Action(a), Some(true)) => Decoded::Success(ResponseSeed(*a).deserialize(d)?),
        _ => return Ok(None),
    }))
}

impl<'de> Deserialize<'de> for ServerFrame {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ServerFrame;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a response or push frame object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServerFrame, A::Error> {
                let mut request_id: Option<RequestId> = None;
                let mut name: Option<Name<'de>> = None;
                let mut ty: Option<FrameType> = None;
                let mut success: Option<bool> = None;
                let mut decoded: Option<Decoded> = None;
                let mut raw: Option<Box<RawValue>> = None;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "request_id" => request_id = map.next_value()?,
                        "action" => name = Some(map.next_value()?),
                        "type" => ty = Some(map.next_value()?),
                        "success" => success = map.next_value()?,
                        "payload" => match &name {
                            Some(n) if payload_seed_ready(ty, n, success) => {
                                let t = frame_type(ty, n, success);
                                decoded = map.next_value_seed(PayloadDecoder { ty: t, name: n, success })?;
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
                let decoded = match decoded {
                    Some(d) => d,
                    None => resolve(ty, &name, success, raw.as_deref()).map_err(de::Error::custom)?,
                };
                Ok(match decoded {
                    Decoded::Push(push) => ServerFrame::Push(PushFrame { request_id, push }),
                    Decoded::Success(data) => ServerFrame::Response(Response { request_id, result: Ok(data) }),
                    Decoded::Failure(error) => ServerFrame::Response(Response {
                        request_id,
                        result: Err(Failure { action: name.as_str().to_owned(), error }),
                    }),
                })
            }
        }
        d.deserialize_map(V)
    }
}

struct PayloadDecoder<'a, 'n> {
    ty: Option<FrameType>,
    name: &'a Name<'n>,
    success: Option<bool>,
}

impl<'de> DeserializeSeed<'de> for PayloadDecoder<'_, '_> {
    type Value = Option<Decoded>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Decoded>, D::Error> {
        match self.ty {
            Some(ty) => decode_payload(d, ty, self.name, self.success),
            None => {
                IgnoredAny::deserialize(d)?;
                Ok(None)
            }
        }
    }
}

/// Decodes a payload that came before the keys that say how to read it (or is absent).
fn resolve(
    ty: FrameType,
    name: &Name<'_>,
    success: Option<bool>,
    raw: Option<&RawValue>,
) -> Result<Decoded, serde_json::Error> {
    let text = raw.map_or("null", RawValue::get);
    let success = match success {
        Some(s) => s,
        // No `success` key: a payload holding an error object means failure.
        None => serde_json::from_str::<FailurePayload>(text).is_err(),
    };
    if let Some(d) = decode_payload(&mut serde_json::Deserializer::from_str(text), ty, name, Some(success))? {
        return Ok(d);
    }
    let payload = raw.map(|r| RawJson::new(r.to_owned()));
    let action = name.as_str().to_owned();
    Ok(match ty {
        FrameType::Push => Decoded::Push(Push::Unknown { action, payload }),
        FrameType::Response => Decoded::Success(ResponseData::Unknown { action, payload }),
    })
}
