//! Customer access tokens: where they come from and how they are cached.
//!
//! Two providers: [`StaticToken`] (a token the program already has) and [`AccountsToken`],
//! the customer token endpoint `POST <accounts>/customer/` (protocol file 1.4, G11), cached
//! until it expires and fetched anew when the session asks for a fresh one (after an
//! `authentication` error).

use std::fmt;
use std::time::Duration;

use chatio_wire::UserId;

use crate::error::Error;
use crate::runtime::BoxFuture;

pub use crate::accounts::AccountsProvider;
/// The customer token endpoint's provider of this platform (over hyper natively, over `fetch`
/// in a browser).
pub use crate::platform_impl::AccountsToken;

/// A customer access token and what came with it.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The secret.
    access_token: String,
    /// `Bearer` unless the endpoint said otherwise.
    pub token_type: String,
    /// The customer id (`entity_id`), when known.
    pub customer_id: Option<UserId>,
    /// Lifetime from the moment it was issued, when known.
    pub expires_in: Option<Duration>,
}

impl Credentials {
    /// A bearer token with no known customer id or lifetime.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self { access_token: access_token.into(), token_type: "Bearer".into(), customer_id: None, expires_in: None }
    }

    /// The secret. Do not log it.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("customer_id", &self.customer_id)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Where the session gets its tokens.
pub trait TokenProvider: Send + Sync + 'static {
    /// A token: the cached one if still valid, unless `fresh` asks for a new one.
    fn token(&self, fresh: bool) -> BoxFuture<Result<Credentials, Error>>;

    /// Forgets the cached token (the JS SDK's `auth.invalidate()`): the next `token(false)`
    /// fetches a new one. The default does nothing (a provider without a cache).
    fn invalidate(&self) {}
}

/// A fixed token.
#[derive(Clone)]
pub struct StaticToken(Credentials);

impl StaticToken {
    /// Always hands out these credentials (a fresh one cannot be had: the same is returned).
    pub fn new(credentials: Credentials) -> Self {
        Self(credentials)
    }
}

impl fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("StaticToken").field(&self.0).finish()
    }
}

impl TokenProvider for StaticToken {
    fn token(&self, _fresh: bool) -> BoxFuture<Result<Credentials, Error>> {
        let c = self.0.clone();
        Box::pin(async move { Ok(c) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_debug_the_secret() {
        let c = Credentials::bearer("s3cr3t");
        assert!(!format!("{c:?}").contains("s3cr3t"));
        assert!(!format!("{:?}", StaticToken::new(c)).contains("s3cr3t"));
    }
}
