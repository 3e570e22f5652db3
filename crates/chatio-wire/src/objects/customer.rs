//! Customer data sent with `login` and `update_customer` (protocol file, 4.1 and 4.12).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a customer says about itself. Every field is optional; `fields` are merged into the
/// existing ones. `properties` is read as an alias of `fields` when `fields` is absent and it
/// is a flat map (D28); `fields` is what is written.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[serde(from = "CustomerDataRepr")]
#[non_exhaustive]
pub struct CustomerData {
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// E-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Custom fields (string → string).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
    /// Where the customer is; stored for agents, never shown to customers (G26).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring: Option<Monitoring>,
}

impl CustomerData {
    /// No data.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name, returning `self`.
    #[must_use]
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the e-mail, returning `self`.
    #[must_use]
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Adds a custom field, returning `self`.
    #[must_use]
    pub fn field(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.get_or_insert_with(BTreeMap::new).insert(key.into(), value.into());
        self
    }
}

#[derive(Deserialize)]
struct CustomerDataRepr {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default, deserialize_with = "crate::objects::user::string_map")]
    fields: Option<BTreeMap<String, String>>,
    /// The V02 name of `fields` (D28); used when `fields` is absent and it is a flat map.
    #[serde(default)]
    properties: Option<Value>,
    #[serde(default)]
    monitoring: Option<Monitoring>,
}

impl From<CustomerDataRepr> for CustomerData {
    fn from(r: CustomerDataRepr) -> Self {
        let fields = r.fields.or_else(|| r.properties.and_then(crate::objects::user::fields_from_properties));
        Self { name: r.name, email: r.email, fields, monitoring: r.monitoring }
    }
}

/// Monitoring data: the page and time zone of the customer.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Monitoring {
    /// The page the customer is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<Page>,
    /// Time zone, e.g. `"-2"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
}

/// A web page.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Page {
    /// URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Referrer (login only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}
