//! The connect sequence, sending and queueing, timeouts, disconnects and reconnects, and
//! failing what waits.

use web_time::Instant;

use chatio_wire::{
    Action, ChatId, ClientFrame, DisconnectReason, ErrorType, GetChatsSummary, Login, Request, RequestId, UserId,
};

use super::{Conn, Phase, Session};
use crate::config::OutboxPolicy;
use crate::error::Error;
use crate::output::{DriverAction, HistoryId, Output, Reply, SdkEvent};
use crate::pending::{Pending, Purpose};
use crate::timer::{Timer, TimerTable};

impl Session {
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
            Conn::Stopped(reason) => Err(Error::Disconnected { reason: reason.clone() }),
            _ => Ok(()),
        }
    }

    /// A request id unique among everything that waits (and recently finished).
    pub(super) fn new_id(&mut self) -> RequestId {
        loop {
            let id = RequestId::new(self.rng.base36(10));
            let taken = self.pending.knows(&id)
                || self.outbox.contains(&id)
                || self.histories.values().any(|h| h.queue.contains(&id));
            if !taken {
                return id;
            }
        }
    }

    /// A `custom_id` for an event the user gave none (D10).
    pub(super) fn new_custom_id(&mut self) -> String {
        loop {
            let c = format!("chatio-{}", self.rng.base36(16));
            if !self.outbox.has_custom_id(&c) {
                return c;
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

    pub(super) fn learn_customer_id(&mut self, id: UserId) {
        if self.customer_id.as_ref() != Some(&id) {
            self.customer_id = Some(id.clone());
            self.emit(SdkEvent::CustomerId(id));
        }
    }

    pub(super) fn emit(&mut self, e: SdkEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    /// Hands out a command's outcome.
    pub(super) fn complete(&mut self, id: RequestId, result: Result<Reply, Error>) {
        self.pending.remember(id.clone());
        self.outputs.push_back(Output::Completed { id, result });
    }

    /// Recomputes the timers derived from the tables (request deadlines, sneak peeks).
    pub(super) fn rearm(&mut self) {
        let requests = match (self.pending.earliest_deadline(), self.outbox.earliest_deadline()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.timers.set_opt(Timer::Requests, requests);
        self.timers.set_opt(Timer::SneakPeek, self.sneak.next_deadline());
    }

    // ------------------------------------------------------------------ sending

    /// Registers a request and writes it now if the session may (user requests once logged
    /// in, the connect sequence on an open socket), else queues it for after the login.
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
        self.submit_frame(id, action, frame, purpose, chat, now);
    }

    pub(super) fn submit_frame(
        &mut self,
        id: RequestId,
        action: Action,
        frame: String,
        purpose: Purpose,
        chat: Option<ChatId>,
        now: Instant,
    ) {
        let immediate = match purpose {
            Purpose::Login | Purpose::Summary => matches!(self.conn, Conn::Open(_)),
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
            if self.login_failed || !self.token_usable(now) {
                // A refused or expired token: ask for a new one, and log in with it only.
                let fresh = self.login_failed || self.token.is_some();
                self.token = None;
                self.request_token(fresh);
            }
        } else if self.login_failed {
            self.token = None;
        }
        self.actions.push_back(DriverAction::Connect);
    }

    pub(super) fn send_login(&mut self, now: Instant) {
        let Some(token) = &self.token else {
            self.conn = Conn::Open(Phase::AwaitingToken);
            return;
        };
        let mut customer = self.config.customer.clone();
        if customer.fields.is_none() {
            customer.fields = Some(Default::default());
        }
        let mut login = Login::new(token.login_token());
        login.customer = Some(customer);
        let id = self.new_id();
        self.conn = Conn::Open(Phase::LoggingIn);
        self.submit(id, Request::Login(login), Purpose::Login, None, now);
    }

    /// `login` succeeded: ask the chats summary.
    pub(super) fn logged_in(&mut self, customer_id: UserId, now: Instant) {
        self.fresh_token_used = false;
        self.learn_customer_id(customer_id);
        let id = self.new_id();
        self.conn = Conn::Open(Phase::Summary);
        self.submit(id, Request::GetChatsSummary(GetChatsSummary::default()), Purpose::Summary, None, now);
    }

    /// A frame arrived on the open socket: the connection is alive.
    pub(super) fn heard(&mut self, now: Instant) {
        self.last_rx = now;
        if self.unstable {
            self.unstable = false;
            self.emit(SdkEvent::ConnectionRecovered);
        }
        if self.is_ready() {
            self.timers.set(Timer::Health, crate::timer::later(now, self.config.unstable_after));
        }
    }

    /// The health deadline passed: nothing arrived for `unstable_after` (report it and
    /// probe with a ping) or for `dead_after` (a half-open connection: close it; the
    /// session reconnects when the driver reports the close).
    pub(super) fn check_health(&mut self, now: Instant) {
        if !self.is_ready() || self.actions.contains(&DriverAction::Close) {
            // Not logged in, or the connection is being closed anyway.
            self.timers.stop(Timer::Health);
            return;
        }
        let dead_at = self.last_rx + self.config.dead_after.max(self.config.unstable_after);
        if now >= dead_at {
            self.timers.stop(Timer::Health);
            self.emit(SdkEvent::Error(Error::Transport(crate::error::TransportError::msg(
                crate::error::Operation::Socket,
                format!(
                    "nothing from the server for {} ms: the connection is taken for half-open and closed",
                    now.saturating_duration_since(self.last_rx).as_millis()
                ),
            ))));
            self.actions.push_back(DriverAction::Close);
        } else if !self.unstable {
            self.unstable = true;
            self.emit(SdkEvent::ConnectionUnstable);
            self.transmit.push_back(super::PING_FRAME.to_owned());
            self.timers.set(Timer::Health, dead_at);
        } else {
            self.timers.set(Timer::Health, dead_at);
        }
    }

    /// The connect sequence finished: write what waited for it.
    pub(super) fn ready(&mut self, now: Instant) {
        self.conn = Conn::Open(Phase::Ready);
        self.last_rx = now;
        self.unstable = false;
        self.timers.set(Timer::Health, crate::timer::later(now, self.config.unstable_after));
        self.login_failures = 0;
        self.login_failed = false;
        self.reconnect_attempt = 0;
        self.too_many = false;
        for f in self.pending.take_queued() {
            self.transmit.push_back(f);
        }
        self.start_verification(now);
        self.flush_outbox(now);
    }

    // ------------------------------------------------------------------ failure

    /// A request failed: tell whoever waits for it.
    pub(super) fn fail_pending(&mut self, id: RequestId, p: Pending, err: Error, now: Instant) {
        match p.purpose {
            Purpose::User | Purpose::Upload => self.complete(id, Err(err)),
            Purpose::Outbox => {
                self.outbox.remove(&id);
                self.complete(id, Err(err));
                self.flush_outbox(now);
            }
            Purpose::History(h) => self.history_failed(h, err, now),
            Purpose::VerifySummary(page) => self.verify_failed(&page.chat, err, now),
            Purpose::VerifyThreads(chat) => self.verify_failed(&chat, err, now),
            Purpose::Login | Purpose::Summary => self.login_failed(err),
        }
    }

    /// Fails everything that waits: requests (sent or queued), outbox events, history calls,
    /// uploads (which the driver is told to stop).
    pub(super) fn fail_all(&mut self, err: &Error) {
        for (id, p) in self.pending.take_all() {
            match p.purpose {
                Purpose::Upload => {
                    self.actions.push_back(DriverAction::CancelUpload { id: id.clone() });
                    self.complete(id, Err(err.clone()));
                }
                Purpose::User => self.complete(id, Err(err.clone())),
                _ => {}
            }
        }
        self.uploads_waiting.clear();
        for e in self.outbox.drain() {
            self.complete(e.id, Err(err.clone()));
        }
        let histories: Vec<HistoryId> = self.histories.keys().copied().collect();
        for h in histories {
            self.history_fail_all(h, err);
        }
    }

    /// The server ended the session for good.
    pub(super) fn stop(&mut self, reason: DisconnectReason, close: bool) {
        if !matches!(self.conn, Conn::Stopped(_)) {
            self.emit(SdkEvent::Disconnected { reason: reason.clone() });
        }
        self.conn = Conn::Stopped(reason.clone());
        self.sneak.clear();
        self.fail_all(&Error::Disconnected { reason });
        self.timers = TimerTable::default();
        if close {
            self.actions.push_back(DriverAction::Close);
        }
    }

    /// The socket dropped (not for good): sent requests fail with `ConnectionLost` (as in the
    /// JS SDK), except outbox events under [`OutboxPolicy::Resend`], which wait to be checked;
    /// requests not written yet wait for the next login; internal steps in flight are dropped
    /// (the connect sequence and outbox checks start again after the next login).
    pub(super) fn connection_lost(&mut self, oversize: bool) {
        let policy = self.config.outbox;
        // Uploads go through the Web API and do not depend on the socket; frames not written
        // yet (user requests, history steps issued while disconnected) wait for the login.
        let lost = self.pending.take_where(|p| p.is_sent() && p.purpose != Purpose::Upload);
        self.outbox.connection_lost(oversize);
        let mut failed_histories = Vec::new();
        for (id, p) in lost {
            match p.purpose {
                Purpose::User => self.complete(id, Err(Error::ConnectionLost)),
                Purpose::Outbox if policy == OutboxPolicy::FailOnDisconnect => {
                    self.outbox.remove(&id);
                    self.complete(id, Err(Error::ConnectionLost));
                }
                Purpose::History(h) if !failed_histories.contains(&h) => failed_histories.push(h),
                _ => {}
            }
        }
        // History loads in flight fail with their queued calls, as in the JS SDK.
        for h in failed_histories {
            self.history_fail_all(h, &Error::ConnectionLost);
        }
    }

    pub(super) fn schedule_reconnect(&mut self, now: Instant) {
        self.conn = Conn::Backoff;
        let r = self.rng.next_f64();
        let delay = if self.too_many {
            // G9: another connection must go away first; do not hammer the server.
            self.config.reconnect.max
        } else if self.login_failed {
            self.config.login_backoff.delay(self.login_failures.saturating_sub(1), r)
        } else {
            self.config.reconnect.delay(self.reconnect_attempt, r)
        };
        self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
        self.timers.set(Timer::Reconnect, crate::timer::later(now, delay));
        self.emit(SdkEvent::Reconnecting { attempt: self.reconnect_attempt, delay });
    }

    /// The connect sequence failed (after the one authentication retry, or for another
    /// reason): report it, fail the user requests that waited for the login, close and try
    /// again with the login backoff. A ban or an unsupported version stops the session.
    pub(super) fn login_failed(&mut self, err: Error) {
        let final_reason = match &err {
            Error::Server { kind: ErrorType::CustomerBanned, .. } => Some(DisconnectReason::CustomerBanned),
            Error::Server { kind: ErrorType::UnsupportedVersion, .. } => Some(DisconnectReason::UnsupportedVersion),
            _ => None,
        };
        if let Some(reason) = final_reason {
            self.stop(reason, true);
            return;
        }
        self.login_failures = self.login_failures.saturating_add(1);
        self.login_failed = true;
        self.fresh_token_used = false;
        for (id, _) in self.pending.take_where(|p| p.purpose == Purpose::User && !p.is_sent()) {
            self.complete(id, Err(err.clone()));
        }
        self.emit(SdkEvent::Error(err));
        self.actions.push_back(DriverAction::Close);
    }

    /// Requests past their deadline fail with `Timeout`. A connect-sequence step or an
    /// outbox event that does not answer means the connection is broken: close it (the
    /// outbox is checked after the reconnect, never resent blindly).
    pub(super) fn expire_requests(&mut self, now: Instant) {
        let mut broken = false;
        for (id, p) in self.pending.take_where(|p| p.deadline.is_some_and(|d| d <= now)) {
            match p.purpose {
                Purpose::Login | Purpose::Summary | Purpose::VerifySummary(_) | Purpose::VerifyThreads(_) => {
                    broken = true;
                }
                _ => self.fail_pending(id, p, Error::Timeout, now),
            }
        }
        if self.outbox.timed_out(now) {
            broken = true;
        }
        if broken && matches!(self.conn, Conn::Open(_)) {
            self.actions.push_back(DriverAction::Close);
        }
    }

    /// Sends the kept sneak peeks whose interval ended.
    pub(super) fn flush_sneak_peeks(&mut self, now: Instant) {
        for (chat, text) in self.sneak.due(now) {
            if self.is_ready() && self.chats.is_active(&chat) != Some(false) {
                self.transmit_sneak_peek(&chat, &text);
            }
        }
    }

    pub(super) fn transmit_sneak_peek(&mut self, chat: &ChatId, text: &str) {
        let req = Request::SendSneakPeek(chatio_wire::SendSneakPeek::new(chat.clone(), text));
        self.transmit.push_back(ClientFrame::new(None, req).encode());
    }
}
