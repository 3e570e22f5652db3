//! The outbox: `send_event`s that must reach the server exactly once, across reconnects.
//!
//! Every event carries a `custom_id`. An event is *queued* until it can be sent, *in flight*
//! until its response arrives, and *unconfirmed* when the connection dropped while it was in
//! flight: it may or may not have arrived. After a reconnect the session reads the chat's
//! newest threads; unconfirmed events found there (by `custom_id`) are resolved with the stored
//! event, the others are queued again. Events of one chat go out in the order they were given,
//! and nothing of a chat is sent while that chat is being verified.
//!
//! With persistence on, every entry added and every entry whose outcome is known (removed,
//! except by [`Outbox::drain`]) is logged as a [`StoreChange`] for the driver's store; entries
//! restored from a store start *unconfirmed* (see `crate::persist`).

use std::collections::{BTreeMap, BTreeSet};
use web_time::Instant;

use std::collections::VecDeque;

use chatio_wire::{ChatId, NewEvent, RequestId};

use crate::persist::{StoreChange, StoredEvent};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Queued,
    InFlight,
    Unconfirmed,
}

#[derive(Clone, Debug)]
pub(crate) struct Entry {
    pub(crate) id: RequestId,
    pub(crate) chat: ChatId,
    pub(crate) event: NewEvent,
    pub(crate) state: State,
    /// When the in-flight send times out.
    pub(crate) deadline: Option<Instant>,
    /// The highest thread order the session knew for the chat when the event was last sent:
    /// the event went to a thread of at least that order (0 when it knew none).
    pub(crate) floor: u64,
}

impl Entry {
    pub(crate) fn custom_id(&self) -> Option<&str> {
        self.event.custom_id.as_deref()
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct Outbox {
    entries: Vec<Entry>,
    /// Chats whose unconfirmed events are being looked up.
    verifying: BTreeSet<ChatId>,
    /// Checks per chat that ended with a connection dropped for a too-large frame, since its
    /// last finished check.
    oversize: BTreeMap<ChatId, u32>,
    /// The in-flight deadlines, ordered, with their count (a multiset): the earliest is
    /// read without scanning the entries.
    deadlines: BTreeMap<Instant, usize>,
    /// Log changes for a store.
    persist: bool,
    /// The changes not drained yet.
    changes: VecDeque<StoreChange>,
}

fn add_deadline(set: &mut BTreeMap<Instant, usize>, d: Instant) {
    *set.entry(d).or_default() += 1;
}

fn remove_deadline(set: &mut BTreeMap<Instant, usize>, d: Instant) {
    if let Some(n) = set.get_mut(&d) {
        *n -= 1;
        if *n == 0 {
            set.remove(&d);
        }
    }
}

impl Outbox {
    /// Turns the change log on (see [`Session::poll_change`](crate::Session::poll_change)).
    pub(crate) fn set_persist(&mut self, on: bool) {
        self.persist = on;
        if !on {
            self.changes = VecDeque::new();
        }
    }

    /// Queues a change that is not the outbox's (identity, forget), in order with the rest.
    pub(crate) fn log(&mut self, change: StoreChange) {
        if self.persist {
            self.changes.push_back(change);
        }
    }

    /// The next change for the store.
    pub(crate) fn poll_change(&mut self) -> Option<StoreChange> {
        let c = self.changes.pop_front();
        if self.changes.is_empty() && c.is_some() {
            self.changes = VecDeque::new();
        }
        c
    }

    fn log_removed(&mut self, e: &Entry) {
        if let (true, Some(c)) = (self.persist, e.custom_id()) {
            self.changes.push_back(StoreChange::OutboxRemoved { custom_id: c.to_owned() });
        }
    }

    pub(crate) fn push(&mut self, id: RequestId, chat: ChatId, event: NewEvent) {
        if self.persist && event.custom_id.is_some() {
            self.changes.push_back(StoreChange::OutboxAdded(StoredEvent::new(chat.clone(), event.clone())));
        }
        self.entries.push(Entry { id, chat, event, state: State::Queued, deadline: None, floor: 0 });
    }

    /// An entry kept by a store from an earlier session: it may have been sent, so it is
    /// unconfirmed (checked by `custom_id` after the login), with floor 0 (every thread of its
    /// chat may hold it). Not logged: the store has it.
    pub(crate) fn restore(&mut self, id: RequestId, chat: ChatId, event: NewEvent) {
        self.entries.push(Entry { id, chat, event, state: State::Unconfirmed, deadline: None, floor: 0 });
    }

    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        self.entries.iter().any(|e| &e.id == id)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn remove(&mut self, id: &RequestId) -> Option<Entry> {
        let i = self.entries.iter().position(|e| &e.id == id)?;
        let e = self.entries.remove(i);
        self.log_removed(&e);
        if let Some(d) = e.deadline {
            remove_deadline(&mut self.deadlines, d);
        }
        // An emptied outbox gives its slots back (0.9 KiB after four messages, and a B-tree
        // node of deadlines): what an idle session holds (docs/benchmarks.md, idle memory).
        if self.entries.is_empty() {
            self.entries = Vec::new();
        }
        if self.deadlines.is_empty() {
            self.deadlines = BTreeMap::new();
        }
        Some(e)
    }

    /// Takes every entry (to fail them all). Not logged: a store keeps them for the next
    /// session, which checks whether they arrived.
    pub(crate) fn drain(&mut self) -> Vec<Entry> {
        self.verifying.clear();
        self.oversize.clear();
        self.deadlines.clear();
        std::mem::take(&mut self.entries)
    }

    /// The connection dropped: in-flight events become unconfirmed. `oversize`: it dropped
    /// because a frame from the server was too large to read, which counts against the
    /// checks in progress (their answer may be that frame, and would be again).
    pub(crate) fn connection_lost(&mut self, oversize: bool) {
        if oversize {
            for chat in &self.verifying {
                *self.oversize.entry(chat.clone()).or_default() += 1;
            }
        }
        self.verifying.clear();
        for e in &mut self.entries {
            if e.state == State::InFlight {
                e.state = State::Unconfirmed;
                e.deadline = None;
            }
        }
        // No entry is in flight any more: no deadline is left.
        self.deadlines.clear();
    }

    /// An in-flight send timed out: treat it as unconfirmed (the connection is suspect).
    pub(crate) fn timed_out(&mut self, now: Instant) -> bool {
        if self.earliest_deadline().is_none_or(|d| d > now) {
            return false;
        }
        let mut any = false;
        for e in &mut self.entries {
            if e.state == State::InFlight && e.deadline.is_some_and(|d| d <= now) {
                if let Some(d) = e.deadline.take() {
                    remove_deadline(&mut self.deadlines, d);
                }
                e.state = State::Unconfirmed;
                any = true;
            }
        }
        any
    }

    /// The earliest in-flight deadline (from the ordered index: no scan).
    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        self.deadlines.first_key_value().map(|(d, _)| *d)
    }

    /// Chats with unconfirmed events that are not being verified yet: how many, and the
    /// lowest thread order they can have gone to.
    pub(crate) fn chats_to_verify(&self) -> Vec<(ChatId, usize, u64)> {
        let mut out: Vec<(ChatId, usize, u64)> = Vec::new();
        for e in self.entries.iter().filter(|e| e.state == State::Unconfirmed && !self.verifying.contains(&e.chat)) {
            match out.iter_mut().find(|(c, _, _)| c == &e.chat) {
                Some((_, n, floor)) => {
                    *n += 1;
                    *floor = (*floor).min(e.floor);
                }
                None => out.push((e.chat.clone(), 1, e.floor)),
            }
        }
        out
    }

    /// Marks `chat` as being checked; returns how many of its checks since the last one
    /// that finished were ended by a too-large frame.
    pub(crate) fn start_verifying(&mut self, chat: ChatId) -> u32 {
        let n = self.oversize.get(&chat).copied().unwrap_or(0);
        self.verifying.insert(chat);
        n
    }

    /// Verification of `chat` ended: `found(custom_id)` says whether an event arrived.
    /// Returns the entries that arrived (removed); the rest are queued again.
    pub(crate) fn finish_verifying(&mut self, chat: &ChatId, found: impl Fn(&str) -> bool) -> Vec<Entry> {
        self.verifying.remove(chat);
        self.oversize.remove(chat);
        let (arrived, mut keep): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| &e.chat == chat && e.state == State::Unconfirmed && e.custom_id().is_some_and(&found));
        for e in keep.iter_mut().filter(|e| &e.chat == chat && e.state == State::Unconfirmed) {
            e.state = State::Queued;
        }
        self.entries = keep;
        for e in &arrived {
            self.log_removed(e);
        }
        arrived
    }

    /// Verification of `chat` failed for good: its unconfirmed entries are returned (removed).
    pub(crate) fn abandon_verifying(&mut self, chat: &ChatId) -> Vec<Entry> {
        self.verifying.remove(chat);
        self.oversize.remove(chat);
        let (gone, keep): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| &e.chat == chat && e.state == State::Unconfirmed);
        self.entries = keep;
        for e in &gone {
            self.log_removed(e);
        }
        gone
    }

    /// The next entries to send now, in order: queued ones of chats that have nothing
    /// unconfirmed or being verified before them. Marks them in flight until `deadline`, with
    /// the floor `floor_of` gives for their chat.
    pub(crate) fn take_sendable(
        &mut self,
        deadline: Instant,
        floor_of: impl Fn(&ChatId) -> Option<u64>,
    ) -> Vec<(RequestId, ChatId, NewEvent)> {
        let mut blocked: BTreeSet<ChatId> = self.verifying.clone();
        let mut out = Vec::new();
        for e in &mut self.entries {
            if blocked.contains(&e.chat) {
                continue;
            }
            match e.state {
                State::Unconfirmed => {
                    blocked.insert(e.chat.clone());
                }
                State::Queued => {
                    e.state = State::InFlight;
                    if let Some(old) = e.deadline.replace(deadline) {
                        remove_deadline(&mut self.deadlines, old);
                    }
                    add_deadline(&mut self.deadlines, deadline);
                    e.floor = floor_of(&e.chat).unwrap_or(0);
                    out.push((e.id.clone(), e.chat.clone(), e.event.clone()));
                }
                State::InFlight => {}
            }
        }
        out
    }

    /// Every custom id in the outbox (to keep generated ones unique).
    pub(crate) fn has_custom_id(&self, custom_id: &str) -> bool {
        self.entries.iter().any(|e| e.custom_id() == Some(custom_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn ev(c: &str) -> NewEvent {
        NewEvent::message("x").with_custom_id(c)
    }

    #[test]
    fn unconfirmed_blocks_later_events_of_its_chat() {
        let now = Instant::now();
        let mut o = Outbox::default();
        o.push(RequestId::new("1"), ChatId::new("A"), ev("a1"));
        o.push(RequestId::new("2"), ChatId::new("A"), ev("a2"));
        o.push(RequestId::new("3"), ChatId::new("B"), ev("b1"));
        assert_eq!(o.take_sendable(now, |c| (c.as_str() == "A").then_some(4)).len(), 3);
        o.connection_lost(false);
        o.push(RequestId::new("4"), ChatId::new("A"), ev("a3"));
        assert!(o.take_sendable(now, |_| None).is_empty());
        assert_eq!(o.chats_to_verify(), vec![(ChatId::new("A"), 2, 4), (ChatId::new("B"), 1, 0)]);
        o.start_verifying(ChatId::new("A"));
        let arrived = o.finish_verifying(&ChatId::new("A"), |c| c == "a1");
        assert_eq!(arrived.len(), 1);
        let next: Vec<_> = o.take_sendable(now, |_| None).into_iter().map(|(id, _, _)| id.to_string()).collect();
        assert_eq!(next, vec!["2", "4"]);
        assert_eq!(o.len(), 3);
    }

    #[test]
    fn timeouts_and_abandoned_checks() {
        let now = Instant::now();
        let later = now + std::time::Duration::from_secs(15);
        let mut o = Outbox::default();
        o.push(RequestId::new("1"), ChatId::new("A"), ev("a1"));
        o.push(RequestId::new("2"), ChatId::new("A"), ev("a2"));
        assert_eq!(o.take_sendable(later, |_| Some(2)).len(), 2);
        assert_eq!(o.earliest_deadline(), Some(later));
        assert!(!o.timed_out(now));
        assert!(o.timed_out(later), "in-flight events past their deadline become unconfirmed");
        assert_eq!(o.earliest_deadline(), None);
        assert_eq!(o.chats_to_verify(), vec![(ChatId::new("A"), 2, 2)]);
        o.start_verifying(ChatId::new("A"));
        assert!(o.chats_to_verify().is_empty(), "not twice");
        assert_eq!(o.abandon_verifying(&ChatId::new("A")).len(), 2);
        assert_eq!(o.len(), 0);
        o.push(RequestId::new("3"), ChatId::new("B"), ev("b1"));
        assert!(o.has_custom_id("b1") && o.contains(&RequestId::new("3")));
        assert_eq!(o.drain().len(), 1);
        assert!(!o.has_custom_id("b1"));
    }

    #[test]
    fn changes_are_logged_for_a_store_except_on_drain() {
        let now = Instant::now();
        let mut o = Outbox::default();
        o.push(RequestId::new("0"), ChatId::new("A"), ev("a0"));
        assert_eq!(o.poll_change(), None, "nothing is logged without persistence");
        o.set_persist(true);
        o.push(RequestId::new("1"), ChatId::new("A"), ev("a1"));
        o.push(RequestId::new("2"), ChatId::new("A"), ev("a2"));
        o.push(RequestId::new("3"), ChatId::new("B"), ev("b1"));
        o.restore(RequestId::new("4"), ChatId::new("C"), ev("c1"));
        let added: Vec<_> = std::iter::from_fn(|| o.poll_change()).collect();
        assert_eq!(
            added,
            ["a1", "a2", "b1"]
                .iter()
                .zip(["A", "A", "B"])
                .map(|(c, chat)| StoreChange::OutboxAdded(StoredEvent::new(ChatId::new(chat), ev(c))))
                .collect::<Vec<_>>()
        );
        assert_eq!(o.chats_to_verify(), vec![(ChatId::new("C"), 1, 0)], "a restored entry is unconfirmed");
        o.take_sendable(now, |_| None);
        o.remove(&RequestId::new("1"));
        o.connection_lost(false);
        o.start_verifying(ChatId::new("A"));
        o.finish_verifying(&ChatId::new("A"), |c| c == "a2");
        o.start_verifying(ChatId::new("B"));
        o.abandon_verifying(&ChatId::new("B"));
        let removed: Vec<_> = std::iter::from_fn(|| o.poll_change()).collect();
        let gone = |c: &str| StoreChange::OutboxRemoved { custom_id: c.into() };
        assert_eq!(removed, vec![gone("a1"), gone("a2"), gone("b1")]);
        assert_eq!(o.drain().len(), 2);
        assert_eq!(o.poll_change(), None, "drained entries stay in the store for the next session");
    }

    #[test]
    fn only_drops_for_too_large_frames_count_against_a_check() {
        let now = Instant::now();
        let mut o = Outbox::default();
        let a = ChatId::new("A");
        o.push(RequestId::new("1"), a.clone(), ev("a1"));
        o.take_sendable(now, |_| None);
        o.connection_lost(false);
        for _ in 0..5 {
            assert_eq!(o.start_verifying(a.clone()), 0, "ordinary drops never count");
            o.connection_lost(false);
        }
        assert_eq!(o.start_verifying(a.clone()), 0);
        o.connection_lost(true);
        assert_eq!(o.start_verifying(a.clone()), 1);
        o.connection_lost(true);
        assert_eq!(o.start_verifying(a.clone()), 2);
        o.connection_lost(false);
        assert_eq!(o.start_verifying(a.clone()), 2, "kept across ordinary drops");
        o.finish_verifying(&a, |_| false);
        o.take_sendable(now, |_| None);
        o.connection_lost(true);
        assert_eq!(o.start_verifying(a), 0, "a finished check starts the count again");
    }
}
