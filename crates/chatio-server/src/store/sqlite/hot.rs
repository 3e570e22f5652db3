//! The hot records: the chat and its last thread, which every event reads and writes
//! (`send_event` reads both, then writes both), kept decoded beside the database so that an
//! event does not query and decode them again.
//!
//! Write-through: every write of a chat or a thread goes to the database first, then here,
//! so an entry is always what the open transaction holds. Whatever may undo writes (a
//! request undone, a failed commit, a transaction SQLite undid by itself) empties the whole
//! cache: the next reads go to the database. Bounded: at most
//! [`HOT_CHATS`] chats; one more drops an arbitrary one.

use std::collections::HashMap;

use chatio_wire::ChatId;

use crate::store::{ChatRec, ThreadRec};

/// Chats (each with its last thread) kept decoded, at most.
pub(crate) const HOT_CHATS: usize = 4096;

/// What is kept of one chat.
#[derive(Debug, Default)]
struct Entry {
    chat: Option<ChatRec>,
    /// The chat's thread of the highest order.
    last: Option<ThreadRec>,
}

/// The cache (see the module documentation).
#[derive(Debug, Default)]
pub(super) struct Hot {
    entries: HashMap<u64, HashMap<ChatId, Entry>>,
    len: usize,
}

impl Hot {
    fn get(&self, license: u64, chat: &str) -> Option<&Entry> {
        self.entries.get(&license)?.get(chat)
    }

    /// The entry of a chat, made (within the bound) if there is none.
    fn entry(&mut self, license: u64, chat: &ChatId) -> &mut Entry {
        let known = self.entries.get(&license).is_some_and(|m| m.contains_key(chat.as_str()));
        if !known {
            if self.len >= HOT_CHATS {
                self.evict_one();
            }
            self.len += 1;
        }
        self.entries.entry(license).or_default().entry(chat.clone()).or_default()
    }

    fn evict_one(&mut self) {
        let Some((&license, map)) = self.entries.iter_mut().find(|(_, m)| !m.is_empty()) else { return };
        if let Some(key) = map.keys().next().cloned() {
            map.remove(&key);
            self.len -= 1;
        }
        if map.is_empty() {
            self.entries.remove(&license);
        }
    }

    /// The chat, if kept.
    pub(super) fn chat(&self, license: u64, id: &ChatId) -> Option<&ChatRec> {
        self.get(license, id.as_str())?.chat.as_ref()
    }

    /// Keeps a chat as stored (read or written).
    pub(super) fn put_chat(&mut self, license: u64, chat: &ChatRec) {
        self.entry(license, &chat.id).chat = Some(chat.clone());
    }

    /// The chat's last thread, if kept.
    pub(super) fn last_thread(&self, license: u64, chat: &ChatId) -> Option<&ThreadRec> {
        self.get(license, chat.as_str())?.last.as_ref()
    }

    /// Keeps a chat's last thread, read from the database.
    pub(super) fn put_last_thread(&mut self, license: u64, chat: &ChatId, thread: &ThreadRec) {
        self.entry(license, chat).last = Some(thread.clone());
    }

    /// A thread was written: it replaces the kept last thread when it is that thread or a
    /// newer one. Nothing is learned when no last thread is kept (an older thread may be
    /// written while a newer one exists).
    pub(super) fn wrote_thread(&mut self, license: u64, chat: &ChatId, thread: &ThreadRec) {
        let Some(entry) = self.entries.get_mut(&license).and_then(|m| m.get_mut(chat.as_str())) else { return };
        if let Some(last) = &mut entry.last {
            if thread.order >= last.order {
                *last = thread.clone();
            }
        }
    }

    /// A thread of the chat was deleted: its last thread is read again.
    pub(super) fn deleted_thread(&mut self, license: u64, chat: &ChatId) {
        if let Some(entry) = self.entries.get_mut(&license).and_then(|m| m.get_mut(chat.as_str())) {
            entry.last = None;
        }
    }

    /// Forgets everything (writes may have been undone).
    pub(super) fn clear(&mut self) {
        self.entries.clear();
        self.len = 0;
    }

    /// How many chats are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_wire::{Properties, ThreadId, UserId};

    fn chat(id: &str) -> ChatRec {
        ChatRec {
            id: ChatId::new(id),
            customer: UserId::new("c"),
            agents: Vec::new(),
            properties: Properties::new(),
            scopes: Default::default(),
            next_event_order: 1,
            last_activity: 0,
            activity_seq: 0,
            last_seen: Default::default(),
            held: Default::default(),
        }
    }

    fn thread(id: &str, order: u64) -> ThreadRec {
        ThreadRec {
            id: ThreadId::new(id),
            active: true,
            order,
            user_ids: Vec::new(),
            properties: Properties::new(),
            last_activity: 0,
            events: 0,
        }
    }

    #[test]
    fn the_last_thread_follows_writes_and_the_cache_stays_bounded() {
        let mut hot = Hot::default();
        let c = ChatId::new("C");
        hot.put_last_thread(100, &c, &thread("T1", 1));
        hot.wrote_thread(100, &c, &thread("T2", 2));
        assert_eq!(hot.last_thread(100, &c).map(|t| t.id.as_str()), Some("T2"));
        hot.wrote_thread(100, &c, &thread("T1", 1));
        assert_eq!(hot.last_thread(100, &c).map(|t| t.id.as_str()), Some("T2"), "an older thread is not the last");
        assert!(hot.last_thread(200, &c).is_none(), "another license's chat");
        hot.deleted_thread(100, &c);
        assert!(hot.last_thread(100, &c).is_none());
        for i in 0..HOT_CHATS + 10 {
            hot.put_chat(100 + (i % 3) as u64, &chat(&i.to_string()));
        }
        assert_eq!(hot.len(), HOT_CHATS);
        hot.clear();
        assert_eq!(hot.len(), 0);
        assert!(hot.chat(100, &ChatId::new("0")).is_none());
    }
}
