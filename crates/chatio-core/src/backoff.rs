//! Capped exponential backoff with jitter, for reconnects and repeated login failures.
//!
//! The session keeps the attempt counter and draws the random number from its seeded RNG;
//! [`Backoff`] is only the policy, a pure function from (attempt, draw) to a delay.

use std::time::Duration;

/// Capped exponential backoff with jitter.
///
/// Attempt `n` (from 0) has the base delay `min(max, min × 2ⁿ)`, moved by up to ± `jitter` of
/// itself and capped at `max`: attempt `n` waits between `base × (1 − jitter)` and
/// `min(max, base × (1 + jitter))`, so every delay lies in `[min × (1 − jitter), max]`.
///
/// The defaults follow the successor of the JS SDK: [`Backoff::socket`] (1 s to 5 s, jitter
/// 0.5) after a dropped connection, [`Backoff::login`] (0.3 s to 60 s, jitter 0.3) after
/// repeated login failures.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// First (base) delay.
    pub min: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Randomisation factor in [0, 1].
    pub jitter: f64,
}

impl Backoff {
    /// A backoff policy; `jitter` is clamped to [0, 1] (not a number reads as 0) and `max`
    /// raised to `min` if lower.
    pub fn new(min: Duration, max: Duration, jitter: f64) -> Self {
        let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
        Self { min, max: max.max(min), jitter }
    }

    /// The socket reconnect default: 1 s to 5 s, jitter 0.5.
    pub fn socket() -> Self {
        Self::new(Duration::from_secs(1), Duration::from_secs(5), 0.5)
    }

    /// The repeated-login-failure default: 0.3 s to 60 s, jitter 0.3.
    pub fn login() -> Self {
        Self::new(Duration::from_millis(300), Duration::from_secs(60), 0.3)
    }

    /// The base delay of attempt `attempt` (0-based), before jitter.
    pub fn base(&self, attempt: u32) -> Duration {
        let factor = 2f64.powi(attempt.min(62) as i32);
        let base = self.min.as_secs_f64() * factor;
        secs(base.min(self.max.as_secs_f64()), self.max)
    }

    /// The delay before attempt `attempt` (0-based), given a random draw in [0, 1) (a draw
    /// outside is clamped; not a number reads as 0.5, no jitter).
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let base = self.base(attempt).as_secs_f64();
        let r = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.5 };
        let jittered = base * (1.0 - self.jitter + 2.0 * self.jitter * r);
        secs(jittered.clamp(0.0, self.max.as_secs_f64()), self.max)
    }

    /// The smallest delay this policy can produce.
    pub fn lower_bound(&self) -> Duration {
        secs(self.min.as_secs_f64() * (1.0 - self.jitter), self.min)
    }

    /// The bounds of the delay of attempt `attempt`: `[base × (1 − jitter), min(max, base ×
    /// (1 + jitter))]`.
    pub fn bounds(&self, attempt: u32) -> (Duration, Duration) {
        let base = self.base(attempt);
        let b = base.as_secs_f64();
        (secs(b * (1.0 - self.jitter), base), secs(b * (1.0 + self.jitter), self.max).min(self.max))
    }
}

/// Seconds as a `Duration`; a value too large for one (durations near `Duration::MAX` lose
/// precision as `f64` and round above it) becomes `cap`, never a panic.
fn secs(s: f64, cap: Duration) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(cap)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(not(target_arch = "wasm32"))]
    use proptest::prelude::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn delays_grow_then_cap() {
        let b = Backoff::socket();
        assert_eq!(b.delay(0, 0.5), Duration::from_secs(1));
        assert_eq!(b.delay(1, 0.5), Duration::from_secs(2));
        assert_eq!(b.delay(2, 0.5), Duration::from_secs(4));
        assert_eq!(b.delay(3, 0.5), Duration::from_secs(5));
        assert_eq!(b.delay(u32::MAX, 0.5), Duration::from_secs(5));
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(2, 0.999_999), Duration::from_secs(5));
        assert_eq!(b.lower_bound(), Duration::from_millis(500));
    }

    #[test]
    fn login_defaults() {
        let b = Backoff::login();
        assert_eq!(b.delay(0, 0.5), Duration::from_millis(300));
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(210));
        assert_eq!(b.delay(20, 0.5), Duration::from_secs(60));
        assert_eq!(b.bounds(20), (Duration::from_secs(42), Duration::from_secs(60)));
    }

    #[test]
    fn odd_inputs_are_tamed() {
        let b = Backoff::new(Duration::from_secs(2), Duration::from_secs(1), f64::NAN);
        assert_eq!((b.max, b.jitter), (Duration::from_secs(2), 0.0));
        assert_eq!(Backoff::new(Duration::ZERO, Duration::ZERO, 7.0).jitter, 1.0);
        let s = Backoff::socket();
        assert_eq!(s.delay(0, f64::NAN), Duration::from_secs(1));
        assert_eq!(s.delay(0, -3.0), Duration::from_millis(500));
        assert_eq!(s.delay(0, 9.0), Duration::from_millis(1500));
    }

    #[test]
    fn duration_max_settings_do_not_panic() {
        let b = Backoff::new(Duration::MAX, Duration::MAX, 0.5);
        assert_eq!(b.base(0), Duration::MAX);
        assert_eq!(b.delay(3, 0.9), Duration::MAX);
        let _ = b.lower_bound();
        let (lo, hi) = b.bounds(7);
        assert!(lo <= hi);
        let c = Backoff::new(Duration::from_secs(1), Duration::MAX, 1.0);
        assert_eq!(c.base(0), Duration::from_secs(1));
        assert!(c.delay(200, 0.99) > Duration::from_secs(1 << 40));
    }

    // proptest needs getrandom, which has no default backend on wasm32-unknown-unknown.
    #[cfg(not(target_arch = "wasm32"))]
    proptest! {
        #[test]
        fn every_delay_stays_in_its_bounds(
            min_ms in 0u64..10_000,
            extra_ms in 0u64..100_000,
            jitter in 0.0f64..=1.0,
            attempt in 0u32..100,
            r in 0.0f64..1.0,
        ) {
            let b = Backoff::new(Duration::from_millis(min_ms), Duration::from_millis(min_ms + extra_ms), jitter);
            let d = b.delay(attempt, r);
            let (lo, hi) = b.bounds(attempt);
            // One nanosecond of slack for float rounding.
            prop_assert!(d + Duration::from_nanos(1) >= lo, "{d:?} < {lo:?}");
            prop_assert!(d <= hi + Duration::from_nanos(1), "{d:?} > {hi:?}");
            prop_assert!(d <= b.max);
            prop_assert!(d + Duration::from_nanos(1) >= b.lower_bound());
        }

        #[test]
        fn the_defaults_stay_in_their_bounds(attempt in 0u32..64, r in 0.0f64..1.0) {
            let s = Backoff::socket().delay(attempt, r);
            prop_assert!(s >= Duration::from_millis(500) && s <= Duration::from_secs(5), "{s:?}");
            let l = Backoff::login().delay(attempt, r);
            prop_assert!(l >= Duration::from_millis(210) && l <= Duration::from_secs(60), "{l:?}");
        }
    }
}
