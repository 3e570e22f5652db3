//! A small in-memory model of a Customer API v0.5 server: tokens, login, chats, threads,
//! events with custom ids, thread summaries paged newest first, and the requester's push
//! copies. Deterministic and inspectable: the properties ask it how many times each
//! `custom_id` was stored. (The reference server lives in `chatio-server`; this model keeps
//! the core's tests free of I/O.)

use std::collections::{HashMap, HashSet};

use chatio_wire::{
    Chat, ChatId, ChatSummary, ClientFrame, ErrorObject, ErrorType, Event, EventKind, GetChatThreadsResponse,
    GetChatThreadsSummaryResponse, GetChatsSummaryResponse, IncomingChatThread, IncomingEvent, IncomingTypingIndicator,
    LoginResponse, NewEvent, Push, PushFrame, Request, RequestId, Response, ResponseData, SendEventResponse,
    ServerFrame, StartChatResponse, Thread, ThreadClosed, ThreadId, ThreadSummary, Timestamp, TypingIndicator,
    UpdateLastSeenTimestampResponse, User, UserId, UserType,
};

pub const CUSTOMER: &str = "cust-1";
pub const AGENT: &str = "agent-1";

#[derive(Debug, Clone)]
struct ThreadState {
    id: ThreadId,
    order: u64,
    active: bool,
    events: Vec<Event>,
}

#[derive(Debug, Clone)]
struct ChatState {
    id: ChatId,
    threads: Vec<ThreadState>,
    next_event_order: u64,
}

/// The model server.
#[derive(Debug)]
pub struct Server {
    tokens: HashSet<String>,
    token_seq: u64,
    logged_in: bool,
    chats: Vec<ChatState>,
    next_id: u64,
    /// How many events were stored per `custom_id`.
    pub stored: HashMap<String, u32>,
    /// The stored event per `custom_id` (the last one).
    pub events_by_custom: HashMap<String, Event>,
    clock: u64,
}

fn err(id: Option<RequestId>, action: &str, kind: ErrorType, message: &str) -> String {
    ServerFrame::Response(Response::failure(id, action, ErrorObject::new(kind, message))).encode()
}

fn ok(id: Option<RequestId>, data: ResponseData) -> String {
    ServerFrame::Response(Response::success(id, data)).encode()
}

fn push(id: Option<RequestId>, p: Push) -> String {
    ServerFrame::Push(PushFrame::new(id, p)).encode()
}

impl Server {
    pub fn new() -> Self {
        Self {
            tokens: HashSet::new(),
            token_seq: 0,
            logged_in: false,
            chats: Vec::new(),
            next_id: 0,
            stored: HashMap::new(),
            events_by_custom: HashMap::new(),
            clock: 1_700_000_000,
        }
    }

    /// A new valid token.
    pub fn issue_token(&mut self) -> String {
        self.token_seq += 1;
        let t = format!("tok-{}", self.token_seq);
        self.tokens.insert(t.clone());
        t
    }

    /// Every token issued so far stops working (they expired).
    pub fn revoke_tokens(&mut self) {
        self.tokens.clear();
    }

    /// A new connection: not logged in.
    pub fn connection_opened(&mut self) {
        self.logged_in = false;
    }

    pub fn chat_ids(&self) -> Vec<ChatId> {
        self.chats.iter().map(|c| c.id.clone()).collect()
    }

    fn fresh_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    fn customer() -> User {
        User::new(UserId::new(CUSTOMER), UserType::Customer)
    }

    fn chat_object(c: &ChatState) -> Chat {
        let mut chat = Chat::new(c.id.clone());
        chat.users = vec![Self::customer()];
        chat
    }

    fn thread_object(t: &ThreadState) -> Thread {
        let mut th = Thread::new(t.id.clone(), t.active, t.order);
        th.user_ids = vec![UserId::new(CUSTOMER)];
        th.events = t.events.clone();
        th
    }

    fn store(&mut self, chat: usize, e: NewEvent, author: &str) -> Option<(ThreadId, Event, bool)> {
        self.clock += 1;
        let order = self.chats.get(chat)?.next_event_order;
        let is_annotation = matches!(e.kind, EventKind::Annotation(_));
        let (thread_idx, opened) = {
            let c = self.chats.get(chat)?;
            match c.threads.last() {
                Some(t) if t.active || is_annotation => (c.threads.len() - 1, false),
                _ => (c.threads.len(), true),
            }
        };
        if opened {
            let id = ThreadId::new(self.fresh_id("T"));
            let c = self.chats.get_mut(chat)?;
            let order = c.threads.last().map_or(1, |t| t.order + 1);
            c.threads.push(ThreadState { id, order, active: true, events: Vec::new() });
        }
        let c = self.chats.get_mut(chat)?;
        c.next_event_order += 1;
        let t = c.threads.get_mut(thread_idx)?;
        let mut ev = Event::new(format!("{}_{}", t.id, order), order, Timestamp::from_secs(self.clock), e.kind);
        ev.author_id = Some(UserId::new(author));
        ev.custom_id = e.custom_id.clone();
        ev.properties = e.properties;
        t.events.push(ev.clone());
        let thread = t.id.clone();
        if let Some(cid) = e.custom_id {
            *self.stored.entry(cid.clone()).or_default() += 1;
            self.events_by_custom.insert(cid, ev.clone());
        }
        Some((thread, ev, opened))
    }

    /// An agent says something in a chat: the push it causes (or none without chats).
    pub fn agent_message(&mut self, pick: usize) -> Option<String> {
        if self.chats.is_empty() {
            return None;
        }
        let i = pick % self.chats.len();
        let (thread, event, opened) = self.store(i, NewEvent::message("from the agent"), AGENT)?;
        let c = self.chats.get(i)?;
        Some(if opened {
            let mut chat = Self::chat_object(c);
            chat.thread = c.threads.last().map(Self::thread_object);
            push(None, Push::IncomingChatThread(IncomingChatThread::new(chat)))
        } else {
            push(None, Push::IncomingEvent(IncomingEvent::new(c.id.clone(), thread, event)))
        })
    }

    /// An agent closes the active thread of a chat (no push: the customer is away).
    pub fn close_active(&mut self, pick: usize) {
        let n = self.chats.len().max(1);
        if let Some(t) = self.chats.get_mut(pick % n).and_then(|c| c.threads.last_mut()) {
            t.active = false;
        }
    }

    /// An agent types in a chat.
    pub fn agent_typing(&mut self, pick: usize, typing: bool) -> Option<String> {
        let c = self.chats.get(pick % self.chats.len().max(1))?;
        let ti = TypingIndicator::new(AGENT, Timestamp::from_secs(self.clock), typing);
        Some(push(None, Push::IncomingTypingIndicator(IncomingTypingIndicator::new(c.id.clone(), ti))))
    }

    /// Handles one client frame: the frames the server writes back, response first.
    pub fn handle(&mut self, text: &str) -> Vec<String> {
        let frame = match ClientFrame::decode(text) {
            Ok(f) => f,
            Err(e) => return vec![err(e.request_id().cloned(), "", ErrorType::Validation, "cannot decode")],
        };
        let id = frame.request_id.clone();
        let action = frame.request.action().to_owned();
        if !self.logged_in && !matches!(frame.request, Request::Login(_)) {
            return vec![err(id, &action, ErrorType::Authentication, "login required")];
        }
        match frame.request {
            Request::Login(l) => {
                let token = l.token.expose().strip_prefix("Bearer ").unwrap_or_default().to_owned();
                if self.tokens.contains(&token) {
                    self.logged_in = true;
                    vec![ok(id, ResponseData::Login(LoginResponse::new(CUSTOMER, None)))]
                } else {
                    vec![err(id, &action, ErrorType::Authentication, "the access token has expired")]
                }
            }
            Request::Ping => vec![ok(id, ResponseData::Ping)],
            Request::GetChatsSummary(p) => {
                let (offset, limit) = (p.offset.unwrap_or(0) as usize, p.limit.unwrap_or(10) as usize);
                let list: Vec<ChatSummary> = self
                    .chats
                    .iter()
                    .rev()
                    .skip(offset)
                    .take(limit)
                    .map(|c| {
                        let mut s = ChatSummary::new(c.id.clone(), self.clock);
                        s.users = vec![Self::customer()];
                        s
                    })
                    .collect();
                let total = self.chats.len() as u64;
                vec![ok(id, ResponseData::GetChatsSummary(GetChatsSummaryResponse::new(list, total)))]
            }
            Request::StartChat(p) => {
                let chat_id = ChatId::new(self.fresh_id("C"));
                let thread_id = ThreadId::new(self.fresh_id("T"));
                self.chats.push(ChatState {
                    id: chat_id,
                    threads: vec![ThreadState { id: thread_id, order: 1, active: true, events: Vec::new() }],
                    next_event_order: 1,
                });
                let i = self.chats.len() - 1;
                for e in p.chat.thread.map(|t| t.events).unwrap_or_default() {
                    let _ = self.store(i, e, CUSTOMER);
                }
                let Some(c) = self.chats.get(i) else { return Vec::new() };
                let mut chat = Self::chat_object(c);
                chat.thread = c.threads.last().map(Self::thread_object);
                vec![
                    ok(id.clone(), ResponseData::StartChat(StartChatResponse::new(chat.clone()))),
                    push(id, Push::IncomingChatThread(IncomingChatThread::new(chat))),
                ]
            }
            Request::SendEvent(p) => {
                let Some(i) = self.chats.iter().position(|c| c.id == p.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "not your chat")];
                };
                let Some((thread, event, opened)) = self.store(i, p.event, CUSTOMER) else { return Vec::new() };
                let Some(c) = self.chats.get(i) else { return Vec::new() };
                let copy = if opened {
                    let mut chat = Self::chat_object(c);
                    chat.thread = c.threads.last().map(Self::thread_object);
                    push(id.clone(), Push::IncomingChatThread(IncomingChatThread::new(chat)))
                } else {
                    push(
                        id.clone(),
                        Push::IncomingEvent(IncomingEvent::new(c.id.clone(), thread.clone(), event.clone())),
                    )
                };
                vec![ok(id, ResponseData::SendEvent(SendEventResponse::new(thread, event))), copy]
            }
            Request::CloseThread(p) => {
                let Some(c) = self.chats.iter_mut().find(|c| c.id == p.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "not your chat")];
                };
                match c.threads.last_mut() {
                    Some(t) if t.active => {
                        t.active = false;
                        let closed = ThreadClosed::new(c.id.clone(), t.id.clone(), Some(UserId::new(CUSTOMER)));
                        vec![ok(id.clone(), ResponseData::CloseThread), push(id, Push::ThreadClosed(closed))]
                    }
                    _ => vec![err(id, &action, ErrorType::Validation, "the chat has no active thread")],
                }
            }
            Request::GetChatThreadsSummary(p) => {
                let Some(c) = self.chats.iter().find(|c| c.id == p.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "not your chat")];
                };
                let (offset, limit) = (p.offset.unwrap_or(0) as usize, p.limit.unwrap_or(25) as usize);
                let mut page: Vec<ThreadSummary> = c
                    .threads
                    .iter()
                    .rev()
                    .skip(offset)
                    .take(limit)
                    .map(|t| ThreadSummary::new(t.id.clone(), t.order, t.events.len() as u64))
                    .collect();
                page.reverse();
                let total = c.threads.len() as u64;
                vec![ok(id, ResponseData::GetChatThreadsSummary(GetChatThreadsSummaryResponse::new(page, total)))]
            }
            Request::GetChatThreads(p) => {
                let Some(c) = self.chats.iter().find(|c| c.id == p.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "not your chat")];
                };
                let mut chat = Self::chat_object(c);
                chat.threads =
                    Some(c.threads.iter().filter(|t| p.thread_ids.contains(&t.id)).map(Self::thread_object).collect());
                vec![ok(id, ResponseData::GetChatThreads(GetChatThreadsResponse::new(chat)))]
            }
            Request::UpdateLastSeenTimestamp(p) => {
                if !self.chats.iter().any(|c| c.id == p.chat_id) {
                    return vec![err(id, &action, ErrorType::Authorization, "not your chat")];
                }
                let ts = Timestamp::from_secs(self.clock);
                vec![ok(id, ResponseData::UpdateLastSeenTimestamp(UpdateLastSeenTimestampResponse::new(ts)))]
            }
            Request::UpdateChatProperties(p) => {
                if !self.chats.iter().any(|c| c.id == p.chat_id) {
                    return vec![err(id, &action, ErrorType::Authorization, "not your chat")];
                }
                let copy = chatio_wire::ChatPropertiesUpdated::new(p.chat_id, p.properties);
                vec![ok(id.clone(), ResponseData::UpdateChatProperties), push(id, Push::ChatPropertiesUpdated(copy))]
            }
            other => match other.known_action().and_then(ResponseData::empty) {
                Some(data) => vec![ok(id, data)],
                None => vec![err(id, &action, ErrorType::Validation, "unsupported by the model server")],
            },
        }
    }
}
