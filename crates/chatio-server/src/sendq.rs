//! A session's send queue: what the server has to write to one client, bounded in bytes.
//!
//! (Not the SDK's outbox, which resends a customer's events across reconnects: this queue
//! only holds frames on their way out of the server.) The hub queues frames here under the
//! server's lock (never waiting); the transport's writer drains them. Every queued byte is
//! counted until the writer reports it flushed, so a client that stops reading cannot make
//! the server hold more than the configured bound for it: the frame that would pass the
//! bound is discarded, and the session is told to close with [`CLOSE_SLOW_CONSUMER`] (the
//! slow-consumer policy).

use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Instant;

use async_tungstenite::tungstenite::Utf8Bytes;
use chatio_wire::{CustomerDisconnected, DisconnectReason, Push, PushFrame, ServerFrame};
use tokio::sync::{Notify, mpsc};

use crate::counters::Counters;

/// Close code of a session whose client does not read its frames fast enough (more than
/// the outbound bound unflushed, or nothing flushed for the write timeout). A project
/// decision, next to G9's 4000 and 4001.
pub(crate) const CLOSE_SLOW_CONSUMER: u16 = 4002;
/// Reason text of [`CLOSE_SLOW_CONSUMER`].
pub(crate) const SLOW_CONSUMER: &str = "slow_consumer";

/// Close code after `customer_disconnected` (G9).
pub(crate) const CLOSE_DISCONNECTED: u16 = 4000;

/// The `customer_disconnected` push.
pub(crate) fn disconnected_frame(reason: DisconnectReason) -> Utf8Bytes {
    let push = Push::CustomerDisconnected(CustomerDisconnected::new(reason));
    Utf8Bytes::from(ServerFrame::Push(PushFrame::new(None, push)).encode())
}

/// The `agent_disconnected` push (Agent API).
pub(crate) fn agent_disconnected_frame(reason: chatio_wire::agent::AgentDisconnectReason) -> Utf8Bytes {
    use chatio_wire::agent::{
        AgentDisconnected, Push as AgentPush, PushFrame as AgentPushFrame, ServerFrame as AgentFrame,
    };
    let push = AgentPush::AgentDisconnected(AgentDisconnected::new(reason));
    Utf8Bytes::from(AgentFrame::Push(AgentPushFrame::new(None, push)).encode())
}

/// The reason text of the close that follows `customer_disconnected`.
pub(crate) fn reason_text(reason: &DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::CustomerBanned => "customer_banned",
        DisconnectReason::TooManyConnections => "too_many_connections",
        DisconnectReason::LicenseNotFound => "license_not_found",
        DisconnectReason::UnsupportedVersion => "unsupported_version",
        DisconnectReason::PingTimeout => "ping_timeout",
        _ => "internal_error",
    }
}

/// What a session's writer must do next.
#[derive(Debug)]
pub(crate) enum Out {
    /// Write a text frame.
    Text(Utf8Bytes),
    /// Write a close frame with this code and reason, then end.
    Close(u16, Cow<'static, str>),
    /// Flush what is already buffered (the reply to the peer's close), then end.
    Finish,
    /// End at once, without a close frame (an abrupt drop).
    Drop,
}

/// The sending side of a session's queue (held by the hub).
#[derive(Debug)]
pub(crate) struct SendQueue {
    tx: mpsc::UnboundedSender<Out>,
    /// Bytes queued or written but not yet flushed.
    pending: AtomicUsize,
    /// Set once the bound was passed: later frames are discarded.
    overflowed: AtomicBool,
    /// Milliseconds since `epoch` of the last flush (or of the first byte queued after an
    /// empty spell).
    last_progress: AtomicU64,
    /// Milliseconds since `epoch` when a close (or drop) was first queued; `u64::MAX`: none.
    closing_since: AtomicU64,
    /// Wakes the session's timers when a close is queued.
    wake: Notify,
    epoch: Instant,
    max: usize,
    counters: Arc<Counters>,
}

impl SendQueue {
    /// A queue holding at most `max` unflushed bytes (one frame larger than that is let
    /// through when nothing else is pending), and its receiving side.
    pub(crate) fn new(max: usize, counters: Arc<Counters>) -> (Arc<Self>, mpsc::UnboundedReceiver<Out>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let epoch = Instant::now();
        let queue = Self {
            tx,
            pending: AtomicUsize::new(0),
            overflowed: AtomicBool::new(false),
            last_progress: AtomicU64::new(0),
            closing_since: AtomicU64::new(u64::MAX),
            wake: Notify::new(),
            epoch,
            max,
            counters,
        };
        (Arc::new(queue), rx)
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Queues an item. A text frame that would pass the bound is discarded and the session
    /// is closed with [`CLOSE_SLOW_CONSUMER`] instead.
    pub(crate) fn send(&self, out: Out) {
        if let Out::Text(t) = &out {
            if self.overflowed.load(Ordering::Relaxed) {
                return;
            }
            let len = t.len();
            let before = self.pending.load(Ordering::Relaxed);
            if before > 0 && before.saturating_add(len) > self.max {
                self.overflow();
                return;
            }
            if before == 0 {
                self.last_progress.store(self.now_ms(), Ordering::Relaxed);
            }
            self.pending.fetch_add(len, Ordering::Relaxed);
            self.counters.queued_bytes.fetch_add(len, Ordering::Relaxed);
        } else {
            self.mark_closing();
        }
        if let Err(mpsc::error::SendError(Out::Text(t))) = self.tx.send(out) {
            // The writer is gone: nothing will flush these bytes.
            self.flushed(t.len());
        }
    }

    /// Marks the queue overflowed and asks the writer to close (once).
    pub(crate) fn overflow(&self) {
        if !self.overflowed.swap(true, Ordering::Relaxed) {
            self.counters.slow_consumers.fetch_add(1, Ordering::Relaxed);
            tracing::info!(pending = self.pending(), "slow consumer: closing with 4002");
            let _ = self.tx.send(Out::Close(CLOSE_SLOW_CONSUMER, Cow::Borrowed(SLOW_CONSUMER)));
            self.mark_closing();
        }
    }

    fn mark_closing(&self) {
        let now = self.now_ms();
        if self.closing_since.compare_exchange(u64::MAX, now, Ordering::Relaxed, Ordering::Relaxed).is_ok() {
            self.wake.notify_one();
        }
    }

    /// How long ago a close (or drop) was queued, if one was.
    pub(crate) fn closing_for(&self) -> Option<std::time::Duration> {
        let since = self.closing_since.load(Ordering::Relaxed);
        (since != u64::MAX).then(|| std::time::Duration::from_millis(self.now_ms().saturating_sub(since)))
    }

    /// Resolves when a close is queued (at once if one was queued since the last call).
    pub(crate) async fn closing(&self) {
        self.wake.notified().await;
    }

    /// The writer flushed `bytes` more to the socket.
    pub(crate) fn flushed(&self, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let _ = self.pending.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| Some(p.saturating_sub(bytes)));
        let _ = self
            .counters
            .queued_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| Some(p.saturating_sub(bytes)));
        self.last_progress.store(self.now_ms(), Ordering::Relaxed);
    }

    /// Unflushed bytes.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// How long bytes have been pending without any flush (zero when nothing is pending).
    pub(crate) fn stalled_for(&self) -> std::time::Duration {
        if self.pending() == 0 {
            return std::time::Duration::ZERO;
        }
        let since = self.now_ms().saturating_sub(self.last_progress.load(Ordering::Relaxed));
        std::time::Duration::from_millis(since)
    }

    /// Whether the slow-consumer policy closed the session.
    #[cfg(test)]
    pub(crate) fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Relaxed)
    }
}

impl Drop for SendQueue {
    fn drop(&mut self) {
        // Whatever was never flushed no longer counts.
        let p = *self.pending.get_mut();
        let _ = self
            .counters
            .queued_bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |q| Some(q.saturating_sub(p)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bound_discards_and_closes_once_and_flushes_free_bytes() {
        let counters = Arc::new(Counters::default());
        let (queue, mut rx) = SendQueue::new(10, counters.clone());
        // One frame larger than the bound passes when nothing is pending.
        queue.send(Out::Text("0123456789abc".into()));
        assert_eq!(queue.pending(), 13);
        queue.flushed(13);
        queue.send(Out::Text("01234".into()));
        queue.send(Out::Text("56789".into()));
        assert_eq!(counters.queued_bytes.load(Ordering::Relaxed), 10);
        queue.send(Out::Text("x".into()));
        queue.send(Out::Text("y".into()));
        assert!(queue.overflowed());
        let items: Vec<Out> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
        assert_eq!(items.len(), 4, "{items:?}");
        assert!(matches!(&items[3], Out::Close(4002, r) if r == "slow_consumer"));
        assert_eq!(counters.slow_consumers.load(Ordering::Relaxed), 1);
        drop(queue);
        assert_eq!(counters.queued_bytes.load(Ordering::Relaxed), 0);
    }
}
