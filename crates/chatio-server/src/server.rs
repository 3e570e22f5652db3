//! The server: its own tokio runtime on its own thread, the listener, the shared state, and
//! the handle tests and the demo hold.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatio_wire::{ChatId, DisconnectReason, Event, Push, UserId};
use futures::channel::oneshot;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::agent;
use crate::config::ServerConfig;
use crate::engine::{self, Effects, Trigger};
use crate::hub::{ConnId, Hub, Out};
use crate::store::{Store, TokenRecord};

/// Unix seconds now.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Data and connections, behind one lock so that frames go out in one order.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) hub: Hub,
}

/// What every task of the server shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) public_url: String,
    inner: Mutex<Inner>,
    /// The agent's step queue per chat (with a non-zero agent delay).
    agent_queues: Mutex<std::collections::HashMap<(u64, ChatId), mpsc::UnboundedSender<agent::Step>>>,
    /// Flips to `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock poisons it; the data is still consistent enough to
        // keep serving (every mutation is completed before deliveries).
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Delivers what a call did: pushes now, then the agent's reactions (at once with a zero
    /// delay, else on a timer task).
    pub(crate) fn finish(
        self: &Arc<Self>,
        inner: &mut Inner,
        license: u64,
        fx: Effects,
        requester: Option<(ConnId, Option<chatio_wire::RequestId>)>,
    ) {
        inner.hub.deliver(fx.deliveries, requester);
        if self.config.agent {
            for t in fx.triggers {
                self.run_agent(inner, license, t);
            }
        }
        self.flush_delayed(inner);
    }

    /// Sends responses held back by a delay fault.
    pub(crate) fn flush_delayed(&self, inner: &mut Inner) {
        for (delay, tx, frame) in inner.hub.delayed.drain(..) {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = tx.send(Out::Text(frame));
            });
        }
    }

    fn run_agent(self: &Arc<Self>, inner: &mut Inner, license: u64, trigger: Trigger) {
        let (chat, steps) = agent::plan(&inner.store, license, &trigger);
        if steps.is_empty() {
            return;
        }
        if self.config.agent_delay.is_zero() {
            for step in &steps {
                let fx = agent::apply(&mut inner.store, license, &chat, step, now_secs(), &self.public_url);
                inner.hub.deliver(fx.deliveries, None);
            }
            return;
        }
        // One queue per chat: the agent's steps in a chat happen in order, one delay apart.
        let mut queues = self.agent_queues.lock().unwrap_or_else(|e| e.into_inner());
        let key = (license, chat.clone());
        let tx = queues.entry(key).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<agent::Step>();
            let shared = self.clone();
            let chat = chat.clone();
            tokio::spawn(async move {
                while let Some(step) = rx.recv().await {
                    tokio::time::sleep(shared.config.agent_delay).await;
                    let mut guard = shared.lock();
                    let inner = &mut *guard;
                    let fx = agent::apply(&mut inner.store, license, &chat, &step, now_secs(), &shared.public_url);
                    inner.hub.deliver(fx.deliveries, None);
                }
            });
            tx
        });
        for step in steps {
            let _ = tx.send(step);
        }
    }

    /// Creates a token for a customer (made if absent), as the token endpoint does.
    pub(crate) fn issue_token(
        &self,
        inner: &mut Inner,
        license: u64,
        customer: Option<UserId>,
        valid_for: Option<u64>,
    ) -> Option<(String, UserId, u64)> {
        let lic = inner.store.licenses.get(&license)?;
        let _ = lic;
        let customer = match customer {
            Some(c) => c,
            None => UserId::new(inner.store.ids.uuid()),
        };
        if let Some(l) = inner.store.licenses.get_mut(&license) {
            l.customers.entry(customer.clone()).or_default();
        }
        let lifetime = valid_for.unwrap_or(self.config.token_lifetime.as_secs());
        let secret = inner.store.ids.token();
        inner.store.tokens.insert(
            secret.clone(),
            TokenRecord { license, customer: customer.clone(), expires_at: now_secs().saturating_add(lifetime) },
        );
        Some((secret, customer, lifetime))
    }

    /// Routine work: archive idle threads (G3) when configured.
    fn sweep(self: &Arc<Self>) {
        let Some(after) = self.config.archive_after else { return };
        let now = now_secs();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut fx = Effects::default();
        for (license, lic) in inner.store.licenses.iter_mut() {
            for chat in lic.chats.values_mut() {
                let idle = chat.active_thread().is_some_and(|t| now.saturating_sub(t.last_activity) >= after.as_secs());
                if !idle {
                    continue;
                }
                let kind = chatio_wire::EventKind::SystemMessage(chatio_wire::SystemMessage::new(
                    "Chat archived due to long inactivity",
                    "routing.archived",
                ));
                if let Some((thread, ev)) = engine::add_agent_event(chat, None, kind, now) {
                    fx.deliveries.push(engine::Delivery {
                        license: *license,
                        customer: chat.customer.clone(),
                        push: Push::IncomingEvent(chatio_wire::IncomingEvent::new(chat.id.clone(), thread.clone(), ev)),
                        caused_by_request: false,
                    });
                    if let Some(t) = chat.active_thread_mut() {
                        t.active = false;
                    }
                    fx.deliveries.push(engine::Delivery {
                        license: *license,
                        customer: chat.customer.clone(),
                        push: Push::ThreadClosed(chatio_wire::ThreadClosed::new(chat.id.clone(), thread, None)),
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
pub struct Server;

impl Server {
    /// A builder with the default configuration (`127.0.0.1:8080`, license 100, agent on).
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

    /// A license whose `login` fails with `license_expired` (it is served too).
    pub fn expired_license(mut self, license: u64) -> Self {
        if !self.config.licenses.contains(&license) {
            self.config.licenses.push(license);
        }
        self.config.expired_licenses.push(license);
        self
    }

    /// Turns the scripted agent on or off.
    pub fn agent(mut self, on: bool) -> Self {
        self.config.agent = on;
        self
    }

    /// The agent's delay before each step.
    pub fn agent_delay(mut self, delay: Duration) -> Self {
        self.config.agent_delay = delay;
        self
    }

    /// Logged-in connections allowed per customer.
    pub fn max_connections_per_customer(mut self, n: usize) -> Self {
        self.config.max_connections_per_customer = n.max(1);
        self
    }

    /// How long a silent connection lives.
    pub fn idle_timeout(mut self, d: Duration) -> Self {
        self.config.idle_timeout = d;
        self
    }

    /// Serves the `/admin/...` fault-injection routes.
    pub fn admin(mut self, on: bool) -> Self {
        self.config.admin = on;
        self
    }

    /// Seeds the id generator (same seed, same ids).
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// Worker threads of the server's runtime.
    pub fn workers(mut self, n: usize) -> Self {
        self.config.workers = n.max(1);
        self
    }

    /// Accepts only these client ids at the token endpoint.
    pub fn allowed_client_id(mut self, id: impl Into<String>) -> Self {
        self.config.allowed_client_ids.push(id.into());
        self
    }

    /// Archives threads idle this long.
    pub fn archive_after(mut self, d: Duration) -> Self {
        self.config.archive_after = Some(d);
        self
    }

    /// Token lifetime.
    pub fn token_lifetime(mut self, d: Duration) -> Self {
        self.config.token_lifetime = d;
        self
    }

    /// The configuration so far.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Starts the server on its own thread and runtime; resolves once it accepts
    /// connections. Works from any async runtime.
    ///
    /// # Errors
    /// When the address cannot be bound or the runtime cannot start.
    pub async fn start(self) -> io::Result<ServerHandle> {
        let (tx, rx) = oneshot::channel();
        let thread = spawn_server_thread(self.config, tx)?;
        let started = rx.await.map_err(|_| io::Error::other("the server thread ended before starting"))??;
        Ok(ServerHandle::new(started, thread))
    }

    /// Like [`start_blocking`](Self::start_blocking) with a full configuration (the
    /// builder's own is replaced).
    ///
    /// # Errors
    /// When the address cannot be bound or the runtime cannot start.
    pub fn start_blocking_with(mut self, config: ServerConfig) -> io::Result<ServerHandle> {
        self.config = config;
        self.start_blocking()
    }

    /// Like [`start`](Self::start), blocking the calling thread until the server accepts
    /// connections. Do not call from inside an async task.
    ///
    /// # Errors
    /// When the address cannot be bound or the runtime cannot start.
    pub fn start_blocking(self) -> io::Result<ServerHandle> {
        let (tx, rx) = oneshot::channel();
        let thread = spawn_server_thread(self.config, tx)?;
        let started = futures::executor::block_on(rx)
            .map_err(|_| io::Error::other("the server thread ended before starting"))??;
        Ok(ServerHandle::new(started, thread))
    }
}

struct Started {
    addr: SocketAddr,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    stop: watch::Sender<bool>,
    done: oneshot::Receiver<()>,
    runtime: tokio::runtime::Handle,
}

enum Control {
    Restart(oneshot::Sender<io::Result<()>>),
}

fn spawn_server_thread(
    config: ServerConfig,
    started: oneshot::Sender<io::Result<Started>>,
) -> io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new().name("chatio-server".into()).spawn(move || {
        let rt = match tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.workers.max(1))
            .thread_name("chatio-server-worker")
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                let _ = started.send(Err(e));
                return;
            }
        };
        rt.block_on(serve(config, started));
        rt.shutdown_timeout(Duration::from_secs(1));
    })
}

async fn serve(config: ServerConfig, started: oneshot::Sender<io::Result<Started>>) {
    let listener = match TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let addr = match listener.local_addr() {
        Ok(a) => a,
        Err(e) => {
            let _ = started.send(Err(e));
            return;
        }
    };
    let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{addr}"));
    let seed = config.seed.unwrap_or_else(|| fastrand::u64(..));
    let store = Store::new(seed, &config.licenses, &config.expired_licenses, &public_url);
    let (stop_tx, stop_rx) = watch::channel(false);
    let (control_tx, mut control_rx) = mpsc::unbounded_channel();
    let (done_tx, done_rx) = oneshot::channel();
    let shared = Arc::new(Shared {
        config,
        public_url,
        inner: Mutex::new(Inner { store, hub: Hub::default() }),
        agent_queues: Mutex::default(),
        shutdown: stop_rx.clone(),
    });
    tracing::info!(%addr, "chatio-server listening");
    let _ = started.send(Ok(Started {
        addr,
        shared: shared.clone(),
        control: control_tx,
        stop: stop_tx,
        done: done_rx,
        runtime: tokio::runtime::Handle::current(),
    }));
    let mut stop = stop_rx;
    let mut sweep = tokio::time::interval(Duration::from_secs(1));
    let mut listener = Some(listener);
    while let Some(l) = &listener {
        tokio::select! {
            accepted = l.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let shared = shared.clone();
                    tokio::spawn(async move { crate::http::serve_connection(shared, TokioIo::new(stream), peer).await });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(c) = control_rx.recv() => match c {
                Control::Restart(reply) => {
                    listener = None;
                    drop_all(&shared);
                    match TcpListener::bind(addr).await {
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
    drop_all(&shared);
    let _ = done_tx.send(());
}

fn drop_all(shared: &Arc<Shared>) {
    let inner = shared.lock();
    for id in inner.hub.all() {
        inner.hub.send(id, Out::Drop);
    }
}

/// A running server. Dropping it shuts the server down.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    control: mpsc::UnboundedSender<Control>,
    stop: watch::Sender<bool>,
    done: Option<oneshot::Receiver<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    runtime: tokio::runtime::Handle,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Control")
    }
}

impl ServerHandle {
    fn new(s: Started, thread: std::thread::JoinHandle<()>) -> Self {
        Self {
            addr: s.addr,
            shared: s.shared,
            control: s.control,
            stop: s.stop,
            done: Some(s.done),
            thread: Some(thread),
            runtime: s.runtime,
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`: the base URL for the Web API, the token endpoint and files.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The RTM websocket URL of a license.
    pub fn ws_url(&self, license: u64) -> String {
        format!("ws://{}/customer/v0.5/rtm/ws?license_id={license}", self.addr)
    }

    /// Stops the server: closes the listener and every connection, and waits for its thread.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
        if let Some(t) = self.thread.take() {
            // The runtime is winding down; joining takes at most its shutdown timeout.
            let _ = t.join();
        }
    }

    /// Drops every connection and rebinds the listener on the same port; the data is kept.
    ///
    /// # Errors
    /// When the port cannot be bound again.
    pub async fn restart(&self) -> io::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.control.send(Control::Restart(tx)).map_err(|_| io::Error::other("the server has stopped"))?;
        rx.await.map_err(|_| io::Error::other("the server has stopped"))?
    }

    /// Creates a customer token as the token endpoint would (a new customer when `customer`
    /// is `None`). Returns the access token and the customer id.
    pub fn create_token(&self, license: u64, customer: Option<&str>) -> Option<(String, UserId)> {
        let mut inner = self.shared.lock();
        self.shared.issue_token(&mut inner, license, customer.map(UserId::from), None).map(|(t, c, _)| (t, c))
    }

    /// Drops every connection of a customer abruptly (no close frame).
    pub fn drop_connections(&self, license: u64, customer: &str) {
        self.shared.lock().hub.send_customer(license, &UserId::from(customer), || Out::Drop);
    }

    /// Drops every connection of every customer abruptly.
    pub fn drop_all_connections(&self) {
        drop_all(&self.shared);
    }

    /// Delays the next response to the customer.
    pub fn delay_next_response(&self, license: u64, customer: &str, delay: Duration) {
        self.shared.lock().hub.faults.entry((license, UserId::from(customer))).or_default().delay_next_response =
            Some(delay);
    }

    /// Swallows the next response to the customer (the request never gets an answer).
    pub fn swallow_next_response(&self, license: u64, customer: &str) {
        self.shared.lock().hub.faults.entry((license, UserId::from(customer))).or_default().swallow_next_response =
            true;
    }

    /// Sends a frame that is not JSON to every connection of the customer.
    pub fn send_malformed_frame(&self, license: u64, customer: &str) {
        self.shared
            .lock()
            .hub
            .send_customer(license, &UserId::from(customer), || Out::Text("{\"action\": oops".into()));
    }

    /// Expires every token of the customer (logins and Web API calls then fail with
    /// `authentication`; open connections stay usable, G35).
    pub fn expire_tokens(&self, license: u64, customer: &str) {
        let mut inner = self.shared.lock();
        for t in inner.store.tokens.values_mut() {
            if t.license == license && t.customer == customer {
                t.expires_at = 0;
            }
        }
    }

    /// Bans a customer: `customer_disconnected` `customer_banned` to each connection, close
    /// 4000; later logins fail with `customer_banned` (G30).
    pub fn ban(&self, license: u64, customer: &str) {
        let mut inner = self.shared.lock();
        let id = UserId::from(customer);
        if let Some(l) = inner.store.licenses.get_mut(&license) {
            l.customers.entry(id.clone()).or_default().banned = true;
        }
        crate::conn::disconnect_customer(&inner.hub, license, &id, DisconnectReason::CustomerBanned);
    }

    /// Lifts a ban.
    pub fn unban(&self, license: u64, customer: &str) {
        let mut inner = self.shared.lock();
        if let Some(c) =
            inner.store.licenses.get_mut(&license).and_then(|l| l.customers.get_mut(&UserId::from(customer)))
        {
            c.banned = false;
        }
    }

    /// The events of a chat, ascending by order (for tests).
    pub fn chat_events(&self, license: u64, chat: &str) -> Vec<Event> {
        let inner = self.shared.lock();
        let Some(c) = inner.store.licenses.get(&license).and_then(|l| l.chats.get(&ChatId::from(chat))) else {
            return Vec::new();
        };
        let mut events: Vec<Event> = c.threads.iter().flat_map(|t| t.events.iter().cloned()).collect();
        events.sort_by_key(|e| e.order);
        events
    }

    /// Open connections (logged in or not).
    pub fn connection_count(&self) -> usize {
        self.shared.lock().hub.len()
    }

    /// Logged-in connections of a customer.
    pub fn customer_connections(&self, license: u64, customer: &str) -> usize {
        self.shared.lock().hub.count(license, &UserId::from(customer))
    }

    /// The agent's user id.
    pub fn agent_id(&self) -> Option<UserId> {
        self.shared.lock().store.bot().map(|b| b.id.clone())
    }

    /// Runs a future on the server's runtime (for tests that need tokio).
    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
