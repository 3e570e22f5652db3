//! The actions of the Customer API v0.5: what each request does to the data.
//!
//! Pure: each call takes the store, the caller and the time (no I/O, no clock, no lock, no
//! task), and returns the response plus the pushes to deliver and the triggers the scripted
//! agent reacts to. The state layer (`crate::state`) takes the lock, calls an action, and
//! delivers what it returns through the hub. `checks.rs` holds the argument checks,
//! `auth.rs` the token check and `login`, `send_file.rs` the upload's event, `answer.rs` the
//! answer-size limit, `bot.rs` the scripted agent's steps.

use std::collections::HashSet;

use chatio_wire as wire;
use chatio_wire::{
    ChatId, ErrorObject, Event, EventKind, NewEvent, Properties, Push, Request, ResponseData, ThreadId, Timestamp,
    UserId,
};

use crate::store::{ChatRec, Customer, Store, ThreadRec};

mod answer;
mod auth;
pub(crate) mod bot;
mod checks;
mod send_file;

pub(crate) use answer::encode_response;
pub(crate) use auth::{authenticate, login};
use checks::{
    authorization, check_customer_data, check_event_rights, check_merged_fields, check_new_event, check_properties,
    check_rights, check_text, validation,
};
pub(crate) use send_file::{Upload, send_file};

/// Who is calling.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub(crate) license: u64,
    pub(crate) customer: UserId,
}

/// What the agent may react to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A chat or thread started and no agent is in the chat.
    NeedsAgent { chat: ChatId },
    /// The customer wrote a message.
    CustomerMessage { chat: ChatId, text: String },
}

/// Pushes for a customer's connections.
#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    pub(crate) license: u64,
    pub(crate) customer: UserId,
    pub(crate) push: Push,
    /// Whether the requester's connection gets its copy with `request_id`.
    pub(crate) caused_by_request: bool,
}

/// What a call did besides its response.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) deliveries: Vec<Delivery>,
    pub(crate) triggers: Vec<Trigger>,
}

impl Effects {
    /// A push to the chat's customer caused by the request being handled.
    fn push(&mut self, license: u64, customer: &UserId, push: Push) {
        self.deliveries.push(Delivery { license, customer: customer.clone(), push, caused_by_request: true });
    }
}

/// Customers with at least one logged-in RTM connection (G20).
pub(crate) type Presence = HashSet<(u64, UserId)>;

/// Makes a stored event from a customer's event.
fn stamp(chat: &mut ChatRec, thread: &ThreadId, author: &UserId, e: NewEvent, now: u64) -> Event {
    let order = chat.next_event_order;
    chat.next_event_order += 1;
    let n = chat.threads.iter().find(|t| &t.id == thread).map_or(0, |t| t.events.len()) + 1;
    let mut ev = Event::new(format!("{thread}_{n}"), order, Timestamp::from_secs(now), e.kind);
    ev.author_id = Some(author.clone());
    ev.custom_id = e.custom_id;
    ev.properties = e.properties;
    ev
}

/// Adds an event made by an agent or the server to the chat's last thread (the active one
/// when there is one). `None` when the chat has no thread.
pub(crate) fn add_agent_event(
    chat: &mut ChatRec,
    author: Option<&UserId>,
    kind: EventKind,
    now: u64,
) -> Option<(ThreadId, Event)> {
    let thread = chat.threads.last()?.id.clone();
    let order = chat.next_event_order;
    chat.next_event_order += 1;
    let t = chat.thread_mut(&thread)?;
    let mut ev = Event::new(format!("{}_{}", thread, t.events.len() + 1), order, Timestamp::from_secs(now), kind);
    ev.author_id = author.cloned();
    t.events.push(ev.clone());
    if let Some(a) = author {
        t.add_user(a);
    }
    t.last_activity = now;
    chat.touch(now);
    Some((thread, ev))
}

fn chat_of<'a>(store: &'a mut Store, caller: &Caller, chat: &ChatId) -> Result<&'a mut ChatRec, ErrorObject> {
    let lic = store.licenses.get_mut(&caller.license).ok_or_else(|| authorization("unknown license"))?;
    match lic.chats.get_mut(chat) {
        Some(c) if c.customer == caller.customer => Ok(c),
        // Another customer's chat and a missing one look the same (no probing of ids).
        _ => Err(authorization(format!("chat `{chat}` is not one of the customer's chats"))),
    }
}

fn chat_ref<'a>(store: &'a Store, caller: &Caller, chat: &ChatId) -> Result<&'a ChatRec, ErrorObject> {
    match store.licenses.get(&caller.license).and_then(|l| l.chats.get(chat)) {
        Some(c) if c.customer == caller.customer => Ok(c),
        _ => Err(authorization(format!("chat `{chat}` is not one of the customer's chats"))),
    }
}

fn present(presence: &Presence, license: u64, customer: &UserId) -> bool {
    presence.contains(&(license, customer.clone()))
}

/// Runs one request (every action except `login`, which the connection layer handles).
pub(crate) fn handle(
    store: &mut Store,
    presence: &Presence,
    caller: &Caller,
    request: Request,
    now: u64,
) -> (Result<ResponseData, ErrorObject>, Effects) {
    let mut fx = Effects::default();
    // A deliberate fault for conformance tests: times in milliseconds.
    let now = if store.policy.conformance_fault == Some(crate::config::ConformanceFault::TimestampsMs) {
        now.saturating_mul(1000)
    } else {
        now
    };
    let result = dispatch(store, presence, caller, request, now, &mut fx);
    if result.is_err() {
        fx = Effects::default();
    }
    conformance_drop_push(store, &mut fx);
    (result, fx)
}

/// A deliberate fault for conformance tests: the first `incoming_event` push a request
/// causes is not delivered.
fn conformance_drop_push(store: &mut Store, fx: &mut Effects) {
    if store.policy.conformance_fault != Some(crate::config::ConformanceFault::DropPush) || store.policy.push_dropped {
        return;
    }
    if let Some(i) = fx.deliveries.iter().position(|d| matches!(d.push, Push::IncomingEvent(_))) {
        fx.deliveries.remove(i);
        store.policy.push_dropped = true;
    }
}

fn dispatch(
    store: &mut Store,
    presence: &Presence,
    caller: &Caller,
    request: Request,
    now: u64,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let lic_id = caller.license;
    let pres = present(presence, lic_id, &caller.customer);
    match request {
        Request::Ping => Ok(ResponseData::Ping),
        Request::GetChatsSummary(p) => {
            let offset = p.offset.unwrap_or(0) as usize;
            let limit = p.limit.unwrap_or(wire::GetChatsSummary::DEFAULT_LIMIT);
            if limit == 0 {
                return Err(validation("`limit` must be at least 1"));
            }
            let limit = limit.min(wire::GetChatsSummary::MAX_LIMIT) as usize;
            let lic = store.licenses.get(&lic_id).ok_or_else(|| authorization("unknown license"))?;
            let mut chats: Vec<&ChatRec> =
                lic.chats_of.get(&caller.customer).into_iter().flatten().filter_map(|id| lic.chats.get(id)).collect();
            // Most recently active first (4.2 decision).
            chats.sort_by_key(|c| std::cmp::Reverse(c.activity_seq));
            let total = chats.len() as u64;
            let page =
                chats.into_iter().skip(offset).take(limit).map(|c| store.chat_summary(lic_id, c, pres)).collect();
            Ok(ResponseData::GetChatsSummary(wire::GetChatsSummaryResponse::new(page, total)))
        }
        Request::GetChatThreads(p) => {
            let chat = chat_ref(store, caller, &p.chat_id)?;
            let mut threads: Vec<wire::Thread> =
                chat.threads.iter().filter(|t| p.thread_ids.contains(&t.id)).map(ThreadRec::to_wire).collect();
            threads.sort_by_key(|t| t.order);
            for t in &mut threads {
                t.sort_events();
            }
            let mut c = wire::Chat::new(chat.id.clone());
            c.users = store.chat_users(lic_id, chat, pres);
            c.properties = Some(chat.properties.clone());
            c.scopes = Some(chat.scopes_wire());
            c.threads = Some(threads);
            Ok(ResponseData::GetChatThreads(wire::GetChatThreadsResponse::new(c)))
        }
        Request::GetChatThreadsSummary(p) => {
            let chat = chat_ref(store, caller, &p.chat_id)?;
            let limit = p.limit.unwrap_or(wire::GetChatThreadsSummary::DEFAULT_LIMIT);
            if limit == 0 {
                return Err(validation("`limit` must be at least 1"));
            }
            let limit = limit.min(wire::GetChatThreadsSummary::MAX_LIMIT) as usize;
            let offset = p.offset.unwrap_or(0) as usize;
            let total = chat.threads.len();
            // Offset counts from the newest thread (4.4).
            let end = total.saturating_sub(offset);
            let start = end.saturating_sub(limit);
            let page = chat
                .threads
                .get(start..end)
                .unwrap_or_default()
                .iter()
                .map(|t| wire::ThreadSummary::new(t.id.clone(), t.order, t.events.len() as u64))
                .collect();
            Ok(ResponseData::GetChatThreadsSummary(wire::GetChatThreadsSummaryResponse::new(page, total as u64)))
        }
        Request::StartChat(p) => {
            let events = p.chat.thread.as_ref().map(|t| t.events.clone()).unwrap_or_default();
            for (i, e) in events.iter().enumerate() {
                check_new_event(&format!("chat.thread.events[{i}]"), e)?;
            }
            if let Some(props) = &p.chat.properties {
                check_properties("chat.properties", props)?;
            }
            let thread_props = p.chat.thread.as_ref().and_then(|t| t.properties.clone()).unwrap_or_default();
            check_properties("chat.thread.properties", &thread_props)?;
            if let Some(props) = &p.chat.properties {
                check_rights(store, "chat.properties", props)?;
            }
            check_rights(store, "chat.thread.properties", &thread_props)?;
            for (i, e) in events.iter().enumerate() {
                check_event_rights(store, &format!("chat.thread.events[{i}]"), e)?;
            }
            if let Some(cap) = store.policy.max_chats_per_customer {
                let lic = store.licenses.get(&lic_id).ok_or_else(|| authorization("unknown license"))?;
                if lic.chats_of.get(&caller.customer).map_or(0, Vec::len) >= cap {
                    return Err(validation(format!("too many chats: a customer may start at most {cap}")));
                }
            }
            let chat_id = ChatId::new(store.ids.short());
            let thread_id = ThreadId::new(store.ids.short());
            let mut chat = ChatRec {
                id: chat_id.clone(),
                customer: caller.customer.clone(),
                agents: Vec::new(),
                properties: p.chat.properties.unwrap_or_default(),
                scopes: p.chat.scopes.and_then(|s| s.groups).unwrap_or_default().into_iter().collect(),
                threads: vec![ThreadRec {
                    id: thread_id.clone(),
                    active: true,
                    order: 1,
                    user_ids: vec![caller.customer.clone()],
                    events: Vec::new(),
                    properties: thread_props,
                    last_activity: now,
                }],
                next_event_order: 1,
                last_activity: now,
                activity_seq: crate::store::next_activity(),
                last_seen: Default::default(),
            };
            let mut last_text = None;
            for e in events {
                if let EventKind::Message(m) = &e.kind {
                    last_text = Some(m.text.clone());
                }
                let ev = stamp(&mut chat, &thread_id, &caller.customer, e, now);
                if let Some(t) = chat.threads.last_mut() {
                    t.events.push(ev);
                }
            }
            let wire_chat = store.chat_with_thread(lic_id, &chat, pres);
            let lic = store.licenses.get_mut(&lic_id).ok_or_else(|| authorization("unknown license"))?;
            lic.chats_of.entry(caller.customer.clone()).or_default().push(chat_id.clone());
            lic.chats.insert(chat_id.clone(), chat);
            fx.deliveries.push(Delivery {
                license: lic_id,
                customer: caller.customer.clone(),
                push: Push::IncomingChatThread(wire::IncomingChatThread::new(wire_chat.clone())),
                caused_by_request: true,
            });
            fx.triggers.push(Trigger::NeedsAgent { chat: chat_id.clone() });
            if let Some(text) = last_text {
                fx.triggers.push(Trigger::CustomerMessage { chat: chat_id, text });
            }
            Ok(ResponseData::StartChat(wire::StartChatResponse::new(wire_chat)))
        }
        Request::SendEvent(p) => {
            check_new_event("event", &p.event)?;
            check_event_rights(store, "event", &p.event)?;
            let (thread_id, event, opened) = add_customer_event(store, caller, &p.chat_id, p.event, now)?;
            let text = match &event.kind {
                EventKind::Message(m) => Some(m.text.clone()),
                _ => None,
            };
            deliver_new_event(store, presence, lic_id, &p.chat_id, &thread_id, &event, opened, true, fx);
            if opened {
                fx.triggers.push(Trigger::NeedsAgent { chat: p.chat_id.clone() });
            }
            if let Some(text) = text {
                fx.triggers.push(Trigger::CustomerMessage { chat: p.chat_id.clone(), text });
            }
            Ok(ResponseData::SendEvent(wire::SendEventResponse::new(thread_id, event)))
        }
        Request::SendFile(_) => Err(validation("send_file is available over the Web API only (multipart upload)")),
        Request::SendRichMessagePostback(p) => {
            let user = caller.customer.clone();
            let chat = chat_of(store, caller, &p.chat_id)?;
            let thread = chat
                .thread_mut(&p.thread_id)
                .ok_or_else(|| validation(format!("`thread_id`: no thread `{}` in this chat", p.thread_id)))?;
            let active = thread.active;
            let event = thread
                .events
                .iter_mut()
                .find(|e| e.id == p.event_id)
                .ok_or_else(|| validation(format!("`event_id`: no event `{}` in this thread", p.event_id)))?;
            let EventKind::RichMessage(rich) = &mut event.kind else {
                return Err(validation(format!("`event_id`: `{}` is not a rich_message", p.event_id)));
            };
            let mut found = false;
            for b in rich.elements.iter_mut().flat_map(|e| e.buttons.iter_mut()) {
                if b.postback_id == p.postback.id {
                    found = true;
                    let has = b.user_ids.contains(&user);
                    if p.postback.toggled && !has {
                        b.user_ids.push(user.clone());
                    } else if !p.postback.toggled && has {
                        b.user_ids.retain(|u| u != &user);
                    }
                }
            }
            if !found {
                return Err(validation(format!("`postback.id`: no button with postback id `{}`", p.postback.id)));
            }
            if active {
                let push = wire::IncomingRichMessagePostback::new(
                    user,
                    p.chat_id.clone(),
                    p.thread_id.clone(),
                    p.event_id.clone(),
                    p.postback.clone(),
                );
                fx.push(lic_id, &caller.customer, Push::IncomingRichMessagePostback(push));
            }
            Ok(ResponseData::SendRichMessagePostback)
        }
        Request::SendSneakPeek(p) => {
            check_text("sneak_peek_text", &p.sneak_peek_text)?;
            // Stored for agents only; dropped for chats without an active thread (4.9).
            let _ = chat_ref(store, caller, &p.chat_id)?;
            Ok(ResponseData::SendSneakPeek)
        }
        Request::CloseThread(p) => {
            let customer = caller.customer.clone();
            let chat = chat_of(store, caller, &p.chat_id)?;
            let active = chat.active_thread_mut().ok_or_else(|| validation("the chat has no active thread"))?;
            if let Some(t) = &p.thread_id {
                if t != &active.id {
                    return Err(validation(format!("`thread_id`: `{t}` is not the chat's active thread")));
                }
            }
            active.active = false;
            let thread_id = active.id.clone();
            fx.push(
                lic_id,
                &customer,
                Push::ThreadClosed(wire::ThreadClosed::new(p.chat_id, thread_id, Some(customer.clone()))),
            );
            Ok(ResponseData::CloseThread)
        }
        Request::UpdateChatScopes(p) => {
            let chat = chat_of(store, caller, &p.chat_id)?;
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
            fx.push(lic_id, &caller.customer, Push::ChatScopesUpdated(push));
            Ok(ResponseData::UpdateChatScopes)
        }
        Request::UpdateCustomer(p) => {
            check_customer_data(&p.customer)?;
            check_merged_fields(store, lic_id, &caller.customer, &p.customer)?;
            apply_customer_data(store, lic_id, &caller.customer, &p.customer);
            customer_updated(store, presence, lic_id, &caller.customer, true, fx);
            let user = store.customer_user(lic_id, &caller.customer, None, pres);
            Ok(ResponseData::UpdateCustomer(wire::UpdateCustomerResponse::new(user)))
        }
        Request::UpdateChatProperties(p) => {
            check_properties("properties", &p.properties)?;
            check_rights(store, "properties", &p.properties)?;
            let chat = chat_of(store, caller, &p.chat_id)?;
            chat.properties.merge(&p.properties);
            fx.push(
                lic_id,
                &caller.customer,
                Push::ChatPropertiesUpdated(wire::ChatPropertiesUpdated::new(p.chat_id, p.properties)),
            );
            Ok(ResponseData::UpdateChatProperties)
        }
        Request::UpdateChatThreadProperties(p) => {
            check_properties("properties", &p.properties)?;
            check_rights(store, "properties", &p.properties)?;
            let chat = chat_of(store, caller, &p.chat_id)?;
            let t = chat
                .thread_mut(&p.thread_id)
                .ok_or_else(|| validation(format!("`thread_id`: no thread `{}` in this chat", p.thread_id)))?;
            t.properties.merge(&p.properties);
            let push = wire::ChatThreadPropertiesUpdated::new(p.chat_id, p.thread_id, p.properties);
            fx.push(lic_id, &caller.customer, Push::ChatThreadPropertiesUpdated(push));
            Ok(ResponseData::UpdateChatThreadProperties)
        }
        Request::UpdateLastSeenTimestamp(p) => {
            let customer = caller.customer.clone();
            let chat = chat_of(store, caller, &p.chat_id)?;
            let mut wanted = p.timestamp.map_or(now, Timestamp::as_secs);
            if wanted > 100_000_000_000 {
                wanted /= 1000; // milliseconds (D5)
            }
            let stored = chat.last_seen.get(&customer).map_or(0, |t| t.as_secs());
            let ts = Timestamp::from_secs(wanted.min(now).max(stored));
            chat.last_seen.insert(customer.clone(), ts);
            fx.push(
                lic_id,
                &customer,
                Push::LastSeenTimestampUpdated(wire::LastSeenTimestampUpdated::new(customer.clone(), p.chat_id, ts)),
            );
            Ok(ResponseData::UpdateLastSeenTimestamp(wire::UpdateLastSeenTimestampResponse::new(ts)))
        }
        Request::Login(_) => Err(validation("already handled")),
        Request::Unknown { action, .. } => Err(validation(format!("unknown action `{action}`"))),
        other => Err(validation(format!("unknown action `{}`", other.action()))),
    }
}

/// Adds a customer event to a chat: to the active thread, or (annotations) the last one, or a
/// new thread. Returns the thread, the stored event and whether a thread was opened.
fn add_customer_event(
    store: &mut Store,
    caller: &Caller,
    chat_id: &ChatId,
    event: NewEvent,
    now: u64,
) -> Result<(ThreadId, Event, bool), ErrorObject> {
    let is_annotation = matches!(event.kind, EventKind::Annotation(_));
    // Drawn only when a thread opens, so that ids do not depend on how many events were sent.
    let needs_thread = chat_ref(store, caller, chat_id)?.active_thread().is_none() && !is_annotation;
    let new_thread_id = if needs_thread { ThreadId::new(store.ids.short()) } else { ThreadId::new("") };
    let chat = chat_of(store, caller, chat_id)?;
    let (thread_id, opened) = match (chat.active_thread(), is_annotation) {
        (Some(t), _) => (t.id.clone(), false),
        (None, true) => match chat.threads.last() {
            Some(t) => (t.id.clone(), false),
            None => return Err(validation("an annotation needs a thread: the chat has none")),
        },
        (None, false) => {
            let order = chat.threads.last().map_or(1, |t| t.order + 1);
            chat.threads.push(ThreadRec {
                id: new_thread_id.clone(),
                active: true,
                order,
                user_ids: vec![caller.customer.clone()],
                events: Vec::new(),
                properties: Properties::new(),
                last_activity: now,
            });
            (new_thread_id, true)
        }
    };
    let ev = stamp(chat, &thread_id, &caller.customer, event, now);
    if let Some(t) = chat.thread_mut(&thread_id) {
        t.events.push(ev.clone());
        t.add_user(&caller.customer);
        if !is_annotation {
            t.last_activity = now;
        }
    }
    chat.touch(now);
    Ok((thread_id, ev, opened))
}

/// The push for a new event: `incoming_event`, or `incoming_chat_thread` when it opened the
/// thread.
#[allow(clippy::too_many_arguments)]
fn deliver_new_event(
    store: &Store,
    presence: &Presence,
    license: u64,
    chat_id: &ChatId,
    thread_id: &ThreadId,
    event: &Event,
    opened: bool,
    caused_by_request: bool,
    fx: &mut Effects,
) {
    let Some(chat) = store.licenses.get(&license).and_then(|l| l.chats.get(chat_id)) else { return };
    if event.recipients == Some(wire::Recipients::Agents) {
        return;
    }
    let push = if opened {
        let pres = present(presence, license, &chat.customer);
        Push::IncomingChatThread(wire::IncomingChatThread::new(store.chat_with_thread(license, chat, pres)))
    } else {
        Push::IncomingEvent(wire::IncomingEvent::new(chat_id.clone(), thread_id.clone(), event.clone()))
    };
    fx.deliveries.push(Delivery { license, customer: chat.customer.clone(), push, caused_by_request });
}

/// Merges customer data (name, e-mail, fields, monitoring). Returns whether name, e-mail or
/// fields changed.
fn apply_customer_data(store: &mut Store, license: u64, id: &UserId, data: &wire::CustomerData) -> bool {
    let Some(lic) = store.licenses.get_mut(&license) else { return false };
    let c: &mut Customer = lic.customers.entry(id.clone()).or_default();
    let mut changed = false;
    if let Some(n) = &data.name {
        changed |= c.name.as_ref() != Some(n);
        c.name = Some(n.clone());
    }
    if let Some(e) = &data.email {
        changed |= c.email.as_ref() != Some(e);
        c.email = Some(e.clone());
    }
    if let Some(f) = &data.fields {
        for (k, v) in f {
            changed |= c.fields.get(k) != Some(v);
            c.fields.insert(k.clone(), v.clone());
        }
    }
    if let Some(m) = &data.monitoring {
        c.monitoring = Some(m.clone());
    }
    changed
}

/// `customer_updated`, once per active chat of the customer (G25).
pub(crate) fn customer_updated(
    store: &Store,
    presence: &Presence,
    license: u64,
    customer: &UserId,
    caused_by_request: bool,
    fx: &mut Effects,
) {
    let Some(lic) = store.licenses.get(&license) else { return };
    let pres = present(presence, license, customer);
    for chat_id in lic.chats_of.get(customer).into_iter().flatten() {
        if let Some(chat) = lic.chats.get(chat_id).filter(|c| c.active_thread().is_some()) {
            let user = store.customer_user(license, customer, Some(chat), pres);
            fx.deliveries.push(Delivery {
                license,
                customer: customer.clone(),
                push: Push::CustomerUpdated(wire::CustomerUpdated::new(chat_id.clone(), user)),
                caused_by_request,
            });
        }
    }
}
