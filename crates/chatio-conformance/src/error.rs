//! The one error type of recording, replaying and checking.
//!
//! Each variant says what failed and keeps its cause as [`source`](std::error::Error::source);
//! [`Error::AtLine`] and [`Error::InSession`] say where (a transcript line, a scripted
//! session) around the error that happened there. `Display` prints one level;
//! [`Error::chain`] prints the whole chain on one line.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// What went wrong while recording, replaying or checking a transcript.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be read or written.
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A transcript file is not in the transcript format.
    Format {
        /// `file:line`.
        at: String,
        /// Why the line does not parse.
        source: serde_json::Error,
    },
    /// The reference server did not start.
    Server(chatio_server::Error),
    /// The core session refused the command that writes a recorded frame.
    Core(chatio_core::Error),
    /// A call of the SDK failed (a scripted session).
    Sdk(chatio_customer_sdk::Error),
    /// The transport could not be set up, or a Web API request (token, upload) failed.
    Transport(chatio_transport::Error),
    /// A Web API upload failed.
    Upload(chatio_transport::upload::UploadError),
    /// The websocket to the peer failed (handshake, write).
    Socket(async_tungstenite::tungstenite::Error),
    /// A TCP connection or a listener failed.
    Net {
        /// What was attempted: `connecting to 127.0.0.1:8080`, `listening on port 0`.
        what: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A URL does not parse.
    Url {
        /// The URL.
        url: String,
        /// Why.
        source: url::ParseError,
    },
    /// An HTTP request answered with an error status.
    Status {
        /// The request: `/admin/drop_connections`.
        what: String,
        /// The status it answered.
        status: http::StatusCode,
    },
    /// The peer sent a frame that is not JSON.
    NotJson(serde_json::Error),
    /// Nothing came within the time limit.
    Timeout {
        /// What was awaited.
        waiting_for: String,
        /// The limit.
        after: Duration,
    },
    /// The session or the connection ended while something was awaited.
    Ended {
        /// What was awaited.
        waiting_for: String,
    },
    /// The transcript cannot be used as it is: no session header, an unknown session, fault
    /// or transcript name, a recorded frame that does not decode.
    Transcript(String),
    /// What was written or sent differs from the recording.
    Mismatch {
        /// What, by whom: `the session wrote`, `the server sent`, `request ids`.
        what: String,
        /// The recorded side.
        expected: String,
        /// The side observed.
        got: String,
    },
    /// A scripted session saw something else than its script expects.
    Script(String),
    /// The error happened at a transcript line.
    AtLine {
        /// The line, 1-based.
        line: usize,
        /// The error.
        source: Box<Error>,
    },
    /// The error happened in a scripted session.
    InSession {
        /// The session's name.
        name: String,
        /// The error.
        source: Box<Error>,
    },
}

impl Error {
    /// Puts the error at transcript line `line` (1-based).
    pub fn at_line(self, line: usize) -> Error {
        Error::AtLine { line, source: Box::new(self) }
    }

    /// Puts the error in the scripted session `name`.
    pub fn in_session(self, name: &str) -> Error {
        Error::InSession { name: name.to_owned(), source: Box::new(self) }
    }

    /// The error and its causes on one line, separated by `: `.
    pub fn chain(&self) -> impl fmt::Display + '_ {
        Chain(self)
    }

    /// The innermost error of this crate: what happened, without where.
    pub fn innermost(&self) -> &Error {
        match self {
            Error::AtLine { source, .. } | Error::InSession { source, .. } => source.innermost(),
            other => other,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn net(what: impl fmt::Display) -> impl FnOnce(std::io::Error) -> Error {
        let what = what.to_string();
        move |source| Error::Net { what, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { path, .. } => write!(f, "{}", path.display()),
            Error::Format { at, .. } => write!(f, "{at}: not a transcript line"),
            Error::Server(_) => f.write_str("cannot start the reference server"),
            Error::Core(_) => f.write_str("the command for the recorded frame failed"),
            Error::Sdk(_) => f.write_str("the SDK failed"),
            Error::Transport(_) => f.write_str("the transport failed"),
            Error::Socket(_) => f.write_str("the websocket failed"),
            Error::Upload(_) => f.write_str("the upload failed"),
            Error::Net { what, .. } => f.write_str(what),
            Error::Url { url, .. } => write!(f, "`{url}` is not a URL"),
            Error::Status { what, status } => write!(f, "{what} answered {status}"),
            Error::NotJson(_) => f.write_str("the peer sent a frame that is not JSON"),
            Error::Timeout { waiting_for, after } => {
                write!(f, "nothing came in {} ms (waiting for {waiting_for})", after.as_millis())
            }
            Error::Ended { waiting_for } => write!(f, "the session ended while waiting for {waiting_for}"),
            Error::Transcript(what) | Error::Script(what) => f.write_str(what),
            Error::Mismatch { what, expected, got } => write!(f, "{what}\n  {got}\nexpected\n  {expected}"),
            Error::AtLine { line, .. } => write!(f, "line {line}"),
            Error::InSession { name, .. } => write!(f, "session `{name}`"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } | Error::Net { source, .. } => Some(source),
            Error::Format { source, .. } | Error::NotJson(source) => Some(source),
            Error::Server(e) => Some(e),
            Error::Url { source, .. } => Some(source),
            Error::Core(e) => Some(e),
            Error::Sdk(e) => Some(e),
            Error::Transport(e) => Some(e),
            Error::Socket(e) => Some(e),
            Error::Upload(e) => Some(e),
            Error::AtLine { source, .. } | Error::InSession { source, .. } => Some(source.as_ref()),
            Error::Status { .. }
            | Error::Timeout { .. }
            | Error::Ended { .. }
            | Error::Transcript(_)
            | Error::Mismatch { .. }
            | Error::Script(_) => None,
        }
    }
}

impl From<chatio_server::Error> for Error {
    fn from(e: chatio_server::Error) -> Self {
        Error::Server(e)
    }
}

impl From<chatio_customer_sdk::Error> for Error {
    fn from(e: chatio_customer_sdk::Error) -> Self {
        Error::Sdk(e)
    }
}

impl From<chatio_transport::Error> for Error {
    fn from(e: chatio_transport::Error) -> Self {
        Error::Transport(e)
    }
}

impl From<chatio_transport::upload::UploadError> for Error {
    fn from(e: chatio_transport::upload::UploadError) -> Self {
        Error::Upload(e)
    }
}

impl From<async_tungstenite::tungstenite::Error> for Error {
    fn from(e: async_tungstenite::tungstenite::Error) -> Self {
        Error::Socket(e)
    }
}

struct Chain<'a>(&'a Error);

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = std::error::Error::source(self.0);
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_says_where_then_what_then_why() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = Error::io("fixtures/x.jsonl")(io).at_line(3).in_session("methods");
        assert_eq!(e.to_string(), "session `methods`");
        assert_eq!(e.chain().to_string(), "session `methods`: line 3: fixtures/x.jsonl: gone");
        assert!(matches!(e.innermost(), Error::Io { .. }));
        let m = Error::Mismatch { what: "the server sent".into(), expected: "{}".into(), got: "[]".into() };
        assert_eq!(m.at_line(2).chain().to_string(), "line 2: the server sent\n  []\nexpected\n  {}");
    }
}
