//! Frames from the server: responses resolve requests (G32), pushes become SDK events.

use std::collections::HashSet;
use web_time::Instant;

use chatio_wire as wire;
use chatio_wire::{DecodeError, EventKind, Push, PushFrame, ResponseData};

use super::{Conn, Phase, Session};
use crate::error::{Error, ProtocolError};
use crate::model::{Chat, ChatSummary, Event, Thread, ThreadSummary, User};
use crate::output::{Reply, SdkEvent};
use crate::pending::{Pending, Purpose};

impl Session {
    /// A frame that does not decode. A response whose request id and action could still be
    /// read answers that request with [`Error::Protocol`] rather than letting it run into its
    /// timeout (a push copy has another action name and is only reported).
    pub(super) fn on_undecodable(&mut self, e: DecodeError, frame: &str, now: Instant) {
        let request_id = e.request_id().cloned();
        let action = e.action().map(str::to_owned);
        let err = Error::Protocol(ProtocolError::undecodable(e, frame));
        if let Some(id) = &request_id {
            let answerable = self.pending.get(id).is_some_and(|p| {
                p.is_sent() && p.purpose != Purpose::Upload && action.as_deref() == Some(p.action.as_str())
            });
            if answerable {
                if let Some(p) = self.pending.remove(id) {
                    self.fail_pending(id.clone(), p, err, now);
                    return;
                }
            }
        }
        self.emit(SdkEvent::Error(err));
    }

    pub(super) fn on_response(&mut self, r: wire::Response, now: Instant) {
        let Some(id) = r.request_id else {
            if let Err(f) = r.result {
                // A failure nobody can be told about directly (e.g. of a sneak peek).
                self.emit(SdkEvent::Error(Error::from_server(f.error)));
            }
            return;
        };
        // Late (timed out, cancelled), not ours, or answered before it was written (a
        // confused server): ignored.
        let answerable = self.pending.get(&id).is_some_and(|p| p.is_sent() && p.purpose != Purpose::Upload);
        if !answerable {
            return;
        }
        let Some(p) = self.pending.remove(&id) else { return };
        let data = match r.result {
            Ok(d) => d,
            Err(f) => {
                let err = Error::from_server(f.error);
                if p.purpose == Purpose::Login && matches!(err, Error::Authentication { .. }) && !self.fresh_token_used
                {
                    // The token was refused: ask a fresh one and log in once more (6.2).
                    self.fresh_token_used = true;
                    self.token = None;
                    self.conn = Conn::Open(Phase::AwaitingToken);
                    if !self.token_requested {
                        self.request_token(true);
                    }
                } else {
                    self.fail_pending(id, p, err, now);
                }
                return;
            }
        };
        match p.purpose.clone() {
            Purpose::Login => match data {
                ResponseData::Login(l) => self.logged_in(l.customer_id, now),
                other => self.login_failed(mismatch(&p, &other)),
            },
            Purpose::Summary => match data {
                ResponseData::GetChatsSummary(s) => self.on_chats_summary(s, now),
                other => self.login_failed(mismatch(&p, &other)),
            },
            Purpose::User => {
                let result = self.reply(&p, data);
                self.complete(id, result);
            }
            Purpose::Outbox => {
                self.outbox.remove(&id);
                let result = self.reply(&p, data);
                self.complete(id, result);
                self.flush_outbox(now);
            }
            Purpose::VerifySummary(page) => self.on_verify_summary(page, data, now),
            Purpose::VerifyThreads(chat) => self.on_verify_threads(chat, data, now),
            Purpose::History(h) => self.on_history(h, data, now),
            Purpose::Upload => {}
        }
    }

    /// The connect sequence's chats summary: `UserData` per user, then `Connected` (first
    /// time) or `ConnectionRestored`; then what waited for the login is written.
    fn on_chats_summary(&mut self, s: wire::GetChatsSummaryResponse, now: Instant) {
        for c in &s.chats_summary {
            self.chats.note_summary(c);
        }
        // Kept for the next start's first screen (only with a store attached).
        self.outbox.log(crate::persist::StoreChange::ChatsSummary(s.clone()));
        let summaries: Vec<ChatSummary> = s.chats_summary.into_iter().map(ChatSummary::from_wire).collect();
        let mut seen = HashSet::new();
        for u in summaries.iter().flat_map(|c| c.users.iter()) {
            if seen.insert(u.id.clone()) {
                self.emit(SdkEvent::UserData(u.clone()));
            }
        }
        let total_chats = s.total_chats;
        if self.ever_ready {
            self.emit(SdkEvent::ConnectionRestored { chats_summary: summaries, total_chats });
        } else {
            self.ever_ready = true;
            self.emit(SdkEvent::Connected { chats_summary: summaries, total_chats });
        }
        self.ready(now);
    }

    /// Turns a user request's response into its typed reply.
    pub(super) fn reply(&mut self, p: &Pending, data: ResponseData) -> Result<Reply, Error> {
        if data.known_action() != Some(p.action) {
            return Err(mismatch(p, &data));
        }
        let chat = p.chat.clone().unwrap_or_default();
        Ok(match data {
            ResponseData::StartChat(r) => {
                self.chats.note_chat(&r.chat);
                Reply::Chat(Chat::from_wire(r.chat))
            }
            ResponseData::SendEvent(r) => {
                self.cache_event(&chat, Some(&r.thread_id), &r.event);
                let annotation = matches!(r.event.kind, EventKind::Annotation(_));
                self.chats.note_event(&chat, Some(&r.thread_id), annotation);
                Reply::Event(Event::from_wire(r.event, &chat, Some(&r.thread_id)))
            }
            ResponseData::GetChatsSummary(r) => {
                for c in &r.chats_summary {
                    self.chats.note_summary(c);
                }
                Reply::ChatsSummary {
                    chats_summary: r.chats_summary.into_iter().map(ChatSummary::from_wire).collect(),
                    total_chats: r.total_chats,
                }
            }
            ResponseData::GetChatThreads(r) => {
                self.chats.note_chat(&r.chat);
                for u in &r.chat.users {
                    self.emit(SdkEvent::UserData(User::from_wire(u.clone())));
                }
                let chat_id = r.chat.id;
                let mut threads: Vec<Thread> =
                    r.chat.threads.unwrap_or_default().into_iter().map(|t| Thread::from_wire(t, &chat_id)).collect();
                crate::order::sort_by_u64(&mut threads, |t| t.order);
                Reply::Threads(threads)
            }
            ResponseData::GetChatThreadsSummary(r) => {
                let mut list: Vec<ThreadSummary> =
                    r.threads_summary.into_iter().map(|s| ThreadSummary::from_wire(s, &chat)).collect();
                crate::order::sort_by_u64(&mut list, |s| s.order);
                Reply::ThreadsSummary { threads_summary: list, total_threads: r.total_threads }
            }
            ResponseData::UpdateCustomer(r) => Reply::Customer(User::from_wire(r.customer)),
            ResponseData::UpdateLastSeenTimestamp(r) => Reply::LastSeen(r.timestamp.to_system_time()),
            ResponseData::SendFile(r) => Reply::File { url: r.url },
            _ => Reply::Done,
        })
    }

    /// Whether a push is the requester's copy of one of our requests.
    fn is_ours(&self, frame: &PushFrame) -> bool {
        frame.request_id.as_ref().is_some_and(|id| self.pending.knows(id) || self.outbox.contains(id))
    }

    /// A push becomes SDK events (6.12, plus the pushes the JS SDK dropped). The requester's
    /// copy of a push only updates the chat state and emits the side events the JS SDK
    /// emits for it (`UserData`, `ThreadSummary`); its main event would duplicate the
    /// request's outcome and is not emitted.
    pub(super) fn on_push(&mut self, frame: PushFrame) {
        let ours = self.is_ours(&frame);
        match frame.push {
            Push::IncomingChatThread(p) => {
                self.chats.note_chat(&p.chat);
                if !ours {
                    for t in p.chat.threads.iter().flatten() {
                        for e in &t.events {
                            self.cache_event(&p.chat.id, Some(&t.id), e);
                        }
                    }
                }
                let chat = Chat::from_wire(p.chat);
                for u in &chat.users {
                    self.emit(SdkEvent::UserData(u.clone()));
                }
                for t in &chat.threads {
                    self.emit(SdkEvent::ThreadSummary(ThreadSummary {
                        id: t.id.clone(),
                        chat: chat.id.clone(),
                        order: t.order,
                        total_events: Some(t.events.len() as u64),
                    }));
                }
                if !ours {
                    for t in chat.threads {
                        for e in t.events {
                            self.emit(SdkEvent::NewEvent { chat: chat.id.clone(), event: e });
                        }
                    }
                }
            }
            Push::IncomingEvent(p) => {
                let annotation = matches!(p.event.kind, EventKind::Annotation(_));
                self.chats.note_event(&p.chat_id, p.thread_id.as_ref(), annotation);
                if !ours {
                    self.cache_event(&p.chat_id, p.thread_id.as_ref(), &p.event);
                    let event = Event::from_wire(p.event, &p.chat_id, p.thread_id.as_ref());
                    self.emit(SdkEvent::NewEvent { chat: p.chat_id, event });
                }
            }
            Push::ChatUsersUpdated(p) => {
                self.chats.note_users(&p.chat_id, &p.updated_users.added, &p.updated_users.removed_ids);
                for u in p.updated_users.added {
                    let user = User::from_wire(u);
                    let id = user.id.clone();
                    self.emit(SdkEvent::UserData(user));
                    self.emit(SdkEvent::UserJoinedChat { chat: p.chat_id.clone(), user: id });
                }
                for id in p.updated_users.removed_ids {
                    self.emit(SdkEvent::UserLeftChat { chat: p.chat_id.clone(), user: id });
                }
            }
            Push::IncomingTypingIndicator(p) => {
                let user = p.typing_indicator.author_id;
                self.emit(if p.typing_indicator.is_typing {
                    SdkEvent::UserIsTyping { chat: p.chat_id, user }
                } else {
                    SdkEvent::UserStoppedTyping { chat: p.chat_id, user }
                });
            }
            Push::ThreadClosed(p) => {
                self.chats.note_closed(&p.chat_id, &p.thread_id);
                self.sneak.drop_pending(&p.chat_id);
                if !ours {
                    self.emit(SdkEvent::ThreadClosed { chat: p.chat_id, thread: p.thread_id, user: p.user_id });
                }
            }
            Push::ChatPropertiesUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::ChatPropertiesUpdated { chat: p.chat_id, properties: p.properties });
                }
            }
            Push::ChatThreadPropertiesUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::ChatThreadPropertiesUpdated {
                        chat: p.chat_id,
                        thread: p.thread_id,
                        properties: p.properties,
                    });
                }
            }
            Push::LastSeenTimestampUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::LastSeenTimestampUpdated {
                        chat: p.chat_id,
                        user: p.user_id,
                        timestamp: p.timestamp.to_system_time(),
                    });
                }
            }
            Push::CustomerDisconnected(p) => {
                if p.reason.is_final() {
                    // The server closes the socket next; nothing is retried.
                    self.stop(p.reason, true);
                } else {
                    if p.reason == wire::DisconnectReason::TooManyConnections {
                        self.too_many = true;
                    }
                    self.emit(SdkEvent::Disconnected { reason: p.reason });
                }
            }
            Push::ChatScopesUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::ChatScopesUpdated {
                        chat: p.chat_id,
                        added: p.scopes_added,
                        removed: p.scopes_removed,
                    });
                }
            }
            Push::CustomerUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::CustomerUpdated { chat: p.chat_id, customer: User::from_wire(p.customer) });
                }
            }
            Push::IncomingRichMessagePostback(p) => {
                if !ours {
                    self.emit(SdkEvent::RichMessagePostback {
                        user: p.user_id,
                        chat: p.chat_id,
                        thread: p.thread_id,
                        event: p.event_id,
                        postback: p.postback,
                    });
                }
            }
            Push::IncomingMulticast(p) => self.emit(SdkEvent::Multicast { author: p.author_id, content: p.content }),
            Push::Unknown { action, payload } => self.emit(SdkEvent::UnknownPush { action, payload }),
            other => self.emit(SdkEvent::UnknownPush { action: other.action().to_owned(), payload: None }),
        }
    }
}

/// The error for a response of another action than the request's.
fn mismatch(p: &Pending, data: &ResponseData) -> Error {
    let message = format!("a `{}` response answered a `{}` request", data.action(), p.action);
    Error::Protocol(ProtocolError::unexpected_reply(message))
}
