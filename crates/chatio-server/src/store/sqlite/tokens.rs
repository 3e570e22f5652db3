use chatio_wire::UserId;
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{SqliteStore, failed};
use crate::store::{Result, TokenRecord, TokenStore};

/// What is stored of a secret: its SHA-256.
pub(super) fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

impl TokenStore for SqliteStore {
    fn token(&mut self, secret: &str) -> Result<Option<TokenRecord>> {
        self.conn
            .prepare_cached("SELECT license, customer, expires_at FROM tokens WHERE hash = ?1")
            .and_then(|mut s| {
                s.query_row(params![hash(secret)], |r| {
                    Ok(TokenRecord {
                        license: r.get::<_, i64>(0)? as u64,
                        customer: UserId::new(r.get::<_, String>(1)?),
                        expires_at: r.get::<_, i64>(2)? as u64,
                    })
                })
                .optional()
            })
            .map_err(failed("cannot read a token"))
    }

    fn put_token(&mut self, secret: &str, token: TokenRecord, keep: usize) -> Result<()> {
        self.write(
            "cannot write a token",
            "INSERT OR REPLACE INTO tokens (hash, license, customer, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![hash(secret), token.license as i64, token.customer.as_str(), token.expires_at as i64],
        )?;
        // The customer's tokens past `keep` go, those that expire first (the oldest).
        self.write(
            "cannot trim a customer's tokens",
            "DELETE FROM tokens WHERE license = ?1 AND customer = ?2 AND hash NOT IN \
                 (SELECT hash FROM tokens WHERE license = ?1 AND customer = ?2 ORDER BY expires_at DESC LIMIT ?3)",
            params![token.license as i64, token.customer.as_str(), keep.max(1) as i64],
        )?;
        Ok(())
    }

    fn expire_tokens(&mut self, license: u64, customer: &UserId, at: u64) -> Result<()> {
        self.write(
            "cannot expire tokens",
            "UPDATE tokens SET expires_at = min(expires_at, ?3) WHERE license = ?1 AND customer = ?2",
            params![license as i64, customer.as_str(), at as i64],
        )?;
        Ok(())
    }

    fn purge_tokens(&mut self, expired_by: u64) -> Result<usize> {
        self.write("cannot purge tokens", "DELETE FROM tokens WHERE expires_at <= ?1", params![expired_by as i64])
    }

    fn token_count(&mut self) -> Result<usize> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM tokens", [], |r| r.get(0))
            .map_err(failed("cannot count tokens"))?;
        Ok(n as usize)
    }
}
