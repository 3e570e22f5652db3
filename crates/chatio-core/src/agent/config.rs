//! How an [`AgentSession`](super::AgentSession) behaves.

use std::time::Duration;

use crate::backoff::Backoff;
use crate::config::DEFAULT_MAX_FRAME_LEN;

/// How an [`AgentSession`](super::AgentSession) behaves. The timing defaults are the customer
/// session's ([`Config`](crate::Config)): the protocol's keep-alive and timeout rules are the
/// same on both sides (agent protocol file, 2.4–2.5).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AgentConfig {
    /// Seed of the session's randomness (request ids, jitter).
    pub rng_seed: u64,
    /// How long a request may wait for its response (15 s).
    pub request_timeout: Duration,
    /// How often a `ping` frame keeps the connection alive (15 s).
    pub ping_interval: Duration,
    /// Silence after which a logged-in connection is reported unstable and probed (20 s).
    pub unstable_after: Duration,
    /// Silence after which the connection is taken for half-open and closed (35 s).
    pub dead_after: Duration,
    /// Reconnect delays after the socket drops (1 s to 5 s, jitter 0.5).
    pub reconnect: Backoff,
    /// Delays between login attempts after repeated failures (0.3 s to 60 s, jitter 0.3).
    pub login_backoff: Backoff,
    /// Largest server frame decoded (16 MiB, as the customer session).
    pub max_frame_len: usize,
    /// The client's name and version, sent with `login` (`application`).
    pub application: Option<(String, String)>,
    /// Log in the first time with `reconnect: true`, keeping the routing status the agent
    /// had (H21) instead of `accepting_chats`. Logins after a dropped connection always do.
    pub resume_routing_status: bool,
    /// Most chats the session keeps in its state ([`AgentSession::chats`](super::AgentSession::chats),
    /// 10 000). Past it, the chat without an active thread seen longest ago is forgotten (its
    /// pushes still arrive as events); chats with an active thread are always kept.
    pub max_chats: usize,
}

impl AgentConfig {
    /// The defaults, with this seed.
    pub fn new(rng_seed: u64) -> Self {
        Self {
            rng_seed,
            request_timeout: Duration::from_secs(15),
            ping_interval: Duration::from_secs(15),
            unstable_after: Duration::from_secs(20),
            dead_after: Duration::from_secs(35),
            reconnect: Backoff::socket(),
            login_backoff: Backoff::login(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            application: None,
            resume_routing_status: false,
            max_chats: 10_000,
        }
    }

    /// Names the client in `login`, returning `self`.
    #[must_use]
    pub fn with_application(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.application = Some((name.into(), version.into()));
        self
    }
}
