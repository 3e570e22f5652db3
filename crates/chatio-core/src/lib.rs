//! # chatio-core
//!
//! The whole client side of a chat.io **Customer API v0.5** session — everything the JS SDK
//! 0.9.1 does between the socket and its user, and the parts it got wrong done right — as a
//! state machine that does no I/O, reads no clock, spawns nothing, keeps no global state and
//! draws no randomness but from the seed it is given. Embed it in any runtime (or none): feed
//! it what happens, do what it asks. `chatio-transport` is such a driver.
//!
//! ## The core does no I/O
//!
//! ```text
//!              your driver (sockets, timers, HTTP)                 the session (pure)
//!   ┌──────────────────────────────────────────────┐     ┌───────────────────────────────┐
//!   │ socket opened ─────────────────────────────────────▶ handle_connected(now)        │
//!   │ text frame in ─────────────────────────────────────▶ handle_frame(text, now)      │
//!   │ socket closed / failed ────────────────────────────▶ handle_disconnected(how, now)│
//!   │ the deadline passed ───────────────────────────────▶ handle_timeout(now)          │
//!   │ token fetched / failed ────────────────────────────▶ handle_token(_error)(.., now)│
//!   │ upload finished ───────────────────────────────────▶ handle_upload_result(..)     │
//!   │ the user calls ────────────────────────────────────▶ send_message(..) -> id       │
//!   │                                              │     │                               │
//!   │ write text frames ◀──────────────────────────────── poll_transmit()               │
//!   │ fetch token / connect / close / upload ◀─────────── poll_action()                 │
//!   │ hand events and outcomes to the user ◀───────────── poll_event()                  │
//!   │ arm one timer ◀─────────────────────────────────── poll_timeout()                 │
//!   └──────────────────────────────────────────────┘     └───────────────────────────────┘
//! ```
//!
//! Every input takes `now: Instant` from the driver's clock. The session compares instants it
//! was given and nothing else, so tests run on simulated time.
//!
//! [`Instant`] is the [`web-time`](https://docs.rs/web-time) crate's: on native targets it *is*
//! `std::time::Instant` (a re-export, so nothing changes there); on `wasm32-unknown-unknown`,
//! where `std::time::Instant::now()` panics, it reads the browser's `performance.now()`. A
//! driver takes its instants from `chatio_core::Instant::now()` and runs everywhere.
//!
//! ## Poll order
//!
//! After **every** input or command, drain in this order, then wait for the next input:
//!
//! 1. [`Session::poll_transmit`] until `None`: write each frame to the socket;
//! 2. [`Session::poll_action`] until `None`: start each [`DriverAction`] (fetch a token, open
//!    or close the socket, upload or stop uploading a file); their results come back later as
//!    inputs;
//! 3. [`Session::poll_event`] until `None`: hand each [`Output`] to the user — an
//!    [`SdkEvent`], or the outcome of a command ([`Output::Completed`], exactly once per
//!    command);
//! 4. [`Session::poll_timeout`]: (re)arm one timer; when it fires call
//!    [`Session::handle_timeout`] and drain again.
//!
//! ## Driving a session by hand
//!
//! A complete run with a pretend server: connect, log in, send a message, keep the connection
//! alive.
//!
//! ```
//! use std::time::Duration;
//! use chatio_core::{AccessToken, Instant, Config, DriverAction, Output, Reply, SdkEvent, Session};
//! use chatio_wire::{ChatId, LicenseId};
//! use serde_json::{Value, json};
//!
//! /// What one round of draining produced.
//! #[derive(Default)]
//! struct Drained { frames: Vec<Value>, actions: Vec<DriverAction>, outputs: Vec<Output> }
//!
//! /// The poll order: frames, actions, outputs.
//! fn drain(s: &mut Session) -> Drained {
//!     let mut d = Drained::default();
//!     while let Some(f) = s.poll_transmit() {
//!         d.frames.push(serde_json::from_str(&f).unwrap());
//!     }
//!     while let Some(a) = s.poll_action() {
//!         d.actions.push(a);
//!     }
//!     while let Some(o) = s.poll_event() {
//!         d.outputs.push(o);
//!     }
//!     d
//! }
//!
//! /// The server's success response to a client frame.
//! fn answer(request: &Value, payload: Value) -> String {
//!     json!({"request_id": request["request_id"], "action": request["action"],
//!            "type": "response", "success": true, "payload": payload}).to_string()
//! }
//!
//! let t0 = Instant::now(); // the driver's clock; the session never reads one
//! let mut s = Session::new(Config::new(LicenseId(100), 42), t0);
//!
//! // The session wants a token and a socket, at once.
//! let d = drain(&mut s);
//! assert_eq!(d.actions, [DriverAction::FetchToken { fresh: false }, DriverAction::Connect]);
//!
//! // The driver opened the websocket and got a token: the session logs in.
//! s.handle_connected(t0);
//! s.handle_token(AccessToken::bearer("secret").with_customer_id("cust-1"), t0);
//! let d = drain(&mut s);
//! let login = &d.frames[0];
//! assert_eq!(login["action"], "login");
//! assert_eq!(login["payload"]["token"], "Bearer secret");
//! assert!(matches!(&d.outputs[..], [Output::Event(SdkEvent::CustomerId(id))] if id.as_str() == "cust-1"));
//!
//! // A command before the login finished is queued, not written.
//! let chat = ChatId::new("C1");
//! let msg = s.send_message(&chat, "hello", t0).unwrap();
//! assert!(drain(&mut s).frames.is_empty());
//!
//! // The server accepts the login; the session asks for the chats summary.
//! let t1 = t0 + Duration::from_millis(30);
//! s.handle_frame(&answer(login, json!({"customer_id": "cust-1"})), t1);
//! let d = drain(&mut s);
//! let summary = &d.frames[0];
//! assert_eq!(summary["action"], "get_chats_summary");
//!
//! // The summary ends the connect sequence: `Connected`, then the queued message goes out.
//! s.handle_frame(&answer(summary, json!({"chats_summary": [], "total_chats": 0})), t1);
//! let d = drain(&mut s);
//! assert!(matches!(d.outputs[0], Output::Event(SdkEvent::Connected { total_chats: 0, .. })));
//! let send = &d.frames[0];
//! assert_eq!(send["action"], "send_event");
//! assert_eq!(send["request_id"], msg.to_string());
//! assert_eq!(send["payload"]["event"]["text"], "hello");
//! // Every event gets a custom id, so that it is sent exactly once across reconnects.
//! let custom_id = send["payload"]["event"]["custom_id"].clone();
//!
//! // The response resolves the command; times become `SystemTime`s.
//! let event = json!({"id": "T1_1", "order": 1, "type": "message", "author_id": "cust-1",
//!                    "timestamp": 1520000000, "text": "hello", "custom_id": custom_id});
//! s.handle_frame(&answer(send, json!({"thread_id": "T1", "event": event})), t1);
//! match drain(&mut s).outputs.as_slice() {
//!     [Output::Completed { id, result: Ok(Reply::Event(e)) }] => {
//!         assert_eq!(*id, msg);
//!         assert_eq!(e.text(), Some("hello"));
//!         assert_eq!(e.timestamp, std::time::UNIX_EPOCH + Duration::from_secs(1520000000));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//!
//! // Nothing else to do until the keep-alive, 15 s after the socket opened.
//! let ping_at = s.poll_timeout().unwrap();
//! assert_eq!(ping_at, t0 + Duration::from_secs(15));
//! s.handle_timeout(ping_at);
//! assert_eq!(drain(&mut s).frames, [json!({"action": "ping"})]);
//! ```
//!
//! ## What the session does
//!
//! * **Connect sequence** (protocol file 6.2): `login` with `"<type> <token>"` and the
//!   configured customer data, then `get_chats_summary`, then [`SdkEvent::Connected`] (first
//!   time) or [`SdkEvent::ConnectionRestored`], preceded by a [`SdkEvent::UserData`] per user.
//!   [`SdkEvent::CustomerId`] comes from the token (`entity_id`) or the login response.
//!   Commands issued before the login finished are written after it, in order (the JS SDK
//!   wrote them before `login`, 6.14).
//! * **Tokens**: an `authentication` error at login asks a fresh token
//!   ([`DriverAction::FetchToken`] `{ fresh: true }`) and logs in once more; a second failure
//!   is reported ([`SdkEvent::Error`] with [`Error::Authentication`]), the connection closed
//!   and tried again with the login backoff. A token past its `expires_in` is replaced before
//!   logging in.
//! * **Correlation** (G32): request ids are unique among pending requests; every request is
//!   resolved by its direct response, or fails with [`Error::Timeout`] 15 s after it was
//!   issued, with [`Error::ConnectionLost`] when the socket drops under it. The requester's
//!   copy of a push only updates the chat state and emits the side events the JS SDK emits
//!   (`UserData`, `ThreadSummary`), never a duplicate `NewEvent`. A push for a request
//!   nobody waits for is an ordinary event; nothing the server sends makes the session panic.
//! * **Keep-alive and health**: a `{"action":"ping"}` frame every 15 s once logged in. Any
//!   frame from the server proves the connection alive; after
//!   [`Config::unstable_after`] (20 s) of silence the session emits
//!   [`SdkEvent::ConnectionUnstable`] and probes with a ping, after [`Config::dead_after`]
//!   (35 s) it takes the connection for half-open (network gone, no FIN), reports an
//!   [`Error::Transport`] event, closes it and reconnects; a frame arriving in between emits
//!   [`SdkEvent::ConnectionRecovered`].
//! * **Reconnects**: capped exponential backoff with jitter ([`Backoff`]: 1 s to 5 s, jitter
//!   0.5 after a drop; 0.3 s to 60 s, jitter 0.3 after failed logins). `customer_banned`,
//!   `license_not_found` and `unsupported_version` (push or close code 4000) stop the session
//!   ([`SdkEvent::Disconnected`], everything fails with [`Error::Disconnected`]).
//!   `too_many_connections` is **not** final: the session reconnects, but only after the
//!   maximum reconnect delay (the protocol file's G9, chosen over the issue's "no reconnect").
//! * **Outbox** ([`OutboxPolicy::Resend`], the default): every `send_event` carries a
//!   `custom_id` (generated when absent); events in flight when the socket drops are not
//!   failed: after the reconnect the session reads the chat's newest threads, resolves those
//!   that arrived and resends only the rest, in order — never lost, never sent twice.
//!   [`OutboxPolicy::FailOnDisconnect`] keeps the JS behaviour.
//! * **History** ([`Session::chat_history`], [`Session::history_next`]): pages of about 50
//!   events, whole threads, newest first, with the JS SDK's algorithm (6.7) fixed to read
//!   `total_events` (falling back on `events_count`, D2); concurrent calls answered in order.
//! * **Sneak peeks**: one frame per 2 s per chat, the last text winning; none for chats whose
//!   last thread is known to be closed.
//! * **Pushes**: every push of the protocol becomes a typed [`SdkEvent`] (those the JS SDK
//!   emits under their raw push names included); unknown ones become [`SdkEvent::UnknownPush`].
//! * **Times**: wire seconds become [`SystemTime`](std::time::SystemTime)s once, here.
//!
//! ## Crate features
//!
//! * `agent` (off by default): `chatio_core::agent`, the agent session (Agent API v0.5) with
//!   the same shape and driver contract, and the agent-view fields of [`model`]'s users, events
//!   and threads. A customer client leaves it off.
//!
//! ## Errors
//!
//! One [`Error`] enum for command outcomes and reported problems: refusals before anything
//! is sent ([`Error::InvalidArgs`]), the server's errors with their documented type
//! ([`Error::Server`], [`Error::Authentication`]), and what happened to the connection.
//!
//! ## Secrets
//!
//! [`AccessToken`], [`UploadRequest`] and [`Session`] never show the token in `Debug` output,
//! and no error carries it.
//!
//! ## Architecture invariants
//!
//! * No I/O, no clock, no threads, no global state; randomness only from
//!   [`Config::rng_seed`] (request ids, custom ids, jitter): the same inputs give the same
//!   outputs.
//! * Every command returns at once and completes exactly once.
//! * Decoding untrusted frames never panics (`chatio-wire`), and neither does the session.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

#[cfg(feature = "agent")]
pub mod agent;
mod backoff;
mod chats;
mod config;
mod error;
mod history;
mod history_cache;
pub mod model;
mod order;
mod outbox;
mod output;
mod output_json;
mod pending;
mod persist;
mod rng;
mod session;
mod sneak;
mod timer;
mod token;
mod validate;

pub use backoff::Backoff;
pub use config::{
    Config, DEFAULT_CACHED_CHATS, DEFAULT_CACHED_EVENTS, DEFAULT_MAX_FRAME_LEN, DEFAULT_MAX_OUTBOX,
    MAX_VERIFY_ATTEMPTS, OutboxPolicy,
};
pub use error::{
    Cause, EXCERPT_LEN, Error, ErrorKind, Operation, ProtocolError, ProtocolErrorKind, TransportError, chain,
};
pub use output::{Disconnect, DriverAction, FileSpec, HistoryId, Output, Rating, Reply, SdkEvent, UploadRequest};
pub use persist::{CachedChat, CachedEvent, StoreChange, StoredEvent, StoredState};
pub use session::{ConnectionStatus, REFRESH_AHEAD, Session, UploadFailure};
pub use token::AccessToken;
pub use validate::{MAX_FIELD_LEN, MAX_FIELDS, MAX_ID_LEN, MAX_TEXT_LEN, check_sneak_peek};
/// The session's clock type: `std::time::Instant` on native targets, `performance.now()` in a
/// browser (`web-time`).
pub use web_time::Instant;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
