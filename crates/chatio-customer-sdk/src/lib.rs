//! # chatio-customer-sdk
//!
//! The chat.io **Customer SDK** for Rust: what the JavaScript `@livechat/chat.io-customer-sdk`
//! lets a customer-side chat widget do, as an idiomatic async API. Log in with a token, start
//! chats, send messages, events and files, receive pushes (agent messages, typing, threads
//! closed...), page through history.
//!
//! Beyond the JS SDK: typed errors, no lost messages (the outbox resends what a dropped
//! connection swallowed, exactly once), request timeouts, `send_rating`, rich message
//! postbacks and scopes, any of three runtimes.
//!
//! ## Getting started
//!
//! ```
//! use chatio_customer_sdk::{Config, CustomerSdk, SdkEvent, StartChat};
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
//! // The reference server, in-process on a free port (a real deployment gives its URL).
//! let server = chatio_server::Server::builder().ephemeral().start().await?;
//!
//! let sdk = CustomerSdk::init(Config::new(100, "my-client-id").server(server.http_url()))?;
//! let mut events = sdk.events();
//! while let Some(event) = events.next().await {
//!     if let SdkEvent::Connected { total_chats, .. } = event {
//!         println!("connected, {total_chats} chats");
//!         break;
//!     }
//! }
//!
//! let chat = sdk.start_chat(StartChat::new()).await?;
//! let sent = sdk.send_message(&chat.id, "Hello!").await?;
//! assert_eq!(sent.text(), Some("Hello!"));
//!
//! // The server's agent answers.
//! while let Some(event) = events.next().await {
//!     if let SdkEvent::NewEvent { event, .. } = event {
//!         if event.text() == Some("You said: Hello!") {
//!             break;
//!         }
//!     }
//! }
//! sdk.destroy().await;
//! server.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(()) })
//! # }
//! ```
//!
//! ## The JS SDK, in Rust
//!
//! | JS | Rust |
//! |---|---|
//! | `init({license, clientId, redirectUri})` | [`CustomerSdk::init`]`(`[`Config`]`)` |
//! | `auth.getToken()` | [`sdk.auth().token().await`](Auth::token) |
//! | `on` / `off` / `$$observable` | [`sdk.events()`](CustomerSdk::events): a `Stream` of [`SdkEvent`]; drop to unsubscribe |
//! | `closeThread`, `destroy`, `disconnect` | [`close_thread`](CustomerSdk::close_thread), [`destroy`](CustomerSdk::destroy), [`disconnect`](CustomerSdk::disconnect) |
//! | `getChatHistory` | [`chat_history`](CustomerSdk::chat_history): `next().await` and `Stream` |
//! | `getChatsSummary`, `getChatThreads`, `getChatThreadsSummary` | [`chats_summary`](CustomerSdk::chats_summary), [`chat_threads`](CustomerSdk::chat_threads), [`chat_threads_summary`](CustomerSdk::chat_threads_summary) |
//! | `sendEvent`, `sendMessage`, `sendFile` | [`send_event`](CustomerSdk::send_event), [`send_message`](CustomerSdk::send_message), [`send_file`](CustomerSdk::send_file) (`.custom_id()`, `.on_progress()`, `start().cancel()`) |
//! | `sendRating` (never implemented) | [`send_rating`](CustomerSdk::send_rating) |
//! | `setSneakPeek`, `startChat` | [`set_sneak_peek`](CustomerSdk::set_sneak_peek), [`start_chat`](CustomerSdk::start_chat) |
//! | `updateChatProperties`, `updateChatThreadProperties`, `updateCustomer`, `updateLastSeenTimestamp` | same names in snake_case |
//! | (protocol only) | [`send_rich_message_postback`](CustomerSdk::send_rich_message_postback), [`update_chat_scopes`](CustomerSdk::update_chat_scopes) |
//!
//! Every seed event is an [`SdkEvent`] variant (`Connected`, `ConnectionLost`,
//! `ConnectionRestored`, `CustomerId`, `Disconnected`, `ChatPropertiesUpdated`,
//! `ChatThreadPropertiesUpdated`, `LastSeenTimestampUpdated`, `NewEvent`, `UserData`,
//! `UserJoinedChat`, `UserLeftChat`, `UserIsTyping`, `UserStoppedTyping`, `ThreadClosed`,
//! `ThreadSummary`), plus the pushes the JS SDK dropped (`RichMessagePostback`, `Multicast`,
//! `ChatScopesUpdated`, `CustomerUpdated`) and `Reconnecting`.
//!
//! ## Crate features
//!
//! * `async-std` (default) — run on async-std.
//! * `smol` — run on smol.
//! * `tokio` — run on tokio (call `init` inside a tokio runtime).
//! * `tls` (default) — `https://` and `wss://` through rustls.
//! * `web` — run in a browser: `cargo build --target wasm32-unknown-unknown --no-default-features
//!   --features web`. The same [`CustomerSdk`] API on the browser's `WebSocket`, `fetch`,
//!   `XMLHttpRequest` and `setTimeout` (see `chatio_transport::web`); [`File::bytes`] only (a
//!   page has no file system), no `tls`, `tap` or `runtime` settings (the browser owns those).
//!
//! ## Errors
//!
//! One enum, [`Error`], layered as rustls and quinn do it. [`Error::kind`] sorts every error
//! into an [`ErrorKind`]:
//!
//! | kind | variants | transient? |
//! |---|---|---|
//! | [`ErrorKind::Usage`] (the caller's mistake) | `InvalidArgs`, `Config` (no runtime, bad URL), `Closed` | no |
//! | [`ErrorKind::Cancelled`] | `Cancelled` | no |
//! | [`ErrorKind::Refused`] (the server said no) | `Server { kind, message, data }`, `Authentication`, `Disconnected { reason }` | `Server` with `internal` or `request_timeout` only |
//! | [`ErrorKind::Protocol`] (the server broke the protocol) | `Protocol(`[`ProtocolError`]`)`: the wire [`DecodeError`](chatio_wire::DecodeError) and a bounded excerpt of the frame | no |
//! | [`ErrorKind::Transport`] (network, TLS, HTTP, token endpoint, files) | `Transport(`[`TransportError`]`)`: the [`Operation`] and the transport's error | as the cause says ([`TransportError::is_transient`]) |
//! | [`ErrorKind::Connection`] | `ConnectionLost`, `Timeout`, `DeliveryUnknown` | `ConnectionLost`, `Timeout` |
//!
//! `std::error::Error::source` walks down to the cause: the transport's
//! [`chatio_transport::Error`], then the `io::Error`, rustls, hyper or tungstenite error under
//! it. [`chain`] prints the whole chain on one line:
//!
//! ```
//! # use chatio_customer_sdk::{Error, ErrorKind, chain};
//! fn report(e: &Error) {
//!     match e.kind() {
//!         ErrorKind::Transport | ErrorKind::Connection if e.is_transient() => eprintln!("retrying: {}", chain(e)),
//!         ErrorKind::Usage => eprintln!("fix the program: {}", chain(e)),
//!         _ => eprintln!("failed: {}", chain(e)),
//!     }
//! }
//! ```
//!
//! Arguments are checked before anything is sent.
//!
//! ## Embedding only the core
//!
//! The session logic is [`chatio_core::Session`], a sans-IO state machine; this crate is a
//! thin layer over it and `chatio-transport`. Use the core directly to run the protocol in
//! your own event loop.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod config;
mod driver;
mod events;
mod history;
mod sdk;
mod upload;

pub use config::{Config, TokenSource};
pub use events::{Events, SharedEvents};
pub use history::{ChatHistory, HistoryPage};
pub use sdk::{Auth, ChatsSummary, CustomerSdk, Pagination, ThreadsSummary};
pub use upload::{Canceller, File, SendFile, Upload};

/// The SDK's view of chats, threads, users and events (times as `SystemTime`).
pub mod model {
    pub use chatio_core::model::{Chat, ChatSummary, Event, Thread, ThreadSummary, User};
}

pub use chatio_core::{
    Backoff, Cause, ConnectionStatus, EXCERPT_LEN, Error, ErrorKind, Operation, OutboxPolicy, ProtocolError, Rating,
    SdkEvent, TransportError, chain,
};
pub use chatio_transport::token::{Credentials, TokenProvider};
pub use chatio_wire::{
    Annotation, Button, ChatId, Custom, CustomerData, DisconnectReason, ErrorType, EventId, EventKind, FileAttachment,
    FilledForm, FormField, FormOption, Image, Message, NewEvent, Postback, Properties, PropertyValue, RichElement,
    RichMessage, Scopes, StartChat, SystemMessage, ThreadId, UserId, UserType,
};
pub use model::*;

#[cfg(not(target_arch = "wasm32"))]
pub use chatio_transport::net::TlsConfig;
#[cfg(not(target_arch = "wasm32"))]
pub use chatio_transport::{Tap, TapEvent};

/// The transport's own types: its error (the cause under [`Error::Transport`], and what a
/// [`TokenProvider`] returns), the tap, TLS settings (native targets; in a browser the error's
/// sources are [`BrowserError`](transport::BrowserError)s).
pub mod transport {
    pub use chatio_transport::Error;
    pub use chatio_transport::error::BoxError;
    #[cfg(target_arch = "wasm32")]
    pub use chatio_transport::error::BrowserError;
    #[cfg(not(target_arch = "wasm32"))]
    pub use chatio_transport::net::TlsConfig;
    #[cfg(not(target_arch = "wasm32"))]
    pub use chatio_transport::{Tap, TapEvent};
}

/// The runtime interface and the runtimes, to choose one explicitly.
pub mod runtime {
    pub use chatio_transport::runtime::*;
}
