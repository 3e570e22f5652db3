//! The customer token endpoint (`POST <accounts>/customer/`, protocol file 1.4, G11) without
//! the HTTP: the form a provider posts, how the endpoint's answer becomes [`Credentials`] or a
//! typed error, and the cache. The native provider ([`crate::token::AccountsToken`], over
//! hyper) and the browser's (`crate::web::AccountsToken`, over `fetch`) differ only in how
//! they send the request.

use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatio_core::Instant;
use chatio_wire::{Token, UserId};
use serde::Deserialize;
use url::Url;

use crate::credentials::{AccountsIdentity, Credentials, RefreshListener};
use crate::error::{Error, excerpt};

/// A cached token is handed out only while it has at least this long to live.
const REFRESH_MARGIN: Duration = Duration::from_secs(5);

/// What a provider of one client id keeps between requests.
pub(crate) struct Accounts {
    endpoint: Url,
    client_id: String,
    redirect_uri: String,
    license: Option<u64>,
    /// The refresh token that resumes the customer (G11): given by the caller, or learnt
    /// from the last answer (each use rotates it).
    refresh: Mutex<Option<Token>>,
    /// A server-side app naming its customer with its app token.
    server_app: Option<(UserId, Token)>,
    /// Told each new refresh token.
    listener: Mutex<Option<RefreshListener>>,
    /// The last token and when it expires (`None`: no known expiry).
    cached: Mutex<Option<(Credentials, Option<Instant>)>>,
    /// How many answers have been cached: a caller that waited at `gate` knows from it
    /// whether the token in the cache came after it started waiting.
    answers: AtomicU64,
    /// One request at a time: callers that find the cache empty while a request is out wait
    /// for its answer instead of sending their own (the JS SDK shares its pending request).
    /// Two requests at once would each mint a token, and the later answer would replace the
    /// token the earlier caller already holds.
    gate: futures::lock::Mutex<()>,
}

/// The customer token endpoint as a [`TokenProvider`](crate::credentials::TokenProvider), over `C`:
/// the platform's way to post the form (hyper natively, `fetch` in a browser). Each platform
/// names its own `AccountsToken` ([`crate::token::AccountsToken`]); the form, the answer's
/// parsing, the typed errors and the cache are the same.
pub struct AccountsProvider<C> {
    inner: Arc<(C, Accounts)>,
}

impl<C> Clone for AccountsProvider<C> {
    fn clone(&self) -> Self {
        Self { inner: self.inner.clone() }
    }
}

impl<C> fmt::Debug for AccountsProvider<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsToken")
            .field("endpoint", &self.accounts().endpoint().as_str())
            .field("client_id", &self.accounts().client_id())
            .finish_non_exhaustive()
    }
}

impl<C> AccountsProvider<C> {
    /// A provider asking `<accounts_base>/customer/` for tokens of `client_id` over `client`.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base cannot take a path.
    pub(crate) fn build(
        client: C,
        accounts_base: &Url,
        client_id: String,
        redirect_uri: String,
        license: Option<u64>,
        identity: AccountsIdentity,
    ) -> Result<Self, Error> {
        let accounts = Accounts::new(accounts_base, client_id, redirect_uri, license, identity)?;
        Ok(Self { inner: Arc::new((client, accounts)) })
    }

    /// Tells `listener` each new refresh token (to keep the latest for the next run, e.g. in
    /// a file or `localStorage`).
    #[must_use]
    pub fn on_refresh_token(self, listener: RefreshListener) -> Self {
        self.accounts().set_listener(listener);
        self
    }

    /// The refresh token that resumes the customer now, if one was given or learnt.
    pub fn refresh_token(&self) -> Option<Token> {
        self.accounts().refresh_token()
    }

    /// How the form is sent.
    pub(crate) fn client(&self) -> &C {
        &self.inner.0
    }

    /// The form, the answer and the cache.
    pub(crate) fn accounts(&self) -> &Accounts {
        &self.inner.1
    }
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
    #[serde(default)]
    refresh_token: Option<String>,
}

/// An OAuth refusal.
#[derive(Deserialize)]
struct TokenFailure {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

/// One request: the form body, its `Authorization` header (a server-side app's), and what
/// it asked for.
pub(crate) struct TokenRequest {
    /// `application/x-www-form-urlencoded`.
    pub(crate) form: String,
    /// `Bearer <app token>` for a server-side app.
    pub(crate) authorization: Option<String>,
    customer_id: Option<UserId>,
    /// Whether it used the refresh token (a refusal then forgets it).
    pub(crate) refreshing: bool,
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
        identity: AccountsIdentity,
    ) -> Result<Self, Error> {
        let mut endpoint = accounts_base.clone();
        let prefix = accounts_base.path().trim_end_matches('/');
        endpoint.set_path(&format!("{prefix}/customer/"));
        if endpoint.cannot_be_a_base() {
            let url = crate::urls::redact(accounts_base);
            return Err(Error::InvalidUrl { url, source: crate::error::UrlError::CannotBeABase });
        }
        Ok(Self {
            endpoint,
            client_id,
            redirect_uri,
            license,
            refresh: Mutex::new(match &identity {
                AccountsIdentity::Refresh(t) => Some(t.clone()),
                _ => None,
            }),
            server_app: match identity {
                AccountsIdentity::ServerApp { customer, app_token } => Some((customer, app_token)),
                _ => None,
            },
            listener: Mutex::new(None),
            cached: Mutex::new(None),
            answers: AtomicU64::new(0),
            gate: futures::lock::Mutex::new(()),
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

    /// A token: the cached one unless `fresh`, else what `fetch` gets. Concurrent callers
    /// share one request: while one fetches, the others wait and take its answer (a `fresh`
    /// caller takes it too, since it is newer than the token it asked to replace). A failed
    /// request is not shared: the next waiter sends its own.
    pub(crate) async fn token<F, Fut>(
        &self,
        fresh: bool,
        now: impl Fn() -> Instant,
        fetch: F,
    ) -> Result<Credentials, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Credentials, Error>>,
    {
        if !fresh {
            if let Some(c) = self.cached(now()) {
                return Ok(c);
            }
        }
        let seen = self.answers.load(Ordering::Acquire);
        let _one_at_a_time = self.gate.lock().await;
        if !fresh || self.answers.load(Ordering::Acquire) != seen {
            if let Some(c) = self.cached(now()) {
                return Ok(c);
            }
        }
        fetch().await
    }

    /// Tells `listener` each new refresh token from now on.
    pub(crate) fn set_listener(&self, listener: RefreshListener) {
        if let Ok(mut l) = self.listener.lock() {
            *l = Some(listener);
        }
    }

    /// The refresh token that resumes the customer now, if any.
    pub(crate) fn refresh_token(&self) -> Option<Token> {
        self.refresh.lock().ok().and_then(|r| r.clone())
    }

    /// Resumes the customer of a kept refresh token, unless this provider already has an
    /// identity (see [`TokenProvider::resume`](crate::credentials::TokenProvider::resume)).
    pub(crate) fn resume(&self, refresh: Token) {
        if self.server_app.is_some() {
            return;
        }
        if let Ok(mut r) = self.refresh.lock() {
            if r.is_none() {
                *r = Some(refresh);
            }
        }
    }

    /// Forgets the cached token (`auth.invalidate()`); the refresh token is kept.
    pub(crate) fn invalidate(&self) {
        if let Ok(mut c) = self.cached.lock() {
            *c = None;
        }
    }

    /// The next request's form: the refresh grant when a refresh token is known, else a
    /// server-side app's request naming its customer, else a new customer.
    pub(crate) fn request(&self) -> TokenRequest {
        let refresh = self.refresh_token();
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("client_id", &self.client_id);
        form.append_pair("response_type", "token");
        form.append_pair("redirect_uri", &self.redirect_uri);
        let (mut customer_id, mut authorization) = (None, None);
        if let Some(r) = &refresh {
            form.append_pair("grant_type", "refresh_token");
            form.append_pair("refresh_token", r.expose());
        } else if let Some((customer, app_token)) = &self.server_app {
            form.append_pair("customer_id", customer.as_str());
            authorization = Some(format!("Bearer {}", app_token.access_token()));
            customer_id = Some(customer.clone());
        }
        if let Some(l) = self.license {
            form.append_pair("license_id", &l.to_string());
        }
        TokenRequest { form: form.finish(), authorization, customer_id, refreshing: refresh.is_some() }
    }

    /// Whether a failed `request` should be sent again as a new customer's: the refresh token
    /// it used was refused (`invalid_grant`: revoked, reused, expired, or unknown to a server
    /// that lost its data). Nothing can resume that customer any more; the new customer's
    /// id reaches the application as the session's `customer_id` event, and its refresh
    /// token through the listener.
    pub(crate) fn start_over(refreshing: bool, error: &Error) -> bool {
        refreshing && matches!(error, Error::TokenRefused { error, .. } if error == "invalid_grant")
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
            let failure = serde_json::from_slice::<TokenFailure>(body);
            if request.refreshing && failure.as_ref().is_ok_and(|f| f.error == "invalid_grant") {
                // Revoked, reused or expired: nothing resumes this customer any more. The
                // next request starts a new one; this one reports the refusal.
                if let Ok(mut r) = self.refresh.lock() {
                    *r = None;
                }
            }
            return Err(match failure {
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
        if let Some(r) = answer.refresh_token.filter(|r| !r.is_empty()).map(Token::new) {
            if let Ok(mut kept) = self.refresh.lock() {
                *kept = Some(r.clone());
            }
            let listener = self.listener.lock().ok().and_then(|l| l.clone());
            if let Some(l) = listener {
                l(&r);
            }
            creds.refresh_token = Some(r);
        }
        if let Ok(mut c) = self.cached.lock() {
            // An `expires_in` too large to add is network input: cached without expiry, no panic.
            *c = Some((creds.clone(), expires_in.and_then(|d| started.checked_add(d))));
            self.answers.fetch_add(1, Ordering::Release);
        }
        tracing::debug!(customer_id = ?creds.customer_id, "customer token fetched");
        Ok(creds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn accounts() -> Accounts {
        let base = Url::parse("http://127.0.0.1:1/accounts").unwrap();
        Accounts::new(&base, "cid".into(), "http://r/".into(), Some(7), AccountsIdentity::New).unwrap()
    }

    #[test]
    fn the_next_token_resumes_the_customer_by_its_refresh_token_never_its_id() {
        let a = accounts();
        assert_eq!(a.endpoint().as_str(), "http://127.0.0.1:1/accounts/customer/");
        let first = a.request();
        assert_eq!(first.form, "client_id=cid&response_type=token&redirect_uri=http%3A%2F%2Fr%2F&license_id=7");
        let heard = Arc::new(Mutex::new(Vec::new()));
        let h = heard.clone();
        a.set_listener(Arc::new(move |t: &Token| h.lock().unwrap().push(t.expose().to_owned())));
        let answer = br#"{"access_token":"t1","entity_id":"u-1","expires_in":3600,"refresh_token":"rt-1"}"#;
        let c = a.answer(first, 200, answer, Instant::now()).unwrap();
        assert_eq!(c.customer_id.as_ref().map(UserId::as_str), Some("u-1"));
        assert_eq!(c.refresh_token.as_ref().map(Token::expose), Some("rt-1"));
        assert!(!format!("{c:?}").contains("rt-1"), "redacted");
        let next = a.request();
        assert!(next.form.contains("grant_type=refresh_token&refresh_token=rt-1"), "{}", next.form);
        assert!(!next.form.contains("customer_id"), "the id is never a credential");
        a.answer(next, 200, br#"{"access_token":"t2","entity_id":"u-1","refresh_token":"rt-2"}"#, Instant::now())
            .unwrap();
        assert_eq!(*heard.lock().unwrap(), ["rt-1", "rt-2"]);
        // A refused refresh token is forgotten: the request after that starts a new customer.
        let refused = a.request();
        let again = a.request();
        let e = a.answer(refused, 400, br#"{"error":"invalid_grant","error_description":"reused"}"#, Instant::now());
        let e = e.unwrap_err();
        assert!(matches!(e, Error::TokenRefused { .. }));
        assert!(!a.request().form.contains("refresh_token"));
        assert!(Accounts::start_over(again.refreshing, &e), "a refused refresh token starts over");
        assert!(!Accounts::start_over(a.request().refreshing, &e), "a new customer's refusal is final");
    }

    #[test]
    fn a_server_side_app_names_its_customer_with_its_app_token() {
        let base = Url::parse("http://127.0.0.1:1/").unwrap();
        let identity =
            AccountsIdentity::ServerApp { customer: UserId::new("user-9"), app_token: Token::new("app-secret") };
        let a = Accounts::new(&base, "cid".into(), "http://r/".into(), None, identity).unwrap();
        let r = a.request();
        assert!(r.form.contains("customer_id=user-9"));
        assert_eq!(r.authorization.as_deref(), Some("Bearer app-secret"));
        let resumed = AccountsIdentity::Refresh(Token::new("rt-9"));
        let a = Accounts::new(&base, "cid".into(), "http://r/".into(), None, resumed).unwrap();
        assert!(a.request().form.contains("refresh_token=rt-9"));
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

    /// A request the test answers by hand: counts how many were sent.
    async fn answered_by(
        a: &Accounts,
        sent: &std::cell::Cell<u32>,
        answer: futures::channel::oneshot::Receiver<&'static str>,
    ) -> Result<Credentials, Error> {
        sent.set(sent.get() + 1);
        let request = a.request();
        let token = answer.await.map_err(|_| Error::Cancelled)?;
        a.answer(request, 200, format!(r#"{{"access_token":"{token}"}}"#).as_bytes(), Instant::now())
    }

    #[test]
    fn concurrent_callers_share_one_request() {
        use futures::FutureExt;
        let a = accounts();
        let sent = std::cell::Cell::new(0);
        let (first_tx, first_rx) = futures::channel::oneshot::channel();
        let (second_tx, second_rx) = futures::channel::oneshot::channel();
        let mut first = Box::pin(a.token(false, Instant::now, || answered_by(&a, &sent, first_rx)));
        let mut second = Box::pin(a.token(false, Instant::now, || answered_by(&a, &sent, second_rx)));
        assert!(first.as_mut().now_or_never().is_none(), "the first request is out");
        assert!(second.as_mut().now_or_never().is_none(), "the second caller waits for it");
        first_tx.send("t1").unwrap();
        // Were a second request out, this would answer it with another token.
        let _ = second_tx.send("t2");
        let one = futures::executor::block_on(first).unwrap();
        let two = futures::executor::block_on(second).unwrap();
        assert_eq!((one.access_token(), two.access_token()), ("t1", "t1"), "both hold the token now cached");
        assert_eq!(sent.get(), 1, "one request, not one per caller");
        assert_eq!(a.cached(Instant::now()).unwrap().access_token(), "t1");
    }

    #[test]
    fn a_fresh_caller_fetches_unless_a_newer_answer_came_while_it_waited() {
        let a = accounts();
        let sent = std::cell::Cell::new(0);
        let answer = |t: &'static str| {
            let (tx, rx) = futures::channel::oneshot::channel();
            tx.send(t).unwrap();
            rx
        };
        let t1 = futures::executor::block_on(a.token(true, Instant::now, || answered_by(&a, &sent, answer("t1"))));
        let t2 = futures::executor::block_on(a.token(true, Instant::now, || answered_by(&a, &sent, answer("t2"))));
        assert_eq!((t1.unwrap().access_token(), t2.unwrap().access_token()), ("t1", "t2"));
        assert_eq!(sent.get(), 2, "fresh asks for a new token even with one cached");
        // A failed request is not shared: the next caller sends its own.
        let (tx, rx) = futures::channel::oneshot::channel::<&'static str>();
        drop(tx);
        assert!(futures::executor::block_on(a.token(true, Instant::now, || answered_by(&a, &sent, rx))).is_err());
        let t3 = futures::executor::block_on(a.token(true, Instant::now, || answered_by(&a, &sent, answer("t3"))));
        assert_eq!(t3.unwrap().access_token(), "t3");
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
