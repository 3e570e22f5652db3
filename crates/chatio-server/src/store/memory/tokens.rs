use chatio_wire::UserId;

use super::MemoryStore;
use crate::store::{Result, TokenRecord, TokenStore};

impl TokenStore for MemoryStore {
    fn token(&mut self, secret: &str) -> Result<Option<TokenRecord>> {
        Ok(self.tokens.get(secret).cloned())
    }

    fn put_token(&mut self, secret: &str, token: TokenRecord, keep: usize) -> Result<()> {
        self.tokens.insert(secret, token, keep);
        Ok(())
    }

    fn expire_tokens(&mut self, license: u64, customer: &UserId, at: u64) -> Result<()> {
        self.tokens.expire_customer(license, customer, at);
        Ok(())
    }

    fn purge_tokens(&mut self, expired_by: u64) -> Result<usize> {
        Ok(self.tokens.purge(expired_by))
    }

    fn token_count(&mut self) -> Result<usize> {
        Ok(self.tokens.len())
    }
}
