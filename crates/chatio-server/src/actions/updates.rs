//! Updates: `update_chat_scopes`, `update_chat_properties`,
//! `update_chat_thread_properties`, `update_last_seen_timestamp`, `update_customer`, and
//! the customer data a `login` may carry.

use chatio_wire as wire;
use chatio_wire::{ErrorObject, Push, ResponseData, Timestamp, UserId};

use super::checks::{check_customer_data, check_merged_fields, check_properties, check_rights, validation};
use super::{Caller, Ctx, Delivery, Effects, Presence, quota, views};
use crate::store::{self, Store};

/// `update_chat_scopes` (4.11).
pub(super) fn update_chat_scopes(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: wire::UpdateChatScopes,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let mut chat = cx.own_chat(caller, &p.chat_id)?;
    let add = p.add_scopes.clone().and_then(|s| s.groups).unwrap_or_default();
    let remove = p.remove_scopes.clone().and_then(|s| s.groups).unwrap_or_default();
    chat.scopes.extend(add.iter().copied());
    for g in &remove {
        chat.scopes.remove(g);
    }
    cx.store.put_chat(caller.license, chat)?;
    let push =
        wire::ChatScopesUpdated::new(p.chat_id, p.add_scopes.unwrap_or_default(), p.remove_scopes.unwrap_or_default());
    fx.push(caller.license, &caller.customer, Push::ChatScopesUpdated(push));
    Ok(ResponseData::UpdateChatScopes)
}

/// `update_customer` (4.12).
pub(super) fn update_customer(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::UpdateCustomer,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let license = caller.license;
    check_customer_data(&p.customer)?;
    check_merged_fields(cx.store, license, &caller.customer, &p.customer)?;
    apply_customer_data(cx.store, license, &caller.customer, &p.customer, cx.now)?;
    customer_updated(cx.store, cx.presence, license, &caller.customer, true, fx)?;
    let present = cx.present(license, &caller.customer);
    let user = views::customer_user(cx.store, license, &caller.customer, None, present)?;
    Ok(ResponseData::UpdateCustomer(wire::UpdateCustomerResponse::new(user)))
}

/// `update_chat_properties` (4.13).
pub(super) fn update_chat_properties(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: wire::UpdateChatProperties,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    check_properties("properties", &p.properties)?;
    check_rights(cx.policy, "properties", &p.properties)?;
    let mut chat = cx.own_chat(caller, &p.chat_id)?;
    quota::check_properties(&cx.policy.quotas, "properties", Some(&chat.properties), &p.properties)?;
    chat.properties.merge(&p.properties);
    cx.store.put_chat(caller.license, chat)?;
    fx.push(
        caller.license,
        &caller.customer,
        Push::ChatPropertiesUpdated(wire::ChatPropertiesUpdated::new(p.chat_id, p.properties)),
    );
    Ok(ResponseData::UpdateChatProperties)
}

/// `update_chat_thread_properties` (4.14).
pub(super) fn update_chat_thread_properties(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: wire::UpdateChatThreadProperties,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    check_properties("properties", &p.properties)?;
    check_rights(cx.policy, "properties", &p.properties)?;
    let chat = cx.own_chat(caller, &p.chat_id)?;
    let mut thread = cx
        .store
        .thread(caller.license, &chat.id, &p.thread_id)?
        .ok_or_else(|| validation(format!("`thread_id`: no thread `{}` in this chat", p.thread_id)))?;
    quota::check_properties(&cx.policy.quotas, "properties", Some(&thread.properties), &p.properties)?;
    thread.properties.merge(&p.properties);
    cx.store.put_thread(caller.license, &chat.id, thread)?;
    let push = wire::ChatThreadPropertiesUpdated::new(p.chat_id, p.thread_id, p.properties);
    fx.push(caller.license, &caller.customer, Push::ChatThreadPropertiesUpdated(push));
    Ok(ResponseData::UpdateChatThreadProperties)
}

/// `update_last_seen_timestamp` (4.15): never before the stored time, never in the future.
pub(super) fn update_last_seen_timestamp(
    cx: &mut Ctx<'_>,
    caller: &Caller,
    p: &wire::UpdateLastSeenTimestamp,
    fx: &mut Effects,
) -> Result<ResponseData, ErrorObject> {
    let customer = caller.customer.clone();
    let mut chat = cx.own_chat(caller, &p.chat_id)?;
    let mut wanted = p.timestamp.map_or(cx.now, Timestamp::as_secs);
    if wanted > 100_000_000_000 {
        wanted /= 1000; // milliseconds (D5)
    }
    let stored = chat.last_seen.get(&customer).map_or(0, |t| t.as_secs());
    let ts = Timestamp::from_secs(wanted.min(cx.now).max(stored));
    chat.last_seen.insert(customer.clone(), ts);
    cx.store.put_chat(caller.license, chat)?;
    fx.push(
        caller.license,
        &customer,
        Push::LastSeenTimestampUpdated(wire::LastSeenTimestampUpdated::new(customer.clone(), p.chat_id.clone(), ts)),
    );
    Ok(ResponseData::UpdateLastSeenTimestamp(wire::UpdateLastSeenTimestampResponse::new(ts)))
}

/// Merges customer data (name, e-mail, fields, monitoring) into the customer (made if
/// absent) at `now`: a page in `monitoring` joins the customer's visit (H28). Returns
/// whether name, e-mail or fields changed.
pub(super) fn apply_customer_data(
    store: &mut dyn Store,
    license: u64,
    id: &UserId,
    data: &wire::CustomerData,
    now: u64,
) -> store::Result<bool> {
    let mut c = store.customer(license, id)?.unwrap_or_default();
    let mut changed = false;
    if let Some(n) = &data.name {
        changed |= c.name.as_ref() != Some(n);
        c.name = Some(n.clone());
    }
    if let Some(e) = &data.email {
        changed |= c.email.as_ref() != Some(e);
        c.email = Some(e.clone());
    }
    if let Some(f) = &data.fields {
        for (k, v) in f {
            changed |= c.fields.get(k) != Some(v);
            c.fields.insert(k.clone(), v.clone());
        }
    }
    if let Some(m) = &data.monitoring {
        if let Some(page) = &m.page {
            c.visits.page(now, page);
        }
        c.monitoring = Some(m.clone());
    }
    store.put_customer(license, id, c)?;
    Ok(changed)
}

/// `customer_updated`, once per active chat of the customer (G25).
pub(crate) fn customer_updated(
    store: &mut dyn Store,
    presence: &Presence,
    license: u64,
    customer: &UserId,
    caused_by_request: bool,
    fx: &mut Effects,
) -> store::Result<()> {
    let present = presence.contains(&(license, customer.clone()));
    for chat_id in store.chats_of(license, customer)? {
        let active = store.last_thread(license, &chat_id)?.is_some_and(|t| t.active);
        let Some(chat) = store.chat(license, &chat_id)?.filter(|_| active) else { continue };
        let user = views::customer_user(store, license, customer, Some(&chat), present)?;
        fx.deliveries.push(Delivery {
            license,
            customer: customer.clone(),
            push: Push::CustomerUpdated(wire::CustomerUpdated::new(chat_id, user)),
            caused_by_request,
            event_json: None,
        });
    }
    Ok(())
}
