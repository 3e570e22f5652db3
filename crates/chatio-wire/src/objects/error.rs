//! The error object of failed responses (protocol file, 2.5) and disconnect reasons (2.8).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

macro_rules! name_enum {
    (
        $(#[$meta:meta])* $name:ident {
            $( $(#[$vmeta:meta])* $var:ident = $wire:literal $(| $alias:literal)* ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash, Debug)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $var, )+
            /// A value this crate does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// Every documented value, in the protocol file's order.
            pub const KNOWN: &'static [$name] = &[$($name::$var),+];

            /// The wire name.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$var => $wire, )+
                    Self::Other(s) => s,
                }
            }

            /// Reads a wire name; unknown names become `Other`.
            pub fn parse(s: &str) -> Self {
                match s {
                    $( $wire $(| $alias)* => Self::$var, )+
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::parse(v))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

#[cfg(feature = "agent")]
pub(crate) use name_enum;

name_enum!(
    /// The `type` of an error object.
    ErrorType {
        /// `internal`: server fault.
        Internal = "internal",
        /// `customer_banned`: the customer is banned on this license.
        CustomerBanned = "customer_banned",
        /// `validation`: malformed frame, unknown/missing/invalid field.
        Validation = "validation",
        /// `authorization`: the customer may not do this (e.g. not a member of the chat).
        Authorization = "authorization",
        /// `authentication`: invalid or expired access token.
        Authentication = "authentication",
        /// `license_expired`: the license is no longer active.
        LicenseExpired = "license_expired",
        /// `request_timeout`: the server could not finish within 15 seconds.
        RequestTimeout = "request_timeout",
        /// `unsupported_version`: the protocol version is not supported.
        UnsupportedVersion = "unsupported_version",
        /// `incorrect_region`: only in the reference's error-format sample, with `data.region`.
        IncorrectRegion = "incorrect_region",
    }
);

impl ErrorType {
    /// The reference's default message for this type.
    pub fn default_message(&self) -> &'static str {
        match self {
            Self::Internal => "Internal server error",
            Self::CustomerBanned => "Customer is banned",
            Self::Validation => "Wrong format of request",
            Self::Authorization => "Authorization error",
            Self::Authentication => "Authentication error",
            Self::LicenseExpired => "License expired",
            Self::RequestTimeout => "Request timeouted",
            Self::UnsupportedVersion => "Unsupported version",
            Self::IncorrectRegion => "License is in another region",
            Self::Other(_) => "Error",
        }
    }
}

name_enum!(
    /// The `reason` of a `customer_disconnected` push.
    DisconnectReason {
        /// The customer was banned.
        CustomerBanned = "customer_banned",
        /// The customer has too many simultaneous connections.
        TooManyConnections = "too_many_connections",
        /// No license with the `license_id` given when connecting.
        LicenseNotFound = "license_not_found",
        /// The connection targets an unsupported API version.
        UnsupportedVersion = "unsupported_version",
        /// Server fault.
        InternalError = "internal_error",
        /// No ping for too long (a v0.6 reason, not v0.5; see G9).
        PingTimeout = "ping_timeout",
    }
);

impl DisconnectReason {
    /// Whether a client should stop reconnecting after this reason (G9): a ban, an unknown
    /// license or an unsupported version will not change by retrying.
    pub fn is_final(&self) -> bool {
        matches!(self, Self::CustomerBanned | Self::LicenseNotFound | Self::UnsupportedVersion)
    }
}

/// The error object of a failed response: `payload.error`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorObject {
    /// Machine-readable kind.
    #[serde(rename = "type")]
    pub kind: ErrorType,
    /// Human-readable text (missing on input reads as empty).
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub message: String,
    /// Extra details, e.g. `{"region":"dal"}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl ErrorObject {
    /// An error of this kind with this message.
    pub fn new(kind: ErrorType, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), data: None }
    }

    /// An error of this kind with the reference's default message.
    pub fn with_default_message(kind: ErrorType) -> Self {
        let message = kind.default_message().to_owned();
        Self { kind, message, data: None }
    }

    /// A `validation` error.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorType::Validation, message)
    }
}

impl fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for ErrorObject {}
