//! Refresh tokens (G11): the secret that resumes a customer, kept only as digests, rotated
//! on every use; the reuse of an already rotated one revokes its whole family (RFC 6749
//! 10.4, OAuth 2.0 Security BCP 4.14: whoever holds a copy, thief or owner, is cut off).
//! One exception (G39): the secret used last may be presented again while its successor
//! was never used — the client died, or lost the answer, before it kept the successor — and
//! gets a new successor; the unused one is revoked, and presenting it later (a copy that
//! did arrive somewhere) revokes the family.
//!
//! Pure: the time comes in as Unix seconds; secrets from [`super::secret`].

use std::collections::{HashMap, VecDeque};

use chatio_wire::UserId;

use super::secret::{Digest, new_secret};

/// Rotated secrets remembered per family for reuse detection, and successors revoked unused
/// (G39); an older one is simply unknown (still refused).
pub(crate) const USED_KEPT: usize = 8;
/// What the log says when a rotation's answer was lost (G39).
pub(crate) const LOST_ANSWER: &str =
    "a refresh token's rotation was lost by its client: the secret it used last was presented again";
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
    /// Rotated secrets, oldest first: the last one is the secret used last.
    used: VecDeque<Digest>,
    /// Successors revoked unused after a lost answer (G39), oldest first.
    revoked: VecDeque<Digest>,
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
                revoked: VecDeque::new(),
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
        // G39: the secret used last, presented again while its successor was never used,
        // means the rotation's answer was lost; anything older is a reuse.
        let lost_answer = family.current != digest && family.used.back() == Some(&digest);
        if family.current != digest && !lost_answer {
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
        if lost_answer {
            tracing::info!(license = family.license, "{LOST_ANSWER}");
        }
        let next = new_secret("rt-");
        let next_digest = Digest::of(&next);
        // A lost answer revokes the unused successor (kept, so that a copy of it showing up
        // later revokes the family); the secret used last stays the last used one.
        let (list, retired) =
            if lost_answer { (&mut family.revoked, family.current) } else { (&mut family.used, digest) };
        list.push_back(retired);
        if list.len() > USED_KEPT {
            if let Some(old) = list.pop_front() {
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
        for d in f.used.iter().chain(&f.revoked) {
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
    fn a_lost_rotation_answer_is_recovered_by_the_previous_secret_until_the_successor_is_used() {
        let mut r = RefreshTokens::default();
        let erin = UserId::new("erin");
        let t1 = r.issue(100, &erin, "web", 0, DAY);
        let (_, _, lost) = r.rotate(&t1, "web", 1, DAY).unwrap();
        // The answer was lost (twice): t1 again gets erin and a new successor each time.
        let (_, who, lost_again) = r.rotate(&t1, "web", 2, DAY).unwrap();
        assert_eq!(who, erin);
        let (_, _, t2) = r.rotate(&t1, "web", 3, DAY).unwrap();
        assert!(t2 != lost && t2 != lost_again);
        assert_eq!(r.by_digest.len(), 4, "t1, the two unused successors and t2");
        // The successor is used: t1 is now a reuse.
        let (_, _, t3) = r.rotate(&t2, "web", 4, DAY).unwrap();
        assert_eq!(r.rotate(&t1, "web", 5, DAY).unwrap_err(), RefreshRefusal::Reused);
        assert_eq!(r.rotate(&t3, "web", 6, DAY).unwrap_err(), RefreshRefusal::Unknown, "revoked");
        // A revoked unused successor showing up later revokes the family too.
        let u1 = r.issue(100, &erin, "web", 0, DAY);
        let (_, _, unused) = r.rotate(&u1, "web", 1, DAY).unwrap();
        let (_, _, u2) = r.rotate(&u1, "web", 2, DAY).unwrap();
        assert_eq!(r.rotate(&unused, "web", 3, DAY).unwrap_err(), RefreshRefusal::Reused);
        assert_eq!(r.rotate(&u2, "web", 4, DAY).unwrap_err(), RefreshRefusal::Unknown);
        // Bounded: lost answer after lost answer keeps at most USED_KEPT old digests.
        let v = r.issue(100, &erin, "web", 0, DAY);
        r.rotate(&v, "web", 1, DAY).unwrap();
        for i in 0..100 {
            r.rotate(&v, "web", 2 + i, DAY).unwrap();
        }
        assert_eq!(r.by_digest.len(), 1 + USED_KEPT + 1, "v, the revoked ones, the current one");
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
