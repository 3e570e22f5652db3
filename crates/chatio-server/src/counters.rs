//! The server-wide counters: relaxed atomics bumped by the layers that enforce a limit (send
//! queues, the listener, the router), and [`Stats`], the snapshot
//! [`ServerHandle::stats`](crate::ServerHandle::stats) gives.

use std::sync::atomic::{AtomicU64, AtomicUsize};

/// Server-wide counters, shared by every session (read through `ServerHandle::stats`).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    /// Bytes queued for clients and not yet flushed to their sockets, all sessions together.
    pub(crate) queued_bytes: AtomicUsize,
    /// Sessions closed by the slow-consumer policy.
    pub(crate) slow_consumers: AtomicU64,
    /// TCP connections refused by a connection cap.
    pub(crate) refused_connections: AtomicU64,
    /// HTTP requests ended because their body did not arrive in time.
    pub(crate) body_timeouts: AtomicU64,
    /// Token requests refused by the per-address rate (HTTP 429, G11).
    pub(crate) tokens_refused: AtomicU64,
    /// Open Engine.IO (socket.io) sessions.
    pub(crate) sio_sessions: AtomicUsize,
    /// Bytes of request headers the open socket.io sessions keep.
    pub(crate) sio_kept_header_bytes: AtomicUsize,
    /// Requests whose writes waited for a group commit.
    pub(crate) grouped_requests: AtomicU64,
    /// Group commits (each made durable the writes of one or more grouped requests).
    pub(crate) group_commits: AtomicU64,
}

/// A snapshot of a server's counters ([`ServerHandle::stats`](crate::ServerHandle::stats)).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Open websocket sessions (logged in or not).
    pub sessions: usize,
    /// Bytes queued for websocket clients and not yet flushed to their sockets.
    pub queued_bytes: usize,
    /// Sessions closed by the slow-consumer policy (4002) since the start.
    pub slow_consumers: u64,
    /// TCP connections refused by a connection cap since the start.
    pub refused_connections: u64,
    /// HTTP requests ended because their body was too slow, since the start.
    pub body_timeouts: u64,
    /// Token requests refused by the per-address rate since the start (HTTP 429).
    pub tokens_refused: u64,
    /// Customer tokens held (expired ones are purged).
    pub tokens: usize,
    /// Customers held, every license together.
    pub customers: usize,
    /// Open socket.io sessions (each is also one of `sessions` once its socket connects).
    pub sio_sessions: usize,
    /// Bytes of request headers the open socket.io sessions keep (only what the websocket
    /// handshake needs).
    pub sio_kept_header_bytes: usize,
    /// Refresh-token families held (G11).
    pub refresh_families: usize,
    /// Browsers the accounts page remembers by cookie (G36).
    pub remembered_browsers: usize,
    /// Bytes of uploaded files held (against the `upload_bytes` quota, G38).
    pub upload_bytes: u64,
    /// Requests whose writes waited for a group commit, since the start (SQLite store).
    pub grouped_requests: u64,
    /// Group commits since the start: `grouped_requests / group_commits` requests shared
    /// each transaction on average.
    pub group_commits: u64,
}
