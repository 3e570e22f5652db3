//! The driver on its own, with a fake runtime: a clock the test moves, and in-memory sockets
//! whose far end the test holds (a websocket it answers by hand, an HTTP upload it never
//! answers). Tasks run on async-std; nothing waits on real time except the bounded waits
//! for the driver to act.
//!
//! The last tests run the driver on a scripted platform (sockets that report what the test
//! pushes, a network the test switches off and on): the rules the driver applies on every
//! platform, the browser's included.

#![cfg(not(target_arch = "wasm32"))] // the native driver on a fake runtime

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use chatio_core::{Config, Error, FileSpec, Reply, SdkEvent, Session};
use chatio_transport::platform::{Closing, NetworkEvents, Platform, Socket, SocketEvent};
use chatio_transport::runtime::{BoxFuture, BoxIo, Runtime};
use chatio_transport::token::{Credentials, StaticToken};
use chatio_transport::upload::{FileSource, Progress, Upload, UploadError};
use chatio_transport::{
    DriverConfig, DriverHandle, Error as TransportError, MaybeSend, Recv, Subscriber, Tap, TapEvent,
};
use chatio_wire::{ChatId, LicenseId};
use futures::channel::mpsc;
use futures::io::{AsyncRead, AsyncWrite};
use futures::{FutureExt, StreamExt};
use serde_json::{Value, json};

// ---------------------------------------------------------------- in-memory sockets

#[derive(Default)]
struct Half {
    buf: VecDeque<u8>,
    closed: bool,
    reader: Option<Waker>,
}

type Shared = Arc<Mutex<Half>>;
/// The far end of an accepted connection, and its client's write-failure switch.
type Accepted = (End, Arc<Mutex<bool>>);

/// One end of a duplex pipe.
struct End {
    rx: Shared,
    tx: Shared,
    /// Writes fail (a socket error mid-write).
    fail_writes: Arc<Mutex<bool>>,
}

fn pipe() -> (End, End, Arc<Mutex<bool>>) {
    let (a, b): (Shared, Shared) = (Shared::default(), Shared::default());
    let fail = Arc::new(Mutex::new(false));
    let client = End { rx: a.clone(), tx: b.clone(), fail_writes: fail.clone() };
    let server = End { rx: b, tx: a, fail_writes: Arc::new(Mutex::new(false)) };
    (client, server, fail)
}

impl AsyncRead for End {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        let mut h = self.rx.lock().expect("lock");
        if h.buf.is_empty() {
            if h.closed {
                return Poll::Ready(Ok(0));
            }
            h.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(h.buf.len());
        for (i, b) in h.buf.drain(..n).enumerate() {
            buf[i] = b;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for End {
    fn poll_write(self: Pin<&mut Self>, _cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        if *self.fail_writes.lock().expect("lock") {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "the network is gone")));
        }
        let mut h = self.tx.lock().expect("lock");
        if h.closed {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed")));
        }
        h.buf.extend(buf);
        if let Some(w) = h.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        close(&self.tx);
        Poll::Ready(Ok(()))
    }
}

fn close(h: &Shared) {
    let mut h = h.lock().expect("lock");
    h.closed = true;
    if let Some(w) = h.reader.take() {
        w.wake();
    }
}

impl Drop for End {
    fn drop(&mut self) {
        close(&self.tx);
        close(&self.rx);
    }
}

// ---------------------------------------------------------------- the fake runtime

/// What the next `connect_tcp` does.
enum Plan {
    Refuse,
    Accept,
}

struct Fake {
    now: Mutex<Instant>,
    sleepers: Mutex<Vec<Waker>>,
    plans: Mutex<VecDeque<Plan>>,
    /// The far ends of accepted connections, with their client's write-failure switch.
    accepted: mpsc::UnboundedSender<Accepted>,
    connects: Mutex<usize>,
}

impl Fake {
    fn new() -> (Arc<Self>, mpsc::UnboundedReceiver<Accepted>) {
        let (tx, rx) = mpsc::unbounded();
        let f = Fake {
            now: Mutex::new(Instant::now()),
            sleepers: Mutex::new(Vec::new()),
            plans: Mutex::new(VecDeque::new()),
            accepted: tx,
            connects: Mutex::new(0),
        };
        (Arc::new(f), rx)
    }

    fn plan(&self, p: Plan) {
        self.plans.lock().expect("lock").push_back(p);
    }

    /// Moves the clock and wakes every sleeper (each checks its own deadline).
    fn advance(&self, d: Duration) {
        *self.now.lock().expect("lock") += d;
        for w in self.sleepers.lock().expect("lock").drain(..) {
            w.wake();
        }
    }
}

struct Sleep {
    rt: Arc<Fake>,
    deadline: Instant,
}

impl std::future::Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if *self.rt.now.lock().expect("lock") >= self.deadline {
            return Poll::Ready(());
        }
        self.rt.sleepers.lock().expect("lock").push(cx.waker().clone());
        Poll::Pending
    }
}

/// The runtime the driver gets: the fake clock and sockets, async-std's executor.
#[derive(Clone)]
struct FakeRt(Arc<Fake>);

impl Runtime for FakeRt {
    fn spawn(&self, task: BoxFuture<()>) {
        drop(async_std::task::spawn(task));
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        Box::pin(Sleep { rt: self.0.clone(), deadline })
    }

    fn connect_tcp(&self, _host: &str, _port: u16) -> BoxFuture<io::Result<BoxIo>> {
        *self.0.connects.lock().expect("lock") += 1;
        let plan = self.0.plans.lock().expect("lock").pop_front().unwrap_or(Plan::Refuse);
        let r = match plan {
            Plan::Refuse => Err(io::Error::new(io::ErrorKind::ConnectionRefused, "refused")),
            Plan::Accept => {
                let (client, server, fail) = pipe();
                let _ = self.0.accepted.unbounded_send((server, fail));
                Ok(Box::new(client) as BoxIo)
            }
        };
        Box::pin(async move { r })
    }

    fn now(&self) -> Instant {
        *self.0.now.lock().expect("lock")
    }

    fn name(&self) -> &'static str {
        "fake"
    }
}

// ---------------------------------------------------------------- helpers

/// Bounded real-time wait for something the driver does (it runs on other threads).
async fn within<T>(what: &str, f: impl std::future::Future<Output = T>) -> T {
    async_std::future::timeout(Duration::from_secs(10), f).await.unwrap_or_else(|_| panic!("timed out: {what}"))
}

struct World {
    fake: Arc<Fake>,
    accepted: mpsc::UnboundedReceiver<Accepted>,
    driver: DriverHandle,
    events: Subscriber,
}

/// A driver whose first connection attempt gets `first` (planned before it starts).
fn world_with(first: Plan) -> World {
    let (fake, accepted) = Fake::new();
    fake.plan(first);
    let rt: Arc<dyn Runtime> = Arc::new(FakeRt(fake.clone()));
    let session = Session::new(Config::new(LicenseId(100), 1), rt.now());
    let config = DriverConfig::new(url::Url::parse("http://chat.test").expect("url"));
    let tokens = Arc::new(StaticToken::new(Credentials::bearer("t0k")));
    let driver = chatio_transport::spawn(rt, session, config, tokens).expect("spawn");
    let events = driver.subscribe();
    World { fake, accepted, driver, events }
}

fn world() -> World {
    world_with(Plan::Accept)
}

type Ws = WebSocketStream<End>;

impl World {
    /// Accepts the next websocket connection the driver opens.
    async fn accept(&mut self) -> (Ws, Arc<Mutex<bool>>) {
        let (end, fail) = within("a connection", self.accepted.next()).await.expect("a connection");
        let ws = within("the handshake", async_tungstenite::accept_async(end)).await.expect("handshake");
        (ws, fail)
    }

    async fn event(&mut self, what: &str, f: impl Fn(&SdkEvent) -> bool) -> SdkEvent {
        within(what, async {
            loop {
                match futures::future::poll_fn(|cx| self.events.poll_recv(cx)).await {
                    Recv::Event(e) if f(&e) => return (*e).clone(),
                    Recv::Closed => panic!("the bus closed while waiting for {what}"),
                    _ => {}
                }
            }
        })
        .await
    }
}

async fn read_frame(ws: &mut Ws) -> Value {
    loop {
        match within("a frame", ws.next()).await {
            Some(Ok(Message::Text(t))) => return serde_json::from_str(t.as_str()).expect("JSON"),
            Some(Ok(_)) => {}
            other => panic!("the socket ended: {other:?}"),
        }
    }
}

async fn answer(ws: &mut Ws, request: &Value, payload: Value) {
    let f = json!({"request_id": request["request_id"], "action": request["action"], "type": "response",
                   "success": true, "payload": payload});
    futures::SinkExt::send(ws, Message::text(f.to_string())).await.expect("send");
}

/// Answers the login and the chats summary.
async fn log_in(ws: &mut Ws) {
    let login = read_frame(ws).await;
    assert_eq!(login["action"], "login");
    answer(ws, &login, json!({"customer_id": "cust-1"})).await;
    let summary = read_frame(ws).await;
    assert_eq!(summary["action"], "get_chats_summary");
    answer(ws, &summary, json!({"chats_summary": [], "total_chats": 0})).await;
}

// ---------------------------------------------------------------- tests

#[test]
fn the_timer_is_rearmed_from_the_fake_clock() {
    async_std::task::block_on(async {
        let mut w = world();
        let (mut ws, _) = w.accept().await;
        log_in(&mut ws).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;
        // Nothing is written until the fake clock reaches the ping, each 15 s: the driver
        // re-arms its timer from `poll_timeout` after every wake.
        for _ in 0..3 {
            let early = ws.next().now_or_never();
            assert!(early.is_none(), "no frame before the ping is due: {early:?}");
            w.fake.advance(Duration::from_secs(15));
            let ping = read_frame(&mut ws).await;
            assert_eq!(ping, json!({"action": "ping"}));
            let pong = Message::text(r#"{"action":"ping","type":"response","success":true,"payload":{}}"#);
            futures::SinkExt::send(&mut ws, pong).await.expect("pong");
        }
        w.driver.shutdown().await;
    });
}

#[test]
fn a_command_while_reconnecting_goes_out_after_the_login() {
    async_std::task::block_on(async {
        let mut w = world();
        let (mut ws, _) = w.accept().await;
        log_in(&mut ws).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;
        // The server goes away; the first attempt to come back is refused.
        w.fake.plan(Plan::Refuse);
        w.fake.plan(Plan::Accept);
        drop(ws);
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        // A command while the session waits to reconnect.
        let chat = ChatId::new("C1");
        let driver = w.driver.clone();
        let reply = driver.request(move |s, now| s.send_message(&chat, "while away", now));
        futures::pin_mut!(reply);
        assert!(reply.as_mut().now_or_never().is_none());
        // Fake time passes: the refused attempt is reported with its cause, then a retry.
        w.fake.advance(Duration::from_secs(5));
        let refused = w.event("the refused attempt", |e| matches!(e, SdkEvent::Error(Error::Transport(_)))).await;
        let SdkEvent::Error(e) = refused else { unreachable!() };
        assert!(e.is_transient());
        w.fake.advance(Duration::from_secs(10));
        let (mut ws, _) = w.accept().await;
        log_in(&mut ws).await;
        let send = read_frame(&mut ws).await;
        assert_eq!(send["action"], "send_event");
        assert_eq!(send["payload"]["event"]["text"], "while away");
        let event = json!({"id": "T1_1", "order": 1, "type": "message", "author_id": "cust-1",
                           "timestamp": 1520000000, "text": "while away",
                           "custom_id": send["payload"]["event"]["custom_id"]});
        answer(&mut ws, &send, json!({"thread_id": "T1", "event": event})).await;
        let r = within("the reply", reply).await.expect("sent");
        assert!(matches!(r, Reply::Event(e) if e.text() == Some("while away")));
        assert_eq!(*w.fake.connects.lock().expect("lock"), 3);
        w.driver.shutdown().await;
    });
}

#[test]
fn a_socket_error_mid_write_fails_the_request_and_reconnects() {
    async_std::task::block_on(async {
        let mut w = world();
        let (mut ws, fail) = w.accept().await;
        log_in(&mut ws).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;
        *fail.lock().expect("lock") = true;
        let r = within("the failed request", w.driver.request(|s, now| s.get_chats_summary(0, 10, now))).await;
        assert_eq!(r, Err(Error::ConnectionLost));
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        w.event("reconnecting", |e| matches!(e, SdkEvent::Reconnecting { .. })).await;
        w.fake.plan(Plan::Accept);
        w.fake.advance(Duration::from_secs(5));
        let (mut ws, _) = w.accept().await;
        log_in(&mut ws).await;
        w.event("connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. })).await;
        w.driver.shutdown().await;
    });
}

#[test]
fn a_cancelled_upload_stops_its_http_connection() {
    async_std::task::block_on(async {
        let mut w = world();
        let (mut ws, _) = w.accept().await;
        log_in(&mut ws).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;
        // The upload's HTTP connection: the test reads the request and never answers.
        w.fake.plan(Plan::Accept);
        let spec = FileSpec::new("a.bin", 4, "application/octet-stream");
        let source = FileSource::Bytes(bytes::Bytes::from_static(b"data"));
        let (id, reply, _guard) = w.driver.upload(ChatId::new("C1"), spec, source, None);
        let id = within("the upload id", id).await.expect("sent").expect("accepted");
        let (mut http, _) = within("the upload connection", w.accepted.next()).await.expect("connection");
        let mut head = [0u8; 64];
        let n = within("the request", futures::io::AsyncReadExt::read(&mut http, &mut head)).await.expect("read");
        assert!(String::from_utf8_lossy(&head[..n]).starts_with("POST /customer/v0.5/action/send_file"));
        let cancelled = within("the cancel", w.driver.exec(move |s, now| s.cancel(&id, now))).await.expect("driver");
        assert!(cancelled);
        assert_eq!(within("the outcome", reply).await.expect("outcome"), Err(Error::Cancelled));
        // The aborted upload dropped its connection: the far end reads to the end.
        within("the connection to close", async {
            let mut rest = Vec::new();
            let _ = futures::io::AsyncReadExt::read_to_end(&mut http, &mut rest).await;
        })
        .await;
        w.driver.shutdown().await;
    });
}

// ---------------------------------------------------------------- the shared rules, on a scripted platform

/// The test's end of a scripted socket: it pushes what the socket reports and reads what the
/// driver wrote.
struct ScriptEnd {
    events: mpsc::UnboundedSender<SocketEvent<String>>,
    sent: mpsc::UnboundedReceiver<String>,
}

/// A socket the test scripts: the driver's view of a connection, without tungstenite.
struct ScriptSocket {
    events: mpsc::UnboundedReceiver<SocketEvent<String>>,
    sent: mpsc::UnboundedSender<String>,
    /// How the driver let go of each socket: `close Requested`, `close SessionEnded`,
    /// `abandon` (a socket dropped says nothing).
    ends: Arc<Mutex<Vec<String>>>,
}

impl Socket for ScriptSocket {
    type Text = String;

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<SocketEvent<String>> {
        self.events
            .poll_next_unpin(cx)
            .map(|e| e.unwrap_or(SocketEvent::Closed { code: Some(1006), reason: String::new() }))
    }

    fn send(
        &mut self,
        frame: String,
    ) -> impl std::future::Future<Output = Result<(), TransportError>> + MaybeSend + '_ {
        let r = self.sent.unbounded_send(frame).map_err(|_| TransportError::Cancelled);
        async move { r }
    }

    fn close(self, why: Closing) -> impl std::future::Future<Output = ()> + MaybeSend + 'static {
        self.ends.lock().expect("lock").push(format!("close {why:?}"));
        std::future::ready(())
    }

    fn abandon(self) {
        self.ends.lock().expect("lock").push("abandon".into());
    }
}

/// A platform whose network the test switches and whose sockets it scripts: the browser's
/// case (`navigator.onLine`, `offline`/`online` events) and the rules every platform shares
/// (tap, frame size, close code 1006), driven on the fake clock.
#[derive(Clone)]
struct Scripted {
    rt: FakeRt,
    online: Arc<AtomicBool>,
    net: Arc<Mutex<Option<NetworkEvents<ScriptSocket>>>>,
    ends: mpsc::UnboundedSender<ScriptEnd>,
    connects: Arc<AtomicUsize>,
    closes: Arc<Mutex<Vec<String>>>,
}

impl Platform for Scripted {
    type Socket = ScriptSocket;
    type Sleep = BoxFuture<()>;
    type NetworkWatch = ();

    fn now(&self) -> Instant {
        self.rt.now()
    }

    fn sleep_until(&self, deadline: Instant) -> BoxFuture<()> {
        self.rt.sleep_until(deadline)
    }

    fn spawn(&self, task: impl std::future::Future<Output = ()> + MaybeSend + 'static) {
        self.rt.spawn(Box::pin(task));
    }

    fn connect(
        &self,
        _url: &url::Url,
        _max_frame_len: usize,
    ) -> impl std::future::Future<Output = Result<ScriptSocket, TransportError>> + MaybeSend + 'static {
        self.connects.fetch_add(1, Ordering::SeqCst);
        let (etx, erx) = mpsc::unbounded();
        let (stx, srx) = mpsc::unbounded();
        let _ = self.ends.unbounded_send(ScriptEnd { events: etx, sent: srx });
        let ends = self.closes.clone();
        async move { Ok(ScriptSocket { events: erx, sent: stx, ends }) }
    }

    fn upload(
        &self,
        _upload: Upload,
        _progress: Option<Progress>,
        _timeout: Duration,
    ) -> impl std::future::Future<Output = Result<chatio_wire::SendFileResponse, UploadError>> + MaybeSend + 'static
    {
        std::future::ready(Err(UploadError::Transport(TransportError::Cancelled)))
    }

    fn is_online(&self) -> bool {
        self.online.load(Ordering::SeqCst)
    }

    fn watch_network(&self, events: NetworkEvents<ScriptSocket>) {
        *self.net.lock().expect("lock") = Some(events);
    }
}

/// Every tap event, as text.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Tap for Recorder {
    fn event(&self, _at: Instant, event: TapEvent<'_>) {
        self.0.lock().expect("lock").push(format!("{event:?}"));
    }
}

struct ScriptWorld {
    fake: Arc<Fake>,
    platform: Scripted,
    ends: mpsc::UnboundedReceiver<ScriptEnd>,
    driver: DriverHandle,
    events: Subscriber,
    tap: Arc<Recorder>,
}

fn scripted(online: bool) -> ScriptWorld {
    let (fake, _accepted) = Fake::new();
    let (etx, ends) = mpsc::unbounded();
    let platform = Scripted {
        rt: FakeRt(fake.clone()),
        online: Arc::new(AtomicBool::new(online)),
        net: Arc::default(),
        ends: etx,
        connects: Arc::default(),
        closes: Arc::default(),
    };
    let mut core = Config::new(LicenseId(100), 1);
    core.max_frame_len = 64 * 1024;
    let session = Session::new(core, platform.now());
    let tap = Arc::new(Recorder::default());
    let mut config = DriverConfig::new(url::Url::parse("http://chat.test").expect("url"));
    config.tap = Some(tap.clone());
    let tokens = Arc::new(StaticToken::new(Credentials::bearer("t0k")));
    let driver = chatio_transport::spawn_on(platform.clone(), session, config, tokens).expect("spawn");
    let events = driver.subscribe();
    ScriptWorld { fake, platform, ends, driver, events, tap }
}

impl ScriptWorld {
    async fn accept(&mut self) -> ScriptEnd {
        within("a connection", self.ends.next()).await.expect("a connection")
    }

    async fn event(&mut self, what: &str, f: impl Fn(&SdkEvent) -> bool) -> SdkEvent {
        within(what, async {
            loop {
                match futures::future::poll_fn(|cx| self.events.poll_recv(cx)).await {
                    Recv::Event(e) if f(&e) => return (*e).clone(),
                    Recv::Closed => panic!("the bus closed while waiting for {what}"),
                    _ => {}
                }
            }
        })
        .await
    }

    fn network(&self, online: bool) {
        self.platform.online.store(online, Ordering::SeqCst);
        let net = self.platform.net.lock().expect("lock").clone().expect("the driver watches the network");
        if online { net.online() } else { net.offline() }
    }

    fn connects(&self) -> usize {
        self.platform.connects.load(Ordering::SeqCst)
    }

    /// How the driver let go of its sockets so far (see [`ScriptSocket::ends`]).
    fn closes(&self) -> Vec<String> {
        self.platform.closes.lock().expect("lock").clone()
    }
}

async fn script_read(end: &mut ScriptEnd) -> Value {
    let t = within("a frame", end.sent.next()).await.expect("the socket is open");
    serde_json::from_str(&t).expect("JSON")
}

fn script_answer(end: &ScriptEnd, request: &Value, payload: Value) {
    let f = json!({"request_id": request["request_id"], "action": request["action"], "type": "response",
                   "success": true, "payload": payload});
    end.events.unbounded_send(SocketEvent::Text(f.to_string())).expect("the driver reads");
}

async fn script_log_in(end: &mut ScriptEnd) {
    let login = script_read(end).await;
    assert_eq!(login["action"], "login");
    script_answer(end, &login, json!({"customer_id": "cust-1"}));
    let summary = script_read(end).await;
    assert_eq!(summary["action"], "get_chats_summary");
    script_answer(end, &summary, json!({"chats_summary": [], "total_chats": 0}));
}

/// The browser's rule, on any platform that reports its network: offline at the start, no
/// connection attempt is spent however long it waits; `online` connects at once; going
/// offline drops the socket (`connection_lost`), and a message written meanwhile goes out
/// after the next login.
#[test]
fn offline_spends_no_attempt_and_online_connects() {
    async_std::task::block_on(async {
        let mut w = scripted(false);
        for _ in 0..4 {
            w.fake.advance(Duration::from_secs(30));
        }
        async_std::task::sleep(Duration::from_millis(50)).await;
        assert_eq!(w.connects(), 0, "no attempt while offline");
        w.network(true);
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;

        w.network(false);
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        assert_eq!(w.closes(), ["abandon"], "offline: the socket is let go of, not just dropped");
        let chat = ChatId::new("C1");
        let driver = w.driver.clone();
        let reply = driver.request(move |s, now| s.send_message(&chat, "typed offline", now));
        futures::pin_mut!(reply);
        for _ in 0..4 {
            w.fake.advance(Duration::from_secs(30));
        }
        async_std::task::sleep(Duration::from_millis(50)).await;
        assert!(reply.as_mut().now_or_never().is_none());
        assert_eq!(w.connects(), 1, "no attempt while offline");
        w.network(true);
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        let send = script_read(&mut end).await;
        assert_eq!(send["payload"]["event"]["text"], "typed offline");
        let event = json!({"id": "T1_1", "order": 1, "type": "message", "author_id": "cust-1",
                           "timestamp": 1520000000, "text": "typed offline",
                           "custom_id": send["payload"]["event"]["custom_id"]});
        script_answer(&end, &send, json!({"thread_id": "T1", "event": event}));
        let r = within("the reply", reply).await.expect("sent");
        assert!(matches!(r, Reply::Event(e) if e.text() == Some("typed offline")));
        w.driver.shutdown().await;
        assert_eq!(w.closes(), ["abandon", "close Requested"], "destroy asks to close");
    });
}

/// The rules every platform shares, here on one without tungstenite: the tap sees the frames
/// both ways; a text frame over `max_frame_len` ends the connection with a protocol error (it
/// was only tungstenite's check natively, and a hand-written one in the browser); close code
/// 1006 is a dropped connection, not a close (it was mapped in the browser only).
#[test]
fn tap_frame_size_and_1006_are_the_drivers_rules() {
    async_std::task::block_on(async {
        let mut w = scripted(true);
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;
        let tapped = w.tap.0.lock().expect("lock").join("\n");
        assert!(tapped.contains("Sent(\"{\\\"request_id\\\"") && tapped.contains("Received("), "{tapped}");

        let big = format!("{{\"action\":\"incoming_multicast\",\"payload\":{{\"x\":\"{}\"}}}}", "a".repeat(70_000));
        end.events.unbounded_send(SocketEvent::Text(big)).expect("send");
        let err = w.event("the protocol error", |e| matches!(e, SdkEvent::Error(Error::Protocol(_)))).await;
        assert!(format!("{err:?}").contains("exceeds the 65536-byte limit"), "{err:?}");
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        assert_eq!(w.closes(), ["abandon"], "an oversize frame: the socket is let go of");
        let tapped = w.tap.0.lock().expect("lock").join("\n");
        assert!(!tapped.contains("aaaaaaaa"), "an oversize frame is not read, so not tapped either");
        assert!(tapped.contains("exceeds the 65536-byte limit (70"), "{tapped}");

        w.fake.advance(Duration::from_secs(5));
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. })).await;
        end.events.unbounded_send(SocketEvent::Closed { code: Some(1006), reason: String::new() }).expect("send");
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        assert_eq!(w.closes(), ["abandon"], "a socket that ended is only dropped");
        let tapped = w.tap.0.lock().expect("lock").join("\n");
        assert!(tapped.contains("code: None, reason: \"the websocket failed: websocket error: reading: the connection dropped without a close frame (1006)"), "{tapped}");
        w.fake.advance(Duration::from_secs(5));
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. })).await;
        w.driver.shutdown().await;
    });
}

/// How the driver lets go of a socket (each platform puts it on the wire as it always did:
/// `Closing` and `abandon` in `platform.rs`): a failed write abandons it; the session's own
/// close (`disconnect`, and `destroy`, which asks for it too) is `Requested`.
#[test]
fn the_driver_says_why_it_lets_go_of_a_socket() {
    async_std::task::block_on(async {
        let mut w = scripted(true);
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connected", |e| matches!(e, SdkEvent::Connected { .. })).await;
        // The next write fails: the connection cannot be written to.
        let ScriptEnd { events: _still_open, sent } = end;
        drop(sent);
        let _pending = w.driver.request_with_id(|s, now| s.send_message(&ChatId::new("C1"), "lost write", now));
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        assert_eq!(w.closes(), ["abandon"]);

        w.fake.advance(Duration::from_secs(5));
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. })).await;
        w.driver.exec(|s, now| s.disconnect(now)).await.expect("disconnect");
        w.event("connection_lost", |e| matches!(e, SdkEvent::ConnectionLost)).await;
        assert_eq!(w.closes(), ["abandon", "close Requested"]);

        w.driver.exec(|s, now| s.connect(now)).await.expect("connect");
        let mut end = w.accept().await;
        script_log_in(&mut end).await;
        w.event("connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. })).await;
        w.driver.shutdown().await;
        assert_eq!(w.closes(), ["abandon", "close Requested", "close Requested"], "destroy asks to close");
    });
}
