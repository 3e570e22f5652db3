//! The wire objects customers see, built from the stored records on demand, always in the
//! reference form: users, threads, chats, chat summaries.

use std::collections::BTreeMap;

use chatio_wire as wire;
use chatio_wire::{Event, UserId};

use crate::store::{self, Agent, ChatRec, Store, ThreadRec};

/// The customer object as customers see it.
pub(super) fn customer_user(
    store: &mut dyn Store,
    license: u64,
    id: &UserId,
    chat: Option<&ChatRec>,
    present: bool,
) -> store::Result<wire::User> {
    let mut u = wire::User::customer(id.clone());
    match store.customer(license, id)? {
        Some(c) => {
            u.name = c.name;
            u.email = c.email;
            u.fields = Some(c.fields);
        }
        None => u.fields = Some(BTreeMap::new()),
    }
    u.present = Some(present);
    u.last_seen_timestamp = chat.and_then(|c| c.last_seen.get(id).copied());
    Ok(u)
}

/// An agent as customers see it (`agent` is its record, when it has one).
pub(crate) fn agent_user(agent: Option<&Agent>, id: &UserId, chat: Option<&ChatRec>) -> wire::User {
    let mut u = wire::User::agent(id.clone());
    if let Some(a) = agent {
        u.name = Some(a.name.clone());
        u.avatar = Some(a.avatar.clone());
    }
    u.present = Some(chat.is_none_or(|c| c.agents.contains(id)));
    u.last_seen_timestamp = chat.and_then(|c| c.last_seen.get(id).copied());
    u
}

/// The chat's users: the customer, then its agents.
pub(super) fn chat_users(
    store: &mut dyn Store,
    license: u64,
    chat: &ChatRec,
    customer_present: bool,
) -> store::Result<Vec<wire::User>> {
    let mut users = vec![customer_user(store, license, &chat.customer, Some(chat), customer_present)?];
    for a in &chat.agents {
        let agent = store.agent(a)?;
        users.push(agent_user(agent.as_ref(), a, Some(chat)));
    }
    Ok(users)
}

/// A thread with its events.
pub(super) fn thread(t: &ThreadRec, events: Vec<Event>) -> wire::Thread {
    let mut w = wire::Thread::new(t.id.clone(), t.active, t.order);
    w.user_ids = t.user_ids.clone();
    w.events = events;
    w.properties = Some(t.properties.clone());
    w
}

/// The chat object with its last thread and that thread's events (`start_chat`,
/// `incoming_chat_thread`).
pub(super) fn chat_with_thread(
    store: &mut dyn Store,
    license: u64,
    chat: &ChatRec,
    present: bool,
) -> store::Result<wire::Chat> {
    let mut c = wire::Chat::new(chat.id.clone());
    c.users = chat_users(store, license, chat, present)?;
    c.properties = Some(chat.properties.clone());
    c.scopes = Some(chat.scopes_wire());
    c.thread = match store.last_thread(license, &chat.id)? {
        Some(t) => {
            let events = store.events(license, &chat.id, &t.id)?;
            Some(thread(&t, events))
        }
        None => None,
    };
    Ok(c)
}

/// A chat summary (`get_chats_summary` item).
pub(super) fn chat_summary(
    store: &mut dyn Store,
    license: u64,
    chat: &ChatRec,
    present: bool,
) -> store::Result<wire::ChatSummary> {
    let mut s = wire::ChatSummary::new(chat.id.clone(), chat.last_activity);
    s.users = chat_users(store, license, chat, present)?;
    s.properties = Some(chat.properties.clone());
    s.scopes = Some(chat.scopes_wire());
    let last = store
        .last_events(license, &chat.id)?
        .into_iter()
        .map(|l| (l.event.event_type().to_owned(), wire::LastEvent::new(l.thread, l.thread_order, l.event)))
        .collect();
    s.last_event_per_type = Some(last);
    Ok(s)
}
