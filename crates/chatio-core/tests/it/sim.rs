//! A simulated world for a session, like quinn-proto's test `Pair`: the session, the model
//! server, an in-memory socket in each direction, a token provider, a driver that performs
//! the session's actions, and a fake clock. Nothing sleeps and nothing touches the network.
//!
//! The simulation checks the session's contracts on every step: every outcome is for a
//! command that was issued and not finished yet (so each completes at most once), a new
//! request id is never one still pending, and `poll_timeout` never goes backwards.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use chatio_core::Instant;

use chatio_core::{
    AccessToken, Config, Disconnect, DriverAction, Error, Operation, Output, Reply, SdkEvent, Session, TransportError,
};
use chatio_wire::{LicenseId, RequestId, SendFileResponse};

use crate::server::{CUSTOMER, Server};

/// What a command was, to check its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Issued {
    /// A `send_event` to a chat the server had when it was issued (or not).
    Event {
        chat_exists: bool,
    },
    Other,
}

/// The outcome of a finished command.
pub type Outcome = Result<Reply, Error>;

pub struct Sim {
    pub s: Session,
    pub server: Server,
    pub t0: Instant,
    pub now: Instant,
    /// The socket is open.
    pub open: bool,
    /// Frames the session wrote that the server has not read.
    pub to_server: VecDeque<String>,
    /// Frames the server wrote that the session has not read.
    pub to_client: VecDeque<String>,
    /// Driver actions not performed yet.
    pub actions: VecDeque<DriverAction>,
    pub events: Vec<SdkEvent>,
    /// Commands issued and not finished.
    pub outstanding: HashMap<RequestId, Issued>,
    /// Finished commands and their outcomes.
    pub finished: BTreeMap<String, (Issued, Outcome)>,
    /// The token the provider hands out when not asked for a fresh one.
    pub cached_token: Option<String>,
    /// The provider fails its next fetch.
    pub fail_next_token: bool,
    /// The last `poll_timeout` seen.
    last_deadline: Option<Instant>,
}

impl Sim {
    pub fn new(config: Config) -> Self {
        let t0 = Instant::now();
        let mut sim = Self {
            s: Session::new(config, t0),
            server: Server::new(),
            t0,
            now: t0,
            open: false,
            to_server: VecDeque::new(),
            to_client: VecDeque::new(),
            actions: VecDeque::new(),
            events: Vec::new(),
            outstanding: HashMap::new(),
            finished: BTreeMap::new(),
            cached_token: None,
            fail_next_token: false,
            last_deadline: None,
        };
        sim.pump(false);
        sim
    }

    pub fn config(seed: u64) -> Config {
        Config::new(LicenseId(100), seed)
    }

    /// Drains the session's outputs into the world and checks its contracts. `timed_out`:
    /// the last input was `handle_timeout`, so no deadline may be due any more.
    pub fn pump(&mut self, timed_out: bool) {
        while let Some(f) = self.s.poll_transmit() {
            assert!(self.open, "a frame while the socket is closed: {f}");
            self.to_server.push_back(f);
        }
        while let Some(a) = self.s.poll_action() {
            self.actions.push_back(a);
        }
        while let Some(o) = self.s.poll_event() {
            match o {
                Output::Event(e) => self.events.push(e),
                Output::Completed { id, result } => {
                    let issued = self
                        .outstanding
                        .remove(&id)
                        .unwrap_or_else(|| panic!("an outcome for {id}, which is not outstanding: {result:?}"));
                    self.finished.insert(id.to_string(), (issued, result));
                }
                other => panic!("unexpected output {other:?}"),
            }
        }
        let deadline = self.s.poll_timeout();
        if let Some(d) = deadline {
            if timed_out {
                assert!(d > self.now, "a deadline still due after handle_timeout");
            }
            // A deadline earlier than now may only be one already announced (not handled yet).
            assert!(d >= self.now || Some(d) == self.last_deadline, "poll_timeout went backwards");
        }
        self.last_deadline = deadline;
    }

    /// Records a command's id (which must not be pending already).
    pub fn issued(&mut self, id: RequestId, what: Issued) {
        assert!(!self.outstanding.contains_key(&id), "request id {id} reused while pending");
        self.outstanding.insert(id, what);
        self.pump(false);
    }

    pub fn at(&self) -> Duration {
        self.now.duration_since(self.t0)
    }

    /// Moves the clock and fires the session's timer if it is due.
    pub fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.s.poll_timeout().is_some_and(|d| d <= self.now) {
            self.s.handle_timeout(self.now);
            self.pump(true);
        }
    }

    /// Moves the clock to the session's deadline and fires it; false without one.
    pub fn advance_to_deadline(&mut self) -> bool {
        match self.s.poll_timeout() {
            Some(d) => {
                if d > self.now {
                    self.now = d;
                }
                self.s.handle_timeout(self.now);
                self.pump(true);
                true
            }
            None => false,
        }
    }

    /// The server reads up to `n` frames; `lose_response`: the first reply it writes is lost.
    pub fn deliver_to_server(&mut self, n: usize, lose_response: bool) {
        for i in 0..n {
            let Some(f) = self.to_server.pop_front() else { return };
            let mut out = self.server.handle(&f);
            if lose_response && i == 0 && !out.is_empty() {
                out.remove(0);
            }
            self.to_client.extend(out);
        }
    }

    /// The session reads up to `n` frames.
    pub fn deliver_to_client(&mut self, n: usize) {
        for _ in 0..n {
            let Some(f) = self.to_client.pop_front() else { return };
            self.s.handle_frame(&f, self.now);
            self.pump(false);
        }
    }

    /// A frame from the server's side (a push, or garbage).
    pub fn inject(&mut self, frame: &str) {
        if self.open {
            self.to_client.push_back(frame.to_owned());
        }
    }

    /// The connection drops: what is on the wire is lost.
    pub fn drop_connection(&mut self) {
        if !self.open {
            return;
        }
        // What the session wrote before the drop went to the socket, and is lost with it.
        self.pump(false);
        self.open = false;
        self.to_server.clear();
        self.to_client.clear();
        self.s
            .handle_disconnected(Disconnect::Failed(TransportError::msg(Operation::Socket, "reset by peer")), self.now);
        self.pump(false);
    }

    /// The driver performs every action asked so far.
    pub fn perform_actions(&mut self) {
        while let Some(a) = self.actions.pop_front() {
            match a {
                DriverAction::FetchToken { fresh } => {
                    if std::mem::take(&mut self.fail_next_token) {
                        self.s.handle_token_error(
                            Error::Transport(TransportError::msg(Operation::FetchToken, "the token endpoint is down")),
                            self.now,
                        );
                    } else {
                        let token = match (&self.cached_token, fresh) {
                            (Some(t), false) => t.clone(),
                            _ => self.server.issue_token(),
                        };
                        self.cached_token = Some(token.clone());
                        self.s.handle_token(AccessToken::bearer(token).with_customer_id(CUSTOMER), self.now);
                    }
                }
                DriverAction::Connect => {
                    if !self.open {
                        self.open = true;
                        self.server.connection_opened();
                        self.s.handle_connected(self.now);
                    }
                }
                DriverAction::Close => {
                    if self.open {
                        self.open = false;
                        self.to_server.clear();
                        self.to_client.clear();
                        let how = Disconnect::Closed { code: Some(1000), reason: "closed by the client".into() };
                        self.s.handle_disconnected(how, self.now);
                    }
                }
                DriverAction::Upload(u) => {
                    assert!(!u.access_token.is_empty(), "an upload without a token");
                    let url = format!("https://files.example/{}", u.fields.custom_id.clone().unwrap_or_default());
                    self.s.handle_upload_result(&u.id, Ok(SendFileResponse::new(url)), self.now);
                }
                DriverAction::CancelUpload { .. } => {}
                other => panic!("unexpected action {other:?}"),
            }
            self.pump(false);
        }
    }

    /// Runs the world with a perfect network until nothing is left to do: every command
    /// finished and the session idle (the clock jumps to each deadline when nothing moves).
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let before = (self.to_server.len(), self.to_client.len(), self.actions.len());
            self.perform_actions();
            self.deliver_to_server(usize::MAX, false);
            self.deliver_to_client(usize::MAX);
            let moved = before != (0, 0, 0) || !self.actions.is_empty() || !self.to_server.is_empty();
            if !moved {
                if self.outstanding.is_empty() && self.s.pending_count() == 0 && self.s.is_ready() {
                    return;
                }
                if self.s.is_closed() && self.outstanding.is_empty() {
                    return;
                }
                if !self.advance_to_deadline() {
                    // Disconnected by the user: connect again.
                    self.s.connect(self.now);
                    self.pump(false);
                    if self.actions.is_empty() {
                        break;
                    }
                }
            }
        }
        panic!(
            "the session did not settle by {:?}: outstanding {:?}, pending {}, ready {}",
            self.at(),
            self.outstanding,
            self.s.pending_count(),
            self.s.is_ready()
        );
    }

    /// Connects and logs in with a perfect network.
    pub fn connect(&mut self) {
        self.settle();
        assert!(self.s.is_ready());
    }
}
