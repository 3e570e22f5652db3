//! The native platform: a [`Runtime`] (async-std, smol, tokio or the caller's) for tasks,
//! timers and TCP; rustls for TLS; async-tungstenite for the websocket; hyper for the Web API
//! and the token endpoint. [`Native`] is the [`Platform`] the driver runs on.

pub mod http;
pub mod net;
mod socket;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod token;
mod upload;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chatio_core::{Instant, Session};
use chatio_wire::SendFileResponse;
use url::Url;

use crate::bounds::MaybeSend;
use crate::credentials::TokenProvider;
use crate::driver::{DriverConfig, spawn_on};
use crate::error::Error;
use crate::handle::DriverHandle;
use crate::platform::{NetworkEvents, Platform};
use crate::runtime::{BoxFuture, Runtime};
use crate::upload_spec::{Progress, Upload, UploadError};
use http::HttpClient;
pub use net::TlsConfig;
pub use socket::{NativeSocket, RtmSocket, connect};
pub use token::AccountsToken;
pub use upload::{file_size, send_file};

/// The native platform: a runtime and TLS settings.
#[derive(Clone, Debug)]
pub struct Native {
    rt: Arc<dyn Runtime>,
    tls: TlsConfig,
}

impl Native {
    /// Runs on `rt`, with the default TLS settings.
    pub fn new(rt: Arc<dyn Runtime>) -> Self {
        Self { rt, tls: TlsConfig::default() }
    }

    /// Uses these TLS settings for `wss://` and `https://`.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = tls;
        self
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<dyn Runtime> {
        &self.rt
    }
}

impl Platform for Native {
    type Socket = NativeSocket;
    type Sleep = BoxFuture<()>;
    type NetworkWatch = ();

    fn now(&self) -> Instant {
        self.rt.now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        self.rt.sleep_until(deadline)
    }

    fn spawn(&self, task: impl Future<Output = ()> + MaybeSend + 'static) {
        self.rt.spawn(Box::pin(task));
    }

    fn connect(
        &self,
        url: &Url,
        max_frame_len: usize,
    ) -> impl Future<Output = Result<NativeSocket, Error>> + MaybeSend + 'static {
        let (rt, tls, url) = (self.rt.clone(), self.tls.clone(), url.clone());
        async move { connect(&rt, &tls, &url, max_frame_len).await.map(NativeSocket::new) }
    }

    fn upload(
        &self,
        upload: Upload,
        progress: Option<Progress>,
        timeout: Duration,
    ) -> impl Future<Output = Result<SendFileResponse, UploadError>> + MaybeSend + 'static {
        let http = HttpClient::new(self.rt.clone(), self.tls.clone(), timeout);
        async move { send_file(&http, upload, progress).await }
    }

    /// A native program is not told when the network goes away: the socket's errors and the
    /// session's health checks find out.
    fn watch_network(&self, _events: NetworkEvents<NativeSocket>) {}
}

/// Starts a driver task for the customer `session` on `rt` (the [`Native`] platform with
/// default TLS settings; [`spawn_on`] takes any platform and session type).
///
/// # Errors
/// [`Error::InvalidUrl`] when the server URL has an unusable scheme.
pub fn spawn(
    rt: Arc<dyn Runtime>,
    session: Session,
    config: DriverConfig,
    tokens: Arc<dyn TokenProvider>,
) -> Result<DriverHandle, Error> {
    spawn_on(Native::new(rt), session, config, tokens)
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;
    use crate::driver::Driver;

    /// The size of the future `f` returns, without running it.
    fn future_size<A, B, C, F: Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
        size_of::<F>()
    }

    /// Every session's task is the driver (boxed once) plus its loop's future: the loop must
    /// not carry a second copy of the driver or a close future inline. It was 6 096 bytes
    /// (`async fn run(self)` kept the driver twice, and an inline close added 0.5 KiB).
    #[test]
    fn an_idle_driver_task_holds_the_driver_once() {
        type D = Driver<Native, Session>;
        let run = future_size(|d: Box<D>, c, i| d.run(c, i));
        assert!(run < size_of::<D>(), "the loop's future ({run} B) holds no Driver ({} B)", size_of::<D>());
        assert!(run <= 1024, "the loop's future is {run} B");
    }
}
