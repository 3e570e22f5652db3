//! The pending table: every request the session waits an answer for, why it waits, and the
//! frames not written yet.
//!
//! A request is *queued* while its frame waits for the login to finish (the JS SDK wrote them
//! before `login`, 6.14), then *sent*. Completed ids are remembered for a while so that the
//! requester's push copy that follows a response (G8) is still recognised as ours.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

use web_time::Instant;

use chatio_wire::{Action, ChatId, RequestId, ThreadId};

use crate::output::HistoryId;

/// How many completed request ids are remembered to recognise the requester's push copies.
pub(crate) const RECENT: usize = 256;

/// Why a request is pending, which says what its response does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A user command; its response completes it.
    User,
    /// An outbox `send_event` ([`OutboxPolicy::Resend`](crate::OutboxPolicy::Resend)).
    Outbox,
    /// `login` of the connect sequence.
    Login,
    /// `get_chats_summary` of the connect sequence.
    Summary,
    /// Outbox verification of a chat: a page of thread summaries.
    VerifySummary(VerifyPage),
    /// Outbox verification of a chat: the threads that may hold the unconfirmed events.
    VerifyThreads(ChatId),
    /// A step of a history page.
    History(HistoryId),
    /// A file upload the driver performs.
    Upload,
}

/// Where an outbox verification is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VerifyPage {
    /// The chat.
    pub(crate) chat: ChatId,
    /// Offset of the page asked.
    pub(crate) offset: u64,
    /// The lowest thread order the unconfirmed events can have gone to.
    pub(crate) floor: u64,
    /// Threads to read, found on earlier pages.
    pub(crate) found: Vec<ThreadId>,
}

/// One pending request, of an API whose actions are `A` (the customer's by default; the
/// agent session's are `chatio_wire::agent::Action`).
#[derive(Clone, Debug)]
pub(crate) struct Pending<A = Action> {
    pub(crate) purpose: Purpose,
    pub(crate) action: A,
    /// The chat the request is about (responses do not always name it).
    pub(crate) chat: Option<ChatId>,
    /// The frame, until it is written.
    pub(crate) frame: Option<String>,
    /// When it fails with `Timeout`.
    pub(crate) deadline: Option<Instant>,
    /// Issue order, to fail requests in the order they were made.
    pub(crate) seq: u64,
}

impl<A> Pending<A> {
    pub(crate) fn new(purpose: Purpose, action: A, chat: Option<ChatId>) -> Self {
        Self { purpose, action, chat, frame: None, deadline: None, seq: 0 }
    }

    /// Whether its frame has been written.
    pub(crate) fn is_sent(&self) -> bool {
        self.frame.is_none()
    }

    /// Whether its outcome is the user's (not an internal step).
    pub(crate) fn is_users(&self) -> bool {
        matches!(self.purpose, Purpose::User | Purpose::Upload)
    }
}

/// The requests waiting for an answer.
#[derive(Clone, Debug)]
pub(crate) struct PendingTable<A = Action> {
    map: BTreeMap<RequestId, Pending<A>>,
    /// Ids whose frames wait for the login, in issue order.
    queue: VecDeque<RequestId>,
    recent: VecDeque<RequestId>,
    recent_set: HashSet<RequestId>,
    seq: u64,
    /// Every deadline, ordered (with the request's `seq` to tell equal instants apart): the
    /// earliest is read in O(log n) after every input instead of scanning the table.
    deadlines: BTreeSet<(Instant, u64)>,
}

impl<A> Default for PendingTable<A> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            queue: VecDeque::new(),
            recent: VecDeque::new(),
            recent_set: HashSet::new(),
            seq: 0,
            deadlines: BTreeSet::new(),
        }
    }
}

impl<A> PendingTable<A> {
    /// Adds a request; a request with a frame is queued until [`take_queued`](Self::take_queued).
    pub(crate) fn insert(&mut self, id: RequestId, mut p: Pending<A>) {
        self.seq += 1;
        p.seq = self.seq;
        if let Some(d) = p.deadline {
            self.deadlines.insert((d, p.seq));
        }
        if let Some(old) = self.map.get(&id) {
            if let Some(d) = old.deadline {
                self.deadlines.remove(&(d, old.seq));
            }
        }
        if p.frame.is_some() {
            self.queue.push_back(id.clone());
        }
        self.map.insert(id, p);
    }

    pub(crate) fn get(&self, id: &RequestId) -> Option<&Pending<A>> {
        self.map.get(id)
    }

    /// Whether `id` is pending or was completed recently.
    pub(crate) fn knows(&self, id: &RequestId) -> bool {
        self.map.contains_key(id) || self.recent_set.contains(id)
    }

    pub(crate) fn remove(&mut self, id: &RequestId) -> Option<Pending<A>> {
        let p = self.map.remove(id)?;
        if let Some(d) = p.deadline {
            self.deadlines.remove(&(d, p.seq));
        }
        if !p.is_sent() {
            self.queue.retain(|q| q != id);
        }
        // An emptied B-tree keeps its last node (1.9 KiB of `Pending` slots, 0.3 KiB of
        // deadlines): an idle session gives them back (docs/benchmarks.md, idle memory).
        if self.map.is_empty() {
            self.map = BTreeMap::new();
        }
        if self.deadlines.is_empty() {
            self.deadlines = BTreeSet::new();
        }
        Some(p)
    }

    /// Remembers a finished id (for push copies, and so that no new request reuses it soon).
    pub(crate) fn remember(&mut self, id: RequestId) {
        if self.recent_set.insert(id.clone()) {
            self.recent.push_back(id);
            while self.recent.len() > RECENT {
                if let Some(old) = self.recent.pop_front() {
                    self.recent_set.remove(&old);
                }
            }
        }
    }

    /// The queued frames, in issue order; their requests count as sent from now on.
    pub(crate) fn take_queued(&mut self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.queue.len());
        while let Some(id) = self.queue.pop_front() {
            if let Some(f) = self.map.get_mut(&id).and_then(|p| p.frame.take()) {
                out.push(f);
            }
        }
        out
    }

    /// Removes the requests `pick` selects, in issue order.
    pub(crate) fn take_where(&mut self, mut pick: impl FnMut(&Pending<A>) -> bool) -> Vec<(RequestId, Pending<A>)> {
        let ids: Vec<RequestId> = self.map.iter().filter(|(_, p)| pick(p)).map(|(id, _)| id.clone()).collect();
        let mut out: Vec<(RequestId, Pending<A>)> =
            ids.into_iter().filter_map(|id| self.remove(&id).map(|p| (id, p))).collect();
        crate::order::sort_by_u64(&mut out, |(_, p)| p.seq);
        out
    }

    /// Removes every request, in issue order.
    pub(crate) fn take_all(&mut self) -> Vec<(RequestId, Pending<A>)> {
        self.queue.clear();
        self.deadlines.clear();
        let mut out: Vec<(RequestId, Pending<A>)> = std::mem::take(&mut self.map).into_iter().collect();
        crate::order::sort_by_u64(&mut out, |(_, p)| p.seq);
        out
    }

    /// The earliest request deadline (from the ordered index: no scan).
    pub(crate) fn earliest_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    /// Requests whose outcome is the user's.
    pub(crate) fn users_count(&self) -> usize {
        self.map.values().filter(|p| p.is_users()).count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn req(frame: Option<&str>, deadline: Option<Instant>) -> Pending {
        let mut p = Pending::new(Purpose::User, Action::CloseThread, None);
        p.frame = frame.map(str::to_owned);
        p.deadline = deadline;
        p
    }

    #[test]
    fn the_deadline_index_follows_every_change() {
        let t0 = Instant::now();
        let at = |s: u64| Some(t0 + Duration::from_secs(s));
        let mut t: PendingTable = PendingTable::default();
        for (id, s) in [("a", 5), ("b", 2), ("c", 9), ("d", 2)] {
            t.insert(RequestId::new(id), req(None, at(s)));
        }
        t.insert(RequestId::new("e"), req(None, None));
        assert_eq!(t.earliest_deadline(), at(2));
        t.remove(&RequestId::new("b"));
        assert_eq!(t.earliest_deadline(), at(2), "d has the same deadline");
        t.remove(&RequestId::new("d"));
        assert_eq!(t.earliest_deadline(), at(5));
        let taken = t.take_where(|p| p.deadline.is_some_and(|d| d <= t0 + Duration::from_secs(5)));
        assert_eq!(taken.len(), 1);
        assert_eq!(t.earliest_deadline(), at(9));
        // Replacing a request under the same id drops its old deadline.
        t.insert(RequestId::new("c"), req(None, at(20)));
        assert_eq!(t.earliest_deadline(), at(20));
        t.take_all();
        assert_eq!(t.earliest_deadline(), None);
    }

    #[test]
    fn queued_frames_come_out_in_issue_order() {
        let mut t: PendingTable = PendingTable::default();
        t.insert(RequestId::new("b"), req(Some("first"), None));
        t.insert(RequestId::new("a"), req(None, None));
        t.insert(RequestId::new("c"), req(Some("second"), None));
        assert_eq!(t.take_queued(), vec!["first", "second"]);
        assert!(t.take_queued().is_empty());
        assert!(t.get(&RequestId::new("b")).is_some_and(Pending::is_sent));
    }

    #[test]
    fn removing_a_queued_request_drops_its_frame() {
        let mut t: PendingTable = PendingTable::default();
        t.insert(RequestId::new("x"), req(Some("x"), None));
        t.insert(RequestId::new("y"), req(Some("y"), None));
        assert!(t.remove(&RequestId::new("x")).is_some());
        assert_eq!(t.take_queued(), vec!["y"]);
    }

    #[test]
    fn take_where_keeps_issue_order_and_the_rest() {
        let now = Instant::now();
        let mut t: PendingTable = PendingTable::default();
        for (i, id) in ["z", "m", "a"].iter().enumerate() {
            t.insert(RequestId::new(*id), req(None, Some(now + Duration::from_secs(i as u64))));
        }
        assert_eq!(t.earliest_deadline(), Some(now));
        let taken: Vec<String> = t
            .take_where(|p| p.deadline.is_some_and(|d| d <= now + Duration::from_secs(1)))
            .into_iter()
            .map(|(id, _)| id.to_string())
            .collect();
        assert_eq!(taken, vec!["z", "m"]);
        assert_eq!(t.users_count(), 1);
        assert_eq!(t.earliest_deadline(), Some(now + Duration::from_secs(2)));
    }

    #[test]
    fn recent_ids_are_forgotten_after_a_while() {
        let mut t: PendingTable = PendingTable::default();
        t.remember(RequestId::new("old"));
        assert!(t.knows(&RequestId::new("old")));
        for i in 0..RECENT {
            t.remember(RequestId::new(format!("n{i}")));
        }
        assert!(!t.knows(&RequestId::new("old")));
        assert!(t.knows(&RequestId::new("n0")));
    }
}
