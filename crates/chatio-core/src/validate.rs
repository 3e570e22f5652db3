//! Argument checks made before anything is queued: a refused call returns
//! [`Error::InvalidArgs`] at once and leaves no trace in the session.
//!
//! The limits are the protocol's (G22, G23, 4.7) and the JS SDK's client-side ones (6.9), so
//! a request the server would refuse for its shape never leaves the client.

use chatio_wire::{ChatId, EventKind, NewEvent, Properties};

use crate::error::Error;

/// Longest `text`, `sneak_peek_text` and rating comment, in characters (G23; defined in
/// [`chatio_wire::limits`]).
pub const MAX_TEXT_LEN: usize = chatio_wire::limits::MAX_TEXT_LEN;
/// Longest `custom_id` and id, in bytes (G23).
pub const MAX_ID_LEN: usize = chatio_wire::limits::MAX_ID_LEN;
/// Most custom fields of a customer (G23).
pub const MAX_FIELDS: usize = chatio_wire::limits::MAX_CUSTOMER_FIELDS;
/// Longest custom field value, in characters (G23).
pub const MAX_FIELD_LEN: usize = chatio_wire::limits::MAX_CUSTOMER_FIELD_LEN;

/// The checks [`Session::set_sneak_peek`](crate::Session::set_sneak_peek) makes, for callers
/// that want the verdict before handing the call to a driver.
///
/// # Errors
/// [`Error::InvalidArgs`] for an empty chat id or text over [`MAX_TEXT_LEN`] characters.
pub fn check_sneak_peek(chat: &ChatId, text: &str) -> Result<(), Error> {
    check_chat(chat)?;
    check_text("text", text)
}

pub(crate) fn check_chat(chat: &ChatId) -> Result<(), Error> {
    check_id("chat id", chat.as_str())
}

pub(crate) fn check_id(what: &str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid(format!("the {what} is empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!("the {what} is longer than {MAX_ID_LEN} bytes")));
    }
    Ok(())
}

pub(crate) fn check_text(what: &str, text: &str) -> Result<(), Error> {
    // Cheap first: a string of at most MAX_TEXT_LEN bytes has at most as many characters.
    if chatio_wire::limits::too_many_chars(text, MAX_TEXT_LEN) {
        return Err(Error::invalid(format!("the {what} is longer than {MAX_TEXT_LEN} characters")));
    }
    Ok(())
}

pub(crate) fn check_properties(p: &Properties) -> Result<(), Error> {
    for (ns, name, v) in p.iter() {
        if !chatio_wire::limits::is_writable_property(v) {
            return Err(Error::invalid(format!(
                "property `{ns}.{name}` must be an int32, a bool or a string, not {v}"
            )));
        }
    }
    Ok(())
}

pub(crate) fn check_fields<'a>(fields: impl ExactSizeIterator<Item = (&'a String, &'a String)>) -> Result<(), Error> {
    if fields.len() > MAX_FIELDS {
        return Err(Error::invalid(format!("at most {MAX_FIELDS} custom fields")));
    }
    for (k, v) in fields {
        if chatio_wire::limits::too_many_chars(v, MAX_FIELD_LEN) {
            return Err(Error::invalid(format!("field `{k}` is longer than {MAX_FIELD_LEN} characters")));
        }
    }
    Ok(())
}

/// What a customer may send with `send_event` or among `start_chat`'s events (G22).
pub(crate) fn check_new_event(e: &NewEvent) -> Result<(), Error> {
    if let Some(c) = &e.custom_id {
        check_id("custom_id", c)?;
    }
    if let Some(p) = &e.properties {
        check_properties(p)?;
    }
    match &e.kind {
        EventKind::SystemMessage(_) => Err(Error::invalid("customers cannot send system messages")),
        EventKind::File(_) => Err(Error::invalid("files are sent with send_file, not send_event")),
        EventKind::Message(m) => check_text("text", &m.text),
        EventKind::Annotation(a) => {
            if a.annotation_type.is_empty() {
                return Err(Error::invalid("the annotation_type is empty"));
            }
            a.text.as_deref().map_or(Ok(()), |t| check_text("text", t))
        }
        EventKind::RichMessage(r) => {
            if r.template_id.is_empty() {
                return Err(Error::invalid("the template_id is empty"));
            }
            if r.elements.len() > 10 || r.elements.iter().any(|el| el.buttons.len() > 10) {
                return Err(Error::invalid("a rich message has at most 10 elements of at most 10 buttons"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// What an agent may send with `send_event` or among `start_chat`'s events (H15): a
/// customer's events, and no `file` either (the server makes those from `send_file` uploads).
#[cfg(feature = "agent")]
pub(crate) fn check_agent_event(e: &NewEvent) -> Result<(), Error> {
    match &e.kind {
        EventKind::SystemMessage(_) => Err(Error::invalid("system messages are made by the server, not sent (H15)")),
        EventKind::File(_) => Err(Error::invalid(
            "agents send no `file` events (H15): upload the image with upload_image, then send it in a rich message",
        )),
        _ => check_new_event(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_wire::{Annotation, FileAttachment, PropertyValue, RichElement, RichMessage, SystemMessage};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn refused(r: Result<(), Error>) -> String {
        match r {
            Err(Error::InvalidArgs { reason }) => reason,
            other => panic!("expected InvalidArgs, got {other:?}"),
        }
    }

    #[test]
    fn ids_and_texts() {
        assert!(check_chat(&ChatId::new("C")).is_ok());
        assert!(refused(check_chat(&ChatId::new(""))).contains("chat id is empty"));
        assert!(refused(check_id("custom_id", &"x".repeat(MAX_ID_LEN + 1))).contains("256 bytes"));
        assert!(check_id("custom_id", &"x".repeat(MAX_ID_LEN)).is_ok());
        assert!(check_text("text", &"é".repeat(MAX_TEXT_LEN)).is_ok(), "characters, not bytes");
        assert!(refused(check_text("text", &"a".repeat(MAX_TEXT_LEN + 1))).contains("16384 characters"));
        assert!(check_sneak_peek(&ChatId::new("C"), "typing").is_ok());
    }

    #[test]
    fn events_customers_may_not_send() {
        let system = NewEvent::new(EventKind::SystemMessage(SystemMessage::new("x", "agent_joined")));
        assert!(refused(check_new_event(&system)).contains("system messages"));
        let file = NewEvent::new(EventKind::File(FileAttachment::new("a.png", "u", "image/png", 1)));
        assert!(refused(check_new_event(&file)).contains("send_file"));
        let annotation = NewEvent::new(EventKind::Annotation(Annotation::new("", None)));
        assert!(refused(check_new_event(&annotation)).contains("annotation_type"));
        let rich =
            NewEvent::new(EventKind::RichMessage(RichMessage::new("cards", vec![RichElement::new("t", vec![]); 11])));
        assert!(refused(check_new_event(&rich)).contains("at most 10"));
        assert!(check_new_event(&NewEvent::message("hi").with_custom_id("c-1")).is_ok());
        assert!(refused(check_new_event(&NewEvent::message("hi").with_custom_id(""))).contains("custom_id"));
    }

    #[test]
    fn property_values_must_be_scalars() {
        let ok = Properties::new().with("rating", "score", 1);
        assert!(check_properties(&ok).is_ok());
        let mut bad = Properties::new();
        bad.insert("ns", "obj", PropertyValue::from_json(serde_json::json!({"a": 1})));
        assert!(refused(check_properties(&bad)).contains("`ns.obj`"));
    }

    #[test]
    fn custom_fields() {
        let many: Vec<(String, String)> = (0..=MAX_FIELDS).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert!(refused(check_fields(many.iter().map(|(k, v)| (k, v)))).contains("at most 100"));
        let long = [("k".to_owned(), "v".repeat(MAX_FIELD_LEN + 1))];
        assert!(refused(check_fields(long.iter().map(|(k, v)| (k, v)))).contains("`k`"));
    }
}
