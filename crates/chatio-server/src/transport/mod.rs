//! Transports: what carries an RTM session's frames. Each feeds and drains a
//! [`Session`](crate::session::Session) of the session engine; today the plain websocket
//! ([`ws`], `/customer/v0.5/rtm/ws`).

pub(crate) mod ws;
