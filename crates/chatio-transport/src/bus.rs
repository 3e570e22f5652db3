//! The event bus: one bounded ring of shared events, read by any number of subscribers.
//!
//! The bus carries a session's events: [`SdkEvent`]s for the customer session (the default type
//! parameter), another session type's own events for another.
//!
//! **Policy.** The driver publishes each event once, as an `Arc<E>`, into a ring of
//! `capacity` events shared by every subscriber: memory is bounded by the capacity whatever
//! the number of subscribers and however slow they are, and no event is copied per
//! subscriber. The driver never waits for a subscriber. A subscriber that falls more than
//! `capacity` events behind loses the oldest ones it had not read and is told how many with
//! a [`Lagged`](Recv::Lagged) marker (as tokio's `broadcast` does), then reads on from the
//! oldest event still kept.
//!
//! The first subscriber also reads the events published before it subscribed (those still
//! in the ring): the session connects at once, so `Connected` can come before `events()`.
//! Later subscribers start at the newest event.
//!
//! Once someone has subscribed, an event every live subscriber has read is dropped at once:
//! no later subscriber can read it, so an idle session holds no old events (before, it kept
//! its last `capacity` events whether read or not).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use chatio_core::SdkEvent;

/// The default capacity of the ring: 1 024 events.
pub const DEFAULT_CAPACITY: usize = 1024;

/// What a subscriber reads next.
#[derive(Clone, Debug, PartialEq)]
pub enum Recv<E = SdkEvent> {
    /// An event (shared with the other subscribers).
    Event(Arc<E>),
    /// The subscriber fell behind: this many events were dropped before it read them.
    Lagged(u64),
    /// The bus is closed (the session ended) and everything was read.
    Closed,
}

struct Inner<E> {
    capacity: usize,
    /// Sequence number of `ring[0]`.
    head: u64,
    ring: VecDeque<Arc<E>>,
    /// Whether anyone subscribed yet (the first subscriber reads the backlog).
    subscribed: bool,
    closed: bool,
    next_id: u64,
    wakers: HashMap<u64, Waker>,
    /// Each live subscriber's next sequence number.
    cursors: HashMap<u64, u64>,
}

/// A ring that held this many events and is empty again gives its slots back.
const SHRINK_ABOVE: usize = 64;

impl<E> Inner<E> {
    fn tail(&self) -> u64 {
        self.head + self.ring.len() as u64
    }

    /// The next sequence number subscriber `id` reads (a live subscriber always has one).
    fn cursor(&self, id: u64) -> u64 {
        self.cursors.get(&id).copied().unwrap_or_else(|| self.tail())
    }

    /// Drops the events that every live subscriber has read. Before the first subscription
    /// the ring is the first subscriber's backlog and is kept.
    fn trim(&mut self) {
        if !self.subscribed {
            return;
        }
        let keep_from = self.cursors.values().copied().min().unwrap_or_else(|| self.tail());
        while self.head < keep_from && self.ring.pop_front().is_some() {
            self.head += 1;
        }
        if self.ring.is_empty() && self.ring.capacity() > SHRINK_ABOVE {
            self.ring = VecDeque::new();
        }
    }
}

/// The publishing side, kept by the driver.
pub struct Bus<E = SdkEvent> {
    inner: Arc<Mutex<Inner<E>>>,
}

impl<E> Clone for Bus<E> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<E> std::fmt::Debug for Bus<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = self.lock();
        f.debug_struct("Bus").field("capacity", &g.capacity).field("len", &g.ring.len()).finish_non_exhaustive()
    }
}

impl<E> Bus<E> {
    /// A bus keeping at most `capacity` events (at least 1).
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                capacity: capacity.max(1),
                head: 0,
                ring: VecDeque::new(),
                subscribed: false,
                closed: false,
                next_id: 0,
                wakers: HashMap::new(),
                cursors: HashMap::new(),
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<E>> {
        // Nothing panics while holding the lock; a poisoned lock still holds consistent data.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Publishes an event to every subscriber; the oldest event goes when the ring is full.
    pub fn publish(&self, event: E) {
        let wakers: Vec<Waker> = {
            let mut g = self.lock();
            if g.closed {
                return;
            }
            g.ring.push_back(Arc::new(event));
            while g.ring.len() > g.capacity {
                g.ring.pop_front();
                g.head += 1;
            }
            g.trim();
            g.wakers.drain().map(|(_, w)| w).collect()
        };
        for w in wakers {
            w.wake();
        }
    }

    /// Ends every subscription once it has read what is kept.
    pub fn close(&self) {
        let wakers: Vec<Waker> = {
            let mut g = self.lock();
            g.closed = true;
            g.wakers.drain().map(|(_, w)| w).collect()
        };
        for w in wakers {
            w.wake();
        }
    }

    /// A new subscriber (the first one also reads the events still kept).
    pub fn subscribe(&self) -> Subscriber<E> {
        let mut g = self.lock();
        let next = if g.subscribed { g.tail() } else { g.head };
        g.subscribed = true;
        let id = g.next_id;
        g.next_id += 1;
        g.cursors.insert(id, next);
        Subscriber { inner: self.inner.clone(), id }
    }

    /// How many events the ring holds now (never more than its capacity; none that every
    /// subscriber has read).
    pub fn len(&self) -> usize {
        self.lock().ring.len()
    }

    /// Whether the ring is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The ring's capacity.
    pub fn capacity(&self) -> usize {
        self.lock().capacity
    }
}

/// One subscription: reads the bus at its own pace.
pub struct Subscriber<E = SdkEvent> {
    inner: Arc<Mutex<Inner<E>>>,
    /// Its cursor is in the bus (`Inner::cursors`), where the trimming sees every cursor.
    id: u64,
}

impl<E> std::fmt::Debug for Subscriber<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscriber").field("next", &self.lock().cursor(self.id)).finish_non_exhaustive()
    }
}

impl<E> Subscriber<E> {
    fn lock(&self) -> MutexGuard<'_, Inner<E>> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The next item if one is ready, without waiting.
    pub fn try_recv(&mut self) -> Option<Recv<E>> {
        let mut g = self.lock();
        let (next, head, tail) = (g.cursor(self.id), g.head, g.tail());
        if next < head {
            g.cursors.insert(self.id, head);
            return Some(Recv::Lagged(head - next));
        }
        if next < tail {
            let idx = usize::try_from(next - head).unwrap_or(usize::MAX);
            let e = g.ring.get(idx).cloned();
            g.cursors.insert(self.id, next + 1);
            g.trim();
            return e.map(Recv::Event);
        }
        g.closed.then_some(Recv::Closed)
    }

    /// Waits for the next item.
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Recv<E>> {
        if let Some(r) = self.try_recv() {
            return Poll::Ready(r);
        }
        let mut g = self.lock();
        // Re-check under the lock: a publish between `try_recv` and here must not be missed.
        let next = g.cursor(self.id);
        if next < g.tail() || next < g.head || g.closed {
            drop(g);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        g.wakers.insert(self.id, cx.waker().clone());
        Poll::Pending
    }

    /// How many published events this subscriber has not read yet (those dropped included).
    pub fn backlog(&self) -> u64 {
        let g = self.lock();
        g.tail().saturating_sub(g.cursor(self.id))
    }
}

impl<E> Drop for Subscriber<E> {
    fn drop(&mut self) {
        let id = self.id;
        let mut g = self.lock();
        g.wakers.remove(&id);
        g.cursors.remove(&id);
        g.trim();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatio_core::SdkEvent;
    use std::time::Duration;

    fn ev(n: u32) -> SdkEvent {
        SdkEvent::Reconnecting { attempt: n, delay: Duration::ZERO }
    }

    fn attempt(r: Option<Recv>) -> u32 {
        match r {
            Some(Recv::Event(e)) => match &*e {
                SdkEvent::Reconnecting { attempt, .. } => *attempt,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_stalled_subscriber_stays_within_the_bound_and_is_told_what_it_missed() {
        let bus = Bus::new(4);
        let mut fast = bus.subscribe();
        let mut stalled = bus.subscribe();
        for i in 0..10 {
            bus.publish(ev(i));
            assert_eq!(attempt(fast.try_recv()), i, "the fast one reads everything");
            assert!(bus.len() <= 4, "the ring never exceeds its capacity");
        }
        assert_eq!(stalled.backlog(), 10);
        assert_eq!(stalled.try_recv(), Some(Recv::Lagged(6)));
        for i in 6..10 {
            assert_eq!(attempt(stalled.try_recv()), i);
        }
        assert_eq!(stalled.try_recv(), None);
        bus.close();
        assert_eq!(stalled.try_recv(), Some(Recv::Closed));
    }

    #[test]
    fn events_are_shared_not_copied_per_subscriber() {
        let bus = Bus::new(8);
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        bus.publish(ev(1));
        match (a.try_recv(), b.try_recv()) {
            (Some(Recv::Event(x)), Some(Recv::Event(y))) => assert!(Arc::ptr_eq(&x, &y)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_first_subscriber_reads_the_backlog_later_ones_do_not() {
        let bus = Bus::new(2);
        for i in 0..3 {
            bus.publish(ev(i));
        }
        let mut first = bus.subscribe();
        let mut second = bus.subscribe();
        assert_eq!(attempt(first.try_recv()), 1, "the newest two are kept");
        assert_eq!(attempt(first.try_recv()), 2);
        assert_eq!(second.try_recv(), None);
    }

    #[test]
    fn events_every_subscriber_has_read_are_not_kept() {
        let bus = Bus::new(8);
        let mut a = bus.subscribe();
        let mut b = bus.subscribe();
        for i in 0..3 {
            bus.publish(ev(i));
        }
        for i in 0..3 {
            assert_eq!(attempt(a.try_recv()), i);
        }
        assert_eq!(bus.len(), 3, "b has read none of them");
        assert_eq!(attempt(b.try_recv()), 0);
        assert_eq!(attempt(b.try_recv()), 1);
        assert_eq!(bus.len(), 1, "only what b has not read");
        drop(b);
        assert_eq!(bus.len(), 0, "a has read everything and b is gone");
        drop(a);
        bus.publish(ev(9));
        assert_eq!(bus.len(), 0, "nobody left to read it (a new subscriber starts at the newest)");
        let mut c = bus.subscribe();
        assert_eq!(c.try_recv(), None);
        bus.publish(ev(10));
        assert_eq!(bus.len(), 1);
        assert_eq!(attempt(c.try_recv()), 10);
        assert_eq!(bus.len(), 0);
    }

    #[test]
    fn a_ring_emptied_after_a_burst_gives_its_slots_back() {
        let bus = Bus::new(DEFAULT_CAPACITY);
        let mut s = bus.subscribe();
        for i in 0..500 {
            bus.publish(ev(i));
        }
        assert!(bus.lock().ring.capacity() >= 500);
        while s.try_recv().is_some() {}
        assert_eq!(bus.len(), 0);
        assert!(bus.lock().ring.capacity() <= SHRINK_ABOVE, "{}", bus.lock().ring.capacity());
    }

    #[test]
    fn a_waiting_subscriber_is_woken() {
        let bus = Bus::new(2);
        let mut s = bus.subscribe();
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(s.poll_recv(&mut cx).is_pending());
        assert_eq!(bus.lock().wakers.len(), 1);
        bus.publish(ev(7));
        assert!(bus.lock().wakers.is_empty(), "woken and forgotten");
        assert!(matches!(s.poll_recv(&mut cx), Poll::Ready(Recv::Event(_))));
        drop(s);
        assert!(bus.lock().wakers.is_empty());
    }
}
