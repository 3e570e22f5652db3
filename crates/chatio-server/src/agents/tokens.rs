//! Agent access tokens (protocol file §3.2, H8, H10): secrets stored as SHA-256 digests
//! (`identity::secret::Digest`, shared with the customer side).
//!
//! Fixed tokens (`--agent-token EMAIL=TOKEN`) are chosen by the operator; tokens the
//! accounts flows will issue come from the operating system's random source. Either way
//! only the digest is kept: the table is keyed by it, so a leaked table (or a `Debug`
//! print of it) gives no usable token, and a lookup compares digests, never the secret.

use std::collections::HashMap;

pub(crate) use crate::identity::secret::Digest;

use super::scopes::ScopeSet;

/// Shortest fixed token accepted (H8).
pub(crate) const MIN_FIXED_TOKEN_LEN: usize = 16;

/// Lifetime of an access token the server issues (sign-in), in seconds: 8 hours (H10).
pub(crate) const ISSUED_LIFETIME: u64 = 8 * 3600;

/// Issued tokens one agent may hold at once; the oldest goes past it (H10).
pub(crate) const MAX_ISSUED_PER_AGENT: usize = 25;

/// What a token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Grant {
    pub(crate) license: u64,
    /// The agent's id (lower case, H40).
    pub(crate) agent: String,
    /// The app the token was issued to (`None` for a fixed token).
    pub(crate) client_id: Option<String>,
    pub(crate) scopes: ScopeSet,
    /// Unix seconds after which the token is refused (`None`: never, fixed tokens).
    pub(crate) expires_at: Option<u64>,
}

/// Why a token was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Not a token of this server (or revoked).
    Unknown,
    /// Past its expiry.
    Expired,
}

/// What signing out (H51) did to a presented token.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Revoked {
    /// A token the server issued: forgotten; its digest, to delete from the store.
    Issued(Digest),
    /// A token of the configuration (`--agent-token`): kept (the operator removes it).
    Fixed,
    /// Not a token of this server (never issued, revoked already, or expired and purged).
    Unknown,
}

/// The table of agent tokens, keyed by digest.
#[derive(Debug, Default)]
pub(crate) struct AgentTokens {
    by_digest: HashMap<Digest, Grant>,
    /// The tokens the server issued, oldest first (what [`AgentTokens::issue`] drops first).
    issued: std::collections::VecDeque<Digest>,
}

impl AgentTokens {
    /// Stores a token the operator chose (or one just issued).
    pub(crate) fn insert(&mut self, secret: &str, grant: Grant) -> Digest {
        let d = Digest::of(secret);
        self.by_digest.insert(d, grant);
        d
    }

    /// Stores a token the server issued (`grant.expires_at` set): expired tokens are
    /// forgotten, and past [`MAX_ISSUED_PER_AGENT`] for the agent its oldest issued token
    /// goes, so the table holds at most that many issued tokens per agent. Returns the new
    /// token's digest and the digests of the issued tokens it forgot (for the store).
    pub(crate) fn issue(&mut self, secret: &str, grant: Grant, now: u64) -> (Digest, Vec<Digest>) {
        let mut gone: Vec<Digest> = Vec::new();
        let expired = |g: &Grant| g.expires_at.is_some_and(|e| now >= e);
        for d in &self.issued {
            if self.by_digest.get(d).is_none_or(expired) {
                gone.push(*d);
            }
        }
        let mine = |g: &Grant| g.license == grant.license && g.agent == grant.agent;
        let mut held =
            self.issued.iter().filter(|d| !gone.contains(d) && self.by_digest.get(d).is_some_and(mine)).count();
        for d in &self.issued {
            if held < MAX_ISSUED_PER_AGENT {
                break;
            }
            if !gone.contains(d) && self.by_digest.get(d).is_some_and(mine) {
                gone.push(*d);
                held -= 1;
            }
        }
        self.forget(&gone);
        let d = self.restore(Digest::of(secret), grant);
        (d, gone)
    }

    /// Puts back a token issued earlier (from the store, oldest first; or one just
    /// issued): the newest issued token.
    pub(crate) fn restore(&mut self, digest: Digest, grant: Grant) -> Digest {
        self.by_digest.insert(digest, grant);
        self.issued.retain(|d| *d != digest);
        self.issued.push_back(digest);
        digest
    }

    /// Forgets issued tokens.
    pub(crate) fn forget(&mut self, digests: &[Digest]) {
        for d in digests {
            self.by_digest.remove(d);
        }
        self.issued.retain(|d| !digests.contains(d));
    }

    /// Revokes a presented token (`Bearer ` prefix accepted) if the server issued it: from
    /// now on it is refused (H51). Tokens of the configuration are kept.
    pub(crate) fn revoke(&mut self, presented: &str) -> Revoked {
        let secret = presented.strip_prefix("Bearer ").unwrap_or(presented).trim();
        let d = Digest::of(secret);
        match self.by_digest.get_key_value(&d) {
            Some((key, _)) if key.matches(secret) => {
                if self.issued.contains(&d) {
                    self.forget(&[d]);
                    Revoked::Issued(d)
                } else {
                    Revoked::Fixed
                }
            }
            _ => Revoked::Unknown,
        }
    }

    /// The grant of a presented token (`Bearer ` prefix accepted, A3), checked against
    /// the time `now` (Unix seconds).
    pub(crate) fn check(&self, presented: &str, now: u64) -> Result<(Digest, &Grant), Refused> {
        let secret = presented.strip_prefix("Bearer ").unwrap_or(presented).trim();
        let d = Digest::of(secret);
        let (key, grant) = self.by_digest.get_key_value(&d).ok_or(Refused::Unknown)?;
        // The lookup found it by digest; the constant-time comparison keeps the check from
        // depending on where two digests first differ.
        if !key.matches(secret) {
            return Err(Refused::Unknown);
        }
        if grant.expires_at.is_some_and(|e| now >= e) {
            return Err(Refused::Expired);
        }
        Ok((d, grant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agents::scopes::Permission;

    fn grant(expires_at: Option<u64>) -> Grant {
        Grant {
            license: 100,
            agent: "jane@example.com".into(),
            client_id: None,
            scopes: Permission::Normal.scopes(),
            expires_at,
        }
    }

    #[test]
    fn only_the_digest_is_kept_and_debug_shows_no_secret() {
        let mut t = AgentTokens::default();
        let secret = "fixed-token-for-tests-1234";
        t.insert(secret, grant(None));
        let dump = format!("{t:?}");
        assert!(!dump.contains(secret), "{dump}");
        assert!(!dump.contains("fixed-token"), "{dump}");
        assert_eq!(t.check(secret, 0).map(|(_, g)| g.agent.clone()), Ok("jane@example.com".into()));
        assert_eq!(t.check(&format!("Bearer {secret}"), 0).map(|(_, g)| g.license), Ok(100), "A3");
        assert_eq!(t.check("fixed-token-for-tests-1235", 0).map(|_| ()), Err(Refused::Unknown));
    }

    #[test]
    fn tokens_past_their_expiry_are_refused() {
        let mut t = AgentTokens::default();
        t.insert("expiring-token-0123456789", grant(Some(100)));
        assert!(t.check("expiring-token-0123456789", 99).is_ok());
        assert_eq!(t.check("expiring-token-0123456789", 100).map(|_| ()), Err(Refused::Expired));
    }

    #[test]
    fn a_revoked_issued_token_is_refused_and_a_fixed_one_is_kept() {
        let mut t = AgentTokens::default();
        t.insert("fixed-token-0123456789", grant(None));
        t.issue("agt-issued", grant(Some(100)), 0);
        assert_eq!(t.revoke("Bearer fixed-token-0123456789"), Revoked::Fixed);
        assert!(t.check("fixed-token-0123456789", 0).is_ok(), "the configuration's token stays");
        assert_eq!(t.revoke("Bearer agt-issued"), Revoked::Issued(Digest::of("agt-issued")));
        assert!(matches!(t.check("agt-issued", 0), Err(Refused::Unknown)));
        assert_eq!(t.revoke("agt-issued"), Revoked::Unknown, "once");
        assert_eq!(t.revoke("never-issued"), Revoked::Unknown);
    }
}
