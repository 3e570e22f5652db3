//! The transcript tap: an observer of everything the driver sends and receives, on every
//! platform (the JS SDK's `debug(sdk)`; `chatio-conformance` records its transcripts with it).

use chatio_core::Instant;

/// What a [`Tap`] sees.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum TapEvent<'a> {
    /// A token arrived for the session.
    Token {
        /// Whether it was asked fresh (after an authentication error).
        fresh: bool,
        /// The customer it is for, when known.
        customer_id: Option<&'a chatio_wire::UserId>,
    },
    /// The websocket opened.
    Connected,
    /// A text frame was written (the `login` frame holds the token: redact it).
    Sent(&'a str),
    /// A text frame arrived.
    Received(&'a str),
    /// The websocket closed or failed.
    Disconnected {
        /// The close code, if any.
        code: Option<u16>,
        /// The close reason or the failure.
        reason: &'a str,
    },
}

/// Observes the driver's traffic: for debugging and for recording conformance transcripts
/// (the JS SDK's `debug(sdk)`). Called on the driver task: keep it quick.
pub trait Tap: Send + Sync + 'static {
    /// One thing happened, at `at`.
    fn event(&self, at: Instant, event: TapEvent<'_>);
}
