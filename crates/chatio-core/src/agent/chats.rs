//! What the agent session knows of the chats it sees: their users, last thread and event,
//! properties, scopes and unread counts, learnt from `login`, responses and pushes.
//!
//! **Bound:** at most [`AgentConfig::max_chats`](super::AgentConfig::max_chats) chats; past it,
//! the chat without an active thread touched longest ago is forgotten (a scan, only when the
//! bound is reached). Per chat: its users and one event (the last), never its history.

use std::collections::HashMap;

use chatio_wire::{ChatId, EventKind, Properties, RoutingStatus, Scopes, ThreadId, UserId};

use super::output::ChatView;
use crate::model::{Chat, Event, User};

/// Whether an event counts as unread for the agent: content from someone else, not the
/// router's or the server's notes.
fn counts(e: &Event, me: Option<&UserId>) -> bool {
    let content = !matches!(e.kind, EventKind::SystemMessage(_) | EventKind::Annotation(_));
    content && e.author.is_some() && e.author.as_ref() != me
}

#[derive(Clone, Debug)]
struct Entry {
    view: ChatView,
    /// When it was last touched, in the session's own sequence (eviction order).
    touched: u64,
}

/// The chats.
#[derive(Clone, Debug)]
pub(crate) struct AgentChats {
    map: HashMap<ChatId, Entry>,
    max: usize,
    seq: u64,
}

impl AgentChats {
    pub(crate) fn new(max: usize) -> Self {
        Self { map: HashMap::new(), max: max.max(1), seq: 0 }
    }

    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }

    pub(crate) fn get(&self, id: &ChatId) -> Option<&ChatView> {
        self.map.get(id).map(|e| &e.view)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &ChatView> {
        self.map.values().map(|e| &e.view)
    }

    /// Everything `login` said: the state starts again from it (unread counts of chats still
    /// listed are kept).
    pub(crate) fn reset(&mut self, chats: &[ChatView]) {
        let old = std::mem::take(&mut self.map);
        for c in chats {
            let mut view = c.clone();
            view.unread = old.get(&c.id).map_or(0, |e| e.view.unread);
            self.put(view);
        }
    }

    /// A chat summary (`get_filtered_chats`): replaces what is known, keeping the unread count.
    pub(crate) fn summary(&mut self, c: &ChatView) {
        let unread = self.get(&c.id).map_or(0, |v| v.unread);
        let mut view = c.clone();
        view.unread = unread;
        self.put(view);
    }

    /// A chat with a new thread (`start_chat`, `incoming_chat_thread`) or read threads
    /// (`get_chat_threads`): users, properties, scopes, and the newest thread if it is newer.
    pub(crate) fn chat(&mut self, c: &Chat, me: Option<&UserId>, count_unread: bool) {
        let fresh = ChatView::from_chat(c);
        let newest = c.threads.iter().max_by_key(|t| t.order);
        let unread: u32 = if count_unread {
            newest.map_or(0, |t| t.events.iter().filter(|e| counts(e, me)).count().try_into().unwrap_or(u32::MAX))
        } else {
            0
        };
        let v = self.entry(&c.id);
        v.users = fresh.users;
        v.properties = fresh.properties;
        v.scopes = fresh.scopes;
        let older = match (&v.thread, &fresh.thread) {
            (Some(known), Some(new)) => new.order < known.order,
            _ => false,
        };
        if !older && fresh.thread.is_some() {
            v.thread = fresh.thread;
            if fresh.last_event.is_some() {
                v.last_event = fresh.last_event;
            }
        }
        v.unread = v.unread.saturating_add(unread);
    }

    /// An event in a thread that exists (`incoming_event`, `send_event`'s answer). Events
    /// arrive in order: it is the chat's latest, unless it is an older event of the thread of
    /// the latest (a late copy).
    pub(crate) fn event(&mut self, e: &Event, me: Option<&UserId>) {
        let v = self.entry(&e.chat);
        let stale = v.last_event.as_ref().is_some_and(|l| l.thread == e.thread && e.order < l.order);
        if !stale {
            v.last_event = Some(e.clone());
        }
        if counts(e, me) {
            v.unread = v.unread.saturating_add(1);
        }
    }

    pub(crate) fn users_added(&mut self, chat: &ChatId, users: &[User]) {
        let v = self.entry(chat);
        for u in users {
            match v.users.iter_mut().find(|x| x.id == u.id) {
                Some(x) => *x = u.clone(),
                None => v.users.push(u.clone()),
            }
            if let Some(t) = v.thread.as_mut().filter(|t| t.active == Some(true)) {
                if !t.users.contains(&u.id) {
                    t.users.push(u.id.clone());
                }
            }
        }
    }

    pub(crate) fn users_removed(&mut self, chat: &ChatId, ids: &[UserId]) {
        let v = self.entry(chat);
        v.users.retain(|u| !ids.contains(&u.id));
    }

    pub(crate) fn thread_closed(&mut self, chat: &ChatId, thread: &ThreadId) {
        let v = self.entry(chat);
        if let Some(t) = v.thread.as_mut().filter(|t| &t.id == thread) {
            t.active = Some(false);
        }
    }

    pub(crate) fn properties(&mut self, chat: &ChatId, p: &Properties) {
        self.entry(chat).properties.merge(p);
    }

    pub(crate) fn thread_properties(&mut self, chat: &ChatId, thread: &ThreadId, p: &Properties) {
        if let Some(t) = self.entry(chat).thread.as_mut().filter(|t| &t.id == thread) {
            t.properties.merge(p);
        }
    }

    pub(crate) fn scopes(&mut self, chat: &ChatId, added: &Scopes, removed: &Scopes) {
        let v = self.entry(chat);
        let mut groups = v.scopes.groups.clone().unwrap_or_default();
        for g in added.groups.iter().flatten() {
            if !groups.contains(g) {
                groups.push(*g);
            }
        }
        groups.retain(|g| !removed.groups.as_ref().is_some_and(|r| r.contains(g)));
        v.scopes = if groups.is_empty() { Scopes::all() } else { Scopes::groups(groups) };
    }

    /// A user's details changed: every copy of it (in one chat for a customer update).
    pub(crate) fn user_updated(&mut self, chat: &ChatId, user: &User) {
        let v = self.entry(chat);
        match v.users.iter_mut().find(|x| x.id == user.id) {
            Some(x) => *x = user.clone(),
            None => v.users.push(user.clone()),
        }
    }

    /// An agent's routing status changed: every chat it is in.
    pub(crate) fn agent_status(&mut self, agent: &UserId, status: Option<&RoutingStatus>) {
        for e in self.map.values_mut() {
            if let Some(u) = e.view.users.iter_mut().find(|u| &u.id == agent) {
                u.routing_status = status.cloned();
            }
        }
    }

    /// A user saw a chat: this agent's own last-seen clears the unread count.
    pub(crate) fn seen(&mut self, chat: &ChatId, user: &UserId, me: Option<&UserId>, at: std::time::SystemTime) {
        let v = self.entry(chat);
        if let Some(u) = v.users.iter_mut().find(|u| &u.id == user) {
            u.last_seen = Some(at);
        }
        if Some(user) == me {
            v.unread = 0;
        }
    }

    /// The chat's entry, made (and the bound kept) if it is new; marks it touched.
    fn entry(&mut self, id: &ChatId) -> &mut ChatView {
        self.seq += 1;
        let seq = self.seq;
        if !self.map.contains_key(id) {
            self.make_room();
        }
        let e = self.map.entry(id.clone()).or_insert_with(|| Entry { view: ChatView::new(id.clone()), touched: seq });
        e.touched = seq;
        &mut e.view
    }

    fn put(&mut self, view: ChatView) {
        self.seq += 1;
        if !self.map.contains_key(&view.id) {
            self.make_room();
        }
        self.map.insert(view.id.clone(), Entry { view, touched: self.seq });
    }

    /// Forgets the inactive chat touched longest ago when the bound is reached.
    fn make_room(&mut self) {
        if self.map.len() < self.max {
            return;
        }
        let victim = self
            .map
            .iter()
            .filter(|(_, e)| !e.view.is_active())
            .min_by_key(|(_, e)| e.touched)
            .map(|(id, _)| id.clone());
        if let Some(id) = victim {
            self.map.remove(&id);
        }
    }
}
