//! Integration tests of the reference server over real loopback sockets.

mod client;
mod smoke;
