//! The objects payloads are made of (protocol file, section 3): one module per object.

#[cfg(feature = "agent")]
pub(crate) mod agent_view;
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

use serde::{Deserialize, Deserializer};

/// `deserialize_with` for keys that have a default: JSON `null` reads like an absent key
/// (protocol file, section 0), instead of failing the whole frame.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
