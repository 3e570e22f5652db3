//! The server-wide counters ([`ServerHandle::stats`](crate::ServerHandle::stats)): relaxed
//! atomics bumped by the layers that enforce a limit (send queues, the listener, the router).

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
}
