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

    fn purge_customers(
        &mut self,
        after: Option<&(u64, UserId)>,
        limit: usize,
        keep: &mut dyn FnMut(u64, &UserId) -> bool,
    ) -> Result<(usize, Option<(u64, UserId)>)> {
        use std::ops::Bound::{Excluded, Unbounded};
        let mut licenses: Vec<u64> =
            self.licenses.keys().copied().filter(|l| after.is_none_or(|(from, _)| l >= from)).collect();
        licenses.sort_unstable();
        // The next `limit` customers, in (license, id) order.
        let mut examined: Vec<(u64, UserId)> = Vec::new();
        'licenses: for license in licenses {
            let Some(lic) = self.licenses.get(&license) else { continue };
            let ids = match after {
                Some((from, id)) if *from == license => lic.customers.range((Excluded(id.clone()), Unbounded)),
                _ => lic.customers.range::<UserId, _>(..),
            };
            for (id, _) in ids {
                if examined.len() == limit {
                    break 'licenses;
                }
                examined.push((license, id.clone()));
            }
        }
        let mut gone = 0;
        for (license, id) in &examined {
            let Some(lic) = self.licenses.get_mut(license) else { continue };
            let reachable = lic.customers.get(id).is_none_or(|c| c.banned)
                || self.tokens.holds(*license, id)
                || self.identity.holds(*license, id)
                || lic.chats_of.get(id).is_some_and(|v| !v.is_empty())
                || keep(*license, id);
            if !reachable {
                lic.customers.remove(id);
                gone += 1;
            }
        }
        let next = if examined.len() == limit { examined.pop() } else { None };
        Ok((gone, next))
    }

    fn customer_count(&mut self) -> Result<usize> {
        Ok(self.licenses.values().map(|l| l.customers.len()).sum())
    }
}
