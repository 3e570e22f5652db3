//! Transports: what carries an RTM session's frames. Each feeds and drains a
//! [`Session`](crate::session::Session): the plain websocket
//! ([`ws`], `/customer/v0.5/rtm/ws`) and socket.io ([`sio`], `/customer/v0.5/rtm/sio`, what
//! the JS SDK 0.9.1 speaks).

pub(crate) mod sio;
pub(crate) mod ws;
