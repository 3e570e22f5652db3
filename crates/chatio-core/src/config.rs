//! Session configuration.

use std::time::Duration;

use chatio_wire::{CustomerData, LicenseId};

use crate::backoff::Backoff;

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
    /// Silence (no frame at all from the server) after which a logged-in connection is
    /// reported unstable with [`SdkEvent::ConnectionUnstable`](crate::SdkEvent::ConnectionUnstable)
    /// and probed with a ping (20 s: the ping of every 15 s went unanswered for 5 s). Keep it
    /// above `ping_interval` plus the round trip.
    pub unstable_after: Duration,
    /// Silence after which the connection is taken for half-open (network gone, no FIN):
    /// the session closes it and reconnects (35 s: two pings unanswered). At least
    /// `unstable_after`.
    pub dead_after: Duration,
    /// Reconnect delays after the socket drops (1 s to 5 s, jitter 0.5). After a
    /// `too_many_connections` disconnect the session waits `reconnect.max` (G9).
    pub reconnect: Backoff,
    /// Delays between login attempts after repeated failures (0.3 s to 60 s, jitter 0.3), and
    /// between token requests after the token provider failed.
    pub login_backoff: Backoff,
    /// Minimum time between two sneak peeks of one chat (2 s).
    pub sneak_peek_interval: Duration,
    /// Events a history page aims at (50): see [`Session::history_next`](crate::Session::history_next).
    pub history_page_events: u64,
    /// Seed of the session's randomness (request ids, custom ids, jitter).
    pub rng_seed: u64,
    /// Send `start_chat` in the legacy `{routing_scope, events, properties}` shape (D1).
    pub legacy_start_chat: bool,
    /// Largest server frame decoded ([`DEFAULT_MAX_FRAME_LEN`], 16 MiB). Frames the server
    /// sends are bounded by the data, not by the 1 MiB limit on what it receives (G23): a
    /// `get_chat_threads` response carries whole threads, about 200 bytes an event. A longer
    /// frame is reported as a protocol error; the transport should close the connection on
    /// one (it cannot be read past).
    pub max_frame_len: usize,
    /// Most events the outbox holds at once ([`DEFAULT_MAX_OUTBOX`], 1 000): `send_event`
    /// beyond it fails with [`Error::OutboxFull`](crate::Error::OutboxFull) and leaves no
    /// trace. Entries restored from a store at start are all kept, even beyond it.
    pub max_outbox: usize,
    /// Events kept per chat by the history cache of a store ([`DEFAULT_CACHED_EVENTS`], 50;
    /// 0: no history cache): a chat's cache is trimmed to this many when it reaches twice
    /// as many, so a store holds at most twice this per chat.
    pub cached_events: u32,
    /// Chats kept by the history cache ([`DEFAULT_CACHED_CHATS`], 20): one more evicts the
    /// chat updated longest ago.
    pub cached_chats: usize,
}

/// The default [`Config::cached_events`]: 50 events per chat, a first screen's worth.
pub const DEFAULT_CACHED_EVENTS: u32 = 50;

/// The default [`Config::cached_chats`]: 20 chats.
pub const DEFAULT_CACHED_CHATS: usize = 20;

/// The default [`Config::max_outbox`]: 1 000 events waiting to be delivered.
pub const DEFAULT_MAX_OUTBOX: usize = 1_000;

/// The default [`Config::max_frame_len`]: 16 MiB, room for a thread of about 80 000 events.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 << 20;

/// How many checks of whether the `send_event`s in flight at a drop arrived may end with a
/// frame too large to read (see [`Config::max_frame_len`]) before the session fails those
/// events with [`Error::DeliveryUnknown`](crate::Error::DeliveryUnknown): a check that can
/// never be answered must not block the chat's later events forever. Checks interrupted by
/// ordinary drops are always started again.
pub const MAX_VERIFY_ATTEMPTS: u32 = 3;

impl Config {
    /// The defaults for a license, with this seed.
    pub fn new(license_id: LicenseId, rng_seed: u64) -> Self {
        Self {
            license_id,
            customer: CustomerData::default(),
            outbox: OutboxPolicy::Resend,
            request_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(15),
            unstable_after: Duration::from_secs(20),
            dead_after: Duration::from_secs(35),
            reconnect: Backoff::socket(),
            login_backoff: Backoff::login(),
            sneak_peek_interval: Duration::from_secs(2),
            history_page_events: 50,
            rng_seed,
            legacy_start_chat: false,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_outbox: DEFAULT_MAX_OUTBOX,
            cached_events: DEFAULT_CACHED_EVENTS,
            cached_chats: DEFAULT_CACHED_CHATS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn defaults_are_the_documented_ones() {
        let c = Config::new(LicenseId(7), 3);
        assert_eq!(c.license_id, LicenseId(7));
        assert_eq!(c.outbox, OutboxPolicy::Resend);
        assert_eq!(c.request_timeout, Duration::from_secs(15));
        assert_eq!(c.ping_interval, Duration::from_secs(15));
        assert_eq!(c.reconnect, Backoff::socket());
        assert_eq!(c.login_backoff, Backoff::login());
        assert_eq!(c.sneak_peek_interval, Duration::from_secs(2));
        assert_eq!(c.history_page_events, 50);
        assert_eq!(c.max_frame_len, 16 * 1024 * 1024);
        assert_eq!(c.rng_seed, 3);
        assert!(!c.legacy_start_chat);
    }
}
