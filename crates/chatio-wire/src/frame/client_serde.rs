//! Serde for [`ClientFrame`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use super::ClientFrame;
use crate::actions::{PayloadSeed, RequestPayload, RequestSeed};
use crate::objects::event_serde::Key;
use crate::{Action, RawJson, Request, RequestId};

impl Serialize for ClientFrame {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(id) = &self.request_id {
            m.serialize_entry("request_id", id)?;
        }
        m.serialize_entry("action", self.request.action())?;
        if self.request.has_payload() {
            m.serialize_entry("payload", &RequestPayload(&self.request))?;
        }
        m.end()
    }
}

/// An action name read from a frame.
pub(crate) enum ActionName<'de> {
    Known(Action),
    Other(Cow<'de, str>),
}

impl<'de> Deserialize<'de> for ActionName<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ActionName<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an action name string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<ActionName<'de>, E> {
                Ok(Action::parse(v).map_or(ActionName::Other(Cow::Borrowed(v)), ActionName::Known))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ActionName<'de>, E> {
                Ok(Action::parse(v).map_or_else(|| ActionName::Other(Cow::Owned(v.to_owned())), ActionName::Known))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for ClientFrame {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ClientFrame;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a request frame object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ClientFrame, A::Error> {
                let mut request_id: Option<RequestId> = None;
                let mut legacy_id: Option<RequestId> = None;
                let mut action: Option<ActionName<'de>> = None;
                let mut request: Option<Request> = None;
                let mut raw: Option<Box<RawValue>> = None;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "request_id" => request_id = map.next_value()?,
                        "id" => legacy_id = map.next_value()?,
                        "action" => action = Some(map.next_value()?),
                        "payload" => match &action {
                            Some(ActionName::Known(a)) => request = Some(map.next_value_seed(RequestSeed(*a))?),
                            _ => raw = Some(map.next_value()?),
                        },
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let action = action.ok_or_else(|| de::Error::missing_field("action"))?;
                let request = match (request, action) {
                    (Some(r), _) => r,
                    (None, ActionName::Known(a)) => match raw {
                        Some(raw) => RequestSeed(a)
                            .deserialize(&mut serde_json::Deserializer::from_str(raw.get()))
                            .map_err(de::Error::custom)?,
                        None => RequestSeed(a).absent()?,
                    },
                    (None, ActionName::Other(name)) => {
                        Request::Unknown { action: name.into_owned(), payload: raw.map(RawJson::new) }
                    }
                };
                Ok(ClientFrame { request_id: request_id.or(legacy_id), request })
            }
        }
        d.deserialize_map(V)
    }
}
