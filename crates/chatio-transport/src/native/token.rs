//! The customer token endpoint over hyper (the form, the answer's parsing, the typed errors and
//! the cache are [`crate::accounts`], shared with the browser's provider).

use url::Url;

use super::http::{HttpClient, full};
use crate::accounts::Accounts;
use crate::accounts::AccountsProvider;
use crate::credentials::{AccountsIdentity, Credentials, TokenProvider};
use crate::error::Error;
use crate::runtime::BoxFuture;

/// The customer token endpoint (`POST <accounts>/customer/`) over hyper, with a cache.
pub type AccountsToken = AccountsProvider<HttpClient>;

impl AccountsProvider<HttpClient> {
    /// A provider asking `<accounts_base>/customer/` for tokens of `client_id`.
    ///
    /// `identity` says whom the tokens are for (a new customer, resumed by the refresh
    /// token that comes with its first token, by default).
    ///
    /// # Errors
    /// [`Error::InvalidUrl`] when the base cannot take a path.
    pub fn new(
        client: HttpClient,
        accounts_base: &Url,
        client_id: impl Into<String>,
        redirect_uri: impl Into<String>,
        license: Option<u64>,
        identity: AccountsIdentity,
    ) -> Result<Self, Error> {
        Self::build(client, accounts_base, client_id.into(), redirect_uri.into(), license, identity)
    }

    /// A token; a refused refresh token starts a new customer at once (see
    /// [`Accounts::start_over`]).
    async fn fetch(&self) -> Result<Credentials, Error> {
        match self.fetch_once().await {
            Err((refreshing, e)) if Accounts::start_over(refreshing, &e) => {
                tracing::info!("the refresh token was refused: a new customer starts");
                self.fetch_once().await.map_err(|(_, e)| e)
            }
            other => other.map_err(|(_, e)| e),
        }
    }

    /// One request; a failure says whether it used the refresh token.
    async fn fetch_once(&self) -> Result<Credentials, (bool, Error)> {
        let (client, accounts) = (self.client(), self.accounts());
        let request = accounts.request();
        let refreshing = request.refreshing;
        let req = http::Request::post(accounts.endpoint().as_str())
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json");
        let req = match &request.authorization {
            Some(a) => req.header(http::header::AUTHORIZATION, a.as_str()),
            None => req,
        };
        let req = req.body(full(request.form.clone())).map_err(|e| {
            (refreshing, Error::Http { context: "building the token request".into(), source: Box::new(e) })
        })?;
        let started = client.runtime().now();
        let resp = client.send(accounts.endpoint(), req).await.map_err(|e| (refreshing, e))?;
        accounts.answer(request, resp.status.as_u16(), &resp.body, started).map_err(|e| (refreshing, e))
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
        Box::pin(async move {
            let now = || this.client().runtime().now();
            this.accounts().token(fresh, now, || this.fetch()).await
        })
    }
}
