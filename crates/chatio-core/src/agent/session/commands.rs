//! The agent commands: one method per Agent API action (and a few shortcuts), each checking
//! its arguments before anything is queued. Every command returns its request id at once; its
//! outcome is an [`AgentOutput::Completed`](crate::agent::AgentOutput::Completed) with that id.
//!
//! # Errors (every command)
//! [`Error::InvalidArgs`] for arguments the server would refuse for their shape (empty or
//! oversize ids and texts, events agents cannot send, non-scalar properties...), checked
//! first, leaving no trace; [`Error::Closed`] after `disconnect`/`destroy`, and
//! [`Error::Disconnected`] after the server stopped the session.

use std::time::SystemTime;

use chatio_wire::agent::{
    AddAutoChatScopes, ArchiveFilters, AutoChatScopesRules, Ban, BanCustomer, ChangePushNotifications, ChatFilters,
    GetArchives, GetFilteredChats, JoinChat, Multicast, MulticastScopes, Platform, RemoveAutoChatScopes,
    RemoveFromChat, Request, SendTypingIndicator, UpdateAgent,
};
use chatio_wire::{
    ChatId, CloseThread, EventId, GetChatThreads, NewEvent, Postback, Properties, Recipients, RequestId, RoutingStatus,
    Scopes, SendEvent, SendRichMessagePostback, StartChat, ThreadId, Timestamp, UpdateChatProperties, UpdateChatScopes,
    UpdateChatThreadProperties, UpdateLastSeenTimestamp, UserId,
};
use serde_json::Value;

use super::AgentSession;
use crate::error::Error;
use crate::validate::{check_agent_event, check_chat, check_id, check_properties, check_text};
use web_time::Instant;

/// A page of `get_archives` asks at most this many threads (H22).
pub const MAX_ARCHIVES_LIMIT: u64 = GetArchives::MAX_LIMIT;

fn check_users(what: &str, ids: &[UserId]) -> Result<(), Error> {
    ids.iter().try_for_each(|id| check_id(what, id.as_str()))
}

impl AgentSession {
    /// Runs a checked request: refused when the session takes no commands.
    fn command(&mut self, request: Request, chat: Option<&ChatId>, now: Instant) -> Result<RequestId, Error> {
        let now = self.tick(now);
        self.check_open()?;
        Ok(self.user_request(request, chat, now))
    }

    /// `get_archives`: a page (from 1) of the threads the agent sees, newest first, that match
    /// the filters. Outcome: [`AgentReply::Archives`](crate::agent::AgentReply::Archives).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)); a page of 0 or a limit outside 1–[`MAX_ARCHIVES_LIMIT`] is refused.
    pub fn get_archives(
        &mut self,
        filters: Option<ArchiveFilters>,
        page: u64,
        limit: u64,
        now: Instant,
    ) -> Result<RequestId, Error> {
        if page == 0 {
            return Err(Error::invalid("archive pages count from 1"));
        }
        if !(1..=MAX_ARCHIVES_LIMIT).contains(&limit) {
            return Err(Error::invalid(format!("an archive page has 1 to {MAX_ARCHIVES_LIMIT} threads")));
        }
        if let Some(q) = filters.as_ref().and_then(|f| f.query.as_deref()) {
            check_text("query", q)?;
        }
        self.command(Request::GetArchives(GetArchives::page(filters, page, limit)), None, now)
    }

    /// `get_filtered_chats`: the chats the agent sees (with an active thread unless
    /// `include_active` says otherwise); they also refresh [`chats`](Self::chats). Outcome:
    /// [`AgentReply::Chats`](crate::agent::AgentReply::Chats).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn get_filtered_chats(&mut self, filters: Option<ChatFilters>, now: Instant) -> Result<RequestId, Error> {
        let req = filters.map_or_else(GetFilteredChats::new, GetFilteredChats::filtered);
        self.command(Request::GetFilteredChats(req), None, now)
    }

    /// `get_chat_threads`: these threads of a chat with all their events, and the list of all
    /// its threads. Outcome: [`AgentReply::ChatThreads`](crate::agent::AgentReply::ChatThreads).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn get_chat_threads(
        &mut self,
        chat: &ChatId,
        threads: Vec<ThreadId>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        threads.iter().try_for_each(|t| check_id("thread id", t.as_str()))?;
        self.command(Request::GetChatThreads(GetChatThreads::new(chat.clone(), threads)), Some(chat), now)
    }

    /// `start_chat`: a chat of this agent alone (no customer, no routing), with initial
    /// events and properties. Outcome: [`AgentReply::Chat`](crate::agent::AgentReply::Chat).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): system messages and files cannot be among the events.
    pub fn start_chat(&mut self, req: StartChat, now: Instant) -> Result<RequestId, Error> {
        if let Some(t) = &req.chat.thread {
            t.events.iter().try_for_each(check_agent_event)?;
            if let Some(p) = &t.properties {
                check_properties(p)?;
            }
        }
        if let Some(p) = &req.chat.properties {
            check_properties(p)?;
        }
        self.command(Request::StartChat(req), None, now)
    }

    /// `join_chat`: adds agents to a chat (to take a waiting chat, see
    /// [`take_chat`](Self::take_chat)). Outcome: [`AgentReply::Done`](crate::agent::AgentReply::Done);
    /// the users arrive as [`AgentEvent::UserJoined`](crate::agent::AgentEvent::UserJoined).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): at least one agent.
    pub fn join_chat(&mut self, chat: &ChatId, agents: Vec<UserId>, now: Instant) -> Result<RequestId, Error> {
        check_chat(chat)?;
        if agents.is_empty() {
            return Err(Error::invalid("join_chat needs at least one agent"));
        }
        check_users("agent id", &agents)?;
        self.command(Request::JoinChat(JoinChat::new(chat.clone(), agents)), Some(chat), now)
    }

    /// Takes a chat: `join_chat` of this agent (the protocol's way to take a chat from the
    /// queue, 8.2). Before the first login the server fills in the requester.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn take_chat(&mut self, chat: &ChatId, now: Instant) -> Result<RequestId, Error> {
        check_chat(chat)?;
        let mut req = JoinChat::new(chat.clone(), Vec::new());
        req.agent_ids = self.my_id().map(|id| vec![id.clone()]);
        self.command(Request::JoinChat(req), Some(chat), now)
    }

    /// `remove_from_chat`: removes agents from a chat (removing the last agent of a
    /// customer's active chat puts it back in the queue).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): at least one agent.
    pub fn remove_from_chat(&mut self, chat: &ChatId, agents: Vec<UserId>, now: Instant) -> Result<RequestId, Error> {
        check_chat(chat)?;
        if agents.is_empty() {
            return Err(Error::invalid("remove_from_chat needs at least one agent (leave_chat removes oneself)"));
        }
        check_users("agent id", &agents)?;
        self.command(Request::RemoveFromChat(RemoveFromChat::new(chat.clone(), agents)), Some(chat), now)
    }

    /// Leaves a chat (`remove_from_chat` of oneself): back to the queue if nobody else is in it.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn leave_chat(&mut self, chat: &ChatId, now: Instant) -> Result<RequestId, Error> {
        check_chat(chat)?;
        self.command(Request::RemoveFromChat(RemoveFromChat::me(chat.clone())), Some(chat), now)
    }

    /// `send_event`: adds an event to a chat the agent is in (`recipients: agents` makes it
    /// a whisper the customer never sees). Outcome: [`AgentReply::Event`](crate::agent::AgentReply::Event).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): agents cannot send system messages nor `file` events (images go with
    /// `upload_image` and a rich message).
    pub fn send_event(&mut self, chat: &ChatId, event: NewEvent, now: Instant) -> Result<RequestId, Error> {
        check_chat(chat)?;
        check_agent_event(&event)?;
        self.command(Request::SendEvent(SendEvent::new(chat.clone(), event)), Some(chat), now)
    }

    /// A message to everyone in the chat.
    ///
    /// # Errors
    /// See [`send_event`](Self::send_event).
    pub fn send_message(&mut self, chat: &ChatId, text: &str, now: Instant) -> Result<RequestId, Error> {
        self.send_event(chat, NewEvent::message(text), now)
    }

    /// A message only agents see (a whisper, `recipients: agents`).
    ///
    /// # Errors
    /// See [`send_event`](Self::send_event).
    pub fn send_whisper(&mut self, chat: &ChatId, text: &str, now: Instant) -> Result<RequestId, Error> {
        self.send_event(chat, NewEvent::message(text).with_recipients(Recipients::Agents), now)
    }

    /// `send_rich_message_postback`: toggles a button of a rich message.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn send_rich_message_postback(
        &mut self,
        chat: &ChatId,
        thread: &ThreadId,
        event: &EventId,
        postback: Postback,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        check_id("thread id", thread.as_str())?;
        check_id("event id", event.as_str())?;
        check_id("postback id", &postback.id)?;
        let req = SendRichMessagePostback::new(chat.clone(), thread.clone(), event.clone(), postback);
        self.command(Request::SendRichMessagePostback(req), Some(chat), now)
    }

    /// `multicast`: any JSON object to agents (all, by id, by group) and customers (by id).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): at least one target, and `content` must be an object.
    pub fn multicast(&mut self, scopes: MulticastScopes, content: Value, now: Instant) -> Result<RequestId, Error> {
        if scopes.is_empty() {
            return Err(Error::invalid("a multicast needs at least one target"));
        }
        if !content.is_object() {
            return Err(Error::invalid("a multicast's content is a JSON object"));
        }
        self.command(Request::Multicast(Multicast::new(scopes, content)), None, now)
    }

    /// `send_typing_indicator`: whether the agent is typing, to everyone in the chat or
    /// (`to_agents_only`) to the other agents only.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn send_typing_indicator(
        &mut self,
        chat: &ChatId,
        is_typing: bool,
        to_agents_only: bool,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        let mut req = SendTypingIndicator::new(chat.clone(), is_typing);
        if to_agents_only {
            req.recipients = Some(Recipients::Agents);
        }
        self.command(Request::SendTypingIndicator(req), Some(chat), now)
    }

    /// `ban_customer`: for 1 to [`Ban::MAX_DAYS`] days; the customer's active chats are
    /// closed and its connections cut.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn ban_customer(&mut self, customer: &UserId, days: u32, now: Instant) -> Result<RequestId, Error> {
        check_id("customer id", customer.as_str())?;
        if !(1..=Ban::MAX_DAYS).contains(&days) {
            return Err(Error::invalid(format!("a ban lasts 1 to {} days", Ban::MAX_DAYS)));
        }
        self.command(Request::BanCustomer(BanCustomer::new(customer.clone(), days)), None, now)
    }

    /// `close_thread`: closes the chat's active thread.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn close_thread(&mut self, chat: &ChatId, now: Instant) -> Result<RequestId, Error> {
        check_chat(chat)?;
        self.command(Request::CloseThread(CloseThread::new(chat.clone())), Some(chat), now)
    }

    /// `update_chat_scopes`: adds and removes agent groups.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn update_chat_scopes(
        &mut self,
        chat: &ChatId,
        add: Option<Scopes>,
        remove: Option<Scopes>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        self.command(Request::UpdateChatScopes(UpdateChatScopes::new(chat.clone(), add, remove)), Some(chat), now)
    }

    /// `update_agent` of this agent: accepting chats or not; the change arrives as
    /// [`AgentEvent::AgentUpdated`](crate::agent::AgentEvent::AgentUpdated).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): only `accepting_chats` and `not_accepting_chats` can be set.
    pub fn set_routing_status(&mut self, status: RoutingStatus, now: Instant) -> Result<RequestId, Error> {
        self.update_agent(None, status, now)
    }

    /// `update_agent`: another agent's routing status (with `agents--all:write`), or this
    /// agent's (`agent` absent).
    ///
    /// # Errors
    /// See [`set_routing_status`](Self::set_routing_status).
    pub fn update_agent(
        &mut self,
        agent: Option<UserId>,
        status: RoutingStatus,
        now: Instant,
    ) -> Result<RequestId, Error> {
        if !matches!(status, RoutingStatus::AcceptingChats | RoutingStatus::NotAcceptingChats) {
            return Err(Error::invalid(format!("`{status}` is not a routing status an agent can set")));
        }
        if let Some(a) = &agent {
            check_id("agent id", a.as_str())?;
        }
        let mut req = UpdateAgent::routing_status(status);
        req.agent_id = agent;
        self.command(Request::UpdateAgent(req), None, now)
    }

    /// `change_push_notifications`: a device's Firebase push notifications on or off (the
    /// reference server stores them and sends none, H27).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn change_push_notifications(
        &mut self,
        firebase_token: &str,
        platform: Platform,
        enabled: bool,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_id("firebase token", firebase_token)?;
        let req = ChangePushNotifications::new(firebase_token, platform, enabled);
        self.command(Request::ChangePushNotifications(req), None, now)
    }

    /// `update_chat_properties`.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn update_chat_properties(
        &mut self,
        chat: &ChatId,
        properties: Properties,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        check_properties(&properties)?;
        self.command(
            Request::UpdateChatProperties(UpdateChatProperties::new(chat.clone(), properties)),
            Some(chat),
            now,
        )
    }

    /// `update_chat_thread_properties`.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn update_chat_thread_properties(
        &mut self,
        chat: &ChatId,
        thread: &ThreadId,
        properties: Properties,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        check_id("thread id", thread.as_str())?;
        check_properties(&properties)?;
        let req = UpdateChatThreadProperties::new(chat.clone(), thread.clone(), properties);
        self.command(Request::UpdateChatThreadProperties(req), Some(chat), now)
    }

    /// `update_last_seen_timestamp`: the agent saw the chat (now, or at `at`); clears its
    /// unread count. Outcome: [`AgentReply::LastSeen`](crate::agent::AgentReply::LastSeen).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn update_last_seen_timestamp(
        &mut self,
        chat: &ChatId,
        at: Option<SystemTime>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        check_chat(chat)?;
        let req = UpdateLastSeenTimestamp::new(chat.clone(), at.map(Timestamp::from_system_time));
        self.command(Request::UpdateLastSeenTimestamp(req), Some(chat), now)
    }

    /// `add_auto_chat_scopes`: scopes added to the chats that match `rules`. Outcome:
    /// [`AgentReply::AutoChatScopesId`](crate::agent::AgentReply::AutoChatScopesId).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)): the scopes name at least one group, and the rules hold no rule this SDK
    /// does not know.
    pub fn add_auto_chat_scopes(
        &mut self,
        scopes: Scopes,
        rules: AutoChatScopesRules,
        description: Option<String>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        if scopes.is_unrestricted() {
            return Err(Error::invalid("auto chat scopes name at least one group"));
        }
        if let Some(k) = rules.other.keys().next() {
            return Err(Error::invalid(format!("unknown auto chat scopes rule `{k}`")));
        }
        if let Some(d) = &description {
            check_text("description", d)?;
        }
        let mut req = AddAutoChatScopes::new(scopes, rules);
        req.description = description;
        self.command(Request::AddAutoChatScopes(req), None, now)
    }

    /// `remove_auto_chat_scopes`.
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn remove_auto_chat_scopes(&mut self, id: &str, now: Instant) -> Result<RequestId, Error> {
        check_id("auto chat scopes id", id)?;
        self.command(Request::RemoveAutoChatScopes(RemoveAutoChatScopes::new(id)), None, now)
    }

    /// `get_auto_chat_scopes_config`. Outcome:
    /// [`AgentReply::AutoChatScopesConfig`](crate::agent::AgentReply::AutoChatScopesConfig).
    ///
    /// # Errors
    /// As every command ([`AgentSession`](super::AgentSession)).
    pub fn get_auto_chat_scopes_config(&mut self, now: Instant) -> Result<RequestId, Error> {
        self.command(Request::GetAutoChatScopesConfig, None, now)
    }
}
