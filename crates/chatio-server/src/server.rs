//! The server: its own tokio runtime on its own thread, the listener, the shared state, and
//! the handle that tests and the demo hold.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatio_wire::{ChatId, DisconnectReason, Event, Push, RequestId, Token, UserId};
use futures::channel::oneshot;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, watch};

use crate::ConformanceFault;
use crate::agent;
use crate::config::{DeclaredProperty, PropertyAccess, ServerConfig};
use crate::engine::{self, Effects, Trigger};
use crate::error::Error;
use crate::hub::{ConnId, Hub, Out};
use crate::store::{Policy, Store, TokenRecord};

/// How long a clean shutdown waits for connections to finish their close handshake.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Unix seconds now (the wire's time unit).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Data and connections, behind one lock so that frames go out in one order.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) hub: Hub,
}

/// A fault to inject for one customer (through the handle or the admin routes).
#[derive(Clone, Debug)]
pub(crate) enum Fault {
    /// Drop every connection abruptly, without a close frame.
    Drop,
    /// Hold the next response back this long.
    DelayNextResponse(Duration),
    /// Never send the next response.
    SwallowNextResponse,
    /// Send a text frame that is not JSON.
    Malformed,
    /// Make every token of the customer expired.
    ExpireTokens,
    /// Ban: `customer_disconnected` `customer_banned`, close 4000, later logins refused.
    Ban,
    /// Lift a ban.
    Unban,
}

/// The text of the malformed frame sent by [`Fault::Malformed`].
pub(crate) const MALFORMED_FRAME: &str = "{\"action\": \"incoming_event\", \"type\": \"push\", \"payload\": oops";

/// Requests to the accept loop.
#[derive(Debug)]
pub(crate) enum Control {
    /// Drop every connection and listen again on the same address.
    Restart(oneshot::Sender<Result<(), Error>>),
}

/// What every task of the server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) public_url: String,
    inner: Mutex<Inner>,
    /// Flips to `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Signalled whenever a websocket connection ends.
    pub(crate) conn_gone: Notify,
    control: mpsc::UnboundedSender<Control>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock poisons it; every mutation is completed before the
        // deliveries, so the data is consistent enough to keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers what a call did: its pushes now, then the agent's reactions (at once with a
    /// zero delay, else on a timer task).
    pub(crate) fn finish(
        self: &Arc<Self>,
        inner: &mut Inner,
        license: u64,
        fx: Effects,
        requester: Option<(ConnId, Option<&RequestId>)>,
    ) {
        inner.hub.deliver(fx.deliveries, requester);
        if self.config.agent {
            for t in fx.triggers {
                self.run_agent(inner, license, t);
            }
        }
    }

    fn run_agent(self: &Arc<Self>, inner: &mut Inner, license: u64, trigger: Trigger) {
        let (chat, steps) = agent::plan(&inner.store, license, &trigger);
        if steps.is_empty() {
            return;
        }
        let delay = self.config.agent_delay;
        if delay.is_zero() {
            for step in &steps {
                let fx = agent::apply(&mut inner.store, license, &chat, step, now_secs(), &self.public_url);
                inner.hub.deliver(fx.deliveries, None);
            }
            return;
        }
        let shared = self.clone();
        tokio::spawn(async move {
            for step in steps {
                tokio::time::sleep(delay).await;
                let mut guard = shared.lock();
                let inner = &mut *guard;
                let fx = agent::apply(&mut inner.store, license, &chat, &step, now_secs(), &shared.public_url);
                inner.hub.deliver(fx.deliveries, None);
            }
        });
    }

    /// Creates a token for a customer (made if absent), as the token endpoint does.
    /// Returns the secret, the customer and the lifetime in seconds.
    pub(crate) fn issue_token(
        &self,
        inner: &mut Inner,
        license: u64,
        customer: Option<UserId>,
        valid_for: Option<u64>,
    ) -> Result<(String, UserId, u64), Error> {
        if !inner.store.licenses.contains_key(&license) {
            return Err(Error::UnknownLicense(license));
        }
        let customer = match customer {
            Some(c) => c,
            None => UserId::new(inner.store.ids.uuid()),
        };
        if let Some(l) = inner.store.licenses.get_mut(&license) {
            l.customers.entry(customer.clone()).or_default();
        }
        let lifetime = valid_for.unwrap_or(self.config.token_lifetime.as_secs());
        let secret = inner.store.ids.token();
        let expires_at = now_secs().saturating_add(lifetime);
        inner.store.tokens.insert(secret.clone(), TokenRecord { license, customer: customer.clone(), expires_at });
        Ok((secret, customer, lifetime))
    }

    /// Injects a fault for one customer.
    pub(crate) fn inject(&self, license: u64, customer: &UserId, fault: Fault) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        tracing::info!(license, ?fault, "fault injected");
        match fault {
            Fault::Drop => inner.hub.send_customer(license, customer, || Out::Drop),
            Fault::DelayNextResponse(d) => {
                inner.hub.faults.entry((license, customer.clone())).or_default().delay_next_response = Some(d);
            }
            Fault::SwallowNextResponse => {
                inner.hub.faults.entry((license, customer.clone())).or_default().swallow_next_response = true;
            }
            Fault::Malformed => inner.hub.send_customer(license, customer, || Out::Text(MALFORMED_FRAME.into())),
            Fault::ExpireTokens => {
                for t in inner.store.tokens.values_mut() {
                    if t.license == license && t.customer == *customer {
                        t.expires_at = 0;
                    }
                }
            }
            Fault::Ban | Fault::Unban => {
                let banned = matches!(fault, Fault::Ban);
                if let Some(l) = inner.store.licenses.get_mut(&license) {
                    l.customers.entry(customer.clone()).or_default().banned = banned;
                }
                if banned {
                    crate::conn::disconnect_customer(&inner.hub, license, customer, DisconnectReason::CustomerBanned);
                }
            }
        }
    }

    /// Asks the accept loop to restart; resolves once it listens again.
    pub(crate) async fn restart(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.control.send(Control::Restart(tx)).map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }

    /// The events of a chat, ascending by order.
    pub(crate) fn chat_events(&self, license: u64, chat: &ChatId) -> Option<Vec<Event>> {
        let inner = self.lock();
        let c = inner.store.licenses.get(&license)?.chats.get(chat)?;
        let mut events: Vec<Event> = c.threads.iter().flat_map(|t| t.events.iter().cloned()).collect();
        events.sort_by_key(|e| e.order);
        Some(events)
    }

    /// Routine work: archive idle threads (G3) when configured.
    fn sweep(&self) {
        let Some(after) = self.config.archive_after else { return };
        let now = now_secs();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut fx = Effects::default();
        for (license, lic) in &mut inner.store.licenses {
            for chat in lic.chats.values_mut() {
                let idle = chat.active_thread().is_some_and(|t| now.saturating_sub(t.last_activity) >= after.as_secs());
                if !idle {
                    continue;
                }
                let kind = chatio_wire::EventKind::SystemMessage(chatio_wire::SystemMessage::new(
                    "Chat archived due to long inactivity",
                    "routing.archived",
                ));
                let Some((thread, ev)) = engine::add_agent_event(chat, None, kind, now) else { continue };
                if let Some(t) = chat.active_thread_mut() {
                    t.active = false;
                }
                for push in [
                    Push::IncomingEvent(chatio_wire::IncomingEvent::new(chat.id.clone(), thread.clone(), ev)),
                    Push::ThreadClosed(chatio_wire::ThreadClosed::new(chat.id.clone(), thread, None)),
                ] {
                    fx.deliveries.push(engine::Delivery {
                        license: *license,
                        customer: chat.customer.clone(),
                        push,
                        caused_by_request: false,
                    });
                }
            }
        }
        inner.hub.deliver(fx.deliveries, None);
    }
}

/// The reference server. Start one with [`Server::builder`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Server;

impl Server {
    /// A builder with the default configuration (`127.0.0.1:8080`, license 100, agent on
    /// with no delay, 2 worker threads).
    pub fn builder() -> ServerBuilder {
        ServerBuilder { config: ServerConfig::default() }
    }
}

/// Configures and starts a [`Server`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerBuilder {
    config: ServerConfig,
}

impl ServerBuilder {
    /// A builder from a full configuration.
    pub fn from_config(config: ServerConfig) -> Self {
        Self { config }
    }

    /// Where to listen (port 0 picks a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen = addr;
        self
    }

    /// Listens on `127.0.0.1` on a free port (for tests and the demo).
    pub fn ephemeral(self) -> Self {
        self.listen(SocketAddr::from(([127, 0, 0, 1], 0)))
    }

    /// The licenses to serve (replaces the default `100`).
    pub fn licenses(mut self, licenses: impl IntoIterator<Item = u64>) -> Self {
        self.config.licenses = licenses.into_iter().collect();
        self
    }

    /// Also serves `license`, expired: its `login` and Web API calls fail with
    /// `license_expired`.
    pub fn expired_license(mut self, license: u64) -> Self {
        if !self.config.licenses.contains(&license) {
            self.config.licenses.push(license);
        }
        self.config.expired_licenses.push(license);
        self
    }

    /// Turns the scripted agent on or off (on by default).
    pub fn agent(mut self, on: bool) -> Self {
        self.config.agent = on;
        self
    }

    /// The agent's delay before each of its steps (0 by default: deterministic).
    pub fn agent_delay(mut self, delay: Duration) -> Self {
        self.config.agent_delay = delay;
        self
    }

    /// Logged-in connections allowed per customer (10 by default).
    pub fn max_connections_per_customer(mut self, n: usize) -> Self {
        self.config.max_connections_per_customer = n.max(1);
        self
    }

    /// How long a silent connection lives (60 s by default).
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.config.idle_timeout = d;
        self
    }

    /// Serves the `/admin/...` fault-injection routes (off by default).
    pub fn admin(mut self, on: bool) -> Self {
        self.config.admin = on;
        self
    }

    /// Seeds the id generator: the same seed gives the same ids (tokens stay random).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Worker threads of the server's runtime (2 by default).
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n.max(1);
        self
    }

    /// Accepts only these client ids at the token endpoint (any by default).
    pub fn allowed_client_id(mut self, id: impl Into<String>) -> Self {
        self.config.allowed_client_ids.push(id.into());
        self
    }

    /// Archives threads idle this long (never by default).
    pub fn archive_after(mut self, d: Duration) -> Self {
        self.config.archive_after = Some(d);
        self
    }

    /// Lifetime of the tokens the server issues (1 hour by default).
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.config.token_lifetime = d;
        self
    }

    /// Limits the chats one customer may start (unlimited by default, G4): the
    /// `start_chat` over the cap fails with `validation` "too many chats".
    pub fn max_chats_per_customer(mut self, n: usize) -> Self {
        self.config.max_chats_per_customer = Some(n);
        self
    }

    /// Declares a property customers may read and write, or only read (G15). Once one is
    /// declared, a customer's write of any undeclared or read-only property fails with
    /// `authorization`; by default every property is writable.
    pub fn declare_property(
        mut self,
        namespace: impl Into<String>,
        name: impl Into<String>,
        access: PropertyAccess,
    ) -> Self {
        self.config.declared_properties.push(DeclaredProperty::new(namespace, name, access));
        self
    }

    /// Test-only: breaks the protocol on purpose (see [`ConformanceFault`]), so that a
    /// conformance checker can be shown to catch it.
    pub fn conformance_fault(mut self, fault: ConformanceFault) -> Self {
        self.config.conformance_fault = Some(fault);
        self
    }

    /// Requires `Authorization: Bearer <token>` with this app access token (or another one
    /// given the same way) at the token endpoint (G11; not checked by default).
    pub fn app_token(mut self, token: impl Into<String>) -> Self {
        self.config.app_tokens.push(Token::new(token.into()));
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Starts the server on its own thread and tokio runtime and resolves once it accepts
    /// connections. Works when awaited from any async runtime (or none: see
    /// [`start_blocking`](Self::start_blocking)).
    ///
    /// # Errors
    /// [`Error::Bind`] when the address cannot be bound, [`Error::Runtime`] when the thread
    /// or the runtime cannot start.
    pub async fn start(self) -> Result<ServerHandle, Error> {
        let (tx, rx) = oneshot::channel();
        let (thread, exited) = spawn_server_thread(self.config, tx)?;
        let started = rx.await.map_err(|_| Error::Stopped)??;
        Ok(ServerHandle::new(started, thread, exited))
    }

    /// Like [`start`](Self::start), blocking the calling thread until the server accepts
    /// connections. Do not call it from inside an async task.
    ///
    /// # Errors
    /// As [`start`](Self::start).
    pub fn start_blocking(self) -> Result<ServerHandle, Error> {
        futures::executor::block_on(self.start())
    }
}

struct Started {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

type Exited = oneshot::Receiver<()>;

fn spawn_server_thread(
    config: ServerConfig,
    started: oneshot::Sender<Result<Started, Error>>,
) -> Result<(std::thread::JoinHandle<()>, Exited), Error> {
    let (exited_tx, exited_rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("chatio-server".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(config.workers.max(1))
                .thread_name("chatio-server-worker")
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = started.send(Err(Error::Runtime(e)));
                    return;
                }
            };
            rt.block_on(serve(config, started));
            // Plain HTTP connections and timers still alive are dropped here.
            rt.shutdown_timeout(Duration::from_secs(1));
            let _ = exited_tx.send(());
        })
        .map_err(Error::Runtime)?;
    Ok((thread, exited_rx))
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })
}

async fn serve(config: ServerConfig, started: oneshot::Sender<Result<Started, Error>>) {
    let listener = match bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(source) => {
            let _ = started.send(Err(Error::Bind { addr: config.listen, source }));
            return;
        }
    };
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
    let mut store = Store::new(seed, &config.licenses, &config.expired_licenses, &public_url);
    store.policy = Policy {
        max_chats_per_customer: config.max_chats_per_customer,
        declared_properties: config.declared_properties.clone(),
        conformance_fault: config.conformance_fault,
        push_dropped: false,
    };
    let (stop_tx, mut stop) = watch::channel(false);
    let (control_tx, mut control_rx) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        config,
        public_url,
        inner: Mutex::new(Inner { store, hub: Hub::default() }),
        shutdown: stop.clone(),
        conn_gone: Notify::new(),
        control: control_tx,
    });
    tracing::info!(%addr, "chatio-server listening");
    if started.send(Ok(Started { addr, shared: shared.clone(), stop: stop_tx })).is_err() {
        return;
    }
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    let mut listener = Some(listener);
    while let Some(l) = &listener {
        tokio::select! {
            accepted = l.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    tokio::spawn(crate::http::serve_connection(shared, TokioIo::new(stream), peer));
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(Control::Restart(reply)) = control_rx.recv() => {
                listener = None;
                shared.lock().hub.send_all(|| Out::Drop);
                match bind(addr).await {
                    Ok(l) => {
                        listener = Some(l);
                        tracing::info!(%addr, "restarted with state kept");
                        let _ = reply.send(Ok(()));
                    }
                    Err(e) => {
                        tracing::error!(%addr, error = %e, "cannot listen again after a restart");
                        let _ = reply.send(Err(e));
                    }
                }
            },
            _ = sweep.tick() => shared.sweep(),
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    break;
                }
            }
        }
    }
    drop(listener);
    close_all(&shared).await;
    tracing::info!(%addr, "chatio-server stopped");
}

/// Closes every websocket connection cleanly (1001) and waits, a bounded time, for them
/// to finish.
async fn close_all(shared: &Shared) {
    shared.lock().hub.send_all(|| Out::Close(1001, "server shutting down"));
    let deadline = tokio::time::Instant::now() + CLOSE_GRACE;
    while shared.lock().hub.len() > 0 {
        if tokio::time::timeout_at(deadline, shared.conn_gone.notified()).await.is_err() {
            tracing::debug!("connections still open after the grace period");
            break;
        }
    }
}

/// A running server. Dropping it shuts the server down (without waiting; use
/// [`shutdown`](Self::shutdown) to wait).
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    exited: Option<Exited>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    fn new(s: Started, thread: std::thread::JoinHandle<()>, exited: Exited) -> Self {
        Self { addr: s.addr, shared: s.shared, stop: s.stop, exited: Some(exited), thread: Some(thread) }
    }

    /// The bound address (the real port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`: the base URL of the Web API, the token endpoint and files.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The RTM websocket URL of a license: `ws://HOST:PORT/customer/v0.5/rtm/ws?license_id=N`.
    pub fn ws_url(&self, license: u64) -> String {
        format!("ws://{}/customer/v0.5/rtm/ws?license_id={license}", self.addr)
    }

    /// Stops the server: closes the listener, closes every websocket connection (1001), and
    /// waits for the server's thread to end. Works from any async runtime.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(exited) = self.exited.take() {
            let _ = exited.await;
        }
        if let Some(t) = self.thread.take() {
            // The thread has signalled its very last step: joining does not block.
            let _ = t.join();
        }
    }

    /// Drops every connection (without close frames) and listens again on the same port;
    /// all data (customers, tokens, chats, files) is kept.
    ///
    /// # Errors
    /// [`Error::Bind`] when the port cannot be bound again (the server then stops
    /// accepting), [`Error::Stopped`] when the server has stopped.
    pub async fn restart(&self) -> Result<(), Error> {
        self.shared.restart().await
    }

    /// Creates a customer token as the token endpoint would: for `customer` (created if
    /// unknown), or a new customer when `None`. Returns the access token and the customer id.
    ///
    /// # Errors
    /// [`Error::UnknownLicense`].
    pub fn create_token(&self, license: u64, customer: Option<&str>) -> Result<(String, UserId), Error> {
        let mut inner = self.shared.lock();
        self.shared.issue_token(&mut inner, license, customer.map(UserId::from), None).map(|(t, c, _)| (t, c))
    }

    /// Drops every connection of a customer abruptly: no `customer_disconnected`, no close
    /// frame, the TCP connection just ends.
    pub fn drop_connections(&self, license: u64, customer: &str) {
        self.shared.inject(license, &UserId::from(customer), Fault::Drop);
    }

    /// Drops every websocket connection of every customer abruptly.
    pub fn drop_all_connections(&self) {
        self.shared.lock().hub.send_all(|| Out::Drop);
    }

    /// Holds the customer's next websocket response (on any of its connections) back for
    /// `delay`; the pushes the request causes are not delayed. Web API answers are not
    /// affected.
    pub fn delay_next_response(&self, license: u64, customer: &str, delay: Duration) {
        self.shared.inject(license, &UserId::from(customer), Fault::DelayNextResponse(delay));
    }

    /// Swallows the customer's next websocket response: the request is carried out (and its
    /// pushes sent) but never answered. Web API answers are not affected.
    pub fn swallow_next_response(&self, license: u64, customer: &str) {
        self.shared.inject(license, &UserId::from(customer), Fault::SwallowNextResponse);
    }

    /// Sends a text frame that is not valid JSON to every connection of the customer.
    pub fn send_malformed_frame(&self, license: u64, customer: &str) {
        self.shared.inject(license, &UserId::from(customer), Fault::Malformed);
    }

    /// Expires every token of the customer: `login` and Web API calls with them then fail
    /// with `authentication`; open connections stay usable (G35).
    pub fn expire_tokens(&self, license: u64, customer: &str) {
        self.shared.inject(license, &UserId::from(customer), Fault::ExpireTokens);
    }

    /// Bans a customer: `customer_disconnected` `customer_banned` to each of its
    /// connections, close 4000; later logins and Web API calls fail with `customer_banned`
    /// until [`unban`](Self::unban) (G30).
    pub fn ban(&self, license: u64, customer: &str) {
        self.shared.inject(license, &UserId::from(customer), Fault::Ban);
    }

    /// Lifts a ban.
    pub fn unban(&self, license: u64, customer: &str) {
        self.shared.inject(license, &UserId::from(customer), Fault::Unban);
    }

    /// The events of a chat, ascending by order (empty for an unknown chat).
    pub fn chat_events(&self, license: u64, chat: &str) -> Vec<Event> {
        self.shared.chat_events(license, &ChatId::from(chat)).unwrap_or_default()
    }

    /// The chats of a customer, in creation order.
    pub fn chats_of(&self, license: u64, customer: &str) -> Vec<ChatId> {
        let inner = self.shared.lock();
        inner
            .store
            .licenses
            .get(&license)
            .and_then(|l| l.chats_of.get(&UserId::from(customer)))
            .cloned()
            .unwrap_or_default()
    }

    /// Open websocket connections (logged in or not).
    pub fn connection_count(&self) -> usize {
        self.shared.lock().hub.len()
    }

    /// Logged-in connections of a customer.
    pub fn customer_connections(&self, license: u64, customer: &str) -> usize {
        self.shared.lock().hub.count(license, &UserId::from(customer))
    }

    /// The scripted agent's user id.
    pub fn agent_id(&self) -> Option<UserId> {
        self.shared.lock().store.bot().map(|b| b.id.clone())
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
