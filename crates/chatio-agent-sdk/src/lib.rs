//! # chatio-agent-sdk
//!
//! The chat.io **Agent SDK** for Rust: the agent side of a chat, as an idiomatic async API
//! over the Agent API v0.5. Log in with an agent token, see the chats waiting in the queue
//! and the ones assigned to you, take a chat, answer, whisper to other agents, send images,
//! close threads, ban customers, give a chat back to the queue, receive every agent push as a
//! typed event.
//!
//! It is the same machinery as `chatio-customer-sdk`: the sans-IO agent session of
//! [`chatio_core::agent`] driven by the transport's one driver (on async-std, smol, tokio or
//! in a browser), so pings, request timeouts, reconnects with backoff and the re-login with
//! `reconnect: true` behave as on the customer side.
//!
//! ## Getting started
//!
//! ```
//! use chatio_agent_sdk::{AgentEvent, AgentSdk, AgentToken, Config};
//! use futures::StreamExt;
//!
//! # fn block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     #[cfg(feature = "tokio")]
//! #     return tokio::runtime::Runtime::new().expect("tokio").block_on(f);
//! #     #[cfg(not(feature = "tokio"))]
//! #     return async_std::task::block_on(f);
//! # }
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # block_on(async {
//! // The reference server in-process, with an agent and its fixed token (a deployment gives
//! // its URL, and the token comes from the accounts sign-in).
//! let server = chatio_server::Server::builder()
//!     .ephemeral()
//!     .agent(false)
//!     .agent_token(100, "jane@example.com", "jane-token-0123456789")
//!     .start()
//!     .await?;
//!
//! let sdk = AgentSdk::init(Config::new(server.http_url(), AgentToken::bearer("jane-token-0123456789")))?;
//! let mut events = sdk.events();
//! while let Some(event) = events.next().await {
//!     if let AgentEvent::Connected { me, chats, .. } = &*event {
//!         println!("{} is in, {} chats", me.id, chats.len());
//!         break;
//!     }
//! }
//! // Chats the router gives this agent arrive as `IncomingChat`; waiting ones are in
//! // `sdk.waiting_chats()`, to take with `sdk.take_chat(&id)`.
//! assert!(sdk.waiting_chats().await?.is_empty());
//! sdk.destroy().await;
//! server.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(()) })
//! # }
//! ```
//!
//! ## Methods
//!
//! Every Agent API action has a method; a few shortcuts
//! name what a person does:
//!
//! | Action | Method |
//! |---|---|
//! | `login` | [`AgentSdk::init`] (and again after every reconnect, with `reconnect: true`) |
//! | `get_filtered_chats`, `get_chat_threads`, `get_archives` | [`get_filtered_chats`](AgentSdk::get_filtered_chats), [`chat_threads`](AgentSdk::chat_threads), [`archives`](AgentSdk::archives) |
//! | `start_chat` | [`start_chat`](AgentSdk::start_chat) |
//! | `join_chat` | [`join_chat`](AgentSdk::join_chat), [`take_chat`](AgentSdk::take_chat) (oneself: a chat leaves the queue) |
//! | `remove_from_chat` | [`remove_from_chat`](AgentSdk::remove_from_chat), [`leave_chat`](AgentSdk::leave_chat) (oneself: back to the queue) |
//! | `send_event` | [`send_event`](AgentSdk::send_event), [`send_message`](AgentSdk::send_message), [`send_whisper`](AgentSdk::send_whisper) (agents only) |
//! | `upload_image` | [`upload_image`](AgentSdk::upload_image), [`send_image`](AgentSdk::send_image) (upload, then a rich message showing it) |
//! | `send_rich_message_postback`, `multicast`, `send_typing_indicator` | [`send_rich_message_postback`](AgentSdk::send_rich_message_postback), [`multicast`](AgentSdk::multicast), [`send_typing_indicator`](AgentSdk::send_typing_indicator) |
//! | `ban_customer`, `close_thread`, `update_chat_scopes` | [`ban_customer`](AgentSdk::ban_customer), [`close_thread`](AgentSdk::close_thread), [`update_chat_scopes`](AgentSdk::update_chat_scopes) |
//! | `update_agent` | [`set_routing_status`](AgentSdk::set_routing_status), [`update_agent`](AgentSdk::update_agent) |
//! | `change_push_notifications` | [`change_push_notifications`](AgentSdk::change_push_notifications) |
//! | `update_chat_properties`, `update_chat_thread_properties`, `update_last_seen_timestamp` | same names |
//! | `add_auto_chat_scopes`, `remove_auto_chat_scopes`, `get_auto_chat_scopes_config` | same names ([`auto_chat_scopes_config`](AgentSdk::auto_chat_scopes_config)) |
//!
//! The session keeps the chats current from the pushes: [`chats`](AgentSdk::chats),
//! [`waiting_chats`](AgentSdk::waiting_chats) (the queue, longest waiting first),
//! [`my_chats`](AgentSdk::my_chats), each chat with its users, properties, active thread,
//! last event and unread count.
//!
//! **Events** ([`AgentEvent`]): every agent push, typed (incoming chats and events,
//! whispers included, users joining and leaving, typing and sneak peeks of the customer,
//! threads closed, bans, properties, scopes, routing statuses...), the connection's life
//! (`Connected`, `ConnectionLost`, `Reconnecting`, `ConnectionRestored`, `Disconnected` with
//! the server's reason) and [`AgentEvent::Lagged`] for a subscriber that fell behind.
//!
//! ## Errors
//!
//! The customer SDK's [`Error`] and [`ErrorKind`]: arguments are checked before anything is
//! sent ([`Error::InvalidArgs`]), the server's refusals are [`Error::Server`] with the
//! protocol's error type, the connection's failures [`Error::ConnectionLost`] and
//! [`Error::Timeout`]. A request is **not** resent after a reconnect (the Agent API has no
//! idempotency key): the caller sees `ConnectionLost` and decides.
//!
//! ## Crate features
//!
//! * `async-std` (default), `smol`, `tokio` — the runtime.
//! * `tls` (default) — `https://` and `wss://` through rustls.
//! * `web` — run in a browser (`--no-default-features --features web --target
//!   wasm32-unknown-unknown`): the same API on the page's `WebSocket`, `upload_image` with `fetch`
//!   (an [`ImageFile`] of bytes: a page has no file system).

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod config;
mod events;
mod sdk;
mod upload;
#[cfg(not(all(feature = "web", target_arch = "wasm32")))]
mod upload_native;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
mod upload_web;

// `init`, the one method that differs: on the native platform, or in a browser.
#[cfg(not(all(feature = "web", target_arch = "wasm32")))]
#[path = "sdk_native.rs"]
mod native;
#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[path = "sdk_web.rs"]
mod web;

pub use config::{AgentToken, Config};
pub use events::AgentEvents;
pub use sdk::{AgentSdk, Archives, ChatThreads};
pub use upload::{ImageFile, UploadedImage};

/// The SDK's view of chats, threads, users and events (times as `SystemTime`).
pub mod model {
    pub use chatio_core::agent::{ChatView, ThreadInfo};
    pub use chatio_core::model::{Chat, Event, Thread, User};
}

pub use chatio_core::agent::{AgentConfig, AgentEvent, AgentReply, AgentStatus, MAX_ARCHIVES_LIMIT};
pub use chatio_core::{Backoff, Cause, Error, ErrorKind, Operation, ProtocolError, TransportError, chain};
pub use chatio_transport::agent::AgentSnapshot;
pub use chatio_transport::token::{Credentials, TokenProvider};
pub use chatio_transport::{Tap, TapEvent};
pub use chatio_wire::agent::{
    AgentDisconnectReason, ArchiveFilters, AutoChatScopesConfig, AutoChatScopesRules, ChatFilters, License,
    MulticastScopes, Platform,
};
pub use chatio_wire::{
    Annotation, Button, ChatId, Custom, CustomerMonitoring, ErrorType, EventId, EventKind, FileAttachment, FilledForm,
    Image, Message, NewEvent, Permission, Postback, Properties, PropertyValue, Recipients, RichElement, RichMessage,
    RoutingStatus, Scopes, StartChat, SystemMessage, ThreadId, ThreadRef, UserId, UserType,
};
pub use model::*;

/// The runtime interface and the runtimes, to choose one explicitly.
pub mod runtime {
    pub use chatio_transport::runtime::*;
}
