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

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatio_wire::{
    ChatId, DisconnectReason, ErrorObject, ErrorType, Event, Login, Request, RequestId, Response, ResponseData, UserId,
};
use futures::channel::oneshot;
use tokio::sync::{Notify, mpsc, watch};

use crate::actions::{self, Caller, Effects, Trigger, Upload, bot};
use crate::config::ServerConfig;
use crate::counters::{Counters, Stats};
use crate::error::Error;
use crate::sendq::{Out, SendQueue};
use crate::store::{FileRec, Policy, Store, TokenRecord};

mod faults;
mod hub;
mod upkeep;

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
    store: Store,
    hub: Hub,
}

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
}

impl State {
    /// The state of a fresh server: the configured licenses, no customer yet, the agent
    /// registered; ids drawn from `seed`.
    pub(crate) fn new(
        config: ServerConfig,
        public_url: String,
        seed: u64,
        shutdown: watch::Receiver<bool>,
        control: mpsc::UnboundedSender<Control>,
    ) -> Self {
        let mut store = Store::new(seed, &config.licenses, &config.expired_licenses, &public_url);
        store.policy = Policy {
            max_chats_per_customer: config.max_chats_per_customer,
            declared_properties: config.declared_properties.clone(),
            conformance_fault: config.conformance_fault,
            push_dropped: false,
        };
        Self {
            config,
            public_url,
            inner: Mutex::new(Inner { store, hub: Hub::default() }),
            shutdown,
            session_gone: Notify::new(),
            control,
            counters: Arc::new(Counters::default()),
        }
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

    /// Forgets a session (it ended).
    pub(crate) fn close_session(&self, id: ConnId) {
        self.lock().hub.remove(id);
        self.session_gone.notify_one();
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
        actions::authenticate(&self.lock().store, license, token, now_secs())
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
        match actions::login(&mut inner.store, license, login, now_secs(), &self.public_url) {
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
                if changed {
                    let mut fx = Effects::default();
                    actions::customer_updated(&inner.store, &inner.hub.presence, license, &customer, true, &mut fx);
                    self.finish(inner, license, fx, Some((id, request_id.as_ref())));
                }
                Some(customer)
            }
            Err(e) => {
                let banned = e.kind == ErrorType::CustomerBanned;
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
        let (result, fx) = actions::handle(&mut inner.store, &inner.hub.presence, caller, request, now_secs());
        let response = match result {
            Ok(data) => Response::success(request_id.clone(), data),
            Err(e) => Response::failure(request_id.clone(), action, e),
        };
        inner.hub.respond(id, response);
        self.finish(inner, caller.license, fx, Some((id, request_id.as_ref())));
    }

    /// Runs a Web API request: the action, then its pushes (without `request_id`, 1.3) and
    /// the agent's reactions; returns the action's result for the HTTP answer.
    pub(crate) fn act_web(self: &Arc<Self>, caller: &Caller, request: Request) -> Result<ResponseData, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (result, fx) = actions::handle(&mut inner.store, &inner.hub.presence, caller, request, now_secs());
        self.finish(inner, caller.license, fx, None);
        result
    }

    /// `send_file` over the Web API: stores the file and its event, pushes it, and returns
    /// the file's URL.
    pub(crate) fn send_file(self: &Arc<Self>, caller: &Caller, upload: Upload) -> Result<String, ErrorObject> {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let now = now_secs();
        let (url, fx) =
            actions::send_file(&mut inner.store, &inner.hub.presence, caller, upload, &self.public_url, now)?;
        self.finish(inner, caller.license, fx, None);
        Ok(url)
    }

    /// Delivers what a call did: its pushes now, then the agent's reactions (at once with a
    /// zero delay, else on a timer task).
    fn finish(
        self: &Arc<Self>,
        inner: &mut Inner,
        license: u64,
        fx: Effects,
        requester: Option<(ConnId, Option<&RequestId>)>,
    ) {
        inner.hub.deliver(fx.deliveries, requester);
        if self.config.agent {
            for t in fx.triggers {
                self.run_bot(inner, license, t);
            }
        }
    }

    fn run_bot(self: &Arc<Self>, inner: &mut Inner, license: u64, trigger: Trigger) {
        let (chat, steps) = bot::plan(&inner.store, license, &trigger);
        if steps.is_empty() {
            return;
        }
        let delay = self.config.agent_delay;
        if delay.is_zero() {
            for step in &steps {
                let fx = bot::apply(&mut inner.store, license, &chat, step, now_secs(), &self.public_url);
                inner.hub.deliver(fx.deliveries, None);
            }
            return;
        }
        let state = self.clone();
        tokio::spawn(async move {
            for step in steps {
                tokio::time::sleep(delay).await;
                let mut guard = state.lock();
                let inner = &mut *guard;
                let fx = bot::apply(&mut inner.store, license, &chat, &step, now_secs(), &state.public_url);
                inner.hub.deliver(fx.deliveries, None);
            }
        });
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
        let mut guard = self.lock();
        let store = &mut guard.store;
        if !store.licenses.contains_key(&license) {
            return Err(Error::UnknownLicense(license));
        }
        let customer = match customer {
            Some(c) => c,
            None => UserId::new(store.ids.uuid()),
        };
        if let Some(l) = store.licenses.get_mut(&license) {
            l.customers.entry(customer.clone()).or_default();
        }
        let lifetime = valid_for.unwrap_or(self.config.token_lifetime.as_secs());
        let secret = crate::store::Ids::token();
        let expires_at = now_secs().saturating_add(lifetime);
        store.tokens.insert(secret.clone(), TokenRecord { license, customer: customer.clone(), expires_at });
        Ok((secret, customer, lifetime))
    }

    /// Registers a token with a known secret, valid for a day (the fuzzing harness's).
    pub(crate) fn install_token(&self, secret: &str, license: u64, customer: UserId) {
        let mut guard = self.lock();
        let store = &mut guard.store;
        if let Some(l) = store.licenses.get_mut(&license) {
            l.customers.entry(customer.clone()).or_default();
        }
        let expires_at = now_secs().saturating_add(86_400);
        store.tokens.insert(secret.to_owned(), TokenRecord { license, customer, expires_at });
    }

    /// Whether a customer is banned on a license.
    pub(crate) fn customer_banned(&self, license: u64, customer: &UserId) -> bool {
        let inner = self.lock();
        inner.store.licenses.get(&license).and_then(|l| l.customers.get(customer)).is_some_and(|c| c.banned)
    }

    // --- Reads ----------------------------------------------------------------------------

    /// A stored file by its URL path (`/api/file/...`).
    pub(crate) fn file(&self, path: &str) -> Option<FileRec> {
        self.lock().store.files.get(path).cloned()
    }

    /// The events of a chat, ascending by order.
    pub(crate) fn chat_events(&self, license: u64, chat: &ChatId) -> Option<Vec<Event>> {
        let inner = self.lock();
        let c = inner.store.licenses.get(&license)?.chats.get(chat)?;
        let mut events: Vec<Event> = c.threads.iter().flat_map(|t| t.events.iter().cloned()).collect();
        events.sort_by_key(|e| e.order);
        Some(events)
    }

    /// The chats of a customer, in creation order.
    pub(crate) fn chats_of(&self, license: u64, customer: &UserId) -> Vec<ChatId> {
        let inner = self.lock();
        inner.store.licenses.get(&license).and_then(|l| l.chats_of.get(customer)).cloned().unwrap_or_default()
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
        self.lock().store.bot().map(|b| b.id.clone())
    }

    /// The counters now, with what the server holds.
    pub(crate) fn stats(&self) -> Stats {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &self.counters;
        let inner = self.lock();
        Stats {
            sessions: inner.hub.len(),
            queued_bytes: c.queued_bytes.load(Relaxed),
            slow_consumers: c.slow_consumers.load(Relaxed),
            refused_connections: c.refused_connections.load(Relaxed),
            body_timeouts: c.body_timeouts.load(Relaxed),
            tokens: inner.store.tokens.len(),
            customers: inner.store.licenses.values().map(|l| l.customers.len()).sum(),
        }
    }

    // --- Every connection -----------------------------------------------------------------

    /// Drops every session abruptly (no close frame).
    pub(crate) fn drop_all_sessions(&self) {
        self.lock().hub.send_all(|| Out::Drop);
    }

    /// Closes every session cleanly (1001) and waits, at most `grace`, for them to end.
    pub(crate) async fn close_all_sessions(&self, grace: Duration) {
        self.lock().hub.send_all(|| Out::Close(1001, "server shutting down".into()));
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
