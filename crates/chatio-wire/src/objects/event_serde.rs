//! Serde for [`Event`] and [`NewEvent`]: one pass over a flat JSON object.
//!
//! Common keys are read directly. Kind-specific keys are read directly too once `type` has
//! been seen (every sample puts `type` early); keys that come before `type` are kept as
//! `serde_json::Value`s and read when it arrives. No `serde_json::Value` detour, no internally-tagged enum
//! buffering.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::event::*;
use crate::ids::{EventId, UserId};
use crate::objects::properties::Properties;
use crate::time::Timestamp;

/// Keys shared by every event type; never part of [`EventKind::Unknown`]'s fields.
const COMMON: [&str; 8] = ["id", "custom_id", "order", "type", "author_id", "timestamp", "properties", "recipients"];

/// A map key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_identifier(V)
    }
}

/// The kind-specific fields read so far, by event type (chosen by `type`).
enum Kind {
    Message { text: Option<String> },
    SystemMessage { text: Option<String>, system_message_type: Option<String> },
    Annotation { annotation_type: Option<String>, text: Option<String> },
    FilledForm { fields: Option<Vec<FormField>> },
    File(FileFields),
    Custom { content: Option<Value> },
    RichMessage { template_id: Option<String>, elements: Option<Vec<RichElement>> },
    Unknown { event_type: String, fields: Map<String, Value> },
}

#[derive(Default)]
struct FileFields {
    name: Option<String>,
    url: Option<String>,
    content_type: Option<String>,
    size: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
}

impl Kind {
    fn new(event_type: &str) -> Self {
        match event_type {
            "message" => Self::Message { text: None },
            "system_message" => Self::SystemMessage { text: None, system_message_type: None },
            "annotation" => Self::Annotation { annotation_type: None, text: None },
            "filled_form" => Self::FilledForm { fields: None },
            "file" => Self::File(FileFields::default()),
            "custom" => Self::Custom { content: None },
            "rich_message" => Self::RichMessage { template_id: None, elements: None },
            other => Self::Unknown { event_type: other.to_owned(), fields: Map::new() },
        }
    }

    /// Reads the value of a kind-specific `key`; keys the type does not have are skipped
    /// (an unknown type keeps them all).
    fn field<'de, D: Deserializer<'de>>(&mut self, key: &str, d: D) -> Result<(), D::Error> {
        match (self, key) {
            (Self::Message { text } | Self::SystemMessage { text, .. } | Self::Annotation { text, .. }, "text") => {
                *text = Deserialize::deserialize(d)?;
            }
            (Self::SystemMessage { system_message_type, .. }, "system_message_type") => {
                *system_message_type = Deserialize::deserialize(d)?;
            }
            (Self::Annotation { annotation_type, .. }, "annotation_type") => {
                *annotation_type = Deserialize::deserialize(d)?;
            }
            (Self::FilledForm { fields }, "fields") => *fields = Deserialize::deserialize(d)?,
            (Self::File(f), "name") => f.name = Deserialize::deserialize(d)?,
            (Self::File(f), "url") => f.url = Deserialize::deserialize(d)?,
            (Self::File(f), "content_type") => f.content_type = Deserialize::deserialize(d)?,
            (Self::File(f), "size") => f.size = Deserialize::deserialize(d)?,
            (Self::File(f), "width") => f.width = Deserialize::deserialize(d)?,
            (Self::File(f), "height") => f.height = Deserialize::deserialize(d)?,
            (Self::Custom { content }, "content") => *content = Some(Value::deserialize(d)?),
            (Self::RichMessage { template_id, .. }, "template_id") => *template_id = Deserialize::deserialize(d)?,
            (Self::RichMessage { elements, .. }, "elements") => *elements = Deserialize::deserialize(d)?,
            (Self::Unknown { fields, .. }, k) => {
                fields.insert(k.to_owned(), Value::deserialize(d)?);
            }
            _ => {
                IgnoredAny::deserialize(d)?;
            }
        }
        Ok(())
    }

    fn finish<E: de::Error>(self) -> Result<EventKind, E> {
        fn need<T, E: de::Error>(v: Option<T>, field: &'static str) -> Result<T, E> {
            v.ok_or_else(|| E::missing_field(field))
        }
        Ok(match self {
            Self::Message { text } => EventKind::Message(Message { text: need(text, "text")? }),
            Self::SystemMessage { text, system_message_type } => {
                EventKind::SystemMessage(SystemMessage { text: need(text, "text")?, system_message_type })
            }
            Self::Annotation { annotation_type, text } => {
                EventKind::Annotation(Annotation { annotation_type: need(annotation_type, "annotation_type")?, text })
            }
            Self::FilledForm { fields } => EventKind::FilledForm(FilledForm { fields: need(fields, "fields")? }),
            Self::File(f) => EventKind::File(FileAttachment {
                name: need(f.name, "name")?,
                url: need(f.url, "url")?,
                content_type: need(f.content_type, "content_type")?,
                size: need(f.size, "size")?,
                width: f.width,
                height: f.height,
            }),
            Self::Custom { content } => EventKind::Custom(Custom { content: need(content, "content")? }),
            Self::RichMessage { template_id, elements } => EventKind::RichMessage(RichMessage {
                template_id: need(template_id, "template_id")?,
                elements: elements.unwrap_or_default(),
            }),
            Self::Unknown { event_type, fields } => EventKind::Unknown { event_type, fields },
        })
    }
}

/// The `type` value, read as the [`Kind`] it starts.
struct KindDe(Kind);

impl<'de> Deserialize<'de> for KindDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KindDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event type string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KindDe, E> {
                Ok(KindDe(Kind::new(v)))
            }
        }
        d.deserialize_str(V)
    }
}

pub(crate) struct RecipientsDe(pub(crate) Recipients);

impl<'de> Deserialize<'de> for Recipients {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(RecipientsDe::deserialize(d)?.0)
    }
}

impl<'de> Deserialize<'de> for RecipientsDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RecipientsDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a recipients string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RecipientsDe, E> {
                Ok(RecipientsDe(Recipients::parse(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// The common keys of an event.
struct Common {
    id: Option<EventId>,
    custom_id: Option<String>,
    order: Option<u64>,
    author_id: Option<UserId>,
    timestamp: Option<Timestamp>,
    properties: Option<Properties>,
    recipients: Option<Recipients>,
}

/// What an event object decodes into: [`Event`] or [`NewEvent`].
trait FromParts: Sized {
    /// Builds the value; the kind is complete, common keys may be missing.
    fn from_parts<E: de::Error>(common: Common, kind: EventKind) -> Result<Self, E>;
}

impl FromParts for Event {
    #[inline]
    fn from_parts<E: de::Error>(c: Common, kind: EventKind) -> Result<Self, E> {
        Ok(Event {
            id: c.id.ok_or_else(|| E::missing_field("id"))?,
            custom_id: c.custom_id,
            order: c.order.ok_or_else(|| E::missing_field("order"))?,
            author_id: c.author_id,
            timestamp: c.timestamp.ok_or_else(|| E::missing_field("timestamp"))?,
            properties: c.properties,
            recipients: c.recipients,
            kind,
        })
    }
}

impl FromParts for NewEvent {
    #[inline]
    fn from_parts<E: de::Error>(c: Common, kind: EventKind) -> Result<Self, E> {
        Ok(NewEvent {
            custom_id: c.custom_id,
            properties: c.properties,
            #[cfg(feature = "agent")]
            recipients: c.recipients,
            kind,
        })
    }
}

/// One pass over a flat event object. Kind-specific keys are read as soon as `type` is known;
/// keys that come before it are kept as `Value`s and read when it arrives.
struct EventVisitor<T>(PhantomData<T>);

impl<'de, T: FromParts> Visitor<'de> for EventVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut c = Common {
            id: None,
            custom_id: None,
            order: None,
            author_id: None,
            timestamp: None,
            properties: None,
            recipients: None,
        };
        let mut kind: Option<Kind> = None;
        let mut pending: Vec<(Cow<'de, str>, Value)> = Vec::new();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "id" => c.id = map.next_value()?,
                "custom_id" => c.custom_id = map.next_value()?,
                "order" => c.order = map.next_value()?,
                "author_id" => c.author_id = map.next_value()?,
                "timestamp" => c.timestamp = map.next_value()?,
                "properties" => c.properties = map.next_value()?,
                "recipients" => c.recipients = map.next_value::<Option<RecipientsDe>>()?.map(|r| r.0),
                "type" => {
                    let mut k = map.next_value::<KindDe>()?.0;
                    for (key, raw) in pending.drain(..) {
                        k.field(&key, raw).map_err(de::Error::custom)?;
                    }
                    kind = Some(k);
                }
                _ => match &mut kind {
                    Some(k) => map.next_value_seed(FieldSeed { kind: k, key: &key })?,
                    None => pending.push((key, map.next_value::<Value>()?)),
                },
            }
        }
        let kind = kind.ok_or_else(|| de::Error::missing_field("type"))?.finish()?;
        T::from_parts(c, kind)
    }
}

/// Reads one kind-specific value into the [`Kind`] being built.
struct FieldSeed<'a> {
    kind: &'a mut Kind,
    key: &'a str,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.kind.field(self.key, d)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventVisitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for NewEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EventVisitor(PhantomData))
    }
}

fn serialize_kind<M: SerializeMap>(kind: &EventKind, m: &mut M) -> Result<(), M::Error> {
    match kind {
        EventKind::Message(x) => m.serialize_entry("text", &x.text)?,
        EventKind::SystemMessage(x) => {
            m.serialize_entry("text", &x.text)?;
            if let Some(t) = &x.system_message_type {
                m.serialize_entry("system_message_type", t)?;
            }
        }
        EventKind::Annotation(x) => {
            if let Some(t) = &x.text {
                m.serialize_entry("text", t)?;
            }
            m.serialize_entry("annotation_type", &x.annotation_type)?;
        }
        EventKind::FilledForm(x) => m.serialize_entry("fields", &x.fields)?,
        EventKind::File(x) => {
            m.serialize_entry("name", &x.name)?;
            m.serialize_entry("url", &x.url)?;
            m.serialize_entry("content_type", &x.content_type)?;
            m.serialize_entry("size", &x.size)?;
            if let Some(w) = x.width {
                m.serialize_entry("width", &w)?;
            }
            if let Some(h) = x.height {
                m.serialize_entry("height", &h)?;
            }
        }
        EventKind::Custom(x) => m.serialize_entry("content", &x.content)?,
        EventKind::RichMessage(x) => {
            m.serialize_entry("template_id", &x.template_id)?;
            if !x.elements.is_empty() {
                m.serialize_entry("elements", &x.elements)?;
            }
        }
        EventKind::Unknown { fields, .. } => {
            for (k, v) in fields.iter().filter(|(k, _)| !COMMON.contains(&k.as_str())) {
                m.serialize_entry(k, v)?;
            }
        }
    }
    Ok(())
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        if let Some(c) = &self.custom_id {
            m.serialize_entry("custom_id", c)?;
        }
        m.serialize_entry("order", &self.order)?;
        m.serialize_entry("type", self.kind.event_type())?;
        if let Some(a) = &self.author_id {
            m.serialize_entry("author_id", a)?;
        }
        m.serialize_entry("timestamp", &self.timestamp)?;
        serialize_kind(&self.kind, &mut m)?;
        if let Some(p) = &self.properties {
            m.serialize_entry("properties", p)?;
        }
        if let Some(r) = &self.recipients {
            m.serialize_entry("recipients", r.as_str())?;
        }
        m.end()
    }
}

struct Flat<'a>(&'a Properties);

impl Serialize for Flat<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::objects::properties::flat::serialize(self.0, s)
    }
}

impl Serialize for NewEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.kind.event_type())?;
        serialize_kind(&self.kind, &mut m)?;
        #[cfg(feature = "agent")]
        if let Some(r) = &self.recipients {
            m.serialize_entry("recipients", r.as_str())?;
        }
        if let Some(c) = &self.custom_id {
            m.serialize_entry("custom_id", c)?;
        }
        if let Some(p) = &self.properties {
            m.serialize_entry("properties", &Flat(p))?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_may_come_last() {
        let e: Event = serde_json::from_str(
            r#"{"text":"hi","id":"E_1","order":3,"author_id":"u","timestamp":1,"custom_id":"c","type":"message"}"#,
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Message(Message::new("hi")));
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"id":"E_1","custom_id":"c","order":3,"type":"message","author_id":"u","timestamp":1,"text":"hi"}"#
        );
    }

    #[test]
    fn unknown_type_keeps_its_fields() {
        let raw = r#"{"id":"E_2","order":4,"type":"poll","timestamp":2,"question":"?","answers":[1,2]}"#;
        let e: Event = serde_json::from_str(raw).unwrap();
        match &e.kind {
            EventKind::Unknown { event_type, fields } => {
                assert_eq!(event_type, "poll");
                assert_eq!(fields.len(), 2);
            }
            other => panic!("expected unknown, got {other:?}"),
        }
        // Kind-specific keys come back sorted; the content is unchanged.
        let out = serde_json::to_string(&e).unwrap();
        assert_eq!(out, r#"{"id":"E_2","order":4,"type":"poll","timestamp":2,"answers":[1,2],"question":"?"}"#);
        assert_eq!(serde_json::from_str::<Event>(&out).unwrap(), e);
    }

    #[test]
    fn missing_fields_are_named() {
        let err = serde_json::from_str::<Event>(r#"{"id":"E","order":1,"timestamp":1,"type":"message"}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `text`"), "{err}");
        let err = serde_json::from_str::<Event>(r#"{"id":"E","order":1,"timestamp":1}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `type`"), "{err}");
        let err =
            serde_json::from_str::<Event>(r#"{"order":1,"timestamp":1,"type":"custom","content":{}}"#).unwrap_err();
        assert!(err.to_string().contains("missing field `id`"), "{err}");
    }

    #[test]
    fn new_event_ignores_server_fields_and_sends_flat_properties() {
        let e: NewEvent = serde_json::from_str(
            r#"{"type":"message","text":"x","id":"ignored","order":9,"properties":{"ns":{"k":{"value":1}}},"recipients":"agents"}"#,
        )
        .unwrap();
        let expected = if cfg!(feature = "agent") {
            r#"{"type":"message","text":"x","recipients":"agents","properties":{"ns":{"k":1}}}"#
        } else {
            r#"{"type":"message","text":"x","properties":{"ns":{"k":1}}}"#
        };
        assert_eq!(serde_json::to_string(&e).unwrap(), expected);
    }

    #[test]
    fn null_optionals_are_absent() {
        let e: Event = serde_json::from_str(
            r#"{"id":"E","order":1,"timestamp":1,"type":"file","name":"a","url":"u","content_type":"t","size":1,"width":null,"custom_id":null}"#,
        )
        .unwrap();
        assert_eq!(e.custom_id, None);
        match e.kind {
            EventKind::File(f) => assert!(!f.is_image()),
            other => panic!("{other:?}"),
        }
    }
}
