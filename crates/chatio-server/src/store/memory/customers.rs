use chatio_wire::UserId;

use super::MemoryStore;
use crate::store::{Customer, CustomerStore, Result};

impl CustomerStore for MemoryStore {
    fn customer(&mut self, license: u64, id: &UserId) -> Result<Option<Customer>> {
        Ok(self.licenses.get(&license).and_then(|l| l.customers.get(id)).cloned())
    }

    fn put_customer(&mut self, license: u64, id: &UserId, customer: Customer) -> Result<()> {
        self.licenses.entry(license).or_default().customers.insert(id.clone(), customer);
        Ok(())
    }

    fn purge_customers(&mut self, keep: &mut dyn FnMut(u64, &UserId) -> bool) -> Result<usize> {
        let (held, identity) = (&self.tokens, &self.identity);
        let mut gone = 0;
        for (license, lic) in &mut self.licenses {
            let chats_of = &lic.chats_of;
            let before = lic.customers.len();
            lic.customers.retain(|id, c| {
                c.banned
                    || held.holds(*license, id)
                    || identity.holds(*license, id)
                    || chats_of.get(id).is_some_and(|v| !v.is_empty())
                    || keep(*license, id)
            });
            gone += before - lic.customers.len();
        }
        Ok(gone)
    }

    fn customer_count(&mut self) -> Result<usize> {
        Ok(self.licenses.values().map(|l| l.customers.len()).sum())
    }
}
