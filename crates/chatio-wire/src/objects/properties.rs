//! Properties: namespaced key-value data on chats, threads and events (protocol file, 3.8).
//!
//! Two wire forms exist (D6). Objects and pushes wrap each value, `{"ns":{"name":{"value":1}}}`;
//! update requests and `start_chat` give values directly, `{"ns":{"name":1}}`. Decoding accepts
//! both everywhere (an object value with a `value` key is unwrapped once). [`Properties`]
//! encodes the wrapped form; request types encode the flat form through [`flat`] (where a
//! value that is itself an object with a `value` key stays wrapped, so it reads back the same).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// One property value.
///
/// The Configuration API knows `int` (int32), `bool`, `string` and `tokenized_string`; the
/// last arrives as a string. Any other JSON (floats, arrays, objects) is kept as
/// [`PropertyValue::Other`] so a decode never fails on a value from a newer server.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum PropertyValue {
    /// An integer (the protocol's `int` is int32; wider values are accepted).
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string or tokenized string.
    String(String),
    /// Any other JSON value.
    Other(Value),
}

impl From<i64> for PropertyValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}
impl From<i32> for PropertyValue {
    fn from(v: i32) -> Self {
        Self::Int(v.into())
    }
}
impl From<bool> for PropertyValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}
impl From<&str> for PropertyValue {
    fn from(v: &str) -> Self {
        Self::String(v.to_owned())
    }
}
impl From<String> for PropertyValue {
    fn from(v: String) -> Self {
        Self::String(v)
    }
}

impl PropertyValue {
    /// The value as JSON.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Int(i) => Value::from(*i),
            Self::Bool(b) => Value::Bool(*b),
            Self::String(s) => Value::String(s.clone()),
            Self::Other(v) => v.clone(),
        }
    }

    /// A value from JSON, without unwrapping.
    pub fn from_json(v: Value) -> Self {
        match v {
            Value::Bool(b) => Self::Bool(b),
            Value::String(s) => Self::String(s),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Self::Int(i),
                None => Self::Other(Value::Number(n)),
            },
            other => Self::Other(other),
        }
    }

    /// Whether the value is one the protocol allows in a write: int32, bool or string.
    pub fn is_scalar(&self) -> bool {
        match self {
            Self::Int(i) => i32::try_from(*i).is_ok(),
            Self::Bool(_) | Self::String(_) => true,
            Self::Other(_) => false,
        }
    }
}

impl PropertyValue {
    /// Whether the flat form would be read back as something else: an object with a `value`
    /// key is unwrapped on decoding.
    fn needs_wrapping(&self) -> bool {
        matches!(self, Self::Other(Value::Object(m)) if m.contains_key("value"))
    }
}

impl fmt::Display for PropertyValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Int(i) => write!(f, "{i}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::String(s) => f.write_str(s),
            Self::Other(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for PropertyValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Int(i) => s.serialize_i64(*i),
            Self::Bool(b) => s.serialize_bool(*b),
            Self::String(v) => s.serialize_str(v),
            Self::Other(v) => v.serialize(s),
        }
    }
}

/// Decodes either form: a scalar as is, an object with a `value` key unwrapped once.
impl<'de> Deserialize<'de> for PropertyValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PropertyValue;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a property value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<PropertyValue, E> {
                Ok(PropertyValue::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PropertyValue, E> {
                Ok(PropertyValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PropertyValue, E> {
                Ok(i64::try_from(v).map_or_else(|_| PropertyValue::Other(v.into()), PropertyValue::Int))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<PropertyValue, E> {
                Ok(PropertyValue::Other(Value::from(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PropertyValue, E> {
                Ok(PropertyValue::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<PropertyValue, E> {
                Ok(PropertyValue::String(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<PropertyValue, E> {
                Ok(PropertyValue::Other(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<PropertyValue, A::Error> {
                let v = Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(PropertyValue::Other(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PropertyValue, A::Error> {
                let mut m = Map::<String, Value>::deserialize(de::value::MapAccessDeserializer::new(map))?;
                match m.remove("value") {
                    Some(inner) => Ok(PropertyValue::from_json(inner)),
                    None => Ok(PropertyValue::Other(Value::Object(m))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// Properties grouped by namespace: `namespace → name → value`.
///
/// Encodes the wrapped form `{"ns":{"name":{"value":v}}}` used in objects and pushes.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct Properties(BTreeMap<String, BTreeMap<String, PropertyValue>>);

impl Properties {
    /// No properties.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `namespace.name` to `value`, returning `self` for chaining.
    #[must_use]
    pub fn with(
        mut self,
        namespace: impl Into<String>,
        name: impl Into<String>,
        value: impl Into<PropertyValue>,
    ) -> Self {
        self.insert(namespace, name, value);
        self
    }

    /// Sets `namespace.name` to `value`.
    pub fn insert(&mut self, namespace: impl Into<String>, name: impl Into<String>, value: impl Into<PropertyValue>) {
        self.0.entry(namespace.into()).or_default().insert(name.into(), value.into());
    }

    /// The value of `namespace.name`.
    pub fn get(&self, namespace: &str, name: &str) -> Option<&PropertyValue> {
        self.0.get(namespace)?.get(name)
    }

    /// Whether there are no namespaces.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of properties over all namespaces.
    pub fn len(&self) -> usize {
        self.0.values().map(BTreeMap::len).sum()
    }

    /// Every `(namespace, name, value)`, ordered by namespace then name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &PropertyValue)> {
        self.0.iter().flat_map(|(ns, m)| m.iter().map(move |(k, v)| (ns.as_str(), k.as_str(), v)))
    }

    /// Sets every property of `other` here (key by key; v0.5 has no delete).
    pub fn merge(&mut self, other: &Properties) {
        for (ns, name, v) in other.iter() {
            self.insert(ns, name, v.clone());
        }
    }

    /// The namespaces and their properties.
    pub fn as_map(&self) -> &BTreeMap<String, BTreeMap<String, PropertyValue>> {
        &self.0
    }

    /// Unwraps into the namespace map.
    pub fn into_map(self) -> BTreeMap<String, BTreeMap<String, PropertyValue>> {
        self.0
    }
}

impl From<BTreeMap<String, BTreeMap<String, PropertyValue>>> for Properties {
    fn from(m: BTreeMap<String, BTreeMap<String, PropertyValue>>) -> Self {
        Self(m)
    }
}

struct Wrapped<'a>(&'a PropertyValue);

impl Serialize for Wrapped<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("value", self.0)?;
        m.end()
    }
}

struct Namespace<'a>(&'a BTreeMap<String, PropertyValue>, bool);

impl Serialize for Namespace<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            // The flat form cannot carry an object with a `value` key: decoding would unwrap
            // it. Such a value is written wrapped, which decodes back to it exactly.
            if self.1 && !v.needs_wrapping() {
                m.serialize_entry(k, v)?;
            } else {
                m.serialize_entry(k, &Wrapped(v))?;
            }
        }
        m.end()
    }
}

fn serialize_form<S: Serializer>(p: &Properties, flat_form: bool, s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(p.0.len()))?;
    for (ns, props) in &p.0 {
        m.serialize_entry(ns, &Namespace(props, flat_form))?;
    }
    m.end()
}

impl Serialize for Properties {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_form(self, false, s)
    }
}

/// A namespace whose value is `null` reads as absent (protocol file, section 0).
impl<'de> Deserialize<'de> for Properties {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let m = BTreeMap::<String, Option<BTreeMap<String, PropertyValue>>>::deserialize(d)?;
        Ok(Self(m.into_iter().filter_map(|(ns, props)| Some((ns, props?))).collect()))
    }
}

/// `serialize_with` helpers for the flat (request) form.
pub mod flat {
    use super::*;

    /// Serializes properties in the flat request form `{"ns":{"name":v}}`.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize<S: Serializer>(p: &Properties, s: S) -> Result<S::Ok, S::Error> {
        serialize_form(p, true, s)
    }

    /// Serializes optional properties in the flat request form.
    ///
    /// # Errors
    /// Only those of the serializer.
    pub fn serialize_opt<S: Serializer>(p: &Option<Properties>, s: S) -> Result<S::Ok, S::Error> {
        match p {
            Some(p) => serialize_form(p, true, s),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_forms_writes_wrapped() {
        let wrapped: Properties =
            serde_json::from_str(r#"{"rating":{"score":{"value":1},"comment":{"value":"good"}}}"#).unwrap();
        let flat: Properties = serde_json::from_str(r#"{"rating":{"score":1,"comment":"good"}}"#).unwrap();
        assert_eq!(wrapped, flat);
        assert_eq!(wrapped.get("rating", "score"), Some(&PropertyValue::Int(1)));
        assert_eq!(
            serde_json::to_string(&flat).unwrap(),
            r#"{"rating":{"comment":{"value":"good"},"score":{"value":1}}}"#
        );
        struct F<'a>(&'a Properties);
        impl Serialize for F<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                flat::serialize(self.0, s)
            }
        }
        assert_eq!(serde_json::to_string(&F(&wrapped)).unwrap(), r#"{"rating":{"comment":"good","score":1}}"#);
    }

    #[test]
    fn keeps_unexpected_values() {
        let p: Properties = serde_json::from_str(r#"{"a":{"f":1.5,"l":[1],"o":{"x":1},"n":null}}"#).unwrap();
        assert_eq!(p.get("a", "f"), Some(&PropertyValue::Other(Value::from(1.5))));
        assert!(!p.get("a", "o").unwrap().is_scalar());
        assert_eq!(p.len(), 4);
    }
}
