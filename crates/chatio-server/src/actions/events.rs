//! Events and threads: `send_event`, `send_rich_message_postback`, `send_sneak_peek`,
//! `close_thread`, and the adding of events by customers, agents and the server.

use chatio_wire as wire;
use chatio_wire::{
    ChatId, ErrorObject, Event, EventKind, NewEvent, Properties, Push, ResponseData, ThreadId, Timestamp, UserId,
};

use super::checks::{check_event_rights, check_new_event, check_text, validation};
use super::event_json::EventJson;
use super::{Caller, Ctx, Delivery, Effects, Presence, Trigger, quota, views};
use crate::config::Quotas;
use crate::store::{self, ChatRec, Store, ThreadRec};

/// Makes a stored event from a customer's event, the next of the chat (order) and of the
/// thread (id, count).
pub(super) fn stamp(chat: &mut ChatRec, thread: &mut ThreadRec, author: &UserId, e: NewEvent, now: u64) -> Event {
    let order = chat.next_event_order;
    chat.next_event_order += 1;
    thread.events += 1;
    let mut ev = Event::new(format!("{}_{}", thread.id, thread.events), order, Timestamp::from_secs(now), e.kind);
    ev.author_id = Some(author.clone());
    ev.custom_id = e.custom_id;
    ev.properties = e.properties;
    ev
}

/// Adds an event made by an agent or the server to the chat's last thread (the active one
/// when there is one), and records the activity on `chat`, which the caller stores.
/// `None` when the chat has no thread.
///
/// A chat at its quotas (G38) gets no more: `None` as well, nothing written (the Agent
/// API checks [`quota::room`] first and refuses; the scripted agent and the server's system
/// messages just stop there).
pub(crate) fn add_agent_event(
    store: &mut dyn Store,
    quotas: &Quotas,
    license: u64,
    chat: &mut ChatRec,
    author: Option<&UserId>,
    kind: EventKind,
    now: u64,
) -> store::Result<Option<(ThreadId, Event)>> {
    let Some(mut thread) = store.last_thread(license, &chat.id)? else { return Ok(None) };
    let order = chat.next_event_order;
    let mut ev = Event::new(format!("{}_{}", thread.id, thread.events + 1), order, Timestamp::from_secs(now), kind);
    ev.author_id = author.cloned();
    if quota::hold_event(quotas, chat, &ev).is_err() {
        return Ok(None);
    }
    chat.next_event_order += 1;
    thread.events += 1;
    if let Some(a) = author {
        thread.add_user(a);
    }
    thread.last_activity = now;
    chat.touch(now, store.ids().next_activity());
    let thread_id = thread.id.clone();
    store.put_thread(license, &chat.id, thread)?;
    store.add_event(license, &chat.id, &thread_id, &ev)?;
    Ok(Some((thread_id, ev)))
}

/// A customer event added to its chat (see [`add_customer_event`]).
pub(super) struct Added {
    pub(super) chat: ChatRec,
    pub(super) thread: ThreadId,
    pub(super) event: Event,
    /// The event's JSON, encoded once for its quota cost and the frames that carry it.
    pub(super) json: EventJson,
    /// Whether the event opened a new thread.
    pub(super) opened: bool,
}

/// Adds a customer event to a chat: to the active thread, or (annotations) the last one, or
/// a new thread.
pub(super) fn add_customer_event(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    chat_id: &ChatId,
    event: NewEvent,
) -> Result<Added, ErrorObject> {
    let license = caller.license;
    let is_annotation = matches!(event.kind, EventKind::Annotation(_));
    let mut chat = cx.own_chat(caller, chat_id)?;
    // The count first, before a thread's id is drawn; the bytes once the event is stamped.
    quota::room(&cx.policy.quotas, &chat, 0)?;
    let last = cx.store.last_thread(license, chat_id)?;
    let (mut thread, opened) = match (last, is_annotation) {
        (Some(t), _) if t.active => (t, false),
        (Some(t), true) => (t, false),
        (None, true) => return Err(validation("an annotation needs a thread: the chat has none")),
        (last, false) => {
            // Drawn only when a thread opens, so that ids do not depend on how many events
            // were sent.
            let id = ThreadId::new(cx.store.ids().short());
            let order = last.map_or(1, |t| t.order + 1);
            let thread = ThreadRec {
                id,
                active: true,
                order,
                user_ids: vec![caller.customer.clone()],
                properties: Properties::new(),
                last_activity: cx.now,
                events: 0,
            };
            (thread, true)
        }
    };
    let ev = stamp(&mut chat, &mut thread, &caller.customer, event, cx.now);
    let json = EventJson::new(&ev);
    quota::hold_cost(&cx.policy.quotas, &mut chat, json.len())?;
    thread.add_user(&caller.customer);
    if !is_annotation {
        thread.last_activity = cx.now;
    }
    chat.touch(cx.now, cx.store.ids().next_activity());
    let thread_id = thread.id.clone();
    cx.store.put_thread(license, chat_id, thread)?;
    cx.store.add_event(license, chat_id, &thread_id, &ev)?;
    cx.store.put_chat(license, chat.clone())?;
    Ok(Added { chat, thread: thread_id, event: ev, json, opened })
}

/// The push for a new event: `incoming_event`, or `incoming_chat_thread` when it opened the
/// thread. Agents-only events are not pushed to customers.
pub(super) fn deliver_new_event(
    store: &mut dyn Store,
    presence: &Presence,
    license: u64,
    added: &Added,
    caused_by_request: bool,
    fx: &mut Effects,
) -> store::Result<()> {
    if added.event.recipients == Some(wire::Recipients::Agents) {
        return Ok(());
    }
    let chat = &added.chat;
    let (push, event_json) = if added.opened {
        let present = presence.contains(&(license, chat.customer.clone()));
        let chat = views::chat_with_thread(store, license, chat, present)?;
        (Push::IncomingChatThread(wire::IncomingChatThread::new(chat)), None)
    } else {
        let push = wire::IncomingEvent::new(chat.id.clone(), added.thread.clone(), added.event.clone());
        (Push::IncomingEvent(push), Some(added.json.clone()))
    };
    fx.deliveries.push(Delivery { license, customer: chat.customer.clone(), push, caused_by_request, event_json });
    Ok(())
}

/// `send_event` (4.6).
pub(super) fn send_event(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: wire::SendEvent,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    check_new_event("event", &p.event)?;
    check_event_rights(cx.policy, "event", &p.event)?;
    quota::check_event_properties(&cx.policy.quotas, "event", &p.event)?;
    let added = add_customer_event(cx, caller, &p.chat_id, p.event)?;
    deliver_new_event(cx.store, cx.presence, caller.license, &added, true, fx)?;
    if added.opened {
        fx.triggers.push(Trigger::NeedsAgent { chat: p.chat_id.clone() });
    }
    fx.response_event = Some(added.json);
    Ok(ResponseData::SendEvent(wire::SendEventResponse::new(added.thread, added.event)))
}

/// `send_rich_message_postback` (4.8): toggles the customer on a button of a rich message.
pub(super) fn send_rich_message_postback(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::SendRichMessagePostback,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let license = caller.license;
    let user = caller.customer.clone();
    let chat = cx.own_chat(caller, &p.chat_id)?;
    if toggle_postback(cx, license, &chat, p, &user)? {
        let push = wire::IncomingRichMessagePostback::new(
            user,
            p.chat_id.clone(),
            p.thread_id.clone(),
            p.event_id.clone(),
            p.postback.clone(),
        );
        fx.push(license, &caller.customer, Push::IncomingRichMessagePostback(push));
    }
    Ok(ResponseData::SendRichMessagePostback)
}

/// Records `user`'s toggle of a rich message's button (G21), for either side: the thread,
/// the event (a `rich_message`) and the postback id must exist. Returns whether the thread
/// is active (only then is the postback pushed).
pub(crate) fn toggle_postback(
    cx: &mut Ctx<'_>,
    license: u64,
    chat: &ChatRec,
    p: &wire::SendRichMessagePostback,
    user: &UserId,
) -> Result<bool, ErrorObject> {
    let thread = cx
        .store
        .thread(license, &chat.id, &p.thread_id)?
        .ok_or_else(|| validation(format!("`thread_id`: no thread `{}` in this chat", p.thread_id)))?;
    let mut event = cx
        .store
        .event(license, &chat.id, &thread.id, &p.event_id)?
        .ok_or_else(|| validation(format!("`event_id`: no event `{}` in this thread", p.event_id)))?;
    let EventKind::RichMessage(rich) = &mut event.kind else {
        return Err(validation(format!("`event_id`: `{}` is not a rich_message", p.event_id)));
    };
    let mut found = false;
    for b in rich.elements.iter_mut().flat_map(|e| e.buttons.iter_mut()) {
        if b.postback_id == p.postback.id {
            found = true;
            let has = b.user_ids.contains(user);
            if p.postback.toggled && !has {
                b.user_ids.push(user.clone());
            } else if !p.postback.toggled && has {
                b.user_ids.retain(|u| u != user);
            }
        }
    }
    if !found {
        return Err(validation(format!("`postback.id`: no button with postback id `{}`", p.postback.id)));
    }
    cx.store.put_event(license, &chat.id, &thread.id, event)?;
    Ok(thread.active)
}

/// `send_sneak_peek` (4.9): for agents only; nothing reaches customers.
pub(super) fn send_sneak_peek(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::SendSneakPeek,
) -> Result<ResponseData, ErrorObject> {
    check_text("sneak_peek_text", &p.sneak_peek_text)?;
    // Stored for agents only; dropped for chats without an active thread (4.9).
    cx.own_chat(caller, &p.chat_id)?;
    Ok(ResponseData::SendSneakPeek)
}

/// `close_thread` (4.10): closes the chat's active thread.
pub(super) fn close_thread(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: wire::CloseThread,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let customer = caller.customer.clone();
    let chat = cx.own_chat(caller, &p.chat_id)?;
    let mut active = cx
        .store
        .last_thread(caller.license, &chat.id)?
        .filter(|t| t.active)
        .ok_or_else(|| validation("the chat has no active thread"))?;
    if let Some(t) = &p.thread_id {
        if t != &active.id {
            return Err(validation(format!("`thread_id`: `{t}` is not the chat's active thread")));
        }
    }
    active.active = false;
    let thread_id = active.id.clone();
    cx.store.put_thread(caller.license, &chat.id, active)?;
    tracing::info!(license = caller.license, chat = %chat.id, customer = %customer, "chat closed by the customer");
    fx.push(
        caller.license,
        &customer,
        Push::ThreadClosed(wire::ThreadClosed::new(p.chat_id, thread_id, Some(customer.clone()))),
    );
    Ok(ResponseData::CloseThread)
}
