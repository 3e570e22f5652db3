//! The state every request reaches: the data ([`Store`]) and the connection registry
//! ([`hub::Hub`]) behind one lock, which only this module takes.
//!
//! Every method that reads or changes them takes the lock itself, does its whole work under
//! it and lets go before returning: callers never hold it, never see the store or the hub,
//! and so cannot forget an order or a delivery. A request's method runs the action (pure,
//! `crate::actions`) on the store, then queues what it caused through the hub in the order
//! G8 asks: the response, its pushes, then the scripted agent's reactions (at once with a
//! zero delay, else on a timer task). Besides requests: the sessions' registration, tokens,
//! the reads the handle and the HTTP handlers need, fault injection (`faults.rs`) and the
//! periodic purge and archiving (`upkeep.rs`).
//!
//! **Group commit** (a store that [groups commits](Store::groups_commits): SQLite). An RTM
//! request's writes are not committed by the request itself: the hub holds its response
//! and pushes (and every frame after them, so the order stays), and the committer task
//! commits once for every request that ran meanwhile, then releases the held frames. So
//! nothing is answered before it is stored, and concurrent writers share one transaction.
//! A Web API request, the token endpoint and every other caller that answers by itself
//! commits before it returns (`State::settle` or `in_request`). At most
//! [`GROUP_MAX_FRAMES`](commit::GROUP_MAX_FRAMES) frames are held: the request that reaches it commits at once.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatio_wire::{
    ChatId, DisconnectReason, ErrorObject, ErrorType, Event, Login, Request, RequestId, Response, ResponseData, UserId,
};
use futures::channel::oneshot;
use tokio::sync::{Notify, mpsc, watch};

use crate::actions::agent::AgentCaller;
use crate::actions::{self, Caller, Ctx, Effects, Policy, Upload};
use crate::config::ServerConfig;
use crate::counters::{Counters, Stats};
use crate::error::Error;
use crate::identity::apps::Apps;
use crate::identity::rate::RateLimit;
use crate::identity::refresh::RefreshRefusal;
use crate::identity::secret;
use crate::sendq::{Out, SendQueue};
use crate::store::{self, Agent, Customer, FileRec, MemoryStore, SqliteStore, Store, TokenRecord};

mod commit;
mod faults;
mod hub;
mod upkeep;

use commit::{in_request_grouped, internal};
pub(crate) use faults::Fault;
pub(crate) use hub::ConnId;
use hub::Hub;

/// Unix seconds now (the wire's time unit).
fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Data and connections, behind one lock so that frames go out in one order.
#[derive(Debug)]
struct Inner {
    store: Box<dyn Store>,
    hub: Hub,
    /// The rules the actions enforce (and the conformance fault's state).
    policy: Policy,
    /// The scripted agent (the first agent of the store).
    bot: Option<Agent>,
    /// The Agent API's agents (from the configuration), their tokens (digests), presence
    /// and routing state.
    agents: crate::agents::AgentData,
    /// The licenses the scripted bot serves (H37), once registered.
    bot_licenses: Vec<u64>,
    /// How many times the scripted bot logged in (any license).
    bot_logins: u64,
    /// Where the purge of unreachable customers goes on (it examines a batch per sweep).
    purge_after: Option<(u64, UserId)>,
}

/// The prefix of the `request_id` of the scripted bot's idle pings: `idle:N`, N the pushes
/// it handled on its connection (see `bot/mod.rs`).
pub(crate) const BOT_IDLE_PREFIX: &str = "idle:";

/// How long a customer's request waits for the scripted bot to catch up, at most.
pub(crate) const BOT_SETTLE_WAIT: Duration = Duration::from_secs(2);

/// Requests to the accept loop.
#[derive(Debug)]
pub(crate) enum Control {
    /// Drop every connection and listen again on the same address.
    Restart(oneshot::Sender<Result<(), Error>>),
}

/// What every task of the server shares (see the module documentation).
#[derive(Debug)]
pub(crate) struct State {
    /// The configuration (never changes while the server runs).
    pub(crate) config: ServerConfig,
    /// The base URL of file URLs and `static_config_path`.
    pub(crate) public_url: String,
    inner: Mutex<Inner>,
    /// Flips to `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Signalled whenever a session ends.
    session_gone: Notify,
    control: mpsc::UnboundedSender<Control>,
    /// Server-wide counters (queued bytes, slow consumers...).
    pub(crate) counters: Arc<Counters>,
    /// The registered apps (G11): which client ids, redirect URIs and origins are allowed.
    pub(crate) apps: Apps,
    /// The secret of the admin routes, when they are served (configured, or drawn at start).
    pub(crate) admin_secret: Option<chatio_wire::Token>,
    /// Token issuance per client address (token endpoint and accounts page).
    token_limit: Mutex<RateLimit>,
    /// Wakes the committer task (group commit).
    commit_wanted: Arc<Notify>,
    /// Whether the committer task runs.
    committer: AtomicBool,
    /// Woken when the scripted bot logs in or reports that it caught up.
    bot_changed: Notify,
}

/// What an agent's sign-in gives (H9). Its `Debug` hides the token.
pub(crate) struct SignedIn {
    pub(crate) access_token: String,
    pub(crate) agent: String,
    pub(crate) license: u64,
    pub(crate) expires_in: u64,
}

impl std::fmt::Debug for SignedIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedIn")
            .field("access_token", &"<redacted>")
            .field("agent", &self.agent)
            .field("license", &self.license)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What a refresh gives: a new access token and the family's next refresh token.
#[derive(Debug)]
pub(crate) struct Refreshed {
    pub(crate) access_token: String,
    pub(crate) customer: UserId,
    pub(crate) expires_in: u64,
    pub(crate) license: u64,
    pub(crate) refresh_token: String,
}

impl State {
    /// The state of a server on the store its configuration names: the SQLite store in
    /// `data_dir` (as it was left), or a fresh memory store; new ids come from `seed`.
    pub(crate) fn new(
        config: ServerConfig,
        public_url: String,
        seed: u64,
        shutdown: watch::Receiver<bool>,
        control: mpsc::UnboundedSender<Control>,
    ) -> Result<Self, store::StoreError> {
        let store: Box<dyn Store> = match &config.data_dir {
            Some(dir) => {
                let mut store = SqliteStore::open(dir, seed)?;
                store.limit_size(config.max_db_bytes)?;
                Box::new(store)
            }
            None => Box::new(MemoryStore::new(seed)),
        };
        Self::on(store, config, public_url, shutdown, control)
    }

    /// The state of a server on `store`; registers the scripted agent when the store has no
    /// agent yet.
    pub(crate) fn on(
        mut store: Box<dyn Store>,
        config: ServerConfig,
        public_url: String,
        shutdown: watch::Receiver<bool>,
        control: mpsc::UnboundedSender<Control>,
    ) -> Result<Self, store::StoreError> {
        let avatar = format!("{public_url}/static/bot.png");
        let bot = match store.agents()?.into_iter().next() {
            // A stored agent follows the server's address (a restart may change it).
            Some(bot) if bot.avatar != avatar => {
                let bot = Agent { avatar, ..bot };
                store.begin()?;
                store.put_agent(bot.clone())?;
                store.end(true)?;
                store.commit()?;
                bot
            }
            Some(bot) => bot,
            None => {
                let bot = Agent { id: UserId::new(store.ids().hex(32)), name: "Chatio Bot".into(), avatar };
                store.begin()?;
                store.put_agent(bot.clone())?;
                store.end(true)?;
                store.commit()?;
                bot
            }
        };
        for a in &config.agents {
            let avatar = a.avatar.clone().unwrap_or_else(|| format!("{public_url}/static/bot.png"));
            store.put_agent(Agent { id: UserId::new(a.email.clone()), name: a.name.clone(), avatar })?;
        }
        store.commit()?;
        let mut policy = Policy::of(&config);
        policy.upload_bytes = store.file_bytes()?;
        let embeds: Vec<(u64, String)> =
            config.embed_origins.iter().flat_map(|(l, list)| list.iter().map(|o| (*l, o.clone()))).collect();
        let apps = Apps::new(config.apps.clone(), &embeds, Some(&public_url));
        for line in apps.describe() {
            tracing::info!("{line}");
        }
        let admin_secret = match (&config.admin_secret, config.admin) {
            (Some(s), _) => Some(s.clone()),
            (None, true) => Some(chatio_wire::Token::new(secret::new_secret("adm-"))),
            (None, false) => None,
        };
        let token_limit = Mutex::new(RateLimit::new(config.token_rate_per_s, config.token_burst));
        let config_agents = config.agents.clone();
        let mut agents = crate::agents::AgentData::from_config(&config_agents);
        restore_agent_tokens(&mut *store, &mut agents, now_secs())?;
        restore_agent_routing(&mut *store, &mut agents, now_secs())?;
        Ok(Self {
            config,
            public_url,
            inner: Mutex::new(Inner {
                store,
                hub: Hub::default(),
                policy,
                bot: Some(bot),
                agents,
                bot_licenses: Vec::new(),
                bot_logins: 0,
                purge_after: None,
            }),
            shutdown,
            session_gone: Notify::new(),
            control,
            counters: Arc::new(Counters::default()),
            apps,
            admin_secret,
            token_limit,
            commit_wanted: Arc::new(Notify::new()),
            committer: AtomicBool::new(false),
            bot_changed: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock poisons it; every mutation is completed before the
        // deliveries, so the data is consistent enough to keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    // --- Sessions -------------------------------------------------------------------------

    /// Registers a new (logged-out) RTM session on `license`; its frames go to `queue`.
    pub(crate) fn open_session(&self, license: u64, queue: Arc<SendQueue>) -> ConnId {
        self.lock().hub.add(license, queue)
    }

    /// Forgets a session (it ended). An agent's last connection starts its grace period
    /// (H33).
    pub(crate) fn close_session(self: &Arc<Self>, id: ConnId) {
        let agent = {
            let mut guard = self.lock();
            let inner = &mut *guard;
            let agent = inner.hub.remove(id);
            if let Some(a) = &agent {
                if inner.agents.presence.contains_key(&(a.license, a.agent.clone())) {
                    inner.agents.presence_mut(a.license, &a.agent).connection_closed(now_secs());
                    // The grace period survives a restart (H33): its start is stored.
                    if let Err(e) = in_request(&mut *inner.store, |s| persist_agents(s, &mut inner.agents)) {
                        tracing::warn!(error = %e, "an agent's grace period could not be stored");
                    }
                }
            }
            agent.filter(|a| inner.hub.agent_count(a.license, &a.agent) == 0)
        };
        self.session_gone.notify_one();
        if let Some(a) = agent {
            self.start_grace(a);
        }
    }

    /// Answers a session outside of an action (a request refused before one ran), through
    /// the customer's armed faults.
    pub(crate) fn respond(&self, id: ConnId, response: Response) {
        self.lock().hub.respond(id, response);
    }

    /// Sends `customer_disconnected` with `reason` to a session, then closes it with 4000.
    pub(crate) fn disconnect(&self, id: ConnId, reason: &DisconnectReason) {
        self.lock().hub.disconnect(id, reason);
    }

    // --- Requests -------------------------------------------------------------------------

    /// Whether `license` is served expired (its calls fail with `license_expired`).
    pub(crate) fn license_expired(&self, license: u64) -> bool {
        self.config.expired_licenses.contains(&license)
    }

    /// Checks a token (a Web API call's bearer): the customer it names.
    pub(crate) fn authenticate(&self, license: u64, token: &str) -> Result<UserId, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        actions::authenticate(&mut *inner.store, &inner.policy, license, token, now_secs())
    }

    /// `login` on a session (4.1): checks the token, the session's identity and the
    /// per-customer cap (G10), stores the customer data, answers, and pushes
    /// `customer_updated` when the data changed. Returns the customer the session is now
    /// logged in as, `None` when the login failed (the session may have been told to go).
    pub(crate) fn login(
        self: &Arc<Self>,
        id: ConnId,
        license: u64,
        request_id: Option<RequestId>,
        login: &Login,
    ) -> Option<UserId> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let result = in_request(&mut *inner.store, |store| {
            let mut cx = Ctx {
                store,
                presence: &inner.hub.presence,
                policy: &mut inner.policy,
                agents: &mut inner.agents,
                now: now_secs(),
            };
            actions::login(&mut cx, license, login, &self.public_url)
        });
        match result {
            Ok((customer, resp, changed)) => {
                match inner.hub.customer_of(id) {
                    Some(current) if *current != customer => {
                        let err = ErrorObject::new(
                            ErrorType::Authorization,
                            "this connection is logged in as another customer",
                        );
                        inner.hub.respond(id, Response::failure(request_id, "login", err));
                        return None;
                    }
                    Some(_) => {}
                    None => {
                        if inner.hub.count(license, &customer) >= self.config.max_connections_per_customer {
                            tracing::info!(conn = id, "too many connections for one customer");
                            inner.hub.disconnect(id, &DisconnectReason::TooManyConnections);
                            return None;
                        }
                        inner.hub.log_in(id, license, &customer);
                    }
                }
                inner.hub.respond(id, Response::success(request_id.clone(), ResponseData::Login(resp)));
                // What a site owner follows at the default level: ids, never a token.
                tracing::info!(conn = id, license, customer = %customer, "customer logged in");
                if changed {
                    let mut fx = Effects::default();
                    let updated = actions::customer_updated(
                        &mut *inner.store,
                        &inner.hub.presence,
                        license,
                        &customer,
                        true,
                        &mut fx,
                    );
                    match updated {
                        Ok(()) => self.finish(inner, fx, Some((id, request_id.as_ref()))),
                        Err(e) => tracing::error!(error = %e, "customer_updated not pushed"),
                    }
                }
                Some(customer)
            }
            Err(e) => {
                let banned = e.kind == ErrorType::CustomerBanned;
                tracing::info!(conn = id, license, refused = %e.kind, "customer login refused");
                inner.hub.respond(id, Response::failure(request_id, "login", e));
                if banned {
                    inner.hub.disconnect(id, &DisconnectReason::CustomerBanned);
                }
                None
            }
        }
    }

    /// Runs a request of a logged-in session: the action, its response to the session, then
    /// its pushes (the session's copies with `request_id`) and the agent's reactions.
    pub(crate) fn act_rtm(
        self: &Arc<Self>,
        id: ConnId,
        request_id: Option<RequestId>,
        caller: &Caller,
        request: Request,
    ) {
        let action = request.action().to_owned();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (result, fx) = act(inner, caller, request);
        let response = match result {
            Ok(data) => Response::success(request_id.clone(), data),
            Err(e) => Response::failure(request_id.clone(), action, e),
        };
        inner.hub.respond_with(id, response, fx.response_event.as_ref());
        self.finish(inner, fx, Some((id, request_id.as_ref())));
        self.group(inner);
    }

    /// Runs a Web API request: the action, then its pushes (without `request_id`, 1.3) and
    /// the agent's reactions; returns the action's result for the HTTP answer, once its
    /// writes are committed.
    pub(crate) fn act_web(self: &Arc<Self>, caller: &Caller, request: Request) -> Result<ResponseData, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (result, fx) = act(inner, caller, request);
        self.finish(inner, fx, None);
        self.settle(inner).map_err(|e| internal(&e))?;
        result
    }

    /// `send_file` over the Web API: stores the file and its event, pushes it, and returns
    /// the file's URL.
    pub(crate) fn send_file(self: &Arc<Self>, caller: &Caller, upload: Upload) -> Result<String, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let public_url = &self.public_url;
        let (url, fx) = in_request(&mut *inner.store, |store| {
            let mut cx = Ctx {
                store,
                presence: &inner.hub.presence,
                policy: &mut inner.policy,
                agents: &mut inner.agents,
                now: now_secs(),
            };
            let url = actions::send_file(&mut cx, caller, upload, public_url)?;
            persist_agents(store, &mut inner.agents)?;
            Ok::<_, ErrorObject>(url)
        })?;
        self.finish(inner, fx, None);
        Ok(url)
    }

    /// Delivers what a call did: its pushes to customers and agents (the scripted bot hears
    /// its own and reacts as a client), then the disconnection of customers it banned.
    fn finish(&self, inner: &mut Inner, fx: Effects, requester: Option<(ConnId, Option<&RequestId>)>) {
        inner.hub.deliver(fx.deliveries, requester);
        inner.hub.deliver_agents(fx.agent_deliveries, requester);
        for (license, customer) in &fx.banned {
            inner.hub.disconnect_customer(*license, customer, &DisconnectReason::CustomerBanned);
        }
    }

    // --- The scripted bot (an Agent API client, `bot/`) -------------------------------------

    /// Registers the scripted bot as an agent of every served license that no configured
    /// agent serves and that is not expired (H37): an administrator account without owner,
    /// and a fresh access token per license (OS randomness, kept as a digest). Returns the
    /// licenses and their tokens, for the bot's connections; none when the bot is off.
    pub(crate) fn register_bot(&self) -> Vec<(u64, String)> {
        use crate::agents::{directory, routing, scopes, tokens};
        if !self.config.agent {
            return Vec::new();
        }
        let mut guard = self.lock();
        let inner = &mut *guard;
        let Some(bot) = inner.bot.clone() else { return Vec::new() };
        let id = bot.id.as_str().to_lowercase();
        inner.hub.bot_id = Some(id.clone());
        let mut logins = Vec::new();
        for &license in &self.config.licenses {
            if inner.agents.directory.has_routable(license) || self.config.expired_licenses.contains(&license) {
                continue;
            }
            let account = directory::Account {
                id: id.clone(),
                name: bot.name.clone(),
                avatar: Some(bot.avatar.clone()),
                permission: scopes::Permission::Administrator,
                groups: vec![(0, routing::Priority::Normal)],
                max_chats: usize::MAX,
                bot: Some(directory::Bot { owner: None, status: routing::RoutingStatus::AcceptingChats }),
            };
            inner.agents.directory.insert(license, account);
            let token = secret::new_secret("bot-");
            let grant = tokens::Grant {
                license,
                agent: id.clone(),
                client_id: None,
                scopes: scopes::Permission::Administrator.scopes(),
                expires_at: None,
            };
            inner.agents.tokens.insert(&token, grant);
            inner.bot_licenses.push(license);
            logins.push((license, token));
        }
        logins
    }

    /// How many times the scripted bot logged in so far.
    pub(crate) fn bot_logins(&self) -> u64 {
        self.lock().bot_logins
    }

    /// Waits, at most `limit`, until the scripted bot logged in again on every license it
    /// serves since it had logged in `before` times ([`bot_logins`](Self::bot_logins)), and
    /// is logged in on each (at start, after a restart).
    pub(crate) async fn bot_ready(&self, before: u64, limit: Duration) {
        let deadline = tokio::time::Instant::now() + limit;
        self.wait_for_bot(deadline, |inner| match &inner.hub.bot_id {
            Some(id) => {
                let again = inner.bot_logins >= before + inner.bot_licenses.len() as u64;
                again && inner.bot_licenses.iter().all(|l| inner.hub.agent_count(*l, id) > 0)
            }
            None => true,
        })
        .await;
    }

    /// With a zero bot delay: waits, at most [`BOT_SETTLE_WAIT`], until the scripted bot
    /// logged in on `license` has reacted to every push it was sent, so that a customer's
    /// request comes after the bot's reactions to the previous ones (CUST G8).
    pub(crate) async fn bot_settled(&self, license: u64) {
        if !self.config.agent_delay.is_zero() {
            return;
        }
        let deadline = tokio::time::Instant::now() + BOT_SETTLE_WAIT;
        self.wait_for_bot(deadline, |inner| match &inner.hub.bot_id {
            Some(id) if inner.hub.agent_count(license, id) > 0 => {
                let (sent, handled) = inner.hub.bot_pushes.get(&license).copied().unwrap_or_default();
                handled >= sent
            }
            _ => true,
        })
        .await;
    }

    /// Waits until `done` holds for the state, checked again each time the scripted bot's
    /// state changes, or until `deadline`.
    async fn wait_for_bot(&self, deadline: tokio::time::Instant, done: impl Fn(&Inner) -> bool) {
        loop {
            let notified = self.bot_changed.notified();
            tokio::pin!(notified);
            // Registered before the check: a change between the check and the wait wakes it.
            notified.as_mut().enable();
            let ready = done(&self.lock());
            if ready || tokio::time::timeout_at(deadline, notified).await.is_err() {
                return;
            }
        }
    }

    // --- Agents (Agent API) ---------------------------------------------------------------

    /// Answers an Agent API session outside of an action.
    pub(crate) fn respond_agent(&self, id: ConnId, response: chatio_wire::agent::Response) {
        self.lock().hub.respond_agent(id, response);
    }

    /// The caller a request of `owner` runs as when it names the bot `bot` in `author_id`
    /// (H34): the bot, with the owner's token scopes; `None` when `bot` is no bot `owner`
    /// owns.
    pub(crate) fn as_bot(&self, owner: &AgentCaller, bot: &UserId) -> Option<AgentCaller> {
        let inner = self.lock();
        let account = inner.agents.directory.get(owner.license, bot.as_str())?;
        let owned = account.bot.as_ref().and_then(|b| b.owner.as_deref()) == Some(owner.agent.as_str());
        owned.then(|| AgentCaller {
            license: owner.license,
            agent: account.id.clone(),
            scopes: owner.scopes,
            groups: account.group_ids().collect(),
        })
    }

    /// `upload_image` (Agent API, H26): stores the image, answers its URL and path.
    pub(crate) fn upload_image(
        &self,
        caller: &AgentCaller,
        bytes: bytes::Bytes,
    ) -> Result<chatio_wire::agent::UploadImageResponse, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        in_request(&mut *inner.store, |store| {
            let mut cx = Ctx {
                store,
                presence: &inner.hub.presence,
                policy: &mut inner.policy,
                agents: &mut inner.agents,
                now: now_secs(),
            };
            actions::agent::upload::upload_image(&mut cx, caller, bytes, &self.public_url)
        })
    }

    /// A one-time sign-in link for a configured agent (a person, not a bot) of `license`
    /// (H9), valid 24 hours, replacing the agent's previous link; the code is kept as a
    /// digest. `<public URL>/agent/#code=<secret>` (the agent page signs in with it) when
    /// the agent page is served, else `<public URL>/agent/sign-in#code=<secret>` (a page
    /// that shows the token, for `chatio agent`).
    pub(crate) fn agent_sign_in_link(&self, license: u64, email: &str) -> Result<String, Error> {
        let page_served =
            self.config.widget_dir.as_deref().is_some_and(|d| d.join("agent").join("index.html").is_file());
        let page = if page_served { "/agent/" } else { "/agent/sign-in" };
        let mut guard = self.lock();
        let inner = &mut *guard;
        let account = inner.agents.directory.get(license, email).filter(|a| !a.is_bot());
        let Some(id) = account.map(|a| a.id.clone()) else {
            return Err(Error::Config(format!("no agent `{email}` on license {license}")));
        };
        let code = secret::new_secret("sgn-");
        inner.agents.sign_in.insert(&code, license, &id, now_secs());
        Ok(format!("{}{page}#code={code}", self.public_url))
    }

    /// Uses a sign-in code (H9, H10): a new access token for its agent, with the scopes of
    /// the agent's permission, valid 8 hours, kept as a digest.
    pub(crate) fn agent_sign_in(&self, code: &str) -> Result<SignedIn, crate::agents::sign_in::CodeRefusal> {
        use crate::agents::{sign_in::CodeRefusal, tokens};
        let now = now_secs();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (license, agent) = inner.agents.sign_in.redeem(code, now)?;
        let permission =
            inner.agents.directory.get(license, &agent).map(|a| a.permission).ok_or(CodeRefusal::Unknown)?;
        let access_token = secret::new_secret("agt-");
        let grant = tokens::Grant {
            license,
            agent: agent.clone(),
            client_id: Some("sign-in".into()),
            scopes: permission.scopes(),
            expires_at: Some(now.saturating_add(tokens::ISSUED_LIFETIME)),
        };
        let expires_at = now.saturating_add(tokens::ISSUED_LIFETIME);
        let (hash, gone) = inner.agents.tokens.issue(&access_token, grant, now);
        let stored = in_request(&mut *inner.store, |s| {
            s.delete_issued_agent_tokens(&gone)?;
            s.put_issued_agent_token(store::IssuedAgentToken { hash, license, agent: agent.clone(), expires_at })
        });
        if let Err(e) = stored {
            tracing::error!(error = %e, "an issued agent token could not be stored");
            inner.agents.tokens.forget(&[hash]);
            return Err(CodeRefusal::Unstored);
        }
        Ok(SignedIn { access_token, agent, license, expires_in: tokens::ISSUED_LIFETIME })
    }

    /// Signs an agent out (H51): the presented token, if the server issued it, is revoked
    /// in memory and in the store, and refused from then on (RTM `login`, Web API).
    /// Connections already logged in with it are not closed (a client signing out closes
    /// its own).
    ///
    /// # Errors
    /// The store failed to delete it (it is revoked in memory all the same).
    pub(crate) fn agent_sign_out(&self, token: &str) -> Result<crate::agents::tokens::Revoked, store::StoreError> {
        use crate::agents::tokens::Revoked;
        let mut guard = self.lock();
        let inner = &mut *guard;
        let revoked = inner.agents.tokens.revoke(token);
        if let Revoked::Issued(hash) = &revoked {
            in_request(&mut *inner.store, |s| s.delete_issued_agent_tokens(std::slice::from_ref(hash)))?;
        }
        Ok(revoked)
    }

    /// Checks an agent's bearer token (Web API).
    pub(crate) fn authenticate_agent(&self, token: &str) -> Result<AgentCaller, ErrorObject> {
        let inner = self.lock();
        actions::agent::authenticate(&inner.agents, &inner.policy, token, now_secs())
    }

    /// `login` on an Agent API session (§5.1, H5, H6): checks the token, the session's
    /// agent and the per-agent cap, answers, and delivers what the login caused (status
    /// change, queued chats routed to the agent). Returns the agent on success.
    pub(crate) fn agent_login(
        self: &Arc<Self>,
        id: ConnId,
        request_id: Option<RequestId>,
        login: &chatio_wire::agent::Login,
        current: Option<&AgentCaller>,
    ) -> Option<AgentCaller> {
        use chatio_wire::agent::{Response as AgentResponse, ResponseData as AgentData};
        let mut guard = self.lock();
        let inner = &mut *guard;
        let now = now_secs();
        // The checks that need no change first, so that a refused login changes nothing.
        let checked = actions::agent::authenticate(&inner.agents, &inner.policy, login.token.expose(), now);
        let refusal = match (&checked, current) {
            (Err(e), _) => Some(e.clone()),
            (Ok(c), Some(cur)) if c.agent != cur.agent || c.license != cur.license => {
                Some(ErrorObject::new(ErrorType::Authorization, "this connection is logged in as another agent"))
            }
            (Ok(c), None) if inner.hub.agent_count(c.license, &c.agent) >= self.config.max_connections_per_agent => {
                Some(ErrorObject::new(ErrorType::Authorization, "too many connections for this agent (H6)"))
            }
            _ => None,
        };
        if let Some(e) = refusal {
            inner.hub.respond_agent(id, AgentResponse::failure(request_id, "login", e));
            return None;
        }
        let mut fx = Effects::default();
        // A repeated login of the same agent on a session is answered and changes nothing
        // (H5).
        let relogin = current.is_some();
        let result = in_request(&mut *inner.store, |store| {
            let mut cx =
                Ctx { store, presence: &inner.hub.presence, policy: &mut inner.policy, agents: &mut inner.agents, now };
            let result = actions::agent::login(&mut cx, login, !relogin, &mut fx)?;
            persist_agents(store, &mut inner.agents)?;
            Ok(result)
        });
        if result.is_err() {
            fx = Effects::default();
        }
        match result {
            Ok((caller, resp)) => {
                if !relogin {
                    inner.hub.log_in_agent(id, caller.clone());
                }
                let bot = inner.hub.bot_id.as_deref() == Some(caller.agent.as_str());
                if bot && !relogin {
                    // A new connection of the bot: it counts the pushes it handles afresh.
                    inner.hub.bot_pushes.insert(caller.license, (0, 0));
                    inner.bot_logins += 1;
                    self.bot_changed.notify_waiters();
                }
                inner.hub.respond_agent(id, AgentResponse::success(request_id.clone(), AgentData::Login(resp)));
                self.finish(inner, fx, Some((id, request_id.as_ref())));
                Some(caller)
            }
            Err(e) => {
                inner.hub.respond_agent(id, AgentResponse::failure(request_id, "login", e));
                None
            }
        }
    }

    /// Runs a request of a logged-in agent session: the action, its response, then its
    /// pushes to both sides.
    pub(crate) fn act_agent_rtm(
        self: &Arc<Self>,
        id: ConnId,
        request_id: Option<RequestId>,
        caller: &AgentCaller,
        request: chatio_wire::agent::Request,
    ) {
        use chatio_wire::agent::Response as AgentResponse;
        let action = request.action().to_owned();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let idle = match (&request, request_id.as_ref().and_then(|r| r.as_str())) {
            (chatio_wire::agent::Request::Ping, Some(r))
                if inner.hub.bot_id.as_deref() == Some(caller.agent.as_str()) =>
            {
                r.strip_prefix(BOT_IDLE_PREFIX).and_then(|n| n.parse::<u64>().ok())
            }
            _ => None,
        };
        let (result, fx) = act_agent(inner, caller, request);
        let response = match result {
            Ok(data) => AgentResponse::success(request_id.clone(), data),
            Err(e) => AgentResponse::failure(request_id.clone(), action, e),
        };
        inner.hub.respond_agent(id, response);
        self.finish(inner, fx, Some((id, request_id.as_ref())));
        if let Some(handled) = idle {
            inner.hub.bot_pushes.entry(caller.license).or_default().1 = handled;
            drop(guard);
            self.bot_changed.notify_waiters();
        }
    }

    /// Runs an agent's Web API request; its pushes carry no `request_id`.
    pub(crate) fn act_agent_web(
        self: &Arc<Self>,
        caller: &AgentCaller,
        request: chatio_wire::agent::Request,
    ) -> Result<chatio_wire::agent::ResponseData, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (result, fx) = act_agent(inner, caller, request);
        self.finish(inner, fx, None);
        result
    }

    /// After an agent's last connection closed: wait the grace period, then, if it has not
    /// come back, it goes offline and its active chats are routed again (H33).
    fn start_grace(self: &Arc<Self>, agent: AgentCaller) {
        self.grace_timer(agent, self.config.agent_grace);
    }

    /// After a restart: the grace periods of the agents that were logged in or in their
    /// grace period go on (H33), each for what is left of it (all of it for those that were
    /// connected: their connections closed with the old process).
    pub(crate) fn resume_grace_periods(self: &Arc<Self>) {
        let now = now_secs();
        let grace = self.config.agent_grace;
        let running: Vec<(AgentCaller, Duration)> = {
            let inner = self.lock();
            inner
                .agents
                .presence
                .iter()
                .filter(|(_, p)| p.connections() == 0)
                .filter_map(|((license, agent), p)| {
                    let since = p.gone_since()?;
                    let end = Duration::from_secs(since).saturating_add(grace);
                    let left = end.saturating_sub(Duration::from_secs(now));
                    Some((AgentCaller::of_account(&inner.agents, *license, agent)?, left))
                })
                .collect()
        };
        for (agent, left) in running {
            self.grace_timer(agent, left);
        }
    }

    /// Ends `agent`'s grace period after `grace`, unless it came back meanwhile.
    fn grace_timer(self: &Arc<Self>, agent: AgentCaller, grace: Duration) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let state = Arc::downgrade(self);
        rt.spawn(async move {
            tokio::time::sleep(grace).await;
            if let Some(state) = state.upgrade() {
                state.grace_over(&agent);
            }
        });
    }

    fn grace_over(self: &Arc<Self>, agent: &AgentCaller) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let now = now_secs();
        let key = (agent.license, agent.agent.clone());
        let due = inner
            .agents
            .presence
            .get(&key)
            .is_some_and(|p| p.connections() == 0 && p.grace_over(now, self.config.agent_grace.as_secs()));
        if !due {
            return;
        }
        let result = in_request(&mut *inner.store, |store| {
            let mut cx =
                Ctx { store, presence: &inner.hub.presence, policy: &mut inner.policy, agents: &mut inner.agents, now };
            let fx = actions::agent::went_offline(&mut cx, agent)?;
            persist_agents(store, &mut inner.agents)?;
            Ok::<_, ErrorObject>(fx)
        });
        match result {
            Ok(fx) => self.finish(inner, fx, None),
            Err(e) => tracing::warn!(error = %e.message, "an agent's grace period could not end"),
        }
    }

    // --- Tokens and customers -------------------------------------------------------------

    /// Creates a token for a customer (made if absent), as the token endpoint does.
    /// Returns the secret, the customer and the lifetime in seconds.
    pub(crate) fn issue_token(
        &self,
        license: u64,
        customer: Option<UserId>,
        valid_for: Option<u64>,
    ) -> Result<(String, UserId, u64), Error> {
        if !self.config.licenses.contains(&license) {
            return Err(Error::UnknownLicense(license));
        }
        let lifetime = valid_for.unwrap_or(self.config.token_lifetime.as_secs());
        let keep = self.config.max_tokens_per_customer;
        let mut guard = self.lock();
        let issued = in_request(&mut *guard.store, |store| {
            let customer = match customer {
                Some(c) => c,
                None => UserId::new(store.ids().uuid()),
            };
            if store.customer(license, &customer)?.is_none() {
                store.put_customer(license, &customer, Customer::default())?;
            }
            let secret = secret::new_secret("dev-");
            let expires_at = now_secs().saturating_add(lifetime);
            let record = TokenRecord { license, customer: customer.clone(), expires_at };
            store.put_token(&secret, record, keep)?;
            Ok::<_, store::StoreError>((secret, customer, lifetime))
        })?;
        Ok(issued)
    }

    /// Registers a token with a known secret, valid for a day (the fuzzing harness's).
    pub(crate) fn install_token(&self, secret: &str, license: u64, customer: UserId) -> Result<(), store::StoreError> {
        let mut guard = self.lock();
        in_request(&mut *guard.store, |store| {
            store.put_customer(license, &customer, Customer::default())?;
            let expires_at = now_secs().saturating_add(86_400);
            store.put_token(secret, TokenRecord { license, customer, expires_at }, 1)
        })
    }

    /// Starts a refresh-token family for a customer (G11): the secret that resumes it.
    pub(crate) fn issue_refresh(&self, license: u64, customer: &UserId, client_id: &str) -> Result<String, Error> {
        let lifetime = self.config.refresh_lifetime.as_secs();
        let mut guard = self.lock();
        Ok(in_request(&mut *guard.store, |store| {
            store.start_family(license, customer, client_id, now_secs(), lifetime)
        })?)
    }

    /// Uses a refresh token (G11): a new access token for its customer and the family's
    /// next refresh token. A banned customer gets nothing (its families were revoked at the
    /// ban).
    pub(crate) fn refresh(
        &self,
        refresh_token: &str,
        client_id: &str,
        valid_for: Option<u64>,
    ) -> Result<Refreshed, RefreshRefusal> {
        let lifetime = self.config.refresh_lifetime.as_secs();
        let rotated = {
            let mut guard = self.lock();
            in_request(&mut *guard.store, |store| store.rotate_refresh(refresh_token, client_id, now_secs(), lifetime))
        };
        let (license, customer, next) = rotated.map_err(|_| RefreshRefusal::Unknown)??;
        let (access_token, customer, expires_in) =
            self.issue_token(license, Some(customer), valid_for).map_err(|_| RefreshRefusal::Unknown)?;
        Ok(Refreshed { access_token, customer, expires_in, license, refresh_token: next })
    }

    /// The customer the accounts page's cookie secret names on `license` (G36).
    pub(crate) fn remembered(&self, license: u64, cookie_secret: &str) -> Option<UserId> {
        let mut guard = self.lock();
        guard.store.remembered(license, cookie_secret, now_secs()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read a remembered browser");
            None
        })
    }

    /// A new cookie secret remembering a browser as `customer` (G36).
    pub(crate) fn remember(&self, license: u64, customer: &UserId) -> Result<String, Error> {
        let lifetime = self.config.remember_lifetime.as_secs();
        let mut guard = self.lock();
        Ok(in_request(&mut *guard.store, |store| store.remember_browser(license, customer, now_secs(), lifetime))?)
    }

    /// Takes one token issuance for a client address: `false` when it is over its rate
    /// (counted in `tokens_refused`).
    pub(crate) fn may_issue(&self, ip: std::net::IpAddr) -> bool {
        let ok = self.token_limit.lock().unwrap_or_else(|e| e.into_inner()).take(ip, std::time::Instant::now());
        if !ok {
            self.counters.tokens_refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        ok
    }

    /// Whether a customer is banned on a license.
    pub(crate) fn customer_banned(&self, license: u64, customer: &UserId) -> Result<bool, store::StoreError> {
        Ok(self.lock().store.customer(license, customer)?.is_some_and(|c| c.banned_at(now_secs())))
    }

    // --- Reads ----------------------------------------------------------------------------

    /// A stored file by its URL path (`/api/file/...`).
    pub(crate) fn file(&self, path: &str) -> Result<Option<FileRec>, store::StoreError> {
        self.lock().store.file(path)
    }

    /// The events of a chat, ascending by order.
    pub(crate) fn chat_events(&self, license: u64, chat: &ChatId) -> Result<Option<Vec<Event>>, store::StoreError> {
        let mut inner = self.lock();
        let store = &mut inner.store;
        if store.chat(license, chat)?.is_none() {
            return Ok(None);
        }
        let mut events = Vec::new();
        for t in store.threads(license, chat)? {
            events.extend(store.events(license, chat, &t.id)?);
        }
        events.sort_by_key(|e| e.order);
        Ok(Some(events))
    }

    /// The chats of a customer, in creation order.
    pub(crate) fn chats_of(&self, license: u64, customer: &UserId) -> Result<Vec<ChatId>, store::StoreError> {
        self.lock().store.chats_of(license, customer)
    }

    /// Open sessions (logged in or not).
    pub(crate) fn session_count(&self) -> usize {
        self.lock().hub.len()
    }

    /// Logged-in sessions of a customer.
    pub(crate) fn customer_sessions(&self, license: u64, customer: &UserId) -> usize {
        self.lock().hub.count(license, customer)
    }

    /// The scripted agent's user id.
    pub(crate) fn bot_id(&self) -> Option<UserId> {
        self.lock().bot.as_ref().map(|b| b.id.clone())
    }

    /// The counters now, with what the server holds.
    pub(crate) fn stats(&self) -> Stats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.counters;
        let mut inner = self.lock();
        let tokens = inner.store.token_count().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot count tokens");
            0
        });
        let customers = inner.store.customer_count().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot count customers");
            0
        });
        let (refresh_families, remembered_browsers) = inner.store.identity_counts().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot count refresh tokens and browsers");
            (0, 0)
        });
        Stats {
            sessions: inner.hub.len(),
            queued_bytes: c.queued_bytes.load(Relaxed),
            slow_consumers: c.slow_consumers.load(Relaxed),
            refused_connections: c.refused_connections.load(Relaxed),
            body_timeouts: c.body_timeouts.load(Relaxed),
            tokens_refused: c.tokens_refused.load(Relaxed),
            sio_sessions: c.sio_sessions.load(Relaxed),
            sio_kept_header_bytes: c.sio_kept_header_bytes.load(Relaxed),
            tokens,
            customers,
            refresh_families,
            remembered_browsers,
            upload_bytes: inner.policy.upload_bytes,
            grouped_requests: c.grouped_requests.load(Relaxed),
            group_commits: c.group_commits.load(Relaxed),
        }
    }

    // --- Every connection -----------------------------------------------------------------

    /// Drops every session abruptly (no close frame).
    pub(crate) fn drop_all_sessions(&self) {
        self.lock().hub.send_all(|| Out::Drop);
    }

    /// Closes every session cleanly (1001) and waits, at most `grace`, for them to end.
    pub(crate) async fn close_all_sessions(&self, grace: Duration) {
        {
            let mut guard = self.lock();
            if let Err(e) = self.settle(&mut guard) {
                tracing::error!(error = %e, "the last commit failed");
            }
            guard.hub.send_all(|| Out::Close(1001, "server shutting down".into()));
        }
        let deadline = tokio::time::Instant::now() + grace;
        while self.session_count() > 0 {
            if tokio::time::timeout_at(deadline, self.session_gone.notified()).await.is_err() {
                tracing::debug!("sessions still open after the grace period");
                break;
            }
        }
    }

    /// Asks the accept loop to restart; resolves once it listens again.
    pub(crate) async fn restart(&self) -> Result<(), Error> {
        let (tx, rx) = oneshot::channel();
        self.control.send(Control::Restart(tx)).map_err(|_| Error::Stopped)?;
        rx.await.map_err(|_| Error::Stopped)?
    }
}

/// Puts back the agent tokens issued before a restart (H10): those of agents still
/// configured (and not bots), unexpired, with the scopes of the agent's permission now; the
/// others are deleted from the store.
fn restore_agent_tokens(
    store: &mut dyn Store,
    agents: &mut crate::agents::AgentData,
    now: u64,
) -> Result<(), store::StoreError> {
    let mut gone = Vec::new();
    for t in store.issued_agent_tokens()? {
        let account = agents.directory.get(t.license, &t.agent).filter(|a| !a.is_bot());
        match account.map(|a| a.permission) {
            Some(permission) if now < t.expires_at => {
                let grant = crate::agents::tokens::Grant {
                    license: t.license,
                    agent: t.agent,
                    client_id: Some("sign-in".into()),
                    scopes: permission.scopes(),
                    expires_at: Some(t.expires_at),
                };
                agents.tokens.restore(t.hash, grant);
            }
            _ => gone.push(t.hash),
        }
    }
    if !gone.is_empty() {
        in_request(store, |s| s.delete_issued_agent_tokens(&gone))?;
    }
    Ok(())
}

/// Puts back the agents' routing state kept before a restart (H33): each configured agent's
/// status, and whether it was logged in or in its grace period, which goes on (see
/// [`Presence::restored`](crate::agents::presence::Presence::restored); the timers start
/// with [`State::resume_grace_periods`]); and each license's queue of waiting chats, in order.
fn restore_agent_routing(
    store: &mut dyn Store,
    agents: &mut crate::agents::AgentData,
    now: u64,
) -> Result<(), store::StoreError> {
    for p in store.agent_presences()? {
        if agents.directory.get(p.license, &p.agent).is_some_and(|a| !a.is_bot()) {
            let presence = crate::agents::presence::Presence::restored(p.accepting, p.online, p.gone_since, now);
            agents.presence.insert((p.license, p.agent), presence);
        }
    }
    let mut queues: std::collections::HashMap<u64, Vec<ChatId>> = std::collections::HashMap::new();
    for (license, chat) in store.queued_chats()? {
        queues.entry(license).or_default().push(chat);
    }
    for (license, chats) in queues {
        agents.queues.insert(license, crate::agents::routing::Queue::restored(chats));
    }
    // What changed at the restart (a grace period starting now) is stored at once.
    in_request(store, |s| persist_agents(s, agents))
}

/// Writes what changed in the agents' routing state since the last call — presence, the
/// queues' joins and leaves — into the store's current unit, so that a restart finds it
/// (H33). Called after every unit that may route; one that changed nothing writes nothing.
fn persist_agents(store: &mut dyn Store, agents: &mut crate::agents::AgentData) -> store::Result<()> {
    for (license, agent, p) in agents.take_presence_changes() {
        let (accepting, online, gone_since) = p.stored();
        store.put_agent_presence(store::StoredPresence { license, agent, accepting, online, gone_since })?;
    }
    for (license, queue) in &mut agents.queues {
        for change in queue.take_changes() {
            match change {
                crate::agents::routing::QueueChange::Queued(chat) => store.queue_chat(*license, &chat)?,
                crate::agents::routing::QueueChange::Left(chat) => store.unqueue_chat(*license, &chat)?,
            }
        }
    }
    Ok(())
}

/// Runs a request's work on the store as one unit: its writes are kept when it succeeds,
/// undone when it fails, and committed before the caller answers.
fn in_request<T, E: From<store::StoreError>>(
    store: &mut dyn Store,
    work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
) -> Result<T, E> {
    store.begin()?;
    let result = work(&mut *store);
    store.end(result.is_ok())?;
    store.commit()?;
    result
}

/// Runs an action in the store unit of [`in_request_grouped`]; a failed store operation
/// fails the request with an `internal` error.
fn act(inner: &mut Inner, caller: &Caller, request: Request) -> (Result<ResponseData, ErrorObject>, Effects) {
    let mut fx = Effects::default();
    let now = now_secs();
    let result = in_request_grouped(&mut *inner.store, &inner.hub, |store| {
        let mut cx =
            Ctx { store, presence: &inner.hub.presence, policy: &mut inner.policy, agents: &mut inner.agents, now };
        let (result, effects) = actions::handle(&mut cx, caller, request);
        fx = effects;
        let result = result?;
        persist_agents(store, &mut inner.agents)?;
        Ok(result)
    });
    if result.is_err() {
        fx = Effects::default();
    }
    (result, fx)
}

/// Runs an agent's action in the store unit of [`in_request`].
fn act_agent(
    inner: &mut Inner,
    caller: &AgentCaller,
    request: chatio_wire::agent::Request,
) -> (Result<chatio_wire::agent::ResponseData, ErrorObject>, Effects) {
    let mut fx = Effects::default();
    let now = now_secs();
    let result = in_request(&mut *inner.store, |store| {
        let mut cx =
            Ctx { store, presence: &inner.hub.presence, policy: &mut inner.policy, agents: &mut inner.agents, now };
        let (result, effects) = actions::agent::handle(&mut cx, caller, request);
        fx = effects;
        let result = result?;
        persist_agents(store, &mut inner.agents)?;
        Ok(result)
    });
    if result.is_err() {
        fx = Effects::default();
    }
    (result, fx)
}
