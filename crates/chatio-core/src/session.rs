//! The session state machine.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::time::{Instant, SystemTime};

use chatio_wire as wire;
use chatio_wire::{
    Action, ChatId, ClientFrame, DisconnectReason, ErrorType, EventId, EventKind, GetChatThreads,
    GetChatThreadsSummary, GetChatsSummary, Login, NewEvent, Postback, Properties, Push, PushFrame, Request, RequestId,
    ResponseData, Scopes, SendEvent, SendFile, ServerFrame, StartChat, ThreadId, Timestamp, UserId,
};

use crate::chats::Chats;
use crate::config::{Config, OutboxPolicy};
use crate::history::{self, History, Step};
use crate::model::{Chat, ChatSummary, Event, Thread, ThreadSummary, User};
use crate::outbox::Outbox;
use crate::output::{Disconnect, DriverAction, FileSpec, HistoryId, Output, Rating, Reply, SdkEvent, UploadRequest};
use crate::rng::Rng;
use crate::timer::{Timer, TimerTable};
use crate::{AccessToken, Error};

/// Longest `text` and `sneak_peek_text` (G23).
pub const MAX_TEXT_LEN: usize = 16_384;
/// Longest `custom_id` and ids, in bytes (G23).
pub const MAX_ID_LEN: usize = 256;
/// How many completed request ids are remembered to recognise the requester's push copies.
const RECENT: usize = 256;

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

#[derive(Clone, Debug, PartialEq, Eq)]
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

/// Why a request is pending, which says what its response does.
#[derive(Clone, Debug)]
enum Purpose {
    /// A user command; its response completes it.
    User,
    /// An outbox `send_event`.
    Outbox,
    /// The connect sequence.
    Login,
    Summary,
    /// Outbox verification of a chat.
    VerifySummary(ChatId),
    VerifyThreads(ChatId),
    /// A step of a history page.
    History(HistoryId),
    /// A file upload through the driver.
    Upload,
}

#[derive(Clone, Debug)]
struct Pending {
    purpose: Purpose,
    action: Action,
    /// The chat the request is about (responses do not always name it).
    chat: Option<ChatId>,
    /// The frame, until it is written.
    frame: Option<String>,
    /// When it fails with `Timeout`.
    deadline: Option<Instant>,
    /// Issue order, to fail requests in order.
    seq: u64,
}

/// A chat.io customer session, without I/O.
///
/// The session is the whole client-side behaviour of the Customer API v0.5: login sequence,
/// request correlation and timeouts, pings, reconnects with backoff, the outbox that keeps
/// `send_event`s across reconnects, sneak-peek throttling, history cursors, and the mapping of
/// pushes to SDK events. It never touches a socket or a clock: the driver feeds it what
/// happens and does what it asks.
///
/// # Method kinds
///
/// * **Inputs** (`handle_*`): tell the session what happened — the socket opened
///   ([`handle_connected`](Self::handle_connected)), a text frame arrived
///   ([`handle_frame`](Self::handle_frame)), the socket closed
///   ([`handle_disconnected`](Self::handle_disconnected)), a deadline passed
///   ([`handle_timeout`](Self::handle_timeout)), a token arrived or could not be had
///   ([`handle_token`](Self::handle_token), [`handle_token_error`](Self::handle_token_error)),
///   an upload finished ([`handle_upload_result`](Self::handle_upload_result)).
/// * **Commands** (one per SDK method, e.g. [`send_message`](Self::send_message)): validate
///   their arguments, queue the work and return a [`RequestId`] at once; the outcome comes
///   later as [`Output::Completed`] with that id, exactly once.
/// * **Outputs** (`poll_*`): after every input or command, drain
///   [`poll_transmit`](Self::poll_transmit) (frames to write, in order),
///   [`poll_action`](Self::poll_action) (what the driver must do),
///   [`poll_event`](Self::poll_event) (events and outcomes), then read
///   [`poll_timeout`](Self::poll_timeout) and call `handle_timeout` when it passes.
///
/// Every input takes `now`; the session reads no clock and draws randomness only from
/// [`Config::rng_seed`].
#[derive(Debug)]
pub struct Session {
    config: Config,
    rng: Rng,
    conn: Conn,
    token: Option<AccessToken>,
    token_requested: bool,
    fresh_token_used: bool,
    login_failures: u32,
    login_failed: bool,
    reconnect_attempt: u32,
    customer_id: Option<UserId>,
    ever_ready: bool,
    pending: BTreeMap<RequestId, Pending>,
    /// Unsent requests, in order, written once logged in.
    queue: VecDeque<RequestId>,
    recent: VecDeque<RequestId>,
    recent_set: HashSet<RequestId>,
    outbox: Outbox,
    histories: BTreeMap<HistoryId, History>,
    next_history: u64,
    chats: Chats,
    sneak: BTreeMap<ChatId, Peek>,
    /// Uploads waiting for a token.
    uploads_waiting: Vec<UploadRequest>,
    timers: TimerTable,
    transmit: VecDeque<String>,
    outputs: VecDeque<Output>,
    actions: VecDeque<DriverAction>,
    seq: u64,
    last_now: Instant,
}

#[derive(Clone, Debug, Default)]
struct Peek {
    last_sent: Option<Instant>,
    pending: Option<String>,
}

impl Session {
    /// A session that starts connecting at once: the first actions are
    /// [`DriverAction::FetchToken`] and [`DriverAction::Connect`].
    pub fn new(config: Config, now: Instant) -> Self {
        let rng = Rng::new(config.rng_seed);
        let mut s = Self {
            config,
            rng,
            conn: Conn::Connecting,
            token: None,
            token_requested: false,
            fresh_token_used: false,
            login_failures: 0,
            login_failed: false,
            reconnect_attempt: 0,
            customer_id: None,
            ever_ready: false,
            pending: BTreeMap::new(),
            queue: VecDeque::new(),
            recent: VecDeque::new(),
            recent_set: HashSet::new(),
            outbox: Outbox::default(),
            histories: BTreeMap::new(),
            next_history: 0,
            chats: Chats::default(),
            sneak: BTreeMap::new(),
            uploads_waiting: Vec::new(),
            timers: TimerTable::default(),
            transmit: VecDeque::new(),
            outputs: VecDeque::new(),
            actions: VecDeque::new(),
            seq: 0,
            last_now: now,
        };
        s.request_token(false);
        s.actions.push_back(DriverAction::Connect);
        s
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The customer id, once known (from the token or the login response).
    pub fn customer_id(&self) -> Option<&UserId> {
        self.customer_id.as_ref()
    }

    /// Whether the session is logged in and requests flow.
    pub fn is_ready(&self) -> bool {
        self.conn == Conn::Open(Phase::Ready)
    }

    /// Whether the session has ended (destroyed, or stopped by the server).
    pub fn is_closed(&self) -> bool {
        matches!(self.conn, Conn::Destroyed | Conn::Stopped(_))
    }

    /// The current access token, if any (the driver needs it for Web API calls).
    pub fn token(&self) -> Option<&AccessToken> {
        self.token.as_ref()
    }

    /// Requests and outbox events not finished yet.
    pub fn pending_count(&self) -> usize {
        self.pending.values().filter(|p| matches!(p.purpose, Purpose::User | Purpose::Upload)).count()
            + self.outbox.len()
            + self.histories.values().map(|h| h.queue.len()).sum::<usize>()
    }

    // ------------------------------------------------------------------ outputs

    /// The next text frame to write to the socket.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<String> {
        self.transmit.pop_front()
    }

    /// The next SDK event or command outcome.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Output> {
        self.outputs.pop_front()
    }

    /// The next thing the driver must do.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<DriverAction> {
        self.actions.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) must be called next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    // ------------------------------------------------------------------ inputs

    /// The websocket the session asked for is open.
    pub fn handle_connected(&mut self, now: Instant) {
        self.tick(now);
        match self.conn {
            Conn::Connecting => {}
            // Disconnected or destroyed meanwhile: close what just opened.
            Conn::Idle | Conn::Destroyed | Conn::Stopped(_) => {
                self.actions.push_back(DriverAction::Close);
                return;
            }
            _ => return,
        }
        self.timers.set(Timer::Ping, now + self.config.ping_interval);
        if self.token.is_some() {
            self.send_login(now);
        } else {
            self.conn = Conn::Open(Phase::AwaitingToken);
            if !self.token_requested {
                self.request_token(false);
            }
        }
    }

    /// A text frame arrived.
    pub fn handle_frame(&mut self, text: &str, now: Instant) {
        self.tick(now);
        match ServerFrame::decode(text) {
            Ok(ServerFrame::Response(r)) => self.on_response(r, now),
            Ok(ServerFrame::Push(p)) => self.on_push(p, now),
            Ok(_) => {}
            Err(e) => {
                let message = e.to_string();
                // A response we cannot read still answers its request: fail it rather than
                // let it run into its timeout.
                if let Some(id) = e.request_id() {
                    if let Some(p) = self.pending.remove(id) {
                        self.fail_pending(id.clone(), p, Error::Protocol { message: message.clone() }, now);
                        return;
                    }
                }
                self.emit(SdkEvent::Error(Error::Protocol { message }));
            }
        }
    }

    /// The websocket closed, or could not be opened.
    pub fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        self.tick(now);
        let was_open = matches!(self.conn, Conn::Open(_));
        self.timers.stop(Timer::Ping);
        self.timers.stop(Timer::SneakPeek);
        for p in self.sneak.values_mut() {
            p.pending = None;
        }
        let final_reason = match (&self.conn, &how) {
            (Conn::Stopped(r), _) => Some(r.clone()),
            (_, Disconnect::Closed { code: Some(4000), reason }) => {
                let r = DisconnectReason::parse(reason);
                is_final(&r).then_some(r)
            }
            _ => None,
        };
        if was_open {
            self.emit(SdkEvent::ConnectionLost);
        }
        match (&self.conn, final_reason) {
            (Conn::Idle | Conn::Destroyed, _) => {
                let err = Error::Closed;
                self.fail_all(err, now);
            }
            (_, Some(reason)) => {
                if !matches!(self.conn, Conn::Stopped(_)) {
                    self.emit(SdkEvent::Disconnected { reason: reason.clone() });
                }
                self.conn = Conn::Stopped(reason.clone());
                self.fail_all(Error::Disconnected { reason }, now);
                self.timers = TimerTable::default();
            }
            (Conn::Backoff, None) => {}
            (_, None) => {
                self.connection_lost(now);
                self.schedule_reconnect(now);
            }
        }
    }

    /// Deadlines passed: call when [`poll_timeout`](Self::poll_timeout) is reached.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.tick(now);
        if self.timers.expired(Timer::Reconnect, now) {
            self.timers.stop(Timer::Reconnect);
            if self.conn == Conn::Backoff {
                self.conn = Conn::Connecting;
                if self.login_failed && !self.token_requested {
                    self.request_token(true);
                }
                self.actions.push_back(DriverAction::Connect);
            }
        }
        if self.timers.expired(Timer::TokenRetry, now) {
            self.timers.stop(Timer::TokenRetry);
            if !self.token_requested && !self.is_closed() {
                self.request_token(true);
            }
        }
        if self.timers.expired(Timer::Ping, now) {
            if matches!(self.conn, Conn::Open(_)) {
                self.transmit.push_back(r#"{"action":"ping"}"#.to_owned());
                self.timers.set(Timer::Ping, now + self.config.ping_interval);
            } else {
                self.timers.stop(Timer::Ping);
            }
        }
        if self.timers.expired(Timer::Requests, now) {
            self.expire_requests(now);
        }
        if self.timers.expired(Timer::SneakPeek, now) {
            self.flush_sneak_peeks(now);
        }
        self.rearm_requests();
        self.rearm_sneak();
    }

    /// A token arrived, as asked by [`DriverAction::FetchToken`].
    pub fn handle_token(&mut self, token: AccessToken, now: Instant) {
        self.tick(now);
        self.token_requested = false;
        self.timers.stop(Timer::TokenRetry);
        if let Some(id) = &token.customer_id {
            self.learn_customer_id(id.clone());
        }
        self.token = Some(token);
        for mut u in std::mem::take(&mut self.uploads_waiting) {
            if let Some(t) = &self.token {
                u.access_token = t.secret().to_owned();
            }
            self.actions.push_back(DriverAction::Upload(u));
        }
        if self.conn == Conn::Open(Phase::AwaitingToken) {
            self.send_login(now);
        }
    }

    /// No token could be had (the token provider failed).
    pub fn handle_token_error(&mut self, message: impl Into<String>, now: Instant) {
        self.tick(now);
        self.token_requested = false;
        let message = message.into();
        self.emit(SdkEvent::Error(Error::Authentication { message: message.clone() }));
        for u in std::mem::take(&mut self.uploads_waiting) {
            if let Some(p) = self.pending.remove(&u.id) {
                self.fail_pending(u.id, p, Error::Authentication { message: message.clone() }, now);
            }
        }
        if self.is_closed() || self.conn == Conn::Idle {
            return;
        }
        let delay = self.config.login_backoff.delay(self.login_failures, self.rng.next_f64());
        self.login_failures = self.login_failures.saturating_add(1);
        self.timers.set(Timer::TokenRetry, now + delay);
    }

    /// An upload asked by [`DriverAction::Upload`] finished.
    pub fn handle_upload_result(
        &mut self,
        id: &RequestId,
        result: Result<wire::SendFileResponse, UploadFailure>,
        now: Instant,
    ) {
        self.tick(now);
        if self.pending.remove(id).is_none() {
            return; // cancelled or unknown
        }
        let result = match result {
            Ok(r) => Ok(Reply::File { url: r.url }),
            Err(UploadFailure::Server(e)) => Err(Error::from_server(e)),
            Err(UploadFailure::Transport(message)) => Err(Error::Upload { message }),
        };
        self.complete(id.clone(), result);
    }

    // ------------------------------------------------------------------ lifecycle commands

    /// Connects again after [`disconnect`](Self::disconnect), or after the server stopped the
    /// session.
    pub fn connect(&mut self, now: Instant) {
        self.tick(now);
        if matches!(self.conn, Conn::Idle | Conn::Stopped(_)) {
            self.conn = Conn::Connecting;
            self.reconnect_attempt = 0;
            if self.token.is_none() && !self.token_requested {
                self.request_token(false);
            }
            self.actions.push_back(DriverAction::Connect);
        }
    }

    /// Closes the connection and stays disconnected until [`connect`](Self::connect). Every
    /// unfinished command fails with [`Error::Closed`].
    pub fn disconnect(&mut self, now: Instant) {
        self.tick(now);
        if self.conn == Conn::Destroyed {
            return;
        }
        let open = matches!(self.conn, Conn::Open(_) | Conn::Connecting);
        self.conn = Conn::Idle;
        if open {
            self.actions.push_back(DriverAction::Close);
        }
        self.fail_all(Error::Closed, now);
        self.timers = TimerTable::default();
    }

    /// Ends the session: closes the connection and fails every unfinished command with
    /// [`Error::Closed`]; later commands fail the same way.
    pub fn destroy(&mut self, now: Instant) {
        self.disconnect(now);
        self.conn = Conn::Destroyed;
    }

    /// Cancels a command: an upload stops, any other request stops being waited for. Its
    /// outcome is [`Error::Cancelled`]. Returns whether the command was still running.
    pub fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        self.tick(now);
        if let Some(p) = self.pending.remove(id) {
            if matches!(p.purpose, Purpose::Upload) {
                self.uploads_waiting.retain(|u| &u.id != id);
                self.actions.push_back(DriverAction::CancelUpload { id: id.clone() });
            }
            self.queue.retain(|q| q != id);
            self.fail_pending(id.clone(), p, Error::Cancelled, now);
            return true;
        }
        if self.outbox.remove(id).is_some() {
            self.complete(id.clone(), Err(Error::Cancelled));
            return true;
        }
        for h in self.histories.values_mut() {
            if let Some(pos) = h.queue.iter().position(|q| q == id) {
                if pos > 0 || h.running.is_none() {
                    h.queue.remove(pos);
                    self.outputs.push_back(Output::Completed { id: id.clone(), result: Err(Error::Cancelled) });
                    return true;
                }
            }
        }
        false
    }

    // ------------------------------------------------------------------ SDK commands

    /// `start_chat`: a new chat with its first thread (and initial events, properties,
    /// scopes).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for system messages or files among the events, or oversize text;
    /// [`Error::Closed`] after `disconnect`/`destroy`.
    pub fn start_chat(&mut self, req: StartChat, now: Instant) -> Result<RequestId, Error> {
        self.check_open()?;
        if let Some(t) = &req.chat.thread {
            for e in &t.events {
                check_new_event(e)?;
            }
        }
        for p in
            [&req.chat.properties, &req.chat.thread.as_ref().and_then(|t| t.properties.clone())].into_iter().flatten()
        {
            check_properties(p)?;
        }
        let mut req = req;
        if let Some(t) = &mut req.chat.thread {
            for e in &mut t.events {
                if e.custom_id.is_none() {
                    e.custom_id = Some(self.new_custom_id());
                }
            }
        }
        let id = self.new_id();
        let frame = if self.config.legacy_start_chat {
            let mut m = serde_json::Map::new();
            m.insert("request_id".into(), serde_json::Value::String(id.to_string()));
            m.insert("action".into(), "start_chat".into());
            m.insert("payload".into(), req.to_legacy_json());
            serde_json::Value::Object(m).to_string()
        } else {
            ClientFrame::new(Some(id.clone()), Request::StartChat(req)).encode()
        };
        self.submit(id.clone(), Action::StartChat, None, frame, Purpose::User, now);
        Ok(id)
    }

    /// `send_event`: adds an event to a chat. The event gets a `custom_id` if it has none;
    /// with [`OutboxPolicy::Resend`] it survives reconnects (sent exactly once).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id, a `system_message` or `file` event (files
    /// go through [`send_file`](Self::send_file)), oversize text or ids.
    pub fn send_event(&mut self, chat: &ChatId, event: NewEvent, now: Instant) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        check_new_event(&event)?;
        let mut event = event;
        if event.custom_id.is_none() {
            event.custom_id = Some(self.new_custom_id());
        }
        let id = self.new_id();
        match self.config.outbox {
            OutboxPolicy::Resend => {
                self.outbox.push(id.clone(), chat.clone(), event);
                self.flush_outbox(now);
            }
            OutboxPolicy::FailOnDisconnect => {
                let frame = ClientFrame::new(Some(id.clone()), Request::SendEvent(SendEvent::new(chat.clone(), event)))
                    .encode();
                self.submit(id.clone(), Action::SendEvent, Some(chat.clone()), frame, Purpose::User, now);
            }
        }
        Ok(id)
    }

    /// `send_message`: a `message` event with this text.
    ///
    /// # Errors
    /// As [`send_event`](Self::send_event).
    pub fn send_message(&mut self, chat: &ChatId, text: &str, now: Instant) -> Result<RequestId, Error> {
        self.send_event(chat, NewEvent::message(text), now)
    }

    /// `send_file`: asks the driver to upload a file with the Web API; the outcome is the
    /// file's URL. The bytes never pass through the session.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a file over 10 MiB, an empty name or chat id.
    pub fn send_file(&mut self, chat: &ChatId, file: FileSpec, now: Instant) -> Result<RequestId, Error> {
        self.tick(now);
        self.check_open()?;
        check_chat(chat)?;
        if file.size > SendFile::MAX_FILE_SIZE {
            return Err(Error::invalid(format!(
                "the file is too big: {} bytes (max size is {} bytes, 10.00 MB)",
                file.size,
                SendFile::MAX_FILE_SIZE
            )));
        }
        if file.name.is_empty() {
            return Err(Error::invalid("the file needs a name"));
        }
        if let Some(c) = &file.custom_id {
            check_id("custom_id", c)?;
        }
        let id = self.new_id();
        let custom_id = match file.custom_id {
            Some(c) => c,
            None => self.new_custom_id(),
        };
        let upload = UploadRequest {
            id: id.clone(),
            fields: SendFile::new(chat.clone(), Some(custom_id)),
            name: file.name,
            content_type: if file.content_type.is_empty() {
                "application/octet-stream".into()
            } else {
                file.content_type
            },
            size: file.size,
            access_token: self.token.as_ref().map(|t| t.secret().to_owned()).unwrap_or_default(),
        };
        self.seq += 1;
        self.pending.insert(
            id.clone(),
            Pending {
                purpose: Purpose::Upload,
                action: Action::SendFile,
                chat: Some(chat.clone()),
                frame: None,
                deadline: None,
                seq: self.seq,
            },
        );
        if self.token.is_some() {
            self.actions.push_back(DriverAction::Upload(upload));
        } else {
            self.uploads_waiting.push(upload);
            if !self.token_requested {
                self.request_token(false);
            }
        }
        Ok(id)
    }

    /// `send_rating` (never implemented by the JS SDK): sets the chat properties
    /// `rating.score` (1 good, 0 bad) and `rating.comment` (G28).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or an oversize comment.
    pub fn send_rating(
        &mut self,
        chat: &ChatId,
        rating: Rating,
        comment: Option<&str>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        let mut p = Properties::new().with("rating", "score", if rating == Rating::Good { 1 } else { 0 });
        if let Some(c) = comment {
            check_text("comment", c)?;
            p.insert("rating", "comment", c);
        }
        self.update_chat_properties(chat, p, now)
    }

    /// `set_sneak_peek`: what the customer is typing, for agents. Throttled to one frame per
    /// [`Config::sneak_peek_interval`] per chat, the last text winning; skipped for chats whose
    /// last thread is known to be closed, and while not logged in.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or oversize text.
    pub fn set_sneak_peek(&mut self, chat: &ChatId, text: &str, now: Instant) -> Result<(), Error> {
        self.tick(now);
        self.check_open()?;
        check_chat(chat)?;
        check_text("text", text)?;
        if !self.is_ready() || self.chats.is_active(chat) == Some(false) {
            return Ok(());
        }
        let interval = self.config.sneak_peek_interval;
        let peek = self.sneak.entry(chat.clone()).or_default();
        match peek.last_sent {
            Some(last) if now < last + interval => peek.pending = Some(text.to_owned()),
            _ => {
                peek.last_sent = Some(now);
                peek.pending = None;
                self.transmit_sneak_peek(chat, text);
            }
        }
        self.rearm_sneak();
        Ok(())
    }

    /// `close_thread`: closes the chat's active thread.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id.
    pub fn close_thread(&mut self, chat: &ChatId, now: Instant) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        Ok(self.simple(Request::CloseThread(wire::CloseThread::new(chat.clone())), Some(chat), now))
    }

    /// `update_customer`: name, e-mail, custom fields.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for oversize fields (over 100 entries or values over 4096
    /// characters).
    pub fn update_customer(&mut self, customer: wire::CustomerData, now: Instant) -> Result<RequestId, Error> {
        self.check_open()?;
        if let Some(f) = &customer.fields {
            if f.len() > 100 {
                return Err(Error::invalid("at most 100 custom fields"));
            }
            if let Some((k, _)) = f.iter().find(|(_, v)| v.chars().count() > 4096) {
                return Err(Error::invalid(format!("field `{k}` is longer than 4096 characters")));
            }
        }
        Ok(self.simple(Request::UpdateCustomer(wire::UpdateCustomer::new(customer)), None, now))
    }

    /// `update_chat_properties`.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for no properties, or values other than int32, bool or string.
    pub fn update_chat_properties(
        &mut self,
        chat: &ChatId,
        properties: Properties,
        now: Instant,
    ) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        check_properties(&properties)?;
        if properties.is_empty() {
            return Err(Error::invalid("no properties to update"));
        }
        let req = Request::UpdateChatProperties(wire::UpdateChatProperties::new(chat.clone(), properties));
        Ok(self.simple(req, Some(chat), now))
    }

    /// `update_chat_thread_properties`.
    ///
    /// # Errors
    /// As [`update_chat_properties`](Self::update_chat_properties), and an empty thread id.
    pub fn update_chat_thread_properties(
        &mut self,
        chat: &ChatId,
        thread: &ThreadId,
        properties: Properties,
        now: Instant,
    ) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        check_id("thread id", thread.as_str())?;
        check_properties(&properties)?;
        if properties.is_empty() {
            return Err(Error::invalid("no properties to update"));
        }
        let req = Request::UpdateChatThreadProperties(wire::UpdateChatThreadProperties::new(
            chat.clone(),
            thread.clone(),
            properties,
        ));
        Ok(self.simple(req, Some(chat), now))
    }

    /// `update_last_seen_timestamp`: `None` means the server's current time. The time is sent
    /// in whole seconds (the JS SDK never managed to send it, 6.10).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or a time before 1970.
    pub fn update_last_seen_timestamp(
        &mut self,
        chat: &ChatId,
        at: Option<SystemTime>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        let ts = match at {
            Some(t) => match t.duration_since(SystemTime::UNIX_EPOCH) {
                Ok(d) => Some(Timestamp::from_secs(d.as_secs())),
                Err(_) => return Err(Error::invalid("the timestamp is before 1970")),
            },
            None => None,
        };
        let req = Request::UpdateLastSeenTimestamp(wire::UpdateLastSeenTimestamp::new(chat.clone(), ts));
        Ok(self.simple(req, Some(chat), now))
    }

    /// `get_chats_summary`: a page of the customer's chats (limit 1 to 25; default page
    /// offset 0, limit 10).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for a limit of 0 or over 25.
    pub fn get_chats_summary(&mut self, offset: u64, limit: u64, now: Instant) -> Result<RequestId, Error> {
        self.check_open()?;
        if limit == 0 || limit > GetChatsSummary::MAX_LIMIT {
            return Err(Error::invalid(format!(
                "Specified limit is {limit}; it must be between 1 and {} (max 25).",
                GetChatsSummary::MAX_LIMIT
            )));
        }
        Ok(self.simple(Request::GetChatsSummary(GetChatsSummary::new(offset, limit)), None, now))
    }

    /// `get_chat_threads`: these threads of a chat with all their events.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or thread id.
    pub fn get_chat_threads(&mut self, chat: &ChatId, threads: &[ThreadId], now: Instant) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        for t in threads {
            check_id("thread id", t.as_str())?;
        }
        let req = Request::GetChatThreads(GetChatThreads::new(chat.clone(), threads.to_vec()));
        Ok(self.simple(req, Some(chat), now))
    }

    /// `get_chat_threads_summary`: a page of a chat's threads, newest first (limit 1 to 100).
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or a limit of 0 or over 100.
    pub fn get_chat_threads_summary(
        &mut self,
        chat: &ChatId,
        offset: u64,
        limit: u64,
        now: Instant,
    ) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        if limit == 0 || limit > GetChatThreadsSummary::MAX_LIMIT {
            return Err(Error::invalid(format!(
                "Specified limit is {limit}; it must be between 1 and {} (max 100).",
                GetChatThreadsSummary::MAX_LIMIT
            )));
        }
        let req = Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), offset, limit));
        Ok(self.simple(req, Some(chat), now))
    }

    /// `send_rich_message_postback`: toggles a button of a rich message.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for empty ids.
    pub fn send_rich_message_postback(
        &mut self,
        chat: &ChatId,
        thread: &ThreadId,
        event: &EventId,
        postback: Postback,
        now: Instant,
    ) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        check_id("thread id", thread.as_str())?;
        check_id("event id", event.as_str())?;
        check_id("postback id", &postback.id)?;
        let req = Request::SendRichMessagePostback(wire::SendRichMessagePostback::new(
            chat.clone(),
            thread.clone(),
            event.clone(),
            postback,
        ));
        Ok(self.simple(req, Some(chat), now))
    }

    /// `update_chat_scopes`: adds and removes agent groups.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id or when both sets are absent.
    pub fn update_chat_scopes(
        &mut self,
        chat: &ChatId,
        add: Option<Scopes>,
        remove: Option<Scopes>,
        now: Instant,
    ) -> Result<RequestId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        if add.is_none() && remove.is_none() {
            return Err(Error::invalid("give scopes to add or to remove"));
        }
        let req = Request::UpdateChatScopes(wire::UpdateChatScopes::new(chat.clone(), add, remove));
        Ok(self.simple(req, Some(chat), now))
    }

    /// Opens a history cursor on a chat; [`history_next`](Self::history_next) loads pages.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an empty chat id.
    pub fn chat_history(&mut self, chat: &ChatId) -> Result<HistoryId, Error> {
        self.check_open()?;
        check_chat(chat)?;
        self.next_history += 1;
        let id = HistoryId(self.next_history);
        self.histories.insert(id, History::new(chat.clone(), self.config.history_page_events));
        Ok(id)
    }

    /// Loads the next (older) page of a history cursor: [`Reply::History`]. Calls made while
    /// a page loads are queued and answered in order.
    ///
    /// # Errors
    /// [`Error::InvalidArgs`] for an unknown cursor.
    pub fn history_next(&mut self, history: HistoryId, now: Instant) -> Result<RequestId, Error> {
        self.tick(now);
        self.check_open()?;
        if !self.histories.contains_key(&history) {
            return Err(Error::invalid("no such history cursor (it was closed?)"));
        }
        let id = self.new_id();
        if let Some(h) = self.histories.get_mut(&history) {
            h.queue.push_back(id.clone());
        }
        self.history_advance(history, now);
        Ok(id)
    }

    /// Forgets a history cursor; its queued calls fail with [`Error::Cancelled`].
    pub fn close_history(&mut self, history: HistoryId) {
        if let Some(h) = self.histories.remove(&history) {
            for (i, id) in h.queue.into_iter().enumerate() {
                if i == 0 && h.running.is_some() {
                    // Its step is still pending; drop the step and fail the call.
                    self.pending.retain(|_, p| !matches!(p.purpose, Purpose::History(x) if x == history));
                }
                self.outputs.push_back(Output::Completed { id, result: Err(Error::Cancelled) });
            }
        }
    }

    // ------------------------------------------------------------------ internals: sending

    fn tick(&mut self, now: Instant) {
        if now > self.last_now {
            self.last_now = now;
        }
    }

    fn check_open(&self) -> Result<(), Error> {
        match &self.conn {
            Conn::Destroyed | Conn::Idle => Err(Error::Closed),
            Conn::Stopped(reason) => Err(Error::Disconnected { reason: reason.clone() }),
            _ => Ok(()),
        }
    }

    fn new_id(&mut self) -> RequestId {
        loop {
            let id = RequestId::new(self.rng.base36(10));
            if !self.pending.contains_key(&id) && !self.outbox.contains(&id) && !self.recent_set.contains(&id) {
                return id;
            }
        }
    }

    fn new_custom_id(&mut self) -> String {
        loop {
            let c = format!("chatio-{}", self.rng.base36(16));
            if !self.outbox.has_custom_id(&c) {
                return c;
            }
        }
    }

    fn request_token(&mut self, fresh: bool) {
        self.token_requested = true;
        self.actions.push_back(DriverAction::FetchToken { fresh });
    }

    fn learn_customer_id(&mut self, id: UserId) {
        if self.customer_id.as_ref() != Some(&id) {
            self.customer_id = Some(id.clone());
            self.emit(SdkEvent::CustomerId(id));
        }
    }

    fn emit(&mut self, e: SdkEvent) {
        self.outputs.push_back(Output::Event(e));
    }

    fn complete(&mut self, id: RequestId, result: Result<Reply, Error>) {
        self.remember(id.clone());
        self.outputs.push_back(Output::Completed { id, result });
    }

    fn remember(&mut self, id: RequestId) {
        if self.recent_set.insert(id.clone()) {
            self.recent.push_back(id);
            while self.recent.len() > RECENT {
                if let Some(old) = self.recent.pop_front() {
                    self.recent_set.remove(&old);
                }
            }
        }
    }

    /// A user request with the default timeout.
    fn simple(&mut self, req: Request, chat: Option<&ChatId>, now: Instant) -> RequestId {
        let id = self.new_id();
        let action = req.known_action().unwrap_or(Action::Ping);
        let frame = ClientFrame::new(Some(id.clone()), req).encode();
        self.submit(id.clone(), action, chat.cloned(), frame, Purpose::User, now);
        id
    }

    /// Registers a request and writes it now if logged in (internal requests of the login
    /// sequence are written at once on an open socket), else queues it.
    fn submit(
        &mut self,
        id: RequestId,
        action: Action,
        chat: Option<ChatId>,
        frame: String,
        purpose: Purpose,
        now: Instant,
    ) {
        let immediate = match purpose {
            Purpose::Login | Purpose::Summary => matches!(self.conn, Conn::Open(_)),
            _ => self.is_ready(),
        };
        self.seq += 1;
        let deadline = Some(now + self.config.request_timeout);
        let mut p = Pending { purpose, action, chat, frame: Some(frame), deadline, seq: self.seq };
        if immediate {
            if let Some(f) = p.frame.take() {
                self.transmit.push_back(f);
            }
        } else {
            self.queue.push_back(id.clone());
        }
        self.pending.insert(id, p);
        self.rearm_requests();
    }

    fn send_login(&mut self, now: Instant) {
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
        let frame = ClientFrame::new(Some(id.clone()), Request::Login(login)).encode();
        self.conn = Conn::Open(Phase::LoggingIn);
        self.submit(id, Action::Login, None, frame, Purpose::Login, now);
    }

    /// Logged in: write the queue, then the outbox.
    fn flush_queue(&mut self, now: Instant) {
        while let Some(id) = self.queue.pop_front() {
            if let Some(f) = self.pending.get_mut(&id).and_then(|p| p.frame.take()) {
                self.transmit.push_back(f);
            }
        }
        self.start_verification(now);
        self.flush_outbox(now);
    }

    fn flush_outbox(&mut self, now: Instant) {
        if !self.is_ready() {
            return;
        }
        let deadline = now + self.config.request_timeout;
        for (id, chat, event) in self.outbox.take_sendable(deadline) {
            self.seq += 1;
            let frame =
                ClientFrame::new(Some(id.clone()), Request::SendEvent(SendEvent::new(chat.clone(), event))).encode();
            self.transmit.push_back(frame);
            self.pending.insert(
                id,
                Pending {
                    purpose: Purpose::Outbox,
                    action: Action::SendEvent,
                    chat: Some(chat),
                    frame: None,
                    deadline: None,
                    seq: self.seq,
                },
            );
        }
        self.rearm_requests();
    }

    fn start_verification(&mut self, now: Instant) {
        for (chat, n) in self.outbox.chats_to_verify() {
            self.outbox.start_verifying(chat.clone());
            let limit = (n as u64 + 1).min(history::BATCH);
            let id = self.new_id();
            let req = Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), 0, limit));
            let frame = ClientFrame::new(Some(id.clone()), req).encode();
            self.submit(
                id,
                Action::GetChatThreadsSummary,
                Some(chat.clone()),
                frame,
                Purpose::VerifySummary(chat),
                now,
            );
        }
    }

    fn transmit_sneak_peek(&mut self, chat: &ChatId, text: &str) {
        let req = Request::SendSneakPeek(wire::SendSneakPeek::new(chat.clone(), text));
        self.transmit.push_back(ClientFrame::new(None, req).encode());
    }

    fn flush_sneak_peeks(&mut self, now: Instant) {
        let interval = self.config.sneak_peek_interval;
        let due: Vec<(ChatId, String)> = self
            .sneak
            .iter_mut()
            .filter_map(|(chat, p)| {
                let at = p.last_sent.map_or(now, |l| l + interval);
                if at <= now {
                    let text = p.pending.take()?;
                    p.last_sent = Some(now);
                    Some((chat.clone(), text))
                } else {
                    None
                }
            })
            .collect();
        for (chat, text) in due {
            if self.is_ready() && self.chats.is_active(&chat) != Some(false) {
                self.transmit_sneak_peek(&chat, &text);
            }
        }
    }

    fn rearm_sneak(&mut self) {
        let interval = self.config.sneak_peek_interval;
        let next =
            self.sneak.values().filter(|p| p.pending.is_some()).filter_map(|p| p.last_sent.map(|l| l + interval)).min();
        self.timers.set_opt(Timer::SneakPeek, next);
    }

    fn rearm_requests(&mut self) {
        let next = self.pending.values().filter_map(|p| p.deadline).chain(self.outbox.earliest_deadline()).min();
        self.timers.set_opt(Timer::Requests, next);
    }

    // ------------------------------------------------------------------ internals: failure

    fn fail_pending(&mut self, id: RequestId, p: Pending, err: Error, now: Instant) {
        match p.purpose {
            Purpose::User | Purpose::Upload => self.complete(id, Err(err)),
            Purpose::Outbox => {
                self.outbox.remove(&id);
                self.complete(id, Err(err));
            }
            Purpose::History(h) => self.history_failed(h, err, now),
            Purpose::VerifySummary(chat) | Purpose::VerifyThreads(chat) => self.verify_failed(&chat, err, now),
            Purpose::Login | Purpose::Summary => self.login_failed(err, now),
        }
    }

    /// Fails everything that is waiting: pending and queued requests, outbox, history calls,
    /// uploads.
    fn fail_all(&mut self, err: Error, now: Instant) {
        let mut all: Vec<(RequestId, Pending)> = std::mem::take(&mut self.pending).into_iter().collect();
        all.sort_by_key(|(_, p)| p.seq);
        self.queue.clear();
        for (id, p) in all {
            match p.purpose {
                Purpose::User | Purpose::Upload => {
                    if matches!(p.purpose, Purpose::Upload) {
                        self.actions.push_back(DriverAction::CancelUpload { id: id.clone() });
                    }
                    self.complete(id, Err(err.clone()));
                }
                _ => {}
            }
        }
        self.uploads_waiting.clear();
        for e in self.outbox.drain() {
            self.complete(e.id, Err(err.clone()));
        }
        let histories: Vec<HistoryId> = self.histories.keys().copied().collect();
        for h in histories {
            self.history_fail_all(h, err.clone());
        }
        let _ = now;
        self.rearm_requests();
    }

    /// The socket dropped (not for good): sent requests fail with `ConnectionLost`, except
    /// outbox events under the `Resend` policy; queued ones wait for the next login.
    fn connection_lost(&mut self, now: Instant) {
        let mut sent: Vec<(RequestId, Pending)> = Vec::new();
        let ids: Vec<RequestId> = self.pending.keys().cloned().collect();
        for id in ids {
            let is_sent =
                self.pending.get(&id).is_some_and(|p| p.frame.is_none() && !matches!(p.purpose, Purpose::Upload));
            if is_sent {
                if let Some(p) = self.pending.remove(&id) {
                    sent.push((id, p));
                }
            }
        }
        sent.sort_by_key(|(_, p)| p.seq);
        self.outbox.connection_lost();
        let mut failed_histories = Vec::new();
        for (id, p) in sent {
            match p.purpose {
                Purpose::User => self.complete(id, Err(Error::ConnectionLost)),
                Purpose::Outbox if self.config.outbox == OutboxPolicy::FailOnDisconnect => {
                    self.outbox.remove(&id);
                    self.complete(id, Err(Error::ConnectionLost));
                }
                Purpose::History(h) => failed_histories.push(h),
                _ => {}
            }
        }
        // Queued internal requests of the old connection are pointless now.
        let stale: Vec<RequestId> = self
            .queue
            .iter()
            .filter(|id| self.pending.get(*id).is_some_and(|p| !matches!(p.purpose, Purpose::User)))
            .cloned()
            .collect();
        for id in stale {
            self.queue.retain(|q| q != &id);
            if let Some(Pending { purpose: Purpose::History(h), .. }) = self.pending.remove(&id) {
                failed_histories.push(h);
            }
        }
        // In-flight history pages fail with their queued calls, as in the JS SDK.
        for h in failed_histories {
            self.history_fail_all(h, Error::ConnectionLost);
        }
        let _ = now;
        self.rearm_requests();
    }

    fn schedule_reconnect(&mut self, now: Instant) {
        self.conn = Conn::Backoff;
        let delay = if self.login_failed {
            self.config.login_backoff.delay(self.login_failures.saturating_sub(1), self.rng.next_f64())
        } else {
            self.config.reconnect.delay(self.reconnect_attempt, self.rng.next_f64())
        };
        self.reconnect_attempt = self.reconnect_attempt.saturating_add(1);
        self.timers.set(Timer::Reconnect, now + delay);
        self.emit(SdkEvent::Reconnecting { attempt: self.reconnect_attempt, delay });
    }

    fn login_failed(&mut self, err: Error, now: Instant) {
        if let Error::Server { kind: ErrorType::CustomerBanned, .. } = err {
            self.conn = Conn::Stopped(DisconnectReason::CustomerBanned);
            self.emit(SdkEvent::Disconnected { reason: DisconnectReason::CustomerBanned });
            self.fail_all(Error::Disconnected { reason: DisconnectReason::CustomerBanned }, now);
            self.timers = TimerTable::default();
            self.actions.push_back(DriverAction::Close);
            return;
        }
        self.login_failures = self.login_failures.saturating_add(1);
        self.login_failed = true;
        self.fresh_token_used = false;
        // Queued requests would wait for a login that keeps failing: fail them now.
        let queued: Vec<RequestId> = self.queue.drain(..).collect();
        for id in queued {
            if let Some(p) = self.pending.remove(&id) {
                if let Purpose::User = p.purpose {
                    self.complete(id, Err(err.clone()));
                }
            }
        }
        self.emit(SdkEvent::Error(err));
        self.actions.push_back(DriverAction::Close);
    }

    fn expire_requests(&mut self, now: Instant) {
        let expired: Vec<RequestId> = self
            .pending
            .iter()
            .filter(|(_, p)| p.deadline.is_some_and(|d| d <= now))
            .map(|(id, _)| id.clone())
            .collect();
        let mut broken = false;
        let mut list: Vec<(RequestId, Pending)> =
            expired.into_iter().filter_map(|id| self.pending.remove(&id).map(|p| (id, p))).collect();
        list.sort_by_key(|(_, p)| p.seq);
        for (id, p) in list {
            self.queue.retain(|q| q != &id);
            match p.purpose {
                Purpose::Login | Purpose::Summary | Purpose::VerifySummary(_) | Purpose::VerifyThreads(_) => {
                    // The connection is not answering: start over (verification reruns after
                    // the reconnect).
                    broken = true;
                }
                _ => self.fail_pending(id, p, Error::Timeout, now),
            }
        }
        if self.outbox.timed_out(now) {
            match self.config.outbox {
                // The event may have arrived: verify after a fresh connection, never resend blind.
                OutboxPolicy::Resend => broken = true,
                OutboxPolicy::FailOnDisconnect => {}
            }
        }
        if broken && matches!(self.conn, Conn::Open(_)) {
            self.actions.push_back(DriverAction::Close);
        }
    }

    // ------------------------------------------------------------------ internals: responses

    fn on_response(&mut self, r: wire::Response, now: Instant) {
        let Some(id) = r.request_id else {
            if let Err(f) = r.result {
                // A failure nobody can be told about directly (e.g. of a sneak peek).
                self.emit(SdkEvent::Error(Error::from_server(f.error)));
            }
            return;
        };
        let Some(p) = self.pending.remove(&id) else {
            return; // late (timed out, cancelled) or not ours
        };
        if p.frame.is_some() {
            // Answered before it was written: a confused server. Keep waiting.
            self.pending.insert(id, p);
            return;
        }
        self.rearm_requests();
        let data = match r.result {
            Ok(d) => d,
            Err(f) => {
                let err = Error::from_server(f.error);
                match p.purpose {
                    Purpose::Login if matches!(err, Error::Authentication { .. }) && !self.fresh_token_used => {
                        self.fresh_token_used = true;
                        self.token = None;
                        self.conn = Conn::Open(Phase::AwaitingToken);
                        self.request_token(true);
                    }
                    Purpose::Outbox | Purpose::User => {
                        if matches!(p.purpose, Purpose::Outbox) {
                            self.outbox.remove(&id);
                            self.flush_outbox(now);
                        }
                        self.complete(id, Err(err));
                    }
                    _ => self.fail_pending(id, p, err, now),
                }
                return;
            }
        };
        match p.purpose.clone() {
            Purpose::Login => self.on_login(data, now),
            Purpose::Summary => self.on_summary(data, now),
            Purpose::User => {
                let result = self.reply(&p, data);
                self.complete(id, result);
            }
            Purpose::Outbox => {
                self.outbox.remove(&id);
                let result = self.reply(&p, data);
                self.complete(id, result);
                self.flush_outbox(now);
            }
            Purpose::VerifySummary(chat) => self.on_verify_summary(chat, data, now),
            Purpose::VerifyThreads(chat) => self.on_verify_threads(chat, data, now),
            Purpose::History(h) => self.on_history(h, data, now),
            Purpose::Upload => {}
        }
    }

    fn on_login(&mut self, data: ResponseData, now: Instant) {
        let ResponseData::Login(l) = data else {
            self.login_failed(Error::Protocol { message: "unexpected answer to login".into() }, now);
            return;
        };
        self.fresh_token_used = false;
        self.learn_customer_id(l.customer_id);
        let id = self.new_id();
        let frame = ClientFrame::new(Some(id.clone()), Request::GetChatsSummary(GetChatsSummary::default())).encode();
        self.conn = Conn::Open(Phase::Summary);
        self.submit(id, Action::GetChatsSummary, None, frame, Purpose::Summary, now);
    }

    fn on_summary(&mut self, data: ResponseData, now: Instant) {
        let ResponseData::GetChatsSummary(s) = data else {
            self.login_failed(Error::Protocol { message: "unexpected answer to get_chats_summary".into() }, now);
            return;
        };
        self.conn = Conn::Open(Phase::Ready);
        self.login_failures = 0;
        self.login_failed = false;
        self.reconnect_attempt = 0;
        for c in &s.chats_summary {
            self.chats.note_summary(c);
        }
        let mut seen = HashSet::new();
        let summaries: Vec<ChatSummary> = s.chats_summary.into_iter().map(ChatSummary::from_wire).collect();
        for u in summaries.iter().flat_map(|c| c.users.iter()) {
            if seen.insert(u.id.clone()) {
                self.emit(SdkEvent::UserData(u.clone()));
            }
        }
        let total_chats = s.total_chats;
        if self.ever_ready {
            self.emit(SdkEvent::ConnectionRestored { chats_summary: summaries, total_chats });
        } else {
            self.ever_ready = true;
            self.emit(SdkEvent::Connected { chats_summary: summaries, total_chats });
        }
        self.flush_queue(now);
    }

    /// Turns a user request's response into its reply (and the side events of G32).
    fn reply(&mut self, p: &Pending, data: ResponseData) -> Result<Reply, Error> {
        let chat = p.chat.clone().unwrap_or_default();
        let mismatch = |d: &ResponseData| Error::Protocol {
            message: format!("a `{}` response answered a `{}` request", d.action(), p.action),
        };
        if data.known_action() != Some(p.action) {
            return Err(mismatch(&data));
        }
        Ok(match data {
            ResponseData::StartChat(r) => {
                self.chats.note_chat(&r.chat);
                Reply::Chat(Chat::from_wire(r.chat))
            }
            ResponseData::SendEvent(r) => {
                let annotation = matches!(r.event.kind, EventKind::Annotation(_));
                self.chats.note_event(&chat, Some(&r.thread_id), annotation);
                Reply::Event(Event::from_wire(r.event, &chat, Some(&r.thread_id)))
            }
            ResponseData::GetChatsSummary(r) => {
                for c in &r.chats_summary {
                    self.chats.note_summary(c);
                }
                Reply::ChatsSummary {
                    chats_summary: r.chats_summary.into_iter().map(ChatSummary::from_wire).collect(),
                    total_chats: r.total_chats,
                }
            }
            ResponseData::GetChatThreads(r) => {
                self.chats.note_chat(&r.chat);
                let chat_id = r.chat.id.clone();
                for u in &r.chat.users {
                    self.emit(SdkEvent::UserData(User::from_wire(u.clone())));
                }
                let mut threads: Vec<Thread> =
                    r.chat.threads.unwrap_or_default().into_iter().map(|t| Thread::from_wire(t, &chat_id)).collect();
                threads.sort_by_key(|t| t.order);
                Reply::Threads(threads)
            }
            ResponseData::GetChatThreadsSummary(r) => {
                let mut list: Vec<ThreadSummary> =
                    r.threads_summary.into_iter().map(|s| ThreadSummary::from_wire(s, &chat)).collect();
                list.sort_by_key(|s| s.order);
                Reply::ThreadsSummary { threads_summary: list, total_threads: r.total_threads }
            }
            ResponseData::UpdateCustomer(r) => Reply::Customer(User::from_wire(r.customer)),
            ResponseData::UpdateLastSeenTimestamp(r) => Reply::LastSeen(r.timestamp.to_system_time()),
            ResponseData::SendFile(r) => Reply::File { url: r.url },
            _ => Reply::Done,
        })
    }

    fn on_verify_summary(&mut self, chat: ChatId, data: ResponseData, now: Instant) {
        let ResponseData::GetChatThreadsSummary(r) = data else {
            let message = format!("unexpected `{}` answer to get_chat_threads_summary", data.action());
            self.verify_failed(&chat, Error::Protocol { message }, now);
            return;
        };
        if r.threads_summary.is_empty() {
            let arrived = self.outbox.finish_verifying(&chat, |_| false);
            debug_assert!(arrived.is_empty());
            self.flush_outbox(now);
            return;
        }
        let ids: Vec<ThreadId> = r.threads_summary.into_iter().map(|s| s.id).collect();
        let id = self.new_id();
        let frame = ClientFrame::new(Some(id.clone()), Request::GetChatThreads(GetChatThreads::new(chat.clone(), ids)))
            .encode();
        self.submit(id, Action::GetChatThreads, Some(chat.clone()), frame, Purpose::VerifyThreads(chat), now);
    }

    fn on_verify_threads(&mut self, chat: ChatId, data: ResponseData, now: Instant) {
        let ResponseData::GetChatThreads(r) = data else {
            let message = format!("unexpected `{}` answer to get_chat_threads", data.action());
            self.verify_failed(&chat, Error::Protocol { message }, now);
            return;
        };
        let mut by_custom: BTreeMap<String, Event> = BTreeMap::new();
        for t in r.chat.threads.unwrap_or_default() {
            let tid = t.id.clone();
            for e in t.events {
                if let Some(c) = e.custom_id.clone() {
                    if e.author_id.as_ref() == self.customer_id.as_ref() || self.customer_id.is_none() {
                        by_custom.insert(c, Event::from_wire(e, &chat, Some(&tid)));
                    }
                }
            }
        }
        let arrived = self.outbox.finish_verifying(&chat, |c| by_custom.contains_key(c));
        for e in arrived {
            let found = e.custom_id().and_then(|c| by_custom.get(c)).cloned();
            match found {
                Some(ev) => self.complete(e.id, Ok(Reply::Event(ev))),
                None => self.complete(e.id, Err(Error::Protocol { message: "verified event vanished".into() })),
            }
        }
        self.flush_outbox(now);
    }

    /// Verifying a chat's unconfirmed events failed for good: fail them with the reason,
    /// never resend blindly (that could send an event twice).
    fn verify_failed(&mut self, chat: &ChatId, err: Error, now: Instant) {
        for e in self.outbox.abandon_verifying(chat) {
            self.pending.remove(&e.id);
            self.complete(e.id, Err(err.clone()));
        }
        self.flush_outbox(now);
    }

    // ------------------------------------------------------------------ internals: history

    fn history_advance(&mut self, hid: HistoryId, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        if h.running.is_some() {
            return;
        }
        let Some(op) = h.queue.front().cloned() else { return };
        if h.done {
            h.queue.pop_front();
            self.complete(op, Ok(Reply::History { events: Vec::new(), done: true }));
            self.history_advance(hid, now);
            return;
        }
        let step = h.first_step();
        self.history_step(hid, step, now);
    }

    fn history_step(&mut self, hid: HistoryId, step: Step, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        let chat = h.chat.clone();
        h.running = Some(step.clone());
        let (req, action) = match &step {
            Step::FirstSummary => (
                Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), 0, history::BATCH)),
                Action::GetChatThreadsSummary,
            ),
            Step::Total => (
                Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), 0, 1)),
                Action::GetChatThreadsSummary,
            ),
            Step::Summary { offset } => (
                Request::GetChatThreadsSummary(GetChatThreadsSummary::new(chat.clone(), *offset, history::BATCH)),
                Action::GetChatThreadsSummary,
            ),
            Step::Threads(_) => (
                Request::GetChatThreads(GetChatThreads::new(chat.clone(), History::ids(&step))),
                Action::GetChatThreads,
            ),
        };
        let id = self.new_id();
        let frame = ClientFrame::new(Some(id.clone()), req).encode();
        self.submit(id, action, Some(chat), frame, Purpose::History(hid), now);
    }

    fn on_history(&mut self, hid: HistoryId, data: ResponseData, now: Instant) {
        enum Next {
            Step(Step),
            Page(Vec<Event>, Vec<ThreadSummary>),
            Fail(Error),
        }
        let Some(h) = self.histories.get_mut(&hid) else { return };
        let Some(step) = h.running.clone() else { return };
        let chat = h.chat.clone();
        let next = match (step, data) {
            (s @ (Step::FirstSummary | Step::Summary { .. }), ResponseData::GetChatThreadsSummary(r)) => {
                match h.on_summary(r.threads_summary, r.total_threads, s == Step::FirstSummary) {
                    Some(next) => Next::Step(next),
                    None => Next::Page(Vec::new(), Vec::new()),
                }
            }
            (Step::Total, ResponseData::GetChatThreadsSummary(r)) => Next::Step(h.on_total(r.total_threads)),
            (Step::Threads(_), ResponseData::GetChatThreads(r)) => {
                let mut threads: Vec<Thread> =
                    r.chat.threads.unwrap_or_default().into_iter().map(|t| Thread::from_wire(t, &chat)).collect();
                threads.sort_by_key(|t| t.order);
                h.on_threads(threads.len());
                let summaries = threads
                    .iter()
                    .map(|t| ThreadSummary {
                        id: t.id.clone(),
                        chat: chat.clone(),
                        order: t.order,
                        total_events: Some(t.events.len() as u64),
                    })
                    .collect();
                Next::Page(threads.into_iter().flat_map(|t| t.events).collect(), summaries)
            }
            (_, other) => Next::Fail(Error::Protocol {
                message: format!("unexpected `{}` answer in a history page", other.action()),
            }),
        };
        match next {
            Next::Step(step) => self.history_step(hid, step, now),
            Next::Page(events, summaries) => {
                for s in summaries {
                    self.emit(SdkEvent::ThreadSummary(s));
                }
                self.history_page(hid, events, now);
            }
            Next::Fail(err) => self.history_failed(hid, err, now),
        }
    }

    fn history_page(&mut self, hid: HistoryId, events: Vec<Event>, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        h.running = None;
        let done = h.done;
        if let Some(op) = h.queue.pop_front() {
            self.complete(op, Ok(Reply::History { events, done }));
        }
        self.history_advance(hid, now);
    }

    fn history_failed(&mut self, hid: HistoryId, err: Error, now: Instant) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        if let Some(step) = h.running.take() {
            h.on_failure(&step);
        }
        if let Some(op) = h.queue.pop_front() {
            self.complete(op, Err(err));
        }
        self.history_advance(hid, now);
    }

    fn history_fail_all(&mut self, hid: HistoryId, err: Error) {
        let Some(h) = self.histories.get_mut(&hid) else { return };
        if let Some(step) = h.running.take() {
            h.on_failure(&step);
        }
        let ops: Vec<RequestId> = h.queue.drain(..).collect();
        self.pending.retain(|_, p| !matches!(p.purpose, Purpose::History(x) if x == hid));
        for op in ops {
            self.complete(op, Err(err.clone()));
        }
    }

    // ------------------------------------------------------------------ internals: pushes

    fn is_ours(&self, id: &Option<RequestId>) -> bool {
        id.as_ref()
            .is_some_and(|id| self.pending.contains_key(id) || self.recent_set.contains(id) || self.outbox.contains(id))
    }

    fn on_push(&mut self, frame: PushFrame, now: Instant) {
        let ours = self.is_ours(&frame.request_id);
        match frame.push {
            Push::IncomingChatThread(p) => {
                self.chats.note_chat(&p.chat);
                let chat = Chat::from_wire(p.chat);
                for u in &chat.users {
                    self.emit(SdkEvent::UserData(u.clone()));
                }
                for t in &chat.threads {
                    self.emit(SdkEvent::ThreadSummary(ThreadSummary {
                        id: t.id.clone(),
                        chat: chat.id.clone(),
                        order: t.order,
                        total_events: Some(t.events.len() as u64),
                    }));
                }
                if !ours {
                    for t in chat.threads {
                        for e in t.events {
                            self.emit(SdkEvent::NewEvent { chat: chat.id.clone(), event: e });
                        }
                    }
                }
            }
            Push::IncomingEvent(p) => {
                let annotation = matches!(p.event.kind, EventKind::Annotation(_));
                self.chats.note_event(&p.chat_id, p.thread_id.as_ref(), annotation);
                if !ours {
                    let event = Event::from_wire(p.event, &p.chat_id, p.thread_id.as_ref());
                    self.emit(SdkEvent::NewEvent { chat: p.chat_id, event });
                }
            }
            Push::ChatUsersUpdated(p) => {
                self.chats.note_users(&p.chat_id, &p.updated_users.added, &p.updated_users.removed_ids);
                for u in p.updated_users.added {
                    let user = User::from_wire(u);
                    let id = user.id.clone();
                    self.emit(SdkEvent::UserData(user));
                    self.emit(SdkEvent::UserJoinedChat { chat: p.chat_id.clone(), user: id });
                }
                for id in p.updated_users.removed_ids {
                    self.emit(SdkEvent::UserLeftChat { chat: p.chat_id.clone(), user: id });
                }
            }
            Push::IncomingTypingIndicator(p) => {
                let user = p.typing_indicator.author_id;
                self.emit(if p.typing_indicator.is_typing {
                    SdkEvent::UserIsTyping { chat: p.chat_id, user }
                } else {
                    SdkEvent::UserStoppedTyping { chat: p.chat_id, user }
                });
            }
            Push::ThreadClosed(p) => {
                self.chats.note_closed(&p.chat_id, &p.thread_id);
                if let Some(peek) = self.sneak.get_mut(&p.chat_id) {
                    peek.pending = None;
                }
                if !ours {
                    self.emit(SdkEvent::ThreadClosed { chat: p.chat_id, thread: p.thread_id, user: p.user_id });
                }
            }
            Push::ChatPropertiesUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::ChatPropertiesUpdated { chat: p.chat_id, properties: p.properties });
                }
            }
            Push::ChatThreadPropertiesUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::ChatThreadPropertiesUpdated {
                        chat: p.chat_id,
                        thread: p.thread_id,
                        properties: p.properties,
                    });
                }
            }
            Push::LastSeenTimestampUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::LastSeenTimestampUpdated {
                        chat: p.chat_id,
                        user: p.user_id,
                        timestamp: p.timestamp.to_system_time(),
                    });
                }
            }
            Push::CustomerDisconnected(p) => {
                self.emit(SdkEvent::Disconnected { reason: p.reason.clone() });
                if is_final(&p.reason) {
                    self.conn = Conn::Stopped(p.reason);
                    self.actions.push_back(DriverAction::Close);
                }
            }
            Push::ChatScopesUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::ChatScopesUpdated {
                        chat: p.chat_id,
                        added: p.scopes_added,
                        removed: p.scopes_removed,
                    });
                }
            }
            Push::CustomerUpdated(p) => {
                if !ours {
                    self.emit(SdkEvent::CustomerUpdated { chat: p.chat_id, customer: User::from_wire(p.customer) });
                }
            }
            Push::IncomingRichMessagePostback(p) => {
                if !ours {
                    self.emit(SdkEvent::RichMessagePostback {
                        user: p.user_id,
                        chat: p.chat_id,
                        thread: p.thread_id,
                        event: p.event_id,
                        postback: p.postback,
                    });
                }
            }
            Push::IncomingMulticast(p) => self.emit(SdkEvent::Multicast { author: p.author_id, content: p.content }),
            Push::Unknown { action, payload } => self.emit(SdkEvent::UnknownPush { action, payload }),
            other => self.emit(SdkEvent::UnknownPush { action: other.action().to_owned(), payload: None }),
        }
        let _ = now;
    }

    /// The users the session knows are in a chat.
    pub fn chat_users(&self, chat: &ChatId) -> Vec<UserId> {
        self.chats.users(chat).cloned().collect()
    }
}

/// Why an upload failed, as the driver reports it.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum UploadFailure {
    /// The server refused it with an error object.
    Server(wire::ErrorObject),
    /// The transport failed (connection, file, timeout).
    Transport(String),
}

/// The checks [`Session::set_sneak_peek`] makes, for callers that want the verdict before
/// handing the call to a driver.
///
/// # Errors
/// [`Error::InvalidArgs`] for an empty chat id or text over [`MAX_TEXT_LEN`] characters.
pub fn check_sneak_peek(chat: &ChatId, text: &str) -> Result<(), Error> {
    check_chat(chat)?;
    check_text("text", text)
}

/// Reasons after which the session does not reconnect by itself.
fn is_final(r: &DisconnectReason) -> bool {
    r.is_final() || *r == DisconnectReason::TooManyConnections
}

fn check_chat(chat: &ChatId) -> Result<(), Error> {
    check_id("chat id", chat.as_str())
}

fn check_id(what: &str, id: &str) -> Result<(), Error> {
    if id.is_empty() {
        return Err(Error::invalid(format!("the {what} is empty")));
    }
    if id.len() > MAX_ID_LEN {
        return Err(Error::invalid(format!("the {what} is longer than {MAX_ID_LEN} bytes")));
    }
    Ok(())
}

fn check_text(what: &str, text: &str) -> Result<(), Error> {
    if text.chars().count() > MAX_TEXT_LEN {
        return Err(Error::invalid(format!("the {what} is longer than {MAX_TEXT_LEN} characters")));
    }
    Ok(())
}

fn check_properties(p: &Properties) -> Result<(), Error> {
    for (ns, name, v) in p.iter() {
        if !v.is_scalar() {
            return Err(Error::invalid(format!(
                "property `{ns}.{name}` must be an int32, a bool or a string, not {v}"
            )));
        }
    }
    Ok(())
}

fn check_new_event(e: &NewEvent) -> Result<(), Error> {
    if let Some(c) = &e.custom_id {
        check_id("custom_id", c)?;
    }
    if let Some(p) = &e.properties {
        check_properties(p)?;
    }
    match &e.kind {
        EventKind::SystemMessage(_) => Err(Error::invalid("customers cannot send system messages")),
        EventKind::File(_) => Err(Error::invalid("files are sent with send_file, not send_event")),
        EventKind::Message(m) => check_text("text", &m.text),
        EventKind::Annotation(a) => {
            if a.annotation_type.is_empty() {
                return Err(Error::invalid("the annotation_type is empty"));
            }
            a.text.as_deref().map_or(Ok(()), |t| check_text("text", t))
        }
        EventKind::RichMessage(r) => {
            if r.template_id.is_empty() {
                return Err(Error::invalid("the template_id is empty"));
            }
            if r.elements.len() > 10 || r.elements.iter().any(|el| el.buttons.len() > 10) {
                return Err(Error::invalid("a rich message has at most 10 elements of at most 10 buttons"));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}
