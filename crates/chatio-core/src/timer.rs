//! Timers as data: one slot per kind, the next deadline is the earliest slot.

use std::time::Instant;

/// The session's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Send a `ping` frame.
    Ping = 0,
    /// The earliest request deadline.
    Requests = 1,
    /// Reconnect after a backoff.
    Reconnect = 2,
    /// The earliest trailing sneak peek.
    SneakPeek = 3,
    /// Ask for a token again after the provider failed.
    TokenRetry = 4,
}

/// A deadline per [`Timer`].
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerTable([Option<Instant>; 5]);

impl TimerTable {
    pub(crate) fn set(&mut self, t: Timer, at: Instant) {
        self.0[t as usize] = Some(at);
    }

    pub(crate) fn set_opt(&mut self, t: Timer, at: Option<Instant>) {
        self.0[t as usize] = at;
    }

    pub(crate) fn stop(&mut self, t: Timer) {
        self.0[t as usize] = None;
    }

    pub(crate) fn get(&self, t: Timer) -> Option<Instant> {
        self.0[t as usize]
    }

    /// Whether `t` is set and due at `now`.
    pub(crate) fn expired(&self, t: Timer, now: Instant) -> bool {
        self.get(t).is_some_and(|at| at <= now)
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.0.iter().flatten().min().copied()
    }
}
