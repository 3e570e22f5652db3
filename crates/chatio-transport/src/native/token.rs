//! The customer token endpoint over hyper (the form, the answer's parsing, the typed errors and
//! the cache are [`crate::accounts`], shared with the browser's provider).

use chatio_wire::UserId;
use url::Url;

use super::http::{HttpClient, full};
use crate::accounts::AccountsProvider;
use crate::error::Error;
use crate::runtime::BoxFuture;
use crate::token::{Credentials, TokenProvider};

/// The customer token endpoint (`POST <accounts>/customer/`) over hyper, with a cache.
pub type AccountsToken = AccountsProvider<HttpClient>;

impl AccountsProvider<HttpClient> {
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
        Self::build(client, accounts_base, client_id.into(), redirect_uri.into(), license, customer_id)
    }

    async fn fetch(&self) -> Result<Credentials, Error> {
        let (client, accounts) = (self.client(), self.accounts());
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

impl TokenProvider for AccountsToken {
    fn invalidate(&self) {
        self.accounts().invalidate();
    }

    fn token(&self, fresh: bool) -> BoxFuture<Result<Credentials, Error>> {
        let this = self.clone();
        Box::pin(async move {
            let now = || this.client().runtime().now();
            this.accounts().token(fresh, now, || this.fetch()).await
        })
    }
}
