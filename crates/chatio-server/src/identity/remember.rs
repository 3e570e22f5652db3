//! The accounts page's memory of a browser (G36): its cookie holds a random secret, mapped
//! here (as a digest) to the customer, never the customer id itself.
//!
//! Pure: the time comes in as Unix seconds.

use std::collections::{HashMap, VecDeque};

use chatio_wire::UserId;

use super::secret::{Digest, new_secret};

/// Browsers one customer may be remembered in; the oldest is forgotten past it.
pub(crate) const BROWSERS_PER_CUSTOMER: usize = 8;

#[derive(Debug)]
struct Remembered {
    license: u64,
    customer: UserId,
    expires_at: u64,
}

/// The cookie secrets of every license.
#[derive(Debug, Default)]
pub(crate) struct Browsers {
    by_digest: HashMap<Digest, Remembered>,
    per_customer: HashMap<(u64, UserId), VecDeque<Digest>>,
}

impl Browsers {
    /// A new cookie secret for a customer.
    pub(crate) fn remember(&mut self, license: u64, customer: &UserId, now: u64, lifetime: u64) -> String {
        let secret = new_secret("ck-");
        let digest = Digest::of(&secret);
        self.by_digest.insert(
            digest,
            Remembered { license, customer: customer.clone(), expires_at: now.saturating_add(lifetime) },
        );
        let mine = self.per_customer.entry((license, customer.clone())).or_default();
        mine.push_back(digest);
        if mine.len() > BROWSERS_PER_CUSTOMER {
            if let Some(old) = mine.pop_front() {
                self.by_digest.remove(&old);
            }
        }
        secret
    }

    /// The customer a cookie secret names on `license`, while it has not expired.
    pub(crate) fn customer(&self, license: u64, secret: &str, now: u64) -> Option<&UserId> {
        let r = self.by_digest.get(&Digest::of(secret))?;
        (r.license == license && now < r.expires_at).then_some(&r.customer)
    }

    /// Forgets every browser of a customer (a ban).
    pub(crate) fn forget_customer(&mut self, license: u64, customer: &UserId) {
        for d in self.per_customer.remove(&(license, customer.clone())).unwrap_or_default() {
            self.by_digest.remove(&d);
        }
    }

    /// Forgets expired secrets; returns how many went.
    pub(crate) fn purge(&mut self, now: u64) -> usize {
        let before = self.by_digest.len();
        self.by_digest.retain(|_, r| now < r.expires_at);
        let live = &self.by_digest;
        self.per_customer.retain(|_, list| {
            list.retain(|d| live.contains_key(d));
            !list.is_empty()
        });
        before - self.by_digest.len()
    }

    /// Whether the customer is remembered somewhere.
    pub(crate) fn holds(&self, license: u64, customer: &UserId) -> bool {
        self.per_customer.contains_key(&(license, customer.clone()))
    }

    /// Remembered browsers.
    pub(crate) fn len(&self) -> usize {
        self.by_digest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_secret_names_its_customer_and_nothing_else() {
        let mut b = Browsers::default();
        let eve = UserId::new("eve");
        let s = b.remember(100, &eve, 0, 100);
        assert!(!s.contains("eve"));
        assert_eq!(b.customer(100, &s, 1).map(UserId::as_str), Some("eve"));
        assert_eq!(b.customer(101, &s, 1), None, "another license");
        assert_eq!(b.customer(100, "eve", 1), None, "the id is not a secret");
        assert_eq!(b.customer(100, &s, 100), None, "expired");
        assert_eq!(b.purge(100), 1);
        assert!(!b.holds(100, &eve));
        let mut kept = Vec::new();
        for _ in 0..=BROWSERS_PER_CUSTOMER {
            kept.push(b.remember(100, &eve, 0, 100));
        }
        assert_eq!(b.len(), BROWSERS_PER_CUSTOMER);
        assert_eq!(b.customer(100, &kept[0], 1), None, "the oldest is forgotten");
        b.forget_customer(100, &eve);
        assert_eq!(b.len(), 0);
    }
}
