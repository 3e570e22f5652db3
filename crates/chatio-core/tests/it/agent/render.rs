//! Compact JSON views of what an agent session hands out, for snapshots: the customer
//! renderers (`crate::render`) plus the agent-view fields.

use chatio_core::agent::{AgentEvent, AgentOutput, AgentReply, ChatView};
use chatio_core::model::{Chat, Event, User};
use chatio_wire::RequestId;
use serde_json::{Value, json};

use crate::render::{error, secs};

pub fn event(e: &Event) -> Value {
    let mut v = crate::render::event(e);
    if let (Some(m), Some(r)) = (v.as_object_mut(), &e.recipients) {
        m.insert("recipients".into(), json!(r.as_str()));
    }
    v
}

pub fn user(u: &User) -> Value {
    let mut v = crate::render::user(u);
    if let Some(m) = v.as_object_mut() {
        if let Some(s) = &u.routing_status {
            m.insert("routing_status".into(), json!(s.as_str()));
        }
        if let Some(p) = &u.permission {
            m.insert("permission".into(), json!(p.as_str()));
        }
        if let Some(b) = u.banned {
            m.insert("banned".into(), json!(b));
        }
        if let Some(mon) = &u.monitoring {
            m.insert("monitoring".into(), serde_json::to_value(mon).unwrap_or(Value::Null));
        }
    }
    v
}

fn chat(c: &Chat) -> Value {
    let threads: Vec<Value> = c
        .threads
        .iter()
        .map(|t| {
            let mut v = crate::render::thread(t);
            v["events"] = json!(t.events.iter().map(event).collect::<Vec<_>>());
            if let Some(at) = t.created {
                v["created"] = json!(secs(at));
            }
            v
        })
        .collect();
    json!({
        "id": c.id, "users": c.users.iter().map(user).collect::<Vec<_>>(), "properties": c.properties,
        "scopes": c.scopes, "threads": threads,
    })
}

pub fn chat_view(c: &ChatView) -> Value {
    json!({
        "id": c.id,
        "users": c.users.iter().map(user).collect::<Vec<_>>(),
        "properties": c.properties,
        "scopes": c.scopes,
        "thread": c.thread.as_ref().map(|t| json!({
            "id": t.id, "order": t.order, "active": t.active, "created": t.created.map(secs), "users": t.users,
            "properties": t.properties,
        })),
        "last_event": c.last_event.as_ref().map(event),
        "unread": c.unread,
        "waiting": c.is_waiting(),
    })
}

fn reply(r: &AgentReply) -> Value {
    match r {
        AgentReply::Chat(c) => json!({"chat": chat(c)}),
        AgentReply::Event(e) => json!({"event": event(e)}),
        AgentReply::Chats(cs) => json!({"chats": cs.iter().map(chat_view).collect::<Vec<_>>()}),
        AgentReply::ChatThreads { chat: c, threads_summary } => json!({"chat_threads": {
            "chat": chat(c), "threads_summary": threads_summary,
        }}),
        AgentReply::Archives { chats, page, total } => json!({"archives": {
            "chats": chats.iter().map(chat).collect::<Vec<_>>(), "page": page, "total": total,
        }}),
        AgentReply::LastSeen(t) => json!({"last_seen": secs(*t)}),
        AgentReply::AutoChatScopesId(id) => json!({"auto_chat_scopes_id": id}),
        AgentReply::AutoChatScopesConfig(c) => json!({"auto_chat_scopes_config": c}),
        AgentReply::Done => json!("done"),
        other => json!({"other": format!("{other:?}")}),
    }
}

pub fn agent_event(e: &AgentEvent) -> Value {
    match e {
        AgentEvent::Connected { me, license, chats } => json!({"connected": {
            "me": user(me), "license": license, "chats": chats.iter().map(chat_view).collect::<Vec<_>>(),
        }}),
        AgentEvent::ConnectionRestored { me, license, chats } => json!({"connection_restored": {
            "me": user(me), "license": license, "chats": chats.iter().map(chat_view).collect::<Vec<_>>(),
        }}),
        AgentEvent::ConnectionLost => json!("connection_lost"),
        AgentEvent::ConnectionUnstable => json!("connection_unstable"),
        AgentEvent::ConnectionRecovered => json!("connection_recovered"),
        AgentEvent::Reconnecting { attempt, delay } => {
            json!({"reconnecting": {"attempt": attempt, "delay_ms": delay.as_millis() as u64}})
        }
        AgentEvent::Disconnected { reason } => json!({"disconnected": reason.as_str()}),
        AgentEvent::IncomingChat(c) => json!({"incoming_chat": chat(c)}),
        AgentEvent::ChatUpdated { chat } => json!({"chat_updated": chat}),
        AgentEvent::UserJoined { chat, user: u } => json!({"user_joined": {"chat": chat, "user": user(u)}}),
        AgentEvent::UserLeft { chat, user } => json!({"user_left": {"chat": chat, "user": user}}),
        AgentEvent::NewEvent(e) => json!({"new_event": event(e)}),
        AgentEvent::RichMessagePostback { user, chat, thread, event, postback } => json!({"postback": {
            "user": user, "chat": chat, "thread": thread, "event": event, "id": postback.id, "toggled": postback.toggled,
        }}),
        AgentEvent::Multicast { author, content } => json!({"multicast": {"author": author, "content": content}}),
        AgentEvent::Typing { chat, user, is_typing, to_agents_only } => json!({"typing": {
            "chat": chat, "user": user, "is_typing": is_typing, "to_agents_only": to_agents_only,
        }}),
        AgentEvent::SneakPeek { chat, user, text, timestamp } => json!({"sneak_peek": {
            "chat": chat, "user": user, "text": text, "timestamp": secs(*timestamp),
        }}),
        AgentEvent::CustomerBanned { customer, days } => {
            json!({"customer_banned": {"customer": customer, "days": days}})
        }
        AgentEvent::ThreadClosed { chat, thread, user } => {
            json!({"thread_closed": {"chat": chat, "thread": thread, "user": user}})
        }
        AgentEvent::ChatScopesUpdated { chat, added, removed } => {
            json!({"chat_scopes_updated": {"chat": chat, "added": added, "removed": removed}})
        }
        AgentEvent::CustomerUpdated { chat, customer } => {
            json!({"customer_updated": {"chat": chat, "customer": user(customer)}})
        }
        AgentEvent::AgentUpdated { agent, routing_status } => json!({"agent_updated": {
            "agent": agent, "routing_status": routing_status.as_ref().map(|s| s.as_str()),
        }}),
        AgentEvent::ChatPropertiesUpdated { chat, properties } => {
            json!({"chat_properties_updated": {"chat": chat, "properties": properties}})
        }
        AgentEvent::ChatThreadPropertiesUpdated { chat, thread, properties } => {
            json!({"chat_thread_properties_updated": {"chat": chat, "thread": thread, "properties": properties}})
        }
        AgentEvent::LastSeenTimestampUpdated { chat, user, timestamp } => {
            json!({"last_seen_timestamp_updated": {"chat": chat, "user": user, "timestamp": secs(*timestamp)}})
        }
        AgentEvent::UnknownPush { action, payload } => {
            let payload: Value =
                payload.as_ref().map_or(Value::Null, |p| serde_json::from_str(p.get()).unwrap_or(Value::Null));
            json!({"unknown_push": {"action": action, "payload": payload}})
        }
        AgentEvent::Error(e) => json!({"error": error(e)}),
        other => json!({"other": format!("{other:?}")}),
    }
}

pub fn output(o: &AgentOutput, name: &dyn Fn(&RequestId) -> String) -> Value {
    match o {
        AgentOutput::Event(e) => json!({"event": agent_event(e)}),
        AgentOutput::Completed { id, result: Ok(r) } => json!({"completed": name(id), "ok": reply(r)}),
        AgentOutput::Completed { id, result: Err(e) } => json!({"completed": name(id), "err": error(e)}),
        other => json!({"other": format!("{other:?}")}),
    }
}
