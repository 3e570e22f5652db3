//! The session's error type: a layered model, as rustls and quinn do it.
//!
//! [`Error`] says what went wrong; [`Error::kind`] sorts it into one of a few
//! [`ErrorKind`]s (the caller's mistake, a refusal by the server, a fault of the peer, a
//! failure of the network, the connection); [`Error::is_transient`] says whether retrying
//! can help; `std::error::Error::source` walks down to the underlying cause (the I/O error,
//! the TLS error, the [`DecodeError`]) that the driver reported.

use std::any::{Any, TypeId};
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use chatio_wire::{DecodeError, DisconnectReason, ErrorObject, ErrorType};
use serde_json::Value;

/// An underlying error, shared (errors are `Clone`: one may fail several commands).
///
/// Two causes compare equal when they are of the same kind: the same error type (and, for an
/// `io::Error`, the same `io::ErrorKind`; for a message-only cause, the same message), never
/// by what they print: a cause's text may change with a library's wording or carry addresses.
#[derive(Clone)]
pub struct Cause {
    error: Arc<dyn StdError + Send + Sync + 'static>,
    kind: CauseKind,
}

/// What two [`Cause`]s compare.
#[derive(Clone, Debug, PartialEq, Eq)]
enum CauseKind {
    /// An error of this type.
    Type(TypeId),
    /// An `io::Error` of this kind.
    Io(std::io::ErrorKind),
    /// A cause that is only this message.
    Message(String),
    /// A boxed error whose type is not known: equal only to itself.
    Opaque,
}

impl Cause {
    /// Wraps an error.
    pub fn new<E: StdError + Send + Sync + 'static>(e: E) -> Self {
        let kind = match (&e as &dyn Any).downcast_ref::<std::io::Error>() {
            Some(io) => CauseKind::Io(io.kind()),
            None => CauseKind::Type(TypeId::of::<E>()),
        };
        Self { error: Arc::new(e), kind }
    }

    /// A cause that is only a message (for drivers and tests that have no error value).
    pub fn msg(message: impl Into<String>) -> Self {
        let message = message.into();
        Self { error: Arc::new(Message(message.clone())), kind: CauseKind::Message(message) }
    }

    /// The error itself, to downcast (`cause.get().downcast_ref::<std::io::Error>()`).
    pub fn get(&self) -> &(dyn StdError + Send + Sync + 'static) {
        &*self.error
    }
}

impl Cause {
    /// Wraps a boxed error (an `io::Error` inside keeps its kind for comparisons; another
    /// boxed error equals only itself).
    pub fn from_boxed(e: Box<dyn StdError + Send + Sync + 'static>) -> Self {
        let kind = e.downcast_ref::<std::io::Error>().map_or(CauseKind::Opaque, |io| CauseKind::Io(io.kind()));
        Self { error: Arc::from(e), kind }
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.error, f)
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl PartialEq for Cause {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.error, &other.error) || (self.kind == other.kind && self.kind != CauseKind::Opaque)
    }
}

/// A plain message as an error.
#[derive(Debug)]
struct Message(String);

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for Message {}

/// What the driver was doing when its I/O failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Opening the websocket (TCP, TLS, handshake).
    Connect,
    /// Reading from or writing to the open websocket.
    Socket,
    /// Getting an access token from the token provider.
    FetchToken,
    /// Uploading a file with the Web API.
    Upload,
    /// Reading a local file.
    ReadFile,
    /// Reading or writing the SDK's store (outbox kept across restarts).
    Store,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Connect => "connecting",
            Operation::Socket => "the websocket",
            Operation::FetchToken => "fetching a token",
            Operation::Upload => "uploading",
            Operation::ReadFile => "reading the file",
            Operation::Store => "the SDK's store",
        })
    }
}

/// A failure of the driver's I/O, with its cause kept whole.
#[derive(Clone, Debug, PartialEq)]
pub struct TransportError {
    op: Operation,
    transient: bool,
    cause: Cause,
}

impl TransportError {
    /// `op` failed because of `cause`; `transient`: whether trying again later may work (a
    /// refused connection or a timeout is; a certificate the roots do not trust is not).
    pub fn new(op: Operation, transient: bool, cause: impl Into<Cause>) -> Self {
        Self { op, transient, cause: cause.into() }
    }

    /// A transient failure described by a message only (tests, simple drivers).
    pub fn msg(op: Operation, message: impl Into<String>) -> Self {
        Self::new(op, true, Cause::msg(message))
    }

    /// What was being done.
    pub fn operation(&self) -> Operation {
        self.op
    }

    /// Whether trying again later may work.
    pub fn is_transient(&self) -> bool {
        self.transient
    }

    /// The underlying error (also its `source()`).
    pub fn cause(&self) -> &Cause {
        &self.cause
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Cause {
    fn from(e: E) -> Self {
        Cause::new(e)
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed", self.op)
    }
}

impl StdError for TransportError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(self.cause.get())
    }
}

/// The server broke the protocol: a frame that does not decode, a binary frame, a frame over
/// the size limit, an answer of the wrong kind. [`kind`](Self::kind) says which; the offending
/// frame's beginning is kept when the session saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolError {
    kind: ProtocolErrorKind,
    message: String,
    /// The decode error, if any, and the frame's excerpt (boxed: errors stay small).
    frame: Option<Box<(Option<DecodeError>, String)>>,
}

/// What kind of protocol fault a [`ProtocolError`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// A frame that does not decode (its [`DecodeError`] is the source).
    Undecodable,
    /// A binary frame: the protocol uses text frames only.
    BinaryFrame,
    /// A frame over the size limit ([`Config::max_frame_len`](crate::Config::max_frame_len)).
    TooLarge,
    /// A well-formed answer of another kind than its request's (a `start_chat` response to a
    /// `send_event`, a history step answered by another action).
    UnexpectedReply,
    /// The server's answers contradict each other (an event found by one check is missing
    /// from the next), or a fault described by a message only.
    Other,
}

/// How much of an offending frame a [`ProtocolError`] keeps, in bytes (cut on a character
/// boundary).
pub const EXCERPT_LEN: usize = 256;

impl ProtocolError {
    /// A protocol fault described by a message ([`ProtocolErrorKind::Other`]).
    pub fn new(message: impl Into<String>) -> Self {
        Self::of(ProtocolErrorKind::Other, message)
    }

    /// A fault of this kind, described by a message.
    pub fn of(kind: ProtocolErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), frame: None }
    }

    /// A frame that did not decode: keeps the decode error (kind, action, field path) and
    /// the first [`EXCERPT_LEN`] bytes of the frame. A frame refused for its size is
    /// [`ProtocolErrorKind::TooLarge`].
    pub fn undecodable(decode: DecodeError, frame: &str) -> Self {
        let (kind, message) = if decode.kind() == chatio_wire::DecodeErrorKind::TooLarge {
            (ProtocolErrorKind::TooLarge, "a frame from the server is over the size limit")
        } else {
            (ProtocolErrorKind::Undecodable, "a frame from the server does not decode")
        };
        Self { kind, message: message.into(), frame: Some(Box::new((Some(decode), excerpt(frame)))) }
    }

    /// A binary frame of `len` bytes.
    pub fn binary_frame(len: usize) -> Self {
        Self::of(
            ProtocolErrorKind::BinaryFrame,
            format!("a binary frame of {len} bytes (the protocol uses text frames only)"),
        )
    }

    /// An answer of the wrong kind, described by `message`.
    pub fn unexpected_reply(message: impl Into<String>) -> Self {
        Self::of(ProtocolErrorKind::UnexpectedReply, message)
    }

    /// Keeps the first [`EXCERPT_LEN`] bytes of the offending `frame`.
    #[must_use]
    pub fn with_frame(mut self, frame: &str) -> Self {
        let decode = self.frame.take().and_then(|f| f.0);
        self.frame = Some(Box::new((decode, excerpt(frame))));
        self
    }

    /// What kind of fault it is.
    pub fn kind(&self) -> ProtocolErrorKind {
        self.kind
    }

    /// What was wrong.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The decode error, for a frame that did not decode (also the `source()`).
    pub fn decode_error(&self) -> Option<&DecodeError> {
        self.frame.as_ref().and_then(|f| f.0.as_ref())
    }

    /// The beginning of the offending frame (at most [`EXCERPT_LEN`] bytes, then `…`).
    pub fn excerpt(&self) -> Option<&str> {
        self.frame.as_ref().map(|f| f.1.as_str())
    }
}

/// The first [`EXCERPT_LEN`] bytes of `text`, on a character boundary, `…` if cut.
pub(crate) fn excerpt(text: &str) -> String {
    if text.len() <= EXCERPT_LEN {
        return text.to_owned();
    }
    let mut end = EXCERPT_LEN;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for ProtocolError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.decode_error().map(|d| d as &(dyn StdError + 'static))
    }
}

/// Which layer an [`Error`] comes from: what a program usually branches on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's mistake: arguments refused before anything was sent
    /// ([`Error::InvalidArgs`]), an unusable configuration ([`Error::Config`]), a call on a
    /// closed session ([`Error::Closed`]).
    Usage,
    /// The caller cancelled it ([`Error::Cancelled`]).
    Cancelled,
    /// The server said no: its error object ([`Error::Server`]), a refused token
    /// ([`Error::Authentication`]), a final disconnect ([`Error::Disconnected`]).
    Refused,
    /// The server broke the protocol ([`Error::Protocol`]).
    Protocol,
    /// The network, TLS, HTTP, the token endpoint or a local file failed
    /// ([`Error::Transport`]; the cause is its `source()`).
    Transport,
    /// The connection dropped under the request, or the server did not answer in time
    /// ([`Error::ConnectionLost`], [`Error::Timeout`], [`Error::DeliveryUnknown`]).
    Connection,
    /// A bug in this SDK ([`Error::Bug`]): none of the above, nothing the caller or the
    /// server did.
    Bug,
}

/// Why a request or the session failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The token was refused (by the server, after one retry with a fresh token; or by the
    /// token endpoint).
    Authentication {
        /// The server's or the token endpoint's explanation.
        message: String,
        /// The token provider's error, when it refused.
        source: Option<Cause>,
    },
    /// The connection dropped while the request was in flight.
    ConnectionLost,
    /// No response within the request timeout.
    Timeout,
    /// The arguments were refused before anything was sent.
    InvalidArgs {
        /// What is wrong, and what to do instead.
        reason: String,
    },
    /// The SDK cannot run as configured (no async runtime, an unusable URL).
    Config {
        /// What is wrong.
        reason: String,
        /// The underlying error, if any.
        source: Option<Cause>,
    },
    /// The request was cancelled (e.g. an upload).
    Cancelled,
    /// The server answered with an error.
    Server {
        /// The documented error type (`validation`, `authorization`, ...).
        kind: ErrorType,
        /// The server's message.
        message: String,
        /// Extra details, if any.
        data: Option<Value>,
    },
    /// The server ended the session for good (`customer_banned`, `license_not_found`,
    /// `unsupported_version`); no reconnect is attempted. (`too_many_connections` is not
    /// final: the session reconnects after the maximum reconnect delay, G9.)
    Disconnected {
        /// Why.
        reason: DisconnectReason,
    },
    /// The session was disconnected by its user, or destroyed.
    Closed,
    /// The driver's I/O failed: connecting, the socket, the token endpoint, an upload, a
    /// local file. The underlying error is the `source()`.
    Transport(TransportError),
    /// The server sent something that does not follow the protocol.
    Protocol(ProtocolError),
    /// A `send_event` was in flight when the connection dropped, and checking whether it
    /// arrived failed: each of [`MAX_VERIFY_ATTEMPTS`](crate::MAX_VERIFY_ATTEMPTS) checks
    /// ended with a frame from the server too large to read (the chat's newest thread does
    /// not fit in [`Config::max_frame_len`](crate::Config::max_frame_len)). The event may or
    /// may not have been delivered; it is not sent again, which could deliver it twice.
    DeliveryUnknown {
        /// How many checks were attempted.
        attempts: u32,
    },
    /// The outbox already holds [`Config::max_outbox`](crate::Config::max_outbox) events
    /// waiting to be delivered (typically while offline): the event was refused before
    /// anything was stored or sent. Try again once some were delivered.
    OutboxFull {
        /// The bound.
        limit: usize,
    },
    /// A bug in this SDK: two of its own layers disagreed (for example a command's outcome
    /// was of another command's kind). Nothing the caller or the server did; please report it.
    Bug {
        /// What disagreed.
        what: String,
    },
}

impl Error {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidArgs { reason: reason.into() }
    }

    /// A bug of the SDK's own layers (see [`Error::Bug`]).
    pub fn bug(what: impl Into<String>) -> Self {
        Error::Bug { what: what.into() }
    }

    /// A refused token, with the server's or endpoint's message and no further cause.
    pub fn authentication(message: impl Into<String>) -> Self {
        Error::Authentication { message: message.into(), source: None }
    }

    /// A protocol fault described by a message.
    pub fn protocol(message: impl Into<String>) -> Self {
        Error::Protocol(ProtocolError::new(message))
    }

    /// The error a failed response carries.
    pub fn from_server(e: ErrorObject) -> Self {
        if e.kind == ErrorType::Authentication {
            return Error::authentication(e.message);
        }
        Error::Server { kind: e.kind, message: e.message, data: e.data }
    }

    /// Which layer the error comes from.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidArgs { .. } | Error::Config { .. } | Error::Closed | Error::OutboxFull { .. } => {
                ErrorKind::Usage
            }
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Authentication { .. } | Error::Server { .. } | Error::Disconnected { .. } => ErrorKind::Refused,
            Error::Protocol(_) => ErrorKind::Protocol,
            Error::Transport(_) => ErrorKind::Transport,
            Error::ConnectionLost | Error::Timeout | Error::DeliveryUnknown { .. } => ErrorKind::Connection,
            Error::Bug { .. } => ErrorKind::Bug,
        }
    }

    /// Whether retrying the same request later could succeed: a lost connection, a timeout,
    /// a transient transport failure (refused connection, token endpoint down or answering
    /// 5xx, timeouts), the server's `internal` and `request_timeout`. Not: the caller's
    /// mistakes, cancellations, refusals, protocol faults, permanent transport failures
    /// (untrusted certificate, missing file), and [`Error::DeliveryUnknown`] (a retry could
    /// deliver the event twice).
    pub fn is_transient(&self) -> bool {
        match self {
            Error::ConnectionLost | Error::Timeout | Error::OutboxFull { .. } => true,
            Error::Transport(t) => t.is_transient(),
            Error::Server { kind, .. } => matches!(kind, ErrorType::Internal | ErrorType::RequestTimeout),
            Error::Authentication { .. }
            | Error::InvalidArgs { .. }
            | Error::Config { .. }
            | Error::Cancelled
            | Error::Disconnected { .. }
            | Error::Closed
            | Error::Protocol(_)
            | Error::DeliveryUnknown { .. }
            | Error::Bug { .. } => false,
        }
    }

    /// The transport failure, if it is one.
    pub fn as_transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport(t) => Some(t),
            _ => None,
        }
    }

    /// The protocol fault, if it is one.
    pub fn as_protocol(&self) -> Option<&ProtocolError> {
        match self {
            Error::Protocol(p) => Some(p),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Authentication { message, .. } => write!(f, "authentication failed: {message}"),
            Error::ConnectionLost => f.write_str("the connection was lost before the server answered"),
            Error::Timeout => f.write_str("the server did not answer in time"),
            Error::InvalidArgs { reason } => write!(f, "invalid arguments: {reason}"),
            Error::Config { reason, .. } => write!(f, "cannot start: {reason}"),
            Error::Cancelled => f.write_str("cancelled"),
            Error::Server { kind, message, .. } => write!(f, "server error `{kind}`: {message}"),
            Error::Disconnected { reason } => write!(f, "disconnected by the server: {reason}"),
            Error::Closed => f.write_str("the session is closed"),
            Error::Transport(t) => write!(f, "{} failed", t.operation()),
            Error::Protocol(p) => write!(f, "protocol error: {}", p.message()),
            Error::DeliveryUnknown { attempts } => write!(
                f,
                "unknown whether the event arrived: {attempts} checks got an answer too large to read \
                 (it was not sent again, to avoid a duplicate)"
            ),
            Error::OutboxFull { limit } => {
                write!(f, "the outbox is full: {limit} events wait to be delivered")
            }
            Error::Bug { what } => write!(f, "a bug in the chatio SDK (please report it): {what}"),
        }
    }
}

impl StdError for Error {
    /// The next link of the cause chain: the transport's error (whose own source may be the
    /// I/O, TLS or HTTP error), the [`DecodeError`] of a frame that did not decode, the token
    /// provider's error.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::Transport(t) => Some(t.cause().get() as &(dyn StdError + 'static)),
            Error::Protocol(p) => p.decode_error().map(|d| d as &(dyn StdError + 'static)),
            Error::Authentication { source: Some(c), .. } | Error::Config { source: Some(c), .. } => {
                Some(c.get() as &(dyn StdError + 'static))
            }
            _ => None,
        }
    }
}

impl From<TransportError> for Error {
    fn from(e: TransportError) -> Self {
        Error::Transport(e)
    }
}

impl From<ProtocolError> for Error {
    fn from(e: ProtocolError) -> Self {
        Error::Protocol(e)
    }
}

/// The whole cause chain of an error, one `: `-separated line (for logs and the CLI).
pub fn chain(e: &(dyn StdError + 'static)) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    let mut depth = 0;
    while let Some(s) = next {
        let text = s.to_string();
        // Some errors repeat their source in their own message: skip exact repeats.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        next = s.source();
        depth += 1;
        if depth == 16 {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn server_errors_keep_their_type_and_authentication_stands_apart() {
        let mut o = ErrorObject::new(ErrorType::IncorrectRegion, "License is in another region");
        o.data = Some(serde_json::json!({"region": "dal"}));
        let e = Error::from_server(o);
        assert!(matches!(&e, Error::Server { kind: ErrorType::IncorrectRegion, data: Some(_), .. }));
        assert_eq!(e.to_string(), "server error `incorrect_region`: License is in another region");
        assert_eq!(e.kind(), ErrorKind::Refused);
        let auth = Error::from_server(ErrorObject::new(ErrorType::Authentication, "expired"));
        assert_eq!(auth, Error::authentication("expired"));
        let unknown = Error::from_server(ErrorObject::new(ErrorType::parse("brand_new"), "?"));
        assert!(matches!(unknown, Error::Server { kind: ErrorType::Other(_), .. }));
    }

    #[test]
    fn display_and_transience() {
        assert_eq!(Error::invalid("bad").to_string(), "invalid arguments: bad");
        assert_eq!(
            Error::Disconnected { reason: DisconnectReason::CustomerBanned }.to_string(),
            "disconnected by the server: customer_banned"
        );
        assert!(Error::Timeout.is_transient() && Error::ConnectionLost.is_transient());
        assert!(!Error::Cancelled.is_transient() && !Error::invalid("x").is_transient());
        let internal = Error::from_server(ErrorObject::new(ErrorType::Internal, "oops"));
        assert!(internal.is_transient());
        assert!(!Error::authentication("no").is_transient());
        assert!(!Error::protocol("garbage").is_transient());
        assert!(!Error::DeliveryUnknown { attempts: 3 }.is_transient());
        assert!(!Error::Config { reason: "no runtime".into(), source: None }.is_transient());
    }

    #[test]
    fn every_kind_and_its_transience() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let t = Error::Transport(TransportError::new(Operation::Connect, true, io));
        assert_eq!((t.kind(), t.is_transient()), (ErrorKind::Transport, true));
        let permanent = Error::Transport(TransportError::new(Operation::ReadFile, false, Cause::msg("missing")));
        assert_eq!((permanent.kind(), permanent.is_transient()), (ErrorKind::Transport, false));
        let cases = [
            (Error::invalid("x"), ErrorKind::Usage),
            (Error::Closed, ErrorKind::Usage),
            (Error::Config { reason: "x".into(), source: None }, ErrorKind::Usage),
            (Error::Cancelled, ErrorKind::Cancelled),
            (Error::authentication("x"), ErrorKind::Refused),
            (Error::Disconnected { reason: DisconnectReason::CustomerBanned }, ErrorKind::Refused),
            (Error::protocol("x"), ErrorKind::Protocol),
            (Error::Timeout, ErrorKind::Connection),
            (Error::ConnectionLost, ErrorKind::Connection),
            (Error::DeliveryUnknown { attempts: 1 }, ErrorKind::Connection),
            (Error::OutboxFull { limit: 1 }, ErrorKind::Usage),
            (Error::bug("x"), ErrorKind::Bug),
        ];
        for (e, k) in cases {
            assert_eq!(e.kind(), k, "{e:?}");
        }
    }

    #[test]
    fn the_cause_chain_reaches_the_io_error() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        let e = Error::Transport(TransportError::new(Operation::Connect, true, io));
        let io = e.source().expect("the cause");
        let io = io.downcast_ref::<std::io::Error>().expect("an io::Error");
        assert_eq!(io.kind(), std::io::ErrorKind::ConnectionRefused);
        assert_eq!(chain(&e), "connecting failed: connection refused");
    }

    /// Causes compare by kind: the error's type, an `io::Error`'s kind, a message's text;
    /// never by what a library prints.
    #[test]
    fn causes_compare_by_kind_not_by_text() {
        use std::io::{Error as Io, ErrorKind as K};
        assert_eq!(
            Cause::new(Io::new(K::ConnectionRefused, "refused")),
            Cause::new(Io::new(K::ConnectionRefused, "Connection refused (os error 111)"))
        );
        assert_ne!(Cause::new(Io::new(K::ConnectionRefused, "x")), Cause::new(Io::new(K::TimedOut, "x")));
        let a = chatio_wire::ServerFrame::decode("{").expect_err("syntax");
        let b = chatio_wire::ServerFrame::decode("[1]").expect_err("shape");
        assert_eq!(Cause::new(a.clone()), Cause::new(b), "two decode errors are of one kind");
        assert_ne!(Cause::new(a), Cause::msg("{"), "a message is not a decode error, whatever it prints");
        assert_eq!(Cause::msg("refused"), Cause::msg("refused"));
        assert_ne!(Cause::msg("refused"), Cause::msg("reset"));
        let boxed = Cause::from_boxed(Box::new(Message("opaque".into())));
        assert_eq!(boxed, boxed.clone());
        assert_ne!(boxed, Cause::from_boxed(Box::new(Message("opaque".into()))));
        assert_eq!(Cause::from_boxed(Box::new(Io::new(K::TimedOut, "a"))), Cause::new(Io::new(K::TimedOut, "b")));
    }

    #[test]
    fn protocol_errors_say_their_kind() {
        let big = "x".repeat(100);
        let too_large = chatio_wire::ServerFrame::decode_with(&big, &chatio_wire::Limits::with_max_frame_len(64))
            .expect_err("too large");
        let p = ProtocolError::undecodable(too_large, &big);
        assert_eq!(p.kind(), ProtocolErrorKind::TooLarge);
        assert!(p.excerpt().is_some_and(|e| e.starts_with("xxx")));
        assert_eq!(ProtocolError::binary_frame(3).kind(), ProtocolErrorKind::BinaryFrame);
        let u = ProtocolError::unexpected_reply("a `ping` response answered a `login` request")
            .with_frame("{\"action\":\"ping\"}");
        assert_eq!((u.kind(), u.excerpt()), (ProtocolErrorKind::UnexpectedReply, Some("{\"action\":\"ping\"}")));
        assert_eq!(ProtocolError::new("?").kind(), ProtocolErrorKind::Other);
    }

    #[test]
    fn an_undecodable_frame_keeps_its_decode_error_and_a_bounded_excerpt() {
        let frame = format!("{{\"action\":\"incoming_event\",\"payload\":{{\"x\":\"{}\"", "é".repeat(400));
        let d = chatio_wire::ServerFrame::decode(&frame).expect_err("truncated");
        let e = Error::Protocol(ProtocolError::undecodable(d.clone(), &frame));
        let p = e.as_protocol().expect("protocol");
        assert_eq!(p.decode_error(), Some(&d));
        let ex = p.excerpt().expect("excerpt");
        assert!(ex.len() <= EXCERPT_LEN + '…'.len_utf8() && ex.ends_with('…'), "{ex}");
        let src = e.source().and_then(|s| s.downcast_ref::<DecodeError>()).expect("decode error as source");
        assert_eq!(src.kind(), chatio_wire::DecodeErrorKind::Syntax);
    }
}
