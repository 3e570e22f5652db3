//! Serde for [`Event`] and [`NewEvent`]: one pass over a flat JSON object.
//!
//! Common keys are read directly. Kind-specific keys are read directly too once `type` has
//! been seen (every sample puts `type` early); keys that come before `type` are kept as
//! `serde_json::Value`s and read when it arrives. No `serde_json::Value` detour, no internally-tagged enum
//! buffering.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

use super::event::*;
use crate::{EventId, Properties, Timestamp, UserId};

/// Keys shared by every event type; never part of [`EventKind::Unknown`]'s fields.
const COMMON: [&str; 8] = ["id", "custom_id", "order", "type", "author_id", "timestamp", "properties", "recipients"];

enum Tag {
    Message,
    SystemMessage,
    Annotation,
    FilledForm,
    File,
    Custom,
    RichMessage,
    Unknown(String),
}

impl Tag {
    fn parse(s: &str) -> Self {
        match s {
            "message" => Self::Message,
            "system_message" => Self::SystemMessage,
            "annotation" => Self::Annotation,
            "filled_form" => Self::FilledForm,
            "file" => Self::File,
            "custom" => Self::Custom,
            "rich_message" => Self::RichMessage,
            other => Self::Unknown(other.to_owned()),
        }
    }
}

struct TagDe(Tag);

impl<'de> Deserialize<'de> for TagDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = TagDe;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event type string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TagDe, E> {
                Ok(TagDe(Tag::parse(v)))
            }
        }
        d.deserialize_str(V)
    }
}

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

#[derive(Default)]
struct KindFields {
    text: Option<String>,
    system_message_type: Option<String>,
    annotation_type: Option<String>,
    form_fields: Option<Vec<FormField>>,
    name: Option<String>,
    url: Option<String>,
    content_type: Option<String>,
    size: Option<u64>,
    width: Option<u32>,
    height: Option<u32>,
    content: Option<Value>,
    template_id: Option<String>,
    elements: Option<Vec<RichElement>>,
    extra: Map<String, Value>,
}

struct FieldSeed<'a> {
    tag: &'a Tag,
    key: &'a str,
    kf: &'a mut KindFields,
}

impl<'de> DeserializeSeed<'de> for FieldSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        use Tag as T;
        let kf = self.kf;
        match (self.tag, self.key) {
            (T::Message | T::SystemMessage | T::Annotation, "text") => kf.text = Deserialize::deserialize(d)?,
            (T::SystemMessage, "system_message_type") => kf.system_message_type = Deserialize::deserialize(d)?,
            (T::Annotation, "annotation_type") => kf.annotation_type = Deserialize::deserialize(d)?,
            (T::FilledForm, "fields") => kf.form_fields = Deserialize::deserialize(d)?,
            (T::File, "name") => kf.name = Deserialize::deserialize(d)?,
            (T::File, "url") => kf.url = Deserialize::deserialize(d)?,
            (T::File, "content_type") => kf.content_type = Deserialize::deserialize(d)?,
            (T::File, "size") => kf.size = Deserialize::deserialize(d)?,
            (T::File, "width") => kf.width = Deserialize::deserialize(d)?,
            (T::File, "height") => kf.height = Deserialize::deserialize(d)?,
            (T::Custom, "content") => kf.content = Some(Value::deserialize(d)?),
            (T::RichMessage, "template_id") => kf.template_id = Deserialize::deserialize(d)?,
            (T::RichMessage, "elements") => kf.elements = Deserialize::deserialize(d)?,
            (T::Unknown(_), k) => {
                kf.extra.insert(k.to_owned(), Value::deserialize(d)?);
            }
            _ => {
                IgnoredAny::deserialize(d)?;
            }
        }
        Ok(())
    }
}

fn build_kind<E: de::Error>(tag: Tag, kf: KindFields) -> Result<EventKind, E> {
    fn need<T, E: de::Error>(v: Option<T>, field: &'static str) -> Result<T, E> {
        v.ok_or_else(|| E::missing_field(field))
    }
    Ok(match tag {
        Tag::Message => EventKind::Message(Message { text: need(kf.text, "text")? }),
        Tag::SystemMessage => EventKind::SystemMessage(SystemMessage {
            text: need(kf.text, "text")?,
            system_message_type: kf.system_message_type,
        }),
        Tag::Annotation => EventKind::Annotation(Annotation {
            annotation_type: need(kf.annotation_type, "annotation_type")?,
            text: kf.text,
        }),
        Tag::FilledForm => EventKind::FilledForm(FilledForm { fields: need(kf.form_fields, "fields")? }),
        Tag::File => EventKind::File(FileAttachment {
            name: need(kf.name, "name")?,
            url: need(kf.url, "url")?,
            content_type: need(kf.content_type, "content_type")?,
            size: need(kf.size, "size")?,
            width: kf.width,
            height: kf.height,
        }),
        Tag::Custom => EventKind::Custom(Custom { content: need(kf.content, "content")? }),
        Tag::RichMessage => EventKind::RichMessage(RichMessage {
            template_id: need(kf.template_id, "template_id")?,
            elements: kf.elements.unwrap_or_default(),
        }),
        Tag::Unknown(event_type) => EventKind::Unknown { event_type, fields: kf.extra },
    })
}

struct Parts {
    id: Option<EventId>,
    custom_id: Option<String>,
    order: Option<u64>,
    author_id: Option<UserId>,
    timestamp: Option<Timestamp>,
    properties: Option<Properties>,
    recipients: Option<Recipients>,
    kind: EventKind,
}

struct RecipientsDe(Recipients);

impl<'de> Deserialize<'de> for RecipientsDe {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = Cow::<str>::deserialize(d)?;
        Ok(Self(Recipients::parse(&s)))
    }
}

impl<'de> Deserialize<'de> for Parts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Parts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parts, A::Error> {
                let mut id = None;
                let mut custom_id = None;
                let mut order = None;
                let mut author_id = None;
                let mut timestamp = None;
                let mut properties = None;
                let mut recipients: Option<RecipientsDe> = None;
                let mut tag: Option<Tag> = None;
                let mut kf = KindFields::default();
                let mut pending: Vec<(Cow<'de, str>, Value)> = Vec::new();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "id" => id = map.next_value()?,
                        "custom_id" => custom_id = map.next_value()?,
                        "order" => order = map.next_value()?,
                        "author_id" => author_id = map.next_value()?,
                        "timestamp" => timestamp = map.next_value()?,
                        "properties" => properties = map.next_value()?,
                        "recipients" => recipients = map.next_value()?,
                        "type" => {
                            let t = map.next_value::<TagDe>()?.0;
                            for (k, raw) in pending.drain(..) {
                                let seed = FieldSeed { tag: &t, key: &k, kf: &mut kf };
                                seed.deserialize(raw).map_err(de::Error::custom)?;
                            }
                            tag = Some(t);
                        }
                        _ => match &tag {
                            Some(t) => map.next_value_seed(FieldSeed { tag: t, key: &key, kf: &mut kf })?,
                            None => pending.push((key, map.next_value::<Value>()?)),
                        },
                    }
                }
                let tag = tag.ok_or_else(|| de::Error::missing_field("type"))?;
                Ok(Parts {
                    id,
                    custom_id,
                    order,
                    author_id,
                    timestamp,
                    properties,
                    recipients: recipients.map(|r| r.0),
                    kind: build_kind(tag, kf)?,
                })
            }
        }
        d.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = Parts::deserialize(d)?;
        Ok(Event {
            id: p.id.ok_or_else(|| de::Error::missing_field("id"))?,
            custom_id: p.custom_id,
            order: p.order.ok_or_else(|| de::Error::missing_field("order"))?,
            author_id: p.author_id,
            timestamp: p.timestamp.ok_or_else(|| de::Error::missing_field("timestamp"))?,
            properties: p.properties,
            recipients: p.recipients,
            kind: p.kind,
        })
    }
}

impl<'de> Deserialize<'de> for NewEvent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let p = Parts::deserialize(d)?;
        Ok(NewEvent { custom_id: p.custom_id, properties: p.properties, kind: p.kind })
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
        crate::properties::flat::serialize(self.0, s)
    }
}

impl Serialize for NewEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", self.kind.event_type())?;
        serialize_kind(&self.kind, &mut m)?;
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
        assert_eq!(serde_json::to_string(&e).unwrap(), r#"{"type":"message","text":"x","properties":{"ns":{"k":1}}}"#);
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
