//! Auto chat scopes (agent protocol file, 5.20–5.22): scopes a license adds to the chats
//! that match a set of rules.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use super::filters::PropertyFilters;
use crate::objects::event_serde::Key;
use crate::objects::scopes::Scopes;

/// One auto chat scopes configuration, as `get_auto_chat_scopes_config` lists it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AutoChatScopesConfig {
    /// Its id (`add_auto_chat_scopes`'s answer).
    pub id: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The scopes it adds.
    pub scopes: Scopes,
    /// When it applies.
    pub rules: AutoChatScopesRules,
}

impl AutoChatScopesConfig {
    /// A configuration.
    pub fn new(id: impl Into<String>, scopes: Scopes, rules: AutoChatScopesRules) -> Self {
        Self { id: id.into(), description: None, scopes, rules }
    }
}

/// When auto chat scopes apply: every rule given must hold (H25).
///
/// Rules this crate does not know are kept in [`AutoChatScopesRules::other`] (and written
/// back), never dropped: a server must refuse them rather than apply the configuration
/// more widely than asked.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
#[non_exhaustive]
pub struct AutoChatScopesRules {
    /// `chat_properties.<namespace>.<name>.<filter_type>`.
    pub chat_properties: Option<PropertyFilters>,
    /// `customer_url.values` or `customer_url.exclude_values`.
    pub customer_url: Option<UrlFilter>,
    /// Unknown rules, by key.
    pub other: BTreeMap<String, Value>,
}

impl AutoChatScopesRules {
    /// Rules on chat properties.
    pub fn chat_properties(filters: PropertyFilters) -> Self {
        Self { chat_properties: Some(filters), ..Self::default() }
    }

    /// Rules on the customer's URL.
    pub fn customer_url(filter: UrlFilter) -> Self {
        Self { customer_url: Some(filter), ..Self::default() }
    }
}

impl Serialize for AutoChatScopesRules {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(p) = &self.chat_properties {
            m.serialize_entry("chat_properties", p)?;
        }
        if let Some(u) = &self.customer_url {
            m.serialize_entry("customer_url", u)?;
        }
        for (k, v) in self.other.iter().filter(|(k, _)| !matches!(k.as_str(), "chat_properties" | "customer_url")) {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for AutoChatScopesRules {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AutoChatScopesRules;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("auto chat scopes rules")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<AutoChatScopesRules, A::Error> {
                let mut rules = AutoChatScopesRules::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "chat_properties" => rules.chat_properties = map.next_value()?,
                        "customer_url" => rules.customer_url = map.next_value()?,
                        _ => {
                            rules.other.insert(key.into_owned(), map.next_value()?);
                        }
                    }
                }
                Ok(rules)
            }
        }
        d.deserialize_map(V)
    }
}

/// A rule on the customer's URL: exactly one of `values` (some must match) and
/// `exclude_values` (none may match).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum UrlFilter {
    /// The URL must match one of these.
    Values(Vec<UrlMatch>),
    /// The URL must match none of these.
    ExcludeValues(Vec<UrlMatch>),
}

impl UrlFilter {
    /// Whether `url` passes.
    pub fn matches(&self, url: &str) -> bool {
        match self {
            Self::Values(ms) => ms.iter().any(|m| m.matches(url)),
            Self::ExcludeValues(ms) => !ms.iter().any(|m| m.matches(url)),
        }
    }
}

impl Serialize for UrlFilter {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        match self {
            Self::Values(v) => m.serialize_entry("values", v)?,
            Self::ExcludeValues(v) => m.serialize_entry("exclude_values", v)?,
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for UrlFilter {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UrlFilter;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a URL rule: `values` or `exclude_values`")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<UrlFilter, A::Error> {
                let mut found: Option<UrlFilter> = None;
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    let filter = match &*key {
                        "values" => UrlFilter::Values(map.next_value()?),
                        "exclude_values" => UrlFilter::ExcludeValues(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    if found.is_some() {
                        return Err(de::Error::custom("only one of `values` and `exclude_values` per URL rule"));
                    }
                    found = Some(filter);
                }
                found.ok_or_else(|| de::Error::custom("a URL rule needs `values` or `exclude_values`"))
            }
        }
        d.deserialize_map(V)
    }
}

/// A URL to match: the whole URL (`exact_match: true`) or a part of it.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UrlMatch {
    /// The text to look for.
    pub value: String,
    /// `true`: the URL must equal `value`; `false` (also when absent): contain it.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub exact_match: bool,
}

impl UrlMatch {
    /// A match.
    pub fn new(value: impl Into<String>, exact_match: bool) -> Self {
        Self { value: value.into(), exact_match }
    }

    /// Whether `url` matches.
    pub fn matches(&self, url: &str) -> bool {
        if self.exact_match { url == self.value } else { url.contains(&self.value) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_rules_are_kept() {
        let r: AutoChatScopesRules = serde_json::from_str(
            r#"{"customer_url":{"values":[{"value":"example.com","exact_match":false}]},"geo":{"values":["PL"]}}"#,
        )
        .unwrap();
        assert!(r.customer_url.as_ref().unwrap().matches("https://example.com/a"));
        assert_eq!(r.other.keys().collect::<Vec<_>>(), ["geo"]);
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"customer_url":{"values":[{"value":"example.com","exact_match":false}]},"geo":{"values":["PL"]}}"#
        );
        assert!(serde_json::from_str::<UrlFilter>(r#"{"values":[],"exclude_values":[]}"#).is_err());
        assert!(UrlFilter::ExcludeValues(vec![UrlMatch::new("a.com", true)]).matches("https://a.com"));
    }
}
