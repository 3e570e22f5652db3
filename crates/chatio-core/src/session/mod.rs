//! The session state machine.
//!
//! This file holds the type, its inputs (`handle_*`), its outputs (`poll_*`) and the
//! lifecycle commands. The rest of the machine is split by concern:
//!
//! * `commands`: one method per SDK command, with its argument checks;
//! * `connection`: the connect sequence, sending and queueing, timeouts, disconnects and
//!   reconnects, failing what waits;
//! * `inbound`: responses (turned into typed replies) and pushes (turned into SDK events);
//! * `outbox_flow`: writing outbox events and checking, after a reconnect, which arrived;
//! * `history_flow`: the steps of history pages.

mod commands;
mod connection;
mod history_flow;
mod inbound;
mod outbox_flow;

use std::collections::{BTreeMap, VecDeque};
use web_time::Instant;

use chatio_wire as wire;
use chatio_wire::{ChatId, DisconnectReason, Limits, RequestId, ServerFrame, UserId};

use crate::chats::Chats;
use crate::config::Config;
use crate::error::{Error, ProtocolError};
use crate::history::History;
use crate::history_cache::HistoryCache;
use crate::outbox::Outbox;
use crate::output::{Disconnect, DriverAction, HistoryId, Output, Reply, SdkEvent, UploadRequest};
use crate::pending::{PendingTable, Purpose};
use crate::rng::Rng;
use crate::sneak::SneakPeeks;
use crate::timer::{Timer, TimerTable};
use crate::token::AccessToken;

/// How long before its expiry a token is refreshed (at most half its lifetime).
pub const REFRESH_AHEAD: std::time::Duration = std::time::Duration::from_secs(3600);

/// The frame that keeps the connection alive (protocol file, 2.7); its response is ignored.
pub(crate) const PING_FRAME: &str = r#"{"action":"ping"}"#;

/// Where the connection is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Conn {
    /// The driver was asked to connect.
    Connecting,
    /// The socket is open; the login sequence runs or has finished.
    Open(Phase),
    /// Waiting for the reconnect timer.
    Backoff,
    /// Disconnected by the user; `connect` starts again.
    Idle,
    /// Ended by the server for good.
    Stopped(DisconnectReason),
    /// Destroyed by the user.
    Destroyed,
}

/// The connect sequence on an open socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Waiting for a token to log in with.
    AwaitingToken,
    /// `login` sent.
    LoggingIn,
    /// `get_chats_summary` sent.
    Summary,
    /// Logged in: requests flow.
    Ready,
}

/// A chat.io customer session, without I/O.
///
/// The session is the whole client-side behaviour of the Customer API v0.5: the connect
/// sequence, request correlation and timeouts, pings, reconnects with backoff, the outbox that
/// keeps `send_event`s across reconnects, sneak-peek throttling, history cursors, and the
/// mapping of pushes to SDK events. It never touches a socket or a clock, spawns nothing and
/// draws randomness only from [`Config::rng_seed`]: the driver feeds it what happens and does
/// what it asks.
///
/// # Method kinds
///
/// * **Inputs** (`handle_*`) tell the session what happened:
///   [`handle_connected`](Self::handle_connected) (the socket it asked for opened),
///   [`handle_frame`](Self::handle_frame) (a text frame arrived),
///   [`handle_disconnected`](Self::handle_disconnected) (the socket closed or could not open),
///   [`handle_timeout`](Self::handle_timeout) (the deadline of
///   [`poll_timeout`](Self::poll_timeout) passed), [`handle_token`](Self::handle_token) and
///   [`handle_token_error`](Self::handle_token_error) (the answer to
///   [`DriverAction::FetchToken`]), [`handle_upload_result`](Self::handle_upload_result) (the
///   end of a [`DriverAction::Upload`]).
/// * **Commands**, one per SDK method ([`start_chat`](Self::start_chat),
///   [`send_message`](Self::send_message), [`history_next`](Self::history_next), ...), check
///   their arguments first ([`Error::InvalidArgs`]), then whether the session takes commands
///   ([`Error::Closed`] after `disconnect`/`destroy`, [`Error::Disconnected`] after a final
///   disconnect) — a refused command leaves no trace — then return a [`RequestId`] at once;
///   the outcome arrives later as [`Output::Completed`] with that id, **exactly once**.
///   Commands are taken while connecting or reconnecting: they are written after the login. [`set_sneak_peek`](Self::set_sneak_peek) has no outcome. Lifecycle
///   commands: [`connect`](Self::connect), [`disconnect`](Self::disconnect),
///   [`destroy`](Self::destroy), [`cancel`](Self::cancel).
/// * **Outputs** (`poll_*`, all `#[must_use]`) say what to do:
///   [`poll_transmit`](Self::poll_transmit) (text frames to write, in order),
///   [`poll_action`](Self::poll_action) (token, connect, close, upload),
///   [`poll_event`](Self::poll_event) (SDK events and request outcomes, in order),
///   [`poll_timeout`](Self::poll_timeout) (when to call `handle_timeout`).
/// * **Getters**: [`is_ready`](Self::is_ready), [`customer_id`](Self::customer_id),
///   [`token`](Self::token), [`pending_count`](Self::pending_count), ...
///
/// # Poll order
///
/// After **every** input or command, drain the outputs in this order:
///
/// 0. with a store attached ([`restore`](Self::restore)), `poll_change` until `None`, writing
///    the changes to the store **before** the frames (an outbox event is then stored before it
///    can reach the server);
/// 1. `poll_transmit` until `None`, writing each frame to the socket (frames are only
///    produced while the socket is open; drop them if it closed meanwhile: the session
///    re-sends what matters itself);
/// 2. `poll_action` until `None`, starting each action (their results come back later as
///    inputs);
/// 3. `poll_event` until `None`, handing events and outcomes to the user;
/// 4. `poll_timeout`, and arm one timer for it (replacing the previous one). When it fires,
///    call `handle_timeout` with the current time, then drain again.
///
/// Frames before actions matters once: a `Close` action follows the frames that were due
/// before it. Draining events last lets a user react to an outcome with a new command
/// without reordering anything.
///
/// # Time
///
/// Every input takes `now`, the driver's monotonic clock. The session never compares it with
/// anything but the instants it was given; an input with an earlier `now` than the previous
/// one is treated as happening at the same time. Wire timestamps (seconds) become
/// [`SystemTime`](std::time::SystemTime)s once, when a frame is read.
///
/// # Secrets
///
/// The `Debug` output shows the session's state, never the token nor the frames waiting to
/// be written (the `login` frame carries the token).
pub struct Session {
    config: Config,
    rng: Rng,
    conn: Conn,
    token: Option<AccessToken>,
    /// When the current token expires (from its `expires_in`).
    token_expiry: Option<Instant>,
    /// A `FetchToken` is out.
    token_requested: bool,
    /// The fresh token of the one authentication retry has been asked for this connection.
    fresh_token_used: bool,
    /// Login failures in a row.
    login_failures: u32,
    /// The last connection ended with a failed login: reconnect with the login backoff.
    login_failed: bool,
    /// Reconnect attempts since the last successful login.
    reconnect_attempt: u32,
    /// The server said `too_many_connections`: reconnect only with the maximum delay (G9).
    too_many: bool,
    /// The connection is ending because a frame from the server was too large to read.
    oversize: bool,
    /// When the last frame arrived on the open socket (health).
    last_rx: Instant,
    /// `ConnectionUnstable` was emitted and nothing arrived since.
    unstable: bool,
    customer_id: Option<UserId>,
    /// Logged in at least once: the next login is a `ConnectionRestored`.
    ever_ready: bool,
    pending: PendingTable,
    outbox: Outbox,
    /// The bounds of the store's history cache (off until a store is attached).
    cache: HistoryCache,
    histories: BTreeMap<HistoryId, History>,
    next_history: u64,
    chats: Chats,
    sneak: SneakPeeks,
    /// Uploads waiting for a token.
    uploads_waiting: Vec<UploadRequest>,
    timers: TimerTable,
    transmit: VecDeque<String>,
    outputs: VecDeque<Output>,
    actions: VecDeque<DriverAction>,
    last_now: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("license_id", &self.config.license_id)
            .field("conn", &self.conn)
            .field("customer_id", &self.customer_id)
            .field("token", &self.token)
            .field("pending", &self.pending_count())
            .field("outbox", &self.outbox.len())
            .field("histories", &self.histories.len())
            .field("transmit", &self.transmit.len())
            .field("actions", &self.actions.len())
            .field("outputs", &self.outputs.len())
            .field("next_timeout", &self.timers.next())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session that starts connecting at once: its first actions are
    /// [`DriverAction::FetchToken`] and [`DriverAction::Connect`] (in that order; the driver may
    /// run both at the same time).
    pub fn new(config: Config, now: Instant) -> Self {
        let rng = Rng::new(config.rng_seed);
        let sneak = SneakPeeks::new(config.sneak_peek_interval);
        let mut s = Self {
            config,
            rng,
            conn: Conn::Connecting,
            token: None,
            token_expiry: None,
            token_requested: false,
            fresh_token_used: false,
            login_failures: 0,
            login_failed: false,
            reconnect_attempt: 0,
            too_many: false,
            oversize: false,
            last_rx: now,
            unstable: false,
            customer_id: None,
            ever_ready: false,
            pending: PendingTable::default(),
            outbox: Outbox::default(),
            cache: HistoryCache::default(),
            histories: BTreeMap::new(),
            next_history: 0,
            chats: Chats::default(),
            sneak,
            uploads_waiting: Vec::new(),
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

    /// A store is attached: from now on the session reports what to keep in it
    /// ([`poll_change`](Self::poll_change)), and `state` is what it kept from an earlier
    /// session (call this before any command): a kept chats summary is emitted at once as
    /// [`SdkEvent::CachedChats`] (the first screen before the connection), then each cached
    /// chat's latest events as [`SdkEvent::CachedHistory`] (the chat updated last, last); its outbox events join the outbox, before any new one, as *unconfirmed* — after the
    /// login each chat's threads are checked for them by `custom_id`, and only those not found
    /// are sent. They have no caller waiting: their outcome is not reported (their ids are
    /// unknown to everyone). See [`StoreChange`](crate::StoreChange).
    pub fn restore(&mut self, state: crate::persist::StoredState, now: Instant) {
        self.tick(now);
        self.outbox.set_persist(true);
        if let Some(s) = state.chats_summary {
            // The first screen, before the connection: what the last login listed. The
            // server's answer follows as `Connected` (it wins).
            let total_chats = s.total_chats;
            let chats_summary = s.chats_summary.into_iter().map(crate::model::ChatSummary::from_wire).collect();
            self.emit(SdkEvent::CachedChats { chats_summary, total_chats });
        }
        let mut bounded = Vec::new();
        self.cache =
            HistoryCache::restore(self.config.cached_events, self.config.cached_chats, &state.history, &mut bounded);
        for change in bounded {
            self.outbox.log(change);
        }
        if self.cache.is_on() {
            let keep = usize::try_from(self.config.cached_events).unwrap_or(usize::MAX);
            let first = state.history.len().saturating_sub(self.config.cached_chats);
            for c in state.history.into_iter().skip(first) {
                let mut events: Vec<crate::model::Event> = c
                    .events
                    .into_iter()
                    .map(|e| crate::model::Event::from_wire(e.event, &c.chat, e.thread.as_ref()))
                    .collect();
                crate::order::sort_by_u64(&mut events, |e| e.order);
                let events = events.split_off(events.len().saturating_sub(keep));
                if !events.is_empty() {
                    self.emit(SdkEvent::CachedHistory { chat: c.chat, events });
                }
            }
        }
        for e in state.outbox {
            if e.event.custom_id.is_none() || self.outbox.has_custom_id(e.key()) {
                continue; // never stored by a session; or twice in the store
            }
            let id = self.new_id();
            self.outbox.restore(id, e.chat, e.event);
        }
        if self.is_ready() {
            self.start_verification(now);
            self.flush_outbox(now);
        }
        self.rearm();
    }

    /// The token provider learnt a new refresh token for the customer: with a store attached
    /// it is kept ([`StoreChange::RefreshToken`](crate::StoreChange::RefreshToken)), so the
    /// next start resumes this customer.
    pub fn handle_refresh_token(&mut self, token: wire::Token, now: Instant) {
        self.tick(now);
        self.outbox.log(crate::persist::StoreChange::RefreshToken(token));
    }

    /// Ends the session as [`destroy`](Self::destroy) does, and wipes the store (outbox and
    /// identity: [`StoreChange::Forget`](crate::StoreChange::Forget)): the next session on
    /// it is a new customer with nothing waiting.
    pub fn forget(&mut self, now: Instant) {
        self.destroy(now);
        self.cache.clear();
        self.outbox.log(crate::persist::StoreChange::Forget);
    }

    /// The server's copy of an event of `chat`: into the history cache, if a store keeps one.
    pub(super) fn cache_event(&mut self, chat: &wire::ChatId, thread: Option<&wire::ThreadId>, event: &wire::Event) {
        if self.cache.is_on() {
            let mut changes = Vec::new();
            self.cache.note(chat, thread, event, &mut changes);
            for c in changes {
                self.outbox.log(c);
            }
        }
    }

    /// The store failed (or cannot be used): the session stops logging changes for it and
    /// goes on in memory; the application hears of it as [`SdkEvent::StoreUnavailable`].
    pub fn handle_store_failed(&mut self, error: crate::error::TransportError, now: Instant) {
        self.tick(now);
        self.outbox.set_persist(false);
        self.cache = HistoryCache::default();
        self.emit(SdkEvent::StoreUnavailable(error));
    }

    // ------------------------------------------------------------------ getters

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The customer id, once known (from the token's `entity_id`, or the login response).
    pub fn customer_id(&self) -> Option<&UserId> {
        self.customer_id.as_ref()
    }

    /// Where the connection is, for users (`is_connected`, status displays).
    pub fn status(&self) -> ConnectionStatus {
        match &self.conn {
            Conn::Connecting => ConnectionStatus::Connecting,
            Conn::Open(Phase::Ready) => ConnectionStatus::Connected,
            Conn::Open(_) => ConnectionStatus::LoggingIn,
            Conn::Backoff => ConnectionStatus::Reconnecting,
            Conn::Idle => ConnectionStatus::Disconnected,
            Conn::Stopped(r) => ConnectionStatus::Stopped(r.clone()),
            Conn::Destroyed => ConnectionStatus::Destroyed,
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

    /// Why the server stopped the session, if it did.
    pub fn stopped_reason(&self) -> Option<&DisconnectReason> {
        match &self.conn {
            Conn::Stopped(r) => Some(r),
            _ => None,
        }
    }

    /// The current access token, if any (the driver needs it for Web API calls).
    pub fn token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// Commands whose outcome has not been handed out yet (requests, outbox events, uploads,
    /// history calls).
    pub fn pending_count(&self) -> usize {
        self.pending.users_count() + self.outbox.len() + self.histories.values().map(|h| h.queue.len()).sum::<usize>()
    }

    /// Events in the outbox: accepted by `send_event`, outcome not known yet (restored ones
    /// included).
    pub fn outbox_len(&self) -> usize {
        self.outbox.len()
    }

    /// The users the session knows are in a chat.
    pub fn chat_users(&self, chat: &ChatId) -> Vec<UserId> {
        self.chats.users(chat).cloned().collect()
    }

    /// Whether the chat's last thread is active, as far as the session knows (`None`: it does
    /// not know, e.g. a chat only seen in a chats summary).
    pub fn chat_is_active(&self, chat: &ChatId) -> Option<bool> {
        self.chats.is_active(chat)
    }

    // ------------------------------------------------------------------ outputs

    /// The next text frame to write to the socket.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next thing the driver must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<DriverAction> {
        self.actions.pop_front()
    }

    /// The next change for the store (once [`restore`](Self::restore) attached one), to be
    /// written before the frames
    /// of the same step: drain it first, before [`poll_transmit`](Self::poll_transmit).
    #[must_use]
    pub fn poll_change(&mut self) -> Option<crate::persist::StoreChange> {
        self.outbox.poll_change()
    }

    /// The next SDK event or command outcome.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next: the earliest of the
    /// ping, request deadlines, reconnect backoff, sneak-peek throttle and token retry.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ------------------------------------------------------------------ inputs

    /// The websocket the session asked for ([`DriverAction::Connect`]) is open.
    pub fn handle_connected(&mut self, now: Instant) {
        let now = self.tick(now);
        match self.conn {
            Conn::Connecting => {}
            // Not asked for (any more): close what just opened.
            Conn::Idle | Conn::Destroyed | Conn::Stopped(_) | Conn::Backoff => {
                self.actions.push_back(DriverAction::Close);
                return;
            }
            Conn::Open(_) => return,
        }
        self.timers.set(Timer::Ping, crate::timer::later(now, self.config.ping_interval));
        self.conn = Conn::Open(Phase::AwaitingToken);
        self.oversize = false;
        if self.token_usable(now) {
            self.send_login(now);
        } else if !self.token_requested && self.timers.get(Timer::TokenRetry).is_none() {
            let fresh = self.token.is_some() || self.login_failed;
            self.token = None;
            self.request_token(fresh);
        }
        self.rearm();
    }

    /// A text frame arrived. Anything that does not decode, answers nothing the session waits
    /// for or is not understood is reported as an event (never a panic); frames arriving
    /// while the session has no open socket are ignored. A frame longer than
    /// [`Config::max_frame_len`] is not parsed: its answer cannot be matched to its request,
    /// so the session also asks the driver to close the connection (requests in flight then
    /// fail or are kept, as on any drop), as when the driver refuses such a frame itself
    /// ([`Disconnect::FrameTooLarge`]).
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
                self.emit(SdkEvent::Error(Error::Protocol(ProtocolError::undecodable(e, text))));
                self.oversize = true;
                self.actions.push_back(DriverAction::Close);
            }
            Err(e) => self.on_undecodable(e, text, now),
        }
        self.rearm();
    }

    /// A binary frame arrived: the protocol uses text frames only (2.1); it is reported as a
    /// protocol error event, like any frame that does not decode.
    pub fn handle_binary_frame(&mut self, len: usize, now: Instant) {
        let now = self.tick(now);
        if matches!(self.conn, Conn::Open(_)) {
            self.heard(now);
            self.emit(SdkEvent::Error(Error::Protocol(ProtocolError::binary_frame(len))));
        }
    }

    /// The websocket closed, or could not be opened. A close with code 4000 and a final
    /// reason (`customer_banned`, `license_not_found`, `unsupported_version`) stops the
    /// session like the `customer_disconnected` push that precedes it.
    pub fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        let now = self.tick(now);
        let was_open = matches!(self.conn, Conn::Open(_));
        self.timers.stop(Timer::Ping);
        self.timers.stop(Timer::Health);
        self.unstable = false;
        self.sneak.clear();
        let close_reason = match &how {
            Disconnect::Closed { code: Some(4000), reason } => Some(DisconnectReason::parse(reason)),
            _ => None,
        };
        if close_reason == Some(DisconnectReason::TooManyConnections) {
            self.too_many = true;
        }
        if let Disconnect::FrameTooLarge { message } = &how {
            if was_open {
                let e = ProtocolError::of(crate::error::ProtocolErrorKind::TooLarge, message.clone());
                self.emit(SdkEvent::Error(Error::Protocol(e)));
            }
            self.oversize = true;
        }
        if let (Disconnect::Failed(t), Conn::Connecting) = (&how, &self.conn) {
            // A connection attempt failed: nothing else tells the user why.
            self.emit(SdkEvent::Error(Error::Transport(t.clone())));
        }
        let final_reason = match &self.conn {
            Conn::Stopped(r) => Some(r.clone()),
            _ => close_reason.filter(DisconnectReason::is_final),
        };
        if was_open {
            self.emit(SdkEvent::ConnectionLost);
        }
        match (&self.conn, final_reason) {
            (Conn::Idle | Conn::Destroyed, _) => self.fail_all(&Error::Closed),
            (_, Some(reason)) => self.stop(reason, false),
            (Conn::Backoff, None) => {}
            (_, None) => {
                let oversize = std::mem::take(&mut self.oversize);
                self.connection_lost(oversize);
                self.schedule_reconnect(now);
            }
        }
        self.rearm();
    }

    /// Deadlines passed: call when [`poll_timeout`](Self::poll_timeout) is reached (calling
    /// early does no harm).
    pub fn handle_timeout(&mut self, now: Instant) {
        let now = self.tick(now);
        if self.timers.expired(Timer::Reconnect, now) {
            self.timers.stop(Timer::Reconnect);
            if self.conn == Conn::Backoff {
                self.start_connecting(now);
            }
        }
        if self.timers.expired(Timer::TokenRetry, now) {
            self.timers.stop(Timer::TokenRetry);
            if !self.token_requested && !self.is_closed() && self.conn != Conn::Idle {
                self.request_token(true);
            }
        }
        if self.timers.expired(Timer::TokenRefresh, now) {
            self.timers.stop(Timer::TokenRefresh);
            if !self.token_requested && !self.is_closed() && self.conn != Conn::Idle {
                self.request_token(true);
            }
        }
        if self.timers.expired(Timer::Ping, now) {
            match self.conn {
                Conn::Open(phase) => {
                    // `login` must be the first request (2.9): no ping before it succeeded.
                    if matches!(phase, Phase::Summary | Phase::Ready) {
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
        if self.timers.expired(Timer::SneakPeek, now) {
            self.flush_sneak_peeks(now);
        }
        self.rearm();
    }

    /// A token arrived, as asked by [`DriverAction::FetchToken`]. Its `customer_id`
    /// (`entity_id`) is announced with [`SdkEvent::CustomerId`]; with an `expires_in` the
    /// session asks for a fresh one ([`DriverAction::FetchToken`] `{ fresh: true }`) when
    /// [`REFRESH_AHEAD`] (an hour, or half the lifetime if shorter) remains, as SDK 4.x does,
    /// and in any case before logging in with an expired one.
    pub fn handle_token(&mut self, token: AccessToken, now: Instant) {
        let now = self.tick(now);
        self.token_requested = false;
        self.timers.stop(Timer::TokenRetry);
        if let Some(id) = &token.customer_id {
            self.learn_customer_id(id.clone());
        }
        // An `expires_in` too large to add (from the accounts service: network input) means
        // no known expiry rather than a panic.
        self.token_expiry = token.expires_in.and_then(|d| now.checked_add(d));
        // Refresh ahead of the expiry, as SDK 4.x does: when less than an hour remains (half
        // the lifetime for tokens shorter than two hours).
        let refresh = token.expires_in.and_then(|d| now.checked_add(d.saturating_sub(REFRESH_AHEAD.min(d / 2))));
        self.timers.set_opt(Timer::TokenRefresh, refresh);
        for mut u in std::mem::take(&mut self.uploads_waiting) {
            u.access_token = token.secret().to_owned();
            self.actions.push_back(DriverAction::Upload(u));
        }
        self.token = Some(token);
        if self.conn == Conn::Open(Phase::AwaitingToken) {
            self.send_login(now);
        }
        self.rearm();
    }

    /// No token could be had: reported as [`SdkEvent::Error`] with `err` — the driver says
    /// whether the provider refused ([`Error::Authentication`]) or could not be reached
    /// ([`Error::Transport`] with [`Operation::FetchToken`](crate::Operation::FetchToken),
    /// transient for a timeout or a 5xx); uploads waiting for a token fail with it; the
    /// session asks again after the login backoff.
    pub fn handle_token_error(&mut self, err: Error, now: Instant) {
        let now = self.tick(now);
        self.token_requested = false;
        self.emit(SdkEvent::Error(err.clone()));
        for u in std::mem::take(&mut self.uploads_waiting) {
            if self.pending.remove(&u.id).is_some() {
                self.complete(u.id, Err(err.clone()));
            }
        }
        if !self.is_closed() && self.conn != Conn::Idle {
            let delay = self.config.login_backoff.delay(self.login_failures, self.rng.next_f64());
            self.login_failures = self.login_failures.saturating_add(1);
            self.timers.set(Timer::TokenRetry, crate::timer::later(now, delay));
        }
        self.rearm();
    }

    /// An upload asked by [`DriverAction::Upload`] finished. Results for unknown or cancelled
    /// uploads are ignored.
    pub fn handle_upload_result(
        &mut self,
        id: &RequestId,
        result: Result<wire::SendFileResponse, UploadFailure>,
        now: Instant,
    ) {
        self.tick(now);
        if !self.pending.get(id).is_some_and(|p| p.purpose == Purpose::Upload) {
            return;
        }
        self.pending.remove(id);
        let result = match result {
            Ok(r) => Ok(Reply::File { url: r.url }),
            Err(UploadFailure::Server(e)) => Err(Error::from_server(e)),
            Err(UploadFailure::Transport(t)) => Err(Error::Transport(t)),
        };
        self.complete(id.clone(), result);
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
            self.too_many = false;
            self.start_connecting(now);
        }
        self.rearm();
    }

    /// Closes the connection and stays disconnected until [`connect`](Self::connect). Every
    /// unfinished command (outbox events included) fails with [`Error::Closed`]; commands
    /// made while disconnected fail the same way. An open connection ends with
    /// [`SdkEvent::ConnectionLost`], as the JS SDK emits `connection_lost` on `disconnect()`
    /// (not on [`destroy`](Self::destroy)).
    pub fn disconnect(&mut self, now: Instant) {
        self.tick(now);
        if self.conn == Conn::Destroyed {
            return;
        }
        self.disconnect_inner(true);
    }

    fn disconnect_inner(&mut self, announce: bool) {
        if announce && matches!(self.conn, Conn::Open(_)) {
            self.emit(SdkEvent::ConnectionLost);
        }
        if matches!(self.conn, Conn::Open(_) | Conn::Connecting) {
            self.actions.push_back(DriverAction::Close);
        }
        self.conn = Conn::Idle;
        self.sneak.clear();
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
        self.histories.clear();
    }

    /// Cancels a command: an upload stops ([`DriverAction::CancelUpload`]), a request or an
    /// outbox event stops being waited for, a queued history call is dropped. Its outcome is
    /// [`Error::Cancelled`], at once. A request already written may still take effect on the
    /// server; a history call whose page is loading cannot be cancelled. Returns whether the
    /// command was cancelled.
    pub fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        self.tick(now);
        let cancelled = self.cancel_inner(id);
        self.rearm();
        cancelled
    }

    fn cancel_inner(&mut self, id: &RequestId) -> bool {
        let users = self.pending.get(id).map(|p| p.purpose.clone());
        match users {
            Some(Purpose::Upload) => {
                self.pending.remove(id);
                self.uploads_waiting.retain(|u| &u.id != id);
                self.actions.push_back(DriverAction::CancelUpload { id: id.clone() });
                self.complete(id.clone(), Err(Error::Cancelled));
                return true;
            }
            Some(Purpose::User) => {
                self.pending.remove(id);
                self.complete(id.clone(), Err(Error::Cancelled));
                return true;
            }
            Some(Purpose::Outbox) => {
                self.pending.remove(id);
            }
            _ => {}
        }
        if self.outbox.remove(id).is_some() {
            self.complete(id.clone(), Err(Error::Cancelled));
            return true;
        }
        for h in self.histories.values_mut() {
            if let Some(pos) = h.queue.iter().position(|q| q == id) {
                if pos > 0 || h.running.is_none() {
                    h.queue.remove(pos);
                    self.pending.remember(id.clone());
                    self.outputs.push_back(Output::Completed { id: id.clone(), result: Err(Error::Cancelled) });
                    return true;
                }
                return false;
            }
        }
        false
    }
}

/// Where a session's connection is ([`Session::status`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectionStatus {
    /// Opening the socket (first time or again).
    Connecting,
    /// The socket is open; logging in (token, `login`, chats summary).
    LoggingIn,
    /// Logged in: requests flow.
    Connected,
    /// Waiting to reconnect after a drop.
    Reconnecting,
    /// Disconnected by the user (`disconnect`); `connect` starts again.
    Disconnected,
    /// Ended by the server for good.
    Stopped(DisconnectReason),
    /// Destroyed by the user.
    Destroyed,
}

/// Why an upload failed, as the driver reports it to
/// [`Session::handle_upload_result`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum UploadFailure {
    /// The server refused it with an error object (becomes [`Error::Server`] or
    /// [`Error::Authentication`]).
    Server(wire::ErrorObject),
    /// The transport failed: connection, file, timeout (becomes [`Error::Transport`]).
    Transport(crate::error::TransportError),
}
