//! Routine work on the listener's 1 s sweep: purging what can no longer be used, and
//! archiving idle threads (G3) when configured.

use chatio_wire::{EventKind, IncomingEvent, Push, SystemMessage, ThreadClosed};

use super::{Inner, State, in_request, now_secs};
use crate::actions::{self, Delivery, Effects};
use crate::config::Quotas;
use crate::store::{self, Store};

impl State {
    /// Routine work: purge what can no longer be used, and archive idle threads (G3) when
    /// configured.
    pub(crate) fn sweep(&self) {
        let now = now_secs();
        if let Err(e) = self.purge(now) {
            tracing::error!(error = %e, "purge failed");
        }
        self.token_limit.lock().unwrap_or_else(|e| e.into_inner()).sweep(std::time::Instant::now());
        if let Err(e) = self.archive(now) {
            tracing::error!(error = %e, "archiving failed");
        }
        if let Err(e) = self.retain(now) {
            tracing::error!(error = %e, "retention failed");
        }
        if let Err(e) = self.expire_files(now) {
            tracing::error!(error = %e, "file expiry failed");
        }
    }

    /// Deletes up to `FILE_EXPIRY_BATCH` files no event has referred to for
    /// `unreferenced_files_after` (G38), and takes them off the uploaded bytes held.
    fn expire_files(&self, now: u64) -> store::Result<()> {
        let before = now.saturating_sub(self.config.unreferenced_files_after.as_secs());
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (files, bytes) = in_request(&mut *inner.store, |store| {
            actions::file_refs::expire(store, before, crate::config::FILE_EXPIRY_BATCH)
        })?;
        inner.policy.upload_bytes = inner.policy.upload_bytes.saturating_sub(bytes);
        if files > 0 {
            tracing::info!(files, bytes, "unreferenced files deleted");
        }
        Ok(())
    }

    /// Retention (`ServerConfig::retain_history`): deletes up to `RETENTION_BATCH` closed
    /// threads older than the configured age (each chat's last thread stays).
    fn retain(&self, now: u64) -> store::Result<()> {
        let Some(age) = self.config.retain_history else { return Ok(()) };
        let before = now.saturating_sub(age.as_secs());
        let mut guard = self.lock();
        let inner = &mut *guard;
        let (gone, bytes) = in_request(&mut *inner.store, |store| forget_old_threads(store, before))?;
        inner.policy.upload_bytes = inner.policy.upload_bytes.saturating_sub(bytes);
        if gone > 0 {
            tracing::info!(threads = gone, file_bytes = bytes, "old threads deleted (retention)");
        }
        Ok(())
    }

    /// Forgets tokens expired for longer than `expired_token_grace` (until then `login`
    /// says "expired" rather than "invalid"), then customers with nothing left: no token, no
    /// chat, no connection, no ban, no armed fault (nobody can reach them any more). The
    /// expired tokens are found through their expiry index; the customers are examined
    /// `PURGE_BATCH` at a time, each pass going on where the last one stopped, so that a pass
    /// holds the lock for a bounded time whatever the number of customers.
    fn purge(&self, now: u64) -> store::Result<()> {
        let mut guard = self.lock();
        let Inner { store, hub, purge_after, .. } = &mut *guard;
        let grace = self.config.expired_token_grace.as_secs();
        let (tokens, customers) = in_request(&mut **store, |store| {
            let tokens = store.purge_tokens(now.saturating_sub(grace))? + store.purge_identity(now)?;
            let (customers, next) =
                store.purge_customers(purge_after.as_ref(), crate::config::PURGE_BATCH, &mut |license, id| {
                    hub.count(license, id) > 0 || hub.faults.contains_key(&(license, id.clone()))
                })?;
            *purge_after = next;
            Ok::<_, store::StoreError>((tokens, customers))
        })?;
        if tokens + customers > 0 {
            tracing::debug!(tokens, customers, "purged");
        }
        Ok(())
    }

    /// Closes the threads idle for `archive_after` with a `routing.archived` system message.
    fn archive(&self, now: u64) -> store::Result<()> {
        let Some(after) = self.config.archive_after else { return Ok(()) };
        let mut guard = self.lock();
        let inner = &mut *guard;
        let quotas = &inner.policy.quotas;
        let fx = in_request(&mut *inner.store, |store| {
            archive_idle(store, quotas, now.saturating_sub(after.as_secs()), now, crate::config::ARCHIVE_BATCH)
        })?;
        inner.hub.deliver(fx.deliveries, None);
        Ok(())
    }
}

/// Deletes up to `RETENTION_BATCH` old closed threads with their events, and the files
/// only those events referred to; takes them off their chat's and their uploaders' held
/// counts (the quotas); returns how many threads went and the files' bytes.
fn forget_old_threads(store: &mut dyn Store, before: u64) -> store::Result<(usize, u64)> {
    let old = store.old_threads(before, crate::config::RETENTION_BATCH)?;
    let mut file_bytes = 0u64;
    for (license, chat_id, thread) in &old {
        let events = store.events(*license, chat_id, thread)?;
        store.delete_thread(*license, chat_id, thread)?;
        let freed = actions::file_refs::release(store, *license, &events)?;
        file_bytes = file_bytes.saturating_add(freed.bytes);
        for (customer, files, bytes) in &freed.uploads {
            let Some(mut c) = store.customer(*license, customer)? else { continue };
            c.uploads.files = c.uploads.files.saturating_sub(*files);
            c.uploads.bytes = c.uploads.bytes.saturating_sub(*bytes);
            store.put_customer(*license, customer, c)?;
        }
        let Some(mut chat) = store.chat(*license, chat_id)? else { continue };
        let bytes: u64 = events.iter().map(actions::quota::event_cost).sum();
        chat.held.events = chat.held.events.saturating_sub(events.len() as u64);
        chat.held.bytes = chat.held.bytes.saturating_sub(bytes);
        let uploaded: u64 = freed.uploads.iter().map(|(_, files, _)| files).sum();
        chat.held.files = chat.held.files.saturating_sub(uploaded);
        store.put_chat(*license, chat)?;
    }
    Ok((old.len(), file_bytes))
}

/// Archives up to `limit` chats whose active thread has been idle since `idle_since`, the
/// longest idle first (the next sweep goes on). A chat at its event quota is archived
/// without the system message.
fn archive_idle(
    store: &mut dyn Store,
    quotas: &Quotas,
    idle_since: u64,
    now: u64,
    limit: usize,
) -> store::Result<Effects> {
    let mut fx = Effects::default();
    for (license, chat_id) in store.idle_chats(idle_since, limit)? {
        let Some(mut chat) = store.chat(license, &chat_id)? else { continue };
        let kind =
            EventKind::SystemMessage(SystemMessage::new("Chat archived due to long inactivity", "routing.archived"));
        let added = actions::add_agent_event(store, quotas, license, &mut chat, None, kind, now)?;
        let Some(mut t) = store.last_thread(license, &chat_id)?.filter(|t| t.active) else { continue };
        t.active = false;
        let thread = t.id.clone();
        store.put_thread(license, &chat_id, t)?;
        let customer = chat.customer.clone();
        store.put_chat(license, chat)?;
        let message = added.map(|(thread, ev)| Push::IncomingEvent(IncomingEvent::new(chat_id.clone(), thread, ev)));
        let closed = Push::ThreadClosed(ThreadClosed::new(chat_id.clone(), thread, None));
        for push in message.into_iter().chain([closed]) {
            fx.deliveries.push(Delivery {
                license,
                customer: customer.clone(),
                push,
                caused_by_request: false,
                event_json: None,
            });
        }
    }
    Ok(fx)
}
