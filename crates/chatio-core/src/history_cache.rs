//! The bounds of the history cache a store keeps (see [`crate::persist`]): which chats are
//! cached, how many events each has been given since its last trim, and the changes that keep
//! both under [`Config::cached_events`](crate::Config::cached_events) and
//! [`Config::cached_chats`](crate::Config::cached_chats).

use std::collections::VecDeque;

use chatio_wire::{ChatId, Event, ThreadId};

use crate::persist::{CachedChat, CachedEvent, StoreChange};

/// The cached chats, the one updated longest ago first, each with the number of events the
/// store may hold for it (an event replaced in place is counted again, so this is an upper
/// bound: a trim may come early, never late).
#[derive(Debug, Default)]
pub(crate) struct HistoryCache {
    chats: VecDeque<(ChatId, u32)>,
    per_chat: u32,
    max_chats: usize,
}

impl HistoryCache {
    /// A cache with these bounds that starts from what a store kept (oldest first); the
    /// changes that bring the kept cache under the bounds (they may have shrunk since it was
    /// written) go to `changes`.
    pub(crate) fn restore(
        per_chat: u32,
        max_chats: usize,
        kept: &[CachedChat],
        changes: &mut impl Extend<StoreChange>,
    ) -> Self {
        let mut cache = Self { chats: VecDeque::new(), per_chat, max_chats };
        for c in kept {
            let held = u32::try_from(c.events.len()).unwrap_or(u32::MAX);
            cache.chats.push_back((c.chat.clone(), held));
            cache.bound(changes);
        }
        cache
    }

    /// Whether the cache is on (a store is attached and the bounds allow events).
    pub(crate) fn is_on(&self) -> bool {
        self.per_chat > 0 && self.max_chats > 0
    }

    /// The server's copy of an event of `chat`: cached, the chat becomes the most recently
    /// updated, and the bounds are kept (trim, eviction).
    pub(crate) fn note(
        &mut self,
        chat: &ChatId,
        thread: Option<&ThreadId>,
        event: &Event,
        changes: &mut impl Extend<StoreChange>,
    ) {
        if !self.is_on() {
            return;
        }
        let held = match self.chats.iter().position(|(c, _)| c == chat) {
            Some(i) => self.chats.remove(i).map_or(0, |(_, n)| n),
            None => 0,
        };
        self.chats.push_back((chat.clone(), held.saturating_add(1)));
        changes.extend([StoreChange::CachedEvent(CachedEvent::new(chat.clone(), thread.cloned(), event.clone()))]);
        self.bound(changes);
    }

    /// Trims the last chat if it reached twice its bound; evicts the oldest chats past the
    /// chat bound.
    fn bound(&mut self, changes: &mut impl Extend<StoreChange>) {
        if let Some((chat, held)) = self.chats.back_mut() {
            if *held >= self.per_chat.saturating_mul(2) {
                *held = self.per_chat;
                changes.extend([StoreChange::CacheTrimmed { chat: chat.clone(), keep: self.per_chat }]);
            }
        }
        while self.chats.len() > self.max_chats {
            if let Some((chat, _)) = self.chats.pop_front() {
                changes.extend([StoreChange::CacheEvicted { chat }]);
            }
        }
    }

    /// Forgets everything (the store was wiped).
    pub(crate) fn clear(&mut self) {
        self.chats.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn event(id: &str) -> Event {
        Event::new(
            id,
            1,
            chatio_wire::Timestamp::from_secs(1),
            chatio_wire::EventKind::Message(chatio_wire::Message::new("hi")),
        )
    }

    #[test]
    fn a_chat_is_trimmed_at_twice_its_bound_and_the_oldest_chat_evicted() {
        let mut changes = Vec::new();
        let mut cache = HistoryCache::restore(2, 2, &[], &mut changes);
        let (a, b, c) = (ChatId::new("A"), ChatId::new("B"), ChatId::new("C"));
        for i in 0..4 {
            cache.note(&a, None, &event(&format!("a{i}")), &mut changes);
        }
        let trims: Vec<_> = changes.iter().filter(|c| matches!(c, StoreChange::CacheTrimmed { .. })).collect();
        assert_eq!(trims, [&StoreChange::CacheTrimmed { chat: a.clone(), keep: 2 }], "once, at the fourth event");
        assert!(matches!(&changes[3], StoreChange::CachedEvent(e) if e.event.id.as_str() == "a3"));
        changes.clear();
        cache.note(&b, None, &event("b0"), &mut changes);
        cache.note(&a, None, &event("a4"), &mut changes);
        cache.note(&c, None, &event("c0"), &mut changes);
        assert_eq!(changes.last(), Some(&StoreChange::CacheEvicted { chat: b }), "B was updated longest ago");
    }

    #[test]
    fn a_kept_cache_over_smaller_bounds_is_brought_under_them() {
        let kept: Vec<_> = ["A", "B", "C"]
            .iter()
            .map(|c| {
                let events =
                    (0..5).map(|i| CachedEvent::new(ChatId::new(*c), None, event(&format!("{c}{i}")))).collect();
                CachedChat::new(ChatId::new(*c), events)
            })
            .collect();
        let mut changes = Vec::new();
        HistoryCache::restore(2, 2, &kept, &mut changes);
        assert_eq!(
            changes,
            [
                StoreChange::CacheTrimmed { chat: ChatId::new("A"), keep: 2 },
                StoreChange::CacheTrimmed { chat: ChatId::new("B"), keep: 2 },
                StoreChange::CacheTrimmed { chat: ChatId::new("C"), keep: 2 },
                StoreChange::CacheEvicted { chat: ChatId::new("A") },
            ]
        );
    }

    #[test]
    fn no_bound_no_cache() {
        let mut changes = Vec::new();
        let mut cache = HistoryCache::restore(0, 20, &[], &mut changes);
        cache.note(&ChatId::new("A"), None, &event("e"), &mut changes);
        assert_eq!(changes, []);
    }
}
