//! A customer's new event encoded once: its JSON's length is what it costs its chat (G38),
//! and the frames that carry it — the `send_event` response and the `incoming_event` pushes
//! to the customer's connections — copy these bytes around their envelope instead of
//! encoding the event again. The frames are byte for byte what
//! [`ServerFrame::encode`](chatio_wire::ServerFrame::encode) writes (the tests below compare
//! them); anything else is encoded the usual way.

use std::sync::Arc;

use chatio_wire::limits::MAX_FRAME_LEN;
use chatio_wire::{ChatId, Event, EventId, IncomingEvent, RequestId, Response, ResponseData, ThreadId};

/// An event's JSON, shared by the frames that carry it.
#[derive(Clone, Debug)]
pub(crate) struct EventJson {
    /// The event it encodes (the frames check it before they use the bytes).
    id: EventId,
    json: Arc<str>,
}

impl EventJson {
    /// Encodes `event`.
    pub(crate) fn new(event: &Event) -> Self {
        // Events write string keys and finite numbers only: serde_json cannot fail here; an
        // empty text (never used, see `carries`) keeps the function total anyway.
        let json = serde_json::to_string(event).unwrap_or_default();
        Self { id: event.id.clone(), json: Arc::from(json) }
    }

    /// The length of the event's JSON: its quota cost.
    pub(crate) fn len(&self) -> u64 {
        self.json.len() as u64
    }

    /// Whether these are the bytes of `event`.
    fn carries(&self, event: &Event) -> bool {
        !self.json.is_empty() && self.id == event.id
    }

    /// The `send_event` response carrying this event, or `None` when `response` is another
    /// answer (or would pass the frame limit, which [`encode_response`](super::encode_response)
    /// handles).
    pub(crate) fn response(&self, response: &Response) -> Option<String> {
        let Ok(ResponseData::SendEvent(r)) = &response.result else { return None };
        if !self.carries(&r.event) {
            return None;
        }
        let mut out = Frame::new(response.request_id.as_ref(), "send_event", "response", self.json.len());
        out.raw(r#","success":true,"payload":{"thread_id":"#);
        out.string(&r.thread_id);
        out.finish(&self.json)
    }

    /// An `incoming_event` push carrying this event (with `request_id` on the requester's
    /// copy), or `None` when the push carries another event.
    pub(crate) fn push(&self, request_id: Option<&RequestId>, push: &IncomingEvent) -> Option<String> {
        let thread = push.thread_id.as_ref()?;
        if !self.carries(&push.event) {
            return None;
        }
        let mut out = Frame::new(request_id, "incoming_event", "push", self.json.len());
        out.raw(r#","payload":{"chat_id":"#);
        out.string::<ChatId>(&push.chat_id);
        out.raw(r#","thread_id":"#);
        out.string::<ThreadId>(thread);
        out.finish(&self.json)
    }
}

/// A frame written by hand around the event's bytes, in the order the wire's serializer
/// writes its keys.
struct Frame(Vec<u8>);

impl Frame {
    fn new(request_id: Option<&RequestId>, action: &str, kind: &str, event_len: usize) -> Self {
        let mut out = Frame(Vec::with_capacity(event_len + 160));
        out.raw("{");
        if let Some(id) = request_id {
            out.raw(r#""request_id":"#);
            out.string(id);
            out.raw(",");
        }
        out.raw(r#""action":""#);
        out.raw(action);
        out.raw(r#"","type":""#);
        out.raw(kind);
        out.raw(r#"""#);
        out
    }

    fn raw(&mut self, s: &str) {
        self.0.extend_from_slice(s.as_bytes());
    }

    /// A JSON string, escaped as serde_json escapes it.
    fn string<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        // Ids serialize as JSON strings: writing into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut self.0, value);
    }

    /// Appends `,"event":EVENT}}` and checks the size; `None` past the frame limit.
    fn finish(mut self, event: &str) -> Option<String> {
        self.raw(r#","event":"#);
        self.raw(event);
        self.raw("}}");
        if self.0.len() > MAX_FRAME_LEN {
            return None;
        }
        String::from_utf8(self.0).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_wire::{
        EventKind, Message, Properties, PropertyValue, Push, PushFrame, SendEventResponse, ServerFrame, Timestamp,
        UserId,
    };
    use proptest::prelude::*;

    fn event(id: &str, text: &str, custom_id: Option<String>, prop: Option<(String, String)>) -> Event {
        let mut e = Event::new(id, 7, Timestamp::from_secs(1_700_000_000), EventKind::Message(Message::new(text)));
        e.author_id = Some(UserId::new("cust\"omer/1"));
        e.custom_id = custom_id;
        if let Some((name, value)) = prop {
            let mut p = Properties::new();
            p.insert("ns", &name, PropertyValue::String(value));
            e.properties = Some(p);
        }
        e
    }

    fn check(ev: Event, request_id: Option<&str>, chat: &str, thread: &str) {
        let json = EventJson::new(&ev);
        assert_eq!(json.len(), serde_json::to_vec(&ev).unwrap().len() as u64, "the quota cost is the JSON's length");
        let rid = request_id.map(RequestId::new);
        let response =
            Response::success(rid.clone(), ResponseData::SendEvent(SendEventResponse::new(thread, ev.clone())));
        assert_eq!(json.response(&response).as_deref(), Some(ServerFrame::Response(response).encode().as_str()));
        let push = IncomingEvent::new(chat, thread, ev);
        let frame = ServerFrame::Push(PushFrame::new(rid.clone(), Push::IncomingEvent(push.clone())));
        assert_eq!(json.push(rid.as_ref(), &push).as_deref(), Some(frame.encode().as_str()));
    }

    #[test]
    fn frames_are_those_the_wire_encodes() {
        check(event("T_1", "hello", None, None), Some("7"), "C1", "T");
        check(event("T_2", "quote \" back\\slash \u{1} é 😀", Some("c\"1".into()), None), None, "C\"", "T\\");
        check(event("T_3", "", None, Some(("k".into(), "v\n".into()))), Some("\u{7f}\"\\"), "C", "T");
    }

    proptest! {
        #[test]
        fn frames_are_those_the_wire_encodes_for_any_text(
            text in any::<String>(),
            rid in proptest::option::of(any::<String>()),
            chat in any::<String>(),
            custom in proptest::option::of(any::<String>()),
        ) {
            check(event("T_9", &text, custom, None), rid.as_deref(), &chat, "T");
        }
    }

    #[test]
    fn other_events_and_answers_are_left_to_the_encoder() {
        let json = EventJson::new(&event("T_1", "a", None, None));
        let other = event("T_2", "a", None, None);
        let response = Response::success(None, ResponseData::SendEvent(SendEventResponse::new("T", other.clone())));
        assert_eq!(json.response(&response), None);
        assert_eq!(json.response(&Response::success(None, ResponseData::Ping)), None);
        assert_eq!(json.push(None, &IncomingEvent::new("C", "T", other)), None);
        let big = event("T_3", &"x".repeat(MAX_FRAME_LEN), None, None);
        let json = EventJson::new(&big);
        let response = Response::success(None, ResponseData::SendEvent(SendEventResponse::new("T", big)));
        assert_eq!(json.response(&response), None, "past the frame limit: the usual path answers");
    }
}
