//! Who is calling: the token check of `login` and of every Web API call, and `login`
//! itself (4.1). Pure: the store, the token and the time in, the customer out.

use chatio_wire as wire;
use chatio_wire::{ErrorObject, ErrorType, UserId};

use super::checks::{check_customer_data, check_merged_fields};
use super::updates::apply_customer_data;
use super::{Ctx, Policy};
use crate::store::Store;

/// Checks a token at `login` or on a Web API call (G12, G30, G35).
pub(crate) fn authenticate(
    store: &mut dyn Store,
    policy: &Policy,
    license: u64,
    token: &str,
    now: u64,
) -> Result<UserId, ErrorObject> {
    let secret = wire::Token::new(token).access_token().to_owned();
    if !policy.licenses.contains(&license) {
        return Err(ErrorObject::new(ErrorType::Authentication, "unknown license"));
    }
    if policy.expired_licenses.contains(&license) {
        return Err(ErrorObject::with_default_message(ErrorType::LicenseExpired));
    }
    let rec =
        store.token(&secret)?.ok_or_else(|| ErrorObject::new(ErrorType::Authentication, "invalid access token"))?;
    if rec.license != license {
        return Err(ErrorObject::new(ErrorType::Authentication, "the token was issued for another license"));
    }
    if now >= rec.expires_at {
        return Err(ErrorObject::new(ErrorType::Authentication, "the access token has expired"));
    }
    if store.customer(license, &rec.customer)?.is_some_and(|c| c.banned_at(now)) {
        return Err(ErrorObject::with_default_message(ErrorType::CustomerBanned));
    }
    Ok(rec.customer)
}

/// `login` (4.1): checks the token and stores the customer data. The state adds the
/// session's identity, the connection limit and the `customer_updated` pushes.
pub(crate) fn login(
    cx: &mut Ctx<'_>,
    license: u64,
    payload: &wire::Login,
    public_url: &str,
) -> Result<(UserId, wire::LoginResponse, bool), ErrorObject> {
    let customer = authenticate(cx.store, cx.policy, license, payload.token.expose(), cx.now)?;
    let mut changed = false;
    if let Some(data) = &payload.customer {
        check_customer_data(data)?;
        check_merged_fields(cx.store, license, &customer, data)?;
    }
    // The login is part of a visit (H28); then the page it names, if any.
    let mut record = cx.store.customer(license, &customer)?.unwrap_or_default();
    record.visits.login(cx.now);
    cx.store.put_customer(license, &customer, record)?;
    if let Some(data) = &payload.customer {
        changed = apply_customer_data(cx.store, license, &customer, data, cx.now)?;
    }
    let resp = wire::LoginResponse::new(customer.clone(), Some(format!("{public_url}/licence/{license}/config.json")));
    Ok((customer, resp, changed))
}
