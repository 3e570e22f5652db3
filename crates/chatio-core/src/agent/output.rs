//! What the agent session hands out: agent events, command outcomes, and the chats as it
//! knows them.

use std::time::{Duration, SystemTime};

use chatio_wire as wire;
use chatio_wire::agent::{AgentDisconnectReason, AutoChatScopesConfig, License};
use chatio_wire::{
    ChatId, EventId, Postback, Properties, RawJson, RequestId, RoutingStatus, Scopes, ThreadId, ThreadRef, UserId,
    UserType,
};
use serde_json::Value;

use crate::error::Error;
use crate::model::{Chat, Event, Thread, User};

/// The last thread of a chat, without its events.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ThreadInfo {
    /// Thread id.
    pub id: ThreadId,
    /// Its order among the chat's threads.
    pub order: u64,
    /// Whether it is open; `None` when the server did not say (a chat summary without the
    /// project's `active` extension, H23).
    pub active: Option<bool>,
    /// When it was created.
    pub created: Option<SystemTime>,
    /// Its users.
    pub users: Vec<UserId>,
    /// Thread properties (empty if none).
    pub properties: Properties,
}

impl ThreadInfo {
    pub(crate) fn of_thread(t: &Thread) -> Self {
        Self {
            id: t.id.clone(),
            order: t.order,
            active: Some(t.active),
            created: t.created,
            users: t.users.clone(),
            properties: t.properties.clone(),
        }
    }
}

/// A chat as the agent session knows it: from `login`'s and `get_filtered_chats`' summaries,
/// updated by every push about it ([`AgentSession::chats`](super::AgentSession::chats)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ChatView {
    /// Chat id.
    pub id: ChatId,
    /// Its customers and agents.
    pub users: Vec<User>,
    /// Chat properties (empty if none).
    pub properties: Properties,
    /// Scopes.
    pub scopes: Scopes,
    /// Its last thread, when known.
    pub thread: Option<ThreadInfo>,
    /// The latest event known (highest thread order, then event order).
    pub last_event: Option<Event>,
    /// Events from others since this agent last marked the chat seen
    /// ([`AgentSession::update_last_seen_timestamp`](super::AgentSession::update_last_seen_timestamp),
    /// or a `last_seen_timestamp_updated` of its own from another connection): messages,
    /// files, forms, rich messages and custom events; not system messages nor annotations.
    pub unread: u32,
}

impl ChatView {
    /// A chat with only its id.
    pub fn new(id: ChatId) -> Self {
        Self {
            id,
            users: Vec::new(),
            properties: Properties::new(),
            scopes: Scopes::all(),
            thread: None,
            last_event: None,
            unread: 0,
        }
    }

    /// A chat of a `login` or `get_filtered_chats` summary.
    pub fn from_summary(s: wire::agent::ChatSummary) -> Self {
        let id = s.id;
        let mut last: Option<(u64, u64, Event)> = None;
        for le in s.last_event_per_type.unwrap_or_default().into_values() {
            let key = (le.thread_order.unwrap_or(0), le.event.order);
            if last.as_ref().is_none_or(|(t, o, _)| key > (*t, *o)) {
                last = Some((key.0, key.1, Event::from_wire(le.event, &id, Some(&le.thread_id))));
            }
        }
        let thread = s.last_thread_summary.map(|t| ThreadInfo {
            id: t.id,
            order: t.order,
            active: t.active,
            created: t.timestamp.map(wire::Timestamp::to_system_time),
            users: t.user_ids,
            properties: t.properties.unwrap_or_default(),
        });
        Self {
            users: s.users.into_iter().map(User::from_wire).collect(),
            properties: s.properties.unwrap_or_default(),
            scopes: s.scopes.unwrap_or_default(),
            thread,
            last_event: last.map(|(_, _, e)| e),
            unread: 0,
            id,
        }
    }

    /// A chat of `start_chat`, `incoming_chat_thread` or `get_chat_threads`: its newest thread
    /// and that thread's newest event.
    pub fn from_chat(c: &Chat) -> Self {
        let newest = c.threads.iter().max_by_key(|t| t.order);
        Self {
            id: c.id.clone(),
            users: c.users.clone(),
            properties: c.properties.clone(),
            scopes: c.scopes.clone(),
            thread: newest.map(ThreadInfo::of_thread),
            last_event: newest.and_then(|t| t.events.last().cloned()),
            unread: 0,
        }
    }

    /// Whether the last thread is known to be active.
    pub fn is_active(&self) -> bool {
        self.thread.as_ref().and_then(|t| t.active) == Some(true)
    }

    /// Whether this user is in the chat.
    pub fn has_user(&self, id: &UserId) -> bool {
        self.users.iter().any(|u| &u.id == id)
    }

    /// The chat's customer, if it has one (an agent-started chat has none).
    pub fn customer(&self) -> Option<&User> {
        self.users.iter().find(|u| u.kind == UserType::Customer)
    }

    /// The chat's agents.
    pub fn agents(&self) -> impl Iterator<Item = &User> {
        self.users.iter().filter(|u| u.kind == UserType::Agent)
    }

    /// Whether the chat waits for an agent: its thread is active and no agent is in it but
    /// those gone offline (H48). It follows the users pushes, which come before the router's
    /// `routing.unassigned` property, so a taken chat leaves the queue, and a chat its agent
    /// left enters it, as soon as the membership changes.
    pub fn is_waiting(&self) -> bool {
        self.is_active() && !self.agents().any(|a| a.routing_status != Some(wire::RoutingStatus::Offline))
    }
}

/// What the agent session emits.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AgentEvent {
    /// The first successful login: who the agent is, its license, the chats it sees with an
    /// active thread (newest first).
    Connected {
        /// The agent (with its `routing_status` and `permission`).
        me: User,
        /// The license.
        license: License,
        /// The chats.
        chats: Vec<ChatView>,
    },
    /// Logged in again after a loss (with `reconnect: true`: the routing status is kept).
    ConnectionRestored {
        /// The agent.
        me: User,
        /// The license.
        license: License,
        /// The chats, as the server now says.
        chats: Vec<ChatView>,
    },
    /// The connection dropped; the session reconnects by itself.
    ConnectionLost,
    /// Nothing arrived for [`AgentConfig::unstable_after`](super::AgentConfig::unstable_after).
    ConnectionUnstable,
    /// A frame arrived after [`AgentEvent::ConnectionUnstable`].
    ConnectionRecovered,
    /// The session will try to connect again after `delay`.
    Reconnecting {
        /// Attempt number, from 1.
        attempt: u32,
        /// How long until the attempt.
        delay: Duration,
    },
    /// Not emitted by the session: a subscriber of a driver's event stream fell behind and
    /// missed this many events.
    Lagged {
        /// How many events were missed.
        missed: u64,
    },
    /// The server is closing the connection (`agent_disconnected`); every documented reason
    /// stops the session.
    Disconnected {
        /// Why.
        reason: AgentDisconnectReason,
    },
    /// A chat was started or a thread opened (`incoming_chat_thread`): the chat with its new
    /// thread and that thread's first events.
    IncomingChat(Chat),
    /// A chat's state changed through the requester's copy of a push this session's own
    /// command caused (the event it sent, the thread it closed, the properties it set...):
    /// the command's outcome told what happened, and the server pushes after it answers, so
    /// this says when the chat state ([`AgentSession::chat`](super::AgentSession::chat))
    /// has it.
    ChatUpdated {
        /// The chat.
        chat: ChatId,
    },
    /// A user joined a chat (`chat_users_updated`).
    UserJoined {
        /// The chat.
        chat: ChatId,
        /// Who.
        user: User,
    },
    /// A user left a chat (`chat_users_updated`).
    UserLeft {
        /// The chat.
        chat: ChatId,
        /// Who.
        user: UserId,
    },
    /// An event arrived in an existing thread (`incoming_event`), whispers included.
    NewEvent(Event),
    /// A user toggled a rich message button.
    RichMessagePostback {
        /// Who.
        user: UserId,
        /// The chat.
        chat: ChatId,
        /// The thread.
        thread: ThreadId,
        /// The rich message.
        event: EventId,
        /// Which button, on or off.
        postback: Postback,
    },
    /// A `multicast` reached this agent.
    Multicast {
        /// Who sent it.
        author: UserId,
        /// What.
        content: Value,
    },
    /// Someone in a chat started or stopped typing.
    Typing {
        /// The chat.
        chat: ChatId,
        /// Who.
        user: UserId,
        /// Started (`true`) or stopped.
        is_typing: bool,
        /// Whether only agents were told (`recipients: agents`).
        to_agents_only: bool,
    },
    /// What a customer is typing, not sent yet (`incoming_sneak_peek`).
    SneakPeek {
        /// The chat.
        chat: ChatId,
        /// The customer.
        user: UserId,
        /// The draft.
        text: String,
        /// When.
        timestamp: SystemTime,
    },
    /// A customer was banned.
    CustomerBanned {
        /// The customer.
        customer: UserId,
        /// For how many days.
        days: u32,
    },
    /// A thread was closed (by an agent, the customer, or the router).
    ThreadClosed {
        /// The chat.
        chat: ChatId,
        /// The thread.
        thread: ThreadId,
        /// Who closed it; absent when the router did.
        user: Option<UserId>,
    },
    /// A chat's scopes changed.
    ChatScopesUpdated {
        /// The chat.
        chat: ChatId,
        /// Groups added.
        added: Scopes,
        /// Groups removed.
        removed: Scopes,
    },
    /// A customer's data changed (one per active chat of the customer).
    CustomerUpdated {
        /// The chat.
        chat: ChatId,
        /// The customer as now stored.
        customer: User,
    },
    /// An agent's routing status changed (this agent's too: see
    /// [`AgentSession::routing_status`](super::AgentSession::routing_status)).
    AgentUpdated {
        /// The agent.
        agent: UserId,
        /// Its status.
        routing_status: Option<RoutingStatus>,
    },
    /// Chat properties were set.
    ChatPropertiesUpdated {
        /// The chat.
        chat: ChatId,
        /// The properties just set.
        properties: Properties,
    },
    /// Thread properties were set.
    ChatThreadPropertiesUpdated {
        /// The chat.
        chat: ChatId,
        /// The thread.
        thread: ThreadId,
        /// The properties just set.
        properties: Properties,
    },
    /// A user's last-seen time in a chat changed.
    LastSeenTimestampUpdated {
        /// The chat.
        chat: ChatId,
        /// The user.
        user: UserId,
        /// The stored time.
        timestamp: SystemTime,
    },
    /// A push this SDK does not know, kept verbatim.
    UnknownPush {
        /// The push name.
        action: String,
        /// Its payload.
        payload: Option<RawJson>,
    },
    /// A problem that is nobody's request: a failed login, a frame that does not decode.
    Error(Error),
}

/// The result of an agent command.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AgentReply {
    /// `start_chat`: the new chat with its first thread.
    Chat(Chat),
    /// `send_event` (and its shortcuts): the stored event.
    Event(Event),
    /// `get_filtered_chats`: the chats.
    Chats(Vec<ChatView>),
    /// `get_chat_threads`: the chat with the requested threads (ascending), and every
    /// thread's id and order (ascending).
    ChatThreads {
        /// The chat, `threads` holding the requested ones.
        chat: Chat,
        /// Every thread of the chat.
        threads_summary: Vec<ThreadRef>,
    },
    /// `get_archives`: one chat per thread found (its `threads` holding that thread), newest
    /// first.
    Archives {
        /// The threads found.
        chats: Vec<Chat>,
        /// This page.
        page: u64,
        /// How many threads match in all.
        total: u64,
    },
    /// `update_last_seen_timestamp`: the stored time.
    LastSeen(SystemTime),
    /// `add_auto_chat_scopes`: the new configuration's id.
    AutoChatScopesId(String),
    /// `get_auto_chat_scopes_config`: every configuration, oldest first.
    AutoChatScopesConfig(Vec<AutoChatScopesConfig>),
    /// Commands without a result.
    Done,
}

/// What the agent session hands out: an event or a command's outcome.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum AgentOutput {
    /// An event.
    Event(AgentEvent),
    /// A command finished; every command finishes exactly once.
    Completed {
        /// The id its command returned.
        id: RequestId,
        /// Its result.
        result: Result<AgentReply, Error>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn active_chat(users: Vec<User>, unassigned: Option<bool>) -> ChatView {
        let mut c = ChatView::new(ChatId::from("C"));
        c.users = users;
        c.thread = Some(ThreadInfo {
            id: ThreadId::from("T"),
            order: 1,
            active: Some(true),
            created: None,
            users: Vec::new(),
            properties: Properties::new(),
        });
        if let Some(b) = unassigned {
            c.properties.insert("routing", "unassigned", b);
        }
        c
    }

    fn agent(status: Option<wire::RoutingStatus>) -> User {
        let mut u = User::from_wire(wire::User::agent("jane@example.com"));
        u.routing_status = status;
        u
    }

    #[test]
    fn a_chat_waits_while_no_agent_but_offline_ones_is_in_it_whatever_the_property_says_yet() {
        let customer = User::from_wire(wire::User::customer("ann"));
        assert!(active_chat(vec![customer.clone()], None).is_waiting());
        // The agent left; the router's property has not followed yet (it comes after).
        assert!(active_chat(vec![customer.clone()], Some(false)).is_waiting());
        // The agent joined; the property has not followed yet.
        let live = agent(Some(wire::RoutingStatus::NotAcceptingChats));
        assert!(!active_chat(vec![customer.clone(), live.clone()], Some(true)).is_waiting());
        assert!(!active_chat(vec![customer.clone(), agent(None)], None).is_waiting());
        // Its agent went offline: the chat waits for another.
        let gone = agent(Some(wire::RoutingStatus::Offline));
        assert!(active_chat(vec![customer.clone(), gone], Some(true)).is_waiting());
        // A closed thread waits for nobody.
        let mut closed = active_chat(vec![customer], None);
        if let Some(t) = closed.thread.as_mut() {
            t.active = Some(false);
        }
        assert!(!closed.is_waiting());
    }
}
