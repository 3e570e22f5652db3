//! `ban_customer` (protocol file §5.12, H19): the customer's active threads are closed with
//! a `customer_banned` system message, every agent of the license hears `customer_banned`,
//! then the customer's connections are told `customer_banned` and closed (the state does
//! that after the pushes); its refresh tokens and remembered browsers are revoked, and its
//! tokens refused until the ban ends.

use chatio_wire as wire;
use chatio_wire::agent::{self, BanCustomer};
use chatio_wire::{ErrorObject, Push};

use super::super::checks::validation;
use super::super::{AgentDelivery, AgentTarget, Ctx, Effects};
use super::{AgentCaller, allowed, system_message, to_agents, to_customer};

/// Longest ban in days (H39).
const MAX_BAN_DAYS: u32 = agent::Ban::MAX_DAYS;

/// Runs the ban of `caller`.
pub(crate) fn ban_customer(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: &BanCustomer,
    fx: &mut Effects,
) -> Result<(), ErrorObject> {
    allowed(caller, "ban_customer", false)?;
    let license = caller.license;
    let days = p.ban.days;
    if !(1..=MAX_BAN_DAYS).contains(&days) {
        return Err(validation(format!("`ban.days` must be between 1 and {MAX_BAN_DAYS}")));
    }
    let Some(mut customer) = cx.store.customer(license, &p.customer_id)? else {
        return Err(validation(format!("`customer_id`: no customer `{}` on this license", p.customer_id)));
    };
    let name = cx.store.agent(&caller.user_id())?.map(|a| a.name).unwrap_or_else(|| caller.agent.clone());
    for chat_id in cx.store.chats_of(license, &p.customer_id)? {
        let Some(mut thread) = cx.store.last_thread(license, &chat_id)?.filter(|t| t.active) else { continue };
        let text = format!("Chat archived because customer was banned by {name} for {days} days");
        system_message(cx, license, &chat_id, text, "customer_banned", fx)?;
        thread.active = false;
        let push = wire::ThreadClosed::new(chat_id.clone(), thread.id.clone(), None);
        cx.store.put_thread(license, &chat_id, thread)?;
        if let Some(chat) = cx.store.chat(license, &chat_id)? {
            to_customer(fx, license, &chat, Push::ThreadClosed(push.clone()));
            to_agents(cx, fx, license, &chat, agent::Push::ThreadClosed(push), false);
        }
        if let Some(q) = cx.agents.queues.get_mut(&license) {
            q.remove(&chat_id);
        }
    }
    customer.banned = true;
    customer.ban_ends = Some(cx.now.saturating_add(u64::from(days) * 86_400));
    cx.store.put_customer(license, &p.customer_id, customer)?;
    cx.store.revoke_identity(license, &p.customer_id)?;
    let push = agent::CustomerBanned::new(p.customer_id.clone(), p.ban);
    fx.agent_deliveries.push(AgentDelivery {
        license,
        to: AgentTarget::License,
        push: agent::Push::CustomerBanned(push),
        caused_by_request: true,
    });
    fx.banned.push((license, p.customer_id.clone()));
    // Closed threads freed their agents' slots.
    super::route_queue(cx, license, fx)?;
    Ok(())
}
