//! The event stream: bounded, shared, filterable.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chatio_core::SdkEvent;
use chatio_transport::{Recv, Subscriber};
use futures::Stream;

/// A subscription to the SDK's events ([`CustomerSdk::events`](crate::CustomerSdk::events)).
/// Ends when the session ends; dropping it unsubscribes.
///
/// # Backpressure
///
/// Events are published once into a ring of
/// [`Config::event_buffer`](crate::Config::event_buffer) events (1 024 by default) shared by
/// every subscriber, so memory stays bounded however many subscribers there are and however
/// slow they are; the session never waits for a subscriber. A subscriber that falls further
/// behind than the ring loses the oldest events it had not read, and reads
/// [`SdkEvent::Lagged`]`{ missed }` in their place, then the oldest events still kept. An
/// event every live subscriber has read is let go at once: the ring holds only what someone
/// has yet to read (before the first subscription: what it will read first).
///
/// Each event is cloned when a subscriber reads it (not when it is published); use
/// [`shared`](Self::shared) to read the `Arc`s themselves.
#[must_use = "a subscription receives nothing unless polled"]
pub struct Events {
    sub: Subscriber,
    filter: Option<Filter>,
}

type Filter = Box<dyn Fn(&SdkEvent) -> bool + Send + Sync>;

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").field("sub", &self.sub).field("filtered", &self.filter.is_some()).finish()
    }
}

impl Events {
    pub(crate) fn new(sub: Subscriber) -> Self {
        Self { sub, filter: None }
    }

    /// Only the events with one of these JS SDK names ([`SdkEvent::name`]: `"new_event"`,
    /// `"user_is_typing"`, `"incoming_multicast"`...) — the JS SDK's `on(name, …)`.
    /// [`SdkEvent::Lagged`] always passes: a filtered subscriber is told what it missed.
    pub fn named(self, names: &[&str]) -> Self {
        let names: Vec<String> = names.iter().map(|s| (*s).to_owned()).collect();
        self.filter(move |e| names.iter().any(|n| n == e.name()))
    }

    /// Only the events `keep` accepts (typed filters: `|e| matches!(e, SdkEvent::NewEvent { .. })`).
    /// [`SdkEvent::Lagged`] always passes.
    pub fn filter(mut self, keep: impl Fn(&SdkEvent) -> bool + Send + Sync + 'static) -> Self {
        self.filter = Some(match self.filter.take() {
            Some(prev) => Box::new(move |e| prev(e) && keep(e)),
            None => Box::new(keep),
        });
        self
    }

    /// The same subscription yielding the shared events themselves (no clone per reader).
    pub fn shared(self) -> SharedEvents {
        SharedEvents { inner: self }
    }

    /// Events published but not read yet by this subscriber (dropped ones included).
    pub fn backlog(&self) -> u64 {
        self.sub.backlog()
    }

    fn poll_shared(&mut self, cx: &mut Context<'_>) -> Poll<Option<Arc<SdkEvent>>> {
        loop {
            match self.sub.poll_recv(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Recv::Closed) => return Poll::Ready(None),
                Poll::Ready(Recv::Lagged(missed)) => return Poll::Ready(Some(Arc::new(SdkEvent::Lagged { missed }))),
                Poll::Ready(Recv::Event(e)) => {
                    if self.filter.as_ref().is_none_or(|f| f(&e)) {
                        return Poll::Ready(Some(e));
                    }
                }
            }
        }
    }
}

impl Stream for Events {
    type Item = SdkEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SdkEvent>> {
        self.poll_shared(cx).map(|o| o.map(Arc::unwrap_or_clone))
    }
}

/// [`Events`] yielding `Arc<SdkEvent>`: every subscriber reads the one copy.
#[must_use = "a subscription receives nothing unless polled"]
#[derive(Debug)]
pub struct SharedEvents {
    inner: Events,
}

impl Stream for SharedEvents {
    type Item = Arc<SdkEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arc<SdkEvent>>> {
        self.inner.poll_shared(cx)
    }
}
