//! What the driver needs of a sans-IO session: [`DrivenSession`]. The customer session
//! ([`chatio_core::Session`]) implements it here; a second session type (the agent's) does the
//! same and runs on the same driver, platforms and handle.
//!
//! The driver feeds the session (`handle_*`), drains it (`poll_*`, in the order the core
//! documents: frames, actions, outputs, then the timeout), publishes its events on the bus and
//! its [`Snapshot`](DrivenSession::Snapshot) for the handle, and hands each command's outcome
//! to whoever waits for it. Commands themselves never pass through here: a handle sends a
//! closure that runs on the session (`DriverHandle::call`), so each session type keeps its own
//! commands and the loop knows none of them.

use chatio_core::{
    AccessToken, ConnectionStatus, Disconnect, DriverAction, Error, Instant, Output, Reply, SdkEvent, Session,
    StoreChange, StoredState, TransportError, UploadFailure,
};
use chatio_wire::{LicenseId, RequestId, SendFileResponse};

/// Which API a session speaks, for the URLs the driver opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Endpoint {
    /// The path under the server's base URL: `customer/v0.5` (then `…/rtm/ws` and
    /// `…/action/<name>`).
    pub api: &'static str,
    /// The `license_id` query parameter, if the API takes one (the Customer API does; the
    /// Agent API does not: the token names the license).
    pub license: Option<LicenseId>,
}

impl Endpoint {
    /// The Customer API v0.5 for a license.
    pub fn customer(license: LicenseId) -> Self {
        Self { api: "customer/v0.5", license: Some(license) }
    }

    /// An API at `api` (e.g. `agent/v0.5`), with or without a license parameter.
    pub fn new(api: &'static str, license: Option<LicenseId>) -> Self {
        Self { api, license }
    }
}

/// One output of a session: an event for the bus, or a command's outcome for its waiter.
#[derive(Debug)]
#[non_exhaustive]
pub enum Polled<E, R> {
    /// An event, published to every subscriber.
    Event(E),
    /// The command that returned `id` finished.
    Completed {
        /// The id the command returned.
        id: RequestId,
        /// Its outcome.
        result: Result<R, Error>,
    },
}

/// A sans-IO session the driver can run: no I/O, no clock, no tasks of its own; time comes in
/// as `now`, work goes out through the `poll_*` methods. See [`chatio_core::Session`] for the
/// meaning of each input and output; another session type follows the same contract.
pub trait DrivenSession: crate::bounds::MaybeSend + 'static {
    /// What the session emits for subscribers.
    type Event: Send + Sync + 'static;
    /// A command's outcome (read as each command's own type through
    /// [`FromReply`](crate::FromReply)).
    type Reply: std::fmt::Debug + Send + 'static;
    /// What the driver publishes after every step, for reading without a round trip.
    type Snapshot: Clone + PartialEq + std::fmt::Debug + Send + Sync + 'static;

    /// The API it speaks.
    fn endpoint(&self) -> Endpoint;
    /// The largest frame it reads from the server, in bytes.
    fn max_frame_len(&self) -> usize;
    /// Its state now, for the handle.
    fn snapshot(&self) -> Self::Snapshot;
    /// The tracing span of the driver task.
    fn span(&self) -> tracing::Span;
    /// Logs an event before it is published (the driver calls it once per event).
    fn trace_event(_event: &Self::Event) {}

    /// The websocket it asked for is open.
    fn handle_connected(&mut self, now: Instant);
    /// A text frame arrived.
    fn handle_frame(&mut self, text: &str, now: Instant);
    /// A binary frame of `len` bytes arrived.
    fn handle_binary_frame(&mut self, len: usize, now: Instant);
    /// The websocket closed, failed, or could not be opened.
    fn handle_disconnected(&mut self, how: Disconnect, now: Instant);
    /// The deadline of [`poll_timeout`](Self::poll_timeout) passed.
    fn handle_timeout(&mut self, now: Instant);
    /// The token asked for by [`DriverAction::FetchToken`].
    fn handle_token(&mut self, token: AccessToken, now: Instant);
    /// No token could be had.
    fn handle_token_error(&mut self, error: Error, now: Instant);
    /// An upload asked for by [`DriverAction::Upload`] ended.
    fn handle_upload_result(&mut self, id: &RequestId, result: Result<SendFileResponse, UploadFailure>, now: Instant);
    /// Cancels the command `id` (its caller gave up); whether it was still running.
    fn cancel(&mut self, id: &RequestId, now: Instant) -> bool;
    /// Ends the session: every unfinished command fails, the connection closes.
    fn destroy(&mut self, now: Instant);

    /// A store is attached ([`DriverConfig::store`](crate::DriverConfig::store)): this is
    /// what it kept from earlier sessions. Called once, before any command. Sessions that
    /// keep nothing ignore it (the default).
    fn restore(&mut self, _state: StoredState, _now: Instant) {}
    /// The token provider gave a refresh token (the customer's identity): keep it in the store
    /// (the default does nothing).
    fn handle_refresh_token(&mut self, _token: chatio_wire::Token, _now: Instant) {}
    /// The store failed: go on without it (the default does nothing).
    fn handle_store_failed(&mut self, _error: TransportError, _now: Instant) {}
    /// The next change to write to the store: drained before the frames of each step, and
    /// written before they are (the default keeps nothing).
    fn poll_change(&mut self) -> Option<StoreChange> {
        None
    }

    /// The next text frame to write.
    fn poll_transmit(&mut self) -> Option<String>;
    /// The next thing the driver must do.
    fn poll_action(&mut self) -> Option<DriverAction>;
    /// The next event or outcome.
    fn poll_output(&mut self) -> Option<Polled<Self::Event, Self::Reply>>;
    /// When [`handle_timeout`](Self::handle_timeout) is due.
    fn poll_timeout(&self) -> Option<Instant>;
}

/// The customer session (Customer API v0.5).
impl DrivenSession for Session {
    type Event = SdkEvent;
    type Reply = Reply;
    type Snapshot = Snapshot;

    fn endpoint(&self) -> Endpoint {
        Endpoint::customer(self.config().license_id)
    }

    fn max_frame_len(&self) -> usize {
        self.config().max_frame_len
    }

    fn snapshot(&self) -> Snapshot {
        Snapshot::of(self)
    }

    fn span(&self) -> tracing::Span {
        tracing::info_span!("chatio.session", license = %self.config().license_id)
    }

    fn trace_event(event: &SdkEvent) {
        match event {
            SdkEvent::Reconnecting { attempt, delay } => {
                tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "reconnecting");
            }
            SdkEvent::Error(err) => tracing::warn!(error = %err, "session error"),
            _ => {}
        }
    }

    fn handle_connected(&mut self, now: Instant) {
        Session::handle_connected(self, now);
    }

    fn handle_frame(&mut self, text: &str, now: Instant) {
        Session::handle_frame(self, text, now);
    }

    fn handle_binary_frame(&mut self, len: usize, now: Instant) {
        Session::handle_binary_frame(self, len, now);
    }

    fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        Session::handle_disconnected(self, how, now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        Session::handle_timeout(self, now);
    }

    fn handle_token(&mut self, token: AccessToken, now: Instant) {
        Session::handle_token(self, token, now);
    }

    fn handle_token_error(&mut self, error: Error, now: Instant) {
        Session::handle_token_error(self, error, now);
    }

    fn handle_upload_result(&mut self, id: &RequestId, result: Result<SendFileResponse, UploadFailure>, now: Instant) {
        Session::handle_upload_result(self, id, result, now);
    }

    fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        Session::cancel(self, id, now)
    }

    fn destroy(&mut self, now: Instant) {
        Session::destroy(self, now);
    }

    fn restore(&mut self, state: StoredState, now: Instant) {
        Session::restore(self, state, now);
    }

    fn handle_store_failed(&mut self, error: TransportError, now: Instant) {
        Session::handle_store_failed(self, error, now);
    }

    fn handle_refresh_token(&mut self, token: chatio_wire::Token, now: Instant) {
        Session::handle_refresh_token(self, token, now);
    }

    fn poll_change(&mut self) -> Option<StoreChange> {
        Session::poll_change(self)
    }

    fn poll_transmit(&mut self) -> Option<String> {
        Session::poll_transmit(self)
    }

    fn poll_action(&mut self) -> Option<DriverAction> {
        Session::poll_action(self)
    }

    fn poll_output(&mut self) -> Option<Polled<SdkEvent, Reply>> {
        // `Output` may grow variants the driver does not know: skip them.
        loop {
            match Session::poll_event(self)? {
                Output::Event(e) => return Some(Polled::Event(e)),
                Output::Completed { id, result } => return Some(Polled::Completed { id, result }),
                _ => {}
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        Session::poll_timeout(self)
    }
}

/// What the driver publishes of the session after every step, for reading without a round
/// trip to the driver task.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Snapshot {
    /// Where the connection is.
    pub status: ConnectionStatus,
    /// The customer id, once known.
    pub customer_id: Option<chatio_wire::UserId>,
    /// Events accepted by `send_event` whose outcome is not known yet (restored ones
    /// included): 0 once everything was delivered.
    pub outbox: usize,
}

impl Snapshot {
    /// The session's state now.
    pub(crate) fn of(session: &Session) -> Self {
        Snapshot { status: session.status(), customer_id: session.customer_id().cloned(), outbox: session.outbox_len() }
    }
}
