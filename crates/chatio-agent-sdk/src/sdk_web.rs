//! [`AgentSdk::init`] in a browser (`web` feature on `wasm32`): the same session on the
//! transport's browser platform.

use chatio_core::agent::AgentSession;
use chatio_core::{Error, Instant, Operation};
use chatio_transport::web;

use super::AgentSdk;
use crate::config::Config;
use crate::upload_web::Images;

impl AgentSdk {
    /// Starts a session: logs in with the token and keeps the connection in the background.
    /// Subscribe with [`events`](Self::events) right away to see `Connected`.
    ///
    /// In the browser the connection is the page's `WebSocket` and the session runs on the
    /// page's task queue; call it from the page's thread. Images are uploaded with `fetch`.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable URL.
    pub fn init(config: Config) -> Result<Self, Error> {
        let server = config.url()?;
        let seed = config.seed.unwrap_or_else(web::random_seed);
        let session = AgentSession::new(config.session_config(seed), Instant::now());
        let provider = config.token.provider();
        let images = Images::new(&server, provider.clone())?;
        let driver = chatio_transport::spawn_on(web::Web, session, config.driver_config(server), provider)
            .map_err(|e| e.into_core(Operation::Connect))?;
        Ok(Self { driver, images })
    }
}
