//! Frames from the server: responses resolve requests, pushes become agent events and chat
//! state.

use chatio_wire as wire;
use chatio_wire::DecodeError;
use chatio_wire::agent::{Push, PushFrame, ResponseData};
use chatio_wire::{Recipients, ThreadRef};

use super::{AgentSession, Conn, Phase};
use crate::agent::output::{AgentEvent, AgentReply, ChatView};
use crate::error::{Error, ProtocolError};
use crate::model::{Chat, Event, User};
use crate::pending::{Pending, Purpose};
use web_time::Instant;

impl AgentSession {
    /// A frame that does not decode. A response whose request id and action could still be
    /// read answers that request with [`Error::Protocol`] rather than letting it time out.
    pub(super) fn on_undecodable(&mut self, e: DecodeError, frame: &str, _now: Instant) {
        let request_id = e.request_id().cloned();
        let action = e.action().map(str::to_owned);
        let err = Error::Protocol(ProtocolError::undecodable(e, frame));
        if let Some(id) = &request_id {
            let answerable =
                self.pending.get(id).is_some_and(|p| p.is_sent() && action.as_deref() == Some(p.action.as_str()));
            if answerable {
                if let Some(p) = self.pending.remove(id) {
                    match p.purpose {
                        Purpose::Login => self.login_failed(err),
                        _ => self.complete(id.clone(), Err(err)),
                    }
                    return;
                }
            }
        }
        self.emit(AgentEvent::Error(err));
    }

    pub(super) fn on_response(&mut self, r: wire::agent::Response, now: Instant) {
        let Some(id) = r.request_id else {
            if let Err(f) = r.result {
                self.emit(AgentEvent::Error(Error::from_server(f.error)));
            }
            return;
        };
        // Late (timed out, cancelled), not ours, or answered before it was written: ignored.
        if !self.pending.get(&id).is_some_and(Pending::is_sent) {
            return;
        }
        let Some(p) = self.pending.remove(&id) else { return };
        let data = match r.result {
            Ok(d) => d,
            Err(f) => {
                let err = Error::from_server(f.error);
                match p.purpose {
                    Purpose::Login if matches!(err, Error::Authentication { .. }) && !self.fresh_token_used => {
                        // The token was refused: ask a fresh one and log in once more.
                        self.fresh_token_used = true;
                        self.token = None;
                        self.conn = Conn::Open(Phase::AwaitingToken);
                        if !self.token_requested {
                            self.request_token(true);
                        }
                    }
                    Purpose::Login => self.login_failed(err),
                    _ => self.complete(id, Err(err)),
                }
                return;
            }
        };
        match p.purpose {
            Purpose::Login => match data {
                ResponseData::Login(l) => self.logged_in(l, now),
                other => self.login_failed(mismatch(&p, &other)),
            },
            _ => {
                let result = self.reply(&p, data);
                self.complete(id, result);
            }
        }
    }

    /// Turns a user request's response into its typed reply, and learns what it says.
    fn reply(&mut self, p: &Pending<wire::agent::Action>, data: ResponseData) -> Result<AgentReply, Error> {
        if data.known_action() != Some(p.action) {
            return Err(mismatch(p, &data));
        }
        let chat = p.chat.clone().unwrap_or_default();
        Ok(match data {
            ResponseData::StartChat(r) => {
                let chat = Chat::from_wire(r.chat);
                self.chats.chat(&chat, self.me.as_ref().map(|u| &u.id), false);
                AgentReply::Chat(chat)
            }
            ResponseData::SendEvent(r) => {
                let event = Event::from_wire(r.event, &chat, Some(&r.thread_id));
                self.chats.event(&event, self.me.as_ref().map(|u| &u.id));
                AgentReply::Event(event)
            }
            ResponseData::GetFilteredChats(r) => {
                let chats: Vec<ChatView> = r.chats_summary.into_iter().map(ChatView::from_summary).collect();
                for c in &chats {
                    self.chats.summary(c);
                }
                AgentReply::Chats(chats)
            }
            ResponseData::GetChatThreads(r) => {
                let mut summary: Vec<ThreadRef> = r.chat.threads_summary.clone().unwrap_or_default();
                summary.sort_by_key(|t| t.order);
                let chat = Chat::from_wire(r.chat);
                self.chats.chat(&chat, self.me.as_ref().map(|u| &u.id), false);
                AgentReply::ChatThreads { chat, threads_summary: summary }
            }
            ResponseData::GetArchives(r) => AgentReply::Archives {
                chats: r.chats.into_iter().map(|c| Chat::from_wire(c.chat)).collect(),
                page: r.pagination.page,
                total: r.pagination.total,
            },
            ResponseData::UpdateLastSeenTimestamp(r) => {
                let at = r.timestamp.to_system_time();
                if let Some(me) = self.me.as_ref().map(|u| u.id.clone()) {
                    self.chats.seen(&chat, &me, Some(&me), at);
                }
                AgentReply::LastSeen(at)
            }
            ResponseData::AddAutoChatScopes(r) => AgentReply::AutoChatScopesId(r.auto_chat_scopes_id),
            ResponseData::GetAutoChatScopesConfig(r) => AgentReply::AutoChatScopesConfig(r.auto_chat_scopes_config),
            _ => AgentReply::Done,
        })
    }

    /// Whether a push is the requester's copy of one of this session's requests.
    fn is_ours(&self, frame: &PushFrame) -> bool {
        frame.request_id.as_ref().is_some_and(|id| self.pending.knows(id))
    }

    /// The event of a push about `chat`, or, for the requester's copy of a push that repeats
    /// a command's outcome (the event just sent, the thread just closed...), only
    /// [`AgentEvent::ChatUpdated`]: the outcome said it already, but the state changed now
    /// (the server answers before it pushes, H2).
    fn own_copy(&mut self, ours: bool, chat: wire::ChatId, event: impl FnOnce() -> AgentEvent) {
        self.emit(if ours { AgentEvent::ChatUpdated { chat } } else { event() });
    }

    /// A push becomes chat state and agent events. The requester's copy of a push that
    /// repeats a command's outcome only updates the state and says so
    /// ([`own_copy`](Self::own_copy)).
    pub(super) fn on_push(&mut self, frame: PushFrame) {
        let ours = self.is_ours(&frame);
        let me = self.me.as_ref().map(|u| u.id.clone());
        let me = me.as_ref();
        match frame.push {
            Push::IncomingChatThread(p) => {
                let chat = Chat::from_wire(p.chat);
                self.chats.chat(&chat, me, !ours);
                let id = chat.id.clone();
                self.own_copy(ours, id, || AgentEvent::IncomingChat(chat));
            }
            Push::IncomingEvent(p) => {
                let event = Event::from_wire(p.event, &p.chat_id, p.thread_id.as_ref());
                self.chats.event(&event, me);
                // Only the event this session sent is its command's outcome; a system message
                // the command caused ("… joined the chat") is news.
                let sent = ours && event.author.is_some() && event.author.as_ref() == me;
                self.own_copy(sent, p.chat_id, || AgentEvent::NewEvent(event));
            }
            Push::ChatUsersUpdated(p) => {
                let added: Vec<User> = p.updated_users.added().cloned().map(User::from_wire).collect();
                let removed: Vec<wire::UserId> = p.updated_users.removed_ids().cloned().collect();
                self.chats.users_added(&p.chat_id, &added);
                self.chats.users_removed(&p.chat_id, &removed);
                for user in added {
                    self.emit(AgentEvent::UserJoined { chat: p.chat_id.clone(), user });
                }
                for user in removed {
                    self.emit(AgentEvent::UserLeft { chat: p.chat_id.clone(), user });
                }
            }
            Push::IncomingRichMessagePostback(p) => {
                if !ours {
                    self.emit(AgentEvent::RichMessagePostback {
                        user: p.user_id,
                        chat: p.chat_id,
                        thread: p.thread_id,
                        event: p.event_id,
                        postback: p.postback,
                    });
                }
            }
            Push::IncomingMulticast(p) => self.emit(AgentEvent::Multicast { author: p.author_id, content: p.content }),
            Push::IncomingTypingIndicator(p) => {
                let t = p.typing_indicator;
                self.emit(AgentEvent::Typing {
                    chat: p.chat_id,
                    user: t.author_id,
                    is_typing: t.is_typing,
                    to_agents_only: t.recipients == Some(Recipients::Agents),
                });
            }
            Push::IncomingSneakPeek(p) => self.emit(AgentEvent::SneakPeek {
                chat: p.chat_id,
                user: p.sneak_peek.author_id,
                text: p.sneak_peek.text,
                timestamp: p.sneak_peek.timestamp.to_system_time(),
            }),
            Push::CustomerBanned(p) => {
                if !ours {
                    self.emit(AgentEvent::CustomerBanned { customer: p.customer_id, days: p.ban.days });
                }
            }
            Push::ThreadClosed(p) => {
                self.chats.thread_closed(&p.chat_id, &p.thread_id);
                let (chat, thread, user) = (p.chat_id.clone(), p.thread_id, p.user_id);
                self.own_copy(ours, p.chat_id, || AgentEvent::ThreadClosed { chat, thread, user });
            }
            Push::ChatScopesUpdated(p) => {
                self.chats.scopes(&p.chat_id, &p.scopes_added, &p.scopes_removed);
                let (chat, added, removed) = (p.chat_id.clone(), p.scopes_added, p.scopes_removed);
                self.own_copy(ours, p.chat_id, || AgentEvent::ChatScopesUpdated { chat, added, removed });
            }
            Push::CustomerUpdated(p) => {
                let customer = User::from_wire(p.customer);
                self.chats.user_updated(&p.chat_id, &customer);
                self.emit(AgentEvent::CustomerUpdated { chat: p.chat_id, customer });
            }
            Push::AgentUpdated(p) => {
                self.chats.agent_status(&p.agent_id, p.routing_status.as_ref());
                if me == Some(&p.agent_id) {
                    self.routing_status = p.routing_status.clone();
                    if let Some(u) = self.me.as_mut() {
                        u.routing_status = p.routing_status.clone();
                    }
                }
                self.emit(AgentEvent::AgentUpdated { agent: p.agent_id, routing_status: p.routing_status });
            }
            Push::AgentDisconnected(p) => {
                if p.reason.is_final() {
                    // The server closes the socket next; nothing is retried.
                    self.stop(p.reason, true);
                } else {
                    self.emit(AgentEvent::Disconnected { reason: p.reason });
                }
            }
            Push::ChatPropertiesUpdated(p) => {
                self.chats.properties(&p.chat_id, &p.properties);
                let (chat, properties) = (p.chat_id.clone(), p.properties);
                self.own_copy(ours, p.chat_id, || AgentEvent::ChatPropertiesUpdated { chat, properties });
            }
            Push::ChatThreadPropertiesUpdated(p) => {
                self.chats.thread_properties(&p.chat_id, &p.thread_id, &p.properties);
                let (chat, thread, properties) = (p.chat_id.clone(), p.thread_id, p.properties);
                self.own_copy(ours, p.chat_id, || AgentEvent::ChatThreadPropertiesUpdated { chat, thread, properties });
            }
            Push::LastSeenTimestampUpdated(p) => {
                let at = p.timestamp.to_system_time();
                self.chats.seen(&p.chat_id, &p.user_id, me, at);
                let (chat, user) = (p.chat_id.clone(), p.user_id);
                self.own_copy(ours, p.chat_id, || AgentEvent::LastSeenTimestampUpdated { chat, user, timestamp: at });
            }
            Push::Unknown { action, payload } => self.emit(AgentEvent::UnknownPush { action, payload }),
            other => self.emit(AgentEvent::UnknownPush { action: other.action().to_owned(), payload: None }),
        }
    }
}

/// The error for a response of another action than the request's.
fn mismatch(p: &Pending<wire::agent::Action>, data: &ResponseData) -> Error {
    Error::protocol(format!("a `{}` response answered a `{}` request", data.action(), p.action))
}
