//! History cursors: older and older pages of a chat's events (protocol file, 6.7).
//!
//! Thread summaries come in batches of 25, newest first. Each page loads the newest
//! not-yet-loaded threads whose events add up to the target (about 50 events): walking the
//! batch back from its newest thread, the first thread at which the running sum reaches the
//! target and every newer one are fetched; the rest waits for the next page. When a batch is
//! used up, the next one is asked at `offset = total_threads − threads left to fetch`
//! (asking offset 0 first to learn the current total, as new threads shift offsets). The
//! cursor is done when the chat's first thread has been loaded.

use std::collections::VecDeque;

use chatio_wire::{ChatId, RequestId, ThreadId, ThreadSummary};

/// Size of a batch of thread summaries.
pub(crate) const BATCH: u64 = 25;

/// The request a step of a page makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The first batch: offset 0.
    FirstSummary,
    /// Offset 0, limit 1: only to learn the current number of threads.
    Total,
    /// A batch at this offset.
    Summary { offset: u64 },
    /// These threads' events.
    Threads(Vec<ThreadSummary>),
}

#[derive(Clone, Debug)]
pub(crate) struct History {
    pub(crate) chat: ChatId,
    /// Summaries of the current batch not loaded yet, ascending by order.
    leftover: Vec<ThreadSummary>,
    /// Threads not loaded yet; `None` before the first batch.
    left_to_fetch: Option<u64>,
    /// Order of the oldest thread loaded: later batches only bring older ones.
    oldest_loaded: Option<u64>,
    pub(crate) done: bool,
    /// `next` calls waiting, in order; the first is the running one when `running` is set.
    pub(crate) queue: VecDeque<RequestId>,
    /// The running page's current step.
    pub(crate) running: Option<Step>,
    target: u64,
}

impl History {
    pub(crate) fn new(chat: ChatId, target: u64) -> Self {
        Self {
            chat,
            leftover: Vec::new(),
            left_to_fetch: None,
            oldest_loaded: None,
            done: false,
            queue: VecDeque::new(),
            running: None,
            target: target.max(1),
        }
    }

    /// The step that starts the next page.
    pub(crate) fn first_step(&mut self) -> Step {
        if !self.leftover.is_empty() {
            return Step::Threads(self.split());
        }
        match self.left_to_fetch {
            None => Step::FirstSummary,
            Some(_) => Step::Total,
        }
    }

    /// Takes the newest leftover threads that make a page.
    fn split(&mut self) -> Vec<ThreadSummary> {
        let mut sum = 0u64;
        let mut cut = 0;
        for (i, s) in self.leftover.iter().enumerate().rev() {
            match s.total_events {
                Some(n) => sum = sum.saturating_add(n),
                // Unknown counts (D2): take the whole batch.
                None => {
                    cut = 0;
                    break;
                }
            }
            if sum >= self.target {
                cut = i;
                break;
            }
        }
        self.leftover.split_off(cut)
    }

    /// A batch arrived for the `FirstSummary` or `Summary` step. Returns the next step, or
    /// `None` when the chat has nothing (more) to load.
    pub(crate) fn on_summary(
        &mut self,
        mut batch: Vec<ThreadSummary>,
        total_threads: u64,
        first: bool,
    ) -> Option<Step> {
        if first {
            self.left_to_fetch = Some(total_threads);
        }
        // Never ask again for threads already loaded (a batch may overlap the last one when
        // threads appeared or vanished meanwhile).
        if let Some(oldest) = self.oldest_loaded {
            batch.retain(|s| s.order < oldest);
        }
        crate::order::sort_by_u64(&mut batch, |s| s.order);
        batch.dedup_by_key(|s| s.order);
        self.leftover = batch;
        if self.leftover.is_empty() {
            self.left_to_fetch = Some(0);
            self.done = true;
            return None;
        }
        Some(Step::Threads(self.split()))
    }

    /// The `Total` step answered: the offset of the next batch.
    pub(crate) fn on_total(&self, total_threads: u64) -> Step {
        let left = self.left_to_fetch.unwrap_or(total_threads);
        Step::Summary { offset: total_threads.saturating_sub(left) }
    }

    /// Threads of these orders were loaded.
    pub(crate) fn on_threads(&mut self, orders: impl IntoIterator<Item = u64>) {
        let mut loaded = 0u64;
        for o in orders {
            loaded += 1;
            self.oldest_loaded = Some(self.oldest_loaded.map_or(o, |x| x.min(o)));
        }
        let left = self.left_to_fetch.unwrap_or(0).saturating_sub(loaded);
        self.left_to_fetch = Some(left);
        if left == 0 {
            self.done = true;
        }
    }

    /// A step failed: threads that were about to be fetched go back to the leftover.
    pub(crate) fn on_failure(&mut self, step: &Step) {
        if let Step::Threads(ts) = step {
            self.leftover.extend(ts.iter().cloned());
            crate::order::sort_by_u64(&mut self.leftover, |s| s.order);
        }
    }

    /// Ids of the threads of a `Threads` step.
    pub(crate) fn ids(step: &Step) -> Vec<ThreadId> {
        match step {
            Step::Threads(ts) => ts.iter().map(|s| s.id.clone()).collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn sum(order: u64, n: u64) -> ThreadSummary {
        ThreadSummary::new(format!("T{order}"), order, n)
    }

    #[test]
    fn pages_aim_at_the_target() {
        let mut h = History::new(ChatId::new("C"), 50);
        assert_eq!(h.first_step(), Step::FirstSummary);
        let batch = vec![sum(3, 30), sum(1, 40), sum(2, 30)];
        let Some(Step::Threads(ts)) = h.on_summary(batch, 3, true) else { panic!("expected threads") };
        assert_eq!(ts.iter().map(|s| s.order).collect::<Vec<_>>(), vec![2, 3]);
        h.on_threads([2, 3]);
        assert!(!h.done);
        let Step::Threads(ts) = h.first_step() else { panic!("expected threads") };
        assert_eq!(ts.len(), 1);
        h.on_threads([1]);
        assert!(h.done);
    }

    #[test]
    fn later_batches_ask_the_total_first() {
        let mut h = History::new(ChatId::new("C"), 1);
        let _ = h.on_summary(vec![sum(30, 1)], 30, true);
        h.on_threads([30]);
        assert_eq!(h.first_step(), Step::Total);
        // Two new threads appeared meanwhile: 32 in all, 29 still to load → offset 3.
        assert_eq!(h.on_total(32), Step::Summary { offset: 3 });
        // A batch that overlaps what was loaded only yields the older threads.
        let Some(Step::Threads(ts)) = h.on_summary(vec![sum(31, 1), sum(30, 1), sum(29, 1)], 32, false) else {
            panic!("expected threads")
        };
        assert_eq!(ts.iter().map(|s| s.order).collect::<Vec<_>>(), vec![29]);
    }

    #[test]
    fn unknown_counts_take_the_whole_batch() {
        let mut h = History::new(ChatId::new("C"), 50);
        let mut newest = sum(2, 0);
        newest.total_events = None;
        let Some(Step::Threads(ts)) = h.on_summary(vec![sum(1, 100), newest], 2, true) else { panic!() };
        assert_eq!(ts.len(), 2);
    }

    #[test]
    fn an_empty_chat_is_done_at_once() {
        let mut h = History::new(ChatId::new("C"), 50);
        assert_eq!(h.on_summary(Vec::new(), 0, true), None);
        assert!(h.done);
    }

    #[test]
    fn a_failed_fetch_is_retried() {
        let mut h = History::new(ChatId::new("C"), 50);
        let Some(step) = h.on_summary(vec![sum(1, 10), sum(2, 10)], 2, true) else { panic!() };
        h.on_failure(&step);
        assert_eq!(h.first_step(), step);
    }

    #[test]
    fn zero_targets_are_raised_to_one() {
        let mut h = History::new(ChatId::new("C"), 0);
        let Some(Step::Threads(ts)) = h.on_summary(vec![sum(1, 1), sum(2, 1)], 2, true) else { panic!() };
        assert_eq!(ts.iter().map(|s| s.order).collect::<Vec<_>>(), vec![2]);
    }
}
