//! Replaying a transcript into [`chatio_core::Session`]: the server's frames are fed in, and
//! every frame the session writes must equal the recorded client frame.
//!
//! Commands are not recorded: when the transcript shows a client frame the session has not
//! written by itself (login, the connect sequence, outbox checks and history steps it writes
//! on its own), the replay issues the command that writes it, taken from the frame
//! (`send_event` → [`Session::send_event`], ...). Request ids may differ from the recorded
//! ones; the replay pairs them as frames are compared and rewrites the server's frames.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use chatio_core::{AccessToken, Config, Disconnect, DriverAction, Output, Session};
use chatio_transport::session::{DrivenSession, Polled};
use chatio_wire::{ClientFrame, LicenseId, Request};
use serde_json::Value;

use crate::Error;
use crate::normalize;
use crate::transcript::{Line, Transcript};

/// Events a history page aims at, in every recorded session.
pub const HISTORY_PAGE_EVENTS: u64 = 3;

/// What a replay produced.
#[derive(Debug)]
pub struct CoreReplay {
    /// Everything the session handed out, as JSON, in order.
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
fn command(s: &mut Session, frame: &Value, now: Instant) -> Result<(), Error> {
    let f = ClientFrame::decode(&frame.to_string())
        .map_err(|e| Error::Transcript(format!("the recorded frame does not decode: {e}")))?;
    let r = match f.request {
        Request::StartChat(p) => s.start_chat(p, now).map(drop),
        Request::SendEvent(p) => s.send_event(&p.chat_id, p.event, now).map(drop),
        Request::SendRichMessagePostback(p) => {
            s.send_rich_message_postback(&p.chat_id, &p.thread_id, &p.event_id, p.postback, now).map(drop)
        }
        Request::SendSneakPeek(p) => s.set_sneak_peek(&p.chat_id, &p.sneak_peek_text, now),
        Request::CloseThread(p) => s.close_thread(&p.chat_id, now).map(drop),
        Request::UpdateChatScopes(p) => s.update_chat_scopes(&p.chat_id, p.add_scopes, p.remove_scopes, now).map(drop),
        Request::UpdateCustomer(p) => s.update_customer(p.customer, now).map(drop),
        Request::UpdateChatProperties(p) => s.update_chat_properties(&p.chat_id, p.properties, now).map(drop),
        Request::UpdateChatThreadProperties(p) => {
            s.update_chat_thread_properties(&p.chat_id, &p.thread_id, p.properties, now).map(drop)
        }
        Request::UpdateLastSeenTimestamp(p) => {
            s.update_last_seen_timestamp(&p.chat_id, p.timestamp.map(|t| t.to_system_time()), now).map(drop)
        }
        Request::GetChatsSummary(p) => s
            .get_chats_summary(
                p.offset.unwrap_or(0),
                p.limit.unwrap_or(chatio_wire::GetChatsSummary::DEFAULT_LIMIT),
                now,
            )
            .map(drop),
        Request::GetChatThreads(p) => s.get_chat_threads(&p.chat_id, &p.thread_ids, now).map(drop),
        Request::GetChatThreadsSummary(p) => s
            .get_chat_threads_summary(
                &p.chat_id,
                p.offset.unwrap_or(0),
                p.limit.unwrap_or(chatio_wire::GetChatThreadsSummary::DEFAULT_LIMIT),
                now,
            )
            .map(drop),
        other => {
            return Err(Error::Script(format!(
                "the session should have written this `{}` frame by itself",
                other.action()
            )));
        }
    };
    r.map_err(Error::Core)
}

/// Replays a transcript into a fresh session.
///
/// # Errors
/// The first difference between what the session writes and the recording, with the line.
pub fn replay(t: &Transcript) -> Result<CoreReplay, Error> {
    let (_, license, _, seed, _) =
        t.header().ok_or_else(|| Error::Transcript("the transcript has no session header".into()))?;
    let mut config = Config::new(LicenseId(license), seed);
    config.history_page_events = HISTORY_PAGE_EVENTS;
    let (outputs, frames_compared) = replay_session(
        t,
        |now| Session::new(config, now),
        command,
        |p, id| {
            let o = match p {
                Polled::Event(e) => Output::Event(e),
                Polled::Completed { id, result } => Output::Completed { id, result },
                _ => return serde_json::json!("other"),
            };
            crate::summary::output(&o, id)
        },
    )?;
    Ok(CoreReplay { outputs, frames_compared })
}

/// How a replay describes what a session hands out: the output, and the name of a request id
/// in the transcript.
pub(crate) type Describe<S> =
    fn(Polled<<S as DrivenSession>::Event, <S as DrivenSession>::Reply>, &dyn Fn(&str) -> String) -> Value;

/// The replay of a transcript into a sans-IO session of any API (the customer's here, the
/// agent's in [`crate::replay_agent_core`]): `new` makes the session, `command` issues the
/// command that writes a recorded client frame the session did not write by itself, `output`
/// describes what it hands out (`id` names a request as the transcript does). Returns the
/// outputs and how many client frames were compared.
pub(crate) fn replay_session<S: DrivenSession>(
    t: &Transcript,
    new: impl FnOnce(Instant) -> S,
    command: fn(&mut S, &Value, Instant) -> Result<(), Error>,
    output: Describe<S>,
) -> Result<(Vec<Value>, usize), Error> {
    let t0 = Instant::now();
    let mut now = t0;
    let mut s = new(now);
    let mut written: VecDeque<Value> = VecDeque::new();
    let mut to_recorded: HashMap<String, String> = HashMap::new();
    let mut to_core: HashMap<String, String> = HashMap::new();
    let mut outputs = Vec::new();
    let mut actions: VecDeque<DriverAction> = VecDeque::new();
    let mut compared = 0;

    fn drain<S: DrivenSession>(s: &mut S, written: &mut VecDeque<Value>, actions: &mut VecDeque<DriverAction>) {
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
            Line::Token { customer_id, .. } => {
                let mut token = AccessToken::bearer("<redacted>");
                token.customer_id = customer_id.clone().map(chatio_wire::UserId::from);
                s.handle_token(token, now);
            }
            Line::Connected { .. } => {
                // The session must have asked to connect; after a drop it waits for its
                // reconnect timer first: let it fire.
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
            Line::Disconnected { code: Some(1000), reason, .. } if reason == "closed by the client" => {
                // The recorded session ended with `destroy`.
                s.destroy(now);
            }
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
                    Error::Mismatch { what: "the session wrote".into(), expected, got }.at_line(n + 1)
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
        while let Some(o) = s.poll_output() {
            // Commands of the replay itself are named as in the recording.
            outputs.push(output(o, &|id| to_recorded.get(id).cloned().unwrap_or_else(|| id.to_owned())));
        }
    }
    drain(&mut s, &mut written, &mut actions);
    if let Some(extra) = written.pop_front() {
        let (what, expected, got) = ("the session wrote".into(), "nothing more".into(), extra.to_string());
        return Err(Error::Mismatch { what, expected, got });
    }
    Ok((outputs, compared))
}
