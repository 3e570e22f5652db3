//! The server as a whole: the builder, its own tokio runtime on its own thread, the start-up
//! that wires the layers together, and the handle that tests and the demo hold.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chatio_wire::{ChatId, Event, Token, UserId};
use futures::channel::oneshot;
use tokio::sync::{mpsc, watch};

use crate::config::{AgentConfig, ConformanceFault, DeclaredProperty, PropertyAccess, RegisteredApp, ServerConfig};
use crate::counters::Stats;
use crate::error::Error;
use crate::http::router::Router;
use crate::listener;
use crate::state::{Fault, State};

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

    /// Gives an agent of `license` a fixed access token (`--agent-token EMAIL=TOKEN`),
    /// registering the agent with the defaults when it is not configured yet (H8).
    pub fn agent_token(mut self, license: u64, email: &str, token: impl Into<String>) -> Self {
        self.agent_entry(license, email).tokens.push(Token::new(token.into()));
        self
    }

    /// Sets how many chats routing may give an agent (registering it when needed).
    pub fn agent_max_chats(mut self, license: u64, email: &str, n: usize) -> Self {
        self.agent_entry(license, email).max_chats = n;
        self
    }

    /// Adds or replaces an agent.
    pub fn agent_config(mut self, agent: AgentConfig) -> Self {
        self.config.agents.retain(|a| !(a.license == agent.license && a.email == agent.email));
        self.config.agents.push(agent);
        self
    }

    /// How long an agent stays logged in after its last connection closed (H33).
    pub fn agent_grace(mut self, d: Duration) -> Self {
        self.config.agent_grace = d;
        self
    }

    fn agent_entry(&mut self, license: u64, email: &str) -> &mut AgentConfig {
        let email = email.trim().to_lowercase();
        let i = match self.config.agents.iter().position(|a| a.license == license && a.email == email) {
            Some(i) => i,
            None => {
                self.config.agents.push(AgentConfig::new(license, &email));
                self.config.agents.len() - 1
            }
        };
        &mut self.config.agents[i]
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

    /// Registers an app (G11): once one is, only registered `client_id`s get tokens, for
    /// their exact redirect URIs and origins (see [`RegisteredApp`]). Without any, the
    /// server accepts any `client_id` on its own and loopback origins.
    pub fn register_app(mut self, app: RegisteredApp) -> Self {
        self.config.apps.push(app);
        self
    }

    /// The secret the `/admin/...` routes require (drawn at random when the admin routes
    /// are on and none is given: [`ServerHandle::admin_secret`]).
    pub fn admin_secret(mut self, secret: impl Into<String>) -> Self {
        self.config.admin_secret = Some(Token::new(secret.into()));
        self
    }

    /// Tokens one client address may get from the token endpoint and the accounts page:
    /// `per_second` on average after a burst of `burst` (20/s after 200 by default).
    pub fn token_rate(mut self, per_second: f64, burst: u32) -> Self {
        self.config.token_rate_per_s = per_second;
        self.config.token_burst = burst;
        self
    }

    /// The public base URL (file URLs, `static_config_path`, and the server's own origin,
    /// which may receive tokens without registration). Default: `http://HOST:PORT` bound.
    pub fn public_url(mut self, url: impl Into<String>) -> Self {
        self.config.public_url = Some(url.into());
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

    /// Limits the chats one customer may start (1 000 by default, G4): the `start_chat`
    /// over the cap fails with `validation` "too many chats".
    pub fn max_chats_per_customer(mut self, n: usize) -> Self {
        self.config.max_chats_per_customer = Some(n);
        self
    }

    /// Sets the quotas on events, properties and uploads (G38; see [`Quotas`](crate::Quotas)
    /// for each default).
    pub fn quotas(mut self, quotas: crate::config::Quotas) -> Self {
        self.config.quotas = quotas;
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

    /// Accepts this app access token in `Authorization: Bearer <token>` at the token
    /// endpoint as a server-side app's credential (G11): such a request may name the
    /// `customer_id` of the token. Repeatable. Requests without it still get tokens for
    /// new customers and refresh tokens, never for a named customer.
    pub fn app_token(mut self, token: impl Into<String>) -> Self {
        self.config.app_tokens.push(Token::new(token.into()));
        self
    }

    /// Open TCP connections allowed in total (4096 by default, fewer when the open-file
    /// limit is lower); one more gets HTTP 503 and is closed.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = n.max(1);
        self
    }

    /// Open TCP connections allowed from one IP address (512 by default).
    pub fn max_connections_per_address(mut self, n: usize) -> Self {
        self.config.max_connections_per_address = n.max(1);
        self
    }

    /// Bytes one websocket session may have queued and unflushed (2 MiB by default); past
    /// it the session is closed with 4002 `slow_consumer`.
    pub fn max_queued_bytes(mut self, n: usize) -> Self {
        self.config.max_queued_bytes = n.max(1);
        self
    }

    /// How long queued frames may wait without write progress, and a close may take, before
    /// the session is closed with 4002 or dropped (10 s by default).
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.config.write_timeout = d;
        self
    }

    /// How long expired tokens are kept before they are purged (5 minutes by default);
    /// customers with nothing left go with their last token.
    pub fn expired_token_grace(mut self, d: Duration) -> Self {
        self.config.expired_token_grace = d;
        self
    }

    /// How long an HTTP request body may take to arrive (30 s by default).
    pub fn body_timeout(mut self, d: Duration) -> Self {
        self.config.body_timeout = d;
        self
    }

    /// Keeps the data in a SQLite database in `dir` (created, private to the user), so that
    /// it survives restarts; by default everything is in memory.
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.data_dir = Some(dir.into());
        self
    }

    /// The most bytes the database may hold (with [`data_dir`](Self::data_dir); default
    /// 8 GiB): past it writes fail with a typed error, nothing acknowledged is lost.
    pub fn max_db_bytes(mut self, bytes: u64) -> Self {
        self.config.max_db_bytes = bytes;
        self
    }

    /// Deletes closed threads (and their events) whose last activity is older than `age`,
    /// except each chat's last thread; by default history is kept.
    pub fn retain_history(mut self, age: std::time::Duration) -> Self {
        self.config.retain_history = Some(age);
        self
    }

    /// How long an uploaded file may stay with no event referring to it before it is
    /// deleted (default 1 h).
    pub fn unreferenced_files_after(mut self, after: std::time::Duration) -> Self {
        self.config.unreferenced_files_after = after;
        self
    }

    /// Serves the static files of `dir` under `/widget/` (the chat widget's assets).
    pub fn widget_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.config.widget_dir = Some(dir.into());
        self
    }

    /// Allows pages on `origin` to embed the chat widget of `license` (the first call for a
    /// license replaces its default, the own and loopback origins).
    pub fn embed_origin(mut self, license: u64, origin: impl Into<String>) -> Self {
        self.config.embed_origins.entry(license).or_default().push(origin.into());
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

/// The loopback address of the same port when the server listens on every interface.
fn loopback(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => SocketAddr::from(([127, 0, 0, 1], addr.port())),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, addr.port()))
        }
        _ => addr,
    }
}

struct Started {
    addr: SocketAddr,
    state: Arc<State>,
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

async fn serve(mut config: ServerConfig, started: oneshot::Sender<Result<Started, Error>>) {
    let listener = match listener::bind(config.listen).await {
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
    // The registered apps' embed origins join the widget's per-license list (frame-ancestors).
    for app in config.apps.clone() {
        for origin in app.embed_origins {
            let list = config.embed_origins.entry(app.license).or_default();
            if !list.contains(&origin) {
                list.push(origin);
            }
        }
    }
    let foreign = config.apps.iter().map(|a| a.license).chain(config.embed_origins.keys().copied());
    if let Some(license) = foreign.into_iter().find(|l| !config.licenses.contains(l)) {
        let e = Error::Config(format!(
            "an app or embed origin is registered for license {license}, which the server does not host"
        ));
        let _ = started.send(Err(e));
        return;
    }
    let (stop_tx, stop) = watch::channel(false);
    let (control_tx, control_rx) = mpsc::unbounded_channel();
    let state = match State::new(config, public_url, seed, stop.clone(), control_tx) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            let _ = started.send(Err(Error::Store(e)));
            return;
        }
    };
    state.resume_grace_periods();
    let router = Arc::new(Router::new(state.clone()));
    // The scripted bot: an Agent API client of this server, one connection per license it
    // serves (H37).
    if let Some(bot) = state.bot_id() {
        let setup = crate::bot::BotSetup {
            addr: loopback(addr),
            id: bot.as_str().to_lowercase(),
            name: "Chatio Bot".into(),
            delay: state.config.agent_delay,
        };
        for (license, token) in state.register_bot() {
            let login = crate::bot::BotLogin { license, token };
            tokio::spawn(crate::bot::run(setup.clone(), login, stop.clone()));
        }
    }
    tracing::info!(%addr, "chatio-server listening");
    // The server is started once the bot is logged in (it needs the accept loop running).
    let run = listener::run(&state, router, listener, addr, control_rx, stop);
    tokio::pin!(run);
    tokio::select! {
        () = &mut run => return,
        () = state.bot_ready(0, crate::listener::BOT_READY_WAIT) => {}
    }
    if started.send(Ok(Started { addr, state: state.clone(), stop: stop_tx })).is_err() {
        return;
    }
    run.await;
    tracing::info!(%addr, "chatio-server stopped");
}

/// A running server. Dropping it shuts the server down (without waiting; use
/// [`shutdown`](Self::shutdown) to wait).
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    state: Arc<State>,
    stop: watch::Sender<bool>,
    exited: Option<Exited>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ServerHandle {
    fn new(s: Started, thread: std::thread::JoinHandle<()>, exited: Exited) -> Self {
        Self { addr: s.addr, state: s.state, stop: s.stop, exited: Some(exited), thread: Some(thread) }
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

    /// The Agent API's RTM websocket URL (`ws://HOST:PORT/agent/v0.5/rtm/ws`).
    pub fn agent_ws_url(&self) -> String {
        format!("ws://{}/agent/v0.5/rtm/ws", self.addr())
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

    /// A one-time sign-in link for the agent `email` of `license` (a person configured with
    /// [`ServerBuilder::agent_config`] or [`ServerBuilder::agent_token`]): opened in a
    /// browser, its code is exchanged at `POST /agent/sign-in` for an 8-hour access token —
    /// by the agent page (`…/agent/#code=…`) when the server serves it, else by the page
    /// `…/agent/sign-in#code=…`, which shows the token. Single use, valid 24 hours; a new
    /// link replaces the agent's previous one. The link is a secret: hand it to the person
    /// only.
    ///
    /// # Errors
    /// [`Error::Config`] when the license has no such agent.
    pub fn agent_sign_in_link(&self, license: u64, email: &str) -> Result<String, Error> {
        self.state.agent_sign_in_link(license, email)
    }

    /// Drops every connection (without close frames) and listens again on the same port;
    /// all data (customers, tokens, chats, files) is kept.
    ///
    /// # Errors
    /// [`Error::Bind`] when the port cannot be bound again (the server then stops
    /// accepting), [`Error::Stopped`] when the server has stopped.
    pub async fn restart(&self) -> Result<(), Error> {
        self.state.restart().await
    }

    /// Creates a customer token as the token endpoint would: for `customer` (created if
    /// unknown), or a new customer when `None`. Returns the access token and the customer id.
    ///
    /// # Errors
    /// [`Error::UnknownLicense`].
    pub fn create_token(&self, license: u64, customer: Option<&str>) -> Result<(String, UserId), Error> {
        self.state.issue_token(license, customer.map(UserId::from), None).map(|(t, c, _)| (t, c))
    }

    /// Drops every connection of a customer abruptly: no `customer_disconnected`, no close
    /// frame, the TCP connection just ends.
    pub fn drop_connections(&self, license: u64, customer: &str) {
        self.state.inject(license, &UserId::from(customer), Fault::Drop);
    }

    /// Drops every websocket connection of every customer abruptly.
    pub fn drop_all_connections(&self) {
        self.state.drop_all_sessions();
    }

    /// Holds the customer's next websocket response (on any of its connections) back for
    /// `delay`; the pushes the request causes are not delayed. Web API answers are not
    /// affected.
    pub fn delay_next_response(&self, license: u64, customer: &str, delay: Duration) {
        self.state.inject(license, &UserId::from(customer), Fault::DelayNextResponse(delay));
    }

    /// Swallows the customer's next websocket response: the request is carried out (and its
    /// pushes sent) but never answered. Web API answers are not affected.
    pub fn swallow_next_response(&self, license: u64, customer: &str) {
        self.state.inject(license, &UserId::from(customer), Fault::SwallowNextResponse);
    }

    /// Sends a text frame that is not valid JSON to every connection of the customer.
    pub fn send_malformed_frame(&self, license: u64, customer: &str) {
        self.state.inject(license, &UserId::from(customer), Fault::Malformed);
    }

    /// Expires every token of the customer: `login` and Web API calls with them then fail
    /// with `authentication`; open connections stay usable (G35).
    pub fn expire_tokens(&self, license: u64, customer: &str) {
        self.state.inject(license, &UserId::from(customer), Fault::ExpireTokens);
    }

    /// Bans a customer: `customer_disconnected` `customer_banned` to each of its
    /// connections, close 4000; later logins and Web API calls fail with `customer_banned`
    /// until [`unban`](Self::unban) (G30).
    pub fn ban(&self, license: u64, customer: &str) {
        self.state.inject(license, &UserId::from(customer), Fault::Ban);
    }

    /// Lifts a ban.
    pub fn unban(&self, license: u64, customer: &str) {
        self.state.inject(license, &UserId::from(customer), Fault::Unban);
    }

    /// The events of a chat, ascending by order (empty for an unknown chat).
    pub fn chat_events(&self, license: u64, chat: &str) -> Vec<Event> {
        match self.state.chat_events(license, &ChatId::from(chat)) {
            Ok(events) => events.unwrap_or_default(),
            Err(e) => {
                tracing::error!(error = %e, "cannot read the chat's events");
                Vec::new()
            }
        }
    }

    /// The chats of a customer, in creation order.
    pub fn chats_of(&self, license: u64, customer: &str) -> Vec<ChatId> {
        self.state.chats_of(license, &UserId::from(customer)).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read the customer's chats");
            Vec::new()
        })
    }

    /// Open websocket connections (logged in or not).
    pub fn connection_count(&self) -> usize {
        self.state.session_count()
    }

    /// Logged-in connections of a customer.
    pub fn customer_connections(&self, license: u64, customer: &str) -> usize {
        self.state.customer_sessions(license, &UserId::from(customer))
    }

    /// The scripted agent's user id.
    pub fn agent_id(&self) -> Option<UserId> {
        self.state.bot_id()
    }

    /// The secret of the `/admin/...` routes (`Authorization: Bearer <secret>`), when they
    /// are served: the configured one, or the one drawn at start.
    pub fn admin_secret(&self) -> Option<&str> {
        self.state.admin_secret.as_ref().map(Token::expose)
    }

    /// The registered apps (G11) and the origins they allow.
    pub fn apps(&self) -> &crate::identity::apps::Apps {
        &self.state.apps
    }

    /// The configuration the server runs with.
    pub fn config(&self) -> &ServerConfig {
        &self.state.config
    }

    /// The server's counters now: what it holds and what its limits refused.
    pub fn stats(&self) -> Stats {
        self.state.stats()
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
