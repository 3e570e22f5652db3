//! # chatio-server
//!
//! The reference server of the chat.io **Customer API v0.5**: a real, complete, in-memory
//! implementation of the protocol (`docs/protocol/customer-api-v0.5.md`), built on the
//! `chatio-wire` types. The demo runs on it, every end-to-end test talks to it, and any client
//! written from the reference document works against it.
//!
//! ## Running it
//!
//! As a binary:
//!
//! ```text
//! cargo run -p chatio-server -- --listen 127.0.0.1:0
//! chatio-server listening on http://127.0.0.1:40213 (licenses [100])
//! ```
//!
//! Options: `--listen HOST:PORT` (default `127.0.0.1:8080`, port 0 = any free port),
//! `--license N` (repeatable, default `100`), `--no-agent`, `--agent-delay-ms MS`,
//! `--max-connections-per-customer N` (10), `--idle-timeout-s S` (60), `--admin` (fault
//! injection routes), `--seed N`, `--workers N`. Logs go to stderr (`RUST_LOG` filters).
//!
//! As a library, in-process on an ephemeral port (from any async runtime: the server runs its
//! own tokio runtime on its own thread):
//!
//! ```
//! # futures::executor::block_on(async {
//! let server = chatio_server::Server::builder().ephemeral().seed(7).start().await?;
//! let (token, customer) = server.create_token(100, None).expect("license 100 exists");
//! assert!(server.ws_url(100).ends_with("/customer/v0.5/rtm/ws?license_id=100"));
//! server.shutdown().await;
//! # Ok::<(), std::io::Error>(()) }).unwrap();
//! ```
//!
//! ## Endpoints
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /customer/v0.5/rtm/ws?license_id=N` | RTM websocket: every action, pushes to every connection of the customer (the requester's copy carries its `request_id`) |
//! | `POST /customer/v0.5/action/<action>?license_id=N` | Web API, `Authorization: Bearer <token>`; JSON bodies, `send_file` as multipart (10 MiB max, 413 above) |
//! | `POST /customer/` | customer token endpoint: `client_id`, `response_type=token`, `redirect_uri`, optional `customer_id`, `valid_for`, `license_id` (form, JSON or query) |
//! | `GET /api/file/chatio/att/<license>/<hex>.<ext>` | uploaded files |
//! | `GET /licence/<license>/config.json` | the static config (`{}`) |
//! | `POST /admin/<op>?license_id=N&customer_id=ID` | fault injection, with `--admin` only: `drop`, `ban`, `unban`, `expire_tokens`, `delay_next_response&ms=`, `swallow_next_response`, `malformed`, `token` |
//!
//! Other versions in the path get `unsupported_version`; `/customer/rtm/ws` and
//! `/customer/action/<action>` act as v0.5; `…/rtm/sio` answers 404.
//!
//! ## The scripted agent
//!
//! "Chatio Bot" joins every new chat (`chat_users_updated`, then an `agent_joined` system
//! message), greets, and answers each customer message with typing on/off and a reply. Its
//! commands trigger every push on demand:
//!
//! `/help`, `/rich`, `/file`, `/form`, `/annotation`, `/custom`, `/system`, `/multicast`,
//! `/props`, `/scopes`, `/seen`, `/typing`, `/close`, `/leave`, `/echo TEXT`.
//!
//! With a delay of 0 (the library default) every step runs right after the request that
//! caused it, so the frames are the same every run.
//!
//! ## Fault injection
//!
//! Through [`ServerHandle`]: [`drop_connections`](ServerHandle::drop_connections),
//! [`delay_next_response`](ServerHandle::delay_next_response),
//! [`swallow_next_response`](ServerHandle::swallow_next_response),
//! [`send_malformed_frame`](ServerHandle::send_malformed_frame),
//! [`expire_tokens`](ServerHandle::expire_tokens), [`ban`](ServerHandle::ban) /
//! [`unban`](ServerHandle::unban), [`restart`](ServerHandle::restart) (state kept).
//!
//! ## Semantics
//!
//! Ids, orders and timestamps follow the protocol file's decisions (G1, G2, seconds). Only a
//! chat's customer may read or write it (`authorization` otherwise). Every payload is
//! validated with a message naming the field. Malformed JSON, unknown actions and binary
//! frames get a `validation` error response and the connection stays open; frames over 1 MiB
//! close it with 1009; a connection silent longer than the idle timeout is closed with 4001
//! `ping_timeout`; too many connections, an unknown license or a ban send
//! `customer_disconnected` and close with 4000.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod agent;
pub mod cli;
mod config;
mod conn;
mod engine;
mod files;
mod http;
mod hub;
mod server;
mod store;

pub use config::ServerConfig;
pub use server::{Server, ServerBuilder, ServerHandle};
