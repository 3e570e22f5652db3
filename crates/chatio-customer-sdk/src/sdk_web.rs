//! [`CustomerSdk::init`] in a browser (`web` feature on `wasm32`): the same session on the
//! transport's browser driver.

use std::sync::Arc;
use std::time::Duration;

use chatio_core::{Error, Instant, Operation, Session};
use chatio_transport::token::{StaticToken, TokenProvider};
use chatio_transport::web;
use url::Url;

use super::{Auth, CustomerSdk, bad_url};
use crate::config::{Config, TokenSource};

impl CustomerSdk {
    /// Starts a session: fetches a token and connects in the background (`init` in the JS
    /// SDK). Subscribe with [`events`](Self::events) right away to see `Connected`.
    ///
    /// In the browser the token endpoint is called with `fetch`, the connection is the page's
    /// `WebSocket`, and the session runs on the page's task queue (`spawn_local`); call it from
    /// the page's thread.
    ///
    /// # Errors
    /// [`Error::Config`] for unusable URLs; the cause is its `source()`.
    pub fn init(config: Config) -> Result<Self, Error> {
        let server = Url::parse(&config.server_url).map_err(|e| bad_url("server URL", &config.server_url, e))?;
        let accounts =
            Url::parse(&config.accounts_url).map_err(|e| bad_url("accounts URL", &config.accounts_url, e))?;
        let provider: Arc<dyn TokenProvider> = match config.token.clone() {
            TokenSource::Static(c) => Arc::new(StaticToken::new(c)),
            TokenSource::Provider(p) => p,
            TokenSource::Accounts | TokenSource::AccountsFor(_) => {
                let id = match &config.token {
                    TokenSource::AccountsFor(id) => Some(id.clone()),
                    _ => None,
                };
                let p = web::AccountsToken::new(
                    &accounts,
                    config.client_id.clone(),
                    config.redirect_uri.clone(),
                    Some(config.license.0),
                    id,
                    Duration::from_secs(15),
                )
                .map_err(|e| e.into_core(Operation::FetchToken))?;
                Arc::new(p)
            }
        };
        let seed = config.seed.unwrap_or_else(web::random_seed);
        let session = Session::new(config.core_config(seed), Instant::now());
        let mut dcfg = web::DriverConfig::new(server);
        dcfg.event_capacity = config.event_buffer;
        let driver = web::spawn(session, dcfg, provider.clone()).map_err(|e| e.into_core(Operation::Connect))?;
        Ok(Self { driver, auth: Auth { provider } })
    }
}
