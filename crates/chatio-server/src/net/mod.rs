//! Network primitives every layer above may use, and which use none of them: a TCP stream
//! whose writes time out ([`timed_stream`]) and the HTTP response helpers ([`http`]) shared
//! by the HTTP handlers and the transports.

pub(crate) mod http;
pub(crate) mod timed_stream;
