//! A small in-memory model of an Agent API v0.5 server, for the agent session's simulated
//! world: tokens, `login` with the chats the agent sees, chats with a customer and agents,
//! threads and events, `join_chat`/`remove_from_chat`, `send_event` (members only),
//! `close_thread`, routing status, last seen, the chat lists; and what happens on the
//! customer's side (a customer starts a chat, writes, the router closes a thread, another
//! agent joins). Responses come before the pushes they cause, the requester's copies carry its
//! request id. (The reference server is `chatio-server`; this model keeps the core's tests
//! free of I/O.)

use std::collections::HashSet;

use chatio_wire::agent::{
    ChatSummary, ChatUsersUpdated, ClientFrame, GetFilteredChatsResponse, LastThreadSummary, License, LoginResponse,
    Push, PushFrame, Request, Response, ResponseData, ServerFrame, UpdatedUsers,
};
use chatio_wire::{
    Chat, ChatId, ErrorObject, ErrorType, Event, EventKind, GetChatThreadsResponse, IncomingChatThread, IncomingEvent,
    LastEvent, Message, Properties, RequestId, RoutingStatus, SendEventResponse, StartChatResponse, Thread,
    ThreadClosed, ThreadId, ThreadRef, Timestamp, UpdateLastSeenTimestampResponse, User, UserId,
};

pub const ME: &str = "john@example.com";
pub const OTHER: &str = "jane@example.com";
pub const CUSTOMER: &str = "cust-1";

#[derive(Debug, Clone)]
pub struct ThreadState {
    pub id: ThreadId,
    pub order: u64,
    pub active: bool,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone)]
pub struct ChatState {
    pub id: ChatId,
    pub users: Vec<UserId>,
    pub threads: Vec<ThreadState>,
    next_order: u64,
}

impl ChatState {
    pub fn active(&self) -> bool {
        self.threads.last().is_some_and(|t| t.active)
    }
}

/// The model server.
#[derive(Debug)]
pub struct AgentServer {
    tokens: HashSet<String>,
    token_seq: u64,
    logged_in: bool,
    pub chats: Vec<ChatState>,
    next_id: u64,
    clock: u64,
    pub status: RoutingStatus,
    /// How many `login`s said `reconnect: true`.
    pub reconnect_logins: u32,
}

fn user(id: &UserId) -> User {
    if id == CUSTOMER { User::customer(id.clone()) } else { User::agent(id.clone()) }
}

fn ok(id: Option<RequestId>, data: ResponseData) -> String {
    ServerFrame::Response(Response::success(id, data)).encode()
}

fn err(id: Option<RequestId>, action: &str, kind: ErrorType, message: &str) -> String {
    ServerFrame::Response(Response::failure(id, action, ErrorObject::new(kind, message))).encode()
}

fn push(id: Option<RequestId>, p: Push) -> String {
    ServerFrame::Push(PushFrame::new(id, p)).encode()
}

impl AgentServer {
    pub fn new() -> Self {
        Self {
            tokens: HashSet::new(),
            token_seq: 0,
            logged_in: false,
            chats: Vec::new(),
            next_id: 0,
            clock: 1_700_000_000,
            status: RoutingStatus::AcceptingChats,
            reconnect_logins: 0,
        }
    }

    pub fn issue_token(&mut self) -> String {
        self.token_seq += 1;
        let t = format!("agent-tok-{}", self.token_seq);
        self.tokens.insert(t.clone());
        t
    }

    pub fn revoke_tokens(&mut self) {
        self.tokens.clear();
    }

    pub fn connection_opened(&mut self) {
        self.logged_in = false;
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    fn tick(&mut self) -> Timestamp {
        self.clock += 1;
        Timestamp::from_secs(self.clock)
    }

    fn chat_object(&self, c: &ChatState) -> Chat {
        let mut chat = Chat::new(c.id.clone());
        chat.users = c.users.iter().map(user).collect();
        let unassigned = c.active() && !c.users.iter().any(|u| u != CUSTOMER);
        chat.properties = Some(Properties::new().with("routing", "unassigned", unassigned));
        chat
    }

    fn thread_object(t: &ThreadState, users: &[UserId]) -> Thread {
        let mut th = Thread::new(t.id.clone(), t.active, t.order);
        th.user_ids = users.to_vec();
        th.events = t.events.clone();
        th
    }

    /// The chats the agent sees with an active thread, as `login` lists them.
    pub fn summaries(&self, include_inactive: bool) -> Vec<ChatSummary> {
        self.chats
            .iter()
            .filter(|c| include_inactive || c.active())
            .map(|c| {
                let chat = self.chat_object(c);
                let mut s = ChatSummary::new(c.id.clone());
                s.users = chat.users;
                s.properties = chat.properties;
                if let Some(t) = c.threads.last() {
                    let mut l = LastThreadSummary::new(t.id.clone(), t.order);
                    l.active = Some(t.active);
                    l.user_ids = c.users.clone();
                    s.last_thread_summary = Some(l);
                    if let Some(e) = t.events.last() {
                        s.last_event_per_type = Some(
                            [(e.event_type().to_owned(), LastEvent::new(t.id.clone(), t.order, e.clone()))].into(),
                        );
                    }
                }
                s
            })
            .collect()
    }

    fn find(&self, id: &ChatId) -> Option<usize> {
        self.chats.iter().position(|c| &c.id == id)
    }

    fn add_event(&mut self, chat: usize, author: &str, kind: EventKind) -> (ThreadId, Event, bool) {
        let ts = self.tick();
        let new_thread = !self.chats[chat].active();
        if new_thread {
            let id = ThreadId::new(self.fresh("T"));
            let order = self.chats[chat].threads.len() as u64 + 1;
            self.chats[chat].threads.push(ThreadState { id, order, active: true, events: Vec::new() });
        }
        let c = &mut self.chats[chat];
        c.next_order += 1;
        let t = c.threads.last_mut().expect("a thread");
        let event = Event::new(format!("{}_{}", t.id, c.next_order), c.next_order, ts, kind).with_author(author);
        t.events.push(event.clone());
        (t.id.clone(), event, new_thread)
    }

    fn incoming(&self, chat: usize, id: Option<RequestId>, thread: ThreadId, event: Event, new_thread: bool) -> String {
        let c = &self.chats[chat];
        if new_thread {
            let mut chat = self.chat_object(c);
            chat.thread = c.threads.last().map(|t| Self::thread_object(t, &c.users));
            push(id, Push::IncomingChatThread(IncomingChatThread::new(chat)))
        } else {
            push(id, Push::IncomingEvent(IncomingEvent::new(c.id.clone(), thread, event)))
        }
    }

    /// Whether chat `i` waits for an agent (`routing.unassigned`): active, no agent in it.
    fn waiting(&self, i: usize) -> bool {
        let c = &self.chats[i];
        c.active() && !c.users.iter().any(|u| u != CUSTOMER)
    }

    /// The router's `routing.unassigned` property after a change of chat `i`'s agents (H48).
    fn routing_changed(&self, i: usize, was_waiting: bool, id: Option<RequestId>) -> Vec<String> {
        let now = self.waiting(i);
        if now == was_waiting || !self.chats[i].active() {
            return Vec::new();
        }
        let p = chatio_wire::ChatPropertiesUpdated::new(
            self.chats[i].id.clone(),
            Properties::new().with("routing", "unassigned", now),
        );
        vec![push(id, Push::ChatPropertiesUpdated(p))]
    }

    /// A customer starts a chat: the agent hears of it, unassigned.
    pub fn customer_starts_chat(&mut self) -> Vec<String> {
        let id = ChatId::new(self.fresh("C"));
        self.chats.push(ChatState { id, users: vec![UserId::new(CUSTOMER)], threads: Vec::new(), next_order: 0 });
        let i = self.chats.len() - 1;
        let (thread, event, new_thread) = self.add_event(i, CUSTOMER, EventKind::Message(Message::new("hello?")));
        vec![self.incoming(i, None, thread, event, new_thread)]
    }

    /// The customer of chat `n` (modulo the chats) writes.
    pub fn customer_message(&mut self, n: usize) -> Vec<String> {
        if self.chats.is_empty() {
            return Vec::new();
        }
        let i = n % self.chats.len();
        let (thread, event, new_thread) = self.add_event(i, CUSTOMER, EventKind::Message(Message::new("more")));
        vec![self.incoming(i, None, thread, event, new_thread)]
    }

    /// Another agent joins chat `n`.
    pub fn other_agent_joins(&mut self, n: usize) -> Vec<String> {
        if self.chats.is_empty() {
            return Vec::new();
        }
        let i = n % self.chats.len();
        let other = UserId::new(OTHER);
        if self.chats[i].users.contains(&other) {
            return Vec::new();
        }
        let was_waiting = self.waiting(i);
        self.chats[i].users.push(other.clone());
        let p = ChatUsersUpdated::new(self.chats[i].id.clone(), UpdatedUsers::agents_added(vec![user(&other)]));
        let mut out = vec![push(None, Push::ChatUsersUpdated(p))];
        out.extend(self.routing_changed(i, was_waiting, None));
        out
    }

    /// The router closes the active thread of chat `n`.
    pub fn router_closes(&mut self, n: usize) -> Vec<String> {
        if self.chats.is_empty() {
            return Vec::new();
        }
        let i = n % self.chats.len();
        let c = &mut self.chats[i];
        let Some(t) = c.threads.last_mut().filter(|t| t.active) else { return Vec::new() };
        t.active = false;
        vec![push(None, Push::ThreadClosed(ThreadClosed::new(c.id.clone(), t.id.clone(), None)))]
    }

    /// Handles one frame from the agent; returns what the server writes back.
    pub fn handle(&mut self, text: &str) -> Vec<String> {
        let frame = match ClientFrame::decode(text) {
            Ok(f) => f,
            Err(e) => {
                return vec![err(
                    e.request_id().cloned(),
                    e.action().unwrap_or(""),
                    ErrorType::Validation,
                    "bad frame",
                )];
            }
        };
        let id = frame.request_id.clone();
        let action = frame.request.action().to_owned();
        if !self.logged_in {
            return match frame.request {
                Request::Login(l) if self.tokens.contains(l.token.access_token()) => {
                    self.logged_in = true;
                    if l.reconnect == Some(true) {
                        self.reconnect_logins += 1;
                    } else {
                        self.status = RoutingStatus::AcceptingChats;
                    }
                    let mut me = User::agent(ME);
                    me.routing_status = Some(self.status.clone());
                    let r = LoginResponse::new(License::new(1u64), me, self.summaries(false));
                    vec![ok(id, ResponseData::Login(r))]
                }
                Request::Login(_) => vec![err(id, &action, ErrorType::Authentication, "invalid access token")],
                _ => vec![err(id, &action, ErrorType::Authentication, "login required")],
            };
        }
        let me = UserId::new(ME);
        match frame.request {
            Request::Ping => vec![ok(id, ResponseData::Ping)],
            Request::Login(_) => vec![err(id, &action, ErrorType::Authorization, "already logged in")],
            Request::JoinChat(j) => {
                let Some(i) = self.find(&j.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "no such chat")];
                };
                let added: Vec<UserId> = j
                    .agent_ids
                    .unwrap_or_else(|| vec![me.clone()])
                    .into_iter()
                    .filter(|a| !self.chats[i].users.contains(a))
                    .collect();
                let was_waiting = self.waiting(i);
                self.chats[i].users.extend(added.iter().cloned());
                let mut out = vec![ok(id.clone(), ResponseData::JoinChat)];
                if !added.is_empty() {
                    let p = ChatUsersUpdated::new(
                        j.chat_id.clone(),
                        UpdatedUsers::agents_added(added.iter().map(user).collect()),
                    );
                    out.push(push(id.clone(), Push::ChatUsersUpdated(p)));
                }
                out.extend(self.routing_changed(i, was_waiting, id));
                out
            }
            Request::RemoveFromChat(r) => {
                let Some(i) = self.find(&r.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "no such chat")];
                };
                let removed: Vec<UserId> = r
                    .agent_ids
                    .unwrap_or_else(|| vec![me.clone()])
                    .into_iter()
                    .filter(|a| self.chats[i].users.contains(a))
                    .collect();
                let was_waiting = self.waiting(i);
                self.chats[i].users.retain(|u| !removed.contains(u));
                let mut out = vec![ok(id.clone(), ResponseData::RemoveFromChat)];
                if !removed.is_empty() {
                    let p = ChatUsersUpdated::new(r.chat_id, UpdatedUsers::agents_removed(removed));
                    out.push(push(id.clone(), Push::ChatUsersUpdated(p)));
                }
                out.extend(self.routing_changed(i, was_waiting, id));
                out
            }
            Request::SendEvent(s) => {
                let Some(i) = self.find(&s.chat_id).filter(|i| self.chats[*i].users.contains(&me)) else {
                    return vec![err(id, &action, ErrorType::Authorization, "not a member of the chat")];
                };
                let (thread, mut event, new_thread) = self.add_event(i, ME, s.event.kind);
                event.custom_id = s.event.custom_id;
                event.recipients = s.event.recipients.or(Some(chatio_wire::Recipients::All));
                if let Some(t) = self.chats[i].threads.last_mut() {
                    if let Some(last) = t.events.last_mut() {
                        *last = event.clone();
                    }
                }
                let response =
                    ok(id.clone(), ResponseData::SendEvent(SendEventResponse::new(thread.clone(), event.clone())));
                vec![response, self.incoming(i, id, thread, event, new_thread)]
            }
            Request::CloseThread(c) => {
                let Some(i) = self.find(&c.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "no such chat")];
                };
                let chat = &mut self.chats[i];
                let Some(t) = chat.threads.last_mut().filter(|t| t.active) else {
                    return vec![err(id, &action, ErrorType::Validation, "no active thread")];
                };
                t.active = false;
                let p = ThreadClosed::new(chat.id.clone(), t.id.clone(), Some(me));
                vec![ok(id.clone(), ResponseData::CloseThread), push(id, Push::ThreadClosed(p))]
            }
            Request::UpdateAgent(u) => {
                let status = u.routing_status.unwrap_or(RoutingStatus::AcceptingChats);
                self.status = status.clone();
                let p = chatio_wire::agent::AgentUpdated::new(me, status);
                vec![ok(id.clone(), ResponseData::UpdateAgent), push(id, Push::AgentUpdated(p))]
            }
            Request::UpdateLastSeenTimestamp(u) => {
                let at = u.timestamp.unwrap_or(Timestamp::from_secs(self.clock));
                vec![ok(id, ResponseData::UpdateLastSeenTimestamp(UpdateLastSeenTimestampResponse::new(at)))]
            }
            Request::GetFilteredChats(f) => {
                let inactive = f.filters.and_then(|f| f.include_active) == Some(false);
                vec![ok(id, ResponseData::GetFilteredChats(GetFilteredChatsResponse::new(self.summaries(inactive))))]
            }
            Request::GetChatThreads(g) => {
                let Some(i) = self.find(&g.chat_id) else {
                    return vec![err(id, &action, ErrorType::Authorization, "no such chat")];
                };
                let c = &self.chats[i];
                let mut chat = self.chat_object(c);
                chat.threads = Some(
                    c.threads
                        .iter()
                        .filter(|t| g.thread_ids.contains(&t.id))
                        .map(|t| Self::thread_object(t, &c.users))
                        .collect(),
                );
                chat.threads_summary = Some(c.threads.iter().map(|t| ThreadRef::new(t.id.clone(), t.order)).collect());
                vec![ok(id, ResponseData::GetChatThreads(GetChatThreadsResponse::new(chat)))]
            }
            Request::StartChat(_) => {
                let chat_id = ChatId::new(self.fresh("A"));
                self.chats.push(ChatState { id: chat_id, users: vec![me], threads: Vec::new(), next_order: 0 });
                let i = self.chats.len() - 1;
                let (_, _, _) = self.add_event(i, ME, EventKind::Message(Message::new("note to self")));
                let c = &self.chats[i];
                let mut chat = self.chat_object(c);
                chat.thread = c.threads.last().map(|t| Self::thread_object(t, &c.users));
                let p = IncomingChatThread::new(chat.clone());
                vec![
                    ok(id.clone(), ResponseData::StartChat(StartChatResponse::new(chat))),
                    push(id, Push::IncomingChatThread(p)),
                ]
            }
            Request::SendTypingIndicator(_) => vec![ok(id, ResponseData::SendTypingIndicator)],
            Request::Unknown { .. } => vec![err(id, &action, ErrorType::Validation, "unknown action")],
            other => match other.known_action().and_then(ResponseData::empty) {
                Some(data) => vec![ok(id, data)],
                None => vec![err(id, &action, ErrorType::Validation, "not in the model")],
            },
        }
    }
}
