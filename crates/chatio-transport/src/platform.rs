//! What the [driver](crate::driver) needs from where it runs: a clock and timers, tasks, the
//! RTM websocket, Web API uploads, and (in a browser) whether the network is up. Everything
//! else — the loop, the order of writes, the transcript tap, the frame-size rule, the meaning
//! of close codes, reconnecting, waiting for the network — is the driver's, written once.
//!
//! Two platforms implement it: `Native` (a [`Runtime`](crate::runtime::Runtime)
//! with TCP, rustls, tungstenite and hyper) and, on `wasm32` with the `web` feature, the
//! browser's (`web::Web`: `WebSocket`, `XMLHttpRequest`, `setTimeout`, `spawn_local`,
//! `online`/`offline`). Implement it to drive a session anywhere else, or to test the driver
//! (`tests/fake_runtime.rs`).
//!
//! The bounds are [`MaybeSend`]/[`MaybeSync`]: `Send`/`Sync` on native targets (the driver
//! task may move between threads), nothing in the single-threaded browser (as
//! matrix-rust-sdk's `SendOutsideWasm`).

use std::future::Future;
use std::task::{Context, Poll};
use std::time::Duration;

use chatio_core::Instant;
use chatio_wire::{RequestId, SendFileResponse};
use futures::channel::mpsc;
use url::Url;

pub use crate::bounds::{MaybeSend, MaybeSync};
use crate::credentials::Credentials;
use crate::error::Error;
use crate::upload_spec::{Progress, Upload, UploadError};

/// Where a driver runs.
pub trait Platform: Clone + MaybeSend + MaybeSync + Sized + 'static {
    /// An open RTM websocket.
    type Socket: Socket;
    /// A timer ([`sleep_until`](Self::sleep_until)).
    type Sleep: Future<Output = ()> + MaybeSend + 'static;
    /// What [`watch_network`](Self::watch_network) keeps alive (listeners removed on drop).
    type NetworkWatch: MaybeSend + 'static;

    /// The current time: the only clock the driver reads.
    fn now(&self) -> Instant;

    /// A future that completes at `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: Instant) -> Self::Sleep;

    /// Runs a task in the background.
    fn spawn(&self, task: impl Future<Output = ()> + MaybeSend + 'static);

    /// Opens the RTM websocket at `url`; messages from the server longer than
    /// `max_frame_len` bytes may be refused ([`SocketEvent::TooLarge`]). The driver bounds
    /// the attempt by its `connect_timeout` (dropping the future abandons it).
    fn connect(
        &self,
        url: &Url,
        max_frame_len: usize,
    ) -> impl Future<Output = Result<Self::Socket, Error>> + MaybeSend + 'static;

    /// Sends one Web API upload, reporting progress, within `timeout`. Dropping the future
    /// cancels it.
    fn upload(
        &self,
        upload: Upload,
        progress: Option<Progress>,
        timeout: Duration,
    ) -> impl Future<Output = Result<SendFileResponse, UploadError>> + MaybeSend + 'static;

    /// Whether the network is up (a browser's `navigator.onLine`); while it is not, the
    /// driver waits for [`NetworkEvents::online`] instead of spending connection attempts.
    fn is_online(&self) -> bool {
        true
    }

    /// Reports the network going down and up on `events` for as long as the returned value
    /// lives (a browser's `offline`/`online` events). Platforms that cannot tell return a
    /// value that reports nothing.
    fn watch_network(&self, events: NetworkEvents<Self::Socket>) -> Self::NetworkWatch;
}

/// An open RTM websocket, as a platform provides it.
pub trait Socket: MaybeSend + 'static {
    /// A received text frame.
    type Text: AsRef<str> + MaybeSend;

    /// The next thing the connection reports. Cancel-safe: nothing is lost when the caller
    /// stops polling. After [`SocketEvent::Closed`], [`SocketEvent::TooLarge`] or
    /// [`SocketEvent::Failed`] the socket is not polled again.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<SocketEvent<Self::Text>>;

    /// Writes one text frame; resolves once it is handed to the connection (the driver
    /// writes the next one after).
    fn send(&mut self, frame: String) -> impl Future<Output = Result<(), Error>> + MaybeSend + '_;

    /// Closes the connection the driver still reads, because of `why`; the driver awaits it.
    fn close(self, why: Closing) -> impl Future<Output = ()> + MaybeSend + 'static;

    /// Lets go at once of a connection the driver stopped reading: a frame over the limit, a
    /// failed write, the network gone. Natively the connection is dropped (a broken stream
    /// takes no close frame); a browser's `WebSocket` is closed with 1000 and
    /// [`CLOSED_BY_CLIENT`].
    fn abandon(self);
}

/// Why the driver closes a connection it still reads ([`Socket::close`]).
///
/// What goes on the wire is the platform's, and has stayed what it was before the driver was
/// written once: the session's own close is 1000 with [`CLOSED_BY_CLIENT`] everywhere; at the
/// end of a session, native sends a close frame without a status code and a browser 1000.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Closing {
    /// The session asked to close (`DriverAction::Close`: `disconnect()`, a final refusal).
    Requested,
    /// The session ended: destroyed, or every handle dropped.
    SessionEnded,
}

/// The reason of the client's own close frames.
pub const CLOSED_BY_CLIENT: &str = "closed by the client";

/// What an open websocket reports.
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketEvent<T> {
    /// A text frame.
    Text(T),
    /// A binary frame of this many bytes (the protocol has none).
    Binary(usize),
    /// The connection ended: the close frame's code and reason (`None`: no close frame was
    /// read). A browser reports a connection that dropped without a close frame as 1006; the
    /// driver treats that as a failure, whatever the platform.
    Closed {
        /// The close code.
        code: Option<u16>,
        /// The close reason.
        reason: String,
    },
    /// The socket refused a message longer than the limit it was opened with (it cannot be
    /// read past it); `detail` says what it saw.
    TooLarge {
        /// The socket's own words (sizes included).
        detail: String,
    },
    /// Reading failed.
    Failed(Error),
}

/// What the driver learns of the network ([`Platform::watch_network`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Network {
    Offline,
    Online,
}

/// Results of the driver's own background work, as its tasks and the platform's network
/// watch report them (here, below the driver, because [`NetworkEvents`] sends them).
pub(crate) enum Internal<S> {
    Token(bool, Result<Credentials, Error>),
    Connected(u64, Result<S, Error>),
    Uploaded(RequestId, Result<SendFileResponse, UploadError>),
    /// The caller dropped the upload's [`AbandonOnDrop`](crate::driver::AbandonOnDrop): cancel it.
    Abandoned(RequestId),
    /// The platform says the network went down or came back.
    Network(Network),
}

/// Where a platform reports the network going down and up (to the driver of sockets `K`).
pub struct NetworkEvents<K>(pub(crate) mpsc::UnboundedSender<Internal<K>>);

impl<K> Clone for NetworkEvents<K> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<K> std::fmt::Debug for NetworkEvents<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NetworkEvents")
    }
}

impl<K> NetworkEvents<K> {
    /// The network went down: the driver drops its socket (the session reconnects when it
    /// is back).
    pub fn offline(&self) {
        let _ = self.0.unbounded_send(Internal::Network(Network::Offline));
    }

    /// The network is back: a connection that waited for it starts.
    pub fn online(&self) {
        let _ = self.0.unbounded_send(Internal::Network(Network::Online));
    }
}
