//! async-std (feature `async-std`, the default). async-std is unmaintained upstream in
//! favour of smol; it stays the default because it was asked for.

use std::io;
use std::time::Instant;

use super::{BoxFuture, BoxIo, Runtime};

/// The async-std runtime.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    fn spawn(&self, task: BoxFuture<()>) {
        drop(async_std::task::spawn(task));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        Box::pin(async move {
            let wait = deadline.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                async_std::task::sleep(wait).await;
            }
        })
    }

    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<io::Result<BoxIo>> {
        let host = host.to_owned();
        Box::pin(async move {
            let s = async_std::net::TcpStream::connect((host.as_str(), port)).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(s) as BoxIo)
        })
    }

    fn name(&self) -> &'static str {
        "async-std"
    }
}
