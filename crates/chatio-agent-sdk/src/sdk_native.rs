//! [`AgentSdk::init`] on the native platform (async-std, smol, tokio or the caller's runtime;
//! rustls for TLS).

use chatio_core::agent::AgentSession;
use chatio_core::{Error, Operation};
use chatio_transport::runtime::default_runtime;

use super::AgentSdk;
use crate::config::Config;
use crate::upload_native::Images;

impl AgentSdk {
    /// Starts a session: logs in with the token and keeps the connection in the background.
    /// Subscribe with [`events`](Self::events) right away to see `Connected`.
    ///
    /// # Errors
    /// [`Error::Config`] for an unusable URL or when no async runtime is available (enable a
    /// runtime feature, or call from inside a tokio runtime with the `tokio` feature).
    pub fn init(config: Config) -> Result<Self, Error> {
        let server = config.url()?;
        let rt = match config.runtime.clone() {
            Some(rt) => rt,
            None => default_runtime().map_err(|e| chatio_transport::Error::from(e).into_core(Operation::Connect))?,
        };
        let provider = config.token.provider();
        let images = Images::new(rt.clone(), config.tls.clone(), &server, provider.clone())?;
        let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
        let session = AgentSession::new(config.session_config(seed), rt.now());
        let platform = chatio_transport::Native::new(rt).with_tls(config.tls.clone());
        let driver = chatio_transport::spawn_on(platform, session, config.driver_config(server), provider)
            .map_err(|e| e.into_core(Operation::Connect))?;
        Ok(Self { driver, images })
    }
}
