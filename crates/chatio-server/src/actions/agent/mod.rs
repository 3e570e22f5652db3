//! The actions of the Agent API v0.5 (protocol file `agent-api-v0.5.md`), on the same store
//! as the customer side's: agents and customers are in the same chats, so what an agent
//! does reaches the customer as the Customer API's pushes, and what a customer does reaches
//! the agents ([`mirror`]) as the Agent API's.
//!
//! Pure like the customer actions: the context (store, presence, policy, agents, time) and
//! the caller in; the response and the pushes for both sides out. Routing (H30, H37) runs
//! here too: when a customer starts a chat or opens a thread ([`route_triggers`]), when the
//! last agent leaves, and when an agent becomes available.

use chatio_wire as wire;
use chatio_wire::agent::{self, Request, ResponseData};
use chatio_wire::{
    ChatId, ErrorObject, ErrorType, EventKind, Properties, Push, Recipients, ThreadId, Timestamp, UserId,
};

use super::checks::{check_new_event, check_properties, check_text, validation};
use super::{AgentDelivery, AgentTarget, Ctx, Delivery, Effects, Policy, Trigger, add_agent_event, quota};
use crate::agents::AgentData;
use crate::agents::presence::Change;
use crate::agents::routing::{Candidate, Pool, RoutingStatus};
use crate::agents::scopes::{self, Scope, ScopeSet};
use crate::agents::tokens::Refused;
use crate::store::{self, ChatRec, ThreadRec};

mod archives;
pub(crate) mod auto_scopes;
mod ban;
mod multicast;
mod postback;
pub(crate) mod upload;
mod view;

pub(crate) use view::{Audience, mirror};
use view::{has_customer, to_agents};

/// An agent that passed the gate: who it is and what its token allows.
#[derive(Clone, Debug)]
pub(crate) struct AgentCaller {
    pub(crate) license: u64,
    /// Lower-case id.
    pub(crate) agent: String,
    pub(crate) scopes: ScopeSet,
    pub(crate) groups: Vec<u64>,
}

impl AgentCaller {
    /// A configured agent (not a bot) acting without a connection: the server ends its
    /// grace period after a restart (H33). Its scopes are its permission's.
    pub(crate) fn of_account(agents: &AgentData, license: u64, agent: &str) -> Option<Self> {
        let account = agents.directory.get(license, agent).filter(|a| !a.is_bot())?;
        Some(AgentCaller {
            license,
            agent: account.id.clone(),
            scopes: account.permission.scopes(),
            groups: account.group_ids().collect(),
        })
    }

    fn user_id(&self) -> UserId {
        UserId::new(self.agent.clone())
    }
}

/// Chat summaries in one answer at most (H39).
const MAX_SUMMARIES: usize = wire::limits::MAX_AGENT_CHAT_SUMMARIES;
/// How many of a license's most recent chats the agent lists look through.
const MAX_SCANNED_CHATS: usize = 10_000;

fn authorization(msg: impl Into<String>) -> ErrorObject {
    ErrorObject::new(ErrorType::Authorization, msg)
}

/// Checks an agent's token (RTM `login`, every Web API call; H10, H36): the agent, its
/// license and the token's scopes. A customer's token is unknown here (and an agent's on the
/// customer side): the two tables are apart.
pub(crate) fn authenticate(
    agents: &AgentData,
    policy: &Policy,
    token: &str,
    now: u64,
) -> Result<AgentCaller, ErrorObject> {
    let (_, grant) = agents.tokens.check(token, now).map_err(|r| match r {
        Refused::Unknown => ErrorObject::new(ErrorType::Authentication, "invalid agent access token"),
        Refused::Expired => ErrorObject::new(ErrorType::Authentication, "the access token has expired"),
    })?;
    let account = agents
        .directory
        .get(grant.license, &grant.agent)
        .ok_or_else(|| ErrorObject::new(ErrorType::Authentication, "the token's agent no longer exists"))?;
    if !policy.licenses.contains(&grant.license) {
        return Err(ErrorObject::new(ErrorType::Authentication, "the token's license is not served"));
    }
    if policy.expired_licenses.contains(&grant.license) {
        return Err(ErrorObject::with_default_message(ErrorType::LicenseExpired));
    }
    Ok(AgentCaller {
        license: grant.license,
        agent: account.id.clone(),
        scopes: grant.scopes,
        groups: account.group_ids().collect(),
    })
}

/// `login` (§5.1): checks the token, marks the agent logged in on a new connection (H21),
/// gives it queued chats (H30) and answers with the license, the profile and the chats it
/// sees with an active thread (H23).
pub(crate) fn login(
    cx: &mut Ctx<'_>,
    payload: &agent::Login,
    new_connection: bool,
    fx: &mut Effects,
) -> Result<(AgentCaller, agent::LoginResponse), ErrorObject> {
    let caller = authenticate(cx.agents, cx.policy, payload.token.expose(), cx.now)?;
    if new_connection {
        let reconnect = payload.reconnect.unwrap_or(false);
        let change = cx.agents.presence_mut(caller.license, &caller.agent).login(reconnect);
        status_changed(&caller, change, fx);
        route_queue(cx, caller.license, fx)?;
    }
    let mut license = agent::License::new(caller.license);
    license.plan = Some("enterprise".into());
    license.in_trial = Some(false);
    let mut me = view::agent_user(cx.store, cx.agents, caller.license, &caller.user_id(), None)?;
    let admin = cx.agents.directory.get(caller.license, &caller.agent).map(|a| a.permission);
    me.permission = Some(match admin {
        Some(scopes::Permission::Administrator) => wire::Permission::Administrator,
        _ => wire::Permission::Normal,
    });
    let mut chats = Vec::new();
    for c in visible_chats(cx, &caller, true)? {
        chats.push(view::summary(cx, caller.license, &c)?);
    }
    Ok((caller, agent::LoginResponse::new(license, me, chats)))
}

/// The chats `caller` sees, most recently active first, at most [`MAX_SUMMARIES`]; with
/// `active_only`, those whose last thread is active.
fn visible_chats(cx: &mut Ctx<'_>, caller: &AgentCaller, active_only: bool) -> store::Result<Vec<ChatRec>> {
    visible_chats_up_to(cx, caller, active_only, MAX_SUMMARIES)
}

/// Every chat `caller` sees among the license's [`MAX_SCANNED_CHATS`] most recent ones
/// (`get_archives`).
fn visible_chats_scan(cx: &mut Ctx<'_>, caller: &AgentCaller) -> store::Result<Vec<ChatRec>> {
    visible_chats_up_to(cx, caller, false, MAX_SCANNED_CHATS)
}

fn visible_chats_up_to(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    active_only: bool,
    max: usize,
) -> store::Result<Vec<ChatRec>> {
    let mut out = Vec::new();
    for c in cx.store.license_chats(caller.license, 0, MAX_SCANNED_CHATS)? {
        if out.len() >= max {
            break;
        }
        if !Audience::of(cx.agents, caller.license, &c).admits(&caller.agent, &caller.groups, caller.scopes) {
            continue;
        }
        let active = cx.store.last_thread(caller.license, &c.id)?.is_some_and(|t| t.active);
        if active || !active_only {
            out.push(c);
        }
    }
    Ok(out)
}

/// A chat the caller sees, else `authorization` (an unknown chat and an invisible one look
/// the same, H38).
fn visible_chat(cx: &mut Ctx<'_>, caller: &AgentCaller, chat: &ChatId) -> Result<ChatRec, ErrorObject> {
    match cx.store.chat(caller.license, chat)? {
        Some(c) if Audience::of(cx.agents, caller.license, &c).admits(&caller.agent, &caller.groups, caller.scopes) => {
            Ok(c)
        }
        _ => Err(authorization(format!("chat `{chat}` is not a chat this agent can see"))),
    }
}

/// The scope check of a method on a chat (H11): one listed scope, `--my` ones only as a
/// member.
fn allowed(caller: &AgentCaller, action: &str, member: bool) -> Result<(), ErrorObject> {
    let need = scopes::required(action);
    if need.is_empty() || caller.scopes.allows(need, member) {
        Ok(())
    } else {
        let names: Vec<&str> = need.iter().map(|s| s.name()).collect();
        Err(authorization(format!("`{action}` needs one of the scopes {}", names.join(", "))))
    }
}

/// Runs one request of a logged-in agent (every action but `login`).
pub(crate) fn handle(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    request: Request,
) -> (Result<ResponseData, ErrorObject>, Effects) {
    let mut fx = Effects::default();
    let result = dispatch(cx, caller, request, &mut fx);
    if result.is_err() {
        fx = Effects::default();
    }
    (result, fx)
}

/// Pushes for the chat's customer (never for a chat without one).
fn to_customer(fx: &mut Effects, license: u64, chat: &ChatRec, push: Push) {
    if has_customer(chat) {
        fx.deliveries.push(Delivery {
            license,
            customer: chat.customer.clone(),
            push,
            caused_by_request: false,
            event_json: None,
        });
    }
}

/// The agent ids of a `join_chat` / `remove_from_chat` (absent or empty: oneself, A18).
fn targets(caller: &AgentCaller, ids: Option<Vec<UserId>>) -> Vec<String> {
    match ids {
        Some(ids) if !ids.is_empty() => ids.iter().map(|i| i.as_str().to_lowercase()).collect(),
        _ => vec![caller.agent.clone()],
    }
}

fn dispatch(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    request: Request,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let license = caller.license;
    let me = caller.user_id();
    let action = request.action().to_owned();
    match request {
        Request::Ping => Ok(ResponseData::Ping),
        Request::GetFilteredChats(p) => {
            allowed(caller, &action, true)?;
            let include_active = p.filters.as_ref().and_then(|f| f.include_active).unwrap_or(true);
            let all_read = caller.scopes.contains(Scope::ChatsAllRead);
            let mut chats = Vec::new();
            for c in visible_chats(cx, caller, false)? {
                if !all_read && !c.agents.contains(&me) {
                    continue;
                }
                if !include_active && cx.store.last_thread(license, &c.id)?.is_some_and(|t| t.active) {
                    continue;
                }
                chats.push(view::summary(cx, license, &c)?);
            }
            Ok(ResponseData::GetFilteredChats(agent::GetFilteredChatsResponse::new(chats)))
        }
        Request::GetChatThreads(p) => {
            let chat = visible_chat(cx, caller, &p.chat_id)?;
            allowed(caller, &action, chat.agents.contains(&me))?;
            let all = cx.store.threads(license, &chat.id)?;
            let mut threads = Vec::new();
            for t in all.iter().filter(|t| p.thread_ids.contains(&t.id)) {
                let events = cx.store.events(license, &chat.id, &t.id)?;
                let mut w = view::thread(t, &events);
                w.sort_events();
                threads.push(w);
            }
            threads.sort_by_key(|t| t.order);
            let mut c = wire::Chat::new(chat.id.clone());
            c.users = view::users(cx, license, &chat)?;
            c.properties = Some(view::properties(cx.agents, license, &chat));
            c.scopes = Some(chat.scopes_wire());
            c.threads = Some(threads);
            c.threads_summary = Some(all.iter().map(|t| wire::ThreadRef::new(t.id.clone(), t.order)).collect());
            Ok(ResponseData::GetChatThreads(wire::GetChatThreadsResponse::new(c)))
        }
        Request::StartChat(p) => start_chat(cx, caller, p, fx),
        Request::SendEvent(p) => send_event(cx, caller, p, fx),
        Request::JoinChat(p) => {
            let chat = visible_chat(cx, caller, &p.chat_id)?;
            let ids = targets(caller, p.agent_ids);
            let only_me = ids.iter().all(|i| *i == caller.agent);
            let member = chat.agents.contains(&me);
            let ok = caller.scopes.allows(scopes::required("join_chat"), member)
                || (only_me && caller.scopes.contains(Scope::ConversationAllWrite));
            if !ok {
                return Err(authorization(
                    "`join_chat` needs chats.meta--all:write, chats.meta--my:write in a member chat, or chats.conversation--all:write to join oneself",
                ));
            }
            if let Some(id) = ids.iter().find(|id| cx.agents.directory.get(license, id).is_none()) {
                return Err(validation(format!("`agent_ids`: no agent `{id}` on this license")));
            }
            for id in ids {
                add_member(cx, license, &p.chat_id, &UserId::new(id), true, fx)?;
            }
            // Taken from the queue: agents hear that it waits no more (H48).
            if cx.agents.queues.get_mut(&license).is_some_and(|q| q.remove(&p.chat_id)) {
                if let Some(chat) = cx.store.chat(license, &p.chat_id)? {
                    set_routing_property(cx, license, &chat, false, fx);
                }
            }
            Ok(ResponseData::JoinChat)
        }
        Request::RemoveFromChat(p) => {
            if p.customer_ids.as_ref().is_some_and(|c| !c.is_empty()) {
                return Err(authorization("customers cannot be removed from a chat (A19)"));
            }
            let chat = visible_chat(cx, caller, &p.chat_id)?;
            let ids = targets(caller, p.agent_ids);
            let only_me = ids.iter().all(|i| *i == caller.agent);
            let member = chat.agents.contains(&me);
            let leave_scopes = [Scope::ConversationAllWrite, Scope::ConversationMyWrite];
            let ok = caller.scopes.allows(scopes::required("remove_from_chat"), member)
                || (only_me && caller.scopes.allows(&leave_scopes, member));
            if !ok {
                return Err(authorization("`remove_from_chat` of another agent needs chats.meta scopes"));
            }
            for id in &ids {
                if chat.customer.as_str() == id {
                    return Err(authorization("customers cannot be removed from a chat (A19)"));
                }
                if !chat.agents.iter().any(|a| a.as_str() == id) {
                    return Err(validation(format!("`agent_ids`: `{id}` is not in the chat")));
                }
            }
            for id in ids {
                remove_member(cx, license, &p.chat_id, &UserId::new(id), true, fx)?;
            }
            // The last agent left an active customer chat: route it again (H30).
            route(cx, license, std::slice::from_ref(&p.chat_id), fx)?;
            Ok(ResponseData::RemoveFromChat)
        }
        Request::SendTypingIndicator(p) => {
            let chat = visible_chat(cx, caller, &p.chat_id)?;
            let member = chat.agents.contains(&me);
            allowed(caller, &action, member)?;
            if !member {
                return Err(authorization("join the chat before writing to it (H12)"));
            }
            if !cx.store.last_thread(license, &chat.id)?.is_some_and(|t| t.active) {
                return Ok(ResponseData::SendTypingIndicator);
            }
            let recipients = p.recipients.unwrap_or(Recipients::All);
            let ts = Timestamp::from_secs(cx.now);
            if recipients == Recipients::All {
                let t = wire::TypingIndicator::new(me.clone(), ts, p.is_typing);
                let push = wire::IncomingTypingIndicator::new(chat.id.clone(), t);
                to_customer(fx, license, &chat, Push::IncomingTypingIndicator(push));
            }
            let mut t = wire::TypingIndicator::new(me.clone(), ts, p.is_typing);
            t.recipients = Some(recipients);
            let push = wire::IncomingTypingIndicator::new(chat.id.clone(), t);
            to_agents(cx, fx, license, &chat, agent::Push::IncomingTypingIndicator(push), true);
            Ok(ResponseData::SendTypingIndicator)
        }
        Request::CloseThread(p) => {
            let chat = visible_chat(cx, caller, &p.chat_id)?;
            allowed(caller, &action, chat.agents.contains(&me))?;
            let mut active = match cx.store.last_thread(license, &chat.id)? {
                Some(t) if t.active => t,
                _ => return Err(validation("the chat has no active thread")),
            };
            if let Some(t) = &p.thread_id {
                if t != &active.id {
                    return Err(validation(format!("`thread_id`: `{t}` is not the chat's active thread")));
                }
            }
            active.active = false;
            let push = wire::ThreadClosed::new(p.chat_id.clone(), active.id.clone(), Some(me.clone()));
            cx.store.put_thread(license, &chat.id, active)?;
            to_customer(fx, license, &chat, Push::ThreadClosed(push.clone()));
            to_agents(cx, fx, license, &chat, agent::Push::ThreadClosed(push), true);
            if let Some(q) = cx.agents.queues.get_mut(&license) {
                q.remove(&p.chat_id);
            }
            // A freed slot may take a queued chat.
            route_queue(cx, license, fx)?;
            Ok(ResponseData::CloseThread)
        }
        Request::UpdateChatScopes(p) => {
            let mut chat = visible_chat(cx, caller, &p.chat_id)?;
            allowed(caller, &action, chat.agents.contains(&me))?;
            let add = p.add_scopes.clone().and_then(|s| s.groups).unwrap_or_default();
            let remove = p.remove_scopes.clone().and_then(|s| s.groups).unwrap_or_default();
            chat.scopes.extend(add.iter().copied());
            for g in &remove {
                chat.scopes.remove(g);
            }
            let push = wire::ChatScopesUpdated::new(
                p.chat_id,
                p.add_scopes.unwrap_or_default(),
                p.remove_scopes.unwrap_or_default(),
            );
            cx.store.put_chat(license, chat.clone())?;
            to_customer(fx, license, &chat, Push::ChatScopesUpdated(push.clone()));
            to_agents(cx, fx, license, &chat, agent::Push::ChatScopesUpdated(push), true);
            Ok(ResponseData::UpdateChatScopes)
        }
        Request::UpdateChatProperties(p) => {
            check_properties("properties", &p.properties)?;
            no_routing_namespace("properties", &p.properties)?;
            let mut chat = visible_chat(cx, caller, &p.chat_id)?;
            allowed(caller, &action, chat.agents.contains(&me))?;
            quota::check_properties(&cx.policy.quotas, "properties", Some(&chat.properties), &p.properties)?;
            chat.properties.merge(&p.properties);
            cx.store.put_chat(license, chat.clone())?;
            let push = wire::ChatPropertiesUpdated::new(p.chat_id, p.properties);
            to_customer(fx, license, &chat, Push::ChatPropertiesUpdated(push.clone()));
            to_agents(cx, fx, license, &chat, agent::Push::ChatPropertiesUpdated(push), true);
            Ok(ResponseData::UpdateChatProperties)
        }
        Request::UpdateChatThreadProperties(p) => {
            check_properties("properties", &p.properties)?;
            no_routing_namespace("properties", &p.properties)?;
            let chat = visible_chat(cx, caller, &p.chat_id)?;
            allowed(caller, &action, chat.agents.contains(&me))?;
            let mut t = cx
                .store
                .thread(license, &chat.id, &p.thread_id)?
                .ok_or_else(|| validation(format!("`thread_id`: no thread `{}` in this chat", p.thread_id)))?;
            quota::check_properties(&cx.policy.quotas, "properties", Some(&t.properties), &p.properties)?;
            t.properties.merge(&p.properties);
            cx.store.put_thread(license, &chat.id, t)?;
            let push = wire::ChatThreadPropertiesUpdated::new(p.chat_id, p.thread_id, p.properties);
            to_customer(fx, license, &chat, Push::ChatThreadPropertiesUpdated(push.clone()));
            to_agents(cx, fx, license, &chat, agent::Push::ChatThreadPropertiesUpdated(push), true);
            Ok(ResponseData::UpdateChatThreadProperties)
        }
        Request::UpdateLastSeenTimestamp(p) => {
            let mut chat = visible_chat(cx, caller, &p.chat_id)?;
            let member = chat.agents.contains(&me);
            allowed(caller, &action, member)?;
            let wanted = p.timestamp.map_or(cx.now, Timestamp::as_secs);
            let stored = chat.last_seen.get(&me).map_or(0, |t| t.as_secs());
            let ts = Timestamp::from_secs(wanted.min(cx.now).max(stored));
            chat.last_seen.insert(me.clone(), ts);
            cx.store.put_chat(license, chat.clone())?;
            let push = wire::LastSeenTimestampUpdated::new(me.clone(), p.chat_id, ts);
            if member {
                to_customer(fx, license, &chat, Push::LastSeenTimestampUpdated(push.clone()));
            }
            to_agents(cx, fx, license, &chat, agent::Push::LastSeenTimestampUpdated(push), true);
            Ok(ResponseData::UpdateLastSeenTimestamp(wire::UpdateLastSeenTimestampResponse::new(ts)))
        }
        Request::UpdateAgent(p) => {
            let target = p.agent_id.map_or_else(|| caller.agent.clone(), |a| a.as_str().to_lowercase());
            let need: &[Scope] = if target == caller.agent {
                &[Scope::AgentsMyWrite, Scope::AgentsAllWrite]
            } else {
                &[Scope::AgentsAllWrite]
            };
            if !caller.scopes.allows(need, true) {
                return Err(authorization("updating another agent needs agents--all:write"));
            }
            if cx.agents.directory.get(license, &target).is_none() {
                return Err(validation(format!("`agent_id`: no agent `{target}` on this license")));
            }
            if let Some(status) = p.routing_status {
                let status = match status {
                    wire::RoutingStatus::AcceptingChats => RoutingStatus::AcceptingChats,
                    wire::RoutingStatus::NotAcceptingChats => RoutingStatus::NotAcceptingChats,
                    other => return Err(validation(format!("`routing_status`: `{other}` cannot be set"))),
                };
                let change = cx.agents.presence_mut(license, &target).set_status(status);
                let who = AgentCaller { agent: target, ..caller.clone() };
                status_changed(&who, change, fx);
                route_queue(cx, license, fx)?;
            }
            Ok(ResponseData::UpdateAgent)
        }
        Request::ChangePushNotifications(_) => Ok(ResponseData::ChangePushNotifications),
        Request::GetArchives(p) => {
            allowed(caller, &action, false)?;
            Ok(ResponseData::GetArchives(archives::get_archives(cx, caller, &p)?))
        }
        Request::SendRichMessagePostback(p) => {
            postback::send_rich_message_postback(cx, caller, &p, fx)?;
            Ok(ResponseData::SendRichMessagePostback)
        }
        Request::Multicast(p) => {
            multicast::multicast(cx, caller, &p, fx)?;
            Ok(ResponseData::Multicast)
        }
        Request::BanCustomer(p) => {
            ban::ban_customer(cx, caller, &p, fx)?;
            Ok(ResponseData::BanCustomer)
        }
        Request::AddAutoChatScopes(p) => Ok(ResponseData::AddAutoChatScopes(auto_scopes::add(cx, caller, p)?)),
        Request::RemoveAutoChatScopes(p) => {
            auto_scopes::remove(cx, caller, &p)?;
            Ok(ResponseData::RemoveAutoChatScopes)
        }
        Request::GetAutoChatScopesConfig => Ok(ResponseData::GetAutoChatScopesConfig(auto_scopes::get(cx, caller)?)),
        Request::UploadImage(_) => Err(validation("`upload_image` is a multipart Web API call")),
        Request::Login(_) => Err(validation("already handled")),
        Request::Unknown { action, .. } => Err(validation(format!("unknown action `{action}`"))),
        // `Request` is non-exhaustive: an action a newer chatio-wire knows.
        other => Err(validation(format!("`{}` is not served by this server", other.action()))),
    }
}

/// `start_chat` (§5.5, H16): an agent-only chat, no routing; the requester is its only user.
fn start_chat(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: wire::StartChat,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let license = caller.license;
    let me = caller.user_id();
    let events = p.chat.thread.as_ref().map(|t| t.events.clone()).unwrap_or_default();
    for (i, e) in events.iter().enumerate() {
        check_agent_event(&format!("chat.thread.events[{i}]"), e)?;
    }
    if let Some(props) = &p.chat.properties {
        check_properties("chat.properties", props)?;
        no_routing_namespace("chat.properties", props)?;
    }
    let thread_props = p.chat.thread.as_ref().and_then(|t| t.properties.clone()).unwrap_or_default();
    check_properties("chat.thread.properties", &thread_props)?;
    let quotas = &cx.policy.quotas;
    if let Some(props) = &p.chat.properties {
        quota::check_properties(quotas, "chat.properties", None, props)?;
    }
    quota::check_properties(quotas, "chat.thread.properties", None, &thread_props)?;
    for (i, e) in events.iter().enumerate() {
        quota::check_event_properties(quotas, &format!("chat.thread.events[{i}]"), e)?;
    }
    quota::check_new_chat_events(quotas, &events)?;
    let chat_id = ChatId::new(cx.store.ids().short());
    let thread_id = ThreadId::new(cx.store.ids().short());
    let activity_seq = cx.store.ids().next_activity();
    let mut chat = ChatRec {
        id: chat_id.clone(),
        customer: UserId::new(""),
        agents: vec![me.clone()],
        properties: p.chat.properties.unwrap_or_default(),
        scopes: p.chat.scopes.and_then(|s| s.groups).unwrap_or_default().into_iter().collect(),
        next_event_order: 1,
        last_activity: cx.now,
        activity_seq,
        last_seen: Default::default(),
        held: Default::default(),
    };
    let thread = ThreadRec {
        id: thread_id,
        active: true,
        order: 1,
        user_ids: vec![me.clone()],
        properties: thread_props,
        last_activity: cx.now,
        events: 0,
    };
    cx.store.put_chat(license, chat.clone())?;
    cx.store.put_thread(license, &chat_id, thread)?;
    for e in events {
        stamp_agent_event(cx, license, &mut chat, &me, e)?;
    }
    cx.store.put_chat(license, chat.clone())?;
    let wire_chat = view::chat_with_thread(cx, license, &chat)?;
    let push = agent::Push::IncomingChatThread(wire::IncomingChatThread::new(wire_chat.clone()));
    to_agents(cx, fx, license, &chat, push, true);
    Ok(ResponseData::StartChat(wire::StartChatResponse::new(wire_chat)))
}

/// `send_event` (§5.8, H12, H14, H15): a member's event; opens a thread when none is active
/// (never routed); whispers reach agents only.
fn send_event(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: wire::SendEvent,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let license = caller.license;
    let me = caller.user_id();
    let mut p = p;
    match &mut p.event.kind {
        EventKind::File(f) => uploaded_image("event", cx, license, f)?,
        _ => check_agent_event("event", &p.event)?,
    }
    let mut chat = visible_chat(cx, caller, &p.chat_id)?;
    let member = chat.agents.contains(&me);
    allowed(caller, "send_event", member)?;
    if !member {
        return Err(authorization("join the chat before writing to it (H12)"));
    }
    quota::check_event_properties(&cx.policy.quotas, "event", &p.event)?;
    quota::room(&cx.policy.quotas, &chat, quota::new_event_cost(&p.event))?;
    let is_annotation = matches!(p.event.kind, EventKind::Annotation(_));
    let last = cx.store.last_thread(license, &chat.id)?;
    // The scripted bot (a bot without owner, H37) answers in the thread it was asked in: its
    // answer arriving after the customer closed it opens no new thread.
    let scripted =
        cx.agents.directory.get(license, &caller.agent).and_then(|a| a.bot.as_ref()).is_some_and(|b| b.owner.is_none());
    if scripted && !last.as_ref().is_some_and(|t| t.active) {
        return Err(validation("the chat has no active thread (the scripted bot opens none)"));
    }
    let opened = match (&last, is_annotation) {
        (Some(t), _) if t.active => false,
        (Some(_), true) => false,
        (None, true) => return Err(validation("an annotation needs a thread: the chat has none")),
        (_, false) => {
            let order = last.as_ref().map_or(1, |t| t.order + 1);
            let mut user_ids = vec![me.clone()];
            if has_customer(&chat) {
                user_ids.insert(0, chat.customer.clone());
            }
            let thread = ThreadRec {
                id: ThreadId::new(cx.store.ids().short()),
                active: true,
                order,
                user_ids,
                properties: Properties::new(),
                last_activity: cx.now,
                events: 0,
            };
            cx.store.put_thread(license, &chat.id, thread)?;
            true
        }
    };
    let (thread_id, ev) =
        stamp_agent_event(cx, license, &mut chat, &me, p.event)?.ok_or_else(|| validation("the chat has no thread"))?;
    cx.store.put_chat(license, chat.clone())?;
    let whisper = ev.recipients == Some(Recipients::Agents);
    if opened {
        if !whisper {
            let present = cx.presence.contains(&(license, chat.customer.clone()));
            let c = super::views::chat_with_thread(cx.store, license, &chat, present)?;
            to_customer(fx, license, &chat, Push::IncomingChatThread(wire::IncomingChatThread::new(c)));
        }
        let c = view::chat_with_thread(cx, license, &chat)?;
        to_agents(cx, fx, license, &chat, agent::Push::IncomingChatThread(wire::IncomingChatThread::new(c)), true);
    } else {
        if !whisper {
            let mut customer_ev = ev.clone();
            customer_ev.recipients = None;
            let push = wire::IncomingEvent::new(chat.id.clone(), thread_id.clone(), customer_ev);
            to_customer(fx, license, &chat, Push::IncomingEvent(push));
        }
        let push = wire::IncomingEvent::new(chat.id.clone(), thread_id.clone(), view::event(&ev));
        to_agents(cx, fx, license, &chat, agent::Push::IncomingEvent(push), true);
    }
    Ok(ResponseData::SendEvent(wire::SendEventResponse::new(thread_id, view::event(&ev))))
}

/// Agents cannot write the router's namespace (H31).
fn no_routing_namespace(field: &str, p: &Properties) -> Result<(), ErrorObject> {
    match p.iter().find(|(ns, _, _)| *ns == "routing") {
        Some((ns, name, _)) => {
            Err(authorization(format!("`{field}.{ns}.{name}`: the `routing` namespace is the router's")))
        }
        None => Ok(()),
    }
}

/// The event types an agent may send besides `file` (H15 as amended: `system_message` too,
/// as the reference's `start_chat` sample does; a `file` goes through `uploaded_image`).
fn check_agent_event(field: &str, e: &wire::NewEvent) -> Result<(), ErrorObject> {
    match &e.kind {
        EventKind::SystemMessage(m) => {
            check_text(&format!("{field}.text"), &m.text)?;
            if m.system_message_type.as_deref().is_none_or(str::is_empty) {
                return Err(validation(format!("`{field}.system_message_type` is required")));
            }
            Ok(())
        }
        _ => check_new_event(field, e),
    }
}

/// An agent's `file` event (H15 as amended): it names an image uploaded with `upload_image`
/// on this license; its content type, size and dimensions become the stored file's.
fn uploaded_image(
    field: &str,
    cx: &mut Ctx<'_>,
    license: u64,
    f: &mut wire::FileAttachment,
) -> Result<(), ErrorObject> {
    let refused = || validation(format!("`{field}.url`: a file event names an image uploaded with upload_image"));
    let at = f.url.find("/api/file/chatio/img/").ok_or_else(refused)?;
    let key = f.url[at..].to_owned();
    if !key.starts_with(&format!("/api/file/chatio/img/{license}/")) {
        return Err(refused());
    }
    let stored = cx.store.file(&key)?.ok_or_else(refused)?;
    check_text(&format!("{field}.name"), &f.name)?;
    f.content_type = stored.content_type;
    f.size = stored.bytes.len() as u64;
    let dims = crate::files::image_size(&stored.bytes);
    f.width = dims.map(|d| d.0);
    f.height = dims.map(|d| d.1);
    Ok(())
}

/// Stores an agent's event in the chat's last thread (the caller made sure it is the right
/// one); a system message has no author. `None` when the chat has no thread.
fn stamp_agent_event(
    cx: &mut Ctx<'_>,
    license: u64,
    chat: &mut ChatRec,
    me: &UserId,
    e: wire::NewEvent,
) -> store::Result<Option<(ThreadId, wire::Event)>> {
    let author = (!matches!(e.kind, EventKind::SystemMessage(_))).then_some(me);
    let Some((thread, mut ev)) = add_agent_event(cx.store, &cx.policy.quotas, license, chat, author, e.kind, cx.now)?
    else {
        return Ok(None);
    };
    let counted = quota::event_cost(&ev);
    ev.custom_id = e.custom_id;
    ev.properties = e.properties;
    ev.recipients = e.recipients.filter(|r| *r == Recipients::Agents);
    chat.held.bytes = chat.held.bytes.saturating_add(quota::event_cost(&ev).saturating_sub(counted));
    cx.store.put_event(license, &chat.id, &thread, ev.clone())?;
    crate::actions::file_refs::refer(cx.store, license, &ev)?;
    Ok(Some((thread, ev)))
}

/// Adds an agent to a chat: `chat_users_updated` both sides, then, for a `join_chat`,
/// `agent_joined` when a thread is active (H17; routing says `routing.assigned` instead).
/// Members are skipped.
fn add_member(
    cx: &mut Ctx<'_>,
    license: u64,
    chat_id: &ChatId,
    agent_id: &UserId,
    by_request: bool,
    fx: &mut Effects,
) -> store::Result<()> {
    let Some(mut chat) = cx.store.chat(license, chat_id)? else { return Ok(()) };
    if chat.agents.contains(agent_id) {
        return Ok(());
    }
    chat.agents.push(agent_id.clone());
    cx.store.put_chat(license, chat.clone())?;
    let active = match cx.store.last_thread(license, chat_id)? {
        Some(mut t) if t.active => {
            t.add_user(agent_id);
            cx.store.put_thread(license, chat_id, t)?;
            true
        }
        _ => false,
    };
    let record = cx.store.agent(agent_id)?;
    // As the scripted bot always announced itself: the user without its last-seen time.
    let mut added = super::views::agent_user(record.as_ref(), agent_id, None);
    added.present = Some(true);
    let push = wire::ChatUsersUpdated::new(chat_id.clone(), wire::UpdatedUsers::new(vec![added], Vec::new()));
    to_customer(fx, license, &chat, Push::ChatUsersUpdated(push));
    let agent_view = view::agent_user(cx.store, cx.agents, license, agent_id, Some(&chat))?;
    let push = agent::ChatUsersUpdated::new(chat_id.clone(), agent::UpdatedUsers::agents_added(vec![agent_view]));
    to_agents(cx, fx, license, &chat, agent::Push::ChatUsersUpdated(push), by_request);
    if active && by_request {
        let name = record.map(|r| r.name).unwrap_or_default();
        system_message(cx, license, chat_id, format!("{name} joined the chat"), "agent_joined", fx)?;
    }
    Ok(())
}

/// Removes an agent from a chat: `chat_users_updated` both sides, then, for a
/// `remove_from_chat`, `agent_left` when a thread is active (H17; the grace period's removal
/// is silent, H33).
fn remove_member(
    cx: &mut Ctx<'_>,
    license: u64,
    chat_id: &ChatId,
    agent_id: &UserId,
    by_request: bool,
    fx: &mut Effects,
) -> store::Result<()> {
    let Some(mut chat) = cx.store.chat(license, chat_id)? else { return Ok(()) };
    if !chat.agents.contains(agent_id) {
        return Ok(());
    }
    // The audience before the removal: the leaving agent hears it too.
    let before = chat.clone();
    chat.agents.retain(|a| a != agent_id);
    cx.store.put_chat(license, chat)?;
    let push =
        wire::ChatUsersUpdated::new(chat_id.clone(), wire::UpdatedUsers::new(Vec::new(), vec![agent_id.clone()]));
    to_customer(fx, license, &before, Push::ChatUsersUpdated(push));
    let push =
        agent::ChatUsersUpdated::new(chat_id.clone(), agent::UpdatedUsers::agents_removed(vec![agent_id.clone()]));
    to_agents(cx, fx, license, &before, agent::Push::ChatUsersUpdated(push), by_request);
    if by_request && cx.store.last_thread(license, chat_id)?.is_some_and(|t| t.active) {
        let name = cx.store.agent(agent_id)?.map(|r| r.name).unwrap_or_default();
        system_message(cx, license, chat_id, format!("{name} left the chat"), "agent_left", fx)?;
    }
    Ok(())
}

/// A system message from the server in the chat's last thread, to both sides.
fn system_message(
    cx: &mut Ctx<'_>,
    license: u64,
    chat_id: &ChatId,
    text: String,
    kind: &str,
    fx: &mut Effects,
) -> store::Result<()> {
    let Some(mut chat) = cx.store.chat(license, chat_id)? else { return Ok(()) };
    let kind = EventKind::SystemMessage(wire::SystemMessage::new(text, kind));
    let Some((thread, ev)) = add_agent_event(cx.store, &cx.policy.quotas, license, &mut chat, None, kind, cx.now)?
    else {
        return Ok(());
    };
    cx.store.put_chat(license, chat.clone())?;
    let push = wire::IncomingEvent::new(chat_id.clone(), thread.clone(), ev.clone());
    to_customer(fx, license, &chat, Push::IncomingEvent(push));
    let push = wire::IncomingEvent::new(chat_id.clone(), thread, view::event(&ev));
    to_agents(cx, fx, license, &chat, agent::Push::IncomingEvent(push), false);
    Ok(())
}

/// `agent_updated` to every agent of the license when a status others see changed (H21).
fn status_changed(who: &AgentCaller, change: Change, fx: &mut Effects) {
    if let Change::Status(status) = change {
        let push = agent::Push::AgentUpdated(agent::AgentUpdated::new(who.agent.clone(), view::routing_status(status)));
        fx.agent_deliveries.push(AgentDelivery {
            license: who.license,
            to: AgentTarget::License,
            push,
            caused_by_request: false,
        });
    }
}

/// The customer's unsent draft to the agents who see the chat (§6 `incoming_sneak_peek`),
/// while a thread is active.
pub(crate) fn sneak_peek(
    cx: &mut Ctx<'_>,
    caller: &super::Caller,
    p: &wire::SendSneakPeek,
    fx: &mut Effects,
) -> store::Result<()> {
    let Some(chat) = cx.store.chat(caller.license, &p.chat_id)? else { return Ok(()) };
    if chat.customer != caller.customer || !cx.store.last_thread(caller.license, &chat.id)?.is_some_and(|t| t.active) {
        return Ok(());
    }
    let mut peek =
        wire::SneakPeek::new(caller.customer.clone(), Timestamp::from_secs(cx.now), p.sneak_peek_text.clone());
    peek.recipients = Some(Recipients::Agents);
    let push = agent::Push::IncomingSneakPeek(agent::IncomingSneakPeek::new(p.chat_id.clone(), peek));
    to_agents(cx, fx, caller.license, &chat, push, false);
    Ok(())
}

/// The agent's grace period is over (H33): offline (`agent_updated`), out of every chat
/// with an active thread (`chat_users_updated`, no `agent_left`), and those chats are routed
/// again.
pub(crate) fn went_offline(cx: &mut Ctx<'_>, who: &AgentCaller) -> Result<Effects, ErrorObject> {
    let mut fx = Effects::default();
    let license = who.license;
    let change = cx.agents.presence_mut(license, &who.agent).go_offline();
    status_changed(who, change, &mut fx);
    let me = who.user_id();
    let mut left = Vec::new();
    for c in cx.store.license_chats(license, 0, MAX_SCANNED_CHATS)? {
        if c.agents.contains(&me) && cx.store.last_thread(license, &c.id)?.is_some_and(|t| t.active) {
            remove_member(cx, license, &c.id, &me, false, &mut fx)?;
            left.push(c.id);
        }
    }
    route(cx, license, &left, &mut fx)?;
    Ok(fx)
}

/// The routing pool of a license now (H30): its agents (not bots) with their load.
fn pool(cx: &mut Ctx<'_>, license: u64) -> store::Result<Pool> {
    let accounts: Vec<_> = cx.agents.directory.agents(license).filter(|a| !a.is_bot()).cloned().collect();
    let mut agents = Vec::with_capacity(accounts.len());
    for a in accounts {
        let presence = cx.agents.presence_of(license, &a.id);
        let available = presence.accepting() && presence.connections() > 0;
        let last_assigned = cx.agents.last_assigned.get(&license).and_then(|m| m.get(&a.id)).copied().unwrap_or(0);
        agents.push(Candidate {
            active_chats: if available { cx.store.agent_load(license, &UserId::new(a.id.clone()))? } else { 0 },
            id: a.id,
            available,
            groups: a.groups,
            max_chats: a.max_chats,
            last_assigned,
        });
    }
    Ok(Pool { agents })
}

/// Routes the chats the request's triggers say need an agent (a customer started a chat or
/// opened a thread).
pub(crate) fn route_triggers(cx: &mut Ctx<'_>, license: u64, fx: &mut Effects) -> store::Result<()> {
    let chats: Vec<ChatId> = fx.triggers.iter().map(|Trigger::NeedsAgent { chat }| chat.clone()).collect();
    for chat in &chats {
        auto_scopes::apply(cx, license, chat, fx)?;
    }
    route(cx, license, &chats, fx)
}

/// Routes chats that need an agent (H30): each to the best available agent, else to the
/// license's queue with `routing.unassigned`. A chat with a logged-in member agent keeps it.
/// Silent while the license has no routable agent (H37: the scripted agent serves it).
fn route(cx: &mut Ctx<'_>, license: u64, chats: &[ChatId], fx: &mut Effects) -> store::Result<()> {
    if !cx.agents.directory.has_routable(license) {
        return Ok(());
    }
    for chat_id in chats {
        let Some(c) = cx.store.chat(license, chat_id)? else { continue };
        if !has_customer(&c) || !cx.store.last_thread(license, chat_id)?.is_some_and(|t| t.active) {
            continue;
        }
        if c.agents.iter().any(|a| cx.agents.presence_of(license, a.as_str()).connections() > 0) {
            continue;
        }
        let members: Vec<String> = c.agents.iter().map(|a| a.as_str().to_owned()).collect();
        let choice = pool(cx, license)?.choose(&c.scopes, &members).map(str::to_owned);
        match choice {
            Some(agent) => assign(cx, license, chat_id, &agent, fx)?,
            None => unassigned(cx, license, chat_id, fx)?,
        }
    }
    Ok(())
}

/// Gives queued chats to agents who became available (H30).
fn route_queue(cx: &mut Ctx<'_>, license: u64, fx: &mut Effects) -> store::Result<()> {
    let Some(mut queue) = cx.agents.queues.remove(&license) else { return Ok(()) };
    let mut pool = pool(cx, license)?;
    let mut facts = std::collections::HashMap::new();
    for chat in queue.waiting() {
        let Some(c) = cx.store.chat(license, chat)? else { continue };
        if has_customer(&c) && cx.store.last_thread(license, chat)?.is_some_and(|t| t.active) {
            let members = c.agents.iter().map(|a| a.as_str().to_owned()).collect::<Vec<_>>();
            facts.insert(chat.clone(), (c.scopes.clone(), members));
        }
    }
    let mut seq = cx.agents.assign_seq;
    let placed = queue.drain(
        &mut pool,
        |chat| facts.get(chat).cloned(),
        || {
            seq += 1;
            seq
        },
    );
    cx.agents.assign_seq = seq;
    cx.agents.queues.insert(license, queue);
    for (chat, agent) in placed {
        assign(cx, license, &chat, &agent, fx)?;
    }
    Ok(())
}

fn set_routing_property(cx: &mut Ctx<'_>, license: u64, chat: &ChatRec, unassigned: bool, fx: &mut Effects) {
    let props = Properties::new().with("routing", "unassigned", unassigned);
    cx.agents.routing_props.entry((license, chat.id.clone())).or_default().merge(&props);
    let push = wire::ChatPropertiesUpdated::new(chat.id.clone(), props);
    to_agents(cx, fx, license, chat, agent::Push::ChatPropertiesUpdated(push), false);
}

fn assign(cx: &mut Ctx<'_>, license: u64, chat_id: &ChatId, agent: &str, fx: &mut Effects) -> store::Result<()> {
    let id = UserId::new(agent);
    add_member(cx, license, chat_id, &id, false, fx)?;
    let name = cx.store.agent(&id)?.map(|a| a.name).unwrap_or_default();
    system_message(cx, license, chat_id, format!("Chat assigned to {name}"), "routing.assigned", fx)?;
    if let Some(chat) = cx.store.chat(license, chat_id)? {
        set_routing_property(cx, license, &chat, false, fx);
    }
    cx.agents.assign_seq += 1;
    let seq = cx.agents.assign_seq;
    cx.agents.last_assigned.entry(license).or_default().insert(agent.to_owned(), seq);
    if let Some(q) = cx.agents.queues.get_mut(&license) {
        q.remove(chat_id);
    }
    Ok(())
}

fn unassigned(cx: &mut Ctx<'_>, license: u64, chat_id: &ChatId, fx: &mut Effects) -> store::Result<()> {
    let queue = cx.agents.queues.entry(license).or_default();
    if queue.contains(chat_id) {
        return Ok(());
    }
    queue.push(chat_id.clone());
    system_message(cx, license, chat_id, "Chat is unassigned".into(), "routing.unassigned", fx)?;
    if let Some(chat) = cx.store.chat(license, chat_id)? {
        set_routing_property(cx, license, &chat, true, fx);
    }
    Ok(())
}
