//! The small runtime interface the transport needs: spawn a task, sleep until an instant,
//! open a TCP connection, read the clock. One module per runtime, each behind its cargo
//! feature; features are additive and [`default_runtime`] picks one.

#[cfg(feature = "async-std")]
mod async_std_rt;
#[cfg(feature = "smol")]
mod smol_rt;
#[cfg(feature = "tokio")]
mod tokio_rt;

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use futures::io::{AsyncRead, AsyncWrite};

#[cfg(feature = "async-std")]
pub use async_std_rt::AsyncStd;
#[cfg(feature = "smol")]
pub use smol_rt::Smol;
#[cfg(feature = "tokio")]
pub use tokio_rt::Tokio;

/// A boxed future, as the runtime interface passes them.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// A byte stream (TCP, or TLS over TCP).
pub trait AsyncIo: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> AsyncIo for T {}

/// A boxed byte stream.
pub type BoxIo = Box<dyn AsyncIo>;

/// What the transport needs from an async runtime.
///
/// Implemented for async-std (`AsyncStd`), smol (`Smol`) and tokio (`Tokio`), each behind
/// its feature; implement it to run the SDK on another executor.
pub trait Runtime: Send + Sync + 'static {
    /// Runs a task in the background.
    fn spawn(&self, task: BoxFuture<()>);

    /// A future that completes at `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()>;

    /// Opens a TCP connection.
    fn connect_tcp(&self, host: &str, port: u16) -> BoxFuture<io::Result<BoxIo>>;

    /// The current time. The transport reads the clock only here.
    fn now(&self) -> Instant {
        Instant::now()
    }

    /// The runtime's name, for logs.
    fn name(&self) -> &'static str;
}

impl fmt::Debug for dyn Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Runtime({})", self.name())
    }
}

/// No runtime can be used: none is enabled, or tokio is the only one and no tokio runtime
/// is running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRuntime(pub(crate) &'static str);

impl fmt::Display for NoRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for NoRuntime {}

/// The runtime to use when the caller names none.
///
/// A running tokio runtime wins when the `tokio` feature is on (a tokio program gets tokio),
/// then async-std, then smol, in the order of the features enabled.
///
/// # Errors
/// [`NoRuntime`] when no runtime feature is enabled, or only `tokio` is and the caller is
/// not inside a tokio runtime.
pub fn default_runtime() -> Result<Arc<dyn Runtime>, NoRuntime> {
    #[cfg(feature = "tokio")]
    if let Some(rt) = Tokio::current() {
        return Ok(Arc::new(rt));
    }
    #[cfg(feature = "async-std")]
    {
        return Ok(Arc::new(AsyncStd));
    }
    #[allow(unreachable_code)]
    {
        #[cfg(feature = "smol")]
        {
            return Ok(Arc::new(Smol));
        }
        #[allow(unreachable_code)]
        Err(NoRuntime(if cfg!(feature = "tokio") {
            "the `tokio` runtime feature needs a running tokio runtime (call from inside one)"
        } else {
            "no runtime feature enabled: enable `async-std`, `smol` or `tokio`"
        }))
    }
}
