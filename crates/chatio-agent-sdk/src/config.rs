//! What [`AgentSdk::init`](crate::AgentSdk::init) needs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chatio_core::agent::AgentConfig;
use chatio_core::{Cause, Error};
#[cfg(not(target_arch = "wasm32"))]
use chatio_transport::net::TlsConfig;
use chatio_transport::runtime::Runtime;
use chatio_transport::token::{Credentials, StaticToken, TokenProvider};
use url::Url;

/// Where the SDK gets the agent's access token.
#[derive(Clone)]
#[non_exhaustive]
pub enum AgentToken {
    /// A token the program has: a fixed test token (`chatio server --agent-token`), or one an
    /// accounts sign-in gave (the implicit grant's `#access_token=…`).
    Static(Credentials),
    /// Any provider (one that can fetch a fresh token when the server refuses the old one).
    Provider(Arc<dyn TokenProvider>),
}

impl AgentToken {
    /// A bearer token.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self::Static(Credentials::bearer(access_token))
    }

    pub(crate) fn provider(&self) -> Arc<dyn TokenProvider> {
        match self {
            AgentToken::Static(c) => Arc::new(StaticToken::new(c.clone())),
            AgentToken::Provider(p) => p.clone(),
        }
    }
}

impl fmt::Debug for AgentToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentToken::Static(c) => f.debug_tuple("Static").field(c).finish(),
            AgentToken::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// The SDK's configuration: the server, the token, and the session's options.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The Agent API base URL, e.g. `http://127.0.0.1:8080` (the websocket is
    /// `<server>/agent/v0.5/rtm/ws`).
    pub server_url: String,
    /// The agent's token.
    pub token: AgentToken,
    /// The runtime to run on (default: `chatio_transport::runtime::default_runtime`).
    pub runtime: Option<Arc<dyn Runtime>>,
    /// TLS settings for `https`/`wss` URLs (native targets).
    #[cfg(not(target_arch = "wasm32"))]
    pub tls: TlsConfig,
    /// Seed of the session's randomness (default: random).
    pub seed: Option<u64>,
    /// How long a request may wait for its answer (15 s).
    pub request_timeout: Duration,
    /// Largest frame accepted from the server (16 MiB).
    pub max_frame_len: usize,
    /// An observer of every frame and connection event (it sees the login token).
    pub tap: Option<Arc<dyn chatio_transport::Tap>>,
    /// Delays between reconnect attempts (1 s to 5 s, jitter 0.5).
    pub reconnect: chatio_core::Backoff,
    /// How many events are kept for slow [`events()`](crate::AgentSdk::events) subscribers
    /// (1 024).
    pub event_buffer: usize,
    /// The client's name and version, sent with `login`.
    pub application: Option<(String, String)>,
    /// Keep the routing status the agent had at the first login too (`reconnect: true`).
    pub resume_routing_status: bool,
    /// Most chats the session keeps in its state (see
    /// [`AgentConfig::max_chats`](chatio_core::agent::AgentConfig::max_chats)).
    pub max_chats: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("server_url", &self.server_url)
            .field("token", &self.token)
            .field("application", &self.application)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// A configuration for a server and a token.
    pub fn new(server_url: impl Into<String>, token: AgentToken) -> Self {
        let defaults = AgentConfig::new(0);
        Self {
            server_url: server_url.into(),
            token,
            runtime: None,
            #[cfg(not(target_arch = "wasm32"))]
            tls: TlsConfig::default(),
            seed: None,
            request_timeout: defaults.request_timeout,
            max_frame_len: defaults.max_frame_len,
            tap: None,
            reconnect: defaults.reconnect,
            event_buffer: chatio_transport::bus::DEFAULT_CAPACITY,
            application: None,
            resume_routing_status: false,
            max_chats: defaults.max_chats,
        }
    }

    /// Names the client in `login`.
    #[must_use]
    pub fn application(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.application = Some((name.into(), version.into()));
        self
    }

    /// Runs on this runtime.
    #[must_use]
    pub fn runtime(mut self, rt: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(rt);
        self
    }

    /// Seeds the session's randomness (reproducible request ids and jitter).
    #[must_use]
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Observes every frame and connection event.
    #[must_use]
    pub fn tap(mut self, tap: Arc<dyn chatio_transport::Tap>) -> Self {
        self.tap = Some(tap);
        self
    }

    /// Sets the delays between reconnect attempts.
    #[must_use]
    pub fn reconnect(mut self, backoff: chatio_core::Backoff) -> Self {
        self.reconnect = backoff;
        self
    }

    /// Sets how many events are kept for slow subscribers (at least 1).
    #[must_use]
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }

    /// Keeps the routing status the agent had (`login` with `reconnect: true` the first time
    /// too).
    #[must_use]
    pub fn resume_routing_status(mut self, on: bool) -> Self {
        self.resume_routing_status = on;
        self
    }

    /// The server URL, parsed.
    ///
    /// # Errors
    /// [`Error::Config`] naming the URL that does not parse.
    pub(crate) fn url(&self) -> Result<Url, Error> {
        Url::parse(&self.server_url).map_err(|e| Error::Config {
            reason: format!("the server URL `{}` is not a valid URL", self.server_url),
            source: Some(Cause::new(e)),
        })
    }

    /// The session's settings.
    pub(crate) fn session_config(&self, seed: u64) -> AgentConfig {
        let mut c = AgentConfig::new(seed);
        c.request_timeout = self.request_timeout;
        c.max_frame_len = self.max_frame_len;
        c.reconnect = self.reconnect;
        c.application = self.application.clone();
        c.resume_routing_status = self.resume_routing_status;
        c.max_chats = self.max_chats;
        c
    }

    /// The driver's settings.
    pub(crate) fn driver_config(&self, server: Url) -> chatio_transport::DriverConfig {
        let mut d = chatio_transport::DriverConfig::new(server);
        d.tap = self.tap.clone();
        d.event_capacity = self.event_buffer;
        d
    }
}
