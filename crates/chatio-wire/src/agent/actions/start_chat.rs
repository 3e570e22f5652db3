//! `start_chat` (RTM, Web API) as agents send it (agent protocol file, 5.5): the shared
//! [`StartChat`] payload, read with the agent side's older shapes too.
//!
//! Besides the reference shape `{"chat":{properties, thread:{events, properties}}}` and the
//! customer side's legacy `{routing_scope, events, properties}` (CUST D1), an agent may send
//! the December 2017 `initial_events` array and the v0.3 `chat.thread.scopes` (A15). They are
//! mapped onto the same value: `initial_events` are the first thread's events when it has
//! none, thread scopes are the chat's when it has none.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use crate::actions::scopes_from_routing;
use crate::actions::{NewChat, NewThread, StartChat};
use crate::objects::event::NewEvent;
use crate::objects::properties::Properties;
use crate::objects::scopes::Scopes;

#[derive(Deserialize)]
struct Repr {
    #[serde(default)]
    chat: Option<ChatRepr>,
    #[serde(default)]
    routing_scope: Option<Value>,
    #[serde(default)]
    events: Option<Vec<NewEvent>>,
    #[serde(default)]
    initial_events: Option<Vec<NewEvent>>,
    #[serde(default)]
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct ChatRepr {
    #[serde(default)]
    scopes: Option<Scopes>,
    #[serde(default)]
    properties: Option<Properties>,
    #[serde(default)]
    thread: Option<ThreadRepr>,
}

#[derive(Deserialize)]
struct ThreadRepr {
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    events: Vec<NewEvent>,
    #[serde(default)]
    properties: Option<Properties>,
    #[serde(default)]
    scopes: Option<Scopes>,
}

/// Reads an agent's `start_chat` payload.
pub(crate) fn decode<'de, D: Deserializer<'de>>(d: D) -> Result<StartChat, D::Error> {
    let r = Repr::deserialize(d)?;
    let (scopes, properties, thread) = match r.chat {
        Some(chat) => {
            let (thread, thread_scopes) = match chat.thread {
                Some(t) => (Some(NewThread { events: t.events, properties: t.properties }), t.scopes),
                None => (None, None),
            };
            (chat.scopes.or(thread_scopes), chat.properties, thread)
        }
        None => {
            let thread = r.events.map(|events| NewThread { events, properties: None });
            (r.routing_scope.as_ref().map(scopes_from_routing), r.properties, thread)
        }
    };
    let mut chat = NewChat { scopes, properties, thread };
    if let Some(initial) = r.initial_events.filter(|e| !e.is_empty()) {
        let thread = chat.thread.get_or_insert_with(NewThread::default);
        if thread.events.is_empty() {
            thread.events = initial;
        }
    }
    Ok(StartChat { chat })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(json: &str) -> StartChat {
        decode(&mut serde_json::Deserializer::from_str(json)).unwrap()
    }

    #[test]
    fn older_agent_shapes() {
        let initial = read(r#"{"initial_events":[{"type":"message","text":"hi"}]}"#);
        assert_eq!(initial, StartChat::with_events(vec![NewEvent::message("hi")]));
        let v03 = read(r#"{"chat":{"thread":{"events":[],"scopes":{"groups":[2]}}}}"#);
        assert_eq!(v03.chat.scopes, Some(Scopes::groups([2])));
        assert_eq!(read("{}"), StartChat::new());
        assert_eq!(read(r#"{"routing_scope":{"type":"license"}}"#).chat.scopes, Some(Scopes::all()));
        // The reference shape wins over `initial_events`.
        let both = read(
            r#"{"chat":{"thread":{"events":[{"type":"message","text":"a"}]}},"initial_events":[{"type":"message","text":"b"}]}"#,
        );
        assert_eq!(both, StartChat::with_events(vec![NewEvent::message("a")]));
    }
}
