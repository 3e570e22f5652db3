//! Compact JSON descriptions of what a session hands out, for snapshots.

use chatio_core::{Output, Reply, SdkEvent};
use serde_json::{Value, json};

fn event(e: &chatio_core::model::Event) -> Value {
    json!({
        "id": e.id,
        "custom_id": e.custom_id,
        "order": e.order,
        "author": e.author,
        "thread": e.thread,
        "type": e.kind.event_type(),
        "text": e.text(),
    })
}

fn reply(r: &Reply) -> Value {
    match r {
        Reply::Chat(c) => {
            json!({"chat": c.id, "threads": c.threads.iter().map(|t| t.id.to_string()).collect::<Vec<_>>()})
        }
        Reply::Event(e) => json!({"event": event(e)}),
        Reply::File { url } => json!({"file": url}),
        Reply::ChatsSummary { chats_summary, total_chats } => {
            json!({"chats": chats_summary.iter().map(|c| c.id.to_string()).collect::<Vec<_>>(), "total": total_chats})
        }
        Reply::Threads(t) => {
            json!({"threads": t.iter().map(|t| json!({"id": t.id, "events": t.events.len(), "active": t.active})).collect::<Vec<_>>()})
        }
        Reply::ThreadsSummary { threads_summary, total_threads } => json!({
            "threads_summary": threads_summary.iter().map(|t| json!([t.id, t.order, t.total_events])).collect::<Vec<_>>(),
            "total": total_threads
        }),
        Reply::History { events, done } => {
            json!({"history": events.iter().map(event).collect::<Vec<_>>(), "done": done})
        }
        Reply::Customer(u) => json!({"customer": u.id, "name": u.name}),
        Reply::LastSeen(_) => json!({"last_seen": "<time>"}),
        Reply::Done => json!("done"),
        other => json!(format!("{other:?}")),
    }
}

/// One output as JSON; `id` names the request as the transcript does.
pub fn output(o: &Output, id: impl Fn(&str) -> String) -> Value {
    match o {
        Output::Completed { id: rid, result } => match result {
            Ok(r) => json!({"completed": id(&rid.to_string()), "ok": reply(r)}),
            Err(e) => json!({"completed": id(&rid.to_string()), "err": e.to_string()}),
        },
        Output::Event(e) => sdk_event(e),
        _ => json!("other"),
    }
}

/// An SDK event as JSON.
pub fn sdk_event(e: &SdkEvent) -> Value {
    match e {
        SdkEvent::Connected { chats_summary, total_chats } => {
            json!({"event": "connected", "chats": chats_summary.len(), "total": total_chats})
        }
        SdkEvent::ConnectionLost => json!({"event": "connection_lost"}),
        SdkEvent::ConnectionRestored { chats_summary, total_chats } => {
            json!({"event": "connection_restored", "chats": chats_summary.len(), "total": total_chats})
        }
        SdkEvent::Reconnecting { attempt, .. } => json!({"event": "reconnecting", "attempt": attempt}),
        SdkEvent::CustomerId(id) => json!({"event": "customer_id", "id": id}),
        SdkEvent::Disconnected { reason } => json!({"event": "disconnected", "reason": reason.as_str()}),
        SdkEvent::ChatPropertiesUpdated { chat, properties } => {
            json!({"event": "chat_properties_updated", "chat": chat, "properties": properties})
        }
        SdkEvent::ChatThreadPropertiesUpdated { chat, thread, properties } => {
            json!({"event": "chat_thread_properties_updated", "chat": chat, "thread": thread, "properties": properties})
        }
        SdkEvent::LastSeenTimestampUpdated { chat, user, .. } => {
            json!({"event": "last_seen_timestamp_updated", "chat": chat, "user": user})
        }
        SdkEvent::NewEvent { chat, event: e } => json!({"event": "new_event", "chat": chat, "data": event(e)}),
        SdkEvent::UserData(u) => json!({"event": "user_data", "id": u.id, "type": u.kind.as_str(), "name": u.name}),
        SdkEvent::UserJoinedChat { chat, user } => json!({"event": "user_joined_chat", "chat": chat, "user": user}),
        SdkEvent::UserLeftChat { chat, user } => json!({"event": "user_left_chat", "chat": chat, "user": user}),
        SdkEvent::UserIsTyping { chat, user } => json!({"event": "user_is_typing", "chat": chat, "user": user}),
        SdkEvent::UserStoppedTyping { chat, user } => {
            json!({"event": "user_stopped_typing", "chat": chat, "user": user})
        }
        SdkEvent::ThreadClosed { chat, thread, user } => {
            json!({"event": "thread_closed", "chat": chat, "thread": thread, "user": user})
        }
        SdkEvent::ThreadSummary(t) => {
            json!({"event": "thread_summary", "chat": t.chat, "id": t.id, "order": t.order, "total_events": t.total_events})
        }
        SdkEvent::RichMessagePostback { user, chat, thread, event, postback } => json!({
            "event": "incoming_rich_message_postback", "user": user, "chat": chat, "thread": thread,
            "event_id": event, "postback": postback.id, "toggled": postback.toggled
        }),
        SdkEvent::Multicast { author, content } => {
            json!({"event": "incoming_multicast", "author": author, "content": content})
        }
        SdkEvent::ChatScopesUpdated { chat, added, removed } => {
            json!({"event": "chat_scopes_updated", "chat": chat, "added": added, "removed": removed})
        }
        SdkEvent::CustomerUpdated { chat, customer } => {
            json!({"event": "customer_updated", "chat": chat, "customer": customer.id, "name": customer.name})
        }
        SdkEvent::UnknownPush { action, .. } => json!({"event": "unknown_push", "action": action}),
        SdkEvent::Error(e) => json!({"event": "error", "message": e.to_string()}),
        other => json!({"event": format!("{other:?}")}),
    }
}
