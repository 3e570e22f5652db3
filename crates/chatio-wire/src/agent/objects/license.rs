//! The license of `login`'s answer (agent protocol file, 5.1).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::ids::LicenseId;
use crate::time::Timestamp;

/// The license the agent belongs to.
///
/// `id` is a string in `login` (A5) and an integer elsewhere (`/info`, the Customer API):
/// both are read, the string is written. `creation_date` (the changelog's name, A6) is read
/// when `creation_timestamp` is absent.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(from = "LicenseRepr")]
#[non_exhaustive]
pub struct License {
    /// The license number.
    #[serde(serialize_with = "id_as_string")]
    pub id: LicenseId,
    /// Plan name, e.g. `enterprise`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan: Option<String>,
    /// When the license expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration_timestamp: Option<Timestamp>,
    /// When it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<Timestamp>,
    /// Whether it is a trial.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_trial: Option<bool>,
}

impl License {
    /// A license with only its id.
    pub fn new(id: impl Into<LicenseId>) -> Self {
        Self { id: id.into(), plan: None, expiration_timestamp: None, creation_timestamp: None, in_trial: None }
    }
}

fn id_as_string<S: Serializer>(id: &LicenseId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// A license id as a JSON integer or a string of digits.
struct LenientLicenseId(LicenseId);

impl<'de> Deserialize<'de> for LenientLicenseId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientLicenseId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a license id (an integer or a string of digits)")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientLicenseId, E> {
                Ok(LenientLicenseId(LicenseId(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientLicenseId, E> {
                v.parse()
                    .map(|n| LenientLicenseId(LicenseId(n)))
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Deserialize)]
struct LicenseRepr {
    id: LenientLicenseId,
    #[serde(default)]
    plan: Option<String>,
    #[serde(default)]
    expiration_timestamp: Option<Timestamp>,
    #[serde(default)]
    creation_timestamp: Option<Timestamp>,
    #[serde(default)]
    creation_date: Option<Timestamp>,
    #[serde(default)]
    in_trial: Option<bool>,
}

impl From<LicenseRepr> for License {
    fn from(r: LicenseRepr) -> Self {
        Self {
            id: r.id.0,
            plan: r.plan,
            expiration_timestamp: r.expiration_timestamp,
            creation_timestamp: r.creation_timestamp.or(r.creation_date),
            in_trial: r.in_trial,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_reads_both_forms_writes_a_string() {
        let l: License = serde_json::from_str(r#"{"id":123,"creation_date":5}"#).unwrap();
        assert_eq!(l.id, LicenseId(123));
        assert_eq!(l.creation_timestamp, Some(Timestamp::from_secs(5)));
        assert_eq!(serde_json::to_string(&l).unwrap(), r#"{"id":"123","creation_timestamp":5}"#);
        let s: License = serde_json::from_str(r#"{"id":"123"}"#).unwrap();
        assert_eq!(s, License::new(123u64));
        assert!(serde_json::from_str::<License>(r#"{"id":"abc"}"#).is_err());
    }
}
