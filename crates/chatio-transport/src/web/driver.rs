//! The browser driver: one `spawn_local` task per session that pumps a
//! [`chatio_core::Session`], like the native [`crate::driver`] (whose loop this mirrors) but on
//! the browser's websocket, `fetch`, `XMLHttpRequest` and `setTimeout`. No protocol logic.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatio_core::{Disconnect, DriverAction, Instant, Operation, Session};
use chatio_wire::RequestId;
use futures::channel::{mpsc, oneshot};
use futures::future::{Either, select};
use futures::{FutureExt, StreamExt};
use url::Url;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::Event;

use super::socket::{Socket, SocketEvent};
use super::time::{sleep, sleep_until};
use crate::bus::Bus;
use crate::calls::{Calls, StartedUpload, UploadEnd, watch_upload};
use crate::error::{BrowserError, Error};
use crate::handle::Command;
pub use crate::handle::{AbandonOnDrop, DriverHandle, ReplyReceiver, Snapshot, UploadIdReceiver};
use crate::token::{Credentials, TokenProvider};
use crate::upload::UploadError;
use crate::ws;

/// Results of the driver's own background work, and the browser's network events.
enum Internal {
    Token(Result<Credentials, Error>),
    Connected(u64, Result<Socket, Error>),
    Uploaded(RequestId, Result<chatio_wire::SendFileResponse, UploadError>),
    Offline,
    Online,
    /// The caller dropped the upload's [`AbandonOnDrop`]: cancel it.
    Abandoned(RequestId),
}

/// Where the driver connects and how.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct DriverConfig {
    /// The API base URL (`http(s)://host[:port]` or `ws(s)://…`).
    pub server: Url,
    /// Time allowed to open the websocket (20 s).
    pub connect_timeout: Duration,
    /// Time allowed for one upload (5 min).
    pub upload_timeout: Duration,
    /// How many events the event bus keeps for slow subscribers (1 024; see [`crate::bus`]).
    pub event_capacity: usize,
}

impl DriverConfig {
    /// Defaults for a server.
    pub fn new(server: Url) -> Self {
        Self {
            server,
            connect_timeout: Duration::from_secs(20),
            upload_timeout: Duration::from_secs(300),
            event_capacity: crate::bus::DEFAULT_CAPACITY,
        }
    }
}

/// The `offline`/`online` listeners on `window`, removed on drop.
struct NetListeners {
    window: web_sys::Window,
    offline: Closure<dyn FnMut(Event)>,
    online: Closure<dyn FnMut(Event)>,
}

impl NetListeners {
    fn install(tx: &mpsc::UnboundedSender<Internal>) -> Option<Self> {
        let window = web_sys::window()?;
        let t = tx.clone();
        let offline = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let _ = t.unbounded_send(Internal::Offline);
        });
        let t = tx.clone();
        let online = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let _ = t.unbounded_send(Internal::Online);
        });
        let _ = window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        Some(Self { window, offline, online })
    }
}

impl Drop for NetListeners {
    fn drop(&mut self) {
        let _ = self.window.remove_event_listener_with_callback("offline", self.offline.as_ref().unchecked_ref());
        let _ = self.window.remove_event_listener_with_callback("online", self.online.as_ref().unchecked_ref());
    }
}

fn browser_online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

/// Starts a browser driver task for `session` (on the page's task queue).
///
/// # Errors
/// [`Error::InvalidUrl`] when the server URL has an unusable scheme.
pub fn spawn(session: Session, config: DriverConfig, tokens: Arc<dyn TokenProvider>) -> Result<DriverHandle, Error> {
    let rtm_url = ws::rtm_url(&config.server, session.config().license_id)?;
    let upload_url = ws::web_api_url(&config.server, session.config().license_id, "send_file")?;
    let (tx, rx) = mpsc::unbounded();
    let (itx, irx) = mpsc::unbounded();
    let net = NetListeners::install(&itx);
    let bus = Bus::new(config.event_capacity);
    let state = Arc::new(Mutex::new(Snapshot::of(&session)));
    let driver = Driver {
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
        calls: Calls::new(bus.clone(), state.clone()),
        _net: net,
    };
    wasm_bindgen_futures::spawn_local(Box::new(driver).run(rx, irx));
    Ok(DriverHandle::new(tx, bus, state))
}

struct Driver {
    session: Session,
    config: DriverConfig,
    rtm_url: Url,
    upload_url: Url,
    tokens: Arc<dyn TokenProvider>,
    internal: mpsc::UnboundedSender<Internal>,
    socket: Option<Socket>,
    /// The connection attempt in flight.
    connecting: Option<u64>,
    /// A connection is wanted but the browser is offline: it starts on `online`.
    waiting_online: bool,
    attempt: u64,
    calls: Calls,
    _net: Option<NetListeners>,
}

enum Wake {
    Command(Option<Command>),
    Internal(Option<Internal>),
    Socket(Option<SocketEvent>),
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
            self.pump();
            if shutdown.is_some() {
                break;
            }
            let deadline = self.session.poll_timeout();
            let wake = {
                let timer = match deadline {
                    Some(d) => sleep_until(d).left_future(),
                    None => futures::future::pending().right_future(),
                };
                let frame = match &mut self.socket {
                    Some(s) => s.next().left_future(),
                    None => futures::future::pending().right_future(),
                };
                futures::select_biased! {
                    c = commands.next() => Wake::Command(c),
                    i = internal.next() => Wake::Internal(i),
                    f = frame.fuse() => Wake::Socket(f),
                    () = timer.fuse() => Wake::Timer,
                }
            };
            let now = Instant::now();
            match wake {
                Wake::Command(None) => {
                    self.session.destroy(now);
                    self.pump();
                    break;
                }
                Wake::Command(Some(Command::Shutdown(done))) => {
                    self.session.destroy(now);
                    shutdown = Some(done);
                }
                Wake::Command(Some(c)) => self.calls.command(&mut self.session, c, now),
                Wake::Internal(Some(i)) => self.internal(i, now),
                Wake::Internal(None) => {}
                Wake::Socket(ev) => self.socket_event(ev, now),
                Wake::Timer => self.session.handle_timeout(now),
            }
        }
        if let Some(s) = self.socket.take() {
            s.close(1000, "closed by the client");
        }
        self.calls.close(&self.session);
        if let Some(done) = shutdown {
            let _ = done.send(());
        }
    }

    fn socket_event(&mut self, ev: Option<SocketEvent>, now: Instant) {
        match ev {
            Some(SocketEvent::Text(text)) => {
                let limit = self.session.config().max_frame_len;
                if text.len() > limit {
                    tracing::warn!(len = text.len(), limit, "a frame from the server is too large");
                    self.drop_socket();
                    let message =
                        format!("a frame from the server exceeds the {limit}-byte limit ({} bytes)", text.len());
                    self.session.handle_disconnected(Disconnect::FrameTooLarge { message }, now);
                } else {
                    self.session.handle_frame(&text, now);
                }
            }
            Some(SocketEvent::Binary(len)) => self.session.handle_binary_frame(len, now),
            Some(SocketEvent::Open | SocketEvent::Error) => {}
            Some(SocketEvent::Closed { code, reason }) => {
                self.socket = None;
                tracing::debug!(code, %reason, "websocket closed");
                let how = if code == 1006 {
                    socket_failure("the connection dropped without a close frame (1006)")
                } else {
                    Disconnect::Closed { code: Some(code), reason }
                };
                self.session.handle_disconnected(how, now);
            }
            None => {
                self.socket = None;
                self.session.handle_disconnected(socket_failure("the websocket went away"), now);
            }
        }
    }

    fn drop_socket(&mut self) {
        if let Some(s) = self.socket.take() {
            s.close(1000, "closed by the client");
        }
    }

    fn internal(&mut self, i: Internal, now: Instant) {
        match i {
            Internal::Token(Ok(c)) => {
                let t = self.calls.token(c);
                self.session.handle_token(t, now);
            }
            Internal::Token(Err(e)) => {
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
                        self.socket = Some(socket);
                        self.session.handle_connected(now);
                    }
                    Err(e) => {
                        tracing::info!(error = %e, "cannot connect");
                        self.session.handle_disconnected(Disconnect::Failed(e.into_transport(Operation::Connect)), now);
                    }
                }
            }
            Internal::Uploaded(id, result) => self.calls.uploaded(&mut self.session, &id, result, now),
            Internal::Abandoned(id) => self.calls.abandoned(&mut self.session, &id, now),
            Internal::Offline => {
                tracing::info!("the browser went offline");
                if self.socket.is_some() {
                    self.drop_socket();
                    self.session.handle_disconnected(socket_failure("the browser went offline"), now);
                }
            }
            Internal::Online => {
                tracing::info!("the browser is online");
                if self.waiting_online {
                    self.waiting_online = false;
                    self.connecting = None;
                    self.start_connect();
                }
            }
        }
    }

    /// Drains the session: frames out, actions, events and outcomes.
    fn pump(&mut self) {
        loop {
            let mut moved = false;
            while let Some(frame) = self.session.poll_transmit() {
                moved = true;
                if let Some(s) = &self.socket {
                    if let Err(e) = s.send(&frame) {
                        tracing::debug!(error = %e, "write failed");
                        self.drop_socket();
                        let failure = Disconnect::Failed(e.into_transport(Operation::Socket));
                        self.session.handle_disconnected(failure, Instant::now());
                    }
                }
                // Without a socket the frame is dropped: the session requeues what matters.
            }
            while let Some(action) = self.session.poll_action() {
                moved = true;
                self.action(action);
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

    fn start_connect(&mut self) {
        if !browser_online() {
            // Paused: `online` starts it (no attempt is spent while the browser is offline).
            tracing::info!("offline: the connection waits for the browser to be online");
            self.waiting_online = true;
            self.connecting = Some(0);
            return;
        }
        self.attempt += 1;
        let attempt = self.attempt;
        self.connecting = Some(attempt);
        let (url, tx, timeout) = (self.rtm_url.clone(), self.internal.clone(), self.config.connect_timeout);
        wasm_bindgen_futures::spawn_local(async move {
            let r = open_socket(&url, timeout).await;
            let _ = tx.unbounded_send(Internal::Connected(attempt, r));
        });
    }

    fn action(&mut self, action: DriverAction) {
        match action {
            DriverAction::FetchToken { fresh } => {
                let fut = self.tokens.token(fresh);
                let tx = self.internal.clone();
                wasm_bindgen_futures::spawn_local(async move {
                    let _ = tx.unbounded_send(Internal::Token(fut.await));
                });
            }
            DriverAction::Connect => {
                if self.socket.is_some() || self.connecting.is_some() {
                    return;
                }
                self.start_connect();
            }
            DriverAction::Close => {
                self.connecting = None;
                self.waiting_online = false;
                if let Some(s) = self.socket.take() {
                    s.close(1000, "closed by the client");
                    self.session.handle_disconnected(
                        Disconnect::Closed { code: Some(1000), reason: "closed by the client".into() },
                        Instant::now(),
                    );
                }
            }
            DriverAction::Upload(req) => {
                let Some(StartedUpload { upload, progress, abandon, reg }) =
                    self.calls.start_upload(&req, &self.upload_url)
                else {
                    return;
                };
                let (tx, id, timeout) = (self.internal.clone(), req.id.clone(), self.config.upload_timeout);
                wasm_bindgen_futures::spawn_local(async move {
                    // Aborting drops the request, which calls `XMLHttpRequest.abort()`.
                    let run = super::upload::send_file(upload, progress, timeout);
                    let _ = match watch_upload(run, reg, abandon).await {
                        Some(UploadEnd::Abandoned) => tx.unbounded_send(Internal::Abandoned(id)),
                        Some(UploadEnd::Done(result)) => tx.unbounded_send(Internal::Uploaded(id, result)),
                        None => Ok(()),
                    };
                });
            }
            DriverAction::CancelUpload { id } => self.calls.cancel_upload(&id),
            _ => {}
        }
    }
}

/// The socket broke: `why` as a websocket failure.
fn socket_failure(why: &str) -> Disconnect {
    let e = Error::WebSocket { context: "reading".into(), source: BrowserError(why.to_owned()) };
    Disconnect::Failed(e.into_transport(Operation::Socket))
}

/// Opens the websocket and waits for `open` (or its failure), at most `timeout`.
async fn open_socket(url: &Url, timeout: Duration) -> Result<Socket, Error> {
    let mut socket = Socket::open(url)?;
    let opened = async {
        loop {
            match socket.next().await {
                Some(SocketEvent::Open) => return Ok(()),
                Some(SocketEvent::Error) | None => {
                    return Err(format!("the browser could not open the websocket to {url}"));
                }
                Some(SocketEvent::Closed { code, reason }) => {
                    return Err(format!("the websocket to {url} closed before opening ({code} {reason})"));
                }
                Some(_) => {}
            }
        }
    };
    let outcome = match select(std::pin::pin!(opened), sleep(timeout)).await {
        Either::Left((Ok(()), _)) => Ok(()),
        Either::Left((Err(m), _)) => Err(Error::Connect { url: url.as_str().to_owned(), source: io::Error::other(m) }),
        Either::Right(_) => Err(Error::Timeout(timeout)),
    };
    outcome.map(|()| socket)
}
