//! Timers as data: one slot per kind, the next deadline is the earliest slot.

use web_time::Instant;

/// `now + d`, without the overflow panic of a huge configured duration (`Duration::MAX`):
/// a deadline that cannot be represented is put a century away (in effect, never).
pub(crate) fn later(now: Instant, d: std::time::Duration) -> Instant {
    now.checked_add(d).or_else(|| now.checked_add(std::time::Duration::from_secs(100 * 365 * 86_400))).unwrap_or(now)
}

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
    /// The connection's health: silence past `unstable_after`, then `dead_after`.
    Health = 5,
    /// Refresh the token before it expires.
    TokenRefresh = 6,
}

/// A deadline per [`Timer`].
#[derive(Clone, Debug, Default)]
pub(crate) struct TimerTable([Option<Instant>; 7]);

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn the_next_deadline_is_the_earliest_slot() {
        let t0 = Instant::now();
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Ping, t0 + Duration::from_secs(15));
        t.set(Timer::SneakPeek, t0 + Duration::from_secs(2));
        t.set_opt(Timer::Requests, None);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(2)));
        assert!(!t.expired(Timer::SneakPeek, t0 + Duration::from_secs(1)));
        assert!(t.expired(Timer::SneakPeek, t0 + Duration::from_secs(2)));
        assert!(!t.expired(Timer::Reconnect, t0 + Duration::from_secs(99)), "unset never expires");
        t.stop(Timer::SneakPeek);
        assert_eq!(t.get(Timer::SneakPeek), None);
        assert_eq!(t.next(), Some(t0 + Duration::from_secs(15)));
    }
}
