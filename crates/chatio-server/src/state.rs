//! The state every layer of the server shares: the data and the connection registry behind
//! one lock, the configuration, the counters, fault injection and the agent's scheduling.
//!
//! The layers, in the order a request travels, are in `docs/ARCHITECTURE.md`; this one sits
//! below the sessions and above the actions (`crate::actions`, no I/O) and the data
//! (`crate::store`).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chatio_wire::{ChatId, DisconnectReason, Event, Push, RequestId, UserId};
use futures::channel::oneshot;
use tokio::sync::{Notify, mpsc, watch};

use crate::actions::bot;
use crate::actions::{self, Effects, Trigger};
use crate::config::ServerConfig;
use crate::counters::Counters;
use crate::error::Error;
use crate::hub::{ConnId, Hub, Out};
use crate::store::{Store, TokenRecord};

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
    pub(crate) inner: Mutex<Inner>,
    /// Flips to `true` when the server shuts down.
    pub(crate) shutdown: watch::Receiver<bool>,
    /// Signalled whenever a websocket connection ends.
    pub(crate) conn_gone: Notify,
    pub(crate) control: mpsc::UnboundedSender<Control>,
    /// Server-wide counters (queued bytes, slow consumers...).
    pub(crate) counters: Arc<Counters>,
    /// The socket.io transport's Engine.IO service (set right after construction).
    pub(crate) sio: std::sync::OnceLock<crate::transport::sio::Service>,
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
        let shared = self.clone();
        tokio::spawn(async move {
            for step in steps {
                tokio::time::sleep(delay).await;
                let mut guard = shared.lock();
                let inner = &mut *guard;
                let fx = bot::apply(&mut inner.store, license, &chat, &step, now_secs(), &shared.public_url);
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
        let secret = crate::store::Ids::token();
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
                        t.expires_at = t.expires_at.min(now_secs());
                    }
                }
            }
            Fault::Ban | Fault::Unban => {
                let banned = matches!(fault, Fault::Ban);
                if let Some(l) = inner.store.licenses.get_mut(&license) {
                    l.customers.entry(customer.clone()).or_default().banned = banned;
                }
                if banned {
                    inner.hub.disconnect_customer(license, customer, &DisconnectReason::CustomerBanned);
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

    /// Routine work: purge what can no longer be used, and archive idle threads (G3) when
    /// configured.
    pub(crate) fn sweep(&self) {
        self.purge(now_secs());
        self.archive();
    }

    /// Forgets tokens expired for longer than `expired_token_grace` (until then `login`
    /// says "expired" rather than "invalid"), then customers with nothing left: no token, no chat, no
    /// connection, no ban, no armed fault (nobody can reach them any more). Returns how
    /// many tokens and customers went.
    pub(crate) fn purge(&self, now: u64) -> (usize, usize) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let before = inner.store.tokens.len();
        let grace = self.config.expired_token_grace.as_secs();
        inner.store.tokens.retain(|_, t| t.expires_at.saturating_add(grace) > now);
        let tokens = before - inner.store.tokens.len();
        let held: std::collections::HashSet<(u64, &UserId)> =
            inner.store.tokens.values().map(|t| (t.license, &t.customer)).collect();
        let hub = &inner.hub;
        let mut customers = 0;
        for (license, lic) in &mut inner.store.licenses {
            let chats_of = &lic.chats_of;
            let before = lic.customers.len();
            lic.customers.retain(|id, c| {
                c.banned
                    || held.contains(&(*license, id))
                    || chats_of.get(id).is_some_and(|v| !v.is_empty())
                    || hub.count(*license, id) > 0
                    || hub.faults.contains_key(&(*license, id.clone()))
            });
            customers += before - lic.customers.len();
        }
        if tokens + customers > 0 {
            tracing::debug!(tokens, customers, "purged");
        }
        (tokens, customers)
    }

    fn archive(&self) {
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
                let Some((thread, ev)) = actions::add_agent_event(chat, None, kind, now) else { continue };
                if let Some(t) = chat.active_thread_mut() {
                    t.active = false;
                }
                for push in [
                    Push::IncomingEvent(chatio_wire::IncomingEvent::new(chat.id.clone(), thread.clone(), ev)),
                    Push::ThreadClosed(chatio_wire::ThreadClosed::new(chat.id.clone(), thread, None)),
                ] {
                    fx.deliveries.push(actions::Delivery {
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
