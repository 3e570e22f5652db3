//! The crate's error types: [`Error`] (starting and driving a server) and [`StoreError`]
//! (its storage).

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// What can go wrong when starting, restarting or driving a [`Server`](crate::Server).
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The listen address could not be bound (in use, not local, no permission...).
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: io::Error,
    },
    /// The server's thread or tokio runtime could not be started.
    Runtime(io::Error),
    /// The server has stopped (or its thread ended before it started accepting).
    Stopped,
    /// The license is not one the server hosts.
    UnknownLicense(u64),
    /// The server's storage failed.
    Store(StoreError),
    /// The configuration cannot be used (an app of a license the server does not host...).
    Config(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Self::Runtime(e) => write!(f, "cannot start the server's runtime: {e}"),
            Self::Stopped => f.write_str("the server has stopped"),
            Self::UnknownLicense(l) => write!(f, "the server does not host license {l}"),
            Self::Store(e) => e.fmt(f),
            Self::Config(m) => write!(f, "invalid configuration: {m}"),
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } | Self::Runtime(source) => Some(source),
            Self::Store(e) => Some(e),
            Self::Stopped | Self::UnknownLicense(_) | Self::Config(_) => None,
        }
    }
}

/// What a store operation can fail with (a database's errors; the memory store never
/// fails).
#[derive(Debug)]
pub struct StoreError {
    message: String,
    full: bool,
}

impl StoreError {
    /// An error with this description.
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), full: false }
    }

    /// An error of a full disk (or of the database's size bound).
    pub(crate) fn full(message: impl Into<String>) -> Self {
        Self { message: message.into(), full: true }
    }

    /// Whether the disk (or the database's size bound) is full.
    pub fn is_full(&self) -> bool {
        self.full
    }
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the server's storage failed: {}", self.message)
    }
}

impl std::error::Error for StoreError {}

impl From<StoreError> for chatio_wire::ErrorObject {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = %e, "storage error");
        let mut error = chatio_wire::ErrorObject::new(chatio_wire::ErrorType::Internal, e.to_string());
        if e.full {
            error.data = Some(serde_json::json!({"storage": "full"}));
        }
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_problem() {
        let e = Error::Bind { addr: SocketAddr::from(([127, 0, 0, 1], 1)), source: io::Error::other("in use") };
        assert_eq!(e.to_string(), "cannot listen on 127.0.0.1:1: in use");
        assert!(std::error::Error::source(&e).is_some());
        assert_eq!(Error::UnknownLicense(7).to_string(), "the server does not host license 7");
        assert!(std::error::Error::source(&Error::Stopped).is_none());
    }
}
