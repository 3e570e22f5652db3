//! The agent side (the `agent` feature): [`AgentSession`], a sans-IO chat.io **Agent API
//! v0.5** session, the counterpart of the customer [`Session`](crate::Session) with the same
//! shape and driver contract (agent protocol file: `docs/protocol/agent-api-v0.5.md`).
//!
//! ```
//! use chatio_core::agent::{AgentConfig, AgentEvent, AgentOutput, AgentSession};
//! use chatio_core::{AccessToken, DriverAction, Instant};
//! use chatio_wire::ChatId;
//! use serde_json::{Value, json};
//!
//! let t0 = Instant::now(); // the driver's clock; the session never reads one
//! let mut s = AgentSession::new(AgentConfig::new(7), t0);
//! assert_eq!(s.poll_action(), Some(DriverAction::FetchToken { fresh: false }));
//! assert_eq!(s.poll_action(), Some(DriverAction::Connect));
//!
//! // The socket opened and the token came: `login`.
//! s.handle_connected(t0);
//! s.handle_token(AccessToken::bearer("agent-secret"), t0);
//! let login: Value = serde_json::from_str(&s.poll_transmit().unwrap()).unwrap();
//! assert_eq!(login["payload"]["token"], "Bearer agent-secret");
//!
//! // The server answers with the agent's profile and the chats it sees.
//! let profile = json!({"id": "john@example.com", "type": "agent", "name": "John", "routing_status": "accepting_chats"});
//! let answer = json!({"request_id": login["request_id"], "action": "login", "type": "response", "success": true,
//!     "payload": {"license": {"id": "1"}, "my_profile": profile, "chats_summary": []}});
//! s.handle_frame(&answer.to_string(), t0);
//! assert!(matches!(s.poll_event(), Some(AgentOutput::Event(AgentEvent::Connected { .. }))));
//! assert_eq!(s.my_id().map(|id| id.as_str()), Some("john@example.com"));
//!
//! // A customer's chat waits in the queue; the agent takes it.
//! let push = json!({"action": "incoming_chat_thread", "type": "push", "payload": {"chat": {"id": "C1",
//!     "users": [{"id": "c1", "type": "customer"}], "properties": {"routing": {"unassigned": {"value": true}}},
//!     "thread": {"id": "T1", "active": true, "order": 1, "user_ids": ["c1"], "events": []}}}});
//! s.handle_frame(&push.to_string(), t0);
//! assert_eq!(s.waiting_chats().len(), 1);
//! let take = s.take_chat(&ChatId::new("C1"), t0).unwrap();
//! let frame: Value = serde_json::from_str(&s.poll_transmit().unwrap()).unwrap();
//! assert_eq!(frame["action"], "join_chat");
//! assert_eq!(frame["payload"]["agent_ids"], json!(["john@example.com"]));
//! assert_eq!(frame["request_id"], take.to_string());
//! ```
//!
//! What it does, and where it differs from the customer session:
//!
//! * **Login**: `login` with `"<type> <token>"` (and the configured `application`); after the
//!   first success every login says `reconnect: true`, so a dropped connection keeps the
//!   routing status (H21). Its answer (profile, license, chats) is the whole connect
//!   sequence: [`AgentEvent::Connected`], then [`AgentEvent::ConnectionRestored`]. An
//!   `authentication` error asks a fresh token once; `license_expired` and
//!   `unsupported_version` stop the session.
//! * **Correlation, pings, health, timeouts, reconnects**: as the customer session (15 s
//!   timeouts, pings every 15 s once logged in, unstable after 20 s of silence, closed after
//!   35 s, capped backoff with jitter); requests in flight when the socket drops fail with
//!   [`Error::ConnectionLost`](crate::Error::ConnectionLost), those not written yet wait for
//!   the next login. There is no outbox: an agent re-sends by hand.
//! * **Final disconnects**: every documented `agent_disconnected` reason (push, or close 4000
//!   with the reason) stops the session; commands then fail with
//!   [`Error::Disconnected`](crate::Error::Disconnected) carrying the reason's text.
//! * **Chat state**: [`AgentSession::chats`] (users, last thread and event, properties, scopes,
//!   unread counts), [`AgentSession::waiting_chats`] (the queue), [`AgentSession::my_chats`];
//!   bounded by [`AgentConfig::max_chats`].
//! * **Pushes**: each becomes an [`AgentEvent`]; the requester's copy of a push that repeats
//!   its command's outcome updates the state only.

mod chats;
mod config;
mod output;
mod session;

pub use config::AgentConfig;
pub use output::{AgentEvent, AgentOutput, AgentReply, ChatView, ThreadInfo};
pub use session::{AgentSession, AgentStatus, MAX_ARCHIVES_LIMIT};
