//! A simulated world for an agent session, like the customer session's (`crate::sim`): the
//! session, the model agent server, an in-memory socket each way, a token provider, a driver
//! performing the session's actions, and a fake clock; nothing sleeps, nothing touches the
//! network. Every step checks the session's contracts: each outcome is for a command issued
//! and not finished (so each completes at most once), a new request id is never one still
//! pending, and `poll_timeout` never goes backwards.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::Duration;

use chatio_core::agent::{AgentConfig, AgentEvent, AgentOutput, AgentReply, AgentSession};
use chatio_core::{AccessToken, Disconnect, DriverAction, Error, Instant, Operation, TransportError};
use chatio_wire::RequestId;

use super::server::AgentServer;

pub type Outcome = Result<AgentReply, Error>;

pub struct AgentSim {
    pub s: AgentSession,
    pub server: AgentServer,
    pub now: Instant,
    pub open: bool,
    pub to_server: VecDeque<String>,
    pub to_client: VecDeque<String>,
    pub actions: VecDeque<DriverAction>,
    pub events: Vec<AgentEvent>,
    /// Commands issued and not finished.
    pub outstanding: HashMap<RequestId, &'static str>,
    /// Finished commands and their outcomes.
    pub finished: BTreeMap<String, (&'static str, Outcome)>,
    pub cached_token: Option<String>,
    pub fail_next_token: bool,
    /// No push was lost since the last login: the session's chats must be the server's.
    pub lossless: bool,
    last_deadline: Option<Instant>,
}

impl AgentSim {
    pub fn new(config: AgentConfig) -> Self {
        let t0 = Instant::now();
        let mut sim = Self {
            s: AgentSession::new(config, t0),
            server: AgentServer::new(),
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
            lossless: false,
            last_deadline: None,
        };
        sim.pump(false);
        sim
    }

    /// Drains the session's outputs into the world and checks its contracts.
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
                AgentOutput::Event(e) => {
                    if matches!(e, AgentEvent::Connected { .. } | AgentEvent::ConnectionRestored { .. }) {
                        self.lossless = true;
                    }
                    self.events.push(e);
                }
                AgentOutput::Completed { id, result } => {
                    let what = self
                        .outstanding
                        .remove(&id)
                        .unwrap_or_else(|| panic!("an outcome for {id}, which is not outstanding: {result:?}"));
                    self.finished.insert(id.to_string(), (what, result));
                }
                other => panic!("unexpected output {other:?}"),
            }
        }
        let deadline = self.s.poll_timeout();
        if let Some(d) = deadline {
            if timed_out {
                assert!(d > self.now, "a deadline still due after handle_timeout");
            }
            assert!(d >= self.now || Some(d) == self.last_deadline, "poll_timeout went backwards");
        }
        self.last_deadline = deadline;
    }

    /// Records a command's outcome: its id must not be pending already.
    pub fn issued(&mut self, r: Result<RequestId, Error>, what: &'static str) -> Option<RequestId> {
        match r {
            Ok(id) => {
                assert!(!self.outstanding.contains_key(&id), "request id {id} reused while pending");
                self.outstanding.insert(id.clone(), what);
                self.pump(false);
                Some(id)
            }
            Err(e) => {
                assert!(
                    matches!(e, Error::InvalidArgs { .. } | Error::Closed | Error::Disconnected { .. }),
                    "{what} refused with {e:?}"
                );
                self.pump(false);
                None
            }
        }
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
        let Some(d) = self.s.poll_timeout() else { return false };
        if d > self.now {
            self.now = d;
        }
        self.s.handle_timeout(self.now);
        self.pump(true);
        true
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

    /// Frames from the server's side (pushes, or garbage); lost while the socket is closed.
    pub fn inject(&mut self, frames: Vec<String>) {
        if self.open {
            self.to_client.extend(frames);
        }
    }

    /// What the server wrote and the session has not read is lost with the socket.
    pub fn lose_pushes(&mut self) {
        if !self.to_client.is_empty() {
            self.lossless = false;
        }
        self.to_client.clear();
    }

    /// The connection drops: what is on the wire is lost.
    pub fn drop_connection(&mut self) {
        if !self.open {
            return;
        }
        self.pump(false);
        self.open = false;
        self.to_server.clear();
        self.lose_pushes();
        let how = Disconnect::Failed(TransportError::msg(Operation::Socket, "reset by peer"));
        self.s.handle_disconnected(how, self.now);
        self.pump(false);
    }

    /// The driver performs every action asked so far.
    pub fn perform_actions(&mut self) {
        while let Some(a) = self.actions.pop_front() {
            match a {
                DriverAction::FetchToken { fresh } => {
                    if std::mem::take(&mut self.fail_next_token) {
                        let err = Error::Transport(TransportError::msg(
                            Operation::FetchToken,
                            "the accounts service is down",
                        ));
                        self.s.handle_token_error(err, self.now);
                    } else {
                        let token = match (&self.cached_token, fresh) {
                            (Some(t), false) => t.clone(),
                            _ => self.server.issue_token(),
                        };
                        self.cached_token = Some(token.clone());
                        self.s.handle_token(AccessToken::bearer(token), self.now);
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
                        self.lose_pushes();
                        let how = Disconnect::Closed { code: Some(1000), reason: "closed by the client".into() };
                        self.s.handle_disconnected(how, self.now);
                    }
                }
                other => panic!("unexpected action {other:?}"),
            }
            self.pump(false);
        }
    }

    /// Runs the world with a perfect network until every command finished and the session is
    /// idle (the clock jumps to each deadline when nothing moves).
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
                    self.s.connect(self.now);
                    self.pump(false);
                    if self.actions.is_empty() {
                        break;
                    }
                }
            }
        }
        panic!(
            "the session did not settle: outstanding {:?}, pending {}, status {:?}",
            self.outstanding,
            self.s.pending_count(),
            self.s.status()
        );
    }

    /// Connects and logs in with a perfect network.
    pub fn connect(&mut self) {
        self.settle();
        assert!(self.s.is_ready());
    }
}
