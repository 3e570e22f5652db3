//! SDK events as JSON: the JS SDK's event names and snake_case fields, times in Unix seconds.
//! For logs, `--json` outputs and snapshots.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::model::{Event, User};
use crate::output::SdkEvent;

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn event(e: &Event) -> Value {
    json!({
        "id": e.id,
        "custom_id": e.custom_id,
        "order": e.order,
        "author": e.author,
        "timestamp": secs(e.timestamp),
        "thread": e.thread,
        "type": e.kind.event_type(),
        "text": e.text(),
    })
}

fn user(u: &User) -> Value {
    json!({"id": u.id, "type": u.kind.as_str(), "name": u.name})
}

impl SdkEvent {
    /// The JS SDK's name for the event (`new_event`, `user_joined_chat`...); the pushes it
    /// has no event of its own for use their raw push names, as it emits them.
    pub fn name(&self) -> &'static str {
        match self {
            SdkEvent::Connected { .. } => "connected",
            SdkEvent::ConnectionLost => "connection_lost",
            SdkEvent::ConnectionRestored { .. } => "connection_restored",
            SdkEvent::Reconnecting { .. } => "reconnecting",
            SdkEvent::ConnectionUnstable => "connection_unstable",
            SdkEvent::ConnectionRecovered => "connection_recovered",
            SdkEvent::Lagged { .. } => "lagged",
            SdkEvent::CustomerId(_) => "customer_id",
            SdkEvent::Disconnected { .. } => "disconnected",
            SdkEvent::ChatPropertiesUpdated { .. } => "chat_properties_updated",
            SdkEvent::ChatThreadPropertiesUpdated { .. } => "chat_thread_properties_updated",
            SdkEvent::LastSeenTimestampUpdated { .. } => "last_seen_timestamp_updated",
            SdkEvent::NewEvent { .. } => "new_event",
            SdkEvent::UserData(_) => "user_data",
            SdkEvent::UserJoinedChat { .. } => "user_joined_chat",
            SdkEvent::UserLeftChat { .. } => "user_left_chat",
            SdkEvent::UserIsTyping { .. } => "user_is_typing",
            SdkEvent::UserStoppedTyping { .. } => "user_stopped_typing",
            SdkEvent::ThreadClosed { .. } => "thread_closed",
            SdkEvent::ThreadSummary(_) => "thread_summary",
            SdkEvent::RichMessagePostback { .. } => "incoming_rich_message_postback",
            SdkEvent::Multicast { .. } => "incoming_multicast",
            SdkEvent::ChatScopesUpdated { .. } => "chat_scopes_updated",
            SdkEvent::CustomerUpdated { .. } => "customer_updated",
            SdkEvent::UnknownPush { .. } => "unknown_push",
            SdkEvent::StoreUnavailable(_) => "store_unavailable",
            SdkEvent::CachedChats { .. } => "cached_chats",
            SdkEvent::CachedHistory { .. } => "cached_history",
            SdkEvent::Error(_) => "error",
        }
    }

    /// The event as one JSON object: `{"event": name, ...fields}`.
    pub fn to_json(&self) -> Value {
        let mut v = match self {
            SdkEvent::Connected { chats_summary, total_chats }
            | SdkEvent::ConnectionRestored { chats_summary, total_chats }
            | SdkEvent::CachedChats { chats_summary, total_chats } => json!({
                "total_chats": total_chats,
                "chats": chats_summary.iter().map(|c| c.id.to_string()).collect::<Vec<_>>(),
            }),
            SdkEvent::ConnectionLost | SdkEvent::ConnectionUnstable | SdkEvent::ConnectionRecovered => json!({}),
            SdkEvent::Lagged { missed } => json!({"missed": missed}),
            SdkEvent::Reconnecting { attempt, delay } => {
                json!({"attempt": attempt, "delay_ms": delay.as_millis() as u64})
            }
            SdkEvent::CustomerId(id) => json!({"customer_id": id}),
            SdkEvent::Disconnected { reason } => json!({"reason": reason.as_str()}),
            SdkEvent::ChatPropertiesUpdated { chat, properties } => json!({"chat": chat, "properties": properties}),
            SdkEvent::ChatThreadPropertiesUpdated { chat, thread, properties } => {
                json!({"chat": chat, "thread": thread, "properties": properties})
            }
            SdkEvent::LastSeenTimestampUpdated { chat, user, timestamp } => {
                json!({"chat": chat, "user": user, "timestamp": secs(*timestamp)})
            }
            SdkEvent::NewEvent { chat, event: e } => json!({"chat": chat, "data": event(e)}),
            SdkEvent::CachedHistory { chat, events } => {
                json!({"chat": chat, "events": events.iter().map(event).collect::<Vec<_>>()})
            }
            SdkEvent::UserData(u) => json!({"user": user(u)}),
            SdkEvent::UserJoinedChat { chat, user }
            | SdkEvent::UserLeftChat { chat, user }
            | SdkEvent::UserIsTyping { chat, user }
            | SdkEvent::UserStoppedTyping { chat, user } => json!({"chat": chat, "user": user}),
            SdkEvent::ThreadClosed { chat, thread, user } => json!({"chat": chat, "thread": thread, "user": user}),
            SdkEvent::ThreadSummary(t) => {
                json!({"chat": t.chat, "id": t.id, "order": t.order, "total_events": t.total_events})
            }
            SdkEvent::RichMessagePostback { user, chat, thread, event, postback } => json!({
                "user": user, "chat": chat, "thread": thread, "event_id": event,
                "postback": {"id": postback.id, "toggled": postback.toggled},
            }),
            SdkEvent::Multicast { author, content } => json!({"author": author, "content": content}),
            SdkEvent::ChatScopesUpdated { chat, added, removed } => {
                json!({"chat": chat, "added": added, "removed": removed})
            }
            SdkEvent::CustomerUpdated { chat, customer } => json!({"chat": chat, "customer": user(customer)}),
            SdkEvent::UnknownPush { action, payload } => {
                json!({"action": action, "payload": payload.as_ref().map(|p| p.get())})
            }
            SdkEvent::StoreUnavailable(e) => json!({"message": crate::error::chain(e)}),
            SdkEvent::Error(e) => json!({"message": e.to_string()}),
        };
        if let Some(m) = v.as_object_mut() {
            m.insert("event".into(), Value::from(self.name()));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn named_like_the_js_sdk() {
        let e = SdkEvent::CustomerId("c1".into());
        assert_eq!(e.to_json(), json!({"event": "customer_id", "customer_id": "c1"}));
        assert_eq!(SdkEvent::ConnectionLost.to_json(), json!({"event": "connection_lost"}));
    }
}
