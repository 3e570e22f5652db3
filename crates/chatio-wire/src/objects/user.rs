//! Users: the customer and the agents of a chat (protocol file, 3.3).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::ids::UserId;
#[cfg(feature = "agent")]
use crate::objects::agent_view::{CustomerMonitoring, Permission, RoutingStatus};
use crate::time::Timestamp;

/// The kind of a user, the `type` key.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum UserType {
    /// A customer (website visitor).
    Customer,
    /// An agent, human or bot.
    Agent,
    /// A kind this crate does not know, kept verbatim.
    Other(String),
}

impl UserType {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Other(s) => s,
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "customer" => Self::Customer,
            "agent" => Self::Agent,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for UserType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for UserType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = UserType;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user type string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UserType, E> {
                Ok(UserType::parse(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// A chat participant: a customer or an agent.
///
/// One struct serves both kinds: every field except `id` and `type` is optional (D19).
/// A customer's `fields` are read from `properties` when a V02-era server sends that instead
/// (D28); `fields` is always what is written.
///
/// With the `agent` feature it also holds what only agents see (agent protocol file, 4.3):
/// a customer's `monitoring` and `banned`, an agent's `routing_status`, and the `permission`
/// of one's own profile.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(from = "UserRepr")]
#[non_exhaustive]
pub struct User {
    /// The user id (for a customer, the `customer_id`).
    pub id: UserId,
    /// Customer or agent.
    #[serde(rename = "type")]
    pub kind: UserType,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Avatar URL of an agent (kept as an opaque string: samples lack a scheme).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar: Option<String>,
    /// Presence flag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub present: Option<bool>,
    /// A customer's custom fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// When the user last saw the chat this object came with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seen_timestamp: Option<Timestamp>,
    /// A customer's visits, as agents see them.
    #[cfg(feature = "agent")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Box<CustomerMonitoring>>,
    /// Whether a customer is banned (agent view; always sent by the reference server, H28).
    #[cfg(feature = "agent")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub banned: Option<bool>,
    /// An agent's routing status (agent view; only while the agent is logged in).
    #[cfg(feature = "agent")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub routing_status: Option<RoutingStatus>,
    /// The permission of one's own profile (`login`'s `my_profile`).
    #[cfg(feature = "agent")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permission: Option<Permission>,
}

impl User {
    /// A customer with only its id.
    pub fn customer(id: impl Into<UserId>) -> Self {
        Self::new(id.into(), UserType::Customer)
    }

    /// An agent with only its id.
    pub fn agent(id: impl Into<UserId>) -> Self {
        Self::new(id.into(), UserType::Agent)
    }

    /// A user of the given kind with only its id.
    pub fn new(id: UserId, kind: UserType) -> Self {
        Self {
            id,
            kind,
            name: None,
            email: None,
            avatar: None,
            present: None,
            fields: None,
            last_seen_timestamp: None,
            #[cfg(feature = "agent")]
            monitoring: None,
            #[cfg(feature = "agent")]
            banned: None,
            #[cfg(feature = "agent")]
            routing_status: None,
            #[cfg(feature = "agent")]
            permission: None,
        }
    }

    /// Whether this user is a customer.
    pub fn is_customer(&self) -> bool {
        self.kind == UserType::Customer
    }

    /// Whether this user is an agent.
    pub fn is_agent(&self) -> bool {
        self.kind == UserType::Agent
    }
}

#[derive(Deserialize)]
struct UserRepr {
    id: UserId,
    #[serde(rename = "type")]
    kind: UserType,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    present: Option<bool>,
    #[serde(default, deserialize_with = "string_map")]
    fields: Option<BTreeMap<String, String>>,
    #[serde(default)]
    properties: Option<Value>,
    #[serde(default)]
    last_seen_timestamp: Option<Timestamp>,
    #[cfg(feature = "agent")]
    #[serde(default)]
    monitoring: Option<Box<CustomerMonitoring>>,
    #[cfg(feature = "agent")]
    #[serde(default)]
    banned: Option<bool>,
    #[cfg(feature = "agent")]
    #[serde(default)]
    routing_status: Option<RoutingStatus>,
    #[cfg(feature = "agent")]
    #[serde(default)]
    permission: Option<Permission>,
}

impl From<UserRepr> for User {
    fn from(r: UserRepr) -> Self {
        let fields = r.fields.or_else(|| r.properties.and_then(fields_from_properties));
        User {
            id: r.id,
            kind: r.kind,
            name: r.name,
            email: r.email,
            avatar: r.avatar,
            present: r.present,
            fields,
            last_seen_timestamp: r.last_seen_timestamp,
            #[cfg(feature = "agent")]
            monitoring: r.monitoring,
            #[cfg(feature = "agent")]
            banned: r.banned,
            #[cfg(feature = "agent")]
            routing_status: r.routing_status,
            #[cfg(feature = "agent")]
            permission: r.permission,
        }
    }
}

/// Custom fields read from a V02-era `properties` value (D28): only a flat map whose values
/// are strings, numbers or booleans (kept as their text; `null` values dropped) qualifies; any
/// other shape (nested chat-style properties, say) gives `None`.
pub(crate) fn fields_from_properties(v: Value) -> Option<BTreeMap<String, String>> {
    let Value::Object(m) = v else { return None };
    let mut out = BTreeMap::new();
    for (k, v) in m {
        match v {
            Value::String(s) => {
                out.insert(k, s);
            }
            Value::Number(n) => {
                out.insert(k, n.to_string());
            }
            Value::Bool(b) => {
                out.insert(k, b.to_string());
            }
            Value::Null => {}
            Value::Array(_) | Value::Object(_) => return None,
        }
    }
    Some(out)
}

/// A string → string map whose values may also arrive as numbers or booleans (kept as their
/// text); `null` values are dropped.
pub(crate) fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<BTreeMap<String, String>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a map of strings")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_map(self)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(k) = map.next_key::<String>()? {
                if let Some(v) = map.next_value::<LenientString>()?.0 {
                    out.insert(k, v);
                }
            }
            Ok(Some(out))
        }
    }
    d.deserialize_option(V)
}

struct LenientString(Option<String>);

impl<'de> Deserialize<'de> for LenientString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = LenientString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LenientString, E> {
                Ok(LenientString(Some(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<LenientString, E> {
                Ok(LenientString(Some(v)))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<LenientString, E> {
                Ok(LenientString(Some(v.to_string())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LenientString, E> {
                Ok(LenientString(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LenientString, E> {
                Ok(LenientString(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LenientString, E> {
                Ok(LenientString(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<LenientString, E> {
                Ok(LenientString(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_and_agent() {
        let c: User = serde_json::from_str(
            r#"{"id":"b7","type":"customer","name":"John","present":true,"fields":{"k":"v","n":3,"z":null},"last_seen_timestamp":1473433500,"monitoring":{}}"#,
        )
        .unwrap();
        assert!(c.is_customer());
        assert_eq!(c.fields.as_ref().unwrap().get("n").map(String::as_str), Some("3"));
        assert_eq!(c.fields.as_ref().unwrap().len(), 2);
        let a: User = serde_json::from_str(r#"{"id":"x@y","type":"agent","avatar":"cdn/1.png"}"#).unwrap();
        assert!(a.is_agent());
        let bot: User = serde_json::from_str(r#"{"id":"b","type":"bot"}"#).unwrap();
        assert_eq!(bot.kind, UserType::Other("bot".into()));
        assert_eq!(serde_json::to_string(&bot).unwrap(), r#"{"id":"b","type":"bot"}"#);
    }

    #[test]
    fn v02_properties_become_fields() {
        let c: User = serde_json::from_str(r#"{"id":"c","type":"customer","properties":{"a":"b"}}"#).unwrap();
        assert_eq!(serde_json::to_string(&c).unwrap(), r#"{"id":"c","type":"customer","fields":{"a":"b"}}"#);
        let nested: User = serde_json::from_str(r#"{"id":"c","type":"customer","properties":{"a":{"b":1}}}"#).unwrap();
        assert_eq!(nested.fields, None);
    }
}
