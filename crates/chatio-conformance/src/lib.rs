//! # chatio-conformance
//!
//! Recorded conformance transcripts of the chat.io Customer API v0.5, and the two replays
//! that keep the SDK and the reference server honest:
//!
//! * [`record`]: scripted SDK sessions (connect, every method, every push the agent can
//!   trigger, errors, reconnect, token refresh, history, file upload, outbox recovery) run
//!   against the reference server and are written to `fixtures/recorded/*.jsonl`
//!   (`cargo xtask record`);
//! * [`replay_core`]: each transcript drives a [`chatio_core::Session`]: server frames in,
//!   client frames compared; its outputs are snapshotted;
//! * [`replay_server`]: each transcript drives a fresh [`chatio_server`]: client frames in,
//!   server frames compared.
//!
//! The agent side: [`record_agent`] records scripted agent sessions (`chatio-agent-sdk`,
//! with a customer in the same chats) into `fixtures/recorded-agent/*.jsonl`, and
//! [`replay_agent_core`] drives a [`chatio_core::agent::AgentSession`] from each (outputs
//! snapshotted).
//!
//! Another implementation is checked with the same transcripts:
//!
//! * [`check_server`]: `chatio conformance server URL` replays the client side against any
//!   running v0.5 server, pairing ids as they come ([`compare`]);
//! * [`serve`]: `chatio conformance serve` plays the server side on a local port for any
//!   client;
//!
//! both giving a [`report::Report`]. Failures are one typed [`Error`].
//!
//! A change in either side's behaviour shows up as a failing replay or a snapshot diff.
//! The format is in [`transcript`]; `docs/conformance.md` explains how another
//! implementation can be checked against the transcripts.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod check_server;
pub mod compare;
mod error;
mod live;
pub mod normalize;
pub mod record;
pub mod record_agent;
pub mod replay_agent_core;
pub mod replay_core;
pub mod replay_server;
pub mod report;
pub mod serve;
pub mod summary;
pub mod transcript;

pub use error::Error;

/// The bytes of a recorded upload of `size` bytes: `i % 256`.
pub fn upload_bytes(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i % 256) as u8).collect()
}
