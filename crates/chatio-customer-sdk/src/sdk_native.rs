//! [`CustomerSdk::init`] on the native platform (async-std, smol, tokio or the caller's
//! runtime; rustls for TLS), and the native-only setting [`Config::store_path`].

use std::time::Duration;

use chatio_core::{Error, Operation, Session};
use chatio_transport::http::HttpClient;
use chatio_transport::runtime::default_runtime;
use chatio_transport::token::AccountsToken;

use super::{Auth, CustomerSdk};
use crate::config::Config;

#[cfg(all(not(target_arch = "wasm32"), feature = "sqlite"))]
impl Config {
    /// Keeps the outbox in the SQLite file at `path` (created if missing; see
    /// [`SqliteStore`](crate::SqliteStore) and [`Config::store`]). Native targets with the
    /// `sqlite` feature (default).
    #[must_use]
    pub fn store_path(self, path: impl Into<std::path::PathBuf>) -> Self {
        self.store(chatio_transport::sqlite::SqliteStore::new(path))
    }
}

impl CustomerSdk {
    /// Starts a session: fetches a token and connects in the background (`init` in the JS
    /// SDK). Subscribe with [`events`](Self::events) right away to see `Connected`.
    ///
    /// # Errors
    /// [`Error::Config`] for unusable URLs or when no async runtime is available (enable
    /// a runtime feature, or call from inside a tokio runtime with the `tokio` feature); the
    /// cause is its `source()`.
    pub fn init(config: Config) -> Result<Self, Error> {
        let (server, accounts) = config.urls()?;
        let rt = match config.runtime.clone() {
            Some(rt) => rt,
            None => default_runtime().map_err(|e| chatio_transport::Error::from(e).into_core(Operation::Connect))?,
        };
        let http = HttpClient::new(rt.clone(), config.tls.clone(), Duration::from_secs(15));
        let provider = config.token_provider(|identity| {
            let (client, redirect) = (config.client_id.clone(), config.redirect_uri.clone());
            let p = AccountsToken::new(http, &accounts, client, redirect, Some(config.license.0), identity)?;
            Ok(match config.on_refresh_token.clone() {
                Some(l) => p.on_refresh_token(l),
                None => p,
            })
        })?;
        let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
        let session = Session::new(config.core_config(seed), rt.now());
        let dcfg = config.driver_config(server);
        let platform = chatio_transport::Native::new(rt).with_tls(config.tls.clone());
        let driver = chatio_transport::spawn_on(platform, session, dcfg, provider.clone())
            .map_err(|e| e.into_core(Operation::Connect))?;
        Ok(Self { driver, auth: Auth { provider } })
    }
}
