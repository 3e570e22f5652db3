//! The event stream.

use std::pin::Pin;
use std::task::{Context, Poll};

use chatio_core::SdkEvent;
use futures::Stream;
use futures::channel::mpsc;

/// A subscription to the SDK's events ([`CustomerSdk::events`](crate::CustomerSdk::events)).
/// Ends when the session ends; dropping it unsubscribes.
#[derive(Debug)]
#[must_use = "a subscription receives nothing unless polled"]
pub struct Events {
    rx: mpsc::UnboundedReceiver<SdkEvent>,
}

impl Events {
    pub(crate) fn new(rx: mpsc::UnboundedReceiver<SdkEvent>) -> Self {
        Self { rx }
    }
}

impl Stream for Events {
    type Item = SdkEvent;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<SdkEvent>> {
        Pin::new(&mut self.rx).poll_next(cx)
    }
}
