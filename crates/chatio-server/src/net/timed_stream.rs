//! A socket whose writes time out: a client that stops reading cannot hold a connection
//! (or the memory of an answer written to it) longer than the write timeout.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::Sleep;

/// A TCP stream whose writes and flushes fail with `TimedOut` after making no progress for
/// the timeout.
#[derive(Debug)]
pub(crate) struct TimedStream {
    inner: TcpStream,
    timeout: Duration,
    /// Armed while a write is pending.
    deadline: Option<Pin<Box<Sleep>>>,
}

impl TimedStream {
    /// Wraps `inner`.
    pub(crate) fn new(inner: TcpStream, timeout: Duration) -> Self {
        Self { inner, timeout, deadline: None }
    }

    /// Turns a pending write into an error once the deadline passes.
    fn check<T>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        match poll {
            Poll::Ready(r) => {
                self.deadline = None;
                Poll::Ready(r)
            }
            Poll::Pending => {
                let timeout = self.timeout;
                let deadline = self.deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
                match deadline.as_mut().poll(cx) {
                    Poll::Ready(()) => {
                        self.deadline = None;
                        Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "write timed out: the client does not read",
                        )))
                    }
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }
}

use std::future::Future;

impl AsyncRead for TimedStream {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for TimedStream {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        let poll = Pin::new(&mut me.inner).poll_write(cx, buf);
        me.check(cx, poll)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let me = &mut *self;
        let poll = Pin::new(&mut me.inner).poll_write_vectored(cx, bufs);
        me.check(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = &mut *self;
        let poll = Pin::new(&mut me.inner).poll_flush(cx);
        me.check(cx, poll)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let me = &mut *self;
        let poll = Pin::new(&mut me.inner).poll_shutdown(cx);
        me.check(cx, poll)
    }
}
