//! The customer access token the driver fetches for the session.

use std::fmt;
use std::time::Duration;

use chatio_wire::{Token, UserId};

/// A customer access token, as the token endpoint returns it (`access_token`, `token_type`,
/// `entity_id`, `expires_in`).
///
/// Its `Debug` output never shows the secret, and no error of this crate carries it.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessToken {
    access_token: String,
    token_type: String,
    /// The customer id the token is for (the token endpoint's `entity_id`), when known.
    pub customer_id: Option<UserId>,
    /// Lifetime, when known.
    pub expires_in: Option<Duration>,
}

impl AccessToken {
    /// A token of type `Bearer`.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self::new(access_token, "Bearer")
    }

    /// A token of the given type (an empty type means `Bearer`).
    pub fn new(access_token: impl Into<String>, token_type: impl Into<String>) -> Self {
        let t = token_type.into();
        Self {
            access_token: access_token.into(),
            token_type: if t.is_empty() { "Bearer".into() } else { t },
            customer_id: None,
            expires_in: None,
        }
    }

    /// Sets the customer id, returning `self`.
    #[must_use]
    pub fn with_customer_id(mut self, id: impl Into<UserId>) -> Self {
        self.customer_id = Some(id.into());
        self
    }

    /// Sets the lifetime, returning `self`: the session asks for a new token before logging
    /// in once it has expired.
    #[must_use]
    pub fn with_expires_in(mut self, expires_in: Duration) -> Self {
        self.expires_in = Some(expires_in);
        self
    }

    /// The secret. Do not log it.
    pub fn secret(&self) -> &str {
        &self.access_token
    }

    /// The token type (`Bearer`).
    pub fn token_type(&self) -> &str {
        &self.token_type
    }

    /// The `login` token: `"<type> <token>"`.
    pub fn login_token(&self) -> Token {
        Token::from_parts(&self.token_type, &self.access_token)
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessToken")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("customer_id", &self.customer_id)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn redacted() {
        let t = AccessToken::bearer("very-secret").with_customer_id("c1");
        assert!(!format!("{t:?}").contains("very-secret"));
        assert_eq!(t.login_token().expose(), "Bearer very-secret");
    }
}
