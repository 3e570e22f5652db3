//! Access tokens, redacted wherever they could be printed.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The `token` of a `login` request: `"<type> <access token>"`, e.g. `"Bearer dev-J7ss…"`.
///
/// `Debug` never shows the secret, and there is no `Display`: a token does not end up in a
/// log by accident. [`Token::expose`] gives the text when it must be sent.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    /// Wraps the whole login token text (with its type prefix, if any).
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// `"<token_type> <access_token>"`, as the JS SDK and the reference build it.
    pub fn from_parts(token_type: &str, access_token: &str) -> Self {
        Self(format!("{token_type} {access_token}"))
    }

    /// The secret text. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The access token without a `Bearer ` prefix (the prefix is optional, G11).
    pub fn access_token(&self) -> &str {
        let t = self.0.trim();
        match t.split_once(' ') {
            Some((kind, rest)) if kind.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => t,
        }
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_debugs_the_secret() {
        let t = Token::from_parts("Bearer", "dev-secret");
        assert_eq!(format!("{t:?}"), "Token(<redacted>)");
        assert_eq!(t.access_token(), "dev-secret");
        assert_eq!(Token::new("bare").access_token(), "bare");
    }
}
