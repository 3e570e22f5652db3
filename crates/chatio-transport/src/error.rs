//! The transport's errors.

use std::fmt;
use std::io;
use std::time::Duration;

/// Something the transport could not do.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The URL is unusable (bad scheme, no host...).
    InvalidUrl(String),
    /// The TCP connection could not be opened.
    Connect {
        /// Where to (credentials removed).
        url: String,
        /// Why.
        source: io::Error,
    },
    /// TLS setup or handshake failed.
    Tls(String),
    /// An HTTP-level failure (handshake, protocol, body).
    Http(String),
    /// The server answered with an unexpected status.
    Status {
        /// The HTTP status.
        status: u16,
        /// The body (truncated to 512 bytes; never contains a token we sent).
        body: String,
    },
    /// A websocket failure.
    WebSocket(String),
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
    /// The token endpoint's answer could not be used.
    Token(String),
    /// The operation was cancelled.
    Cancelled,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidUrl(m) => write!(f, "invalid URL: {m}"),
            Error::Connect { url, source } => write!(f, "cannot connect to {url}: {source}"),
            Error::Tls(m) => write!(f, "TLS error: {m}"),
            Error::Http(m) => write!(f, "HTTP error: {m}"),
            Error::Status { status, body } => write!(f, "HTTP status {status}: {body}"),
            Error::WebSocket(m) => write!(f, "websocket error: {m}"),
            Error::Timeout(d) => write!(f, "timed out after {:.1} s", d.as_secs_f64()),
            Error::File { path, source } => write!(f, "cannot read {path}: {source}"),
            Error::NoRuntime(e) => e.fmt(f),
            Error::Token(m) => write!(f, "token endpoint: {m}"),
            Error::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Connect { source, .. } | Error::File { source, .. } => Some(source),
            Error::NoRuntime(e) => Some(e),
            _ => None,
        }
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
