//! Starting a chat and reading chats: `start_chat`, `get_chats_summary`,
//! `get_chat_threads`, `get_chat_threads_summary`.

use chatio_wire as wire;
use chatio_wire::{ChatId, ErrorObject, Push, ResponseData, ThreadId};

use super::checks::{check_event_rights, check_new_event, check_properties, check_rights, validation};
use super::events::stamp;
use super::{Caller, Ctx, Delivery, Effects, Trigger, quota, views};
use crate::store::{ChatRec, ThreadRec};

/// `get_chats_summary` (4.2): the customer's chats, most recently active first.
pub(super) fn get_chats_summary(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::GetChatsSummary,
) -> Result<ResponseData, ErrorObject> {
    let offset = p.offset.unwrap_or(0) as usize;
    let limit = p.limit.unwrap_or(wire::GetChatsSummary::DEFAULT_LIMIT);
    if limit == 0 {
        return Err(validation("`limit` must be at least 1"));
    }
    let limit = limit.min(wire::GetChatsSummary::MAX_LIMIT) as usize;
    let present = cx.present(caller.license, &caller.customer);
    // Most recently active first (4.2 decision).
    let (chats, total) = cx.store.recent_chats(caller.license, &caller.customer, offset, limit)?;
    let mut page = Vec::with_capacity(chats.len());
    for chat in &chats {
        page.push(views::chat_summary(cx.store, caller.license, chat, present)?);
    }
    Ok(ResponseData::GetChatsSummary(wire::GetChatsSummaryResponse::new(page, total as u64)))
}

/// `get_chat_threads` (4.3): the asked threads of a chat, with their events.
pub(super) fn get_chat_threads(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::GetChatThreads,
) -> Result<ResponseData, ErrorObject> {
    let chat = cx.own_chat(caller, &p.chat_id)?;
    let present = cx.present(caller.license, &caller.customer);
    let mut threads = Vec::new();
    for t in cx.store.threads(caller.license, &chat.id)? {
        if p.thread_ids.contains(&t.id) {
            let events = cx.store.events(caller.license, &chat.id, &t.id)?;
            threads.push(views::thread(&t, events));
        }
    }
    threads.sort_by_key(|t| t.order);
    for t in &mut threads {
        t.sort_events();
    }
    let mut c = wire::Chat::new(chat.id.clone());
    c.users = views::chat_users(cx.store, caller.license, &chat, present)?;
    c.properties = Some(chat.properties.clone());
    c.scopes = Some(chat.scopes_wire());
    c.threads = Some(threads);
    Ok(ResponseData::GetChatThreads(wire::GetChatThreadsResponse::new(c)))
}

/// `get_chat_threads_summary` (4.4): a page of a chat's threads, the offset counted from the
/// newest.
pub(super) fn get_chat_threads_summary(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::GetChatThreadsSummary,
) -> Result<ResponseData, ErrorObject> {
    let chat = cx.own_chat(caller, &p.chat_id)?;
    let limit = p.limit.unwrap_or(wire::GetChatThreadsSummary::DEFAULT_LIMIT);
    if limit == 0 {
        return Err(validation("`limit` must be at least 1"));
    }
    let limit = limit.min(wire::GetChatThreadsSummary::MAX_LIMIT) as usize;
    let offset = p.offset.unwrap_or(0) as usize;
    let threads = cx.store.threads(caller.license, &chat.id)?;
    let total = threads.len();
    // Offset counts from the newest thread (4.4).
    let end = total.saturating_sub(offset);
    let start = end.saturating_sub(limit);
    let page = threads
        .get(start..end)
        .unwrap_or_default()
        .iter()
        .map(|t| wire::ThreadSummary::new(t.id.clone(), t.order, t.events))
        .collect();
    Ok(ResponseData::GetChatThreadsSummary(wire::GetChatThreadsSummaryResponse::new(page, total as u64)))
}

/// `start_chat` (4.5): a new chat with its first thread and the events it was started with.
pub(super) fn start_chat(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: wire::StartChat,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let license = caller.license;
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
        check_rights(cx.policy, "chat.properties", props)?;
    }
    check_rights(cx.policy, "chat.thread.properties", &thread_props)?;
    for (i, e) in events.iter().enumerate() {
        check_event_rights(cx.policy, &format!("chat.thread.events[{i}]"), e)?;
    }
    let quotas = &cx.policy.quotas;
    if let Some(props) = &p.chat.properties {
        quota::check_properties(quotas, "chat.properties", None, props)?;
    }
    quota::check_properties(quotas, "chat.thread.properties", None, &thread_props)?;
    for (i, e) in events.iter().enumerate() {
        quota::check_event_properties(quotas, &format!("chat.thread.events[{i}]"), e)?;
    }
    quota::check_new_chat_events(quotas, &events)?;
    if let Some(cap) = cx.policy.max_chats_per_customer {
        if cx.store.chat_count(license, &caller.customer)? >= cap {
            return Err(quota::over(
                "chats_per_customer",
                cap as u64,
                format!("too many chats: a customer may start at most {cap}"),
            ));
        }
    }
    let present = cx.present(license, &caller.customer);
    let chat_id = ChatId::new(cx.store.ids().short());
    let thread_id = ThreadId::new(cx.store.ids().short());
    let activity_seq = cx.store.ids().next_activity();
    let mut chat = ChatRec {
        id: chat_id.clone(),
        customer: caller.customer.clone(),
        agents: Vec::new(),
        properties: p.chat.properties.unwrap_or_default(),
        scopes: p.chat.scopes.and_then(|s| s.groups).unwrap_or_default().into_iter().collect(),
        next_event_order: 1,
        last_activity: cx.now,
        activity_seq,
        last_seen: Default::default(),
        held: Default::default(),
    };
    let mut thread = ThreadRec {
        id: thread_id.clone(),
        active: true,
        order: 1,
        user_ids: vec![caller.customer.clone()],
        properties: thread_props,
        last_activity: cx.now,
        events: 0,
    };
    let mut stamped = Vec::with_capacity(events.len());
    for e in events {
        let ev = stamp(&mut chat, &mut thread, &caller.customer, e, cx.now);
        quota::hold_event(&cx.policy.quotas, &mut chat, &ev)?;
        stamped.push(ev);
    }
    cx.store.put_chat(license, chat.clone())?;
    cx.store.put_thread(license, &chat_id, thread)?;
    for ev in &stamped {
        cx.store.add_event(license, &chat_id, &thread_id, ev)?;
    }
    let wire_chat = views::chat_with_thread(cx.store, license, &chat, present)?;
    tracing::info!(license, chat = %chat_id, customer = %caller.customer, "chat started");
    fx.deliveries.push(Delivery {
        license,
        customer: caller.customer.clone(),
        push: Push::IncomingChatThread(wire::IncomingChatThread::new(wire_chat.clone())),
        caused_by_request: true,
        event_json: None,
    });
    fx.triggers.push(Trigger::NeedsAgent { chat: chat_id });
    Ok(ResponseData::StartChat(wire::StartChatResponse::new(wire_chat)))
}
