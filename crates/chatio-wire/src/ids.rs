//! Typed identifiers.
//!
//! Every identifier of the protocol is an opaque string (protocol file, section 0): chat,
//! thread, event and user ids must never be parsed. Each kind gets its own newtype so a
//! [`ThreadId`] cannot be passed where a [`ChatId`] is expected. The only numeric ids are
//! license ids ([`LicenseId`]) and scope group ids (plain `u32`).
//!
//! Request ids are special: the reference allows any string, and older clients sent numbers
//! (protocol file, D14). [`RequestId`] keeps either form and echoes it unchanged.

use std::borrow::Borrow;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps a string as this kind of id. Ids are opaque: any string is accepted.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as a string slice.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Unwraps the id into its string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

string_id!(
    /// A chat id, e.g. `OU0V0P0OWT`.
    ChatId
);
string_id!(
    /// A thread id, e.g. `OU0V0U3IMN`.
    ThreadId
);
string_id!(
    /// An event id, e.g. `OU0V0U3IMN_1`.
    EventId
);
string_id!(
    /// A user id: a customer id (the token's `entity_id`) or an agent id (often e-mail-like).
    UserId
);

/// A license (chat.io account) number, the `license_id` query parameter.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LicenseId(pub u64);

impl From<u64> for LicenseId {
    fn from(n: u64) -> Self {
        LicenseId(n)
    }
}

impl fmt::Display for LicenseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A request id, chosen by the client and echoed by the server.
///
/// The reference uses strings; SDK 0.8.0 sent ids under the key `id` and some clients send
/// numbers (D14). Both forms are kept and re-encoded exactly as they came.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RequestId(Repr);

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Repr {
    Str(String),
    Int(i64),
    UInt(u64),
}

impl RequestId {
    /// A string request id (the canonical form).
    pub fn new(id: impl Into<String>) -> Self {
        Self(Repr::Str(id.into()))
    }

    /// A numeric request id, as some older clients send.
    pub fn from_number(n: u64) -> Self {
        Self(Repr::UInt(n))
    }

    /// The id as a string if it is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Repr::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the id was a JSON number on the wire.
    pub fn is_numeric(&self) -> bool {
        !matches!(self.0, Repr::Str(_))
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Str(s) => write!(f, "RequestId({s:?})"),
            Repr::Int(n) => write!(f, "RequestId({n})"),
            Repr::UInt(n) => write!(f, "RequestId({n})"),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Str(s) => f.write_str(s),
            Repr::Int(n) => write!(f, "{n}"),
            Repr::UInt(n) => write!(f, "{n}"),
        }
    }
}

impl From<String> for RequestId {
    fn from(s: String) -> Self {
        Self::new(s)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::new(s)
    }
}

impl Serialize for RequestId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Str(v) => s.serialize_str(v),
            Repr::Int(n) => s.serialize_i64(*n),
            Repr::UInt(n) => s.serialize_u64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for RequestId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RequestId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or integer request id")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RequestId, E> {
                Ok(RequestId(Repr::Str(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<RequestId, E> {
                Ok(RequestId(Repr::Str(v)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RequestId, E> {
                Ok(RequestId(Repr::UInt(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RequestId, E> {
                if v >= 0 { Ok(RequestId(Repr::UInt(v as u64))) } else { Ok(RequestId(Repr::Int(v))) }
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_keeps_its_json_form() {
        for raw in ["\"k3j2l1x9q\"", "17", "-3"] {
            let id: RequestId = serde_json::from_str(raw).unwrap();
            assert_eq!(serde_json::to_string(&id).unwrap(), raw);
        }
        assert!(serde_json::from_str::<RequestId>("1.5").is_err());
        assert!(serde_json::from_str::<RequestId>("null").is_err());
    }

    #[test]
    fn ids_debug_names_their_kind() {
        assert_eq!(format!("{:?}", ChatId::new("C1")), "ChatId(\"C1\")");
        assert_eq!(ThreadId::from("T"), "T");
    }
}
