//! [`ChatHistory`]: `getChatHistory` as an async iterator and a `Stream`.

use std::pin::Pin;
use std::task::{Context, Poll};

use chatio_core::{Error, HistoryId, Reply};
use chatio_transport::FromReply;

use crate::driver::DriverHandle;
use futures::future::BoxFuture;
use futures::{FutureExt, Stream};

// `next_page`, not `next`: `StreamExt::next` stays the `Stream`'s.

use chatio_core::model::Event;

/// A page of history.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct HistoryPage {
    /// Events older than those of earlier pages, ascending by order.
    pub events: Vec<Event>,
    /// Nothing older remains.
    pub done: bool,
}

impl FromReply<Reply> for HistoryPage {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::History { events, done } => Ok(HistoryPage { events, done }),
            other => Err(other),
        }
    }
}

/// Older and older pages of a chat's events (about 50 each, whole threads), newest first.
///
/// Call [`next_page`](Self::next_page) for pages, or use it as a `Stream` of event batches
/// that ends after the first thread (`StreamExt::next`).
///
/// # Cancellation
///
/// Cancel-safe: the page being loaded belongs to the cursor, not to the future. Dropping a
/// `next_page()` future (in a `select!`, on a timeout) loses nothing: the next call (or the
/// next `Stream` poll) returns that same page when it arrives. Dropping the cursor closes it
/// in the session.
#[must_use = "a history cursor loads nothing unless asked"]
pub struct ChatHistory {
    driver: DriverHandle,
    id: HistoryId,
    done: bool,
    pending: Option<BoxFuture<'static, Result<HistoryPage, Error>>>,
}

impl std::fmt::Debug for ChatHistory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatHistory").field("id", &self.id).field("done", &self.done).finish_non_exhaustive()
    }
}

fn load(driver: DriverHandle, id: HistoryId) -> BoxFuture<'static, Result<HistoryPage, Error>> {
    async move { driver.call(move |s, now| s.history_next(id, now)).await }.boxed()
}

impl ChatHistory {
    pub(crate) fn new(driver: DriverHandle, id: HistoryId) -> Self {
        Self { driver, id, done: false, pending: None }
    }

    /// The next (older) page (`getChatHistory().next()`). After the last page, returns
    /// empty pages with `done`.
    ///
    /// **Cancellation:** safe — see [the type's docs](Self#cancellation).
    ///
    /// # Errors
    /// [`Error::ConnectionLost`], [`Error::Timeout`], [`Error::Server`]; a failed page can be
    /// asked again.
    pub async fn next_page(&mut self) -> Result<HistoryPage, Error> {
        futures::future::poll_fn(|cx| self.poll_page(cx)).await
    }

    /// Polls the page in flight (starting one if none is).
    fn poll_page(&mut self, cx: &mut Context<'_>) -> Poll<Result<HistoryPage, Error>> {
        let (driver, id) = (self.driver.clone(), self.id);
        let fut = self.pending.get_or_insert_with(|| load(driver, id));
        let page = match fut.poll_unpin(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(p) => p,
        };
        self.pending = None;
        if let Ok(p) = &page {
            self.done |= p.done;
        }
        Poll::Ready(page)
    }

    /// Whether the first thread has been reached.
    pub fn is_done(&self) -> bool {
        self.done
    }
}

impl Stream for ChatHistory {
    type Item = Result<Vec<Event>, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if self.done && self.pending.is_none() {
                return Poll::Ready(None);
            }
            match self.poll_page(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Ok(p)) if !p.events.is_empty() => return Poll::Ready(Some(Ok(p.events))),
                Poll::Ready(Ok(_)) => {}
            }
        }
    }
}

impl Drop for ChatHistory {
    fn drop(&mut self) {
        let id = self.id;
        let _ = self.driver.exec_detached(move |s, _| s.close_history(id));
    }
}
