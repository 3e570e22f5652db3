//! tokio (feature `tokio`).

use std::io;
use std::time::Instant;

use async_tungstenite::tokio::TokioAdapter;

use super::{BoxFuture, BoxIo, Runtime};

/// A tokio runtime, through its handle.
#[derive(Clone, Debug)]
pub struct Tokio(tokio::runtime::Handle);

impl Tokio {
    /// The tokio runtime the caller runs in, if any.
    pub fn current() -> Option<Self> {
        tokio::runtime::Handle::try_current().ok().map(Self)
    }

    /// A specific tokio runtime.
    pub fn from_handle(handle: tokio::runtime::Handle) -> Self {
        Self(handle)
    }
}

impl Runtime for Tokio {
    fn spawn(&self, task: BoxFuture<()>) {
        drop(self.0.spawn(task));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        let _guard = self.0.enter();
        let sleep = tokio::time::sleep_until(tokio::time::Instant::from_std(deadline));
        Box::pin(sleep)
    }

    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<io::Result<BoxIo>> {
        let host = host.to_owned();
        let handle = self.0.clone();
        Box::pin(async move {
            // Registered with the reactor of this runtime, whatever runtime polls the future.
            let s = handle.spawn(async move { tokio::net::TcpStream::connect((host.as_str(), port)).await });
            let s = s.await.map_err(io::Error::other)??;
            s.set_nodelay(true)?;
            Ok(Box::new(TokioAdapter::new(s)) as BoxIo)
        })
    }

    fn name(&self) -> &'static str {
        "tokio"
    }
}
