//! The session's error type.

use std::fmt;

use chatio_wire::{DisconnectReason, ErrorObject, ErrorType};
use serde_json::Value;

/// Why a request or the session failed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The token was refused (after one retry with a fresh token), or none could be had.
    Authentication {
        /// The server's or the token provider's explanation.
        message: String,
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
    /// A file upload failed in the transport (the server's refusals are [`Error::Server`]).
    Upload {
        /// What went wrong.
        message: String,
    },
    /// The server sent something that does not follow the protocol.
    Protocol {
        /// What was wrong with it.
        message: String,
    },
    /// A `send_event` was in flight when the connection dropped, and checking whether it
    /// arrived failed: each of [`MAX_VERIFY_ATTEMPTS`](crate::MAX_VERIFY_ATTEMPTS) checks
    /// ended with a frame from the server too large to read (the chat's newest thread does
    /// not fit in [`Config::max_frame_len`](crate::Config::max_frame_len)). The event may or
    /// may not have been delivered; it is not sent again, which could deliver it twice.
    DeliveryUnknown {
        /// How many checks were attempted.
        attempts: u32,
    },
}

impl Error {
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidArgs { reason: reason.into() }
    }

    /// The error a failed response carries.
    pub fn from_server(e: ErrorObject) -> Self {
        if e.kind == ErrorType::Authentication {
            return Error::Authentication { message: e.message };
        }
        Error::Server { kind: e.kind, message: e.message, data: e.data }
    }

    /// Whether retrying the same request later could succeed.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::ConnectionLost
                | Error::Timeout
                | Error::Upload { .. }
                | Error::Server { kind: ErrorType::Internal | ErrorType::RequestTimeout, .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Authentication { message } => write!(f, "authentication failed: {message}"),
            Error::ConnectionLost => f.write_str("the connection was lost before the server answered"),
            Error::Timeout => f.write_str("the server did not answer in time"),
            Error::InvalidArgs { reason } => write!(f, "invalid arguments: {reason}"),
            Error::Cancelled => f.write_str("cancelled"),
            Error::Server { kind, message, .. } => write!(f, "server error `{kind}`: {message}"),
            Error::Disconnected { reason } => write!(f, "disconnected by the server: {reason}"),
            Error::Closed => f.write_str("the session is closed"),
            Error::Upload { message } => write!(f, "upload failed: {message}"),
            Error::Protocol { message } => write!(f, "protocol error: {message}"),
            Error::DeliveryUnknown { attempts } => write!(
                f,
                "unknown whether the event arrived: {attempts} checks got an answer too large to read \
                 (it was not sent again, to avoid a duplicate)"
            ),
        }
    }
}

impl std::error::Error for Error {}

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
        let auth = Error::from_server(ErrorObject::new(ErrorType::Authentication, "expired"));
        assert_eq!(auth, Error::Authentication { message: "expired".into() });
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
    }
}
