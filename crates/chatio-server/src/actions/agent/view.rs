//! The agent view of the stored data (protocol file §4, H29): events always carry
//! `recipients`, agents carry `email` and `routing_status`, customers `banned`, chats the
//! router's agents-only `routing` properties; and the mirror that turns what a customer's
//! request pushed to the customer into the agent pushes of the same changes.

use std::collections::BTreeSet;

use chatio_wire as wire;
use chatio_wire::agent;
use chatio_wire::{ChatId, Event, Push, Recipients, UserId};

use super::super::{AgentDelivery, AgentTarget, Ctx, Effects, views};
use crate::agents::AgentData;
use crate::agents::access::ChatFacts;
use crate::agents::routing::RoutingStatus;
use crate::agents::scopes::ScopeSet;
use crate::store::{self, ChatRec, Store, ThreadRec};

/// Who sees a chat's agent pushes (H13): its member agents, the owners of its member bots
/// (H34), and agents whose token reads every chat and whom its scopes let in.
#[derive(Clone, Debug)]
pub(crate) struct Audience {
    members: Vec<String>,
    groups: BTreeSet<u64>,
    enforced: bool,
}

impl Audience {
    /// The audience of `chat` on `license`.
    pub(crate) fn of(agents: &AgentData, license: u64, chat: &ChatRec) -> Audience {
        let mut members: Vec<String> = chat.agents.iter().map(|a| a.as_str().to_owned()).collect();
        let owners: Vec<String> = chat
            .agents
            .iter()
            .filter_map(|a| agents.directory.get(license, a.as_str())?.bot.as_ref()?.owner.clone())
            .collect();
        members.extend(owners);
        Audience { members, groups: chat.scopes.clone(), enforced: agents.directory.scopes_enforced(license) }
    }

    /// Whether an agent connection (its agent, groups and token scopes) sees the chat.
    pub(crate) fn admits(&self, agent: &str, groups: &[u64], scopes: ScopeSet) -> bool {
        let facts = ChatFacts { members: &self.members, groups: &self.groups, scopes_enforced: self.enforced };
        facts.visible(agent, groups, scopes)
    }
}

/// Whether a customer is in the chat: a chat an agent started has none (its `customer` is
/// the empty id, and nothing is delivered to it).
pub(crate) fn has_customer(chat: &ChatRec) -> bool {
    !chat.customer.as_str().is_empty()
}

/// An event as agents see it: `recipients` always present (H29).
pub(crate) fn event(e: &Event) -> Event {
    let mut e = e.clone();
    e.recipients.get_or_insert(Recipients::All);
    e
}

/// A thread with its events as agents see them (whispers included).
pub(crate) fn thread(t: &ThreadRec, events: &[Event]) -> wire::Thread {
    views::thread(t, events.iter().map(event).collect())
}

/// The wire form of a routing status.
pub(crate) fn routing_status(s: RoutingStatus) -> wire::RoutingStatus {
    match s {
        RoutingStatus::AcceptingChats => wire::RoutingStatus::AcceptingChats,
        RoutingStatus::NotAcceptingChats => wire::RoutingStatus::NotAcceptingChats,
        RoutingStatus::Offline => wire::RoutingStatus::Offline,
    }
}

/// An agent as agents see it: with `email` and, while it is logged in, `routing_status`.
pub(crate) fn agent_user(
    store: &mut dyn Store,
    agents: &AgentData,
    license: u64,
    id: &UserId,
    chat: Option<&ChatRec>,
) -> store::Result<wire::User> {
    let record = store.agent(id)?;
    let mut u = views::agent_user(record.as_ref(), id, chat);
    if let Some(a) = agents.directory.get(license, id.as_str()) {
        u.email = Some(a.id.clone());
        let status = agents.presence_of(license, &a.id).visible();
        if status != RoutingStatus::Offline {
            u.routing_status = Some(routing_status(status));
        }
    }
    Ok(u)
}

/// What only agents see of a customer: `banned`, and `monitoring` (its visits, H28).
fn agent_side(cx: &mut Ctx<'_>, license: u64, customer: &UserId, u: &mut wire::User) -> store::Result<()> {
    let record = cx.store.customer(license, customer)?;
    u.banned = Some(record.as_ref().is_some_and(|c| c.banned_at(cx.now)));
    u.monitoring = record.and_then(|c| c.visits.monitoring()).map(Box::new);
    Ok(())
}

/// The chat's users as agents see them: the customer (with `banned` and `monitoring`), then
/// its agents.
pub(crate) fn users(cx: &mut Ctx<'_>, license: u64, chat: &ChatRec) -> store::Result<Vec<wire::User>> {
    let mut users = Vec::new();
    if has_customer(chat) {
        let present = cx.presence.contains(&(license, chat.customer.clone()));
        let mut u = views::customer_user(cx.store, license, &chat.customer, Some(chat), present)?;
        agent_side(cx, license, &chat.customer, &mut u)?;
        users.push(u);
    }
    for a in &chat.agents {
        users.push(agent_user(cx.store, cx.agents, license, a, Some(chat))?);
    }
    Ok(users)
}

/// The chat's properties as agents see them: with the router's `routing` namespace (H31).
pub(crate) fn properties(agents: &AgentData, license: u64, chat: &ChatRec) -> wire::Properties {
    let mut p = chat.properties.clone();
    if let Some(r) = agents.routing_props.get(&(license, chat.id.clone())) {
        p.merge(r);
    }
    p
}

/// The chat with its last thread (`incoming_chat_thread`, `start_chat`).
pub(crate) fn chat_with_thread(cx: &mut Ctx<'_>, license: u64, chat: &ChatRec) -> store::Result<wire::Chat> {
    let mut c = wire::Chat::new(chat.id.clone());
    c.users = users(cx, license, chat)?;
    c.properties = Some(properties(cx.agents, license, chat));
    c.scopes = Some(chat.scopes_wire());
    c.thread = match cx.store.last_thread(license, &chat.id)? {
        Some(t) => {
            let events = cx.store.events(license, &chat.id, &t.id)?;
            Some(thread(&t, &events))
        }
        None => None,
    };
    Ok(c)
}

/// A chat summary (`login`, `get_filtered_chats`; §4.10, H23). `last_event_per_type` comes
/// from the store's per-type index, which leaves whispers out.
pub(crate) fn summary(cx: &mut Ctx<'_>, license: u64, chat: &ChatRec) -> store::Result<agent::ChatSummary> {
    let mut s = agent::ChatSummary::new(chat.id.clone());
    s.users = users(cx, license, chat)?;
    s.properties = Some(properties(cx.agents, license, chat));
    s.scopes = Some(chat.scopes_wire());
    let last = cx
        .store
        .last_events(license, &chat.id)?
        .into_iter()
        .map(|l| (l.event.event_type().to_owned(), wire::LastEvent::new(l.thread, l.thread_order, event(&l.event))))
        .collect();
    s.last_event_per_type = Some(last);
    s.last_thread_summary = cx.store.last_thread(license, &chat.id)?.map(|t| {
        let mut l = agent::LastThreadSummary::new(t.id.clone(), t.order);
        l.user_ids = t.user_ids.clone();
        l.properties = Some(t.properties.clone());
        l.active = Some(t.active);
        l
    });
    Ok(s)
}

/// Pushes for the chat's agent audience.
pub(crate) fn to_agents(
    cx: &Ctx<'_>,
    fx: &mut Effects,
    license: u64,
    chat: &ChatRec,
    push: agent::Push,
    by_request: bool,
) {
    let to = AgentTarget::Chat(Audience::of(cx.agents, license, chat));
    fx.agent_deliveries.push(AgentDelivery { license, to, push, caused_by_request: by_request });
}

/// The agent pushes of what a customer's request pushed to the customer: each chat push
/// goes to the chat's audience in the agent shape. Pushes bound to no chat (multicast,
/// disconnection) are not mirrored, nor pushes of a license where no agent has a logged-in
/// connection (nobody would receive them: the chat is not read again, nothing is copied).
pub(crate) fn mirror(cx: &mut Ctx<'_>, fx: &mut Effects) -> store::Result<()> {
    let mut mirrored = Vec::new();
    for d in &fx.deliveries {
        let license = d.license;
        if !cx.agents.anyone_connected(license) {
            continue;
        }
        let Some(chat_id) = chat_of(&d.push) else { continue };
        let Some(chat) = cx.store.chat(license, chat_id)? else { continue };
        let push = match &d.push {
            Push::IncomingChatThread(_) => {
                agent::Push::IncomingChatThread(wire::IncomingChatThread::new(chat_with_thread(cx, license, &chat)?))
            }
            Push::IncomingEvent(p) => {
                let mut p = p.clone();
                p.event = event(&p.event);
                agent::Push::IncomingEvent(p)
            }
            Push::IncomingRichMessagePostback(p) => agent::Push::IncomingRichMessagePostback(p.clone()),
            Push::ThreadClosed(p) => agent::Push::ThreadClosed(p.clone()),
            Push::ChatScopesUpdated(p) => agent::Push::ChatScopesUpdated(p.clone()),
            Push::ChatPropertiesUpdated(p) => agent::Push::ChatPropertiesUpdated(p.clone()),
            Push::ChatThreadPropertiesUpdated(p) => agent::Push::ChatThreadPropertiesUpdated(p.clone()),
            Push::LastSeenTimestampUpdated(p) => agent::Push::LastSeenTimestampUpdated(p.clone()),
            Push::IncomingTypingIndicator(p) => agent::Push::IncomingTypingIndicator(p.clone()),
            Push::CustomerUpdated(p) => {
                let mut p = p.clone();
                agent_side(cx, license, &chat.customer, &mut p.customer)?;
                agent::Push::CustomerUpdated(p)
            }
            Push::ChatUsersUpdated(p) => {
                let mut added = Vec::new();
                for u in &p.updated_users.added {
                    added.push(agent_user(cx.store, cx.agents, license, &u.id, Some(&chat))?);
                }
                let mut users = agent::UpdatedUsers::agents_added(added);
                users.agents.removed_ids = p.updated_users.removed_ids.clone();
                agent::Push::ChatUsersUpdated(agent::ChatUsersUpdated::new(chat_id.clone(), users))
            }
            _ => continue,
        };
        let to = AgentTarget::Chat(Audience::of(cx.agents, license, &chat));
        mirrored.push(AgentDelivery { license, to, push, caused_by_request: false });
    }
    fx.agent_deliveries.append(&mut mirrored);
    Ok(())
}

/// The chat a customer push is about.
fn chat_of(push: &Push) -> Option<&ChatId> {
    Some(match push {
        Push::IncomingChatThread(p) => &p.chat.id,
        Push::IncomingEvent(p) => &p.chat_id,
        Push::IncomingRichMessagePostback(p) => &p.chat_id,
        Push::ThreadClosed(p) => &p.chat_id,
        Push::ChatScopesUpdated(p) => &p.chat_id,
        Push::ChatPropertiesUpdated(p) => &p.chat_id,
        Push::ChatThreadPropertiesUpdated(p) => &p.chat_id,
        Push::LastSeenTimestampUpdated(p) => &p.chat_id,
        Push::IncomingTypingIndicator(p) => &p.chat_id,
        Push::CustomerUpdated(p) => &p.chat_id,
        Push::ChatUsersUpdated(p) => &p.chat_id,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::{Delivery, Policy, Presence};
    use crate::store::{ChatStore, MemoryStore};
    use chatio_wire::{EventKind, Message, Timestamp};

    #[test]
    fn customer_pushes_are_mirrored_only_while_an_agent_of_the_license_is_connected() {
        let mut store = MemoryStore::new(1);
        let chat = ChatRec {
            id: ChatId::new("C"),
            customer: UserId::new("c"),
            agents: Vec::new(),
            properties: wire::Properties::new(),
            scopes: BTreeSet::new(),
            next_event_order: 1,
            last_activity: 0,
            activity_seq: 0,
            last_seen: Default::default(),
            held: Default::default(),
        };
        store.put_chat(100, chat).unwrap();
        let ev = Event::new("T_1", 0, Timestamp::from_secs(0), EventKind::Message(Message::new("hi")));
        let delivery = Delivery {
            license: 100,
            customer: UserId::new("c"),
            push: Push::IncomingEvent(wire::IncomingEvent::new(ChatId::new("C"), wire::ThreadId::new("T"), ev)),
            caused_by_request: true,
            event_json: None,
        };
        let (presence, mut policy, mut agents) = (Presence::default(), Policy::default(), AgentData::default());
        let mut mirrored = |agents: &mut AgentData| {
            let mut cx = Ctx { store: &mut store, presence: &presence, policy: &mut policy, agents, now: 0 };
            let mut fx = Effects { deliveries: vec![delivery.clone()], ..Effects::default() };
            mirror(&mut cx, &mut fx).unwrap();
            fx.agent_deliveries.len()
        };
        assert_eq!(mirrored(&mut agents), 0, "nobody to hear it");
        agents.presence.entry((200, "a@x".into())).or_default().login(false);
        assert_eq!(mirrored(&mut agents), 0, "an agent of another license");
        agents.presence.entry((100, "a@x".into())).or_default().login(false);
        assert_eq!(mirrored(&mut agents), 1);
        agents.presence.entry((100, "a@x".into())).or_default().connection_closed(0);
        assert_eq!(mirrored(&mut agents), 0, "its connection closed");
    }
}
