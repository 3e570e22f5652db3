//! The transport's errors: each variant keeps the error it comes from as its `source()`.
//!
//! Displays follow the convention of error chains: a variant says what the transport was
//! doing, its `source()` says why (walk it, or print [`chatio_core::chain`]).

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::time::Duration;

use chatio_core::{Cause, Operation, TransportError};

/// A boxed underlying error.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// A failure the browser reported (the `web` driver): a JavaScript exception's message, or what
/// its events said (they carry nothing more).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrowserError(pub String);

impl fmt::Display for BrowserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StdError for BrowserError {}

/// What is wrong with a URL ([`Error::InvalidUrl`]'s source).
#[derive(Debug)]
#[non_exhaustive]
pub enum UrlError {
    /// A scheme other than `http`, `https`, `ws` and `wss`.
    UnsupportedScheme(String),
    /// It cannot be a base URL (`localhost:8080` parses as scheme `localhost`).
    CannotBeABase,
    /// It has no host.
    NoHost,
    /// It has no port and a scheme with no known default.
    NoPort,
    /// It needs TLS, but the `tls` feature is disabled.
    TlsDisabled,
    /// A parser refused it: the URL parser, the HTTP request-target parser or the TLS
    /// server-name parser (its error is the source).
    Parse(BoxError),
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::UnsupportedScheme(s) => write!(f, "unsupported scheme `{s}` (use http, https, ws or wss)"),
            UrlError::CannotBeABase => f.write_str("it cannot be a base URL (does it start with `http://`?)"),
            UrlError::NoHost => f.write_str("it has no host"),
            UrlError::NoPort => f.write_str("it has no port and a scheme without a default port"),
            UrlError::TlsDisabled => f.write_str("it needs TLS, but the `tls` feature of chatio-transport is disabled"),
            UrlError::Parse(_) => f.write_str("it does not parse"),
        }
    }
}

impl StdError for UrlError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            UrlError::Parse(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

/// How an open connection ended without its close handshake, as the driver saw it (the
/// source of an [`Error::WebSocket`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dropped {
    /// The connection closed without a close frame (close code 1006).
    NoCloseFrame,
    /// The platform reported the network offline (a browser's `offline` event).
    Offline,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dropped::NoCloseFrame => "the connection dropped without a close frame (1006)",
            Dropped::Offline => "the network went offline",
        })
    }
}

impl StdError for Dropped {}

/// Something the transport could not do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is unusable (bad scheme, no host...).
    InvalidUrl {
        /// The URL (credentials removed).
        url: String,
        /// What is wrong with it.
        source: UrlError,
    },
    /// The connection could not be opened.
    Connect {
        /// Where to (credentials removed).
        url: String,
        /// Why: the `io::Error` of TCP natively, a [`BrowserError`] in a browser.
        source: BoxError,
    },
    /// TLS setup or handshake failed.
    Tls {
        /// The host (or what was being set up).
        host: String,
        /// The rustls or I/O error.
        source: BoxError,
    },
    /// An HTTP-level failure (handshake, protocol, body).
    Http {
        /// What was being done (`handshake with http://…`, `reading the body`...).
        context: String,
        /// The hyper (or other) error.
        source: BoxError,
    },
    /// The server answered with an unexpected status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The body (truncated to 512 bytes; never contains a token we sent).
        body: String,
    },
    /// A websocket failure (handshake, or the open socket).
    WebSocket {
        /// What was being done.
        context: String,
        /// The tungstenite error natively, a [`BrowserError`] in a browser, or [`Dropped`].
        source: BoxError,
    },
    /// The operation took longer than allowed.
    Timeout(Duration),
    /// A local file could not be read.
    File {
        /// The path.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// No usable async runtime.
    NoRuntime(crate::runtime::NoRuntime),
    /// The token endpoint refused to issue a token (`{"error": …}` with a 4xx status).
    TokenRefused {
        /// The HTTP status.
        status: u16,
        /// The OAuth error code (`invalid_client`...).
        error: String,
        /// Its description.
        description: String,
    },
    /// The token endpoint's answer could not be read.
    TokenAnswer {
        /// The JSON error.
        source: serde_json::Error,
    },
    /// The operation was cancelled.
    Cancelled,
}

impl Error {
    /// Whether trying again later may work: a refused or reset connection, a timeout, an
    /// HTTP 5xx or 429, a websocket that broke. Not: an unusable URL, a TLS failure (an
    /// untrusted certificate stays untrusted), a missing file, a token refusal, no runtime.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Connect { .. } | Error::Timeout(_) | Error::Http { .. } | Error::WebSocket { .. } => true,
            // A connection that broke during the handshake is transient; a certificate the
            // roots do not trust is not.
            Error::Tls { source, .. } => source.downcast_ref::<io::Error>().is_some_and(|e| {
                matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::BrokenPipe
                )
            }),
            Error::Status { status, .. } => *status >= 500 || *status == 429 || *status == 408,
            Error::InvalidUrl { .. }
            | Error::File { .. }
            | Error::NoRuntime(_)
            | Error::TokenRefused { .. }
            | Error::TokenAnswer { .. }
            | Error::Cancelled => false,
        }
    }

    /// The session's error for this failure while doing `op`: a token refusal is
    /// [`chatio_core::Error::Authentication`], a missing runtime or an unusable URL is
    /// [`chatio_core::Error::Config`], a cancellation [`chatio_core::Error::Cancelled`];
    /// anything else is [`chatio_core::Error::Transport`] with this error as the cause.
    pub fn into_core(self, op: Operation) -> chatio_core::Error {
        match self {
            Error::TokenRefused { .. } | Error::TokenAnswer { .. } => {
                chatio_core::Error::Authentication { message: self.to_string(), source: Some(Cause::new(self)) }
            }
            Error::NoRuntime(_) | Error::InvalidUrl { .. } => {
                chatio_core::Error::Config { reason: self.to_string(), source: Some(Cause::new(self)) }
            }
            Error::Cancelled => chatio_core::Error::Cancelled,
            e => chatio_core::Error::Transport(e.into_transport(op)),
        }
    }

    /// This failure as the core's [`TransportError`] (for [`chatio_core::Disconnect::Failed`]
    /// and [`chatio_core::UploadFailure::Transport`]).
    pub fn into_transport(self, op: Operation) -> TransportError {
        let transient = self.is_transient();
        TransportError::new(op, transient, Cause::new(self))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl { url, .. } => write!(f, "invalid URL `{url}`"),
            Error::Connect { url, .. } => write!(f, "cannot connect to {url}"),
            Error::Tls { host, .. } => write!(f, "TLS with {host} failed"),
            Error::Http { context, .. } => write!(f, "HTTP error: {context}"),
            Error::Status { status, body } => write!(f, "HTTP status {status}: {body}"),
            Error::WebSocket { context, .. } => write!(f, "websocket error: {context}"),
            Error::Timeout(d) => write!(f, "timed out after {:.1} s", d.as_secs_f64()),
            Error::File { path, .. } => write!(f, "cannot read {path}"),
            Error::NoRuntime(e) => e.fmt(f),
            Error::TokenRefused { status, error, description } => {
                write!(f, "the token endpoint refused ({status}): {error}")?;
                if !description.is_empty() {
                    write!(f, ": {description}")?;
                }
                Ok(())
            }
            Error::TokenAnswer { .. } => f.write_str("the token endpoint's answer is unreadable"),
            Error::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Error::File { source, .. } => Some(source),
            Error::Connect { source, .. }
            | Error::Tls { source, .. }
            | Error::Http { source, .. }
            | Error::WebSocket { source, .. } => Some(source.as_ref()),
            Error::InvalidUrl { source, .. } => Some(source),
            Error::TokenAnswer { source } => Some(source),
            Error::NoRuntime(e) => Some(e),
            _ => None,
        }
    }
}

impl Error {
    /// The connection ended without its close handshake.
    pub(crate) fn dropped(how: Dropped) -> Self {
        Error::WebSocket { context: "reading".into(), source: Box::new(how) }
    }
}

impl From<crate::runtime::NoRuntime> for Error {
    fn from(e: crate::runtime::NoRuntime) -> Self {
        Error::NoRuntime(e)
    }
}

/// Truncates a body for an error message, on a character boundary.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    match text.char_indices().nth(512) {
        Some((i, _)) => format!("{}…", text.get(..i).unwrap_or_default()),
        None => text.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transience_and_the_core_mapping() {
        let refused = Error::Connect {
            url: "ws://127.0.0.1:1/".into(),
            source: Box::new(io::Error::new(io::ErrorKind::ConnectionRefused, "refused")),
        };
        assert!(refused.is_transient());
        let core = refused.into_core(Operation::Connect);
        assert_eq!(core.kind(), chatio_core::ErrorKind::Transport);
        assert!(core.is_transient());
        let io = core.source().and_then(|s| s.source()).and_then(|s| s.downcast_ref::<io::Error>());
        assert_eq!(io.map(io::Error::kind), Some(io::ErrorKind::ConnectionRefused));

        let timeout = Error::Timeout(Duration::from_secs(15)).into_core(Operation::FetchToken);
        assert!(matches!(timeout, chatio_core::Error::Transport(_)) && timeout.is_transient());
        let five = Error::Status { status: 503, body: String::new() }.into_core(Operation::FetchToken);
        assert!(five.is_transient());
        let four = Error::Status { status: 404, body: String::new() };
        assert!(!four.is_transient());
        let refusal = Error::TokenRefused { status: 400, error: "invalid_client".into(), description: String::new() };
        let auth = refusal.into_core(Operation::FetchToken);
        assert!(matches!(auth, chatio_core::Error::Authentication { source: Some(_), .. }));
        assert!(!auth.is_transient());
        let nort = Error::NoRuntime(crate::runtime::NoRuntime("none")).into_core(Operation::Connect);
        assert_eq!(nort.kind(), chatio_core::ErrorKind::Usage);
        assert!(matches!(nort, chatio_core::Error::Config { .. }));
    }

    /// An unusable URL keeps what is wrong as a typed source, and the parser's own error
    /// under it; the chain reads as one sentence.
    #[test]
    fn an_invalid_url_keeps_its_cause() {
        let base = url::Url::parse("ftp://user:secret@x/").expect("url");
        let e = crate::urls::rtm_url(&base, chatio_wire::LicenseId(1)).expect_err("ftp");
        assert!(matches!(&e, Error::InvalidUrl { source: UrlError::UnsupportedScheme(s), .. } if s == "ftp"), "{e:?}");
        let chain = chatio_core::chain(&e);
        assert!(chain.starts_with("invalid URL `ftp://x/`: unsupported scheme `ftp`"), "{chain}");
        assert!(!chain.contains("secret"), "{chain}");
        let parse = url::Url::parse("http://[::1").expect_err("bad");
        let e = Error::InvalidUrl { url: "http://[::1".into(), source: UrlError::Parse(Box::new(parse)) };
        let root = e.source().and_then(StdError::source).and_then(|s| s.downcast_ref::<url::ParseError>());
        assert_eq!(root, Some(&parse));
        assert!(Error::dropped(Dropped::Offline).is_transient(), "a dropped connection is worth retrying");
    }
}
