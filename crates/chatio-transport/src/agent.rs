//! The agent session ([`chatio_core::agent::AgentSession`], the `agent` feature) on the same
//! driver, platforms and handle as the customer session: its [`DrivenSession`] and the typed
//! outcomes of its commands ([`FromReply`] of [`AgentReply`]).
//!
//! The agent websocket is `<server>/agent/v0.5/rtm/ws`, without a license parameter: the
//! token names the agent and its license.

use std::time::SystemTime;

use chatio_core::agent::{AgentEvent, AgentOutput, AgentReply, AgentSession, AgentStatus, ChatView};
use chatio_core::model::{Chat, Event};
use chatio_core::{AccessToken, Disconnect, DriverAction, Error, Instant, UploadFailure};
use chatio_wire::agent::AutoChatScopesConfig;
use chatio_wire::{RequestId, RoutingStatus, SendFileResponse, UserId};

use crate::reply::FromReply;
use crate::session::{DrivenSession, Endpoint, Polled};

/// What the driver publishes of an agent session after every step.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentSnapshot {
    /// Where the connection is.
    pub status: AgentStatus,
    /// The agent's id, once logged in.
    pub me: Option<UserId>,
    /// Its routing status, as the server last said.
    pub routing_status: Option<RoutingStatus>,
}

impl AgentSnapshot {
    fn of(s: &AgentSession) -> Self {
        Self { status: s.status(), me: s.my_id().cloned(), routing_status: s.routing_status().cloned() }
    }
}

/// The agent session (Agent API v0.5).
impl DrivenSession for AgentSession {
    type Event = AgentEvent;
    type Reply = AgentReply;
    type Snapshot = AgentSnapshot;

    fn endpoint(&self) -> Endpoint {
        Endpoint::new("agent/v0.5", None)
    }

    fn max_frame_len(&self) -> usize {
        self.config().max_frame_len
    }

    fn snapshot(&self) -> AgentSnapshot {
        AgentSnapshot::of(self)
    }

    fn span(&self) -> tracing::Span {
        tracing::info_span!("chatio.agent")
    }

    fn trace_event(event: &AgentEvent) {
        match event {
            AgentEvent::Reconnecting { attempt, delay } => {
                tracing::info!(attempt, delay_ms = delay.as_millis() as u64, "reconnecting");
            }
            AgentEvent::Error(err) => tracing::warn!(error = %err, "agent session error"),
            _ => {}
        }
    }

    fn handle_connected(&mut self, now: Instant) {
        AgentSession::handle_connected(self, now);
    }

    fn handle_frame(&mut self, text: &str, now: Instant) {
        AgentSession::handle_frame(self, text, now);
    }

    fn handle_binary_frame(&mut self, len: usize, now: Instant) {
        AgentSession::handle_binary_frame(self, len, now);
    }

    fn handle_disconnected(&mut self, how: Disconnect, now: Instant) {
        AgentSession::handle_disconnected(self, how, now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        AgentSession::handle_timeout(self, now);
    }

    fn handle_token(&mut self, token: AccessToken, now: Instant) {
        AgentSession::handle_token(self, token, now);
    }

    fn handle_token_error(&mut self, error: Error, now: Instant) {
        AgentSession::handle_token_error(self, error, now);
    }

    fn handle_upload_result(&mut self, id: &RequestId, result: Result<SendFileResponse, UploadFailure>, now: Instant) {
        AgentSession::handle_upload_result(self, id, result, now);
    }

    fn cancel(&mut self, id: &RequestId, now: Instant) -> bool {
        AgentSession::cancel(self, id, now)
    }

    fn destroy(&mut self, now: Instant) {
        AgentSession::destroy(self, now);
    }

    fn poll_transmit(&mut self) -> Option<String> {
        AgentSession::poll_transmit(self)
    }

    fn poll_action(&mut self) -> Option<DriverAction> {
        AgentSession::poll_action(self)
    }

    fn poll_output(&mut self) -> Option<Polled<AgentEvent, AgentReply>> {
        // `AgentOutput` may grow variants the driver does not know: skip them.
        loop {
            match AgentSession::poll_event(self)? {
                AgentOutput::Event(e) => return Some(Polled::Event(e)),
                AgentOutput::Completed { id, result } => return Some(Polled::Completed { id, result }),
                _ => {}
            }
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        AgentSession::poll_timeout(self)
    }
}

macro_rules! from_agent_reply {
    ($($(#[$doc:meta])* $ty:ty => $pat:pat => $out:expr;)+) => {
        $(
            $(#[$doc])*
            impl FromReply<AgentReply> for $ty {
                fn from_reply(reply: AgentReply) -> Result<Self, AgentReply> {
                    match reply {
                        $pat => Ok($out),
                        other => Err(other),
                    }
                }
            }
        )+
    };
}

/// Any agent command, its reply as it is.
impl FromReply<AgentReply> for AgentReply {
    fn from_reply(reply: AgentReply) -> Result<Self, AgentReply> {
        Ok(reply)
    }
}

from_agent_reply! {
    /// `start_chat`.
    Chat => AgentReply::Chat(c) => c;
    /// `send_event` and its shortcuts.
    Event => AgentReply::Event(e) => e;
    /// `get_filtered_chats`.
    Vec<ChatView> => AgentReply::Chats(c) => c;
    /// `update_last_seen_timestamp`.
    SystemTime => AgentReply::LastSeen(t) => t;
    /// `add_auto_chat_scopes`: the configuration's id.
    String => AgentReply::AutoChatScopesId(id) => id;
    /// `get_auto_chat_scopes_config`.
    Vec<AutoChatScopesConfig> => AgentReply::AutoChatScopesConfig(c) => c;
    /// The commands without a result.
    () => AgentReply::Done => ();
}
