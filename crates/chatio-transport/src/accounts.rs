//! The customer token endpoint (`POST <accounts>/customer/`, protocol file 1.4, G11) without
//! the HTTP: the form a provider posts, how the endpoint's answer becomes [`Credentials`] or a
//! typed error, and the cache. The native provider ([`crate::token::AccountsToken`], over
//! hyper) and the browser's (`crate::web::AccountsToken`, over `fetch`) differ only in how
//! they send the request.

use std::sync::Mutex;
use std::time::Duration;

use chatio_core::Instant;
use chatio_wire::UserId;
use serde::Deserialize;
use url::Url;

use crate::error::{Error, excerpt};
use crate::token::Credentials;

/// A cached token is handed out only while it has at least this long to live.
const REFRESH_MARGIN: Duration = Duration::from_secs(5);

/// What a provider of one client id keeps between requests.
pub(crate) struct Accounts {
    endpoint: Url,
    client_id: String,
    redirect_uri: String,
    license: Option<u64>,
    /// Pinned by the caller, or learnt from the first answer (the same customer across tokens).
    customer_id: Mutex<Option<UserId>>,
    /// The last token and when it expires (`None`: no known expiry).
    cached: Mutex<Option<(Credentials, Option<Instant>)>>,
}

/// A successful answer.
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

/// An OAuth refusal.
#[derive(Deserialize)]
struct TokenFailure {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// One request: the form body and the customer id it asked for.
pub(crate) struct TokenRequest {
    /// `application/x-www-form-urlencoded`.
    pub(crate) form: String,
    customer_id: Option<UserId>,
}

impl Accounts {
    /// The endpoint under `accounts_base`.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base cannot take a path.
    pub(crate) fn new(
        accounts_base: &Url,
        client_id: String,
        redirect_uri: String,
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
            endpoint,
            client_id,
            redirect_uri,
            license,
            customer_id: Mutex::new(customer_id),
            cached: Mutex::new(None),
        })
    }

    /// Where the form goes.
    pub(crate) fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    /// The client id (shown in `Debug`; not a secret).
    pub(crate) fn client_id(&self) -> &str {
        &self.client_id
    }

    /// The cached token, if it still has [`REFRESH_MARGIN`] to live at `now`.
    pub(crate) fn cached(&self, now: Instant) -> Option<Credentials> {
        let guard = self.cached.lock().ok()?;
        match &*guard {
            Some((c, Some(expiry))) if now + REFRESH_MARGIN < *expiry => Some(c.clone()),
            Some((c, None)) => Some(c.clone()),
            _ => None,
        }
    }

    /// Forgets the cached token (`auth.invalidate()`); the customer id is kept.
    pub(crate) fn invalidate(&self) {
        if let Ok(mut c) = self.cached.lock() {
            *c = None;
        }
    }

    /// The next request's form.
    pub(crate) fn request(&self) -> TokenRequest {
        let customer_id = self.customer_id.lock().ok().and_then(|g| g.clone());
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("client_id", &self.client_id);
        form.append_pair("response_type", "token");
        form.append_pair("redirect_uri", &self.redirect_uri);
        if let Some(id) = &customer_id {
            form.append_pair("customer_id", id.as_str());
        }
        if let Some(l) = self.license {
            form.append_pair("license_id", &l.to_string());
        }
        TokenRequest { form: form.finish(), customer_id }
    }

    /// The endpoint's answer to `request`, sent at `started`: credentials (cached, and their
    /// customer id kept for the next request), or a typed error.
    ///
    /// # Errors
    /// [`Error::TokenRefused`] for a 4xx with an OAuth error, [`Error::Status`] for any other
    /// failure status (a 5xx is transient), [`Error::TokenAnswer`] for a success that is not a
    /// token.
    pub(crate) fn answer(
        &self,
        request: TokenRequest,
        status: u16,
        body: &[u8],
        started: Instant,
    ) -> Result<Credentials, Error> {
        if !(200..300).contains(&status) {
            return Err(match serde_json::from_slice::<TokenFailure>(body) {
                Ok(f) if (400..500).contains(&status) => {
                    Error::TokenRefused { status, error: f.error, description: f.error_description.unwrap_or_default() }
                }
                Ok(_) | Err(_) => Error::Status { status, body: excerpt(body) },
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(body).map_err(|source| Error::TokenAnswer { source })?;
        let expires_in = answer.expires_in.map(Duration::from_secs);
        let mut creds = Credentials::bearer(answer.access_token);
        creds.token_type = answer.token_type.filter(|t| !t.is_empty()).unwrap_or_else(|| "Bearer".into());
        creds.customer_id = answer.entity_id.or(request.customer_id);
        creds.expires_in = expires_in;
        if let (Ok(mut id), Some(e)) = (self.customer_id.lock(), &creds.customer_id) {
            *id = Some(e.clone());
        }
        if let Ok(mut c) = self.cached.lock() {
            // An `expires_in` too large to add is network input: cached without expiry, no panic.
            *c = Some((creds.clone(), expires_in.and_then(|d| started.checked_add(d))));
        }
        tracing::debug!(customer_id = ?creds.customer_id, "customer token fetched");
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        let base = Url::parse("http://127.0.0.1:1/accounts").unwrap();
        Accounts::new(&base, "cid".into(), "http://r/".into(), Some(7), None).unwrap()
    }

    #[test]
    fn the_form_names_client_license_and_the_learnt_customer() {
        let a = accounts();
        assert_eq!(a.endpoint().as_str(), "http://127.0.0.1:1/accounts/customer/");
        let first = a.request();
        assert_eq!(first.form, "client_id=cid&response_type=token&redirect_uri=http%3A%2F%2Fr%2F&license_id=7");
        let c = a.answer(first, 200, br#"{"access_token":"t1","entity_id":"u-1","expires_in":3600}"#, Instant::now());
        assert_eq!(c.unwrap().customer_id.as_ref().map(UserId::as_str), Some("u-1"));
        assert!(a.request().form.contains("customer_id=u-1"), "the next token is for the same customer");
    }

    #[test]
    fn the_cache_keeps_a_live_token_until_invalidated() {
        let a = accounts();
        let now = Instant::now();
        assert!(a.cached(now).is_none());
        a.answer(a.request(), 200, br#"{"access_token":"t1","expires_in":3600}"#, now).unwrap();
        assert_eq!(a.cached(now).map(|c| c.access_token().to_owned()).as_deref(), Some("t1"));
        assert!(a.cached(now + Duration::from_secs(3596)).is_none(), "inside the refresh margin");
        a.invalidate();
        assert!(a.cached(now).is_none());
        // A lifetime too large to add: kept without expiry, no panic.
        a.answer(a.request(), 200, br#"{"access_token":"t2","expires_in":18446744073709551615}"#, now).unwrap();
        assert!(a.cached(now).is_some());
    }

    #[test]
    fn failures_are_typed() {
        let a = accounts();
        let refused =
            a.answer(a.request(), 401, br#"{"error":"invalid_client","error_description":"no"}"#, Instant::now());
        assert!(matches!(refused, Err(Error::TokenRefused { status: 401, .. })), "{refused:?}");
        let down = a.answer(a.request(), 503, br#"{"error":"busy"}"#, Instant::now());
        assert!(matches!(down, Err(Error::Status { status: 503, .. })), "{down:?}");
        let junk = a.answer(a.request(), 200, b"<html>", Instant::now());
        assert!(matches!(junk, Err(Error::TokenAnswer { .. })), "{junk:?}");
    }
}
