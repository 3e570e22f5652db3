//! Customer access tokens: where they come from and how they are cached.
//!
//! Two providers: [`StaticToken`] (a token the program already has) and [`AccountsToken`],
//! the customer token endpoint `POST <accounts>/customer/` (protocol file 1.4, G11), cached
//! until it expires and fetched anew when the session asks for a fresh one (after an
//! `authentication` error).

use std::fmt;
#[cfg(not(target_arch = "wasm32"))]
use std::sync::{Arc, Mutex};
use std::time::Duration;
#[cfg(not(target_arch = "wasm32"))]
use std::time::Instant;

use chatio_wire::UserId;
#[cfg(not(target_arch = "wasm32"))]
use serde::Deserialize;
#[cfg(not(target_arch = "wasm32"))]
use url::Url;

use crate::error::Error;
#[cfg(not(target_arch = "wasm32"))]
use crate::error::excerpt;
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
    endpoint: Url,
    client_id: String,
    redirect_uri: String,
    license: Option<u64>,
    customer_id: Mutex<Option<UserId>>,
    cached: Mutex<Option<(Credentials, Option<Instant>)>>,
    refresh_margin: Duration,
}

#[cfg(not(target_arch = "wasm32"))]
impl fmt::Debug for AccountsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsToken")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("client_id", &self.inner.client_id)
            .finish_non_exhaustive()
    }
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    entity_id: Option<UserId>,
    #[serde(default, alias = "expires_id")]
    expires_in: Option<u64>,
}

#[cfg(not(target_arch = "wasm32"))]
#[derive(Deserialize)]
struct TokenFailure {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
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
        let mut endpoint = accounts_base.clone();
        let prefix = accounts_base.path().trim_end_matches('/');
        endpoint.set_path(&format!("{prefix}/customer/"));
        if endpoint.cannot_be_a_base() {
            return Err(Error::InvalidUrl(format!("`{accounts_base}` cannot be a base URL")));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                client,
                endpoint,
                client_id: client_id.into(),
                redirect_uri: redirect_uri.into(),
                license,
                customer_id: Mutex::new(customer_id),
                cached: Mutex::new(None),
                refresh_margin: Duration::from_secs(5),
            }),
        })
    }

    fn cached(&self, now: Instant) -> Option<Credentials> {
        let guard = self.inner.cached.lock().ok()?;
        match &*guard {
            Some((c, Some(expiry))) if now + self.inner.refresh_margin < *expiry => Some(c.clone()),
            Some((c, None)) => Some(c.clone()),
            _ => None,
        }
    }

    async fn fetch(self) -> Result<Credentials, Error> {
        let inner = &self.inner;
        let customer_id = inner.customer_id.lock().ok().and_then(|g| g.clone());
        let form = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("client_id", &inner.client_id);
            form.append_pair("response_type", "token");
            form.append_pair("redirect_uri", &inner.redirect_uri);
            if let Some(id) = &customer_id {
                form.append_pair("customer_id", id.as_str());
            }
            if let Some(l) = inner.license {
                form.append_pair("license_id", &l.to_string());
            }
            form.finish()
        };
        let req = http::Request::post(inner.endpoint.as_str())
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json")
            .body(full(form))
            .map_err(|e| Error::Http { context: "building the token request".into(), source: Box::new(e) })?;
        let started = inner.client.runtime().now();
        let resp = inner.client.send(&inner.endpoint, req).await?;
        if !resp.status.is_success() {
            return Err(match serde_json::from_slice::<TokenFailure>(&resp.body) {
                // A refusal (4xx with an OAuth error); a 5xx stays a transient status error.
                Ok(f) if resp.status.is_client_error() => Error::TokenRefused {
                    status: resp.status.as_u16(),
                    error: f.error,
                    description: f.error_description.unwrap_or_default(),
                },
                Ok(_) | Err(_) => Error::Status { status: resp.status.as_u16(), body: excerpt(&resp.body) },
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(&resp.body).map_err(|source| Error::TokenAnswer { source })?;
        let expires_in = answer.expires_in.map(Duration::from_secs);
        let creds = Credentials {
            access_token: answer.access_token,
            token_type: answer.token_type.filter(|t| !t.is_empty()).unwrap_or_else(|| "Bearer".into()),
            customer_id: answer.entity_id.clone().or(customer_id),
            expires_in,
        };
        if let (Ok(mut id), Some(e)) = (inner.customer_id.lock(), &creds.customer_id) {
            *id = Some(e.clone());
        }
        if let Ok(mut c) = inner.cached.lock() {
            // An `expires_in` too large to add is network input: cached without expiry, no panic.
            *c = Some((creds.clone(), expires_in.and_then(|d| started.checked_add(d))));
        }
        tracing::debug!(customer_id = ?creds.customer_id, "customer token fetched");
        Ok(creds)
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl TokenProvider for AccountsToken {
    fn invalidate(&self) {
        if let Ok(mut c) = self.inner.cached.lock() {
            *c = None;
        }
    }

    fn token(&self, fresh: bool) -> BoxFuture<Result<Credentials, Error>> {
        let this = self.clone();
        Box::pin(async move {
            if !fresh {
                if let Some(c) = this.cached(this.inner.client.runtime().now()) {
                    return Ok(c);
                }
            }
            this.fetch().await
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
