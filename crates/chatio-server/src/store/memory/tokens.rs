//! Customer access tokens in memory, kept as digests (a copy of the server's memory holds no
//! usable token), at most a given number per customer (the oldest goes).

use std::collections::{HashMap, VecDeque};

use chatio_wire::UserId;

use super::MemoryStore;
use crate::identity::secret::Digest;
use crate::store::{Result, TokenRecord, TokenStore};

/// The access tokens of every license.
#[derive(Debug, Default)]
pub(crate) struct AccessTokens {
    by_digest: HashMap<Digest, TokenRecord>,
    per_customer: HashMap<(u64, UserId), VecDeque<Digest>>,
}

impl AccessTokens {
    /// Keeps a token under the digest of its secret; the customer's oldest goes when it
    /// would hold more than `keep`.
    pub(crate) fn insert(&mut self, secret: &str, record: TokenRecord, keep: usize) {
        let digest = Digest::of(secret);
        let mine = self.per_customer.entry((record.license, record.customer.clone())).or_default();
        mine.push_back(digest);
        while mine.len() > keep.max(1) {
            if let Some(old) = mine.pop_front() {
                self.by_digest.remove(&old);
            }
        }
        self.by_digest.insert(digest, record);
    }

    /// The record of a token, if it was issued and not purged.
    pub(crate) fn get(&self, secret: &str) -> Option<&TokenRecord> {
        self.by_digest.get(&Digest::of(secret))
    }

    /// Makes every token of a customer expired at `now`.
    pub(crate) fn expire_customer(&mut self, license: u64, customer: &UserId, now: u64) {
        for d in self.per_customer.get(&(license, customer.clone())).into_iter().flatten() {
            if let Some(t) = self.by_digest.get_mut(d) {
                t.expires_at = t.expires_at.min(now);
            }
        }
    }

    /// Forgets the tokens expired at `expired_by` or earlier; returns how many went.
    pub(crate) fn purge(&mut self, expired_by: u64) -> usize {
        let before = self.by_digest.len();
        self.by_digest.retain(|_, t| t.expires_at > expired_by);
        let live = &self.by_digest;
        self.per_customer.retain(|_, list| {
            list.retain(|d| live.contains_key(d));
            !list.is_empty()
        });
        before - self.by_digest.len()
    }

    /// Whether the customer holds a token (live or in its grace period).
    pub(crate) fn holds(&self, license: u64, customer: &UserId) -> bool {
        self.per_customer.contains_key(&(license, customer.clone()))
    }

    /// Tokens held.
    pub(crate) fn len(&self) -> usize {
        self.by_digest.len()
    }
}

impl TokenStore for MemoryStore {
    fn token(&mut self, secret: &str) -> Result<Option<TokenRecord>> {
        Ok(self.tokens.get(secret).cloned())
    }

    fn put_token(&mut self, secret: &str, token: TokenRecord, keep: usize) -> Result<()> {
        self.tokens.insert(secret, token, keep);
        Ok(())
    }

    fn expire_tokens(&mut self, license: u64, customer: &UserId, at: u64) -> Result<()> {
        self.tokens.expire_customer(license, customer, at);
        Ok(())
    }

    fn purge_tokens(&mut self, expired_by: u64) -> Result<usize> {
        Ok(self.tokens.purge(expired_by))
    }

    fn token_count(&mut self) -> Result<usize> {
        Ok(self.tokens.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_kept_hashed_capped_per_customer_and_purged() {
        let mut t = AccessTokens::default();
        let c = UserId::new("c");
        let rec = || TokenRecord { license: 100, customer: UserId::new("c"), expires_at: 50 };
        let first = crate::identity::secret::new_secret("dev-");
        t.insert(&first, rec(), 3);
        assert!(t.get(&first).is_some());
        assert!(!format!("{t:?}").contains(&first), "only digests are kept");
        for i in 0..3 {
            t.insert(&format!("dev-{i}"), rec(), 3);
        }
        assert_eq!(t.len(), 3);
        assert!(t.get(&first).is_none(), "the oldest was pushed out");
        t.expire_customer(100, &c, 10);
        assert_eq!(t.purge(9), 0);
        assert_eq!(t.purge(10), 3);
        assert!(!t.holds(100, &c));
    }
}
