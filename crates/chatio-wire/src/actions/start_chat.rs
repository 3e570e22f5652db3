//! `start_chat` (RTM, Web API): creates a chat with its first thread (protocol file, 4.5).
//!
//! Two payload shapes exist (D1): the reference's `{"chat":{scopes, properties, thread:
//! {events, properties}}}` and the examples' and JS SDK's legacy `{"routing_scope":{…},
//! "events":[…], "properties":{…}}`. Both decode into [`StartChat`]; the reference form is
//! written, and [`StartChat::to_legacy_json`] gives the other for old servers.

use serde::de::Deserializer;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::objects::chat::Chat;
use crate::objects::event::NewEvent;
use crate::objects::properties::Properties;
use crate::objects::scopes::Scopes;

/// `start_chat` payload.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct StartChat {
    /// The chat to create.
    pub chat: NewChat,
}

impl StartChat {
    /// A chat with no scopes, properties or events.
    pub fn new() -> Self {
        Self::default()
    }

    /// A chat whose first thread holds these events.
    pub fn with_events(events: Vec<NewEvent>) -> Self {
        Self { chat: NewChat { thread: Some(NewThread { events, properties: None }), ..NewChat::default() } }
    }

    /// Only agents of these groups may see the chat (the JS SDK's `startChat({scope})`, sent
    /// as `routing_scope: {type: "group", ids}` in the legacy shape).
    #[must_use]
    pub fn with_scopes(mut self, scopes: Scopes) -> Self {
        self.chat.scopes = Some(scopes);
        self
    }

    /// Initial chat properties (the JS SDK's `startChat({properties})`).
    #[must_use]
    pub fn with_properties(mut self, properties: Properties) -> Self {
        self.chat.properties = Some(properties);
        self
    }

    /// Initial properties of the first thread (reference shape only).
    #[must_use]
    pub fn with_thread_properties(mut self, properties: Properties) -> Self {
        self.chat.thread.get_or_insert_with(NewThread::default).properties = Some(properties);
        self
    }

    /// Adds an initial event to the first thread (the JS SDK's `startChat({events})`).
    #[must_use]
    pub fn with_event(mut self, event: NewEvent) -> Self {
        self.chat.thread.get_or_insert_with(NewThread::default).events.push(event);
        self
    }

    /// The legacy shape `{routing_scope, events?, properties?}` (D1), for servers that only
    /// know it. Thread properties have no place there and are left out.
    pub fn to_legacy_json(&self) -> Value {
        let mut m = serde_json::Map::new();
        let scope = match self.chat.scopes.as_ref().and_then(|s| s.groups.clone()) {
            Some(groups) if !groups.is_empty() => serde_json::json!({ "type": "group", "ids": groups }),
            _ => serde_json::json!({ "type": "license" }),
        };
        m.insert("routing_scope".into(), scope);
        if let Some(t) = &self.chat.thread {
            if !t.events.is_empty() {
                m.insert("events".into(), serde_json::to_value(&t.events).unwrap_or(Value::Null));
            }
        }
        if let Some(p) = &self.chat.properties {
            m.insert("properties".into(), flat_value(p));
        }
        Value::Object(m)
    }
}

fn flat_value(p: &Properties) -> Value {
    struct F<'a>(&'a Properties);
    impl Serialize for F<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            crate::objects::properties::flat::serialize(self.0, s)
        }
    }
    serde_json::to_value(F(p)).unwrap_or(Value::Null)
}

/// The chat part of `start_chat`.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewChat {
    /// Which agents may see the chat; absent = all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Scopes>,
    /// Initial chat properties (flat form).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::objects::properties::flat::serialize_opt"
    )]
    pub properties: Option<Properties>,
    /// The first thread's initial events and properties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thread: Option<NewThread>,
}

/// The first thread of a new chat.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewThread {
    /// Initial events.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub events: Vec<NewEvent>,
    /// Initial thread properties (flat form).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::objects::properties::flat::serialize_opt"
    )]
    pub properties: Option<Properties>,
}

impl Serialize for StartChat {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("chat", &self.chat)?;
        m.end()
    }
}

#[derive(Deserialize)]
struct Repr {
    #[serde(default)]
    chat: Option<NewChat>,
    #[serde(default)]
    routing_scope: Option<Value>,
    #[serde(default)]
    events: Option<Vec<NewEvent>>,
    #[serde(default)]
    properties: Option<Properties>,
}

/// Maps a legacy `routing_scope` to scopes (D1): `{type:"license"}` or anything unknown →
/// no restriction; `{groups:[…]}` → those groups; `{type:"group", id|ids}` → those groups.
pub(crate) fn scopes_from_routing(scope: &Value) -> Scopes {
    let ids = |v: &Value| -> Option<Vec<u64>> {
        match v {
            Value::Number(n) => n.as_u64().map(|n| vec![n]),
            Value::Array(a) => Some(a.iter().filter_map(Value::as_u64).collect()),
            _ => None,
        }
    };
    if let Some(g) = scope.get("groups").and_then(ids) {
        return Scopes::groups(g);
    }
    if scope.get("type").and_then(Value::as_str) == Some("group") {
        if let Some(g) = scope.get("ids").or_else(|| scope.get("id")).and_then(ids) {
            return Scopes::groups(g);
        }
    }
    Scopes::all()
}

impl<'de> Deserialize<'de> for StartChat {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = Repr::deserialize(d)?;
        if let Some(chat) = r.chat {
            return Ok(StartChat { chat });
        }
        let thread = r.events.map(|events| NewThread { events, properties: None });
        Ok(StartChat {
            chat: NewChat {
                scopes: r.routing_scope.as_ref().map(scopes_from_routing),
                properties: r.properties,
                thread,
            },
        })
    }
}

/// `start_chat` response payload: the chat with its `thread`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StartChatResponse {
    /// The new chat, `thread` set.
    pub chat: Chat,
}

impl StartChatResponse {
    /// A response.
    pub fn new(chat: Chat) -> Self {
        Self { chat }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_shapes_decode_to_the_same_value() {
        let reference: StartChat = serde_json::from_str(
            r#"{"chat":{"scopes":{"groups":[1]},"properties":{"source":{"type":"facebook"}},"thread":{"events":[{"type":"message","text":"hello"}]}}}"#,
        )
        .unwrap();
        let legacy: StartChat = serde_json::from_str(
            r#"{"routing_scope":{"type":"group","ids":[1]},"events":[{"type":"message","text":"hello"}],"properties":{"source":{"type":"facebook"}}}"#,
        )
        .unwrap();
        assert_eq!(reference, legacy);
        assert_eq!(
            serde_json::to_string(&legacy).unwrap(),
            r#"{"chat":{"scopes":{"groups":[1]},"properties":{"source":{"type":"facebook"}},"thread":{"events":[{"type":"message","text":"hello"}]}}}"#
        );
        assert_eq!(
            legacy.to_legacy_json().to_string(),
            r#"{"events":[{"text":"hello","type":"message"}],"properties":{"source":{"type":"facebook"}},"routing_scope":{"ids":[1],"type":"group"}}"#
        );
    }

    #[test]
    fn license_scope_means_everyone() {
        let s: StartChat = serde_json::from_str(r#"{"routing_scope":{"type":"license"}}"#).unwrap();
        assert_eq!(s.chat.scopes, Some(Scopes::all()));
        let empty: StartChat = serde_json::from_str("{}").unwrap();
        assert_eq!(empty, StartChat::new());
    }
}
