//! Typed outcomes: each command's answer read out of the session's [`Reply`] once, in the
//! transport, so that a facade method gets its own type (`Chat`, `Event`, `()`...) and never
//! matches on replies. A reply of another kind than its command's is a bug of the SDK's own
//! layers, reported as [`Error::Bug`], never blamed on the server.

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::SystemTime;

use chatio_core::model::{Chat, Event, Thread, User};
use chatio_core::{Error, Reply};
use futures::FutureExt;

/// Where a command's outcome arrives, as the session's reply (`R`: the customer's
/// [`Reply`] by default).
pub type ReplyReceiver<R = chatio_core::Reply> = futures::channel::oneshot::Receiver<Result<R, chatio_core::Error>>;

/// A command's outcome as its own type, taken from the session's reply `R`.
pub trait FromReply<R>: Sized {
    /// The reply as `Self`; the reply back when it is another command's kind.
    ///
    /// # Errors
    /// The reply itself, when it is not of this kind.
    fn from_reply(reply: R) -> Result<Self, R>;
}

/// `r` as `T`: a reply of another kind is [`Error::Bug`].
pub(crate) fn typed<T: FromReply<R>, R: std::fmt::Debug>(r: Result<R, Error>) -> Result<T, Error> {
    T::from_reply(r?).map_err(|other| mismatch(std::any::type_name::<T>(), &other))
}

/// The bug of a reply `other` where a `wanted` was due. Not generic: one copy whatever the
/// number of answer types (the browser build pays for every copy).
#[inline(never)]
fn mismatch(wanted: &str, other: &dyn std::fmt::Debug) -> Error {
    // The variant's name only: a reply's content may be the customer's messages.
    let shown = format!("{other:?}");
    let kind: String = shown.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').take(40).collect();
    Error::bug(format!("a command answering {wanted} got a `{kind}` reply"))
}

/// Where a command's typed outcome arrives: resolves to `T` (or the command's error, or
/// [`Error::Closed`] when the driver ended first).
#[must_use = "an answer is only known by awaiting it"]
pub struct Answer<T, R = Reply> {
    rx: ReplyReceiver<R>,
    _t: PhantomData<fn() -> T>,
}

impl<T, R> std::fmt::Debug for Answer<T, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Answer")
    }
}

impl<T, R> Answer<T, R> {
    /// The typed outcome of the reply that arrives on `rx`.
    pub fn new(rx: ReplyReceiver<R>) -> Self {
        Self { rx, _t: PhantomData }
    }
}

impl<T: FromReply<R>, R: std::fmt::Debug> Future for Answer<T, R> {
    type Output = Result<T, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.rx.poll_unpin(cx).map(|r| typed(r.unwrap_or(Err(Error::Closed))))
    }
}

impl FromReply<Reply> for Reply {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        Ok(reply)
    }
}

/// `start_chat`.
impl FromReply<Reply> for Chat {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Chat(c) => Ok(c),
            other => Err(other),
        }
    }
}

/// `send_event`, `send_message`.
impl FromReply<Reply> for Event {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Event(e) => Ok(e),
            other => Err(other),
        }
    }
}

/// `send_file`: the file's URL.
impl FromReply<Reply> for String {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::File { url } => Ok(url),
            other => Err(other),
        }
    }
}

/// `get_chat_threads`.
impl FromReply<Reply> for Vec<Thread> {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Threads(t) => Ok(t),
            other => Err(other),
        }
    }
}

/// `update_customer`.
impl FromReply<Reply> for User {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Customer(u) => Ok(u),
            other => Err(other),
        }
    }
}

/// `update_last_seen_timestamp`.
impl FromReply<Reply> for SystemTime {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::LastSeen(t) => Ok(t),
            other => Err(other),
        }
    }
}

/// The commands without a result (`close_thread`, properties, scopes, postbacks, rating).
impl FromReply<Reply> for () {
    fn from_reply(reply: Reply) -> Result<Self, Reply> {
        match reply {
            Reply::Done => Ok(()),
            other => Err(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_of_another_kind_is_a_bug_that_shows_no_content() {
        let secret = Reply::File { url: "https://files.test/private-name.png".into() };
        let e = typed::<(), _>(Ok(secret)).expect_err("a File reply is no ()");
        assert_eq!(e.kind(), chatio_core::ErrorKind::Bug, "{e:?}");
        let shown = e.to_string();
        assert!(shown.contains("`File`") && !shown.contains("private-name"), "{shown}");
        assert_eq!(typed::<(), _>(Ok(Reply::Done)), Ok(()));
        assert_eq!(typed::<String, Reply>(Err(Error::Timeout)), Err(Error::Timeout));
    }
}
