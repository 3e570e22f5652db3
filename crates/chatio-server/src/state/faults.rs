//! Fault injection for one customer (through the handle or the admin routes).

use std::time::Duration;

use chatio_wire::{DisconnectReason, UserId};

use super::{State, in_request, now_secs};
use crate::sendq::Out;

/// A fault to inject for one customer.
#[derive(Clone, Debug)]
pub(crate) enum Fault {
    /// Drop every connection abruptly, without a close frame.
    Drop,
    /// Hold the next response back this long.
    DelayNextResponse(Duration),
    /// Never send the next response.
    SwallowNextResponse,
    /// Send a text frame that is not JSON.
    Malformed,
    /// Make every token of the customer expired.
    ExpireTokens,
    /// Ban: `customer_disconnected` `customer_banned`, close 4000, later logins refused.
    Ban,
    /// Lift a ban.
    Unban,
}

/// The text of the malformed frame sent by [`Fault::Malformed`].
const MALFORMED_FRAME: &str = "{\"action\": \"incoming_event\", \"type\": \"push\", \"payload\": oops";

impl State {
    /// Injects a fault for one customer.
    pub(crate) fn inject(&self, license: u64, customer: &UserId, fault: Fault) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        tracing::info!(license, ?fault, "fault injected");
        match fault {
            Fault::Drop => inner.hub.send_customer(license, customer, || Out::Drop),
            Fault::DelayNextResponse(d) => {
                inner.hub.faults.entry((license, customer.clone())).or_default().delay_next_response = Some(d);
            }
            Fault::SwallowNextResponse => {
                inner.hub.faults.entry((license, customer.clone())).or_default().swallow_next_response = true;
            }
            Fault::Malformed => inner.hub.send_customer(license, customer, || Out::Text(MALFORMED_FRAME.into())),
            Fault::ExpireTokens => {
                let expired = in_request(&mut *inner.store, |store| store.expire_tokens(license, customer, now_secs()));
                if let Err(e) = expired {
                    tracing::error!(error = %e, "cannot expire tokens");
                }
            }
            Fault::Ban | Fault::Unban => {
                let banned = matches!(fault, Fault::Ban);
                let stored = in_request(&mut *inner.store, |store| {
                    let mut c = store.customer(license, customer)?.unwrap_or_default();
                    c.banned = banned;
                    c.ban_ends = None;
                    store.put_customer(license, customer, c)?;
                    if banned {
                        // Nothing resumes a banned customer: its refresh tokens and remembered
                        // browsers are revoked (an unban does not bring them back).
                        store.revoke_identity(license, customer)?;
                    }
                    Ok::<_, crate::store::StoreError>(())
                });
                if let Err(e) = stored {
                    tracing::error!(error = %e, "cannot store the ban");
                    return;
                }
                if banned {
                    inner.hub.disconnect_customer(license, customer, &DisconnectReason::CustomerBanned);
                }
            }
        }
    }
}
