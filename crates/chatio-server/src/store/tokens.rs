//! Customer access tokens.

use chatio_wire::UserId;

use super::Result;

/// An issued customer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TokenRecord {
    pub(crate) license: u64,
    pub(crate) customer: UserId,
    /// Unix seconds after which the token is refused.
    pub(crate) expires_at: u64,
}

/// Access tokens, by their secret.
pub(crate) trait TokenStore {
    /// The token with this secret, if one was issued (and not purged).
    fn token(&mut self, secret: &str) -> Result<Option<TokenRecord>>;

    /// Stores a token under its secret (kept so that reading the store does not reveal it:
    /// the memory store keeps its SHA-256 digest); the customer's oldest token goes when it
    /// would hold more than `keep`.
    fn put_token(&mut self, secret: &str, token: TokenRecord, keep: usize) -> Result<()>;

    /// Makes every token of a customer expire at `at` at the latest.
    fn expire_tokens(&mut self, license: u64, customer: &UserId, at: u64) -> Result<()>;

    /// Forgets the tokens expired at `expired_by` (Unix seconds) or earlier; returns how many
    /// went.
    fn purge_tokens(&mut self, expired_by: u64) -> Result<usize>;

    /// How many tokens are held.
    fn token_count(&mut self) -> Result<usize>;
}
