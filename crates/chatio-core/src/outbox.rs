//! The outbox: `send_event`s that must reach the server exactly once, across reconnects.
//!
//! Every event carries a `custom_id`. An event is *queued* until it can be sent, *in flight*
//! until its response arrives, and *unconfirmed* when the connection dropped while it was in
//! flight: it may or may not have arrived. After a reconnect the session reads the chat's
//! newest threads; unconfirmed events found there (by `custom_id`) are resolved with the stored
//! event, the others are queued again. Events of one chat go out in the order they were given,
//! and nothing of a chat is sent while that chat is being verified.

use std::collections::BTreeSet;
use std::time::Instant;

use chatio_wire::{ChatId, NewEvent, RequestId};

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
}

impl Outbox {
    pub(crate) fn push(&mut self, id: RequestId, chat: ChatId, event: NewEvent) {
        self.entries.push(Entry { id, chat, event, state: State::Queued, deadline: None });
    }

    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        self.entries.iter().any(|e| &e.id == id)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn remove(&mut self, id: &RequestId) -> Option<Entry> {
        let i = self.entries.iter().position(|e| &e.id == id)?;
        Some(self.entries.remove(i))
    }

    /// Takes every entry (to fail them all).
    pub(crate) fn drain(&mut self) -> Vec<Entry> {
        self.verifying.clear();
        std::mem::take(&mut self.entries)
    }

    /// The connection dropped: in-flight events become unconfirmed.
    pub(crate) fn connection_lost(&mut self) {
        self.verifying.clear();
        for e in &mut self.entries {
            if e.state == State::InFlight {
                e.state = State::Unconfirmed;
                e.deadline = None;
            }
        }
    }

    /// An in-flight send timed out: treat it as unconfirmed (the connection is suspect).
    pub(crate) fn timed_out(&mut self, now: Instant) -> bool {
        let mut any = false;
        for e in &mut self.entries {
            if e.state == State::InFlight && e.deadline.is_some_and(|d| d <= now) {
                e.state = State::Unconfirmed;
                e.deadline = None;
                any = true;
            }
        }
        any
    }

    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        self.entries.iter().filter_map(|e| e.deadline).min()
    }

    /// Chats with unconfirmed events that are not being verified yet, with how many.
    pub(crate) fn chats_to_verify(&self) -> Vec<(ChatId, usize)> {
        let mut out: Vec<(ChatId, usize)> = Vec::new();
        for e in self.entries.iter().filter(|e| e.state == State::Unconfirmed && !self.verifying.contains(&e.chat)) {
            match out.iter_mut().find(|(c, _)| c == &e.chat) {
                Some((_, n)) => *n += 1,
                None => out.push((e.chat.clone(), 1)),
            }
        }
        out
    }

    pub(crate) fn start_verifying(&mut self, chat: ChatId) {
        self.verifying.insert(chat);
    }

    /// Verification of `chat` ended: `found(custom_id)` says whether an event arrived.
    /// Returns the entries that arrived (removed); the rest are queued again.
    pub(crate) fn finish_verifying(&mut self, chat: &ChatId, found: impl Fn(&str) -> bool) -> Vec<Entry> {
        self.verifying.remove(chat);
        let mut arrived = Vec::new();
        let mut i = 0;
        while i < self.entries.len() {
            let e = &mut self.entries[i];
            if &e.chat == chat && e.state == State::Unconfirmed {
                if e.custom_id().is_some_and(&found) {
                    arrived.push(self.entries.remove(i));
                    continue;
                }
                e.state = State::Queued;
            }
            i += 1;
        }
        arrived
    }

    /// Verification of `chat` failed for good: its unconfirmed entries are returned (removed).
    pub(crate) fn abandon_verifying(&mut self, chat: &ChatId) -> Vec<Entry> {
        self.verifying.remove(chat);
        let (gone, keep): (Vec<Entry>, Vec<Entry>) = std::mem::take(&mut self.entries)
            .into_iter()
            .partition(|e| &e.chat == chat && e.state == State::Unconfirmed);
        self.entries = keep;
        gone
    }

    /// The next entries to send now, in order: queued ones of chats that have nothing
    /// unconfirmed or being verified before them. Marks them in flight.
    pub(crate) fn take_sendable(&mut self, deadline: Instant) -> Vec<(RequestId, ChatId, NewEvent)> {
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
                    e.deadline = Some(deadline);
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
        assert_eq!(o.take_sendable(now).len(), 3);
        o.connection_lost();
        o.push(RequestId::new("4"), ChatId::new("A"), ev("a3"));
        assert!(o.take_sendable(now).is_empty());
        assert_eq!(o.chats_to_verify(), vec![(ChatId::new("A"), 2), (ChatId::new("B"), 1)]);
        o.start_verifying(ChatId::new("A"));
        let arrived = o.finish_verifying(&ChatId::new("A"), |c| c == "a1");
        assert_eq!(arrived.len(), 1);
        let next: Vec<_> = o.take_sendable(now).into_iter().map(|(id, _, _)| id.to_string()).collect();
        assert_eq!(next, vec!["2", "4"]);
        assert_eq!(o.len(), 3);
    }
}
