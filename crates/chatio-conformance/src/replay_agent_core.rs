//! Replaying an agent transcript into [`chatio_core::agent::AgentSession`]: the server's
//! frames are fed in, and every frame the session writes must equal the recorded client frame
//! (the customer side's [`crate::replay_core`], for the Agent API; the replay loop is shared).
//!
//! Commands are not recorded: when the transcript shows a client frame the session has not
//! written by itself (its login, its pings), the replay issues the command that writes it,
//! taken from the frame (`send_event` → [`AgentSession::send_event`], a `join_chat` of the
//! agent itself → [`AgentSession::take_chat`]...). Request ids may differ from the recorded
//! ones; the replay pairs them as frames are compared and rewrites the server's frames.

use std::time::Instant;

use chatio_core::agent::{AgentConfig, AgentEvent, AgentReply, AgentSession};
use chatio_transport::session::Polled;
use chatio_wire::agent::{ClientFrame, Request};
use serde_json::{Value, json};

use crate::Error;
use crate::record_agent::APPLICATION;
use crate::replay_core::replay_session;
use crate::transcript::Transcript;

/// What a replay produced.
#[derive(Debug)]
pub struct AgentReplay {
    /// Everything the session handed out, as compact JSON, in order.
    pub outputs: Vec<Value>,
    /// Client frames compared.
    pub frames_compared: usize,
}

/// Issues the command that writes `frame`.
fn command(s: &mut AgentSession, frame: &Value, now: Instant) -> Result<(), Error> {
    let f = ClientFrame::decode(&frame.to_string())
        .map_err(|e| Error::Transcript(format!("the recorded frame does not decode: {e}")))?;
    let me = s.my_id().cloned();
    let r = match f.request {
        Request::GetFilteredChats(p) => s.get_filtered_chats(p.filters, now).map(drop),
        Request::GetChatThreads(p) => s.get_chat_threads(&p.chat_id, p.thread_ids, now).map(drop),
        Request::JoinChat(p) => match p.agent_ids {
            Some(ids) if me.as_ref().is_some_and(|m| ids == [m.clone()]) => s.take_chat(&p.chat_id, now).map(drop),
            ids => s.join_chat(&p.chat_id, ids.unwrap_or_default(), now).map(drop),
        },
        Request::RemoveFromChat(p) if p.agent_ids.is_none() && p.customer_ids.is_none() => {
            s.leave_chat(&p.chat_id, now).map(drop)
        }
        Request::RemoveFromChat(p) => s.remove_from_chat(&p.chat_id, p.agent_ids.unwrap_or_default(), now).map(drop),
        Request::SendEvent(p) => s.send_event(&p.chat_id, p.event, now).map(drop),
        Request::SendTypingIndicator(p) => s
            .send_typing_indicator(&p.chat_id, p.is_typing, p.recipients == Some(chatio_wire::Recipients::Agents), now)
            .map(drop),
        Request::CloseThread(p) => s.close_thread(&p.chat_id, now).map(drop),
        Request::UpdateAgent(p) => match p.routing_status {
            Some(status) => s.update_agent(p.agent_id, status, now).map(drop),
            None => return Err(Error::Script("an `update_agent` without a routing status".into())),
        },
        Request::UpdateChatProperties(p) => s.update_chat_properties(&p.chat_id, p.properties, now).map(drop),
        Request::UpdateLastSeenTimestamp(p) => {
            s.update_last_seen_timestamp(&p.chat_id, p.timestamp.map(|t| t.to_system_time()), now).map(drop)
        }
        other => {
            return Err(Error::Script(format!(
                "the replay does not issue `{}` (not in any recorded agent session) or the session should have written it by itself",
                other.action()
            )));
        }
    };
    r.map_err(Error::Core)
}

/// Replays an agent transcript into a fresh session.
///
/// # Errors
/// The first difference between what the session writes and the recording, with the line.
pub fn replay(t: &Transcript) -> Result<AgentReplay, Error> {
    let (_, _, _, seed, _) =
        t.header().ok_or_else(|| Error::Transcript("the transcript has no session header".into()))?;
    let mut config = AgentConfig::new(seed);
    config.application = Some((APPLICATION.0.to_owned(), APPLICATION.1.to_owned()));
    let (outputs, frames_compared) = replay_session(
        t,
        |now| AgentSession::new(config, now),
        command,
        |p, id| match p {
            Polled::Event(e) => agent_event(&e),
            Polled::Completed { id: rid, result } => completed(&id(&rid.to_string()), &result),
            _ => json!("other"),
        },
    )?;
    Ok(AgentReplay { outputs, frames_compared })
}

/// The name of an enum value's variant, from its `Debug` form.
fn variant(debug: &str) -> String {
    debug.split([' ', '(', '{']).next().unwrap_or_default().to_owned()
}

fn event(e: &chatio_core::model::Event) -> Value {
    json!({
        "id": e.id,
        "author": e.author,
        "thread": e.thread,
        "type": e.kind.event_type(),
        "text": e.text(),
        "recipients": e.recipients.as_ref().map(|r| format!("{r:?}")),
    })
}

/// A finished command as compact JSON; `id` names the request as the transcript does.
fn completed(id: &str, result: &Result<AgentReply, chatio_core::Error>) -> Value {
    match result {
        Ok(AgentReply::Event(e)) => json!({"completed": id, "ok": {"event": event(e)}}),
        Ok(r) => json!({"completed": id, "ok": variant(&format!("{r:?}"))}),
        Err(e) => json!({"completed": id, "err": e.to_string()}),
    }
}

fn chat_ids(chats: &[chatio_core::agent::ChatView]) -> Vec<String> {
    chats.iter().map(|c| c.id.to_string()).collect()
}

/// An agent event as compact JSON: its kind and what identifies it.
pub fn agent_event(e: &AgentEvent) -> Value {
    match e {
        AgentEvent::Connected { me, chats, .. } => {
            json!({"event": "Connected", "me": me.id, "routing_status": me.routing_status.as_ref().map(|s| s.as_str()), "chats": chat_ids(chats)})
        }
        AgentEvent::ConnectionRestored { chats, .. } => {
            json!({"event": "ConnectionRestored", "chats": chat_ids(chats)})
        }
        AgentEvent::IncomingChat(c) => json!({
            "event": "IncomingChat", "chat": c.id,
            "users": c.users.iter().map(|u| u.id.to_string()).collect::<Vec<_>>(),
            "events": c.threads.iter().flat_map(|t| t.events.iter()).map(event).collect::<Vec<_>>(),
        }),
        AgentEvent::ChatUpdated { chat } => json!({"event": "ChatUpdated", "chat": chat}),
        AgentEvent::UserJoined { chat, user } => json!({"event": "UserJoined", "chat": chat, "user": user.id}),
        AgentEvent::UserLeft { chat, user } => json!({"event": "UserLeft", "chat": chat, "user": user}),
        AgentEvent::NewEvent(ev) => json!({"event": "NewEvent", "chat": ev.chat, "new": event(ev)}),
        AgentEvent::Typing { chat, user, is_typing, .. } => {
            json!({"event": "Typing", "chat": chat, "user": user, "is_typing": is_typing})
        }
        AgentEvent::SneakPeek { chat, user, text, .. } => {
            json!({"event": "SneakPeek", "chat": chat, "user": user, "text": text})
        }
        AgentEvent::ThreadClosed { chat, thread, user } => {
            json!({"event": "ThreadClosed", "chat": chat, "thread": thread, "user": user})
        }
        AgentEvent::AgentUpdated { agent, routing_status } => {
            json!({"event": "AgentUpdated", "agent": agent, "routing_status": routing_status.as_ref().map(|s| s.as_str())})
        }
        AgentEvent::ChatPropertiesUpdated { chat, properties } => {
            json!({"event": "ChatPropertiesUpdated", "chat": chat, "properties": properties})
        }
        AgentEvent::LastSeenTimestampUpdated { chat, user, .. } => {
            json!({"event": "LastSeenTimestampUpdated", "chat": chat, "user": user})
        }
        AgentEvent::CustomerUpdated { chat, customer } => {
            json!({"event": "CustomerUpdated", "chat": chat, "customer": customer.id})
        }
        AgentEvent::Error(err) => json!({"event": "Error", "error": err.to_string()}),
        other => json!({"event": variant(&format!("{other:?}"))}),
    }
}
