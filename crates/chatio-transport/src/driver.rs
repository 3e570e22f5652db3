//! The driver: one task per session that pumps a sans-IO session ([`DrivenSession`]) on a
//! [`Platform`]. Written once for every platform and every session type.
//!
//! It owns the session and does what the session asks: fetches tokens, opens and closes the
//! websocket, writes frames (one at a time, in order, each awaited before the next), arms the
//! timer from `poll_timeout`, runs uploads. Calls from a [`DriverHandle`] arrive as messages;
//! events fan out to every subscriber through the bus. The rules every platform shares live
//! here and only here: the transcript [`Tap`], the frame-size limit (a frame over the session's
//! `max_frame_len` ends the connection with [`Disconnect::FrameTooLarge`], whether the socket
//! refused it or delivered it), close code 1006 (a connection that dropped without a close
//! frame) as a transient failure, a connect attempt bounded by `connect_timeout`, and a
//! connection that waits while the platform says the network is down. It holds no protocol
//! logic.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatio_core::{Disconnect, DriverAction, Instant, Operation};
use futures::channel::{mpsc, oneshot};
use futures::{FutureExt, StreamExt};
use tracing::Instrument;
use url::Url;

use crate::bus::Bus;
use crate::calls::{Calls, StartedUpload, UploadEnd, watch_upload};
use crate::credentials::TokenProvider;
use crate::error::{Dropped, Error};
use crate::handle::Command;
pub use crate::handle::{AbandonOnDrop, DriverHandle, UploadIdReceiver};
use crate::platform::{
    CLOSED_BY_CLIENT, Closing, Internal, MaybeSend, Network, NetworkEvents, Platform, Socket, SocketEvent,
};
pub use crate::reply::ReplyReceiver;
use crate::session::DrivenSession;
pub use crate::session::Snapshot;
use crate::store::Store;
pub use crate::tap::{Tap, TapEvent};
use crate::urls;

/// Where the driver connects and how.
#[derive(Clone)]
#[non_exhaustive]
pub struct DriverConfig {
    /// The API base URL (`http(s)://host[:port]` or `ws(s)://…`).
    pub server: Url,
    /// Time allowed to open the websocket (20 s).
    pub connect_timeout: Duration,
    /// Time allowed for one upload (5 min).
    pub upload_timeout: Duration,
    /// An observer of the traffic.
    pub tap: Option<Arc<dyn Tap>>,
    /// How many events the event bus keeps for slow subscribers (1 024; see [`crate::bus`]).
    pub event_capacity: usize,
    /// Where the session keeps what must survive a restart (none: nothing is kept). Read
    /// once when the driver starts, before any command; written before the frames of each
    /// step. A store that fails is dropped and the session goes on without it (see
    /// [`crate::store`]).
    pub store: Option<Arc<dyn Store>>,
}

impl std::fmt::Debug for DriverConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverConfig")
            .field("server", &self.server.as_str())
            .field("connect_timeout", &self.connect_timeout)
            .field("upload_timeout", &self.upload_timeout)
            .field("tap", &self.tap.is_some())
            .field("store", &self.store.is_some())
            .finish_non_exhaustive()
    }
}

impl DriverConfig {
    /// Defaults for a server.
    pub fn new(server: Url) -> Self {
        Self {
            server,
            connect_timeout: Duration::from_secs(20),
            upload_timeout: Duration::from_secs(300),
            tap: None,
            event_capacity: crate::bus::DEFAULT_CAPACITY,
            store: None,
        }
    }
}

/// How many ready wakes (commands, socket events) the driver handles before it writes the
/// step's store changes and frames: a bound on one step's work, so that a flood of frames
/// cannot hold back what earlier ones produced.
const WAKES_PER_STEP: usize = 256;

/// How many events the driver keeps by default for its first subscriber, from before it
/// subscribed, and for slow subscribers ([`DriverConfig::event_capacity`]).
pub const BACKLOG: usize = crate::bus::DEFAULT_CAPACITY;

/// Starts a driver task for `session` on `platform`.
///
/// # Errors
/// [`Error::InvalidUrl`] when the server URL cannot carry the session's API.
pub fn spawn_on<P: Platform, S: DrivenSession>(
    platform: P,
    session: S,
    config: DriverConfig,
    tokens: Arc<dyn TokenProvider>,
) -> Result<DriverHandle<S>, Error> {
    let endpoint = session.endpoint();
    let rtm_url = urls::rtm_url_at(&config.server, endpoint)?;
    let upload_url = urls::web_api_url_at(&config.server, endpoint, "send_file")?;
    let (tx, rx) = mpsc::unbounded();
    let (itx, irx) = mpsc::unbounded();
    let watch = platform.watch_network(NetworkEvents(itx.clone()));
    let bus = Bus::new(config.event_capacity);
    let state = Arc::new(Mutex::new(session.snapshot()));
    let span = session.span();
    let store = config.store.clone();
    let driver = Driver {
        platform: platform.clone(),
        session,
        config,
        rtm_url,
        upload_url,
        tokens,
        internal: itx,
        socket: None,
        connecting: None,
        waiting_online: false,
        attempt: 0,
        store,
        calls: Calls::new(bus.clone(), state.clone()),
        _watch: watch,
    };
    spawn_in(&platform, Box::new(driver).run(rx, irx), span);
    Ok(DriverHandle::new(tx, bus, state))
}

/// Runs `task` on `platform` inside `span`, unless this build compiled tracing out (the
/// browser's release build, `release_max_level_off`): there every span is empty, and the
/// wrapper would only cost size (its poll and drop for each of the driver's three tasks).
fn spawn_in<P: Platform>(platform: &P, task: impl Future<Output = ()> + MaybeSend + 'static, span: tracing::Span) {
    if tracing::level_filters::STATIC_MAX_LEVEL == tracing::level_filters::LevelFilter::OFF {
        platform.spawn(task);
    } else {
        platform.spawn(task.instrument(span));
    }
}

pub(crate) struct Driver<P: Platform, S: DrivenSession> {
    platform: P,
    session: S,
    config: DriverConfig,
    rtm_url: Url,
    upload_url: Url,
    tokens: Arc<dyn TokenProvider>,
    /// Also what keeps the internal channel open whatever the platform keeps.
    internal: mpsc::UnboundedSender<Internal<P::Socket>>,
    socket: Option<P::Socket>,
    /// The connection attempt in flight (`Some(0)`: waiting for the network).
    connecting: Option<u64>,
    /// A connection is wanted but the network is down: it starts on `online`.
    waiting_online: bool,
    attempt: u64,
    /// The store, while it works.
    store: Option<Arc<dyn Store>>,
    calls: Calls<S>,
    _watch: P::NetworkWatch,
}

enum Wake<S: DrivenSession, T, K> {
    Command(Option<Command<S>>),
    Internal(Option<Internal<K>>),
    Socket(SocketEvent<T>),
    Timer,
}

type Text<P> = <<P as Platform>::Socket as Socket>::Text;

/// What the loop does after a step's wakes were handled.
enum Step {
    Go,
    /// `destroy` was asked for: end once the step is written, then say so on this.
    Shutdown(oneshot::Sender<()>),
    /// Every handle is gone: end once the step is written.
    Dropped,
}

impl<P: Platform, S: DrivenSession> Driver<P, S> {
    /// The driver's loop. `self` is boxed: an `async fn` keeps its by-value arguments twice
    /// in its future (as captured and as a local), which for a 2 KiB driver made each idle
    /// session's task 6 KiB instead of 4 (`docs/benchmarks.md`, idle memory).
    pub(crate) async fn run(
        mut self: Box<Self>,
        mut commands: mpsc::UnboundedReceiver<Command<S>>,
        mut internal: mpsc::UnboundedReceiver<Internal<P::Socket>>,
    ) {
        let mut shutdown: Option<oneshot::Sender<()>> = None;
        // What the store kept goes into the session before any command (they wait in the
        // channel meanwhile), so restored events keep their place before new ones.
        if let Some(store) = self.store.clone() {
            let loaded = store.load().await;
            let now = self.platform.now();
            match loaded {
                Ok(state) => {
                    // The kept identity: the first token resumes that customer.
                    if let Some(r) = state.refresh_token.clone() {
                        self.tokens.resume(r);
                    }
                    self.session.restore(state, now);
                }
                Err(e) => self.store_failed(e, now),
            }
        }
        loop {
            self.pump().await;
            if shutdown.is_some() {
                break;
            }
            let deadline = self.session.poll_timeout();
            let wake: Wake<S, Text<P>, P::Socket> = {
                let timer = match deadline {
                    Some(d) => self.platform.sleep_until(d).left_future(),
                    None => futures::future::pending().right_future(),
                };
                let event = match &mut self.socket {
                    Some(s) => futures::future::poll_fn(|cx| s.poll_event(cx)).left_future(),
                    None => futures::future::pending().right_future(),
                };
                futures::select_biased! {
                    c = commands.next() => Wake::Command(c),
                    i = internal.next() => Wake::Internal(i),
                    e = event.fuse() => Wake::Socket(e),
                    () = timer.fuse() => Wake::Timer,
                }
            };
            match self.handle_ready(wake, &mut commands, &mut internal) {
                Step::Go => {}
                Step::Shutdown(done) => shutdown = Some(done),
                Step::Dropped => {
                    self.pump().await;
                    break;
                }
            }
        }
        if let Some(s) = self.socket.take() {
            s.close(Closing::SessionEnded).await;
        }
        self.calls.close(&self.session);
        // Before `done`: the next session may open the store as soon as this one is gone.
        if let Some(store) = self.store.take() {
            store.close();
        }
        if let Some(done) = shutdown {
            let _ = done.send(());
        }
    }

    fn tap(&self, e: TapEvent<'_>) {
        if let Some(t) = &self.config.tap {
            t.event(self.platform.now(), e);
        }
    }

    /// The socket is gone (`how`): the tap and the session hear of it. A socket still held
    /// is dropped: it reported its own end (see [`abandon`](Self::abandon) for one that did
    /// not).
    fn disconnected(&mut self, how: Disconnect, now: Instant) {
        self.socket = None;
        if let Some(t) = &self.config.tap {
            let (code, reason) = match &how {
                Disconnect::Closed { code, reason } => (*code, reason.clone()),
                Disconnect::Failed(t) => (None, chatio_core::chain(t)),
                Disconnect::FrameTooLarge { message } => (None, message.clone()),
                _ => (None, String::new()),
            };
            t.event(self.platform.now(), TapEvent::Disconnected { code, reason: &reason });
        }
        self.session.handle_disconnected(how, now);
    }

    /// The driver stops reading the socket although it did not end ([`Socket::abandon`]).
    fn abandon(&mut self) {
        if let Some(s) = self.socket.take() {
            s.abandon();
        }
    }

    /// The socket broke while it was open (`source` says how).
    fn failed(&mut self, source: Error, now: Instant) {
        tracing::debug!(error = %source, "websocket failed");
        self.disconnected(Disconnect::Failed(source.into_transport(Operation::Socket)), now);
    }

    fn socket_event(&mut self, event: SocketEvent<Text<P>>, now: Instant) {
        let limit = self.session.max_frame_len();
        match event {
            SocketEvent::Text(t) => {
                let text = t.as_ref();
                if text.len() > limit {
                    self.too_large(limit, &format!("{} bytes", text.len()), now);
                } else {
                    self.tap(TapEvent::Received(text));
                    self.session.handle_frame(text, now);
                }
            }
            SocketEvent::Binary(len) => self.session.handle_binary_frame(len, now),
            SocketEvent::TooLarge { detail } => self.too_large(limit, &detail, now),
            SocketEvent::Closed { code: Some(1006), .. } => self.failed(Error::dropped(Dropped::NoCloseFrame), now),
            SocketEvent::Closed { code, reason } => {
                tracing::debug!(?code, %reason, "websocket closed");
                self.disconnected(Disconnect::Closed { code, reason }, now);
            }
            SocketEvent::Failed(e) => self.failed(e, now),
        }
    }

    /// A frame from the server over the limit: the connection cannot be read past it.
    fn too_large(&mut self, limit: usize, detail: &str, now: Instant) {
        tracing::warn!(limit, detail, "a frame from the server is too large");
        let message = format!("a frame from the server exceeds the {limit}-byte limit ({detail})");
        self.abandon();
        self.disconnected(Disconnect::FrameTooLarge { message }, now);
    }

    fn internal(&mut self, i: Internal<P::Socket>, now: Instant) {
        match i {
            Internal::Token(fresh, Ok(c)) => {
                self.tap(TapEvent::Token { fresh, customer_id: c.customer_id.as_ref() });
                if let Some(r) = c.refresh_token.clone() {
                    self.session.handle_refresh_token(r, now);
                }
                let t = self.calls.token(c);
                self.session.handle_token(t, now);
            }
            Internal::Token(_, Err(e)) => {
                tracing::warn!(error = %e, "no token");
                self.session.handle_token_error(e.into_core(Operation::FetchToken), now);
            }
            Internal::Connected(attempt, result) => {
                if self.connecting != Some(attempt) {
                    return; // a stale attempt (its socket closes as it is dropped)
                }
                self.connecting = None;
                match result {
                    Ok(socket) => {
                        tracing::info!("connected");
                        self.tap(TapEvent::Connected);
                        self.socket = Some(socket);
                        self.session.handle_connected(now);
                    }
                    Err(e) => {
                        let failure = e.into_transport(Operation::Connect);
                        tracing::info!(error = %chatio_core::chain(&failure), "cannot connect");
                        self.disconnected(Disconnect::Failed(failure), now);
                    }
                }
            }
            Internal::Abandoned(id) => self.calls.abandoned(&mut self.session, &id, now),
            Internal::Uploaded(id, result) => self.calls.uploaded(&mut self.session, &id, result, now),
            Internal::Network(n) => self.network(n, now),
        }
    }

    fn network(&mut self, n: Network, now: Instant) {
        match n {
            Network::Offline => {
                tracing::info!("the network went offline");
                if self.socket.is_some() {
                    self.abandon();
                    self.failed(Error::dropped(Dropped::Offline), now);
                }
            }
            Network::Online => {
                tracing::info!("the network is online");
                if self.waiting_online {
                    self.waiting_online = false;
                    self.connecting = None;
                    self.start_connect();
                }
            }
        }
    }

    /// Handles `wake` and everything else already waiting (bounded by [`WAKES_PER_STEP`]), so
    /// that the step's store changes are written in one `apply` and its frames go out
    /// together: with many calls in flight, one store transaction covers them all. Not
    /// `async`: what it holds stays out of the loop's future.
    fn handle_ready(
        &mut self,
        wake: Wake<S, Text<P>, P::Socket>,
        commands: &mut mpsc::UnboundedReceiver<Command<S>>,
        internal: &mut mpsc::UnboundedReceiver<Internal<P::Socket>>,
    ) -> Step {
        let mut wake = Some(wake);
        let mut handled = 0;
        while let Some(w) = wake.take() {
            let now = self.platform.now();
            match w {
                Wake::Command(None) => {
                    // Every handle is gone: the SDK was dropped.
                    self.session.destroy(now);
                    return Step::Dropped;
                }
                Wake::Command(Some(Command::Shutdown(done))) => {
                    self.session.destroy(now);
                    return Step::Shutdown(done);
                }
                Wake::Command(Some(c)) => self.calls.command(&mut self.session, c, now),
                Wake::Internal(Some(i)) => self.internal(i, now),
                Wake::Internal(None) => {}
                Wake::Socket(e) => self.socket_event(e, now),
                Wake::Timer => self.session.handle_timeout(now),
            }
            handled += 1;
            if handled < WAKES_PER_STEP {
                wake = self.ready_wake(commands, internal);
            }
        }
        Step::Go
    }

    /// A command, internal message or socket event that is ready now, without waiting.
    fn ready_wake(
        &mut self,
        commands: &mut mpsc::UnboundedReceiver<Command<S>>,
        internal: &mut mpsc::UnboundedReceiver<Internal<P::Socket>>,
    ) -> Option<Wake<S, Text<P>, P::Socket>> {
        if let Some(c) = commands.next().now_or_never() {
            return Some(Wake::Command(c));
        }
        if let Some(Some(i)) = internal.next().now_or_never() {
            return Some(Wake::Internal(Some(i)));
        }
        let socket = self.socket.as_mut()?;
        // A pending socket keeps this no-op waker only until the loop's next wait polls it
        // again with the task's own.
        let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
        match socket.poll_event(&mut cx) {
            std::task::Poll::Ready(e) => Some(Wake::Socket(e)),
            std::task::Poll::Pending => None,
        }
    }

    /// The store failed: the session goes on without it.
    fn store_failed(&mut self, e: crate::store::StoreError, now: Instant) {
        tracing::warn!(error = %e, "the store failed: going on in memory");
        self.store = None;
        self.session.handle_store_failed(e.into_core(), now);
    }

    /// Writes the session's store changes, before the frames they precede.
    async fn persist(&mut self) -> bool {
        let changes: Vec<_> = std::iter::from_fn(|| self.session.poll_change()).collect();
        if changes.is_empty() {
            return false;
        }
        if let Some(store) = self.store.clone() {
            if let Err(e) = store.apply(changes).await {
                let now = self.platform.now();
                self.store_failed(e, now);
            }
        }
        true
    }

    /// Drains the session: store changes (written first), frames out (each written before
    /// the next), actions, events and outcomes; then publishes the snapshot.
    async fn pump(&mut self) {
        loop {
            let mut moved = self.persist().await;
            while let Some(frame) = self.session.poll_transmit() {
                moved = true;
                // Without a socket the frame is dropped: the session only writes when it
                // knows the socket is open, and requeues what matters (the outbox) itself.
                if self.socket.is_none() {
                    continue;
                }
                self.tap(TapEvent::Sent(&frame));
                let Some(socket) = &mut self.socket else { continue };
                if let Err(e) = socket.send(frame).await {
                    tracing::debug!(error = %e, "write failed");
                    self.abandon();
                    let now = self.platform.now();
                    self.disconnected(Disconnect::Failed(e.into_transport(Operation::Socket)), now);
                }
            }
            while let Some(action) = self.session.poll_action() {
                moved = true;
                self.action(action).await;
            }
            while let Some(out) = self.session.poll_output() {
                moved = true;
                self.calls.output(&self.session, out);
            }
            if !moved {
                break;
            }
        }
        self.calls.publish_state(&self.session);
    }

    /// Starts a connection attempt, or waits for the network if the platform says it is down
    /// (no attempt is spent while offline).
    fn start_connect(&mut self) {
        if !self.platform.is_online() {
            tracing::info!("offline: the connection waits for the network");
            self.waiting_online = true;
            self.connecting = Some(0);
            return;
        }
        self.attempt += 1;
        let attempt = self.attempt;
        self.connecting = Some(attempt);
        let timeout = self.config.connect_timeout;
        let deadline = self.platform.now() + timeout;
        let connect = self.platform.connect(&self.rtm_url, self.session.max_frame_len());
        let expire = self.platform.sleep_until(deadline);
        let tx = self.internal.clone();
        let span = tracing::info_span!("chatio.connect", attempt, url = %urls::redact(&self.rtm_url));
        let task = async move {
            let r = match futures::future::select(std::pin::pin!(connect), std::pin::pin!(expire)).await {
                futures::future::Either::Left((r, _)) => r,
                futures::future::Either::Right(_) => Err(Error::Timeout(timeout)),
            };
            let _ = tx.unbounded_send(Internal::Connected(attempt, r));
        };
        spawn_in(&self.platform, task, span);
    }

    async fn action(&mut self, action: DriverAction) {
        match action {
            DriverAction::FetchToken { fresh } => {
                let fetch = self.tokens.token(fresh);
                let tx = self.internal.clone();
                self.platform.spawn(async move {
                    let r = fetch.await;
                    let _ = tx.unbounded_send(Internal::Token(fresh, r));
                });
            }
            DriverAction::Connect if self.socket.is_none() && self.connecting.is_none() => self.start_connect(),
            DriverAction::Connect => {}
            DriverAction::Close => {
                self.connecting = None;
                self.waiting_online = false;
                let Some(socket) = self.socket.take() else { return };
                socket.close(Closing::Requested).await;
                let now = self.platform.now();
                self.disconnected(Disconnect::Closed { code: Some(1000), reason: CLOSED_BY_CLIENT.into() }, now);
            }
            DriverAction::Upload(req) => {
                let Some(StartedUpload { upload, progress, abandon, reg }) =
                    self.calls.start_upload(&req, &self.upload_url)
                else {
                    return;
                };
                let run = self.platform.upload(upload, progress, self.config.upload_timeout);
                let (tx, id) = (self.internal.clone(), req.id.clone());
                let span = tracing::info_span!("chatio.upload", request = %id, size = req.size);
                let task = async move {
                    // Aborting drops the upload's future, which stops its request.
                    let _ = match watch_upload(run, reg, abandon).await {
                        Some(UploadEnd::Abandoned) => tx.unbounded_send(Internal::Abandoned(id)),
                        Some(UploadEnd::Done(result)) => tx.unbounded_send(Internal::Uploaded(id, result)),
                        None => Ok(()),
                    };
                };
                spawn_in(&self.platform, task, span);
            }
            DriverAction::CancelUpload { id } => self.calls.cancel_upload(&id),
            _ => {}
        }
    }
}
