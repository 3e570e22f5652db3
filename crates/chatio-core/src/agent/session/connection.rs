//! The login, sending and queueing, timeouts, disconnects and reconnects, and failing what
//! waits.

use chatio_wire::agent::{Action, AgentDisconnectReason, ClientFrame, Login, LoginResponse, Request};
use chatio_wire::{ChatId, DisconnectReason, ErrorType, RequestId};

use super::{AgentSession, Conn, Phase};
use crate::agent::output::{AgentEvent, AgentOutput, AgentReply, ChatView};
use crate::error::Error;
use crate::error::{Operation, TransportError};
use crate::model::User;
use crate::output::DriverAction;
use crate::pending::{Pending, Purpose};
use crate::timer::{Timer, TimerTable};
use web_time::Instant;

impl AgentSession {
    /// Moves the session's clock: `now` never goes back.
    pub(super) fn tick(&mut self, now: Instant) -> Instant {
        if now > self.last_now {
            self.last_now = now;
        }
        self.last_now
    }

    /// Commands are refused after `disconnect`, `destroy`, or a final disconnect.
    pub(super) fn check_open(&self) -> Result<(), Error> {
        match &self.conn {
            Conn::Destroyed | Conn::Idle => Err(Error::Closed),
            Conn::Stopped(reason) => Err(stopped(reason)),
            _ => Ok(()),
        }
    }

    /// A request id unique among everything that waits (and recently finished).
    pub(super) fn new_id(&mut self) -> RequestId {
        loop {
            let id = RequestId::new(self.rng.base36(10));
            if !self.pending.knows(&id) {
                return id;
            }
        }
    }

    pub(super) fn request_token(&mut self, fresh: bool) {
        self.token_requested = true;
        self.actions.push_back(DriverAction::FetchToken { fresh });
    }

    /// Whether the token can be used to log in at `now`.
    pub(super) fn token_usable(&self, now: Instant) -> bool {
        self.token.is_some() && self.token_expiry.is_none_or(|e| now < e)
    }

    pub(super) fn emit(&mut self, e: AgentEvent) {
        self.outputs.push_back(AgentOutput::Event(e));
    }

    /// Hands out a command's outcome.
    pub(super) fn complete(&mut self, id: RequestId, result: Result<AgentReply, Error>) {
        self.pending.remember(id.clone());
        self.outputs.push_back(AgentOutput::Completed { id, result });
    }

    /// Recomputes the request deadline timer.
    pub(super) fn rearm(&mut self) {
        self.timers.set_opt(Timer::Requests, self.pending.earliest_deadline());
    }

    // ------------------------------------------------------------------ sending

    /// Registers a request and writes it now if the session may (user requests once logged
    /// in, `login` on an open socket), else queues it for after the login.
    pub(super) fn submit(
        &mut self,
        id: RequestId,
        request: Request,
        purpose: Purpose,
        chat: Option<ChatId>,
        now: Instant,
    ) {
        let action = request.known_action().unwrap_or(Action::Ping);
        let frame = ClientFrame::new(Some(id.clone()), request).encode();
        let immediate = match purpose {
            Purpose::Login => matches!(self.conn, Conn::Open(_)),
            _ => self.is_ready(),
        };
        let mut p = Pending::new(purpose, action, chat);
        p.deadline = Some(crate::timer::later(now, self.config.request_timeout));
        if immediate {
            self.transmit.push_back(frame);
        } else {
            p.frame = Some(frame);
        }
        self.pending.insert(id, p);
    }

    /// A user request: checked already, written now or after the login.
    pub(super) fn user_request(&mut self, request: Request, chat: Option<&ChatId>, now: Instant) -> RequestId {
        let id = self.new_id();
        self.submit(id.clone(), request, Purpose::User, chat.cloned(), now);
        self.rearm();
        id
    }

    pub(super) fn start_connecting(&mut self, now: Instant) {
        self.conn = Conn::Connecting;
        if !self.token_requested {
            if self.login_failed || self.token_revoked || !self.token_usable(now) {
                // A refused, revoked or expired token: ask for a new one, and log in with it only.
                let fresh = self.login_failed || self.token_revoked || self.token.is_some();
                self.token = None;
                self.token_revoked = false;
                self.request_token(fresh);
            }
        } else if self.login_failed {
            self.token = None;
        }
        self.actions.push_back(DriverAction::Connect);
    }

    /// `login`: with `reconnect: true` after the first success (or when configured), so that
    /// the server keeps the agent's routing status (H21).
    pub(super) fn send_login(&mut self, now: Instant) {
        let Some(token) = &self.token else {
            self.conn = Conn::Open(Phase::AwaitingToken);
            return;
        };
        let mut login = Login::new(token.login_token());
        if self.ever_ready || self.config.resume_routing_status {
            login = login.reconnecting();
        }
        if let Some((name, version)) = &self.config.application {
            login = login.with_application(name.clone(), version.clone());
        }
        let id = self.new_id();
        self.conn = Conn::Open(Phase::LoggingIn);
        self.submit(id, Request::Login(login), Purpose::Login, None, now);
    }

    /// `login` succeeded: the state starts again from its chats; `Connected` (first time) or
    /// `ConnectionRestored`; then what waited for the login is written.
    pub(super) fn logged_in(&mut self, l: LoginResponse, now: Instant) {
        self.fresh_token_used = false;
        let me = User::from_wire(l.my_profile);
        let chats: Vec<ChatView> = l.chats_summary.into_iter().map(ChatView::from_summary).collect();
        self.chats.reset(&chats);
        self.routing_status = me.routing_status.clone();
        self.me = Some(me.clone());
        self.license = Some(l.license.clone());
        let event = if self.ever_ready {
            AgentEvent::ConnectionRestored { me, license: l.license, chats }
        } else {
            AgentEvent::Connected { me, license: l.license, chats }
        };
        self.ever_ready = true;
        self.emit(event);
        self.conn = Conn::Open(Phase::Ready);
        self.last_rx = now;
        self.unstable = false;
        self.timers.set(Timer::Health, crate::timer::later(now, self.config.unstable_after));
        self.login_failures = 0;
        self.login_failed = false;
        self.reconnect_attempt = 0;
        for f in self.pending.take_queued() {
            self.transmit.push_back(f);
        }
    }

    /// A frame arrived on the open socket: the connection is alive.
    pub(super) fn heard(&mut self, now: Instant) {
        self.last_rx = now;
        if self.unstable {
            self.unstable = false;
            self.emit(AgentEvent::ConnectionRecovered);
        }
        if self.is_ready() {
            self.timers.set(Timer::Health, crate::timer::later(now, self.config.unstable_after));
        }
    }

    /// Nothing arrived for `unstable_after` (report it, probe with a ping) or `dead_after`
    /// (a half-open connection: close it; the session reconnects when the close is reported).
    pub(super) fn check_health(&mut self, now: Instant) {
        if !self.is_ready() || self.actions.contains(&DriverAction::Close) {
            self.timers.stop(Timer::Health);
            return;
        }
        let dead_at = self.last_rx + self.config.dead_after.max(self.config.unstable_after);
        if now >= dead_at {
            self.timers.stop(Timer::Health);
            let silent = now.saturating_duration_since(self.last_rx).as_millis();
            self.emit(AgentEvent::Error(Error::Transport(TransportError::msg(
                Operation::Socket,
                format!("nothing from the server for {silent} ms: the connection is taken for half-open and closed"),
            ))));
            self.actions.push_back(DriverAction::Close);
        } else {
            if !self.unstable {
                self.unstable = true;
                self.emit(AgentEvent::ConnectionUnstable);
                self.transmit.push_back(super::PING_FRAME.to_owned());
            }
            self.timers.set(Timer::Health, dead_at);
        }
    }

    // ------------------------------------------------------------------ failure

    /// Fails everything that waits.
    pub(super) fn fail_all(&mut self, err: &Error) {
        for (id, p) in self.pending.take_all() {
            if p.is_users() {
                self.complete(id, Err(err.clone()));
            }
        }
    }

    /// The server ended the session for good.
    pub(super) fn stop(&mut self, reason: AgentDisconnectReason, close: bool) {
        if !matches!(self.conn, Conn::Stopped(_)) {
            self.emit(AgentEvent::Disconnected { reason: reason.clone() });
        }
        self.fail_all(&stopped(&reason));
        // The token the server stopped the session for is not tried again.
        self.token = None;
        self.token_revoked = true;
        self.conn = Conn::Stopped(reason);
        self.timers = TimerTable::default();
        if close {
            self.actions.push_back(DriverAction::Close);
        }
    }

    /// The socket dropped (not for good): sent requests fail with `ConnectionLost`, requests
    /// not written yet wait for the next login, a `login` in flight is dropped.
    pub(super) fn connection_lost(&mut self) {
        for (id, p) in self.pending.take_where(Pending::is_sent) {
            if p.is_users() {
                self.complete(id, Err(Error::ConnectionLost));
            }
        }
    }

    pub(super) fn schedule_reconnect(&mut self, now: Instant) {
        self.conn = Conn::Backoff;
        let r = self.rng.next_f64();
        let delay = if self.login_failed {
            self.config.login_backoff.delay(self.login_failures.saturating_sub(1), r)
        } else {
            self.config.reconnect.delay(self.reconnect_attempt, r)
        };
        self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
        self.timers.set(Timer::Reconnect, crate::timer::later(now, delay));
        self.emit(AgentEvent::Reconnecting { attempt: self.reconnect_attempt, delay });
    }

    /// The login failed (after the one authentication retry, or for another reason): report
    /// it, fail the user requests that waited for it, close and try again with the login
    /// backoff. An expired license or an unsupported version stops the session.
    pub(super) fn login_failed(&mut self, err: Error) {
        let final_reason = match &err {
            Error::Server { kind: ErrorType::LicenseExpired, .. } => Some(AgentDisconnectReason::LicenseExpired),
            Error::Server { kind: ErrorType::UnsupportedVersion, .. } => {
                Some(AgentDisconnectReason::UnsupportedVersion)
            }
            _ => None,
        };
        if let Some(reason) = final_reason {
            self.emit(AgentEvent::Error(err));
            self.stop(reason, true);
            return;
        }
        self.login_failures = self.login_failures.saturating_add(1);
        self.login_failed = true;
        self.fresh_token_used = false;
        for (id, _) in self.pending.take_where(|p| p.is_users() && !p.is_sent()) {
            self.complete(id, Err(err.clone()));
        }
        self.emit(AgentEvent::Error(err));
        self.actions.push_back(DriverAction::Close);
    }

    /// Requests past their deadline fail with `Timeout`; a `login` that does not answer means
    /// the connection is broken: close it.
    pub(super) fn expire_requests(&mut self, now: Instant) {
        let mut broken = false;
        for (id, p) in self.pending.take_where(|p| p.deadline.is_some_and(|d| d <= now)) {
            match p.purpose {
                Purpose::Login => broken = true,
                _ if p.is_users() => self.complete(id, Err(Error::Timeout)),
                _ => {}
            }
        }
        if broken && matches!(self.conn, Conn::Open(_)) {
            self.actions.push_back(DriverAction::Close);
        }
    }
}

/// The error of a command made after (or failed by) a final disconnect. The agent reasons
/// travel as [`DisconnectReason`]'s text (`unsupported_version` is a known one, the others
/// read as `Other`); [`AgentEvent::Disconnected`] has the typed reason.
pub(super) fn stopped(reason: &AgentDisconnectReason) -> Error {
    Error::Disconnected { reason: DisconnectReason::parse(reason.as_str()) }
}
