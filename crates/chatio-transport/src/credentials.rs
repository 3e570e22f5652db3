//! Customer access tokens: what a provider gives ([`Credentials`]), the [`TokenProvider`]
//! trait, the identity asked of the token endpoint ([`AccountsIdentity`]) and the provider of a
//! token the program already has ([`StaticToken`]). Public as `token`, with the endpoint's
//! providers.

use std::fmt;
use std::time::Duration;

use chatio_wire::{Token, UserId};

use crate::error::Error;
use crate::runtime::BoxFuture;

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
    /// The refresh token that came with it (G11): the secret that resumes this customer
    /// later (keep it, never its id). Rotated by each use: only the latest one works, and
    /// an older one used again revokes them all.
    pub refresh_token: Option<Token>,
}

impl Credentials {
    /// A bearer token with no known customer id or lifetime.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self {
            access_token: access_token.into(),
            token_type: "Bearer".into(),
            customer_id: None,
            expires_in: None,
            refresh_token: None,
        }
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
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
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

    /// A refresh token the SDK's store kept from an earlier run: resume that customer, unless
    /// this provider already has an identity (a refresh token given or learnt, a named
    /// customer). A refused one starts a new customer, as any refused refresh token does. The
    /// default ignores it (a provider that does not use refresh tokens).
    fn resume(&self, _refresh: chatio_wire::Token) {}
}

/// Whom the token endpoint's tokens are for (G11).
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum AccountsIdentity {
    /// A new customer at the first token; later tokens resume it with the refresh token
    /// that came with the first (the default).
    #[default]
    New,
    /// The customer this refresh token resumes (kept from an earlier run).
    Refresh(Token),
    /// A server-side app naming its customer: `customer_id` with the app token in
    /// `Authorization` (for backends that map their own users to customers, and tests that
    /// pin ids). Never in a browser: the app token is a server's secret.
    ServerApp {
        /// The customer id.
        customer: UserId,
        /// The app token.
        app_token: Token,
    },
}

impl fmt::Debug for AccountsIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::New => f.write_str("New"),
            Self::Refresh(_) => f.write_str("Refresh(<redacted>)"),
            Self::ServerApp { customer, .. } => {
                f.debug_struct("ServerApp").field("customer", customer).field("app_token", &"<redacted>").finish()
            }
        }
    }
}

/// Told each new refresh token the token endpoint gives, to keep it for the next run (each
/// use rotates it: keep only the latest).
pub type RefreshListener = std::sync::Arc<dyn Fn(&Token) + Send + Sync>;

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
