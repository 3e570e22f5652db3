//! `get_archives` (protocol file §5.2, H22, H41): a search through the threads of the chats
//! an agent sees, active or closed, newest first, one item per thread.
//!
//! Bounded like the other lists: the search looks through the license's
//! [`MAX_SCANNED_CHATS`](super::MAX_SCANNED_CHATS) most recent chats, and a page holds at most
//! [`MAX_LIMIT`] threads.

use chatio_wire as wire;
use chatio_wire::agent::{ArchiveFilters, ArchivedThread, ArchivesPage, GetArchives, GetArchivesResponse};
use chatio_wire::{ErrorObject, Event, EventKind, Timestamp};

use super::super::Ctx;
use super::super::checks::validation;
use super::{AgentCaller, view, visible_chats_scan};
use crate::store::{ChatRec, ThreadRec};

/// Threads in a page when the request names no limit (H22).
const DEFAULT_LIMIT: u64 = GetArchives::DEFAULT_LIMIT;
/// Threads in a page at most (H39).
const MAX_LIMIT: u64 = GetArchives::MAX_LIMIT;

/// Runs `get_archives` for `caller`.
pub(crate) fn get_archives(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: &GetArchives,
) -> Result<GetArchivesResponse, ErrorObject> {
    let license = caller.license;
    let page = p.pagination.as_ref().and_then(|g| g.page).unwrap_or(1);
    if page == 0 {
        return Err(validation("`pagination.page` starts at 1"));
    }
    let limit = p.pagination.as_ref().and_then(|g| g.limit).unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(validation(format!("`pagination.limit` must be between 1 and {MAX_LIMIT}")));
    }
    let filters = p.filters.clone().unwrap_or_default();
    if let (Some(from), Some(to)) = (filters.date_from, filters.date_to) {
        if from.unix_day() > to.unix_day() {
            return Err(validation("`filters.date_from` is after `filters.date_to`"));
        }
    }
    let query = filters.query.as_deref().map(str::to_lowercase).filter(|q| !q.is_empty());
    // Every matching thread: (creation time, chat, thread, events).
    let mut found: Vec<(u64, ChatRec, ThreadRec, Vec<Event>)> = Vec::new();
    for chat in visible_chats_scan(cx, caller)? {
        if !chat_matches(&filters, &chat) {
            continue;
        }
        let customer =
            if chat.customer.as_str().is_empty() { None } else { cx.store.customer(license, &chat.customer)? };
        let routing = view::properties(cx.agents, license, &chat);
        for t in cx.store.threads(license, &chat.id)? {
            let events = cx.store.events(license, &chat.id, &t.id)?;
            let created = events.iter().map(|e| e.timestamp.as_secs()).min().unwrap_or(t.last_activity);
            if !thread_matches(&filters, &t, created, &routing) {
                continue;
            }
            if let Some(q) = &query {
                let in_customer = customer.as_ref().is_some_and(|c| {
                    c.name.as_deref().is_some_and(|n| n.to_lowercase().contains(q))
                        || c.email.as_deref().is_some_and(|e| e.to_lowercase().contains(q))
                });
                if !in_customer && !events.iter().any(|e| event_text_contains(e, q)) {
                    continue;
                }
            }
            found.push((created, chat.clone(), t, events));
        }
    }
    // Newest first; equal times by chat then thread order, newest first too.
    found.sort_by(|a, b| (b.0, &b.1.id, b.2.order).cmp(&(a.0, &a.1.id, a.2.order)));
    let total = found.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let mut chats = Vec::new();
    for (_, chat, t, events) in found.into_iter().skip(skip).take(limit as usize) {
        let mut c = wire::Chat::new(chat.id.clone());
        c.users = view::users(cx, license, &chat)?;
        c.properties = Some(view::properties(cx.agents, license, &chat));
        c.scopes = Some(chat.scopes_wire());
        let mut w = view::thread(&t, &events);
        w.sort_events();
        c.thread = Some(w);
        chats.push(ArchivedThread::new(c));
    }
    Ok(GetArchivesResponse::new(chats, ArchivesPage::new(page, total)))
}

/// The chat-level filter: `team_ids` (a group of the chat's scopes).
fn chat_matches(f: &ArchiveFilters, chat: &ChatRec) -> bool {
    if let Some(teams) = f.team_ids.as_ref().filter(|t| !t.is_empty()) {
        if !teams.iter().any(|t| chat.scopes.contains(t)) {
            return false;
        }
    }
    true
}

/// The thread-level filters: `agent_ids` (any listed agent among the thread's users), its
/// creation day within the dates (UTC, inclusive) and the property filters on the thread's
/// properties, else the chat's (`chat_props`).
fn thread_matches(f: &ArchiveFilters, t: &ThreadRec, created: u64, chat_props: &wire::Properties) -> bool {
    if let Some(ids) = f.agent_ids.as_ref().filter(|i| !i.is_empty()) {
        let any = ids.iter().any(|i| t.user_ids.iter().any(|u| u.as_str().eq_ignore_ascii_case(i.as_str())));
        if !any {
            return false;
        }
    }
    let day = wire::agent::Date::of(Timestamp::from_secs(created)).unix_day();
    if f.date_from.is_some_and(|d| day < d.unix_day()) || f.date_to.is_some_and(|d| day > d.unix_day()) {
        return false;
    }
    match &f.properties {
        Some(filters) => filters.matches(|ns, name| t.properties.get(ns, name).or_else(|| chat_props.get(ns, name))),
        None => true,
    }
}

/// Whether an event's text (message, system message, annotation, file name, rich message
/// titles) contains `q` (lower case), ignoring case.
fn event_text_contains(e: &Event, q: &str) -> bool {
    let has = |s: &str| s.to_lowercase().contains(q);
    match &e.kind {
        EventKind::Message(m) => has(&m.text),
        EventKind::SystemMessage(m) => has(&m.text),
        EventKind::Annotation(a) => a.text.as_deref().is_some_and(has),
        EventKind::File(f) => has(&f.name),
        EventKind::RichMessage(r) => {
            r.elements.iter().any(|el| el.title.as_deref().is_some_and(has) || el.subtitle.as_deref().is_some_and(has))
        }
        _ => false,
    }
}
