//! One-time sign-in codes for agents (protocol file §3.2, H9 as built): how a person gets an
//! agent access token without a command-line flag. The site owner asks the server for a
//! sign-in link of a configured agent (`ServerHandle::agent_sign_in_link`, or
//! `chatio-server --agent-sign-in`, which prints one per agent at start); the person opens
//! it, and the page exchanges the code (in the link's fragment, so it reaches no log) for
//! an access token at `POST /agent/sign-in`.
//!
//! Codes are single use, valid [`CODE_LIFETIME`] seconds, and kept as SHA-256 digests; an
//! agent has at most one waiting code (a new link replaces the old), so the table holds at
//! most one code per configured agent.

use std::collections::HashMap;

use super::tokens::Digest;

/// How long a sign-in link may be used, in seconds: 24 hours.
pub(crate) const CODE_LIFETIME: u64 = 24 * 3600;

#[derive(Debug)]
struct Code {
    license: u64,
    agent: String,
    expires_at: u64,
}

/// Why a code was refused (both are OAuth `invalid_grant`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CodeRefusal {
    /// Never issued, already used, or replaced by a newer link.
    Unknown,
    /// Older than [`CODE_LIFETIME`].
    Expired,
    /// The store failed to keep the new token (the code is used up: ask for a new link).
    Unstored,
}

impl CodeRefusal {
    /// The `error_description`.
    pub(crate) fn message(self) -> &'static str {
        match self {
            Self::Unknown => "unknown, used or replaced sign-in code",
            Self::Expired => "the sign-in code has expired (24 h): ask for a new link",
            Self::Unstored => "the server could not store the new token: ask for a new link and try again",
        }
    }
}

/// The waiting codes, by digest.
#[derive(Debug, Default)]
pub(crate) struct SignInCodes {
    by_digest: HashMap<Digest, Code>,
}

impl SignInCodes {
    /// Stores the code `secret` for the agent, replacing its waiting one.
    pub(crate) fn insert(&mut self, secret: &str, license: u64, agent: &str, now: u64) {
        self.by_digest.retain(|_, c| !(c.license == license && c.agent == agent));
        let code = Code { license, agent: agent.to_owned(), expires_at: now.saturating_add(CODE_LIFETIME) };
        self.by_digest.insert(Digest::of(secret), code);
    }

    /// Uses a code: the license and agent it was issued for; it cannot be used again.
    pub(crate) fn redeem(&mut self, secret: &str, now: u64) -> Result<(u64, String), CodeRefusal> {
        let d = Digest::of(secret);
        let matches = self.by_digest.get_key_value(&d).is_some_and(|(k, _)| k.matches(secret));
        if !matches {
            return Err(CodeRefusal::Unknown);
        }
        let code = self.by_digest.remove(&d).ok_or(CodeRefusal::Unknown)?;
        if now >= code.expires_at {
            return Err(CodeRefusal::Expired);
        }
        Ok((code.license, code.agent))
    }

    /// How many codes wait.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_digest.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_used_once_replaced_by_a_newer_one_and_expires() {
        let mut c = SignInCodes::default();
        c.insert("code-one-0123456789abcdef", 100, "jane@example.com", 0);
        c.insert("code-two-0123456789abcdef", 100, "jane@example.com", 0);
        assert_eq!(c.len(), 1, "one waiting code per agent");
        assert_eq!(c.redeem("code-one-0123456789abcdef", 1), Err(CodeRefusal::Unknown), "replaced");
        assert_eq!(c.redeem("code-two-0123456789abcdef", 1), Ok((100, "jane@example.com".into())));
        assert_eq!(c.redeem("code-two-0123456789abcdef", 1), Err(CodeRefusal::Unknown), "single use");
        c.insert("code-three-0123456789abcd", 100, "john@example.com", 0);
        assert_eq!(c.redeem("code-three-0123456789abcd", CODE_LIFETIME), Err(CodeRefusal::Expired));
        assert!(!format!("{c:?}").contains("code-"), "only digests are kept");
    }
}
