//! Refresh tokens (G11): the secret that resumes a customer, kept only as digests, rotated
//! on every use; the reuse of an already rotated one revokes its whole family (RFC 6749
//! 10.4, OAuth 2.0 Security BCP 4.14: whoever holds a copy, thief or owner, is cut off).
//!
//! Pure: the time comes in as Unix seconds; secrets from [`super::secret`].

use std::collections::{HashMap, VecDeque};

use chatio_wire::UserId;

use super::secret::{Digest, new_secret};

/// Rotated secrets remembered per family for reuse detection; an older one is simply
/// unknown (still refused).
pub(crate) const USED_KEPT: usize = 8;
/// Families one customer may hold (one per device or backend request); the oldest goes
/// when one more is made.
pub(crate) const FAMILIES_PER_CUSTOMER: usize = 8;

/// Why a refresh token is refused (all are OAuth `invalid_grant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RefreshRefusal {
    /// Never issued, revoked, or purged.
    Unknown,
    /// Already used: its family is now revoked.
    Reused,
    /// Not used for longer than the refresh lifetime.
    Expired,
    /// Issued to another `client_id`.
    OtherClient,
}

impl RefreshRefusal {
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Unknown => "unknown or revoked `refresh_token`",
            Self::Reused => "this `refresh_token` was already used: every token of its family is revoked",
            Self::Expired => "the `refresh_token` has expired",
            Self::OtherClient => "the `refresh_token` was issued to another `client_id`",
        }
    }
}

#[derive(Debug)]
struct Family {
    license: u64,
    customer: UserId,
    client_id: String,
    current: Digest,
    used: VecDeque<Digest>,
    /// Unix seconds; each rotation moves it to now + lifetime.
    expires_at: u64,
}

/// The refresh-token families of every license.
#[derive(Debug, Default)]
pub(crate) struct RefreshTokens {
    by_digest: HashMap<Digest, u64>,
    families: HashMap<u64, Family>,
    per_customer: HashMap<(u64, UserId), VecDeque<u64>>,
    next_family: u64,
}

impl RefreshTokens {
    /// Starts a family for a customer; returns its first secret.
    pub(crate) fn issue(
        &mut self,
        license: u64,
        customer: &UserId,
        client_id: &str,
        now: u64,
        lifetime: u64,
    ) -> String {
        let secret = new_secret("rt-");
        let digest = Digest::of(&secret);
        self.next_family += 1;
        let id = self.next_family;
        self.by_digest.insert(digest, id);
        self.families.insert(
            id,
            Family {
                license,
                customer: customer.clone(),
                client_id: client_id.to_owned(),
                current: digest,
                used: VecDeque::new(),
                expires_at: now.saturating_add(lifetime),
            },
        );
        let mine = self.per_customer.entry((license, customer.clone())).or_default();
        mine.push_back(id);
        if mine.len() > FAMILIES_PER_CUSTOMER {
            if let Some(oldest) = mine.pop_front() {
                self.forget(oldest);
            }
        }
        secret
    }

    /// Uses a refresh token: on success the customer and the family's next secret (the
    /// given one is now used up).
    pub(crate) fn rotate(
        &mut self,
        secret: &str,
        client_id: &str,
        now: u64,
        lifetime: u64,
    ) -> Result<(u64, UserId, String), RefreshRefusal> {
        let digest = Digest::of(secret);
        let id = *self.by_digest.get(&digest).ok_or(RefreshRefusal::Unknown)?;
        let family = self.families.get_mut(&id).ok_or(RefreshRefusal::Unknown)?;
        if family.current != digest {
            tracing::warn!(license = family.license, "a rotated refresh token was reused: its family is revoked");
            self.revoke_family(id);
            return Err(RefreshRefusal::Reused);
        }
        if now >= family.expires_at {
            self.revoke_family(id);
            return Err(RefreshRefusal::Expired);
        }
        if family.client_id != client_id {
            return Err(RefreshRefusal::OtherClient);
        }
        let next = new_secret("rt-");
        let next_digest = Digest::of(&next);
        family.used.push_back(digest);
        if family.used.len() > USED_KEPT {
            if let Some(old) = family.used.pop_front() {
                self.by_digest.remove(&old);
            }
        }
        family.current = next_digest;
        family.expires_at = now.saturating_add(lifetime);
        let out = (family.license, family.customer.clone());
        self.by_digest.insert(next_digest, id);
        Ok((out.0, out.1, next))
    }

    /// Revokes every family of a customer (a ban).
    pub(crate) fn revoke_customer(&mut self, license: u64, customer: &UserId) {
        let ids = self.per_customer.get(&(license, customer.clone())).cloned().unwrap_or_default();
        for id in ids {
            self.revoke_family(id);
        }
    }

    fn revoke_family(&mut self, id: u64) {
        self.forget(id);
    }

    fn forget(&mut self, id: u64) {
        let Some(f) = self.families.remove(&id) else { return };
        self.by_digest.remove(&f.current);
        for d in &f.used {
            self.by_digest.remove(d);
        }
        let key = (f.license, f.customer);
        if let Some(list) = self.per_customer.get_mut(&key) {
            list.retain(|x| *x != id);
            if list.is_empty() {
                self.per_customer.remove(&key);
            }
        }
    }

    /// Forgets expired families; returns how many went.
    pub(crate) fn purge(&mut self, now: u64) -> usize {
        let expired: Vec<u64> = self.families.iter().filter(|(_, f)| now >= f.expires_at).map(|(id, _)| *id).collect();
        for id in &expired {
            self.forget(*id);
        }
        expired.len()
    }

    /// Whether the customer can still be resumed by a refresh token.
    pub(crate) fn holds(&self, license: u64, customer: &UserId) -> bool {
        self.per_customer.contains_key(&(license, customer.clone()))
    }

    /// Live families.
    pub(crate) fn len(&self) -> usize {
        self.families.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400;

    #[test]
    fn a_refresh_token_rotates_and_its_reuse_revokes_the_family() {
        let mut r = RefreshTokens::default();
        let alice = UserId::new("alice");
        let t1 = r.issue(100, &alice, "web", 1_000, 30 * DAY);
        let (license, who, t2) = r.rotate(&t1, "web", 2_000, 30 * DAY).unwrap();
        assert_eq!((license, who.as_str()), (100, "alice"));
        assert_ne!(t1, t2);
        let (_, _, t3) = r.rotate(&t2, "web", 3_000, 30 * DAY).unwrap();
        // A thief replays t1: refused, and the owner's t3 dies with the family.
        assert_eq!(r.rotate(&t1, "web", 4_000, 30 * DAY).unwrap_err(), RefreshRefusal::Reused);
        assert_eq!(r.rotate(&t3, "web", 4_001, 30 * DAY).unwrap_err(), RefreshRefusal::Unknown);
        assert!(!r.holds(100, &alice));
        assert_eq!(r.len(), 0);
        assert_eq!(r.by_digest.len(), 0);
    }

    #[test]
    fn expiry_client_binding_and_bounds() {
        let mut r = RefreshTokens::default();
        let bob = UserId::new("bob");
        let t = r.issue(100, &bob, "web", 0, DAY);
        assert_eq!(r.rotate(&t, "other", 10, DAY).unwrap_err(), RefreshRefusal::OtherClient);
        let (_, _, t) = r.rotate(&t, "web", 10, DAY).unwrap();
        assert_eq!(r.rotate(&t, "web", 10 + DAY, DAY).unwrap_err(), RefreshRefusal::Expired);
        assert_eq!(r.rotate("rt-never-issued", "web", 0, DAY).unwrap_err(), RefreshRefusal::Unknown);
        // Families per customer are capped, oldest first; used digests per family too.
        let first = r.issue(100, &bob, "web", 0, DAY);
        for _ in 0..FAMILIES_PER_CUSTOMER {
            r.issue(100, &bob, "web", 0, DAY);
        }
        assert_eq!(r.len(), FAMILIES_PER_CUSTOMER);
        assert_eq!(r.rotate(&first, "web", 1, DAY).unwrap_err(), RefreshRefusal::Unknown);
        let mut t = r.issue(100, &UserId::new("carol"), "web", 0, DAY);
        for i in 0..100 {
            t = r.rotate(&t, "web", i, DAY).unwrap().2;
        }
        assert!(r.by_digest.len() <= FAMILIES_PER_CUSTOMER * (USED_KEPT + 1) + USED_KEPT + 1);
        let live = r.len();
        assert_eq!(r.purge(10 * DAY), live);
        assert_eq!((r.len(), r.by_digest.len()), (0, 0));
    }

    #[test]
    fn a_ban_revokes_every_family_of_the_customer() {
        let mut r = RefreshTokens::default();
        let dan = UserId::new("dan");
        let a = r.issue(100, &dan, "web", 0, DAY);
        let b = r.issue(100, &dan, "app", 0, DAY);
        r.revoke_customer(100, &dan);
        assert!(r.rotate(&a, "web", 1, DAY).is_err() && r.rotate(&b, "app", 1, DAY).is_err());
    }
}
