//! # chatio-server
//!
//! The reference server of the chat.io **Customer API v0.5**: a real, complete
//! implementation of the protocol (`docs/protocol/customer-api-v0.5.md`), built on the
//! `chatio-wire` types so that it can never disagree with the SDK on a field name. The demo
//! runs on it, every end-to-end test talks to it, and any client written from the reference
//! document works against it unchanged.
//!
//! ## Running it
//!
//! ### The binary
//!
//! ```text
//! $ cargo run -p chatio-server -- --listen 127.0.0.1:0 --memory
//! chatio-server listening on http://127.0.0.1:40213 (licenses [100])
//! ```
//!
//! Once it accepts connections it prints exactly one line to stdout, containing
//! `http://HOST:PORT` (the real port when port 0 was asked for); logs go to stderr through
//! `tracing` (`RUST_LOG` filters, default `info`; tokens are never logged). It runs until
//! Ctrl-C or SIGTERM. `chatio server` (the `chatio-cli` binary) offers the same options
//! through [`cli::Args`] and [`cli::run`].
//!
//! | option | default | meaning |
//! |---|---|---|
//! | `--listen HOST:PORT` | `127.0.0.1:8080` | where to listen; port 0 = any free port |
//! | `--license N` | `100` | a license to serve; repeat for several |
//! | `--no-agent` | agent on | disable the scripted agent |
//! | `--agent-delay-ms MS` | `400` | the agent's delay before each step (0: deterministic) |
//! | `--max-connections-per-customer N` | `10` | logged-in connections per customer (G10) |
//! | `--idle-timeout-s S` | `60` | close connections silent this long (4001 `ping_timeout`) |
//! | `--admin` | off | serve the `/admin/...` fault-injection routes (they need the admin secret) |
//! | `--admin-secret SECRET` (or `CHATIO_ADMIN_SECRET`) | drawn at start, printed on stderr | what `/admin/...` requires in `Authorization: Bearer SECRET` |
//! | `--apps FILE` | none | registered apps, JSON: `{"apps": [{"license", "client_id", "redirect_uris", "embed_origins", "client_secret_sha256"}]}` (G11) |
//! | `--app LICENSE:CLIENT_ID=URI[,URI…]` | none | register a browser app with its exact redirect URIs; repeatable |
//! | `--embed-origin LICENSE:ORIGIN` | own + loopback | an origin allowed to embed the widget; repeatable |
//! | `--token-rate PER_S`, `--token-burst N` | `20`, `200` | tokens per client address (token endpoint + accounts page); past it 429 `slow_down` |
//! | `--public-url URL` | `http://HOST:PORT` | the public base URL (file URLs; its origin may receive tokens unregistered) |
//! | `--seed N` | random | seed of the id generator |
//! | `--workers N` | `2` | worker threads of the server's runtime |
//! | `--max-chats-per-customer N` | unlimited | chats one customer may start; one more `start_chat` is `validation` "too many chats" (G4) |
//! | `--property NS.NAME=rw\|ro` | none | declare a property customers may write (`rw`) or only read (`ro`); repeatable; once one is declared, customers' writes of any other property (chat, thread or event) are `authorization` (G15) |
//! | `--agent EMAIL` | none | registers an agent (a person) of the first license without a token; repeatable |
//! | `--agent-sign-in` | off | prints a one-time sign-in link (24 h) per configured agent on standard error: it signs the person in to the agent page (`--widget`), or `/agent/sign-in` shows them an 8-hour access token |
//! | `--agent-token EMAIL=TOKEN` (or `CHATIO_AGENT_TOKEN`, comma-separated) | none | registers an agent of the first license with a fixed Agent API access token (at least 16 characters; every scope of a normal agent; never logged nor echoed in errors); repeatable; with one, the license's chats are routed to its agents instead of the scripted agent |
//! | `--app-token TOKEN` (or `CHATIO_APP_TOKEN`) | none | a server-side app's token (`Authorization: Bearer TOKEN` at the token endpoint): only such requests may name `customer_id` (G11); repeatable |
//! | `--max-connections N` | 4096 (fewer under a low open-file limit) | open TCP connections in total; one more gets HTTP 503 and is closed |
//! | `--max-connections-per-address N` | `512` | open TCP connections from one IP address |
//! | `--max-queued-kib KIB` | `2048` | bytes queued unflushed for one websocket client; past it: close 4002 `slow_consumer` |
//! | `--write-timeout-s S` | `10` | queued frames without write progress this long: close 4002; a close not delivered this long: the connection is dropped |
//! | `--body-timeout-s S` | `30` | an HTTP request body must arrive in full within this (else 408, connection closed) |
//! | `--data DIR` | `$XDG_DATA_HOME/chatio-server`, else `~/.local/share/chatio-server` ([`cli::default_data_dir`]) | keep the data in a SQLite database in `DIR` (made private to the user, locked against a second server; printed at start); `backup PATH` copies it online |
//! | `--max-db-mib MIB` | `8192` | the most the database may hold; past it (or on a full disk) writes fail with `internal`, `data: {"storage": "full"}`, nothing acknowledged lost |
//! | `--retain-days DAYS` | history kept | delete closed threads (and their events) older than DAYS, each chat's last thread kept |
//! | `--memory` | off | keep everything in memory instead, gone at exit (tests and demos; the library's [`ServerBuilder`] default) |
//!
//! ### The library
//!
//! [`Server::builder`] configures a server and [`ServerBuilder::start`] starts it on its own
//! OS thread with its own tokio runtime, so it can be awaited from any async runtime
//! (async-std, smol, tokio) or from none ([`ServerBuilder::start_blocking`]). The
//! [`ServerHandle`] gives the bound address and URLs, the fault injection and test helpers,
//! and shuts the server down on [`ServerHandle::shutdown`] (which waits) or on drop.
//!
//! ```
//! # futures::executor::block_on(async {
//! let server = chatio_server::Server::builder().ephemeral().seed(7).start().await?;
//! // In-process, the handle may mint a token for any customer (the network may not: G11).
//! let (token, customer) = server.create_token(100, None)?;
//! assert!(server.ws_url(100).ends_with("/customer/v0.5/rtm/ws?license_id=100"));
//! assert_eq!(server.http_url(), format!("http://{}", server.addr()));
//! // A client logs in on `server.ws_url(100)` with {"action":"login","payload":{"token":"Bearer <token>"}}
//! # let _ = (token, customer);
//! server.shutdown().await;
//! # Ok::<(), chatio_server::Error>(()) }).unwrap();
//! ```
//!
//! The library defaults differ from the binary's in one place: the agent answers at once
//! (delay 0), so a test sees the same frames in the same order every run.
//!
//! ## Endpoints
//!
//! | endpoint | what |
//! |---|---|
//! | `GET /customer/v0.5/rtm/ws?license_id=N` | RTM websocket: every action of the protocol, pushes to every logged-in connection of the customer (the requester's copy carries its `request_id`) |
//! | `/customer/v0.5/rtm/sio/?EIO=3&transport=polling\|websocket&license_id=N` | the same RTM sessions over socket.io (Engine.IO 3, socket.io 4; each frame the argument of a `message` event), what the official JS SDK 0.9.1 speaks (G29) |
//! | `GET /customer?license_id=N&response_type=token&client_id=…&redirect_uri=…&post_message_uri=…&state=…` | the accounts page the JS SDK loads in a hidden iframe: posts the token to the parent window, only on the origin of a registered redirect URI; remembers the browser by a cookie holding a random secret (G36) |
//! | `POST /customer/v0.5/action/<action>?license_id=N` | Web API with `Authorization: Bearer <token>`: JSON bodies (`{"payload":{…}}` or bare), `send_file` as multipart (`payload.chat_id`, `payload.custom_id`, `payload.file`); answers the RTM response envelope without `request_id`, with the HTTP statuses of section 2.6 |
//! | `POST /customer/` (and `/customer`) | customer token endpoint (G11): form, JSON or query; `client_id`, `response_type=token`, `redirect_uri`, `valid_for`, `license_id`: a new customer; `grant_type=refresh_token&refresh_token=…`: the same customer again (the refresh token rotates); `customer_id` only for an authenticated server-side app (app token or client secret); answers `{access_token, token_type: "Bearer", expires_in, client_id, entity_id, license_id, refresh_token}` |
//! | `GET /agent/v0.5/rtm/ws` | the Agent API's RTM websocket (protocol file `agent-api-v0.5.md`): `login` with an agent token, then the agent methods; pushes of every chat the agent sees |
//! | `POST /agent/v0.5/action/<action>` | the Agent API's Web API with `Authorization: Bearer <agent token>`: `{"payload":{…},"author_id":…}` or the bare payload; every method but `login` and `ping` |
//! | `GET /api/file/chatio/att/<license>/<32 hex>.<ext>` | uploaded files (and the agent's), with their content type, served inert: `attachment` except raster images, `nosniff`, a sandboxing CSP |
//! | `GET /licence/<license>/config.json` | the `static_config_path` of `login` (`{}`) |
//! | `GET /static/bot.png` | the agent's avatar |
//! | `/admin/...` | fault injection, only with `--admin` (below) |
//!
//! Other API versions in the path get `unsupported_version` (a `customer_disconnected` push
//! and close 4000 on the websocket, HTTP 400 on the Web API); the unversioned
//! `/customer/rtm/ws` and `/customer/action/<action>` act as v0.5; socket.io is served for
//! v0.5 only (other `…/rtm/sio` paths answer 404).
//! A missing or non-integer `license_id` is HTTP 400 before the upgrade; an unknown license
//! gets `customer_disconnected` `license_not_found` and close 4000.
//!
//! ## Semantics
//!
//! * In a SQLite database that survives restarts (the binary's default; the library's with
//!   [`ServerBuilder::data_dir`]), or in memory (the library's default; `--memory`): customers, tokens, chats, threads, events, files, properties (chat,
//!   thread, event), scopes, last-seen times, customer data. Ids follow G1 (10 characters
//!   `[0-9A-Z]` for chats and threads, `<thread>_<n>` for events, UUID v4 for customers,
//!   32 hex characters for the agent) from a seedable generator; secrets (access and refresh
//!   tokens, cookie secrets, the admin secret, the names of uploaded files and of the
//!   agent's) always come from the OS random source; orders follow G2;
//!   timestamps are wire seconds. Expired tokens are purged 5 minutes after expiry, and
//!   customers with nothing left (no token, refresh token, remembered browser, chat,
//!   connection or ban) with them.
//! * Pagination with the documented defaults and maxima (`get_chats_summary` 10/25, most
//!   recently active first; `get_chat_threads_summary` 25/100, offset counted from the
//!   newest thread).
//! * Only a chat's customer may read or write it: `authorization` otherwise (an unknown
//!   chat looks the same).
//! * Every payload is validated; errors carry the documented type and a message naming the
//!   field. Malformed JSON, non-objects, unknown actions and binary frames get a
//!   `validation` response (with the request id and action when they can be read) and the
//!   connection stays open; a frame over 1 MiB closes the connection with 1009. Nothing a
//!   client sends disturbs other connections.
//! * `login` first (`authentication` "login required" otherwise); a second `login` of the
//!   same customer refreshes, another customer's is `authorization` (G6). Tokens are
//!   checked at `login` only (G35) and on every Web API call.
//! * Any inbound frame keeps a connection alive; after the idle timeout it is closed with
//!   4001 `ping_timeout`. Control pings get pongs; the `ping` action gets a response.
//! * One customer may hold `max_connections_per_customer` logged-in connections; the login
//!   of one more gets `customer_disconnected` `too_many_connections` and close 4000.
//! * On the requester's connection the response is written before the pushes it causes
//!   (G8), then the agent's reactions.
//! * Identity (G11, G36, G37): a customer is resumed only by a secret the server issued
//!   (the refresh token, rotated on use, a reused one revoking its family; the accounts
//!   cookie's random secret), never by its id; `customer_id` is honoured only for an
//!   authenticated server-side app ([`ServerBuilder::app_token`], or a registered app's
//!   client secret). Registered apps ([`ServerBuilder::register_app`], `--apps`, `--app`)
//!   decide which origins receive tokens and read answers (CORS without credentials);
//!   without any, the server's own and loopback origins. Tokens, refresh tokens and cookie
//!   secrets are kept as SHA-256 digests; issuance is rate-limited per address.
//! * Quotas (G4, G38), each with a default: chats per customer (1 000,
//!   [`ServerBuilder::max_chats_per_customer`]); events, their bytes and files per chat;
//!   properties per chat, thread or event and their value size; uploads per customer and in
//!   total; file names ([`Quotas`], [`ServerBuilder::quotas`], `--quota NAME=N`). Past one,
//!   the request fails with `validation` and `data` `{"limit": NAME, "max": N}`, nothing
//!   stored.
//! * Optional rule, off by default: declared properties with the customer's read/write
//!   rights (G15; the agent is not restricted, [`ServerBuilder::declare_property`]).
//! * Limits (G23): frame 1 MiB, texts 16 384 characters, ids 256 bytes, 100 customer
//!   fields of 4 096 characters (after merging too), files 10 MiB (checked while the
//!   upload streams in: 413 and a `validation` error, nothing stored); an answer over
//!   1 MiB is replaced by a `validation` error, on the RTM and the Web API alike.
//! * Hostile clients (protocol file 2.10): a websocket client that lets more than
//!   [`ServerBuilder::max_queued_bytes`] pile up unread, or reads nothing for
//!   [`ServerBuilder::write_timeout`] while frames wait, is closed with 4002
//!   `slow_consumer`; a blocked write never stops the timers. Request heads and bodies
//!   must arrive within [`ServerBuilder::body_timeout`] (408); connections are capped in
//!   total and per address ([`ServerBuilder::max_connections`],
//!   [`ServerBuilder::max_connections_per_address`]; 503). Invalid UTF-8 closes with 1007,
//!   websocket protocol errors with 1002. [`ServerHandle::stats`] gives the counters.
//!
//! ## The scripted agent
//!
//! "Chatio Bot" (on by default) is a client of the server's own Agent API: for each license
//! no configured agent serves, it connects to `/agent/v0.5/rtm/ws` over loopback with a
//! token the server drew for it (a bot agent without owner, protocol file §9, H37) and does
//! everything below with Agent API requests; [`ServerBuilder::start`] returns once it is
//! logged in. It joins every new chat (`chat_users_updated` with it in
//! `added`, then an `agent_joined` system message), greets, and answers each customer
//! message with typing on, the answer (`You said: <text>`), typing off. Messages starting
//! with `/` are commands that trigger every push on demand:
//!
//! | command | what the agent does | pushes |
//! |---|---|---|
//! | `/help` | lists the commands | `incoming_event` |
//! | `/rich` | cards with buttons (`like_yes`, `like_no`, `docs_yes`) and a served image | `incoming_event` (`rich_message`) |
//! | `/file` | a PNG the server really serves | `incoming_event` (`file`, with width and height) |
//! | `/form` | a filled form | `incoming_event` (`filled_form`) |
//! | `/annotation` | an annotation | `incoming_event` (`annotation`) |
//! | `/custom` | a custom event | `incoming_event` (`custom`) |
//! | `/system` | a `routing.assigned` system message | `incoming_event` (`system_message`) |
//! | `/multicast` | a multicast | `incoming_multicast` |
//! | `/props` | sets a chat and a thread property | `chat_properties_updated`, `chat_thread_properties_updated` |
//! | `/scopes` | adds group 1 | `chat_scopes_updated` |
//! | `/seen` | updates its last-seen time | `last_seen_timestamp_updated` |
//! | `/typing` | typing on, then off | `incoming_typing_indicator` ×2 |
//! | `/close` | says so, closes the thread | `incoming_event`, `thread_closed` (its user id) |
//! | `/leave` | says bye, leaves the chat | `incoming_event`, `chat_users_updated` (removed), `agent_left` |
//! | `/echo TEXT` | answers `TEXT` | `incoming_event` |
//!
//! The agent stays in a chat across threads; after `/leave` the customer's next message
//! brings it back. With a delay of 0 the bot reports when it has reacted to everything it
//! heard, and a customer's next request (websocket or Web API) waits for that (at most 2 s):
//! its reactions follow the request that caused them, so the frames are the same every run
//! (ids too, with [`ServerBuilder::seed`]).
//!
//! ## Fault injection
//!
//! Through [`ServerHandle`], for one customer (all its connections):
//! [`drop_connections`](ServerHandle::drop_connections) (abrupt: no close frame),
//! [`delay_next_response`](ServerHandle::delay_next_response),
//! [`swallow_next_response`](ServerHandle::swallow_next_response),
//! [`send_malformed_frame`](ServerHandle::send_malformed_frame),
//! [`expire_tokens`](ServerHandle::expire_tokens), [`ban`](ServerHandle::ban)
//! (`customer_disconnected` `customer_banned`, close 4000, later logins refused) and
//! [`unban`](ServerHandle::unban); for the whole server
//! [`restart`](ServerHandle::restart) (every connection dropped, the listener rebound on
//! the same port, all data kept) and
//! [`drop_all_connections`](ServerHandle::drop_all_connections). Test helpers:
//! [`create_token`](ServerHandle::create_token), [`chat_events`](ServerHandle::chat_events),
//! [`chats_of`](ServerHandle::chats_of), [`connection_count`](ServerHandle::connection_count),
//! [`customer_connections`](ServerHandle::customer_connections),
//! [`agent_id`](ServerHandle::agent_id).
//!
//! With `--admin` (or [`ServerBuilder::admin`]) the same is reachable over HTTP, with the
//! admin secret ([`ServerHandle::admin_secret`]) in `Authorization: Bearer <secret>` (or a
//! form body `admin_secret=<secret>`), and no CORS:
//! `POST /admin/<op>?customer_id=ID[&license_id=N]` with `op` one of `drop`,
//! `delay_next_response` (`&ms=N`, default 1000), `swallow_next_response`, `malformed`,
//! `expire_tokens`, `ban`, `unban`; `POST /admin/token[?customer_id=ID]` (a token, like the
//! token endpoint); `POST /admin/restart`; `GET /admin/events?chat_id=ID` (a chat's events).
//! `license_id` defaults to the first license.
//!
//! ## Configuration
//!
//! [`ServerConfig`] holds everything; [`ServerBuilder`] sets it piece by piece: licenses
//! (and expired ones), the agent and its delay, the connection limit, the idle timeout, the
//! admin routes and their secret, the id seed, the worker threads, the registered apps, token
//! lifetime and rate, and
//! archiving of idle threads (G3, off by default).
//!
//! ## Performance
//!
//! Each websocket session costs a few KiB: small tungstenite buffers (2 KiB read buffer,
//! writes batched per burst and flushed once), two tasks (reader + timers, writer), one
//! bounded queue. All state sits behind
//! one lock; frames are encoded once per form and shared between connections. Figures
//! from `cargo xtask bench server` are in `docs/benchmarks.md`.

#![warn(missing_docs)]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod actions;
mod agents;
mod bot;
pub mod cli;
mod config;
mod counters;
mod error;
mod files;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod http;
mod identity;
mod listener;
mod net;
mod sendq;
mod server;
mod session;
mod state;
mod store;
mod transport;

pub use config::{
    AgentConfig, AgentPermission, ConformanceFault, DeclaredProperty, PropertyAccess, Quotas, RegisteredApp,
    ServerConfig,
};
pub use counters::Stats;
pub use error::Error;
pub use http::static_files::DEFAULT_EMBED_ORIGINS;
pub use identity::apps::{AppRefusal, Apps};
pub use server::{Server, ServerBuilder, ServerHandle};
pub use store::StoreError;

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
