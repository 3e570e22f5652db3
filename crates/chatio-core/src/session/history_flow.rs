//! History pages: each `history_next` call runs the steps of [`History`] (thread summaries,
//! then the threads' events) one request at a time; calls made while a page loads wait in
//! the cursor's queue and are answered in order.

use web_time::Instant;

use chatio_wire::{GetChatThreads, GetChatThreadsSummary, Request, ResponseData};

use super::Session;
use crate::error::Error;
use crate::history::{self, History, Step};
use crate::model::{Event, Thread, ThreadSummary};
use crate::output::{HistoryId, Reply, SdkEvent};
use crate::pending::Purpose;

impl Session {
    /// Starts the next queued call of a cursor if none runs.
    pub(super) fn history_advance(&mut self, hid: HistoryId, now: Instant) {
        loop {
            let Some(h) = self.histories.get_mut(&hid) else { return };
            if h.running.is_some() {
                return;
            }
            let Some(op) = h.queue.front().cloned() else { return };
            if h.done {
                h.queue.pop_front();
                self.complete(op, Ok(Reply::History { events: Vec::new(), done: true }));
                continue;
            }
            let step = h.first_step();
            self.history_step(hid, step, now);
            return;
        }
    }

    fn history_step(&mut self, hid: HistoryId, step: Step, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        let chat = h.chat.clone();
        let request = match &step {
            Step::FirstSummary => {
                Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), 0, history::BATCH))
            }
            Step::Total => Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), 0, 1)),
            Step::Summary { offset } => {
                Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), *offset, history::BATCH))
            }
            Step::Threads(_) => Request::GetChatThreads(GetChatThreads::new(chat.clone(), History::ids(&step))),
        };
        h.running = Some(step);
        let id = self.new_id();
        self.submit(id, request, Purpose::History(hid), Some(chat), now);
    }

    pub(super) fn on_history(&mut self, hid: HistoryId, data: ResponseData, now: Instant) {
        enum Next {
            Step(Step),
            /// The page's events, its threads, and the server's copies for the history cache.
            Page(Vec<Event>, Vec<ThreadSummary>, Vec<(chatio_wire::ThreadId, chatio_wire::Event)>),
            Fail(Error),
        }
        let caching = self.cache.is_on();
        let Some(h) = self.histories.get_mut(&hid) else { return };
        let Some(step) = h.running.clone() else { return };
        let chat = h.chat.clone();
        let next = match (step, data) {
            (s @ (Step::FirstSummary | Step::Summary { .. }), ResponseData::GetChatThreadsSummary(r)) => {
                match h.on_summary(r.threads_summary, r.total_threads, s == Step::FirstSummary) {
                    Some(next) => Next::Step(next),
                    None => Next::Page(Vec::new(), Vec::new(), Vec::new()),
                }
            }
            (Step::Total, ResponseData::GetChatThreadsSummary(r)) => Next::Step(h.on_total(r.total_threads)),
            (Step::Threads(_), ResponseData::GetChatThreads(r)) => {
                let cached = match (caching, &r.chat.threads) {
                    (true, Some(ts)) => {
                        ts.iter().flat_map(|t| t.events.iter().map(|e| (t.id.clone(), e.clone()))).collect()
                    }
                    _ => Vec::new(),
                };
                let mut threads: Vec<Thread> =
                    r.chat.threads.unwrap_or_default().into_iter().map(|t| Thread::from_wire(t, &chat)).collect();
                crate::order::sort_by_u64(&mut threads, |t| t.order);
                h.on_threads(threads.iter().map(|t| t.order));
                let summaries = threads
                    .iter()
                    .map(|t| ThreadSummary {
                        id: t.id.clone(),
                        chat: chat.clone(),
                        order: t.order,
                        total_events: Some(t.events.len() as u64),
                    })
                    .collect();
                Next::Page(threads.into_iter().flat_map(|t| t.events).collect(), summaries, cached)
            }
            (_, other) => {
                let message = format!("unexpected `{}` answer in a history page", other.action());
                Next::Fail(Error::Protocol(crate::error::ProtocolError::unexpected_reply(message)))
            }
        };
        match next {
            Next::Step(step) => self.history_step(hid, step, now),
            Next::Page(events, summaries, cached) => {
                for (thread, e) in &cached {
                    self.cache_event(&chat, Some(thread), e);
                }
                for s in summaries {
                    self.emit(SdkEvent::ThreadSummary(s));
                }
                self.history_page(hid, events, now);
            }
            Next::Fail(err) => self.history_failed(hid, err, now),
        }
    }

    fn history_page(&mut self, hid: HistoryId, events: Vec<Event>, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        h.running = None;
        let done = h.done;
        if let Some(op) = h.queue.pop_front() {
            self.complete(op, Ok(Reply::History { events, done }));
        }
        self.history_advance(hid, now);
    }

    /// A step failed: the running call fails; the threads it was to load are kept for the
    /// next call, which starts at once if queued (unlike the JS SDK, whose queue kept the
    /// rejected calls).
    pub(super) fn history_failed(&mut self, hid: HistoryId, err: Error, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        if let Some(step) = h.running.take() {
            h.on_failure(&step);
        }
        if let Some(op) = h.queue.pop_front() {
            self.complete(op, Err(err));
        }
        self.history_advance(hid, now);
    }

    /// Every call of the cursor fails (the connection dropped under a loading page, or the
    /// session ended).
    pub(super) fn history_fail_all(&mut self, hid: HistoryId, err: &Error) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        if let Some(step) = h.running.take() {
            h.on_failure(&step);
        }
        let ops: Vec<_> = h.queue.drain(..).collect();
        let _ = self.pending.take_where(|p| p.purpose == Purpose::History(hid));
        for op in ops {
            self.complete(op, Err(err.clone()));
        }
    }
}
