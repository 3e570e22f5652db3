//! Refresh-token families and remembered browsers of the SQLite store: in memory for now
//! (see `SqliteStore::identity`).

use chatio_wire::UserId;

use super::SqliteStore;
use crate::store::{IdentityStore, Result, Rotation};

impl IdentityStore for SqliteStore {
    fn start_family(
        &mut self,
        license: u64,
        customer: &UserId,
        client_id: &str,
        now: u64,
        lifetime: u64,
    ) -> Result<String> {
        Ok(self.identity.refresh.issue(license, customer, client_id, now, lifetime))
    }

    fn rotate_refresh(&mut self, secret: &str, client_id: &str, now: u64, lifetime: u64) -> Result<Rotation> {
        Ok(self.identity.refresh.rotate(secret, client_id, now, lifetime))
    }

    fn remember_browser(&mut self, license: u64, customer: &UserId, now: u64, lifetime: u64) -> Result<String> {
        Ok(self.identity.browsers.remember(license, customer, now, lifetime))
    }

    fn remembered(&mut self, license: u64, secret: &str, now: u64) -> Result<Option<UserId>> {
        Ok(self.identity.browsers.customer(license, secret, now).cloned())
    }

    fn revoke_identity(&mut self, license: u64, customer: &UserId) -> Result<()> {
        self.identity.revoke_customer(license, customer);
        Ok(())
    }

    fn purge_identity(&mut self, now: u64) -> Result<usize> {
        Ok(self.identity.purge(now))
    }

    fn identity_counts(&mut self) -> Result<(usize, usize)> {
        Ok((self.identity.refresh.len(), self.identity.browsers.len()))
    }
}
