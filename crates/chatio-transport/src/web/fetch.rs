//! HTTP over the browser's `fetch`: the customer token endpoint.

use std::time::Duration;

use chatio_core::Instant;

use futures::channel::oneshot;
use futures::future::{Either, select};
use url::Url;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestMode, Response};

use super::time::sleep;
use super::{http_error, js_message};
use crate::accounts::{Accounts, AccountsProvider};
use crate::credentials::{AccountsIdentity, Credentials, TokenProvider};
use crate::error::{BrowserError, Error};
use crate::runtime::BoxFuture;

/// An HTTP answer read whole.
#[derive(Debug)]
pub struct FetchResponse {
    /// The status.
    pub status: u16,
    /// The body.
    pub body: String,
}

fn connect_error(url: &Url, e: &JsValue) -> Error {
    Error::Connect { url: crate::urls::redact(url), source: Box::new(BrowserError(js_message(e))) }
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

/// How the browser's token provider posts its form: `fetch`, aborted after `timeout`.
#[derive(Clone, Copy, Debug)]
pub struct Fetch {
    timeout: Duration,
}

/// The customer token endpoint (`POST <accounts>/customer/`) over `fetch`, with a cache: the
/// browser twin of the native provider (the form, the answer and the cache are shared).
pub type AccountsToken = AccountsProvider<Fetch>;

impl AccountsProvider<Fetch> {
    /// A provider asking `<accounts_base>/customer/` for tokens of `client_id` (see the native
    /// provider for `identity`); each request is aborted after `timeout`.
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base cannot take a path.
    pub fn new(
        accounts_base: &Url,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        license: Option<u64>,
        identity: AccountsIdentity,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let fetch = Fetch { timeout };
        Self::build(fetch, accounts_base, client_id.into(), redirect_uri.into(), license, identity)
    }

    /// A token; a refused refresh token starts a new customer at once.
    async fn fetch(&self) -> Result<Credentials, Error> {
        match self.fetch_once().await {
            Err((refreshing, e)) if Accounts::start_over(refreshing, &e) => self.fetch_once().await.map_err(|(_, e)| e),
            other => other.map_err(|(_, e)| e),
        }
    }

    /// One request; a failure says whether it used the refresh token.
    async fn fetch_once(&self) -> Result<Credentials, (bool, Error)> {
        let accounts = self.accounts();
        let request = accounts.request();
        let refreshing = request.refreshing;
        let started = Instant::now();
        // A form body and `Accept` keep this a CORS "simple" request: no preflight (a
        // server-side app's `Authorization` would need one).
        let mut headers = vec![("Accept", "application/json")];
        if let Some(a) = &request.authorization {
            headers.push(("Authorization", a.as_str()));
        }
        let timeout = self.client().timeout;
        let resp = post(accounts.endpoint(), "application/x-www-form-urlencoded", &request.form, &headers, timeout)
            .await
            .map_err(|e| (refreshing, e))?;
        accounts.answer(request, resp.status, resp.body.as_bytes(), started).map_err(|e| (refreshing, e))
    }
}

impl TokenProvider for AccountsToken {
    fn invalidate(&self) {
        self.accounts().invalidate();
    }

    fn resume(&self, refresh: chatio_wire::Token) {
        self.accounts().resume(refresh);
    }

    fn token(&self, fresh: bool) -> BoxFuture<Result<Credentials, Error>> {
        let this = self.clone();
        run_local(async move { this.accounts().token(fresh, Instant::now, || this.fetch()).await })
    }
}
