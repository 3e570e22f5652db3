//! What [`CustomerSdk::init`](crate::CustomerSdk::init) needs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chatio_core::{Cause, Error, Operation, OutboxPolicy};
use chatio_transport::TlsConfig;
use chatio_transport::runtime::Runtime;
use chatio_transport::token::{AccountsIdentity, RefreshListener};
use chatio_transport::token::{Credentials, StaticToken, TokenProvider};
use chatio_wire::{CustomerData, LicenseId, Token, UserId};
use url::Url;

/// Where the SDK gets its customer access tokens.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum TokenSource {
    /// The customer token endpoint `POST <accounts_url>/customer/`, cached until expiry
    /// (the default): a new customer, resumed for later tokens by the refresh token that
    /// came with its first one (G11). Keep the latest refresh token
    /// ([`Config::on_refresh_token`]) to resume the customer in a later run.
    #[default]
    Accounts,
    /// The customer this refresh token resumes, through the token endpoint (a token kept
    /// from an earlier run; each use rotates it, so keep the latest with
    /// [`Config::on_refresh_token`]).
    AccountsResume(Token),
    /// A server-side app naming the customer: `customer_id` with the app token (the
    /// server's `--app-token`). For backends that map their own users to customers, and
    /// tests that pin ids; never in a browser.
    AccountsFor {
        /// The customer id.
        customer: UserId,
        /// The app token.
        app_token: Token,
    },
    /// A token the program already has.
    Static(Credentials),
    /// Any provider.
    Provider(Arc<dyn TokenProvider>),
}

impl fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenSource::Accounts => f.write_str("Accounts"),
            TokenSource::AccountsResume(_) => f.write_str("AccountsResume(<redacted>)"),
            TokenSource::AccountsFor { customer, .. } => {
                f.debug_struct("AccountsFor").field("customer", customer).field("app_token", &"<redacted>").finish()
            }
            TokenSource::Static(c) => f.debug_tuple("Static").field(c).finish(),
            TokenSource::Provider(_) => f.write_str("Provider(..)"),
        }
    }
}

/// The SDK's configuration: the JS SDK's `init({license, clientId, redirectUri})` plus the
/// server addresses (the hosted chat.io service is gone) and the Rust SDK's own options.
#[derive(Clone)]
#[non_exhaustive]
pub struct Config {
    /// The license (account) number.
    pub license: LicenseId,
    /// The application's client id.
    pub client_id: String,
    /// The application's redirect URI (sent to the token endpoint).
    pub redirect_uri: String,
    /// The Customer API base URL (default `https://api.chat.io`).
    pub server_url: String,
    /// The accounts (token endpoint) base URL (default `https://accounts.chat.io`).
    pub accounts_url: String,
    /// Where tokens come from.
    pub token: TokenSource,
    /// What happens to unacknowledged `send_event`s on disconnect.
    pub outbox: OutboxPolicy,
    /// Customer data sent with every login.
    pub customer: CustomerData,
    /// The runtime to run on (default: see `chatio_transport::runtime::default_runtime`).
    pub runtime: Option<Arc<dyn Runtime>>,
    /// TLS settings for `https`/`wss` URLs (in a browser, which does its own TLS, there is
    /// nothing to set).
    pub tls: TlsConfig,
    /// Seed of the session's randomness (default: random).
    pub seed: Option<u64>,
    /// How long a request may wait for its answer (15 s).
    pub request_timeout: Duration,
    /// Events a history page aims at (50, as the JS SDK).
    pub history_page_events: u64,
    /// Largest frame accepted from the server (16 MiB; see
    /// [`chatio_core::Config::max_frame_len`]).
    pub max_frame_len: usize,
    /// An observer of every frame and connection event (debugging, recording).
    pub tap: Option<Arc<dyn chatio_transport::Tap>>,
    /// Delays between reconnect attempts (1 s to 5 s, jitter 0.5).
    pub reconnect: chatio_core::Backoff,
    /// How many events are kept for slow [`events()`](crate::CustomerSdk::events)
    /// subscribers (1 024; see [`Events`](crate::Events) for the policy).
    pub event_buffer: usize,
    /// Send `start_chat` in the JS SDK's legacy `{routing_scope, events, properties}` shape
    /// (D1) instead of the reference `{chat: {scopes, properties, thread}}` (default false).
    pub legacy_start_chat: bool,
    /// Told each new refresh token of [`TokenSource::Accounts`] and
    /// [`TokenSource::AccountsResume`] (see [`Config::on_refresh_token`]).
    pub on_refresh_token: Option<RefreshListener>,
    /// Where the SDK keeps what must survive a restart (none by default: everything lives in
    /// the process). See [`Config::store`] and, natively with the `sqlite` feature,
    /// `Config::store_path`.
    pub store: Option<Arc<dyn chatio_transport::store::Store>>,
    /// Most events waiting to be delivered at once (1 000): one more `send_message` fails
    /// with [`Error::OutboxFull`].
    pub max_outbox: usize,
    /// The history cache a store keeps: events per chat (50; 0: none) and chats (20). See
    /// [`Config::history_cache`].
    pub cached_events: u32,
    /// See [`Config::cached_events`].
    pub cached_chats: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("license", &self.license)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("server_url", &self.server_url)
            .field("accounts_url", &self.accounts_url)
            .field("token", &self.token)
            .field("outbox", &self.outbox)
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The core session's settings from these, the same for the native and the browser
    /// driver; `seed` is the session's id seed.
    /// The server and accounts URLs, parsed (the native and browser `init` alike).
    ///
    /// # Errors
    /// [`Error::Config`] naming the URL that does not parse.
    pub(crate) fn urls(&self) -> Result<(Url, Url), Error> {
        let parse = |what: &str, url: &str| {
            Url::parse(url).map_err(|e| Error::Config {
                reason: format!("the {what} `{url}` is not a valid URL"),
                source: Some(Cause::new(e)),
            })
        };
        Ok((parse("server URL", &self.server_url)?, parse("accounts URL", &self.accounts_url)?))
    }

    /// The session's token provider: the given token, the caller's provider, or the token
    /// endpoint's provider that `accounts` builds for the customer id to pin (the native and
    /// browser `init` differ only in that provider).
    ///
    /// # Errors
    /// What `accounts` fails with, as a [`Operation::FetchToken`] error.
    pub(crate) fn token_provider<P: TokenProvider>(
        &self,
        accounts: impl FnOnce(AccountsIdentity) -> Result<P, chatio_transport::Error>,
    ) -> Result<Arc<dyn TokenProvider>, Error> {
        let identity = match &self.token {
            TokenSource::Static(c) => return Ok(Arc::new(StaticToken::new(c.clone()))),
            TokenSource::Provider(p) => return Ok(p.clone()),
            TokenSource::Accounts => AccountsIdentity::New,
            TokenSource::AccountsResume(t) => AccountsIdentity::Refresh(t.clone()),
            TokenSource::AccountsFor { customer, app_token } => {
                AccountsIdentity::ServerApp { customer: customer.clone(), app_token: app_token.clone() }
            }
        };
        let provider = accounts(identity).map_err(|e| e.into_core(Operation::FetchToken))?;
        Ok(Arc::new(provider))
    }

    pub(crate) fn core_config(&self, seed: u64) -> chatio_core::Config {
        let mut core = chatio_core::Config::new(self.license, seed);
        core.customer = self.customer.clone();
        core.outbox = self.outbox;
        core.request_timeout = self.request_timeout;
        core.history_page_events = self.history_page_events;
        core.max_frame_len = self.max_frame_len;
        core.reconnect = self.reconnect;
        core.legacy_start_chat = self.legacy_start_chat;
        core.max_outbox = self.max_outbox;
        core.cached_events = self.cached_events;
        core.cached_chats = self.cached_chats;
        core
    }

    /// The driver's settings (the native and browser `init` alike).
    pub(crate) fn driver_config(&self, server: Url) -> chatio_transport::DriverConfig {
        let mut d = chatio_transport::DriverConfig::new(server);
        d.tap = self.tap.clone();
        d.event_capacity = self.event_buffer;
        d.store = self.store.clone();
        d
    }

    /// A configuration for a license and an application client id.
    pub fn new(license: impl Into<LicenseId>, client_id: impl Into<String>) -> Self {
        Self {
            license: license.into(),
            client_id: client_id.into(),
            redirect_uri: "https://localhost/".into(),
            server_url: "https://api.chat.io".into(),
            accounts_url: "https://accounts.chat.io".into(),
            token: TokenSource::Accounts,
            outbox: OutboxPolicy::Resend,
            customer: CustomerData::default(),
            runtime: None,
            tls: TlsConfig::default(),
            seed: None,
            request_timeout: Duration::from_secs(15),
            history_page_events: 50,
            max_frame_len: chatio_core::DEFAULT_MAX_FRAME_LEN,
            tap: None,
            reconnect: chatio_core::Backoff::socket(),
            event_buffer: chatio_transport::bus::DEFAULT_CAPACITY,
            legacy_start_chat: false,
            on_refresh_token: None,
            store: None,
            max_outbox: chatio_core::DEFAULT_MAX_OUTBOX,
            cached_events: chatio_core::DEFAULT_CACHED_EVENTS,
            cached_chats: chatio_core::DEFAULT_CACHED_CHATS,
        }
    }

    /// Keeps the outbox and the customer's identity in `store`: a message accepted by
    /// `send_message`/`send_event` is in the store before it is sent, and one whose delivery
    /// was not confirmed (the process was killed, the page closed, the session destroyed
    /// while offline) is delivered exactly once by the next session on the same store —
    /// checked by `custom_id` against the server's history first, then sent if missing. With
    /// [`TokenSource::Accounts`] (the default) the latest refresh token is kept too, so the
    /// next session on the store is the same customer without the application keeping
    /// anything ([`on_refresh_token`](Self::on_refresh_token) still works;
    /// [`TokenSource::AccountsResume`] and `AccountsFor` take precedence over the kept one);
    /// [`CustomerSdk::forget`](crate::CustomerSdk::forget) wipes it all. With a `Static` token
    /// or your own provider, use the same customer with the same store. A store that cannot be used (another process
    /// holds it, a damaged or foreign file, a full disk) is reported as
    /// [`SdkEvent::StoreUnavailable`](crate::SdkEvent::StoreUnavailable) and the session goes
    /// on in memory.
    #[must_use]
    pub fn store(mut self, store: impl chatio_transport::store::Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Bounds the history cache a [store](Self::store) keeps: the latest `events_per_chat`
    /// events of each of the `chats` chats updated last (defaults 50 and 20; 0 events: no
    /// cache). At start the cached events are emitted per chat as
    /// [`SdkEvent::CachedHistory`](crate::SdkEvent::CachedHistory), before `Connected`. A chat's
    /// cache is trimmed to `events_per_chat` when it reaches twice as many; one chat more
    /// evicts the chat updated longest ago.
    #[must_use]
    pub fn history_cache(mut self, events_per_chat: u32, chats: usize) -> Self {
        self.cached_events = events_per_chat;
        self.cached_chats = chats;
        self
    }

    /// Sets the most events waiting to be delivered at once (at least 1; default 1 000).
    #[must_use]
    pub fn max_outbox(mut self, events: usize) -> Self {
        self.max_outbox = events.max(1);
        self
    }

    /// Calls `listener` with each new refresh token the token endpoint gives (G11): keep
    /// the latest (a file, a database, `localStorage`) and start a later run with
    /// [`TokenSource::AccountsResume`] to be the same customer again. Each use rotates it:
    /// an older one used again revokes them all.
    #[must_use]
    pub fn on_refresh_token(mut self, listener: impl Fn(&Token) + Send + Sync + 'static) -> Self {
        self.on_refresh_token = Some(Arc::new(listener));
        self
    }

    /// Sets the redirect URI.
    #[must_use]
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = uri.into();
        self
    }

    /// Uses one server for the API and the token endpoint (as the reference server serves
    /// both), e.g. `http://127.0.0.1:8080`.
    #[must_use]
    pub fn server(mut self, url: impl Into<String>) -> Self {
        let url = url.into();
        self.accounts_url = url.clone();
        self.server_url = url;
        self
    }

    /// Sets the accounts (token endpoint) URL alone.
    #[must_use]
    pub fn accounts(mut self, url: impl Into<String>) -> Self {
        self.accounts_url = url.into();
        self
    }

    /// Sets where tokens come from.
    #[must_use]
    pub fn token(mut self, token: TokenSource) -> Self {
        self.token = token;
        self
    }

    /// Sets the outbox policy.
    #[must_use]
    pub fn outbox(mut self, policy: OutboxPolicy) -> Self {
        self.outbox = policy;
        self
    }

    /// Sets the customer data sent at login.
    #[must_use]
    pub fn customer(mut self, customer: CustomerData) -> Self {
        self.customer = customer;
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

    /// Sets the number of events a history page aims at (whole threads are loaded, so a page
    /// can hold more).
    #[must_use]
    pub fn history_page_events(mut self, n: u64) -> Self {
        self.history_page_events = n.max(1);
        self
    }

    /// Sets the largest frame accepted from the server (default 16 MiB, at least 64 KiB). A
    /// `get_chat_threads` response carries whole threads (about 200 bytes an event), so the
    /// limit bounds the longest thread whose history can be read; a longer frame closes the
    /// connection with an error event, and the session reconnects.
    #[must_use]
    pub fn max_frame_len(mut self, bytes: usize) -> Self {
        self.max_frame_len = bytes.max(64 * 1024);
        self
    }

    /// Observes every frame and connection event (see [`chatio_transport::Tap`]; it sees
    /// the login token, so redact before logging).
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

    /// Sets how many events are kept for slow subscribers (at least 1; default 1 024). A
    /// subscriber further behind reads [`SdkEvent::Lagged`](crate::SdkEvent::Lagged).
    #[must_use]
    pub fn event_buffer(mut self, events: usize) -> Self {
        self.event_buffer = events.max(1);
        self
    }

    /// Sends `start_chat` in the JS SDK's legacy `routing_scope` shape (for servers that only
    /// know it).
    #[must_use]
    pub fn legacy_start_chat(mut self, on: bool) -> Self {
        self.legacy_start_chat = on;
        self
    }

    /// Sets the TLS settings for `https`/`wss`: natively a private CA
    /// (`TlsConfig::with_extra_roots_pem`), or any rustls client configuration, client
    /// certificates included (`TlsConfig::with_rustls`); in a browser, which does its own TLS,
    /// the type holds nothing (see [`TlsConfig`]).
    #[must_use]
    pub fn tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the request timeout.
    #[must_use]
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_license_is_typed_and_numbers_still_work() {
        assert_eq!(Config::new(LicenseId(7), "x").license, LicenseId(7));
        assert_eq!(Config::new(7, "x").license, LicenseId(7));
        assert_eq!(Config::new(7, "x").event_buffer(0).event_buffer, 1);
    }
}
