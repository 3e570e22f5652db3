//! The objects payloads are made of (protocol file, section 3): one module per object.

pub(crate) mod chat;
pub(crate) mod customer;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod event_serde;
pub(crate) mod properties;
pub(crate) mod scopes;
pub(crate) mod thread;
pub(crate) mod typing;
pub(crate) mod user;
