//! HTTP over the browser's `fetch`: the customer token endpoint.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chatio_core::Instant;
use chatio_wire::UserId;
use futures::channel::oneshot;
use futures::future::{Either, select};
use serde::Deserialize;
use url::Url;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestMode, Response};

use super::time::sleep;
use super::{http_error, js_message};
use crate::error::{Error, excerpt};
use crate::runtime::BoxFuture;
use crate::token::{Credentials, TokenProvider};

/// An HTTP answer read whole.
#[derive(Debug)]
pub struct FetchResponse {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: String,
}

fn connect_error(url: &Url, e: &JsValue) -> Error {
    Error::Connect { url: url.as_str().to_owned(), source: io::Error::other(js_message(e)) }
}

/// `POST`s a body with `fetch` (CORS mode) and reads the answer; aborted after `timeout`.
///
/// # Errors
/// [`Error::Connect`] when the request fails (refused, CORS, offline), [`Error::Timeout`],
/// [`Error::Http`] when the body cannot be read.
pub async fn post(
    url: &Url,
    content_type: &str,
    body: &str,
    headers: &[(&str, &str)],
    timeout: Duration,
) -> Result<FetchResponse, Error> {
    let window = web_sys::window()
        .ok_or_else(|| http_error("no `window`: the SDK runs in a browser page", &JsValue::UNDEFINED))?;
    let abort = AbortController::new().map_err(|e| http_error("AbortController", &e))?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_mode(RequestMode::Cors);
    init.set_body(&JsValue::from_str(body));
    init.set_signal(Some(&abort.signal()));
    let h = Headers::new().map_err(|e| http_error("headers", &e))?;
    h.set("Content-Type", content_type).map_err(|e| http_error("headers", &e))?;
    for (k, v) in headers {
        h.set(k, v).map_err(|e| http_error("headers", &e))?;
    }
    init.set_headers(&h);
    let request = Request::new_with_str_and_init(url.as_str(), &init).map_err(|e| connect_error(url, &e))?;
    let run = async {
        let resp = JsFuture::from(window.fetch_with_request(&request)).await.map_err(|e| connect_error(url, &e))?;
        let resp: Response = resp.dyn_into().map_err(|v| http_error("fetch gave no Response", &v))?;
        let status = resp.status();
        let text = resp.text().map_err(|e| http_error("reading the body", &e))?;
        let text = JsFuture::from(text).await.map_err(|e| http_error("reading the body", &e))?;
        Ok(FetchResponse { status, body: text.as_string().unwrap_or_default() })
    };
    futures::pin_mut!(run);
    match select(run, sleep(timeout)).await {
        Either::Left((r, _)) => r,
        Either::Right(_) => {
            abort.abort();
            Err(Error::Timeout(timeout))
        }
    }
}

/// Runs a browser future (not `Send`) on the page's task queue and hands its result to a
/// `Send` future (the browser is single-threaded: both run on the same thread).
pub fn run_local<T: Send + 'static>(
    fut: impl Future<Output = Result<T, Error>> + 'static,
) -> BoxFuture<Result<T, Error>> {
    let (tx, rx) = oneshot::channel();
    wasm_bindgen_futures::spawn_local(async move {
        let _ = tx.send(fut.await);
    });
    Box::pin(async move { rx.await.unwrap_or(Err(Error::Cancelled)) })
}

/// The customer token endpoint (`POST <accounts>/customer/`) over `fetch`, with a cache: the
/// browser twin of [`crate::token`]'s native provider.
#[derive(Clone)]
pub struct AccountsToken {
    inner: Arc<Inner>,
}

struct Inner {
    endpoint: Url,
    client_id: String,
    redirect_uri: String,
    license: Option<u64>,
    customer_id: Mutex<Option<UserId>>,
    cached: Mutex<Option<(Credentials, Option<Instant>)>>,
    refresh_margin: Duration,
    timeout: Duration,
}

impl fmt::Debug for AccountsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountsToken")
            .field("endpoint", &self.inner.endpoint.as_str())
            .field("client_id", &self.inner.client_id)
            .finish_non_exhaustive()
    }
}

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

#[derive(Deserialize)]
struct TokenFailure {
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl AccountsToken {
    /// A provider asking `<accounts_base>/customer/` for tokens of `client_id` (see the native
    /// provider for `customer_id`); each request is aborted after `timeout`.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base cannot take a path.
    pub fn new(
        accounts_base: &Url,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        license: Option<u64>,
        customer_id: Option<UserId>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let mut endpoint = accounts_base.clone();
        let prefix = accounts_base.path().trim_end_matches('/');
        endpoint.set_path(&format!("{prefix}/customer/"));
        if endpoint.cannot_be_a_base() {
            return Err(Error::InvalidUrl(format!("`{accounts_base}` cannot be a base URL")));
        }
        Ok(Self {
            inner: Arc::new(Inner {
                endpoint,
                client_id: client_id.into(),
                redirect_uri: redirect_uri.into(),
                license,
                customer_id: Mutex::new(customer_id),
                cached: Mutex::new(None),
                refresh_margin: Duration::from_secs(5),
                timeout,
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
        let started = Instant::now();
        // A form body and `Accept` keep this a CORS "simple" request: no preflight.
        let resp = post(
            &inner.endpoint,
            "application/x-www-form-urlencoded",
            &form,
            &[("Accept", "application/json")],
            inner.timeout,
        )
        .await?;
        if !(200..300).contains(&resp.status) {
            return Err(match serde_json::from_str::<TokenFailure>(&resp.body) {
                // A refusal (4xx with an OAuth error); a 5xx stays a transient status error.
                Ok(f) if (400..500).contains(&resp.status) => Error::TokenRefused {
                    status: resp.status,
                    error: f.error,
                    description: f.error_description.unwrap_or_default(),
                },
                Ok(_) | Err(_) => Error::Status { status: resp.status, body: excerpt(resp.body.as_bytes()) },
            });
        }
        let answer: TokenAnswer = serde_json::from_str(&resp.body).map_err(|source| Error::TokenAnswer { source })?;
        let expires_in = answer.expires_in.map(Duration::from_secs);
        let mut creds = Credentials::bearer(answer.access_token);
        creds.token_type = answer.token_type.filter(|t| !t.is_empty()).unwrap_or_else(|| "Bearer".into());
        creds.customer_id = answer.entity_id.clone().or(customer_id);
        creds.expires_in = expires_in;
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

impl TokenProvider for AccountsToken {
    fn token(&self, fresh: bool) -> BoxFuture<Result<Credentials, Error>> {
        if !fresh {
            if let Some(c) = self.cached(Instant::now()) {
                return Box::pin(async move { Ok(c) });
            }
        }
        run_local(self.clone().fetch())
    }
}
