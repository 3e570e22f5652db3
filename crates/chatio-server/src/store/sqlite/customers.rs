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
        self.write(
            "cannot write a customer",
            "INSERT OR REPLACE INTO customers (license, id, banned, data) VALUES (?1, ?2, ?3, ?4)",
            params![license as i64, id.as_str(), customer.banned, data],
        )?;
        Ok(())
    }

    fn purge_customers(
        &mut self,
        after: Option<&(u64, UserId)>,
        limit: usize,
        keep: &mut dyn FnMut(u64, &UserId) -> bool,
    ) -> Result<(usize, Option<(u64, UserId)>)> {
        let (from_license, from_id) = after.map_or((-1, ""), |(l, id)| (*l as i64, id.as_str()));
        // The next `limit` customers by primary key, then the conditions on those only.
        let rows: Vec<(i64, String, bool)> = self
            .conn
            .prepare_cached(
                "SELECT c.license, c.id, c.banned = 0 \
                 AND NOT EXISTS (SELECT 1 FROM tokens t WHERE t.license = c.license AND t.customer = c.id) \
                 AND NOT EXISTS (SELECT 1 FROM chats h WHERE h.license = c.license AND h.customer = c.id) \
                 FROM (SELECT license, id, banned FROM customers WHERE (license, id) > (?1, ?2) \
                       ORDER BY license, id LIMIT ?3) c",
            )
            .and_then(|mut s| {
                s.query_map(params![from_license, from_id, limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(failed("cannot list customers"))?;
        let next = if rows.len() == limit {
            rows.last().map(|(license, id, _)| (*license as u64, UserId::new(id.clone())))
        } else {
            None
        };
        let candidates = rows.into_iter().filter(|(_, _, unreachable)| *unreachable).map(|(l, id, _)| (l, id));
        let mut gone = 0;
        for (license, id) in candidates {
            let user = UserId::new(id.clone());
            if keep(license as u64, &user) || self.identity_holds(license as u64, &user)? {
                continue;
            }
            gone += self.write(
                "cannot purge a customer",
                "DELETE FROM customers WHERE license = ?1 AND id = ?2",
                params![license, id],
            )?;
        }
        Ok((gone, next))
    }

    fn customer_count(&mut self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM customers", [], |r| r.get(0))
            .map_err(failed("cannot count customers"))?;
        Ok(n as usize)
    }
}
