//! Routine work on the listener's 1 s sweep: purging what can no longer be used, and
//! archiving idle threads (G3) when configured.

use chatio_wire::{Push, UserId};

use super::{State, now_secs};
use crate::actions::{self, Effects};

impl State {
    /// Routine work: purge what can no longer be used, and archive idle threads (G3) when
    /// configured.
    pub(crate) fn sweep(&self) {
        self.purge(now_secs());
        self.archive();
    }

    /// Forgets tokens expired for longer than `expired_token_grace` (until then `login`
    /// says "expired" rather than "invalid"), then customers with nothing left: no token, no chat, no
    /// connection, no ban, no armed fault (nobody can reach them any more). Returns how
    /// many tokens and customers went.
    fn purge(&self, now: u64) -> (usize, usize) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        let before = inner.store.tokens.len();
        let grace = self.config.expired_token_grace.as_secs();
        inner.store.tokens.retain(|_, t| t.expires_at.saturating_add(grace) > now);
        let tokens = before - inner.store.tokens.len();
        let held: std::collections::HashSet<(u64, &UserId)> =
            inner.store.tokens.values().map(|t| (t.license, &t.customer)).collect();
        let hub = &inner.hub;
        let mut customers = 0;
        for (license, lic) in &mut inner.store.licenses {
            let chats_of = &lic.chats_of;
            let before = lic.customers.len();
            lic.customers.retain(|id, c| {
                c.banned
                    || held.contains(&(*license, id))
                    || chats_of.get(id).is_some_and(|v| !v.is_empty())
                    || hub.count(*license, id) > 0
                    || hub.faults.contains_key(&(*license, id.clone()))
            });
            customers += before - lic.customers.len();
        }
        if tokens + customers > 0 {
            tracing::debug!(tokens, customers, "purged");
        }
        (tokens, customers)
    }

    fn archive(&self) {
        let Some(after) = self.config.archive_after else { return };
        let now = now_secs();
        let mut guard = self.lock();
        let inner = &mut *guard;
        let mut fx = Effects::default();
        for (license, lic) in &mut inner.store.licenses {
            for chat in lic.chats.values_mut() {
                let idle = chat.active_thread().is_some_and(|t| now.saturating_sub(t.last_activity) >= after.as_secs());
                if !idle {
                    continue;
                }
                let kind = chatio_wire::EventKind::SystemMessage(chatio_wire::SystemMessage::new(
                    "Chat archived due to long inactivity",
                    "routing.archived",
                ));
                let Some((thread, ev)) = actions::add_agent_event(chat, None, kind, now) else { continue };
                if let Some(t) = chat.active_thread_mut() {
                    t.active = false;
                }
                for push in [
                    Push::IncomingEvent(chatio_wire::IncomingEvent::new(chat.id.clone(), thread.clone(), ev)),
                    Push::ThreadClosed(chatio_wire::ThreadClosed::new(chat.id.clone(), thread, None)),
                ] {
                    fx.deliveries.push(actions::Delivery {
                        license: *license,
                        customer: chat.customer.clone(),
                        push,
                        caused_by_request: false,
                    });
                }
            }
        }
        inner.hub.deliver(fx.deliveries, None);
    }
}
