//! Customers of a license: their data (name, e-mail, fields, monitoring) and bans.

use std::collections::BTreeMap;

use chatio_wire::{Monitoring, UserId};

use serde::{Deserialize, Serialize};

use super::Result;

/// A customer of a license.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Customer {
    pub(crate) name: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) fields: BTreeMap<String, String>,
    pub(crate) monitoring: Option<Monitoring>,
    pub(crate) banned: bool,
    /// The files the customer uploaded, counted against its quotas (G38).
    #[serde(default)]
    pub(crate) uploads: Uploads,
    /// When a ban of `ban_customer` ends (Unix seconds); `None`: it does not end (the admin
    /// fault's ban).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ban_ends: Option<u64>,
}

impl Customer {
    /// Whether the customer is banned at `now`.
    pub(crate) fn banned_at(&self, now: u64) -> bool {
        self.banned && self.ban_ends.is_none_or(|end| now < end)
    }
}

/// A customer's uploads: how many files, how many bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Uploads {
    pub(crate) files: u64,
    pub(crate) bytes: u64,
}

/// Customers, by license and id.
pub(crate) trait CustomerStore {
    /// The customer, if it exists.
    fn customer(&mut self, license: u64, id: &UserId) -> Result<Option<Customer>>;

    /// Creates or replaces a customer.
    fn put_customer(&mut self, license: u64, id: &UserId, customer: Customer) -> Result<()>;

    /// Forgets the customers nobody can reach any more: not banned, without a token and
    /// without a chat, unless `keep` says otherwise (a connection, an armed fault). Returns
    /// how many went.
    fn purge_customers(&mut self, keep: &mut dyn FnMut(u64, &UserId) -> bool) -> Result<usize>;

    /// How many customers there are, every license together.
    fn customer_count(&mut self) -> Result<usize>;
}
