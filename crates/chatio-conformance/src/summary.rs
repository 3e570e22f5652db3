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
    e.to_json()
}
