//! Who is calling: the token check of `login` and of every Web API call, and `login`
//! itself (4.1). Pure: the store, the token and the time in, the customer out.

use chatio_wire as wire;
use chatio_wire::{ErrorObject, ErrorType, UserId};

use super::apply_customer_data;
use super::checks::{check_customer_data, check_merged_fields};
use crate::store::Store;

/// Checks a token at `login` or on a Web API call (G12, G30, G35).
pub(crate) fn authenticate(store: &Store, license: u64, token: &str, now: u64) -> Result<UserId, ErrorObject> {
    let secret = wire::Token::new(token).access_token().to_owned();
    let lic =
        store.licenses.get(&license).ok_or_else(|| ErrorObject::new(ErrorType::Authentication, "unknown license"))?;
    if lic.expired {
        return Err(ErrorObject::with_default_message(ErrorType::LicenseExpired));
    }
    let rec =
        store.tokens.get(&secret).ok_or_else(|| ErrorObject::new(ErrorType::Authentication, "invalid access token"))?;
    if rec.license != license {
        return Err(ErrorObject::new(ErrorType::Authentication, "the token was issued for another license"));
    }
    if now >= rec.expires_at {
        return Err(ErrorObject::new(ErrorType::Authentication, "the access token has expired"));
    }
    if lic.customers.get(&rec.customer).is_some_and(|c| c.banned) {
        return Err(ErrorObject::with_default_message(ErrorType::CustomerBanned));
    }
    Ok(rec.customer.clone())
}

/// `login` (4.1): checks the token and stores the customer data. The connection layer adds
/// the connection limit and the `customer_updated` pushes.
pub(crate) fn login(
    store: &mut Store,
    license: u64,
    payload: &wire::Login,
    now: u64,
    public_url: &str,
) -> Result<(UserId, wire::LoginResponse, bool), ErrorObject> {
    let customer = authenticate(store, license, payload.token.expose(), now)?;
    let mut changed = false;
    if let Some(data) = &payload.customer {
        check_customer_data(data)?;
        check_merged_fields(store, license, &customer, data)?;
        changed = apply_customer_data(store, license, &customer, data);
    } else if let Some(lic) = store.licenses.get_mut(&license) {
        lic.customers.entry(customer.clone()).or_default();
    }
    let resp = wire::LoginResponse::new(customer.clone(), Some(format!("{public_url}/licence/{license}/config.json")));
    Ok((customer, resp, changed))
}
