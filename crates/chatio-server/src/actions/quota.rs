//! The quotas on what clients make the server hold (G38, [`Quotas`]): events and their bytes
//! per chat, properties (count after merging, string value size), uploads (files per chat
//! and per customer, bytes per customer and in total) and uploaded file names. Pure: the
//! checks read the records they are given; the counts live in the records themselves
//! (`ChatRec::held`, `Customer::uploads`) and in the policy (the total).
//!
//! Every refusal is a `validation` error whose `data` names the limit and its value,
//! `{"limit": "chat_events", "max": 10000}`, so that a client can tell a quota from a
//! malformed request without reading the message.

use chatio_wire::{ErrorObject, ErrorType, Event, NewEvent, Properties, PropertyValue};
use serde_json::json;

use crate::config::Quotas;
use crate::store::{ChatRec, Customer};

/// A `validation` error for the quota `limit` (`max`), with this message.
pub(crate) fn over(limit: &str, max: u64, msg: impl Into<String>) -> ErrorObject {
    let mut e = ErrorObject::new(ErrorType::Validation, msg);
    e.data = Some(json!({ "limit": limit, "max": max }));
    e
}

/// What an event costs its chat: the length of its JSON.
pub(crate) fn event_cost(e: &Event) -> u64 {
    json_len(e)
}

/// An upper estimate of what a new event will cost once stamped (its JSON plus the ids,
/// order, time and author the server adds), for checks made before it is stamped.
pub(crate) fn new_event_cost(e: &NewEvent) -> u64 {
    json_len(e).saturating_add(STAMP_COST)
}

/// The length of a value's JSON, counted as it is written (nothing is kept).
fn json_len(value: &impl serde::Serialize) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_or(0, |()| count.0)
}

/// Bytes the server adds to an event when it stamps it (ids, order, time, author), at most.
const STAMP_COST: u64 = 1_024;

/// Whether `chat` has room for one more event of `cost` bytes.
pub(crate) fn room(q: &Quotas, chat: &ChatRec, cost: u64) -> Result<(), ErrorObject> {
    if chat.held.events >= q.chat_events {
        return Err(over(
            "chat_events",
            q.chat_events,
            format!("the chat is full: it holds {} events, the most a chat may hold; start a new chat", q.chat_events),
        ));
    }
    if chat.held.bytes.saturating_add(cost) > q.chat_bytes {
        return Err(over(
            "chat_bytes",
            q.chat_bytes,
            format!("the chat is full: its events would pass {} bytes; start a new chat", q.chat_bytes),
        ));
    }
    Ok(())
}

/// Checks that `chat` has room for the stamped event `ev` and counts it.
pub(crate) fn hold_event(q: &Quotas, chat: &mut ChatRec, ev: &Event) -> Result<(), ErrorObject> {
    hold_cost(q, chat, event_cost(ev))
}

/// Checks that `chat` has room for one more event of `cost` bytes (its JSON's length, see
/// [`event_cost`]) and counts it.
pub(crate) fn hold_cost(q: &Quotas, chat: &mut ChatRec, cost: u64) -> Result<(), ErrorObject> {
    room(q, chat, cost)?;
    chat.held.events += 1;
    chat.held.bytes = chat.held.bytes.saturating_add(cost);
    Ok(())
}

/// Checks that the events a new chat starts with fit in one chat.
pub(crate) fn check_new_chat_events(q: &Quotas, events: &[NewEvent]) -> Result<(), ErrorObject> {
    let count = events.len() as u64;
    if count > q.chat_events {
        return Err(over("chat_events", q.chat_events, format!("a chat holds at most {} events", q.chat_events)));
    }
    let bytes: u64 = events.iter().map(new_event_cost).sum();
    if bytes > q.chat_bytes {
        return Err(over("chat_bytes", q.chat_bytes, format!("a chat's events hold at most {} bytes", q.chat_bytes)));
    }
    Ok(())
}

/// Properties written to something that holds `existing`: each string value at most
/// `property_value_bytes`, and at most `properties` once merged.
pub(crate) fn check_properties(
    q: &Quotas,
    field: &str,
    existing: Option<&Properties>,
    new: &Properties,
) -> Result<(), ErrorObject> {
    for (ns, name, v) in new.iter() {
        if let PropertyValue::String(text) = v {
            if text.len() > q.property_value_bytes {
                return Err(over(
                    "property_value_bytes",
                    q.property_value_bytes as u64,
                    format!("`{field}.{ns}.{name}` is longer than {} bytes", q.property_value_bytes),
                ));
            }
        }
    }
    let merged = match existing {
        Some(old) => {
            let added = new.iter().filter(|(ns, name, _)| old.get(ns, name).is_none()).count();
            old.len().saturating_add(added)
        }
        None => new.len(),
    };
    if merged > q.properties {
        return Err(over(
            "properties",
            q.properties as u64,
            format!("`{field}` would hold more than {} properties", q.properties),
        ));
    }
    Ok(())
}

/// The properties a new event carries.
pub(crate) fn check_event_properties(q: &Quotas, field: &str, e: &NewEvent) -> Result<(), ErrorObject> {
    e.properties.as_ref().map_or(Ok(()), |p| check_properties(q, &format!("{field}.properties"), None, p))
}

/// Whether a character may not appear in a file name: a control character, or a
/// bidirectional formatting character (which can make a name read as another, e.g.
/// `invoice\u{202E}fdp.exe` shown as `invoiceexe.pdf`).
fn forbidden_in_name(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// An uploaded file's name: at most `file_name_chars` characters, no control or
/// bidirectional formatting character.
pub(crate) fn check_file_name(q: &Quotas, name: &str) -> Result<(), ErrorObject> {
    if chatio_wire::limits::too_many_chars(name, q.file_name_chars) {
        return Err(over(
            "file_name_chars",
            q.file_name_chars as u64,
            format!("the file name is longer than {} characters", q.file_name_chars),
        ));
    }
    if let Some(c) = name.chars().find(|c| forbidden_in_name(*c)) {
        let mut e = ErrorObject::new(
            ErrorType::Validation,
            format!(
                "the file name holds the character U+{:04X}: control and bidirectional formatting characters are refused",
                c as u32
            ),
        );
        e.data = Some(json!({ "limit": "file_name" }));
        return Err(e);
    }
    Ok(())
}

/// Whether an upload of `size` bytes fits: in the chat, the customer's and the server's
/// quotas (`total`: the bytes of uploaded files the server holds).
pub(crate) fn check_upload(
    q: &Quotas,
    chat: &ChatRec,
    customer: &Customer,
    total: u64,
    size: u64,
) -> Result<(), ErrorObject> {
    if chat.held.files >= q.chat_files {
        return Err(over(
            "chat_files",
            q.chat_files,
            format!("the chat already holds {} files, the most", q.chat_files),
        ));
    }
    if customer.uploads.files >= q.customer_files {
        return Err(over(
            "customer_files",
            q.customer_files,
            format!("the customer already uploaded {} files, the most", q.customer_files),
        ));
    }
    if customer.uploads.bytes.saturating_add(size) > q.customer_upload_bytes {
        return Err(over(
            "customer_upload_bytes",
            q.customer_upload_bytes,
            format!("the customer's uploads would pass {} bytes", q.customer_upload_bytes),
        ));
    }
    if total.saturating_add(size) > q.upload_bytes {
        return Err(over(
            "upload_bytes",
            q.upload_bytes,
            "the server holds as many uploaded bytes as it may: try again later".to_owned(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_with_controls_or_bidi_characters_are_refused_with_the_limit_named() {
        let q = Quotas::default();
        assert!(check_file_name(&q, "photo of the café.png").is_ok());
        for bad in ["invoice\u{202E}fdp.exe", "a\u{2066}b", "line\nbreak", "nul\u{0}", "rlm\u{200F}"] {
            let e = check_file_name(&q, bad).expect_err(bad);
            assert_eq!(e.data, Some(json!({"limit": "file_name"})), "{bad:?}");
        }
        let long = "é".repeat(q.file_name_chars + 1);
        let e = check_file_name(&q, &long).unwrap_err();
        assert_eq!(e.data, Some(json!({"limit": "file_name_chars", "max": 255})));
        assert!(check_file_name(&q, &"é".repeat(q.file_name_chars)).is_ok());
    }

    #[test]
    fn an_event_costs_the_length_of_its_json() {
        use chatio_wire::{EventKind, Message, Timestamp};
        let e = Event::new("T_1", 3, Timestamp::from_secs(1), EventKind::Message(Message::new("héllo")));
        assert_eq!(event_cost(&e), serde_json::to_vec(&e).unwrap().len() as u64);
    }

    #[test]
    fn merged_properties_count_only_new_keys() {
        let q = Quotas { properties: 2, ..Quotas::default() };
        let mut old = Properties::new();
        old.insert("a", "x", 1);
        old.insert("a", "y", 2);
        let mut same = Properties::new();
        same.insert("a", "x", 3);
        assert!(check_properties(&q, "p", Some(&old), &same).is_ok());
        let mut more = Properties::new();
        more.insert("b", "z", true);
        let e = check_properties(&q, "p", Some(&old), &more).unwrap_err();
        assert_eq!(e.data, Some(json!({"limit": "properties", "max": 2})));
    }
}
