//! Timers on `setTimeout`.

use std::time::Duration;

use chatio_core::Instant;
use gloo_timers::future::TimeoutFuture;

/// `setTimeout` takes a signed 32-bit number of milliseconds.
const MAX_MS: u128 = i32::MAX as u128;

/// Milliseconds for `setTimeout`, rounded up (waking early would only arm the timer again).
fn millis(d: Duration) -> u32 {
    let ms = d.as_micros().div_ceil(1000).min(MAX_MS);
    u32::try_from(ms).unwrap_or(i32::MAX as u32)
}

/// A future that completes after `d` (a longer wait is capped at about 24.8 days, the
/// browser's limit; the driver re-arms from `poll_timeout` anyway).
pub fn sleep(d: Duration) -> TimeoutFuture {
    TimeoutFuture::new(millis(d))
}

/// A future that completes at `deadline` (at once if it has passed).
pub fn sleep_until(deadline: Instant) -> TimeoutFuture {
    sleep(deadline.saturating_duration_since(Instant::now()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_up_and_cap() {
        assert_eq!(millis(Duration::from_micros(1)), 1);
        assert_eq!(millis(Duration::from_millis(20)), 20);
        assert_eq!(millis(Duration::from_secs(u64::MAX)), i32::MAX as u32);
    }
}
