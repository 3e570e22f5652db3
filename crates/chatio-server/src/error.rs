//! The crate's error type.

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
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { addr, source } => write!(f, "cannot listen on {addr}: {source}"),
            Self::Runtime(e) => write!(f, "cannot start the server's runtime: {e}"),
            Self::Stopped => f.write_str("the server has stopped"),
            Self::UnknownLicense(l) => write!(f, "the server does not host license {l}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } | Self::Runtime(source) => Some(source),
            Self::Stopped | Self::UnknownLicense(_) => None,
        }
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
