//! [`Call`]: a command whose future can be cancelled from elsewhere (`Session::cancel`,
//! reachable from the facade).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use chatio_core::Error;
use chatio_transport::FromReply;
use chatio_wire::RequestId;

use crate::driver::DriverHandle;
use futures::FutureExt;
use futures::future::BoxFuture;

/// What a [`Canceller`] shares with its call.
#[derive(Default)]
pub(crate) struct State {
    pub(crate) cancelled: Mutex<bool>,
    pub(crate) id: Mutex<Option<(RequestId, DriverHandle)>>,
}

impl State {
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.lock().map(|c| *c).unwrap_or(false)
    }

    /// The session took the command as `id`: remember it, and cancel now if asked already.
    pub(crate) fn started(&self, id: RequestId, driver: &DriverHandle) {
        if let Ok(mut slot) = self.id.lock() {
            *slot = Some((id.clone(), driver.clone()));
        }
        if self.is_cancelled() {
            let _ = driver.exec_detached(move |s, now| {
                s.cancel(&id, now);
            });
        }
    }
}

/// Cancels a [`Call`] or an [`Upload`](crate::Upload) from another task.
#[derive(Clone)]
pub struct Canceller {
    pub(crate) state: Arc<State>,
}

impl std::fmt::Debug for Canceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Canceller")
    }
}

impl Canceller {
    /// Cancels the command (no effect once it has finished): its outcome becomes
    /// [`Error::Cancelled`]. Cancelled before the call was first polled, nothing is sent;
    /// after, the session stops waiting for it (`Session::cancel`) — a request already
    /// written may still take effect on the server.
    pub fn cancel(&self) {
        if let Ok(mut c) = self.state.cancelled.lock() {
            *c = true;
        }
        let started = self.state.id.lock().ok().and_then(|s| s.clone());
        if let Some((id, driver)) = started {
            let _ = driver.exec_detached(move |s, now| {
                s.cancel(&id, now);
            });
        }
    }
}

/// A command in flight that can be cancelled: `.await` it for the outcome, [`cancel`](Self::cancel)
/// it (or hand a [`canceller`](Self::canceller) to another task).
#[must_use = "a call does nothing until awaited"]
pub struct Call<T> {
    fut: BoxFuture<'static, Result<T, Error>>,
    state: Arc<State>,
}

impl<T> std::fmt::Debug for Call<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Call")
    }
}

impl<T: FromReply<chatio_core::Reply> + Send + 'static> Call<T> {
    pub(crate) fn new(
        driver: DriverHandle,
        f: impl FnOnce(&mut chatio_core::Session, chatio_core::Instant) -> Result<RequestId, Error> + Send + 'static,
    ) -> Self {
        let state = Arc::new(State::default());
        let st = state.clone();
        let fut = async move {
            if st.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let (id_rx, answer) = driver.call_with_id(f);
            if let Ok(id) = id_rx.await {
                st.started(id, &driver);
            }
            answer.await
        }
        .boxed();
        Self { fut, state }
    }

    /// A handle that cancels this call from elsewhere.
    pub fn canceller(&self) -> Canceller {
        Canceller { state: self.state.clone() }
    }

    /// Cancels the call (see [`Canceller::cancel`]).
    pub fn cancel(&self) {
        self.canceller().cancel();
    }
}

impl<T> Future for Call<T> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.fut.poll_unpin(cx)
    }
}
