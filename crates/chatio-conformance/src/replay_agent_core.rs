//! Replaying an agent transcript into [`chatio_core::agent::AgentSession`]: the server's
//! frames are fed in, and every frame the session writes must equal the recorded client frame
//! (the customer side's [`crate::replay_core`], for the Agent API).
//!
//! Commands are not recorded: when the transcript shows a client frame the session has not
//! written by itself (its login, its pings), the replay issues the command that writes it,
//! taken from the frame (`send_event` → [`AgentSession::send_event`], a `join_chat` of the
//! agent itself → [`AgentSession::take_chat`]...). Request ids may differ from the recorded
//! ones; the replay pairs them as frames are compared and rewrites the server's frames.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chatio_core::agent::{AgentConfig, AgentEvent, AgentOutput, AgentReply, AgentSession};
use chatio_core::{AccessToken, Disconnect, DriverAction};
use chatio_wire::agent::{ClientFrame, Request};
use serde_json::{Value, json};

use crate::Error;
use crate::normalize;
use crate::record_agent::APPLICATION;
use crate::transcript::{Line, Transcript};

/// What a replay produced.
#[derive(Debug)]
pub struct AgentReplay {
    /// Everything the session handed out, as compact JSON, in order.
    pub outputs: Vec<Value>,
    /// Client frames compared.
    pub frames_compared: usize,
}

fn strip_id(v: &Value) -> (Value, Option<String>) {
    let mut v = v.clone();
    let id = v.as_object_mut().and_then(|m| m.remove("request_id")).map(|i| match i {
        Value::String(s) => s,
        other => other.to_string(),
    });
    (v, id)
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
    let t0 = Instant::now();
    let mut now = t0;
    let mut s = AgentSession::new(config, now);
    let mut written: VecDeque<Value> = VecDeque::new();
    let mut to_recorded: HashMap<String, String> = HashMap::new();
    let mut to_core: HashMap<String, String> = HashMap::new();
    let mut outputs = Vec::new();
    let mut actions: VecDeque<DriverAction> = VecDeque::new();
    let mut compared = 0;

    fn drain(s: &mut AgentSession, written: &mut VecDeque<Value>, actions: &mut VecDeque<DriverAction>) {
        while let Some(f) = s.poll_transmit() {
            let mut v: Value = serde_json::from_str(&f).unwrap_or(Value::String(f));
            normalize::frame(&mut v, "");
            written.push_back(v);
        }
        while let Some(a) = s.poll_action() {
            actions.push_back(a);
        }
    }

    for (n, line) in t.lines.iter().enumerate().skip(1) {
        let at = t0 + Duration::from_millis(line.t());
        if at > now {
            now = at;
        }
        match line {
            Line::Session { .. } | Line::Fault { .. } | Line::Upload { .. } => {}
            Line::Token { .. } => s.handle_token(AccessToken::bearer("<redacted>"), now),
            Line::Connected { .. } => {
                drain(&mut s, &mut written, &mut actions);
                let mut guard = 0;
                while !actions.iter().any(|a| *a == DriverAction::Connect) && guard < 16 {
                    guard += 1;
                    match s.poll_timeout() {
                        Some(d) => {
                            if d > now {
                                now = d;
                            }
                            s.handle_timeout(now);
                        }
                        None => break,
                    }
                    drain(&mut s, &mut written, &mut actions);
                }
                match actions.iter().position(|a| *a == DriverAction::Connect) {
                    Some(i) => {
                        actions.remove(i);
                    }
                    None => return Err(Error::Script("the session never asked to connect".into()).at_line(n + 1)),
                }
                s.handle_connected(now);
            }
            Line::Disconnected { code: Some(1000), reason, .. } if reason == "closed by the client" => s.destroy(now),
            Line::Disconnected { code, reason, .. } => {
                let how = match code {
                    Some(c) => Disconnect::Closed { code: Some(*c), reason: reason.clone() },
                    None => Disconnect::Failed(chatio_core::TransportError::msg(
                        chatio_core::Operation::Socket,
                        reason.clone(),
                    )),
                };
                s.handle_disconnected(how, now);
            }
            Line::In { frame, .. } => {
                let mut f = frame.clone();
                if let Some(id) = f.get("request_id").and_then(Value::as_str).map(str::to_owned) {
                    if let Some(core) = to_core.get(&id) {
                        f["request_id"] = Value::String(core.clone());
                    }
                }
                s.handle_frame(&f.to_string(), now);
            }
            Line::Out { frame, .. } => {
                drain(&mut s, &mut written, &mut actions);
                if written.is_empty() {
                    command(&mut s, frame, now).map_err(|e| e.at_line(n + 1))?;
                    drain(&mut s, &mut written, &mut actions);
                }
                let mismatch = |got: &dyn std::fmt::Display| {
                    let (expected, got) = (frame.to_string(), got.to_string());
                    Error::Mismatch { what: "the agent session wrote".into(), expected, got }.at_line(n + 1)
                };
                let got = written.pop_front().ok_or_else(|| mismatch(&"nothing"))?;
                let (want, want_id) = strip_id(frame);
                let (have, have_id) = strip_id(&got);
                if want != have {
                    return Err(mismatch(&got));
                }
                match (want_id, have_id) {
                    (Some(w), Some(h)) => {
                        if let Some(prev) = to_recorded.get(&h) {
                            if *prev != w {
                                let what = format!("the request id {h} was paired with {prev}, now with");
                                return Err(Error::Mismatch { what, expected: prev.clone(), got: w }.at_line(n + 1));
                            }
                        }
                        to_recorded.insert(h.clone(), w.clone());
                        to_core.insert(w, h);
                    }
                    (None, None) => {}
                    (w, h) => {
                        let (what, expected, got) =
                            ("the request ids differ:".into(), format!("{w:?}"), format!("{h:?}"));
                        return Err(Error::Mismatch { what, expected, got }.at_line(n + 1));
                    }
                }
                compared += 1;
            }
        }
        drain(&mut s, &mut written, &mut actions);
        while let Some(o) = s.poll_event() {
            outputs.push(output(&o, |id| to_recorded.get(id).cloned().unwrap_or_else(|| id.to_owned())));
        }
    }
    drain(&mut s, &mut written, &mut actions);
    if let Some(extra) = written.pop_front() {
        let (what, expected, got) = ("the agent session wrote".into(), "nothing more".into(), extra.to_string());
        return Err(Error::Mismatch { what, expected, got });
    }
    Ok(AgentReplay { outputs, frames_compared: compared })
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

/// One output as compact JSON; `id` names the request as the transcript does.
pub fn output(o: &AgentOutput, id: impl Fn(&str) -> String) -> Value {
    match o {
        AgentOutput::Completed { id: rid, result } => match result {
            Ok(AgentReply::Event(e)) => json!({"completed": id(&rid.to_string()), "ok": {"event": event(e)}}),
            Ok(r) => json!({"completed": id(&rid.to_string()), "ok": variant(&format!("{r:?}"))}),
            Err(e) => json!({"completed": id(&rid.to_string()), "err": e.to_string()}),
        },
        AgentOutput::Event(e) => agent_event(e),
        _ => json!("other"),
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
