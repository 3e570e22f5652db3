//! Scopes: which agents may see a chat (protocol file, 3.7).

use serde::{Deserialize, Deserializer, Serialize};

/// Agent groups allowed to see a chat. No groups (`{}`) means no restriction.
///
/// Decoding also accepts the REF sample's wrapper `{"scopes":{"groups":[…]}}` (D27); encoding
/// writes the bare object.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize)]
#[non_exhaustive]
pub struct Scopes {
    /// Agent group ids; `None` when the object has no `groups` key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<u64>>,
}

impl Scopes {
    /// No restriction.
    pub fn all() -> Self {
        Self::default()
    }

    /// Restricted to these groups.
    pub fn groups(groups: impl IntoIterator<Item = u64>) -> Self {
        Self { groups: Some(groups.into_iter().collect()) }
    }

    /// Whether the scopes restrict nothing.
    pub fn is_unrestricted(&self) -> bool {
        self.groups.as_ref().is_none_or(Vec::is_empty)
    }
}

#[derive(Deserialize)]
struct Repr {
    #[serde(default)]
    groups: Option<Vec<u64>>,
    #[serde(default)]
    scopes: Option<Inner>,
}

#[derive(Deserialize)]
struct Inner {
    #[serde(default)]
    groups: Option<Vec<u64>>,
}

impl<'de> Deserialize<'de> for Scopes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let r = Repr::deserialize(d)?;
        Ok(Scopes { groups: r.groups.or(r.scopes.and_then(|s| s.groups)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_wrapper_emits_bare() {
        let s: Scopes = serde_json::from_str(r#"{"scopes":{"groups":[1,2]}}"#).unwrap();
        assert_eq!(s, Scopes::groups([1, 2]));
        assert_eq!(serde_json::to_string(&s).unwrap(), r#"{"groups":[1,2]}"#);
        let all: Scopes = serde_json::from_str("{}").unwrap();
        assert!(all.is_unrestricted());
        assert_eq!(serde_json::to_string(&all).unwrap(), "{}");
    }
}
