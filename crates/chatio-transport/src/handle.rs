//! The handle on a running driver, whatever its platform and its session type: the calls it
//! sends to the driver task, the event bus it subscribes to, and the snapshot the driver
//! publishes after every step.
//!
//! A command is a closure run on the session in the driver task (`call(|s, now|
//! s.send_message(&chat, text, now))`): the facade's line names the session's method, and the
//! loop knows no command of any session type. Its outcome comes back typed ([`FromReply`]).

use std::sync::{Arc, Mutex};

use chatio_core::{Error as CoreError, Instant, Session};
use chatio_wire::RequestId;
use futures::channel::{mpsc, oneshot};

use crate::bus::{Bus, Subscriber};
use crate::credentials::Credentials;
use crate::reply::{Answer, FromReply};
use crate::session::DrivenSession;
use crate::upload_spec::{FileSource, Progress};

/// A call that yields a request id; its outcome comes later.
pub(crate) type RequestFn<S> = Box<dyn FnOnce(&mut S, Instant) -> Result<RequestId, CoreError> + Send>;
/// Where an upload's request id arrives.
pub type UploadIdReceiver = oneshot::Receiver<Result<RequestId, CoreError>>;
pub use crate::reply::ReplyReceiver;
/// Where a driver hands a command's outcome.
pub(crate) type ReplySender<R> = oneshot::Sender<Result<R, CoreError>>;
/// A call run on the session for its own result.
pub(crate) type ExecFn<S> = Box<dyn FnOnce(&mut S, Instant) + Send>;

/// A message to the driver task.
pub(crate) enum Command<S: DrivenSession> {
    Request(RequestFn<S>, ReplySender<S::Reply>, Option<oneshot::Sender<RequestId>>),
    Exec(ExecFn<S>),
    Upload {
        /// Starts the upload on the session (`send_file`).
        start: RequestFn<S>,
        source: FileSource,
        progress: Option<Progress>,
        id: oneshot::Sender<Result<RequestId, CoreError>>,
        reply: ReplySender<S::Reply>,
        abandon: oneshot::Receiver<()>,
    },
    Token(oneshot::Sender<Option<Credentials>>),
    Shutdown(oneshot::Sender<()>),
}

impl<S: DrivenSession> std::fmt::Debug for Command<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Command")
    }
}

/// Cancels its upload when dropped (see [`DriverHandle::upload`]); [`disarm`](Self::disarm)
/// it once the outcome is in.
#[derive(Debug)]
pub struct AbandonOnDrop(Option<oneshot::Sender<()>>);

impl AbandonOnDrop {
    /// The upload finished: dropping no longer cancels anything.
    pub fn disarm(mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A handle on a running driver of a session of type `S` (the customer's [`Session`] by
/// default): send it calls, subscribe to its events. Cloning shares the driver; when every
/// handle is gone the session is destroyed and the task ends.
pub struct DriverHandle<S: DrivenSession = Session> {
    tx: mpsc::UnboundedSender<Command<S>>,
    bus: Bus<S::Event>,
    state: Arc<Mutex<S::Snapshot>>,
}

impl<S: DrivenSession> Clone for DriverHandle<S> {
    fn clone(&self) -> Self {
        Self { tx: self.tx.clone(), bus: self.bus.clone(), state: self.state.clone() }
    }
}

impl<S: DrivenSession> std::fmt::Debug for DriverHandle<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverHandle").field("running", &self.is_running()).finish()
    }
}

impl<S: DrivenSession> DriverHandle<S> {
    /// The handle of a driver task that reads `tx`'s commands, publishes to `bus` and to
    /// `state`.
    pub(crate) fn new(
        tx: mpsc::UnboundedSender<Command<S>>,
        bus: Bus<S::Event>,
        state: Arc<Mutex<S::Snapshot>>,
    ) -> Self {
        Self { tx, bus, state }
    }
    /// Runs a command on the session and waits for its outcome, the session's [`Reply`](chatio_core::Reply) as
    /// it is ([`call`](Self::call) gives the command's own type).
    ///
    /// # Errors
    /// The command's error, or [`CoreError::Closed`] if the driver has ended.
    pub async fn request(
        &self,
        f: impl FnOnce(&mut S, Instant) -> Result<RequestId, CoreError> + Send + 'static,
    ) -> Result<S::Reply, CoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx.unbounded_send(Command::Request(Box::new(f), tx, None)).map_err(|_| CoreError::Closed)?;
        rx.await.unwrap_or(Err(CoreError::Closed))
    }

    /// Runs a command on the session and waits for its outcome as the command's own type
    /// ([`FromReply`]: `Chat` for `start_chat`, `()` for `close_thread`...).
    ///
    /// # Errors
    /// The command's error, [`CoreError::Closed`] if the driver has ended,
    /// [`CoreError::Bug`] if the session answered with another kind of reply.
    pub async fn call<T: FromReply<S::Reply>>(
        &self,
        f: impl FnOnce(&mut S, Instant) -> Result<RequestId, CoreError> + Send + 'static,
    ) -> Result<T, CoreError> {
        let (tx, rx) = oneshot::channel();
        self.tx.unbounded_send(Command::Request(Box::new(f), tx, None)).map_err(|_| CoreError::Closed)?;
        Answer::new(rx).await
    }

    /// [`call`](Self::call), with the request id (for [`Session::cancel`]) on the first
    /// receiver as soon as the session took the command.
    pub fn call_with_id<T: FromReply<S::Reply>>(
        &self,
        f: impl FnOnce(&mut S, Instant) -> Result<RequestId, CoreError> + Send + 'static,
    ) -> (oneshot::Receiver<RequestId>, Answer<T, S::Reply>) {
        let (id, rx) = self.request_with_id(f);
        (id, Answer::new(rx))
    }

    /// Runs a command on the session; its request id (for [`Session::cancel`]) arrives on the
    /// first receiver as soon as the session took it, its outcome on the second.
    pub fn request_with_id(
        &self,
        f: impl FnOnce(&mut S, Instant) -> Result<RequestId, CoreError> + Send + 'static,
    ) -> (oneshot::Receiver<RequestId>, ReplyReceiver<S::Reply>) {
        let (tx, rx) = oneshot::channel();
        let (id_tx, id_rx) = oneshot::channel();
        let _ = self.tx.unbounded_send(Command::Request(Box::new(f), tx, Some(id_tx)));
        (id_rx, rx)
    }

    /// Runs a function on the session (for calls with an immediate result).
    ///
    /// # Errors
    /// [`CoreError::Closed`] if the driver has ended.
    pub async fn exec<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut S, Instant) -> T + Send + 'static,
    ) -> Result<T, CoreError> {
        let (tx, rx) = oneshot::channel();
        let run: ExecFn<S> = Box::new(move |s, now| {
            let _ = tx.send(f(s, now));
        });
        self.tx.unbounded_send(Command::Exec(run)).map_err(|_| CoreError::Closed)?;
        rx.await.map_err(|_| CoreError::Closed)
    }

    /// Runs a function on the session without waiting for it.
    ///
    /// # Errors
    /// [`CoreError::Closed`] if the driver has ended.
    pub fn exec_detached(&self, f: impl FnOnce(&mut S, Instant) + Send + 'static) -> Result<(), CoreError> {
        self.tx.unbounded_send(Command::Exec(Box::new(f))).map_err(|_| CoreError::Closed)
    }

    /// Starts an upload: `start` asks the session for it (its `send_file`), the driver sends
    /// `source` when the session lets it. Returns its request id (for cancelling), the
    /// outcome, and a guard that cancels the upload when dropped before it is
    /// [disarmed](AbandonOnDrop::disarm) (so that dropping the caller's future stops the
    /// upload and posts no file event).
    ///
    /// # Errors
    /// The session's refusal (e.g. a file over 10 MiB) through the id receiver.
    pub fn upload_with(
        &self,
        start: impl FnOnce(&mut S, Instant) -> Result<RequestId, CoreError> + Send + 'static,
        source: FileSource,
        progress: Option<Progress>,
    ) -> (UploadIdReceiver, ReplyReceiver<S::Reply>, AbandonOnDrop) {
        let (id_tx, id_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        let (abandon_tx, abandon) = oneshot::channel();
        let _ = self.tx.unbounded_send(Command::Upload {
            start: Box::new(start),
            source,
            progress,
            id: id_tx,
            reply: reply_tx,
            abandon,
        });
        (id_rx, reply_rx, AbandonOnDrop(Some(abandon_tx)))
    }

    /// A new subscription to every SDK event from now on; the first one also gets the
    /// events that happened before it (those the bus still keeps). Bounded: see
    /// [`crate::bus`] for the policy. Dropping it unsubscribes.
    pub fn subscribe(&self) -> Subscriber<S::Event> {
        self.bus.subscribe()
    }

    /// The event bus (its length and capacity, for observing the bound).
    pub fn bus(&self) -> &Bus<S::Event> {
        &self.bus
    }

    /// The session's state as of the driver's last step (no round trip): for the customer
    /// session, its status and customer id.
    pub fn snapshot(&self) -> S::Snapshot {
        self.state.lock().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The current credentials, if the session has a token.
    pub async fn credentials(&self) -> Option<Credentials> {
        let (tx, rx) = oneshot::channel();
        self.tx.unbounded_send(Command::Token(tx)).ok()?;
        rx.await.ok().flatten()
    }

    /// Destroys the session and ends the driver; resolves when it has closed the socket.
    pub async fn shutdown(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.unbounded_send(Command::Shutdown(tx)).is_ok() {
            let _ = rx.await;
        }
    }

    /// Whether the driver task still runs.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }
}

impl DriverHandle<Session> {
    /// Starts an upload of `source` to `chat` as `spec` (the customer session's `send_file`);
    /// see [`upload_with`](Self::upload_with).
    ///
    /// # Errors
    /// The session's refusal (e.g. a file over 10 MiB) through the id receiver.
    pub fn upload(
        &self,
        chat: chatio_wire::ChatId,
        spec: chatio_core::FileSpec,
        source: FileSource,
        progress: Option<Progress>,
    ) -> (UploadIdReceiver, ReplyReceiver, AbandonOnDrop) {
        self.upload_with(move |s, now| s.send_file(&chat, spec, now), source, progress)
    }
}
