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
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chatio_wire::{
    ClientFrame, DecodeErrorKind, DisconnectReason, ErrorObject, ErrorType, Request, Response, ResponseData,
};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::actions::{self, Caller};
use crate::hub::{ConnId, Out};
use crate::sendq::SendQueue;
use crate::state::{Shared, now_secs};

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
    shared: Arc<Shared>,
    id: ConnId,
    license: u64,
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
pub(crate) fn open(shared: &Arc<Shared>, license: u64) -> (Session, Outbound) {
    let (queue, rx) = SendQueue::new(shared.config.max_queued_bytes, shared.counters.clone());
    let id = shared.lock().hub.add(license, queue.clone());
    let session = Session {
        shared: shared.clone(),
        id,
        license,
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

    /// A text frame arrived: decode, handle, queue the response and the pushes.
    pub(crate) fn text(&self, text: &str) {
        self.activity();
        on_text(&self.shared, self.id, self.license, text);
    }

    /// A frame the protocol does not use arrived (a binary frame): `validation` response,
    /// the session stays open (G7).
    pub(crate) fn unsupported(&self, message: &'static str) {
        self.activity();
        self.shared.lock().hub.respond(self.id, Response::failure(None, "", ErrorObject::validation(message)));
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
        let idle = self.shared.config.idle_timeout;
        let write_timeout = self.shared.config.write_timeout;
        let mut shutdown = self.shared.shutdown.clone();
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
        self.shared.lock().hub.remove(self.id);
        self.shared.conn_gone.notify_one();
    }
}

/// The validation error for a frame that could not be decoded (G7): the request id and
/// action when they could be read, and a message naming the field.
fn undecodable(e: &chatio_wire::DecodeError) -> Response {
    let action = match e.kind() {
        DecodeErrorKind::InvalidPayload | DecodeErrorKind::InvalidFrame => e.action().unwrap_or(""),
        _ => "",
    };
    let message = match e.field() {
        Some(field) if !e.to_string().contains(field) => format!("{e} (field `{field}`)"),
        _ => e.to_string(),
    };
    Response::failure(e.request_id().cloned(), action, ErrorObject::validation(message))
}

/// Handles one text frame.
fn on_text(shared: &Arc<Shared>, id: ConnId, license: u64, text: &str) {
    let frame = match ClientFrame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            shared.lock().hub.respond(id, undecodable(&e));
            return;
        }
    };
    let request_id = frame.request_id;
    let now = now_secs();
    let mut guard = shared.lock();
    let inner = &mut *guard;
    if let Request::Login(login) = &frame.request {
        match actions::login(&mut inner.store, license, login, now, &shared.public_url) {
            Ok((customer, resp, changed)) => {
                match inner.hub.customer_of(id) {
                    Some(current) if *current != customer => {
                        let err = ErrorObject::new(
                            ErrorType::Authorization,
                            "this connection is logged in as another customer",
                        );
                        inner.hub.respond(id, Response::failure(request_id, "login", err));
                        return;
                    }
                    Some(_) => {}
                    None => {
                        if inner.hub.count(license, &customer) >= shared.config.max_connections_per_customer {
                            tracing::info!(conn = id, "too many connections for one customer");
                            inner.hub.disconnect(id, &DisconnectReason::TooManyConnections);
                            return;
                        }
                        inner.hub.log_in(id, license, &customer);
                    }
                }
                inner.hub.respond(id, Response::success(request_id.clone(), ResponseData::Login(resp)));
                if changed {
                    let mut fx = actions::Effects::default();
                    actions::customer_updated(&inner.store, &inner.hub.presence, license, &customer, true, &mut fx);
                    shared.finish(inner, license, fx, Some((id, request_id.as_ref())));
                }
            }
            Err(e) => {
                let banned = e.kind == ErrorType::CustomerBanned;
                inner.hub.respond(id, Response::failure(request_id, "login", e));
                if banned {
                    inner.hub.disconnect(id, &DisconnectReason::CustomerBanned);
                }
            }
        }
        return;
    }
    let action = frame.request.action().to_owned();
    if let Request::Unknown { .. } = frame.request {
        let err = ErrorObject::validation(format!("unknown action `{action}`"));
        inner.hub.respond(id, Response::failure(request_id, action, err));
        return;
    }
    let Some(customer) = inner.hub.customer_of(id).cloned() else {
        let err = ErrorObject::new(ErrorType::Authentication, "login required: the first request must be `login`");
        inner.hub.respond(id, Response::failure(request_id, action, err));
        return;
    };
    if inner.store.licenses.get(&license).is_some_and(|l| l.expired) {
        let err = ErrorObject::with_default_message(ErrorType::LicenseExpired);
        inner.hub.respond(id, Response::failure(request_id, action, err));
        return;
    }
    let caller = Caller { license, customer };
    let (result, fx) = actions::handle(&mut inner.store, &inner.hub.presence, &caller, frame.request, now);
    let response = match result {
        Ok(data) => Response::success(request_id.clone(), data),
        Err(e) => Response::failure(request_id.clone(), action, e),
    };
    inner.hub.respond(id, response);
    shared.finish(inner, license, fx, Some((id, request_id.as_ref())));
}
