//! smol (feature `smol`).

use std::io;
use std::time::Instant;

use super::{BoxFuture, BoxIo, Runtime};

/// The smol runtime (its global executor).
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

impl Runtime for Smol {
    fn spawn(&self, task: BoxFuture<()>) {
        smol::spawn(task).detach();
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        Box::pin(async move {
            smol::Timer::at(deadline).await;
        })
    }

    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<io::Result<BoxIo>> {
        let host = host.to_owned();
        Box::pin(async move {
            let s = smol::net::TcpStream::connect((host.as_str(), port)).await?;
            s.set_nodelay(true)?;
            Ok(Box::new(s) as BoxIo)
        })
    }

    fn name(&self) -> &'static str {
        "smol"
    }
}
