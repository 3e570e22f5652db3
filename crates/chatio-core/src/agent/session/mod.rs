//! The agent session state machine.
//!
//! This file holds the type, its inputs (`handle_*`), its outputs (`poll_*`), the getters and
//! the lifecycle commands. The rest is split by concern:
//!
//! * `commands`: one method per Agent API action, with its argument checks;
//! * `connection`: the login, sending and queueing, timeouts, disconnects and reconnects,
//!   failing what waits;
//! * `inbound`: responses (turned into typed replies) and pushes (turned into agent events
//!   and chat state).

mod commands;
mod connection;
mod inbound;

pub use commands::MAX_ARCHIVES_LIMIT;

use std::collections::VecDeque;

use chatio_wire as wire;
use chatio_wire::agent::{Action, AgentDisconnectReason, License, ServerFrame};
use chatio_wire::{ChatId, Limits, RequestId, RoutingStatus, UserId};

use super::chats::AgentChats;
use super::config::AgentConfig;
use super::output::{AgentEvent, AgentOutput, ChatView};
use crate::error::{Error, ProtocolError};
use crate::model::User;
use crate::output::{Disconnect, DriverAction};
use crate::pending::PendingTable;
use crate::rng::Rng;
use crate::session::UploadFailure;
use crate::timer::{Timer, TimerTable};
use crate::token::AccessToken;
use web_time::Instant;

/// The frame that keeps the connection alive (agent protocol file, 2.5).
pub(crate) const PING_FRAME: &str = r#"{"action":"ping"}"#;

/// Where the connection is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Conn {
    /// The driver was asked to connect.
    Connecting,
    /// The socket is open: waiting for a token, logging in, or logged in.
    Open(Phase),
    /// Waiting for the reconnect timer.
    Backoff,
    /// Disconnected by the user; `connect` starts again.
    Idle,
    /// Ended by the server for good.
    Stopped(AgentDisconnectReason),
    /// Destroyed by the user.
    Destroyed,
}

/// The login on an open socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a token to log in with.
    AwaitingToken,
    /// `login` sent.
    LoggingIn,
    /// Logged in: requests flow.
    Ready,
}

/// Where an agent session's connection is ([`AgentSession::status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AgentStatus {
    /// Opening the socket (first time or again).
    Connecting,
    /// The socket is open; logging in.
    LoggingIn,
    /// Logged in: requests flow.
    Connected,
    /// Waiting to reconnect after a drop.
    Reconnecting,
    /// Disconnected by the user; `connect` starts again.
    Disconnected,
    /// Ended by the server for good.
    Stopped(AgentDisconnectReason),
    /// Destroyed by the user.
    Destroyed,
}

/// A chat.io agent session (Agent API v0.5), without I/O.
///
/// The agent side of [`Session`](crate::Session): the same shape, the same driver contract
/// (the same [`DriverAction`]s, [`Disconnect`]s, [`AccessToken`]s and [`Error`]s), another
/// API. The driver opens the agent websocket (`…/agent/v0.5/rtm/ws`, no license parameter: the
/// token names the agent and its license) and feeds the session what happens; the session
/// logs in, correlates requests and responses, pings, times requests out, reconnects with
/// backoff (logging in again with `reconnect: true`, which keeps the agent's routing status),
/// keeps the chats the agent sees ([`chats`](Self::chats), [`waiting_chats`](Self::waiting_chats),
/// [`my_chats`](Self::my_chats)) and turns every push into an [`AgentEvent`].
///
/// # Method kinds
///
/// * **Inputs**: [`handle_connected`](Self::handle_connected),
///   [`handle_frame`](Self::handle_frame), [`handle_binary_frame`](Self::handle_binary_frame),
///   [`handle_disconnected`](Self::handle_disconnected), [`handle_timeout`](Self::handle_timeout),
///   [`handle_token`](Self::handle_token), [`handle_token_error`](Self::handle_token_error),
///   [`handle_upload_result`](Self::handle_upload_result).
/// * **Commands**, one per Agent API action ([`join_chat`](Self::join_chat),
///   [`send_message`](Self::send_message), [`close_thread`](Self::close_thread), ...), check
///   their arguments first ([`Error::InvalidArgs`], leaving no trace), then whether the session
///   takes commands ([`Error::Closed`], [`Error::Disconnected`]), then return a [`RequestId`]
///   at once; the outcome arrives later as [`AgentOutput::Completed`] with that id, **exactly
///   once**. Commands made while connecting or reconnecting are written after the login.
///   Lifecycle: [`connect`](Self::connect), [`disconnect`](Self::disconnect),
///   [`destroy`](Self::destroy), [`cancel`](Self::cancel).
/// * **Outputs** (`#[must_use]`): [`poll_transmit`](Self::poll_transmit),
///   [`poll_action`](Self::poll_action), [`poll_event`](Self::poll_event),
///   [`poll_timeout`](Self::poll_timeout).
///
/// # Poll order
///
/// As for [`Session`](crate::Session): after every input or command, drain `poll_transmit`,
/// then `poll_action`, then `poll_event`, then arm one timer for `poll_timeout`.
///
/// # Secrets
///
/// The `Debug` output never shows the token nor the frames waiting to be written.
pub struct AgentSession {
    config: AgentConfig,
    rng: Rng,
    conn: Conn,
    token: Option<AccessToken>,
    /// When the current token expires (from its `expires_in`).
    token_expiry: Option<Instant>,
    /// A `FetchToken` is out.
    token_requested: bool,
    /// The fresh token of the one authentication retry has been asked for this connection.
    fresh_token_used: bool,
    /// The server revoked the token (a final disconnect): `connect` asks the provider for a
    /// fresh one.
    token_revoked: bool,
    /// Login failures in a row.
    login_failures: u32,
    /// The last connection ended with a failed login: reconnect with the login backoff.
    login_failed: bool,
    /// Reconnect attempts since the last successful login.
    reconnect_attempt: u32,
    /// The connection is ending because a frame from the server was too large to read.
    oversize: bool,
    /// When the last frame arrived on the open socket (health).
    last_rx: Instant,
    /// `ConnectionUnstable` was emitted and nothing arrived since.
    unstable: bool,
    /// Logged in at least once: the next login says `reconnect: true`.
    ever_ready: bool,
    me: Option<User>,
    license: Option<License>,
    routing_status: Option<RoutingStatus>,
    chats: AgentChats,
    pending: PendingTable<Action>,
    timers: TimerTable,
    transmit: VecDeque<String>,
    outputs: VecDeque<AgentOutput>,
    actions: VecDeque<DriverAction>,
    last_now: Instant,
}

impl std::fmt::Debug for AgentSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentSession")
            .field("conn", &self.conn)
            .field("me", &self.me.as_ref().map(|u| &u.id))
            .field("token", &self.token)
            .field("routing_status", &self.routing_status)
            .field("chats", &self.chats.len())
            .field("pending", &self.pending_count())
            .field("transmit", &self.transmit.len())
            .field("actions", &self.actions.len())
            .field("outputs", &self.outputs.len())
            .field("next_timeout", &self.timers.next())
            .finish_non_exhaustive()
    }
}

impl AgentSession {
    /// A session that starts connecting at once: its first actions are
    /// [`DriverAction::FetchToken`] and [`DriverAction::Connect`].
    pub fn new(config: AgentConfig, now: Instant) -> Self {
        let rng = Rng::new(config.rng_seed);
        let chats = AgentChats::new(config.max_chats);
        let mut s = Self {
            config,
            rng,
            conn: Conn::Connecting,
            token: None,
            token_expiry: None,
            token_requested: false,
            fresh_token_used: false,
            token_revoked: false,
            login_failures: 0,
            login_failed: false,
            reconnect_attempt: 0,
            oversize: false,
            last_rx: now,
            unstable: false,
            ever_ready: false,
            me: None,
            license: None,
            routing_status: None,
            chats,
            pending: PendingTable::default(),
            timers: TimerTable::default(),
            transmit: VecDeque::new(),
            outputs: VecDeque::new(),
            actions: VecDeque::new(),
            last_now: now,
        };
        s.request_token(false);
        s.actions.push_back(DriverAction::Connect);
        s
    }

    // ------------------------------------------------------------------ getters

    /// The configuration.
    pub fn config(&self) -> &AgentConfig {
        &self.config
    }

    /// Where the connection is.
    pub fn status(&self) -> AgentStatus {
        match &self.conn {
            Conn::Connecting => AgentStatus::Connecting,
            Conn::Open(Phase::Ready) => AgentStatus::Connected,
            Conn::Open(_) => AgentStatus::LoggingIn,
            Conn::Backoff => AgentStatus::Reconnecting,
            Conn::Idle => AgentStatus::Disconnected,
            Conn::Stopped(r) => AgentStatus::Stopped(r.clone()),
            Conn::Destroyed => AgentStatus::Destroyed,
        }
    }

    /// Whether the session is logged in and requests flow.
    pub fn is_ready(&self) -> bool {
        self.conn == Conn::Open(Phase::Ready)
    }

    /// Whether the session has ended (destroyed, or stopped by the server for good).
    pub fn is_closed(&self) -> bool {
        matches!(self.conn, Conn::Destroyed | Conn::Stopped(_))
    }

    /// The agent, as the last `login` said (with its `permission`).
    pub fn me(&self) -> Option<&User> {
        self.me.as_ref()
    }

    /// The agent's id, once logged in.
    pub fn my_id(&self) -> Option<&UserId> {
        self.me.as_ref().map(|u| &u.id)
    }

    /// The license, once logged in.
    pub fn license(&self) -> Option<&License> {
        self.license.as_ref()
    }

    /// The agent's routing status, as `login` and `agent_updated` said.
    pub fn routing_status(&self) -> Option<&RoutingStatus> {
        self.routing_status.as_ref()
    }

    /// The current access token, if any (the driver needs it for Web API calls).
    pub fn token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// Commands whose outcome has not been handed out yet.
    pub fn pending_count(&self) -> usize {
        self.pending.users_count()
    }

    /// A chat the session knows.
    pub fn chat(&self, id: &ChatId) -> Option<&ChatView> {
        self.chats.get(id)
    }

    /// Every chat the session knows (in no particular order): those of `login` and
    /// `get_filtered_chats`, and every chat a push was about (see
    /// [`AgentConfig::max_chats`] for the bound).
    pub fn chats(&self) -> impl Iterator<Item = &ChatView> {
        self.chats.iter()
    }

    /// How many chats the session knows.
    pub fn chat_count(&self) -> usize {
        self.chats.len()
    }

    /// The chats that wait for an agent ([`ChatView::is_waiting`]), longest waiting first
    /// (by the creation of their thread).
    pub fn waiting_chats(&self) -> Vec<&ChatView> {
        let mut v: Vec<&ChatView> = self.chats.iter().filter(|c| c.is_waiting()).collect();
        v.sort_by_key(|c| (c.thread.as_ref().and_then(|t| t.created), c.id.clone()));
        v
    }

    /// The chats with an active thread this agent is in, most recent event first.
    pub fn my_chats(&self) -> Vec<&ChatView> {
        let Some(me) = self.my_id() else { return Vec::new() };
        let mut v: Vec<&ChatView> = self.chats.iter().filter(|c| c.is_active() && c.has_user(me)).collect();
        v.sort_by(|a, b| {
            let at = |c: &ChatView| c.last_event.as_ref().map(|e| e.timestamp);
            at(b).cmp(&at(a)).then_with(|| a.id.cmp(&b.id))
        });
        v
    }

    // ------------------------------------------------------------------ outputs

    /// The next text frame to write.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next thing the driver must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<DriverAction> {
        self.actions.pop_front()
    }

    /// The next event or command outcome.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<AgentOutput> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) is due.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ------------------------------------------------------------------ inputs

    /// The websocket asked for by [`DriverAction::Connect`] is open: log in once a token is
    /// there. Pings start now (the protocol wants one every 15 s).
    pub fn handle_connected(&mut self, now: Instant) {
        let now = self.tick(now);
        if self.conn != Conn::Connecting {
            return;
        }
        self.conn = Conn::Open(Phase::AwaitingToken);
        self.last_rx = now;
        self.unstable = false;
        self.oversize = false;
        self.timers.set(Timer::Ping, crate::timer::later(now, self.config.ping_interval));
        if self.token_usable(now) {
            self.send_login(now);
        } else if !self.token_requested && self.timers.get(Timer::TokenRetry).is_none() {
            let fresh = self.token.is_some() || self.login_failed;
            self.token = None;
            self.request_token(fresh);
        }
        self.rearm();
    }

    /// A text frame arrived. What does not decode or answers nothing is reported as an event;
    /// a frame over [`AgentConfig::max_frame_len`] also closes the connection. Frames while
    /// no socket is open are ignored.
    pub fn handle_frame(&mut self, text: &str, now: Instant) {
        let now = self.tick(now);
        if !matches!(self.conn, Conn::Open(_)) {
            return;
        }
        self.heard(now);
        match ServerFrame::decode_with(text, &Limits::with_max_frame_len(self.config.max_frame_len)) {
            Ok(ServerFrame::Response(r)) => self.on_response(r, now),
            Ok(ServerFrame::Push(p)) => self.on_push(p),
            Ok(_) => {}
            Err(e) if e.kind() == wire::DecodeErrorKind::TooLarge => {
                self.emit(AgentEvent::Error(Error::Protocol(ProtocolError::undecodable(e, text))));
                self.oversize = true;
                self.actions.push_back(DriverAction::Close);
            }
            Err(e) => self.on_undecodable(e, text, now),
        }
        self.rearm();
    }

    /// A binary frame arrived: the protocol has text frames only; reported as an error event.
    pub fn handle_binary_frame(&mut self, len: usize, now: Instant) {
        let now = self.tick(now);
        if matches!(self.conn, Conn::Open(_)) {
            self.heard(now);
            let message = format!("a binary frame of {len} bytes (the protocol uses text frames only)");
            self.emit(AgentEvent::Error(Error::protocol(message)));
        }
    }

    /// The websocket closed, or could not be opened. A close with code 4000 and a documented
    /// `agent_disconnected` reason stops the session, as the push that precedes it does.
    pub fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        let now = self.tick(now);
        let was_open = matches!(self.conn, Conn::Open(_));
        self.timers.stop(Timer::Ping);
        self.timers.stop(Timer::Health);
        self.unstable = false;
        let close_reason = match &how {
            Disconnect::Closed { code: Some(4000), reason } => Some(AgentDisconnectReason::parse(reason)),
            _ => None,
        };
        if let Disconnect::FrameTooLarge { message } = &how {
            if was_open {
                self.emit(AgentEvent::Error(Error::protocol(message.clone())));
            }
            self.oversize = true;
        }
        if let (Disconnect::Failed(t), Conn::Connecting) = (&how, &self.conn) {
            self.emit(AgentEvent::Error(Error::Transport(t.clone())));
        }
        let final_reason = match &self.conn {
            Conn::Stopped(r) => Some(r.clone()),
            _ => close_reason.filter(AgentDisconnectReason::is_final),
        };
        if was_open {
            self.emit(AgentEvent::ConnectionLost);
        }
        match (&self.conn, final_reason) {
            (Conn::Idle | Conn::Destroyed, _) => self.fail_all(&Error::Closed),
            (_, Some(reason)) => self.stop(reason, false),
            (Conn::Backoff, None) => {}
            (_, None) => {
                self.oversize = false;
                self.connection_lost();
                self.schedule_reconnect(now);
            }
        }
        self.rearm();
    }

    /// Deadlines passed: call when [`poll_timeout`](Self::poll_timeout) is reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.tick(now);
        if self.timers.expired(Timer::Reconnect, now) {
            self.timers.stop(Timer::Reconnect);
            if self.conn == Conn::Backoff {
                self.start_connecting(now);
            }
        }
        for t in [Timer::TokenRetry, Timer::TokenRefresh] {
            if self.timers.expired(t, now) {
                self.timers.stop(t);
                if !self.token_requested && !self.is_closed() && self.conn != Conn::Idle {
                    self.request_token(true);
                }
            }
        }
        if self.timers.expired(Timer::Ping, now) {
            match self.conn {
                Conn::Open(phase) => {
                    // `login` must come first (2.5): no ping before it succeeded.
                    if phase == Phase::Ready {
                        self.transmit.push_back(PING_FRAME.to_owned());
                    }
                    self.timers.set(Timer::Ping, crate::timer::later(now, self.config.ping_interval));
                }
                _ => self.timers.stop(Timer::Ping),
            }
        }
        if self.timers.expired(Timer::Requests, now) {
            self.expire_requests(now);
        }
        if self.timers.expired(Timer::Health, now) {
            self.check_health(now);
        }
        self.rearm();
    }

    /// A token arrived, as asked by [`DriverAction::FetchToken`]. With an `expires_in` the
    /// session asks for a fresh one ahead of the expiry (as the customer session,
    /// [`REFRESH_AHEAD`](crate::REFRESH_AHEAD)).
    pub fn handle_token(&mut self, token: AccessToken, now: Instant) {
        let now = self.tick(now);
        self.token_requested = false;
        self.timers.stop(Timer::TokenRetry);
        self.token_expiry = token.expires_in.and_then(|d| now.checked_add(d));
        let ahead = crate::session::REFRESH_AHEAD;
        let refresh = token.expires_in.and_then(|d| now.checked_add(d.saturating_sub(ahead.min(d / 2))));
        self.timers.set_opt(Timer::TokenRefresh, refresh);
        self.token = Some(token);
        if self.conn == Conn::Open(Phase::AwaitingToken) {
            self.send_login(now);
        }
        self.rearm();
    }

    /// No token could be had: reported as [`AgentEvent::Error`]; the session asks again after
    /// the login backoff.
    pub fn handle_token_error(&mut self, err: Error, now: Instant) {
        let now = self.tick(now);
        self.token_requested = false;
        self.emit(AgentEvent::Error(err));
        if !self.is_closed() && self.conn != Conn::Idle {
            let delay = self.config.login_backoff.delay(self.login_failures, self.rng.next_f64());
            self.login_failures = self.login_failures.saturating_add(1);
            self.timers.set(Timer::TokenRetry, crate::timer::later(now, delay));
        }
        self.rearm();
    }

    /// The end of an upload. The agent session asks for none yet (`upload_image` goes through
    /// the Web API on its own): results are ignored.
    pub fn handle_upload_result(
        &mut self,
        _id: &RequestId,
        _result: Result<wire::SendFileResponse, UploadFailure>,
        now: Instant,
    ) {
        self.tick(now);
    }

    // ------------------------------------------------------------------ lifecycle commands

    /// Connects again after [`disconnect`](Self::disconnect) or after the server stopped the
    /// session; while waiting to reconnect, connects now. Does nothing while connecting or
    /// connected, or after [`destroy`](Self::destroy).
    pub fn connect(&mut self, now: Instant) {
        let now = self.tick(now);
        if matches!(self.conn, Conn::Idle | Conn::Stopped(_) | Conn::Backoff) {
            self.timers.stop(Timer::Reconnect);
            self.reconnect_attempt = 0;
            self.start_connecting(now);
        }
        self.rearm();
    }

    /// Closes the connection and stays disconnected until [`connect`](Self::connect); every
    /// unfinished command fails with [`Error::Closed`].
    pub fn disconnect(&mut self, now: Instant) {
        self.tick(now);
        if self.conn != Conn::Destroyed {
            self.disconnect_inner(true);
        }
    }

    fn disconnect_inner(&mut self, announce: bool) {
        if announce && matches!(self.conn, Conn::Open(_)) {
            self.emit(AgentEvent::ConnectionLost);
        }
        if matches!(self.conn, Conn::Open(_) | Conn::Connecting) {
            self.actions.push_back(DriverAction::Close);
        }
        self.conn = Conn::Idle;
        self.fail_all(&Error::Closed);
        self.timers = TimerTable::default();
    }

    /// Ends the session: closes the connection and fails every unfinished command with
    /// [`Error::Closed`]; later commands fail the same way and `connect` does nothing.
    pub fn destroy(&mut self, now: Instant) {
        self.tick(now);
        if self.conn != Conn::Destroyed {
            self.disconnect_inner(false);
        }
        self.conn = Conn::Destroyed;
    }

    /// Cancels a command: it stops being waited for and completes with
    /// [`Error::Cancelled`] at once (a request already written may still take effect on the
    /// server). Returns whether it was still running.
    pub fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        self.tick(now);
        let ours = self.pending.get(id).is_some_and(|p| p.is_users());
        if ours {
            self.pending.remove(id);
            self.complete(id.clone(), Err(Error::Cancelled));
        }
        self.rearm();
        ours
    }
}
