//! One RTM session, whatever carries its frames.
//!
//! A transport (the plain websocket, `transport::ws`, or socket.io, `transport::sio`) opens
//! a session with [`open`] and gets two halves:
//!
//! * [`Session`], which it **feeds**: [`text`](Session::text) for each text frame (the
//!   session decodes it, runs it through the actions under the server's lock, and queues
//!   the response and the pushes it causes), [`unsupported`](Session::unsupported) for a frame
//!   kind the protocol does not use (binary), [`activity`](Session::activity) for anything
//!   else that proves the client alive (control pings, pongs, transport heartbeats),
//!   [`close`](Session::close) when the transport must end the session with a code (a
//!   protocol error: 1002, 1007, 1009), [`peer_closed`](Session::peer_closed) when the
//!   client closed. It also awaits [`ended`](Session::ended), which runs the session's
//!   timers (idle close 4001, shutdown 1001, the slow-consumer deadline) and resolves only
//!   when the writer is stuck and the transport must drop the connection. Dropping the
//!   `Session` ends it (it leaves the registry).
//! * [`Outbound`], which its writer **drains**: [`next`](Outbound::next) gives
//!   [`Out::Text`] (a frame to write), [`Out::Close`] (write a close with code and reason,
//!   then end), [`Out::Finish`] (flush, then end) or [`Out::Drop`] (end without a close);
//!   the writer reports what it wrote with [`flushed`](Outbound::flushed).
//!
//! The queue between them is bounded in bytes ([`SendQueue`]): frames are counted until
//! flushed, and a client that lets more than `max_queued_bytes` pile up, or lets queued
//! bytes sit `write_timeout` without any flush, is closed with 4002 `slow_consumer`. The
//! writer runs apart from the loop that reads and runs the timers, so a blocked write never
//! stops them; a writer that cannot even deliver the close within `write_timeout` is
//! dropped ([`End::Stuck`]).

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use chatio_wire::{ErrorObject, Response, UserId};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::gate;
use crate::sendq::{Out, SendQueue};
use crate::state::{ConnId, State};

/// Close code of the idle timeout (G9).
pub(crate) const CLOSE_IDLE: u16 = 4001;

/// Why [`Session::ended`] resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// A close was asked (idle, shutdown, slow consumer...) and the writer did not manage
    /// to deliver it within the write timeout: drop the connection.
    Stuck,
}

/// The feeding half of a session (see the module documentation).
#[derive(Debug)]
pub(crate) struct Session {
    state: Arc<State>,
    id: ConnId,
    license: u64,
    /// The customer this session logged in as (set by its first successful `login`; a
    /// session never changes customer).
    customer: OnceLock<UserId>,
    /// Whether this is an Agent API session (`/agent/v0.5/rtm/ws`).
    agent_api: bool,
    /// The agent an Agent API session logged in as (set once, like `customer`).
    agent: OnceLock<crate::actions::agent::AgentCaller>,
    queue: Arc<SendQueue>,
    /// Milliseconds since `started` of the last inbound frame.
    last_inbound: AtomicU64,
    started: Instant,
}

/// The draining half of a session (see the module documentation).
#[derive(Debug)]
pub(crate) struct Outbound {
    rx: mpsc::UnboundedReceiver<Out>,
    queue: Arc<SendQueue>,
}

/// Opens a session (logged out) on `license` and registers it.
pub(crate) fn open(state: &Arc<State>, license: u64) -> (Session, Outbound) {
    open_for(state, license, false)
}

/// Opens an Agent API session (logged out; its license comes with its `login`) and
/// registers it.
pub(crate) fn open_agent(state: &Arc<State>) -> (Session, Outbound) {
    open_for(state, 0, true)
}

fn open_for(state: &Arc<State>, license: u64, agent_api: bool) -> (Session, Outbound) {
    let (queue, rx) = SendQueue::new(state.config.max_queued_bytes, state.counters.clone());
    let id = state.open_session(license, queue.clone());
    tracing::info!(conn = id, api = if agent_api { "agent" } else { "customer" }, "connection opened");
    let session = Session {
        state: state.clone(),
        id,
        license,
        customer: OnceLock::new(),
        agent_api,
        agent: OnceLock::new(),
        queue: queue.clone(),
        last_inbound: AtomicU64::new(0),
        started: Instant::now(),
    };
    (session, Outbound { rx, queue })
}

impl Outbound {
    /// The next item to write; `None` once the session is gone.
    pub(crate) async fn next(&mut self) -> Option<Out> {
        self.rx.recv().await
    }

    /// The next item if one is already waiting (to batch writes before one flush).
    pub(crate) fn try_next(&mut self) -> Option<Out> {
        self.rx.try_recv().ok()
    }

    /// A queue bounded at `max` bytes that belongs to no registered session, and its
    /// draining half (to test a writer on its own).
    #[cfg(test)]
    pub(crate) fn detached(max: usize) -> (Arc<SendQueue>, Self) {
        let (queue, rx) = SendQueue::new(max, Arc::default());
        (queue.clone(), Self { rx, queue })
    }

    /// The writer flushed `bytes` of text frames to the transport.
    pub(crate) fn flushed(&self, bytes: usize) {
        self.queue.flushed(bytes);
    }
}

impl Session {
    /// This session's id in the registry.
    pub(crate) fn id(&self) -> ConnId {
        self.id
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Something arrived from the client: it is alive (2.7).
    pub(crate) fn activity(&self) {
        self.last_inbound.store(self.elapsed_ms(), Ordering::Relaxed);
    }

    /// A text frame arrived: through the request gate to its action; the response and the
    /// pushes are queued.
    pub(crate) fn text(&self, text: &str) {
        self.activity();
        if self.agent_api {
            if let Some(agent) = gate::agent_frame(&self.state, self.id, self.agent.get(), text) {
                let _ = self.agent.set(agent);
            }
            return;
        }
        if let Some(customer) = gate::rtm_frame(&self.state, self.id, self.license, self.customer.get(), text) {
            let _ = self.customer.set(customer);
        }
    }

    /// Refuses the session on an unknown license (G12): `customer_disconnected`
    /// `license_not_found`, then close 4000.
    /// Waits until the scripted bot has reacted to what this customer's previous requests
    /// caused (bounded; nothing to wait for on an Agent API session), so that the next text
    /// frame comes after those reactions (CUST G8).
    pub(crate) async fn settle_bot(&self) {
        if !self.agent_api {
            self.state.bot_settled(self.license).await;
        }
    }

    pub(crate) fn refuse_license(&self) {
        self.state.disconnect(self.id, &chatio_wire::DisconnectReason::LicenseNotFound);
    }

    /// A frame the protocol does not use arrived (a binary frame): `validation` response,
    /// the session stays open (G7).
    pub(crate) fn unsupported(&self, message: &'static str) {
        self.activity();
        self.state.respond(self.id, Response::failure(None, "", ErrorObject::validation(message)));
    }

    /// The transport must end the session with this close code and reason (a protocol
    /// error it detected). The close is queued after what is already queued.
    pub(crate) fn close(&self, code: u16, reason: impl Into<Cow<'static, str>>) {
        self.queue.send(Out::Close(code, reason.into()));
    }

    /// The client closed: flush the reply the transport prepared, then end.
    pub(crate) fn peer_closed(&self) {
        self.queue.send(Out::Finish);
    }

    /// Runs the session's timers: the idle close (4001 after `idle_timeout` without
    /// inbound frames), the shutdown close (1001), the slow-consumer close (4002 after
    /// `write_timeout` without write progress), and the deadline of any close. Resolves
    /// only when the connection must be dropped because the writer is stuck; cancel-safe
    /// (all state lives in the session), so a transport may call it in a `select!` loop.
    pub(crate) async fn ended(&self) -> End {
        let idle = self.state.config.idle_timeout;
        let write_timeout = self.state.config.write_timeout;
        let mut shutdown = self.state.shutdown.clone();
        loop {
            let now_ms = self.elapsed_ms();
            if let Some(since) = self.queue.closing_for() {
                if since >= write_timeout {
                    tracing::debug!(conn = self.id, "close not delivered in time: dropping");
                    return End::Stuck;
                }
                let wait = write_timeout - since;
                tokio::time::sleep(wait).await;
                continue;
            }
            if *shutdown.borrow_and_update() {
                self.close(1001, "server shutting down");
                continue;
            }
            let stalled = self.queue.stalled_for();
            if stalled >= write_timeout {
                self.queue.overflow();
                tracing::debug!(conn = self.id, "slow consumer: closing with 4002");
                continue;
            }
            let last = std::time::Duration::from_millis(self.last_inbound.load(Ordering::Relaxed));
            let since_inbound = std::time::Duration::from_millis(now_ms).saturating_sub(last);
            if since_inbound >= idle {
                tracing::debug!(conn = self.id, "idle timeout: closing with 4001");
                self.close(CLOSE_IDLE, "ping_timeout");
                continue;
            }
            // Wake at the idle deadline, or sooner to watch a queue that is not draining.
            let mut wait = idle - since_inbound;
            if self.queue.pending() > 0 {
                wait = wait.min((write_timeout - stalled).max(std::time::Duration::from_millis(10)));
            }
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        // The server is gone: treat as a shutdown.
                        self.close(1001, "server shutting down");
                    }
                }
                () = self.queue.closing() => {}
            }
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        tracing::info!(conn = self.id, secs = self.started.elapsed().as_secs(), "connection closed");
        self.state.close_session(self.id);
    }
}
