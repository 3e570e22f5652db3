use chatio_wire::UserId;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, failed, json};
use crate::store::{Customer, CustomerStore, Result};

impl CustomerStore for SqliteStore {
    fn customer(&mut self, license: u64, id: &UserId) -> Result<Option<Customer>> {
        let data: Option<String> = self
            .conn
            .prepare_cached("SELECT data FROM customers WHERE license = ?1 AND id = ?2")
            .and_then(|mut s| s.query_row(params![license as i64, id.as_str()], |r| r.get(0)).optional())
            .map_err(failed("cannot read a customer"))?;
        data.map(|d| serde_json::from_str(&d).map_err(json)).transpose()
    }

    fn put_customer(&mut self, license: u64, id: &UserId, customer: Customer) -> Result<()> {
        let data = serde_json::to_string(&customer).map_err(json)?;
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO customers (license, id, banned, data) VALUES (?1, ?2, ?3, ?4)")
            .and_then(|mut s| s.execute(params![license as i64, id.as_str(), customer.banned, data]))
            .map_err(failed("cannot write a customer"))?;
        Ok(())
    }

    fn purge_customers(&mut self, keep: &mut dyn FnMut(u64, &UserId) -> bool) -> Result<usize> {
        let candidates: Vec<(i64, String)> = self
            .conn
            .prepare_cached(
                "SELECT license, id FROM customers c WHERE banned = 0 \
                 AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.license = c.license AND t.customer = c.id) \
                 AND NOT EXISTS (SELECT 1 FROM chats h WHERE h.license = c.license AND h.customer = c.id)",
            )
            .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
            .map_err(failed("cannot list customers"))?;
        let mut gone = 0;
        for (license, id) in candidates {
            let user = UserId::new(id.clone());
            if keep(license as u64, &user) || self.identity_holds(license as u64, &user)? {
                continue;
            }
            gone += self
                .conn
                .prepare_cached("DELETE FROM customers WHERE license = ?1 AND id = ?2")
                .and_then(|mut s| s.execute(params![license, id]))
                .map_err(failed("cannot purge a customer"))?;
        }
        Ok(gone)
    }

    fn customer_count(&mut self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .map_err(failed("cannot count customers"))?;
        Ok(n as usize)
    }
}
