//! The agent event stream: bounded and shared, as the customer SDK's.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use chatio_core::agent::AgentEvent;
use chatio_transport::{Recv, Subscriber};
use futures::Stream;

/// A subscription to the agent session's events ([`AgentSdk::events`](crate::AgentSdk::events)).
/// Ends when the session ends; dropping it unsubscribes.
///
/// Events go once into a ring of [`Config::event_buffer`](crate::Config::event_buffer)
/// events shared by every subscriber: memory stays bounded and the session never waits for a
/// subscriber. One that falls further behind loses the oldest events it had not read and
/// reads [`AgentEvent::Lagged`]`{ missed }` in their place.
#[must_use = "a subscription receives nothing unless polled"]
pub struct AgentEvents {
    sub: Subscriber<AgentEvent>,
}

impl std::fmt::Debug for AgentEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentEvents").field("backlog", &self.sub.backlog()).finish()
    }
}

impl AgentEvents {
    pub(crate) fn new(sub: Subscriber<AgentEvent>) -> Self {
        Self { sub }
    }
}

impl Stream for AgentEvents {
    type Item = Arc<AgentEvent>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Arc<AgentEvent>>> {
        match self.sub.poll_recv(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Recv::Closed) => Poll::Ready(None),
            Poll::Ready(Recv::Lagged(missed)) => Poll::Ready(Some(Arc::new(AgentEvent::Lagged { missed }))),
            Poll::Ready(Recv::Event(e)) => Poll::Ready(Some(e)),
        }
    }
}
