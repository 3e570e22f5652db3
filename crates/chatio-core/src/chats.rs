//! What the session knows of the customer's chats: enough for the rules that depend on it
//! (sneak peeks only for active chats; where the outbox looks for events that may have
//! arrived), learnt from responses and pushes.
//!
//! Thread orders kept here are always the server's (never guessed). The outbox relies on
//! [`Chats::last_thread_order`]: the highest thread order ever seen in a chat is at most the
//! order of the thread a new event goes to (the chat's last thread, or a new one), since
//! thread orders only grow. A thread only seen in an `incoming_event` has an unknown order.

use std::collections::{BTreeSet, HashMap};

use chatio_wire as wire;
use chatio_wire::{ChatId, ThreadId, UserId};

#[derive(Clone, Debug, Default)]
struct ChatState {
    /// The chat's newest known thread and its order, when known.
    last_thread: Option<(ThreadId, Option<u64>)>,
    /// Whether that thread is active; `None` when unknown.
    active: Option<bool>,
    /// The highest thread order seen in the chat.
    max_order: Option<u64>,
    /// Ids of the chat's users.
    users: BTreeSet<UserId>,
}

impl ChatState {
    /// A thread of known order: it becomes the last one if it is the same thread, or newer
    /// (a thread of unknown order is taken as older: the floor of the outbox may only go
    /// down). Returns whether it is the last thread now.
    fn see_thread(&mut self, id: &ThreadId, order: u64) -> bool {
        self.max_order = Some(self.max_order.map_or(order, |m| m.max(order)));
        let newest = match &self.last_thread {
            None => true,
            Some((last, _)) if last == id => true,
            Some((_, Some(o))) => order >= *o,
            Some((_, None)) => true,
        };
        if newest {
            self.last_thread = Some((id.clone(), Some(order)));
        }
        newest
    }
}

/// Chats, their last threads and users.
#[derive(Clone, Debug, Default)]
pub(crate) struct Chats {
    map: HashMap<ChatId, ChatState>,
}

impl Chats {
    /// Whether the chat's last thread is active: `None` when the session does not know.
    pub(crate) fn is_active(&self, chat: &ChatId) -> Option<bool> {
        self.map.get(chat).and_then(|c| c.active)
    }

    /// The highest thread order the server has shown for the chat, if any: a lower bound of
    /// the order of the thread the next event goes to.
    pub(crate) fn last_thread_order(&self, chat: &ChatId) -> Option<u64> {
        self.map.get(chat).and_then(|c| c.max_order)
    }

    /// The users known to be in the chat.
    pub(crate) fn users(&self, chat: &ChatId) -> impl Iterator<Item = &UserId> {
        self.map.get(chat).into_iter().flat_map(|c| c.users.iter())
    }

    /// A chat summary: users, and the newest thread that has events (whether it is active
    /// is not said).
    pub(crate) fn note_summary(&mut self, s: &wire::ChatSummary) {
        let c = self.map.entry(s.id.clone()).or_default();
        c.users.extend(s.users.iter().map(|u| u.id.clone()));
        let newest = s.last_event_per_type.as_ref().and_then(|m| {
            m.values().filter_map(|e| e.thread_order.map(|o| (o, e))).max_by_key(|(o, e)| (*o, e.event.order))
        });
        if let Some((order, last)) = newest {
            let same = c.last_thread.as_ref().is_some_and(|(id, _)| *id == last.thread_id);
            if c.see_thread(&last.thread_id, order) && !same {
                c.active = None;
            }
        }
    }

    /// A chat with threads (`start_chat`, `incoming_chat_thread`, `get_chat_threads`).
    pub(crate) fn note_chat(&mut self, chat: &wire::Chat) {
        let c = self.map.entry(chat.id.clone()).or_default();
        c.users.extend(chat.users.iter().map(|u| u.id.clone()));
        for t in chat.thread.iter().chain(chat.threads.iter().flatten()) {
            if c.see_thread(&t.id, t.order) {
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
            (Some(t), Some((last, _))) if t == last => {}
            // A thread the session has not seen: the chat's new last thread, of unknown order.
            (Some(t), _) => c.last_thread = Some((t.clone(), None)),
            (None, _) => {}
        }
        c.active = Some(true);
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
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn chat_with(id: &str, threads: &[(&str, bool, u64)]) -> wire::Chat {
        let mut c = wire::Chat::new(id);
        c.threads = Some(threads.iter().map(|(t, a, o)| wire::Thread::new(*t, *a, *o)).collect());
        c
    }

    #[test]
    fn activity_follows_threads() {
        let mut chats = Chats::default();
        let chat = ChatId::new("C");
        assert_eq!(chats.is_active(&chat), None);
        let mut c = wire::Chat::new("C");
        c.thread = Some(wire::Thread::new("T1", true, 1));
        chats.note_chat(&c);
        assert_eq!(chats.is_active(&chat), Some(true));
        assert_eq!(chats.last_thread_order(&chat), Some(1));
        chats.note_closed(&chat, &ThreadId::new("T1"));
        assert_eq!(chats.is_active(&chat), Some(false));
        chats.note_event(&chat, Some(&ThreadId::new("T1")), true);
        assert_eq!(chats.is_active(&chat), Some(false), "annotations do not reopen");
        chats.note_event(&chat, Some(&ThreadId::new("T2")), false);
        assert_eq!(chats.is_active(&chat), Some(true));
        assert_eq!(chats.last_thread_order(&chat), Some(1), "a thread only seen in an event has no known order");
        chats.note_closed(&chat, &ThreadId::new("T1"));
        assert_eq!(chats.is_active(&chat), Some(true), "closing an older thread changes nothing");
        chats.note_chat(&chat_with("C", &[("T2", true, 2)]));
        assert_eq!(chats.last_thread_order(&chat), Some(2));
    }

    #[test]
    fn older_threads_do_not_replace_the_last_one() {
        let mut chats = Chats::default();
        let chat = ChatId::new("C");
        chats.note_chat(&chat_with("C", &[("T5", true, 5)]));
        chats.note_chat(&chat_with("C", &[("T1", false, 1), ("T2", false, 2)]));
        assert_eq!((chats.is_active(&chat), chats.last_thread_order(&chat)), (Some(true), Some(5)));
    }

    #[test]
    fn a_summary_knows_the_last_thread_but_not_its_state() {
        let mut chats = Chats::default();
        let chat = ChatId::new("C");
        chats.note_chat(&chat_with("C", &[("T1", true, 1)]));
        let mut s = wire::ChatSummary::new("C", 1);
        let ev = wire::Event::new(
            "T3_1",
            1,
            wire::Timestamp::from_secs(1),
            wire::EventKind::Message(wire::Message::new("x")),
        );
        s.last_event_per_type = Some([("message".to_owned(), wire::LastEvent::new("T3", 3, ev))].into());
        s.users = vec![wire::User::customer("me")];
        chats.note_summary(&s);
        assert_eq!((chats.is_active(&chat), chats.last_thread_order(&chat)), (None, Some(3)));
        assert_eq!(chats.users(&chat).map(|u| u.to_string()).collect::<Vec<_>>(), vec!["me"]);
        chats.note_users(&chat, &[], &[UserId::new("me")]);
        assert_eq!(chats.users(&chat).count(), 0);
    }
}
