//! Identity (protocol file G11, G36, G37): who may get a token for which customer.
//!
//! A customer is resumed only by a secret the server issued, never by its id: the
//! `refresh_token` of the token endpoint ([`refresh`]), or the accounts page's cookie
//! ([`remember`]); `customer_id` is honoured only for an authenticated server-side app.
//! Which apps exist, and so which origins may receive tokens, is [`apps`]. Every secret
//! comes from the OS random source and is kept as a digest ([`secret`]); token issuance is
//! rate-limited per address ([`rate`]).
//!
//! Layering: pure data and rules (no I/O, time passed in); the HTTP handlers
//! (`http::token`, `http::accounts`, the router's CORS) call them, the data lives in the
//! store beside the customers ([`Identity`]).

pub(crate) mod apps;
pub(crate) mod rate;
pub(crate) mod refresh;
pub(crate) mod remember;
pub(crate) mod secret;

/// The identity data the store keeps: refresh-token families and remembered browsers.
#[derive(Debug, Default)]
pub(crate) struct Identity {
    pub(crate) refresh: refresh::RefreshTokens,
    pub(crate) browsers: remember::Browsers,
}

impl Identity {
    /// Whether anything can still resume the customer.
    pub(crate) fn holds(&self, license: u64, customer: &chatio_wire::UserId) -> bool {
        self.refresh.holds(license, customer) || self.browsers.holds(license, customer)
    }

    /// Forgets every secret that resumes the customer (a ban).
    pub(crate) fn revoke_customer(&mut self, license: u64, customer: &chatio_wire::UserId) {
        self.refresh.revoke_customer(license, customer);
        self.browsers.forget_customer(license, customer);
    }

    /// Forgets what expired; returns how many secrets went.
    pub(crate) fn purge(&mut self, now: u64) -> usize {
        self.refresh.purge(now) + self.browsers.purge(now)
    }
}
