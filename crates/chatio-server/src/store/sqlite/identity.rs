//! Refresh-token families and remembered browsers of the SQLite store (tables of
//! `003_identity.sql`): a restart keeps signed-in customers signed in, and a reused refresh
//! token still revokes its family afterwards. The rules and bounds are the memory store's
//! (`crate::identity::refresh`, `crate::identity::remember`): at most
//! [`FAMILIES_PER_CUSTOMER`] families and [`BROWSERS_PER_CUSTOMER`] browsers per customer,
//! the current digest and the last [`USED_KEPT`] rotated ones per family (`seq` counting up
//! to the current one), and the last [`USED_KEPT`] successors revoked unused after a lost
//! rotation answer (G39; negative `seq`, newest lowest). Only SHA-256 digests of the secrets
//! are stored.

use chatio_wire::UserId;
use rusqlite::{OptionalExtension, params};

use super::tokens::hash;
use super::{SqliteStore, failed};
use crate::identity::refresh::{FAMILIES_PER_CUSTOMER, LOST_ANSWER, RefreshRefusal, USED_KEPT};
use crate::identity::remember::BROWSERS_PER_CUSTOMER;
use crate::identity::secret::new_secret;
use crate::store::{IdentityStore, Result, Rotation};

/// A family as its rotation reads it.
struct Family {
    license: u64,
    customer: UserId,
    client_id: String,
    expires_at: u64,
}

impl SqliteStore {
    fn run(&mut self, doing: &str, sql: &'static str, p: &[&dyn rusqlite::ToSql]) -> Result<usize> {
        self.write(doing, sql, p)
    }

    fn revoke_family(&mut self, family: i64) -> Result<()> {
        // Its digests go with it (ON DELETE CASCADE).
        self.run("cannot revoke a refresh token", "DELETE FROM refresh_families WHERE id = ?1", params![family])?;
        Ok(())
    }

    /// Whether a refresh token or a remembered browser can still resume the customer.
    pub(super) fn identity_holds(&mut self, license: u64, customer: &UserId) -> Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM refresh_families WHERE license = ?1 AND customer = ?2) \
                 OR EXISTS (SELECT 1 FROM browsers WHERE license = ?1 AND customer = ?2)",
            )
            .and_then(|mut s| s.query_row(params![license as i64, customer.as_str()], |r| r.get(0)))
            .map_err(failed("cannot read refresh tokens"))
    }
}

impl IdentityStore for SqliteStore {
    fn start_family(
        &mut self,
        license: u64,
        customer: &UserId,
        client_id: &str,
        now: u64,
        lifetime: u64,
    ) -> Result<String> {
        let secret = new_secret("rt-");
        let expires_at = now.saturating_add(lifetime) as i64;
        self.run(
            "cannot store a refresh token",
            "INSERT INTO refresh_families (license, customer, client_id, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![license as i64, customer.as_str(), client_id, expires_at],
        )?;
        let family = self.conn.last_insert_rowid();
        self.run(
            "cannot store a refresh token",
            "INSERT INTO refresh_digests (hash, family, seq) VALUES (?1, ?2, 0)",
            params![hash(&secret), family],
        )?;
        // The customer's oldest families past the bound go.
        self.run(
            "cannot trim refresh tokens",
            "DELETE FROM refresh_families WHERE license = ?1 AND customer = ?2 AND id NOT IN \
             (SELECT id FROM refresh_families WHERE license = ?1 AND customer = ?2 ORDER BY id DESC LIMIT ?3)",
            params![license as i64, customer.as_str(), FAMILIES_PER_CUSTOMER as i64],
        )?;
        Ok(secret)
    }

    fn rotate_refresh(&mut self, secret: &str, client_id: &str, now: u64, lifetime: u64) -> Result<Rotation> {
        let found: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT family, seq FROM refresh_digests WHERE hash = ?1")
            .and_then(|mut s| s.query_row(params![hash(secret)], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(failed("cannot read a refresh token"))?;
        let Some((id, seq)) = found else { return Ok(Err(RefreshRefusal::Unknown)) };
        let family = self
            .conn
            .prepare_cached(
                "SELECT license, customer, client_id, expires_at, \
                 (SELECT max(seq) FROM refresh_digests WHERE family = ?1) FROM refresh_families WHERE id = ?1",
            )
            .and_then(|mut s| {
                s.query_row(params![id], |r| {
                    let f = Family {
                        license: r.get::<_, i64>(0)? as u64,
                        customer: UserId::new(r.get::<_, String>(1)?),
                        client_id: r.get(2)?,
                        expires_at: r.get::<_, i64>(3)? as u64,
                    };
                    Ok((f, r.get::<_, i64>(4)?))
                })
                .optional()
            })
            .map_err(failed("cannot read a refresh token"))?;
        let Some((family, current)) = family else { return Ok(Err(RefreshRefusal::Unknown)) };
        // G39: the secret used last (just below the current one), presented again while the
        // current one was never used: its rotation's answer was lost.
        let lost_answer = seq >= 0 && seq + 1 == current;
        if seq != current && !lost_answer {
            tracing::warn!(license = family.license, "a rotated refresh token was reused: its family is revoked");
            self.revoke_family(id)?;
            return Ok(Err(RefreshRefusal::Reused));
        }
        if now >= family.expires_at {
            self.revoke_family(id)?;
            return Ok(Err(RefreshRefusal::Expired));
        }
        if family.client_id != client_id {
            return Ok(Err(RefreshRefusal::OtherClient));
        }
        let next = new_secret("rt-");
        if lost_answer {
            tracing::info!(license = family.license, "{LOST_ANSWER}");
            // The unused successor is revoked: moved below 0 (the revoked unused ones, newest
            // lowest, the last USED_KEPT kept), where presenting it revokes the family; the new
            // one takes its place, so the secret used last stays just below the current one.
            let revoked: i64 = self
                .conn
                .prepare_cached("SELECT min(0, min(seq)) - 1 FROM refresh_digests WHERE family = ?1")
                .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
                .map_err(failed("cannot read a refresh token"))?;
            self.run(
                "cannot rotate a refresh token",
                "UPDATE refresh_digests SET seq = ?3 WHERE family = ?1 AND seq = ?2",
                params![id, current, revoked],
            )?;
            self.run(
                "cannot rotate a refresh token",
                "DELETE FROM refresh_digests WHERE family = ?1 AND seq < 0 AND seq >= ?2",
                params![id, revoked + USED_KEPT as i64],
            )?;
        }
        let next_seq = current + i64::from(!lost_answer);
        self.run(
            "cannot rotate a refresh token",
            "INSERT INTO refresh_digests (hash, family, seq) VALUES (?1, ?2, ?3)",
            params![hash(&next), id, next_seq],
        )?;
        // The current digest and the last USED_KEPT rotated ones stay.
        self.run(
            "cannot rotate a refresh token",
            "DELETE FROM refresh_digests WHERE family = ?1 AND seq >= 0 AND seq < ?2",
            params![id, next_seq - USED_KEPT as i64],
        )?;
        self.run(
            "cannot rotate a refresh token",
            "UPDATE refresh_families SET expires_at = ?2 WHERE id = ?1",
            params![id, now.saturating_add(lifetime) as i64],
        )?;
        Ok(Ok((family.license, family.customer, next)))
    }

    fn remember_browser(&mut self, license: u64, customer: &UserId, now: u64, lifetime: u64) -> Result<String> {
        let secret = new_secret("ck-");
        self.run(
            "cannot remember a browser",
            "INSERT INTO browsers (hash, license, customer, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash(&secret), license as i64, customer.as_str(), now.saturating_add(lifetime) as i64],
        )?;
        self.run(
            "cannot remember a browser",
            "DELETE FROM browsers WHERE license = ?1 AND customer = ?2 AND id NOT IN \
             (SELECT id FROM browsers WHERE license = ?1 AND customer = ?2 ORDER BY id DESC LIMIT ?3)",
            params![license as i64, customer.as_str(), BROWSERS_PER_CUSTOMER as i64],
        )?;
        Ok(secret)
    }

    fn remembered(&mut self, license: u64, secret: &str, now: u64) -> Result<Option<UserId>> {
        let customer: Option<String> = self
            .conn
            .prepare_cached("SELECT customer FROM browsers WHERE hash = ?1 AND license = ?2 AND expires_at > ?3")
            .and_then(|mut s| s.query_row(params![hash(secret), license as i64, now as i64], |r| r.get(0)).optional())
            .map_err(failed("cannot read a remembered browser"))?;
        Ok(customer.map(UserId::new))
    }

    fn revoke_identity(&mut self, license: u64, customer: &UserId) -> Result<()> {
        let who = params![license as i64, customer.as_str()];
        self.run(
            "cannot revoke refresh tokens",
            "DELETE FROM refresh_families WHERE license = ?1 AND customer = ?2",
            who,
        )?;
        self.run("cannot forget browsers", "DELETE FROM browsers WHERE license = ?1 AND customer = ?2", who)?;
        Ok(())
    }

    fn purge_identity(&mut self, now: u64) -> Result<usize> {
        let families = self.run(
            "cannot purge refresh tokens",
            "DELETE FROM refresh_families WHERE expires_at <= ?1",
            params![now as i64],
        )?;
        let browsers =
            self.run("cannot purge browsers", "DELETE FROM browsers WHERE expires_at <= ?1", params![now as i64])?;
        Ok(families + browsers)
    }

    fn identity_counts(&mut self) -> Result<(usize, usize)> {
        let count = |s: &mut Self, sql: &str| -> Result<usize> {
            let n: i64 = s.conn.query_row(sql, [], |r| r.get(0)).map_err(failed("cannot count refresh tokens"))?;
            Ok(usize::try_from(n).unwrap_or(0))
        };
        Ok((count(self, "SELECT count(*) FROM refresh_families")?, count(self, "SELECT count(*) FROM browsers")?))
    }
}
