use chatio_wire::UserId;

use super::MemoryStore;
use crate::store::{Result, TokenRecord, TokenStore};

impl TokenStore for MemoryStore {
    fn token(&mut self, secret: &str) -> Result<Option<TokenRecord>> {
        Ok(self.tokens.get(secret).cloned())
    }

    fn put_token(&mut self, secret: &str, token: TokenRecord) -> Result<()> {
        self.tokens.insert(secret.to_owned(), token);
        Ok(())
    }

    fn expire_tokens(&mut self, license: u64, customer: &UserId, at: u64) -> Result<()> {
        for t in self.tokens.values_mut() {
            if t.license == license && t.customer == *customer {
                t.expires_at = t.expires_at.min(at);
            }
        }
        Ok(())
    }

    fn purge_tokens(&mut self, expired_by: u64) -> Result<usize> {
        let n = self.tokens.len();
        self.tokens.retain(|_, t| t.expires_at > expired_by);
        Ok(n - self.tokens.len())
    }

    fn token_count(&mut self) -> Result<usize> {
        Ok(self.tokens.len())
    }
}
