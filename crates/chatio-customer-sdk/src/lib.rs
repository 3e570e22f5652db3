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
//! Every method and event of `@livechat/chat.io-customer-sdk` 0.9, name by name. "Same" means
//! same arguments, same wire frames, same outcome.
//!
//! | JS | Rust | Difference |
//! |---|---|---|
//! | `init({license, clientId, redirectUri})` | [`CustomerSdk::init`]`(`[`Config::new`]`(license, client_id).redirect_uri(..))` | plus the server URLs (the hosted service is gone); errors are returned, not thrown |
//! | `auth.getToken()` | [`sdk.auth().token()`](Auth::token) | same |
//! | `auth.getFreshToken()` | [`sdk.auth().fresh_token()`](Auth::fresh_token) | same |
//! | `auth.hasToken()` | [`sdk.auth().token()`](Auth::token) is cached; no separate call | deliberate: a cached token is returned at once |
//! | `auth.invalidate()` | [`sdk.auth().invalidate()`](Auth::invalidate) | same |
//! | `on(name, fn)` / `off` | [`sdk.events()`](CustomerSdk::events)`.named(&[name])` (a `Stream`; drop to unsubscribe), or typed [`Events::filter`] | a stream, not a callback |
//! | `once(name, fn)` | [`sdk.once(name).await`](CustomerSdk::once) | a future |
//! | `$$observable` | [`sdk.events()`](CustomerSdk::events) | bounded: a slow subscriber reads [`SdkEvent::Lagged`] |
//! | `closeThread(chatId)` | [`close_thread`](CustomerSdk::close_thread) | same |
//! | `destroy()` | [`destroy`](CustomerSdk::destroy) | same (no `connection_lost`, as JS) |
//! | `disconnect()` | [`disconnect`](CustomerSdk::disconnect) | same: emits `connection_lost` |
//! | `getChatHistory(chatId)` | [`chat_history`](CustomerSdk::chat_history) → [`ChatHistory::next_page`] / `Stream` | same pages; cancel-safe |
//! | `getChatsSummary({offset, limit})` | [`chats_summary`](CustomerSdk::chats_summary)`(`[`Pagination`]`)` | same limits (≤ 25) |
//! | `getChatThreads(chatId, threadIds)` | [`chat_threads`](CustomerSdk::chat_threads) | same |
//! | `getChatThreadsSummary(chatId, {offset, limit})` | [`chat_threads_summary`](CustomerSdk::chat_threads_summary) | same limits (≤ 1 000; the server answers at most 100 a page) |
//! | `sendEvent(chatId, event)` | [`send_event`](CustomerSdk::send_event), [`send_event_cancellable`](CustomerSdk::send_event_cancellable) | delivered exactly once across reconnects (JS: lost on a drop) |
//! | `sendMessage(chatId, {text, customId})` | [`send_message`](CustomerSdk::send_message), [`send_message_with_custom_id`](CustomerSdk::send_message_with_custom_id) | same |
//! | `sendFile(chatId, {file, customId}, {onProgress})` | [`send_file`](CustomerSdk::send_file)`(..).custom_id(..).on_progress(..)`; [`Upload::cancel`] | the JS `cancel()` becomes `Upload::cancel` / dropping the future |
//! | `sendRating` (documented, never implemented) | [`send_rating`](CustomerSdk::send_rating) | implemented (chat properties `rating.*`) |
//! | `setSneakPeek(chatId, text)` | [`set_sneak_peek`](CustomerSdk::set_sneak_peek) | same throttle (2 s, last text wins) |
//! | `startChat({events, properties, scope})` | [`start_chat`](CustomerSdk::start_chat)`(`[`StartChat`]`::new().with_event(..).with_properties(..).with_scopes(..))` | the JS legacy `routing_scope` shape with [`Config::legacy_start_chat`]; the reference shape by default |
//! | `updateChatProperties`, `updateChatThreadProperties` | [`update_chat_properties`](CustomerSdk::update_chat_properties), [`update_chat_thread_properties`](CustomerSdk::update_chat_thread_properties) | same |
//! | `updateCustomer`, `updateLastSeenTimestamp` | [`update_customer`](CustomerSdk::update_customer), [`update_last_seen_timestamp`](CustomerSdk::update_last_seen_timestamp) | same |
//! | (protocol only) `send_rich_message_postback`, `update_chat_scopes` | [`send_rich_message_postback`](CustomerSdk::send_rich_message_postback), [`update_chat_scopes`](CustomerSdk::update_chat_scopes) | not in the JS SDK |
//!
//! **Events** ([`SdkEvent::name`] gives the JS name): `connected`, `connection_lost`,
//! `connection_restored`, `customer_id`, `disconnected`, `chat_properties_updated`,
//! `chat_thread_properties_updated`, `last_seen_timestamp_updated`, `new_event`, `user_data`,
//! `user_joined_chat`, `user_left_chat`, `user_is_typing`, `user_stopped_typing`,
//! `thread_closed`, `thread_summary`; the pushes the JS SDK emits under their raw names:
//! `incoming_rich_message_postback`, `incoming_multicast`, `chat_scopes_updated`,
//! `customer_updated` (same names here). Added: `connection_unstable` /
//! `connection_recovered` (as in SDK 4.x), `reconnecting`, `lagged`, `error` (typed).
//!
//! **Deliberate differences**: errors are typed ([`Error`], [`ErrorKind`]) instead of
//! `INVALID_ARGS`/`REQUEST_FAILED` strings; requests time out (15 s); commands issued while
//! connecting are sent after the login (JS sent them before it); the token is refreshed an
//! hour before it expires, as SDK 4.x does (JS 0.9 only after a refusal); a half-open
//! connection is detected and replaced.
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
//!   page has no file system), and the `tls` and `runtime` settings have nothing to set (the browser owns
//!   those: its [`TlsConfig`] is empty, and a runtime given is not used; the `tap` works).
//!   The store there is `IndexedDbStore` (IndexedDB, one tab at a time through the Web Locks
//!   API): `Config::store(IndexedDbStore::new("my-app"))`.
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
//! | [`ErrorKind::Protocol`] (the server broke the protocol) | `Protocol(`[`ProtocolError`]`)`: its [`ProtocolErrorKind`] (undecodable, binary frame, too large, unexpected reply), the wire [`DecodeError`](chatio_wire::DecodeError) and a bounded excerpt of the frame | no |
//! | [`ErrorKind::Transport`] (network, TLS, HTTP, token endpoint, files) | `Transport(`[`TransportError`]`)`: the [`Operation`] and the transport's error | as the cause says ([`TransportError::is_transient`]) |
//! | [`ErrorKind::Connection`] | `ConnectionLost`, `Timeout`, `DeliveryUnknown` | `ConnectionLost`, `Timeout` |
//! | [`ErrorKind::Bug`] (the SDK's own layers disagreed; please report it) | `Bug { what }` | no |
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

mod call;
mod config;
mod driver;
mod events;
mod history;
mod sdk;
mod upload;

pub use call::{Call, Canceller};
pub use config::{Config, TokenSource};
pub use events::{Events, SharedEvents};
pub use history::{ChatHistory, HistoryPage};
pub use sdk::{Auth, ChatsSummary, CustomerSdk, Pagination, ThreadsSummary};
pub use upload::{File, SendFile, Upload};

/// The SDK's view of chats, threads, users and events (times as `SystemTime`).
pub mod model {
    pub use chatio_core::model::{Chat, ChatSummary, Event, Thread, ThreadSummary, User};
}

pub use chatio_core::{
    Backoff, Cause, ConnectionStatus, EXCERPT_LEN, Error, ErrorKind, Operation, OutboxPolicy, ProtocolError,
    ProtocolErrorKind, Rating, SdkEvent, TransportError, chain,
};
pub use chatio_transport::token::{Credentials, TokenProvider};
pub use chatio_wire::{
    Annotation, Button, ChatId, Custom, CustomerData, DisconnectReason, ErrorType, EventId, EventKind, FileAttachment,
    FilledForm, FormField, FormOption, Image, LicenseId, Message, NewEvent, Postback, Properties, PropertyValue,
    RichElement, RichMessage, Scopes, StartChat, SystemMessage, ThreadId, Token, UserId, UserType,
};
pub use model::*;

pub use chatio_transport::TlsConfig;
pub use chatio_transport::{Tap, TapEvent};

pub use chatio_core::{CachedChat, CachedEvent, StoreChange, StoredEvent, StoredState};
#[cfg(all(not(target_arch = "wasm32"), feature = "sqlite"))]
pub use chatio_transport::sqlite::SqliteStore;
/// The SDK's store (what survives a restart): the trait to bring your own, the memory store,
/// the SQLite store (native, `sqlite` feature), the IndexedDB store (browser) and their errors.
pub use chatio_transport::store::{MemoryStore, Store, StoreError, StoreFuture};
/// The SDK's store in the browser's IndexedDB (one tab at a time; see
/// `chatio_transport::web::indexeddb`).
#[cfg(target_arch = "wasm32")]
pub use chatio_transport::web::IndexedDbStore;

/// The transport's own types: its error (the cause under [`Error::Transport`], and what a
/// [`TokenProvider`] returns), the tap, TLS settings (empty in a browser, where the error's
/// sources are `BrowserError`s).
pub mod transport {
    pub use chatio_transport::Error;
    pub use chatio_transport::TlsConfig;
    pub use chatio_transport::error::{BoxError, BrowserError, Dropped, UrlError};
    pub use chatio_transport::{Tap, TapEvent};
}

/// The runtime interface and the runtimes, to choose one explicitly.
pub mod runtime {
    pub use chatio_transport::runtime::*;
}

/// The README's example, compiled and run as a doctest.
#[cfg(all(doctest, feature = "async-std"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
