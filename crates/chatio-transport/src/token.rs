//! Customer access tokens: where they come from and how they are cached.
//!
//! Two providers: [`StaticToken`] (a token the program already has) and [`AccountsToken`],
//! the customer token endpoint `POST <accounts>/customer/` (protocol file 1.4, G11), cached
//! until it expires and fetched anew when the session asks for a fresh one (after an
//! `authentication` error).

use std::fmt;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::Arc;
use std::time::Duration;

use chatio_wire::UserId;
#[cfg(not(target_arch = "wasm32"))]
use url::Url;

#[cfg(not(target_arch = "wasm32"))]
use crate::accounts::Accounts;
use crate::error::Error;
#[cfg(not(target_arch = "wasm32"))]
use crate::http::{HttpClient, full};
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

/// The customer token endpoint (`POST <accounts>/customer/`), with a cache.
#[cfg(not(target_arch = "wasm32"))]
#[derive(Clone)]
pub struct AccountsToken {
    inner: Arc<Inner>,
}

#[cfg(not(target_arch = "wasm32"))]
struct Inner {
    client: HttpClient,
    accounts: Accounts,
}

#[cfg(not(target_arch = "wasm32"))]
impl fmt::Debug for AccountsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsToken")
            .field("endpoint", &self.inner.accounts.endpoint().as_str())
            .field("client_id", &self.inner.accounts.client_id())
            .finish_non_exhaustive()
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl AccountsToken {
    /// A provider asking `<accounts_base>/customer/` for tokens of `client_id`.
    ///
    /// `customer_id` pins the identity (the same customer across tokens); without it the
    /// first token creates a customer and later fetches reuse its id.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base cannot take a path.
    pub fn new(
        client: HttpClient,
        accounts_base: &Url,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        license: Option<u64>,
        customer_id: Option<UserId>,
    ) -> Result<Self, Error> {
        let accounts = Accounts::new(accounts_base, client_id.into(), redirect_uri.into(), license, customer_id)?;
        Ok(Self { inner: Arc::new(Inner { client, accounts }) })
    }

    async fn fetch(&self) -> Result<Credentials, Error> {
        let Inner { client, accounts } = &*self.inner;
        let request = accounts.request();
        let req = http::Request::post(accounts.endpoint().as_str())
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .body(full(request.form.clone()))
            .map_err(|e| Error::Http { context: "building the token request".into(), source: Box::new(e) })?;
        let started = client.runtime().now();
        let resp = client.send(accounts.endpoint(), req).await?;
        accounts.answer(request, resp.status.as_u16(), &resp.body, started)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl TokenProvider for AccountsToken {
    fn invalidate(&self) {
        self.inner.accounts.invalidate();
    }

    fn token(&self, fresh: bool) -> BoxFuture<Result<Credentials, Error>> {
        let this = self.clone();
        Box::pin(async move {
            let inner = &this.inner;
            inner.accounts.token(fresh, || inner.client.runtime().now(), || this.fetch()).await
        })
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
