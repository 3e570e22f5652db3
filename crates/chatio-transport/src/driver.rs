//! The driver: one task per session that pumps a [`chatio_core::Session`].
//!
//! It owns the session and does what the session asks: fetches tokens, opens and closes the
//! websocket, writes frames, arms the timer from `poll_timeout`, runs uploads. Calls from the
//! facade arrive as messages; events fan out to every subscriber. It holds no protocol logic.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{Error as WsError, Message};
use chatio_core::{Disconnect, DriverAction, Operation, Session};
use chatio_wire::RequestId;
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use tracing::Instrument;
use url::Url;

use crate::bus::Bus;
use crate::calls::{Calls, StartedUpload, UploadEnd, watch_upload};
use crate::error::Error;
use crate::handle::Command;
pub use crate::handle::{AbandonOnDrop, DriverHandle, ReplyReceiver, Snapshot, UploadIdReceiver};
use crate::http::HttpClient;
use crate::net::TlsConfig;
use crate::runtime::Runtime;
use crate::token::{Credentials, TokenProvider};
use crate::upload::{self, UploadError};
use crate::ws::{self, RtmSocket};

/// Results of the driver's own background work.
enum Internal {
    Token(bool, Result<Credentials, Error>),
    Connected(u64, Result<RtmSocket, Error>),
    Uploaded(RequestId, Result<chatio_wire::SendFileResponse, UploadError>),
    /// The caller dropped the upload's [`AbandonOnDrop`]: cancel it.
    Abandoned(RequestId),
}

/// What a [`Tap`] sees.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum TapEvent<'a> {
    /// A token arrived for the session.
    Token {
        /// Whether it was asked fresh (after an authentication error).
        fresh: bool,
        /// The customer it is for, when known.
        customer_id: Option<&'a chatio_wire::UserId>,
    },
    /// The websocket opened.
    Connected,
    /// A text frame was written (the `login` frame holds the token: redact it).
    Sent(&'a str),
    /// A text frame arrived.
    Received(&'a str),
    /// The websocket closed or failed.
    Disconnected {
        /// The close code, if any.
        code: Option<u16>,
        /// The close reason or the failure.
        reason: &'a str,
    },
}

/// Observes the driver's traffic: for debugging and for recording conformance transcripts
/// (the JS SDK's `debug(sdk)`). Called on the driver task: keep it quick.
pub trait Tap: Send + Sync + 'static {
    /// One thing happened, at `at`.
    fn event(&self, at: Instant, event: TapEvent<'_>);
}

/// Where the driver connects and how.
#[derive(Clone)]
#[non_exhaustive]
pub struct DriverConfig {
    /// The API base URL (`http(s)://host[:port]` or `ws(s)://…`).
    pub server: Url,
    /// TLS settings.
    pub tls: TlsConfig,
    /// Time allowed to open the websocket (20 s).
    pub connect_timeout: Duration,
    /// Time allowed for one upload (5 min).
    pub upload_timeout: Duration,
    /// An observer of the traffic.
    pub tap: Option<Arc<dyn Tap>>,
    /// How many events the event bus keeps for slow subscribers (1 024; see [`crate::bus`]).
    pub event_capacity: usize,
}

impl std::fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverConfig")
            .field("server", &self.server.as_str())
            .field("connect_timeout", &self.connect_timeout)
            .field("upload_timeout", &self.upload_timeout)
            .field("tap", &self.tap.is_some())
            .finish_non_exhaustive()
    }
}

impl DriverConfig {
    /// Defaults for a server.
    pub fn new(server: Url) -> Self {
        Self {
            server,
            tls: TlsConfig::default(),
            connect_timeout: Duration::from_secs(20),
            upload_timeout: Duration::from_secs(300),
            tap: None,
            event_capacity: crate::bus::DEFAULT_CAPACITY,
        }
    }
}

/// How many events the driver keeps by default for its first subscriber, from before it
/// subscribed, and for slow subscribers ([`DriverConfig::event_capacity`]).
pub const BACKLOG: usize = crate::bus::DEFAULT_CAPACITY;

/// Starts a driver task for `session` on `rt`.
pub fn spawn(
    rt: Arc<dyn Runtime>,
    session: Session,
    config: DriverConfig,
    tokens: Arc<dyn TokenProvider>,
) -> Result<DriverHandle, Error> {
    let rtm_url = ws::rtm_url(&config.server, session.config().license_id)?;
    let upload_url = ws::web_api_url(&config.server, session.config().license_id, "send_file")?;
    let (tx, rx) = mpsc::unbounded();
    let (itx, irx) = mpsc::unbounded();
    let http = HttpClient::new(rt.clone(), config.tls.clone(), config.upload_timeout);
    let bus = Bus::new(config.event_capacity);
    let state = Arc::new(Mutex::new(Snapshot::of(&session)));
    let driver = Driver {
        rt: rt.clone(),
        session,
        config,
        rtm_url,
        upload_url,
        tokens,
        http,
        internal: itx,
        socket: None,
        connecting: None,
        attempt: 0,
        calls: Calls::new(bus.clone(), state.clone()),
        close_info: None,
    };
    let span = tracing::info_span!("chatio.session", license = %driver.session.config().license_id);
    rt.spawn(Box::pin(Box::new(driver).run(rx, irx).instrument(span)));
    Ok(DriverHandle::new(tx, bus, state))
}

/// Closes the socket with `frame`. Boxed: a close happens once per connection, and an inline
/// close future (with the socket it owns) would grow every idle driver's task by 0.8 KiB.
fn close(
    mut socket: RtmSocket,
    frame: Option<async_tungstenite::tungstenite::protocol::CloseFrame>,
) -> futures::future::BoxFuture<'static, ()> {
    Box::pin(async move {
        let _ = socket.close(frame).await;
    })
}

struct Driver {
    rt: Arc<dyn Runtime>,
    session: Session,
    config: DriverConfig,
    rtm_url: Url,
    upload_url: Url,
    tokens: Arc<dyn TokenProvider>,
    http: HttpClient,
    internal: mpsc::UnboundedSender<Internal>,
    socket: Option<RtmSocket>,
    /// The connection attempt in flight.
    connecting: Option<u64>,
    attempt: u64,
    calls: Calls,
    close_info: Option<(Option<u16>, String)>,
}

enum Wake {
    Command(Option<Command>),
    Internal(Option<Internal>),
    Frame(Option<Result<Message, async_tungstenite::tungstenite::Error>>),
    Timer,
}

impl Driver {
    /// The driver's loop. `self` is boxed: an `async fn` keeps its by-value arguments twice
    /// in its future (as captured and as a local), which for a 2 KiB driver made each idle
    /// session's task 6 KiB instead of 4 (`docs/benchmarks.md`, idle memory).
    async fn run(
        mut self: Box<Self>,
        mut commands: mpsc::UnboundedReceiver<Command>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        let mut shutdown: Option<oneshot::Sender<()>> = None;
        loop {
            self.pump().await;
            if shutdown.is_some() {
                break;
            }
            let deadline = self.session.poll_timeout();
            let wake = {
                let timer = match deadline {
                    Some(d) => self.rt.sleep_until(d).left_future(),
                    None => futures::future::pending().right_future(),
                };
                let frame = match &mut self.socket {
                    Some(s) => s.next().left_future(),
                    None => futures::future::pending().right_future(),
                };
                futures::select_biased! {
                    c = commands.next() => Wake::Command(c),
                    i = internal.next() => Wake::Internal(i),
                    f = frame.fuse() => Wake::Frame(f),
                    () = timer.fuse() => Wake::Timer,
                }
            };
            let now = self.rt.now();
            match wake {
                Wake::Command(None) => {
                    // Every handle is gone: the SDK was dropped.
                    self.session.destroy(now);
                    self.pump().await;
                    break;
                }
                Wake::Command(Some(Command::Shutdown(done))) => {
                    self.session.destroy(now);
                    shutdown = Some(done);
                }
                Wake::Command(Some(c)) => self.calls.command(&mut self.session, c, now),
                Wake::Internal(Some(i)) => self.internal(i, now),
                Wake::Internal(None) => {}
                Wake::Frame(Some(Ok(msg))) => self.frame(msg, now),
                Wake::Frame(Some(Err(e))) => {
                    let how = match e {
                        WsError::Capacity(c) => {
                            let limit = self.session.config().max_frame_len;
                            tracing::warn!(error = %c, limit, "a frame from the server is too large");
                            let message = format!("a frame from the server exceeds the {limit}-byte limit: {c}");
                            Disconnect::FrameTooLarge { message }
                        }
                        e => {
                            tracing::debug!(error = %e, "websocket failed");
                            let e = Error::WebSocket { context: "reading".into(), source: e };
                            Disconnect::Failed(e.into_transport(Operation::Socket))
                        }
                    };
                    self.socket = None;
                    let reason = match &how {
                        Disconnect::FrameTooLarge { message } => message.clone(),
                        Disconnect::Failed(t) => chatio_core::chain(t),
                        _ => String::new(),
                    };
                    self.tap(TapEvent::Disconnected { code: None, reason: &reason });
                    self.session.handle_disconnected(how, now);
                }
                Wake::Frame(None) => {
                    self.socket = None;
                    let (code, reason) = self.close_info.take().unwrap_or((None, String::new()));
                    tracing::debug!(?code, %reason, "websocket closed");
                    self.tap(TapEvent::Disconnected { code, reason: &reason });
                    self.session.handle_disconnected(Disconnect::Closed { code, reason }, now);
                }
                Wake::Timer => self.session.handle_timeout(now),
            }
        }
        if let Some(s) = self.socket.take() {
            close(s, None).await;
        }
        self.calls.close(&self.session);
        if let Some(done) = shutdown {
            let _ = done.send(());
        }
    }

    fn tap(&self, e: TapEvent<'_>) {
        if let Some(t) = &self.config.tap {
            t.event(self.rt.now(), e);
        }
    }

    fn internal(&mut self, i: Internal, now: Instant) {
        match i {
            Internal::Token(fresh, Ok(c)) => {
                self.tap(TapEvent::Token { fresh, customer_id: c.customer_id.as_ref() });
                let t = self.calls.token(c);
                self.session.handle_token(t, now);
            }
            Internal::Token(_, Err(e)) => {
                tracing::warn!(error = %e, "no token");
                self.session.handle_token_error(e.into_core(Operation::FetchToken), now);
            }
            Internal::Connected(attempt, result) => {
                if self.connecting != Some(attempt) {
                    return; // a stale attempt
                }
                self.connecting = None;
                match result {
                    Ok(socket) => {
                        tracing::info!("connected");
                        self.tap(TapEvent::Connected);
                        self.socket = Some(socket);
                        self.close_info = None;
                        self.session.handle_connected(now);
                    }
                    Err(e) => {
                        let failure = e.into_transport(Operation::Connect);
                        let message = chatio_core::chain(&failure);
                        tracing::info!(error = %message, "cannot connect");
                        self.tap(TapEvent::Disconnected { code: None, reason: &message });
                        self.session.handle_disconnected(Disconnect::Failed(failure), now);
                    }
                }
            }
            Internal::Abandoned(id) => self.calls.abandoned(&mut self.session, &id, now),
            Internal::Uploaded(id, result) => self.calls.uploaded(&mut self.session, &id, result, now),
        }
    }

    fn frame(&mut self, msg: Message, now: Instant) {
        match msg {
            Message::Text(t) => {
                self.tap(TapEvent::Received(t.as_str()));
                self.session.handle_frame(t.as_str(), now);
            }
            Message::Binary(b) => self.session.handle_binary_frame(b.len(), now),
            Message::Close(f) => {
                self.close_info = Some(match f {
                    Some(f) => (Some(u16::from(f.code)), f.reason.to_string()),
                    None => (None, String::new()),
                });
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }

    /// Drains the session: frames out, actions, events and outcomes.
    async fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(frame) = self.session.poll_transmit() {
                moved = true;
                if self.socket.is_some() {
                    self.tap(TapEvent::Sent(&frame));
                }
                if let Some(s) = &mut self.socket {
                    if let Err(e) = s.send(Message::text(frame)).await {
                        tracing::debug!(error = %e, "write failed");
                        self.socket = None;
                        let now = self.rt.now();
                        let failure =
                            Error::WebSocket { context: "writing".into(), source: e }.into_transport(Operation::Socket);
                        let message = chatio_core::chain(&failure);
                        self.tap(TapEvent::Disconnected { code: None, reason: &message });
                        self.session.handle_disconnected(Disconnect::Failed(failure), now);
                    }
                }
                // Without a socket the frame is dropped: the session only writes when it knows
                // the socket is open, and requeues what matters (the outbox) itself.
            }
            while let Some(action) = self.session.poll_action() {
                moved = true;
                self.action(action).await;
            }
            while let Some(out) = self.session.poll_event() {
                moved = true;
                self.calls.output(&self.session, out);
            }
            if !moved {
                break;
            }
        }
        self.calls.publish_state(&self.session);
    }

    async fn action(&mut self, action: DriverAction) {
        match action {
            DriverAction::FetchToken { fresh } => {
                let tokens = self.tokens.clone();
                let tx = self.internal.clone();
                self.rt.spawn(Box::pin(async move {
                    let r = tokens.token(fresh).await;
                    let _ = tx.unbounded_send(Internal::Token(fresh, r));
                }));
            }
            DriverAction::Connect => {
                if self.socket.is_some() || self.connecting.is_some() {
                    return;
                }
                self.attempt += 1;
                let attempt = self.attempt;
                self.connecting = Some(attempt);
                let (rt, tls, url, tx) =
                    (self.rt.clone(), self.config.tls.clone(), self.rtm_url.clone(), self.internal.clone());
                let timeout = self.config.connect_timeout;
                let max_frame_len = self.session.config().max_frame_len;
                let span = tracing::info_span!("chatio.connect", attempt, url = %crate::net::redact(&url));
                self.rt.spawn(Box::pin(
                    async move {
                        let deadline = rt.now() + timeout;
                        let connect = ws::connect(&rt, &tls, &url, max_frame_len);
                        futures::pin_mut!(connect);
                        let r = match futures::future::select(connect, rt.sleep_until(deadline)).await {
                            futures::future::Either::Left((r, _)) => r,
                            futures::future::Either::Right(_) => Err(Error::Timeout(timeout)),
                        };
                        let _ = tx.unbounded_send(Internal::Connected(attempt, r));
                    }
                    .instrument(span),
                ));
            }
            DriverAction::Close => {
                self.connecting = None;
                let Some(socket) = self.socket.take() else { return };
                let frame = async_tungstenite::tungstenite::protocol::CloseFrame {
                    code: CloseCode::Normal,
                    reason: "closed by the client".into(),
                };
                close(socket, Some(frame)).await;
                let now = self.rt.now();
                self.tap(TapEvent::Disconnected { code: Some(1000), reason: "closed by the client" });
                self.session.handle_disconnected(
                    Disconnect::Closed { code: Some(1000), reason: "closed by the client".into() },
                    now,
                );
            }
            DriverAction::Upload(req) => {
                let Some(StartedUpload { upload, progress, abandon, reg }) =
                    self.calls.start_upload(&req, &self.upload_url)
                else {
                    return;
                };
                let (http, tx, id) = (self.http.clone(), self.internal.clone(), req.id.clone());
                let span = tracing::info_span!("chatio.upload", request = %id, size = req.size);
                self.rt.spawn(Box::pin(
                    async move {
                        let ended = watch_upload(upload::send_file(&http, upload, progress), reg, abandon).await;
                        let _ = match ended {
                            Some(UploadEnd::Abandoned) => tx.unbounded_send(Internal::Abandoned(id)),
                            Some(UploadEnd::Done(result)) => tx.unbounded_send(Internal::Uploaded(id, result)),
                            None => Ok(()),
                        };
                    }
                    .instrument(span),
                ));
            }
            DriverAction::CancelUpload { id } => self.calls.cancel_upload(&id),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;

    /// The size of the future `f` returns, without running it.
    fn future_size<A, B, C, F: std::future::Future>(_: impl FnOnce(A, B, C) -> F) -> usize {
        size_of::<F>()
    }

    /// Every session's task is the driver (boxed once) plus its loop's future: the loop must
    /// not carry a second copy of the driver or a close future inline. It was 6 096 bytes
    /// (`async fn run(self)` kept the driver twice, and an inline close added 0.5 KiB); it
    /// is 896 bytes now.
    #[test]
    fn an_idle_driver_task_holds_the_driver_once() {
        let run = future_size(|d: Box<Driver>, c: mpsc::UnboundedReceiver<Command>, i| d.run(c, i));
        assert!(run < size_of::<Driver>(), "the loop's future ({run} B) holds no Driver ({} B)", size_of::<Driver>());
        assert!(run <= 1024, "the loop's future is {run} B");
    }
}
