//! What the session knows of the customer's chats: enough for the rules that depend on it
//! (sneak peeks only for active chats) and for the outbox.

use std::collections::{BTreeSet, HashMap};

use chatio_wire as wire;
use chatio_wire::{ChatId, ThreadId, UserId};

#[derive(Clone, Debug, Default)]
struct ChatState {
    /// The chat's newest known thread and its order.
    last_thread: Option<(ThreadId, u64)>,
    /// Whether that thread is active; `None` when unknown.
    active: Option<bool>,
    /// Ids of the chat's users.
    users: BTreeSet<UserId>,
}

/// Chats, their last threads and users, learnt from responses and pushes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chats {
    map: HashMap<ChatId, ChatState>,
}

impl Chats {
    /// Whether the chat's last thread is active: `None` when the session does not know.
    pub(crate) fn is_active(&self, chat: &ChatId) -> Option<bool> {
        self.map.get(chat).and_then(|c| c.active)
    }

    /// The users known to be in the chat.
    pub(crate) fn users(&self, chat: &ChatId) -> impl Iterator<Item = &UserId> {
        self.map.get(chat).into_iter().flat_map(|c| c.users.iter())
    }

    /// Forgets the per-thread knowledge (after a reconnect the chats summary refreshes it).
    pub(crate) fn note_summary(&mut self, s: &wire::ChatSummary) {
        let c = self.map.entry(s.id.clone()).or_default();
        c.users.extend(s.users.iter().map(|u| u.id.clone()));
        // A summary does not say whether the last thread is active.
        if let Some(last) = s
            .last_event_per_type
            .as_ref()
            .and_then(|m| m.values().max_by_key(|e| (e.thread_order.unwrap_or(0), e.event.order)))
        {
            let order = last.thread_order.unwrap_or(0);
            if c.last_thread.as_ref().is_none_or(|(_, o)| order > *o) {
                c.last_thread = Some((last.thread_id.clone(), order));
                c.active = None;
            }
        }
    }

    /// A chat with threads (`start_chat`, `incoming_chat_thread`, `get_chat_threads`).
    pub(crate) fn note_chat(&mut self, chat: &wire::Chat) {
        let c = self.map.entry(chat.id.clone()).or_default();
        c.users.extend(chat.users.iter().map(|u| u.id.clone()));
        for t in chat.thread.iter().chain(chat.threads.iter().flatten()) {
            if c.last_thread.as_ref().is_none_or(|(_, o)| t.order >= *o) {
                c.last_thread = Some((t.id.clone(), t.order));
                c.active = Some(t.active);
            }
        }
    }

    /// An event went to `thread` of `chat`. Anything but an annotation means the thread is
    /// open (annotations are appended to closed threads too).
    pub(crate) fn note_event(&mut self, chat: &ChatId, thread: Option<&ThreadId>, is_annotation: bool) {
        if is_annotation {
            return;
        }
        let c = self.map.entry(chat.clone()).or_default();
        match (thread, &c.last_thread) {
            (Some(t), Some((last, _))) if t == last => c.active = Some(true),
            (Some(t), Some((_, order))) => {
                // A different thread received an event: it is the new last thread.
                c.last_thread = Some((t.clone(), order + 1));
                c.active = Some(true);
            }
            (Some(t), None) => {
                c.last_thread = Some((t.clone(), 0));
                c.active = Some(true);
            }
            (None, _) => c.active = Some(true),
        }
    }

    /// A thread was closed.
    pub(crate) fn note_closed(&mut self, chat: &ChatId, thread: &ThreadId) {
        let c = self.map.entry(chat.clone()).or_default();
        match &c.last_thread {
            Some((last, _)) if last != thread => {}
            _ => c.active = Some(false),
        }
    }

    /// Users joined or left.
    pub(crate) fn note_users(&mut self, chat: &ChatId, added: &[wire::User], removed: &[UserId]) {
        let c = self.map.entry(chat.clone()).or_default();
        c.users.extend(added.iter().map(|u| u.id.clone()));
        for r in removed {
            c.users.remove(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activity_follows_threads() {
        let mut chats = Chats::default();
        let chat = ChatId::new("C");
        assert_eq!(chats.is_active(&chat), None);
        let mut c = wire::Chat::new("C");
        c.thread = Some(wire::Thread::new("T1", true, 1));
        chats.note_chat(&c);
        assert_eq!(chats.is_active(&chat), Some(true));
        chats.note_closed(&chat, &ThreadId::new("T1"));
        assert_eq!(chats.is_active(&chat), Some(false));
        chats.note_event(&chat, Some(&ThreadId::new("T1")), true);
        assert_eq!(chats.is_active(&chat), Some(false));
        chats.note_event(&chat, Some(&ThreadId::new("T2")), false);
        assert_eq!(chats.is_active(&chat), Some(true));
        chats.note_closed(&chat, &ThreadId::new("T1"));
        assert_eq!(chats.is_active(&chat), Some(true));
    }
}
