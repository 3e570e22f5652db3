//! Compact JSON views of what a session hands out (events, outcomes, driver actions), for
//! snapshots and transcript comparisons. Request ids are shown through `name`, so that
//! snapshots use the transcripts' symbolic names; times are seconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

use chatio_core::model::{ChatSummary, Event, Thread, ThreadSummary, User};
use chatio_core::{DriverAction, Error, Output, Reply, SdkEvent};
use chatio_wire as wire;
use chatio_wire::{RequestId, Timestamp};
use serde_json::{Value, json};

pub fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

pub fn event(e: &Event) -> Value {
    let mut w = wire::Event::new(e.id.clone(), e.order, Timestamp::from_system_time(e.timestamp), e.kind.clone());
    w.author_id = e.author.clone();
    w.custom_id = e.custom_id.clone();
    w.properties = e.properties.clone();
    let mut v = serde_json::to_value(&w).unwrap_or(Value::Null);
    if let Some(m) = v.as_object_mut() {
        m.insert("chat".into(), json!(e.chat));
        m.insert("thread".into(), json!(e.thread));
    }
    v
}

pub fn user(u: &User) -> Value {
    let mut v = json!({"id": u.id, "type": u.kind.as_str()});
    let m = v.as_object_mut().expect("object");
    if let Some(n) = &u.name {
        m.insert("name".into(), json!(n));
    }
    if let Some(e) = &u.email {
        m.insert("email".into(), json!(e));
    }
    if let Some(a) = &u.avatar {
        m.insert("avatar".into(), json!(a));
    }
    if let Some(p) = u.present {
        m.insert("present".into(), json!(p));
    }
    if !u.fields.is_empty() {
        m.insert("fields".into(), json!(u.fields));
    }
    if let Some(t) = u.last_seen {
        m.insert("last_seen".into(), json!(secs(t)));
    }
    v
}

pub fn thread(t: &Thread) -> Value {
    json!({
        "id": t.id, "chat": t.chat, "active": t.active, "order": t.order, "users": t.users,
        "properties": t.properties, "events": t.events.iter().map(event).collect::<Vec<_>>(),
    })
}

fn thread_summary(t: &ThreadSummary) -> Value {
    json!({"id": t.id, "chat": t.chat, "order": t.order, "total_events": t.total_events})
}

fn chat_summary(c: &ChatSummary) -> Value {
    json!({
        "id": c.id,
        "order": c.order,
        "users": c.users.iter().map(user).collect::<Vec<_>>(),
        "properties": c.properties,
        "scopes": c.scopes,
        "last_seen": c.last_seen.iter().map(|(u, t)| (u.to_string(), json!(t.map(secs)))).collect::<serde_json::Map<_, _>>(),
        "last_events_per_type": c.last_events_per_type.iter().map(|(k, e)| (k.clone(), event(e))).collect::<serde_json::Map<_, _>>(),
        "last_event": c.last_event.as_ref().map(event),
    })
}

pub fn error(e: &Error) -> Value {
    match e {
        Error::Authentication { message, .. } => json!({"authentication": message}),
        Error::ConnectionLost => json!("connection_lost"),
        Error::Timeout => json!("timeout"),
        Error::InvalidArgs { reason } => json!({"invalid_args": reason}),
        Error::Cancelled => json!("cancelled"),
        Error::Server { kind, message, data } => json!({"server": kind.as_str(), "message": message, "data": data}),
        Error::Disconnected { reason } => json!({"disconnected": reason.as_str()}),
        Error::Closed => json!("closed"),
        Error::Transport(t) => json!({"transport": t.operation().to_string(), "cause": t.cause().to_string()}),
        Error::Protocol(p) => json!({"protocol": chatio_core::chain(e), "message": p.message()}),
        Error::DeliveryUnknown { attempts } => json!({"delivery_unknown": attempts}),
        other => json!({"other": other.to_string()}),
    }
}

/// The name of an error, as transcripts' `expect_err` write it.
pub fn error_kind(e: &Error) -> String {
    match error(e) {
        Value::String(s) => s,
        Value::Object(m) => m.keys().next().cloned().unwrap_or_default(),
        other => other.to_string(),
    }
}

fn reply(r: &Reply) -> Value {
    match r {
        Reply::Chat(c) => json!({"chat": {
            "id": c.id, "users": c.users.iter().map(user).collect::<Vec<_>>(), "properties": c.properties,
            "scopes": c.scopes, "threads": c.threads.iter().map(thread).collect::<Vec<_>>(),
        }}),
        Reply::Event(e) => json!({"event": event(e)}),
        Reply::File { url } => json!({"file": url}),
        Reply::ChatsSummary { chats_summary, total_chats } => json!({"chats_summary": {
            "chats": chats_summary.iter().map(chat_summary).collect::<Vec<_>>(), "total": total_chats,
        }}),
        Reply::Threads(t) => json!({"threads": t.iter().map(thread).collect::<Vec<_>>()}),
        Reply::ThreadsSummary { threads_summary, total_threads } => json!({"threads_summary": {
            "threads": threads_summary.iter().map(thread_summary).collect::<Vec<_>>(), "total": total_threads,
        }}),
        Reply::History { events, done } => {
            json!({"history": {"events": events.iter().map(event).collect::<Vec<_>>(), "done": done}})
        }
        Reply::Customer(u) => json!({"customer": user(u)}),
        Reply::LastSeen(t) => json!({"last_seen": secs(*t)}),
        Reply::Done => json!("done"),
        other => json!({"other": format!("{other:?}")}),
    }
}

pub fn sdk_event(e: &SdkEvent) -> Value {
    match e {
        SdkEvent::Connected { chats_summary, total_chats } => json!({"connected": {
            "chats": chats_summary.iter().map(chat_summary).collect::<Vec<_>>(), "total": total_chats,
        }}),
        SdkEvent::ConnectionLost => json!("connection_lost"),
        SdkEvent::ConnectionRestored { chats_summary, total_chats } => json!({"connection_restored": {
            "chats": chats_summary.iter().map(chat_summary).collect::<Vec<_>>(), "total": total_chats,
        }}),
        SdkEvent::Reconnecting { attempt, delay } => {
            json!({"reconnecting": {"attempt": attempt, "delay_ms": delay.as_millis() as u64}})
        }
        SdkEvent::CustomerId(id) => json!({"customer_id": id}),
        SdkEvent::Disconnected { reason } => json!({"disconnected": reason.as_str()}),
        SdkEvent::ChatPropertiesUpdated { chat, properties } => {
            json!({"chat_properties_updated": {"chat": chat, "properties": properties}})
        }
        SdkEvent::ChatThreadPropertiesUpdated { chat, thread, properties } => {
            json!({"chat_thread_properties_updated": {"chat": chat, "thread": thread, "properties": properties}})
        }
        SdkEvent::LastSeenTimestampUpdated { chat, user, timestamp } => {
            json!({"last_seen_timestamp_updated": {"chat": chat, "user": user, "timestamp": secs(*timestamp)}})
        }
        SdkEvent::NewEvent { chat, event: e } => json!({"new_event": {"chat": chat, "event": event(e)}}),
        SdkEvent::UserData(u) => json!({"user_data": user(u)}),
        SdkEvent::UserJoinedChat { chat, user } => json!({"user_joined_chat": {"chat": chat, "user": user}}),
        SdkEvent::UserLeftChat { chat, user } => json!({"user_left_chat": {"chat": chat, "user": user}}),
        SdkEvent::UserIsTyping { chat, user } => json!({"user_is_typing": {"chat": chat, "user": user}}),
        SdkEvent::UserStoppedTyping { chat, user } => json!({"user_stopped_typing": {"chat": chat, "user": user}}),
        SdkEvent::ThreadClosed { chat, thread, user } => {
            json!({"thread_closed": {"chat": chat, "thread": thread, "user": user}})
        }
        SdkEvent::ThreadSummary(t) => json!({"thread_summary": thread_summary(t)}),
        SdkEvent::RichMessagePostback { user, chat, thread, event, postback } => json!({
            "incoming_rich_message_postback": {"user": user, "chat": chat, "thread": thread, "event": event,
            "postback": {"id": postback.id, "toggled": postback.toggled}}
        }),
        SdkEvent::Multicast { author, content } => {
            json!({"incoming_multicast": {"author": author, "content": content}})
        }
        SdkEvent::ChatScopesUpdated { chat, added, removed } => {
            json!({"chat_scopes_updated": {"chat": chat, "added": added, "removed": removed}})
        }
        SdkEvent::CustomerUpdated { chat, customer } => {
            json!({"customer_updated": {"chat": chat, "customer": user(customer)}})
        }
        SdkEvent::UnknownPush { action, payload } => {
            let payload: Value =
                payload.as_ref().map_or(Value::Null, |p| serde_json::from_str(p.get()).unwrap_or(Value::Null));
            json!({"unknown_push": {"action": action, "payload": payload}})
        }
        SdkEvent::Error(e) => json!({"error": error(e)}),
        other => json!({"other": format!("{other:?}")}),
    }
}

pub fn output(o: &Output, name: &dyn Fn(&RequestId) -> String) -> Value {
    match o {
        Output::Event(e) => json!({"event": sdk_event(e)}),
        Output::Completed { id, result: Ok(r) } => json!({"completed": name(id), "ok": reply(r)}),
        Output::Completed { id, result: Err(e) } => json!({"completed": name(id), "err": error(e)}),
        other => json!({"other": format!("{other:?}")}),
    }
}

pub fn action(a: &DriverAction, name: &dyn Fn(&RequestId) -> String) -> Value {
    match a {
        DriverAction::FetchToken { fresh } => json!({"fetch_token": {"fresh": fresh}}),
        DriverAction::Connect => json!("connect"),
        DriverAction::Close => json!("close"),
        DriverAction::Upload(u) => json!({"upload": {
            "id": name(&u.id), "chat_id": u.fields.chat_id, "custom_id": u.fields.custom_id, "name": u.name,
            "content_type": u.content_type, "size": u.size, "token": u.access_token,
        }}),
        DriverAction::CancelUpload { id } => json!({"cancel_upload": name(id)}),
        other => json!({"other": format!("{other:?}")}),
    }
}
