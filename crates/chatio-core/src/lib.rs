//! # chatio-core
//!
//! The whole client side of a chat.io **Customer API v0.5** session as a state machine that
//! does no I/O, reads no clock, spawns nothing and draws no randomness of its own. Embed it
//! in any runtime (or none): feed it what happens, do what it asks.
//!
//! ```text
//!              your driver (sockets, timers, HTTP)                 the session (pure)
//!   ┌──────────────────────────────────────────────┐     ┌──────────────────────────────┐
//!   │ socket opened ─────────────────────────────────────▶ handle_connected(now)       │
//!   │ text frame in ─────────────────────────────────────▶ handle_frame(text, now)     │
//!   │ socket closed ─────────────────────────────────────▶ handle_disconnected(.., now)│
//!   │ deadline passed ───────────────────────────────────▶ handle_timeout(now)         │
//!   │ token fetched ─────────────────────────────────────▶ handle_token(token, now)    │
//!   │ upload done ───────────────────────────────────────▶ handle_upload_result(..)    │
//!   │ user calls ────────────────────────────────────────▶ send_message(..) → id       │
//!   │                                              │     │                              │
//!   │ write frames ◀───────────────────────────────────── poll_transmit()              │
//!   │ connect / close / fetch token / upload ◀─────────── poll_action()                │
//!   │ hand to the user ◀───────────────────────────────── poll_event()                 │
//!   │ arm the timer ◀──────────────────────────────────── poll_timeout()               │
//!   └──────────────────────────────────────────────┘     └──────────────────────────────┘
//! ```
//!
//! After each input or command, drain `poll_transmit`, `poll_action` and `poll_event`, then
//! arm a timer for `poll_timeout`. See [`Session`] for the method kinds.
//!
//! ## Driving a session by hand
//!
//! ```
//! use std::time::{Duration, Instant};
//! use chatio_core::{AccessToken, Config, DriverAction, Output, Reply, SdkEvent, Session};
//! use chatio_wire::{ChatId, LicenseId};
//!
//! let t0 = Instant::now(); // the driver's clock; the session never reads one
//! let mut s = Session::new(Config::new(LicenseId(100), 42), t0);
//! assert_eq!(s.poll_action(), Some(DriverAction::FetchToken { fresh: false }));
//! assert_eq!(s.poll_action(), Some(DriverAction::Connect));
//!
//! // The driver fetched a token and opened the websocket.
//! s.handle_token(AccessToken::bearer("secret").with_customer_id("cust-1"), t0);
//! s.handle_connected(t0);
//! let login = s.poll_transmit().unwrap();
//! assert!(login.contains(r#""action":"login""#) && login.contains("Bearer secret"));
//!
//! // The server answers login, then the chats summary.
//! let id = |frame: &str| serde_json::from_str::<serde_json::Value>(frame).unwrap()["request_id"].clone();
//! s.handle_frame(&format!(r#"{{"request_id":{},"action":"login","type":"response","success":true,"payload":{{"customer_id":"cust-1"}}}}"#, id(&login)), t0);
//! let summary = s.poll_transmit().unwrap();
//! s.handle_frame(&format!(r#"{{"request_id":{},"action":"get_chats_summary","type":"response","success":true,"payload":{{"chats_summary":[],"total_chats":0}}}}"#, id(&summary)), t0);
//!
//! let mut connected = false;
//! while let Some(out) = s.poll_event() {
//!     if let Output::Event(SdkEvent::Connected { total_chats, .. }) = out {
//!         connected = true;
//!         assert_eq!(total_chats, 0);
//!     }
//! }
//! assert!(connected);
//!
//! // A command: the frame goes out at once, the outcome arrives with the response.
//! let msg = s.send_message(&ChatId::new("C1"), "hello", t0).unwrap();
//! let frame = s.poll_transmit().unwrap();
//! s.handle_frame(&format!(r#"{{"request_id":{},"action":"send_event","type":"response","success":true,"payload":{{"thread_id":"T1","event":{{"id":"T1_1","order":1,"type":"message","author_id":"cust-1","timestamp":1520000000,"text":"hello"}}}}}}"#, id(&frame)), t0);
//! match s.poll_event() {
//!     Some(Output::Completed { id, result: Ok(Reply::Event(e)) }) => {
//!         assert_eq!(id, msg);
//!         assert_eq!(e.text(), Some("hello"));
//!     }
//!     other => panic!("unexpected {other:?}"),
//! }
//!
//! // Keep-alive: a ping is due 15 s later.
//! assert!(s.poll_timeout().unwrap() <= t0 + Duration::from_secs(15));
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod chats;
mod config;
mod error;
mod history;
pub mod model;
mod outbox;
mod output;
mod rng;
mod session;
mod timer;
mod token;

pub use config::{Backoff, Config, OutboxPolicy};
pub use error::Error;
pub use output::{Disconnect, DriverAction, FileSpec, HistoryId, Output, Rating, Reply, SdkEvent, UploadRequest};
pub use session::{MAX_ID_LEN, MAX_TEXT_LEN, Session, UploadFailure, check_sneak_peek};
pub use token::AccessToken;
