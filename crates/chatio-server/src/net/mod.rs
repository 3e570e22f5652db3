//! The network layer: the TCP listener and its connection caps.

pub(crate) mod io;
pub(crate) mod listener;
