//! Secrets the server issues and checks: drawn from the operating system's random source
//! (never from the seeded id generator, so `--seed` makes no secret guessable), kept only as
//! SHA-256 digests, and compared in constant time.
//!
//! Used for customer access tokens, refresh tokens, the accounts page's cookie, file URLs,
//! app secrets and the admin secret; the Agent API's tokens use the same functions.

use std::fmt;

/// `n` bytes from the operating system's random source. Should it ever fail (no
/// `getrandom(2)`, no `/dev/urandom`), an unseeded generator fills in and the failure is
/// logged: the server keeps working, secrets are then only as good as that generator.
pub(crate) fn os_random(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    if let Err(e) = getrandom::fill(&mut buf) {
        tracing::error!(error = %e, "the OS random source failed: secrets come from a weaker generator");
        let mut rng = fastrand::Rng::new();
        rng.fill(&mut buf);
    }
    buf
}

/// `n` characters of `[0-9a-zA-Z]` from the OS random source (5.95 bits each), every
/// character equally likely.
pub(crate) fn random_base62(n: usize) -> String {
    const A: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in os_random(n.max(16)) {
            // Rejection sampling: 248 = 4 × 62, so bytes below it map evenly.
            if usize::from(b) < 4 * A.len() && out.len() < n {
                out.push(char::from(A[usize::from(b) % A.len()]));
            }
        }
    }
    out
}

/// `n` lower-case hex characters from the OS random source (file-URL capabilities).
pub(crate) fn random_hex(n: usize) -> String {
    os_random(n.div_ceil(2))
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0f])
        .take(n)
        .map(|d| char::from(b"0123456789abcdef"[usize::from(d)]))
        .collect()
}

/// A new secret: `prefix` then 32 base-62 characters (190 bits).
pub(crate) fn new_secret(prefix: &str) -> String {
    format!("{prefix}{}", random_base62(32))
}

/// The SHA-256 digest of a secret: what the server keeps instead of the secret itself, so
/// that a copy of its memory or database hands out no credential.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest([u8; 32]);

impl Digest {
    /// The digest of `secret`.
    pub fn of(secret: &str) -> Self {
        use sha2::Digest as _;
        Self(sha2::Sha256::digest(secret.as_bytes()).into())
    }

    /// Parses 64 hex characters (a digest written in a configuration file).
    pub fn from_hex(hex: &str) -> Option<Self> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(Self(out))
    }

    /// The digest as 64 lower-case hex characters.
    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The digest's bytes (what a store keeps).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A digest a store kept.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Whether `secret` hashes to this digest, compared in constant time.
    pub fn matches(self, secret: &str) -> bool {
        ct_eq(&self.0, &Self::of(secret).0)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Four bytes are enough to tell digests apart in a log and say nothing of the secret.
        write!(f, "Digest({:02x}{:02x}{:02x}{:02x}…)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_distinct() {
        let a = new_secret("r-");
        let b = new_secret("r-");
        assert_eq!(a.len(), 34);
        assert!(a.starts_with("r-") && a[2..].bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
        assert_eq!(random_hex(31).len(), 31);
        assert!(random_hex(32).bytes().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn digests_match_their_secret_only() {
        let d = Digest::of("secret-1");
        assert!(d.matches("secret-1"));
        assert!(!d.matches("secret-2"));
        assert!(!d.matches(""));
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
        // The SHA-256 of "abc" (FIPS 180-2).
        assert_eq!(Digest::of("abc").to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(Digest::from_hex("zz"), None);
        assert!(!format!("{d:?}").contains(&d.to_hex()));
    }

    #[test]
    fn constant_time_comparison_is_still_a_comparison() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
        assert!(ct_eq(b"", b""));
    }
}
