//! [`CustomerSdk::init`] in a browser (`web` feature on `wasm32`): the same session on the
//! transport's browser driver.

use std::time::Duration;

use chatio_core::{Error, Instant, Operation, Session};
use chatio_transport::web;

use super::{Auth, CustomerSdk};
use crate::config::Config;

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
        let (server, accounts) = config.urls()?;
        let provider = config.token_provider(|identity| {
            let (client, redirect) = (config.client_id.clone(), config.redirect_uri.clone());
            let timeout = Duration::from_secs(15);
            let p = web::AccountsToken::new(&accounts, client, redirect, Some(config.license.0), identity, timeout)?;
            Ok(match config.on_refresh_token.clone() {
                Some(l) => p.on_refresh_token(l),
                None => p,
            })
        })?;
        let seed = config.seed.unwrap_or_else(web::random_seed);
        let session = Session::new(config.core_config(seed), Instant::now());
        let dcfg = config.driver_config(server);
        let driver = web::spawn(session, dcfg, provider.clone()).map_err(|e| e.into_core(Operation::Connect))?;
        Ok(Self { driver, auth: Auth { provider } })
    }
}
