//! Session configuration.

use std::time::Duration;

use chatio_wire::{CustomerData, LicenseId};

/// What happens to `send_event`s that are in flight when the connection drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum OutboxPolicy {
    /// Keep them; after reconnecting, check which arrived (by `custom_id`) and resend only
    /// the others. No event is lost, none is sent twice. The default.
    #[default]
    Resend,
    /// Fail them with `ConnectionLost`, as the JS SDK does.
    FailOnDisconnect,
}

/// Capped exponential backoff with jitter.
///
/// Attempt `n` (from 0) waits `min(max, min × 2ⁿ)`, moved by up to ± `jitter` of itself and
/// capped at `max`: every delay lies in `[min × (1 − jitter), max]`.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// First delay.
    pub min: Duration,
    /// Largest delay.
    pub max: Duration,
    /// Randomisation factor in [0, 1].
    pub jitter: f64,
}

impl Backoff {
    /// A backoff policy; `jitter` is clamped to [0, 1] and `max` raised to `min` if lower.
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

    /// The delay before attempt `attempt` (0-based), given a random draw in [0, 1).
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let base = self.min.as_secs_f64() * 2f64.powi(attempt.min(62) as i32);
        let base = base.min(self.max.as_secs_f64());
        let r = if random.is_finite() { random.clamp(0.0, 1.0) } else { 0.5 };
        let jittered = base * (1.0 - self.jitter + 2.0 * self.jitter * r);
        Duration::from_secs_f64(jittered.min(self.max.as_secs_f64()).max(0.0))
    }

    /// The smallest delay this policy can produce.
    pub fn lower_bound(&self) -> Duration {
        self.min.mul_f64(1.0 - self.jitter)
    }
}

/// How a [`Session`](crate::Session) behaves.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The license (account) to connect to.
    pub license_id: LicenseId,
    /// Customer data sent with every `login` (`customer.fields` is always sent, `{}` if empty).
    pub customer: CustomerData,
    /// What happens to unacknowledged `send_event`s on disconnect.
    pub outbox: OutboxPolicy,
    /// How long a request may wait for its response (15 s).
    pub request_timeout: Duration,
    /// How often a `ping` frame keeps the connection alive (15 s).
    pub ping_interval: Duration,
    /// Reconnect delays after the socket drops.
    pub reconnect: Backoff,
    /// Delays between login attempts after repeated failures.
    pub login_backoff: Backoff,
    /// Minimum time between two sneak peeks of one chat (2 s).
    pub sneak_peek_interval: Duration,
    /// Events a history page aims at (50).
    pub history_page_events: u64,
    /// Seed of the session's randomness (request ids, custom ids, jitter).
    pub rng_seed: u64,
    /// Send `start_chat` in the legacy `{routing_scope, events, properties}` shape (D1).
    pub legacy_start_chat: bool,
}

impl Config {
    /// The defaults for a license, with this seed.
    pub fn new(license_id: LicenseId, rng_seed: u64) -> Self {
        Self {
            license_id,
            customer: CustomerData::default(),
            outbox: OutboxPolicy::Resend,
            request_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(15),
            reconnect: Backoff::socket(),
            login_backoff: Backoff::login(),
            sneak_peek_interval: Duration::from_secs(2),
            history_page_events: 50,
            rng_seed,
            legacy_start_chat: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_in_bounds() {
        let b = Backoff::socket();
        assert_eq!(b.delay(0, 0.5), Duration::from_secs(1));
        assert_eq!(b.delay(1, 0.5), Duration::from_secs(2));
        assert_eq!(b.delay(10, 0.5), Duration::from_secs(5));
        assert_eq!(b.delay(0, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(2, 0.999_999), Duration::from_secs(5));
        assert_eq!(b.lower_bound(), Duration::from_millis(500));
    }
}
