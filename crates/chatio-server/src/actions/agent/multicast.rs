//! `multicast` (protocol file §5.10, H20): `incoming_multicast` to every connection of
//! every target — agents of the license (all, by id, by group) and customers by id — each
//! connection once, the requester only if targeted, unknown ids skipped. Not bound to a chat.
//! The lists are bounded by the frame size (1 MiB).

use chatio_wire::agent::{self, Multicast};
use chatio_wire::{ErrorObject, IncomingMulticast, Push};

use super::super::checks::validation;
use super::super::{AgentDelivery, AgentTarget, Ctx, Delivery, Effects};
use super::{AgentCaller, allowed};

/// Runs the multicast of `caller`.
pub(crate) fn multicast(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: &Multicast,
    fx: &mut Effects,
) -> Result<(), ErrorObject> {
    allowed(caller, "multicast", false)?;
    if !p.content.is_object() {
        return Err(validation("`content` must be a JSON object"));
    }
    let license = caller.license;
    let agents_scope = p.scopes.agents.as_ref();
    let all = agents_scope.and_then(|a| a.all).unwrap_or(false);
    let ids: Vec<String> =
        agents_scope.and_then(|a| a.ids.as_ref()).into_iter().flatten().map(|i| i.as_str().to_lowercase()).collect();
    let groups: Vec<u64> = agents_scope.and_then(|a| a.groups.clone()).unwrap_or_default();
    let customers = p.scopes.customers.as_ref().and_then(|c| c.ids.clone()).unwrap_or_default();
    if !all && ids.is_empty() && groups.is_empty() && customers.is_empty() {
        return Err(validation(
            "`scopes`: name at least one target (agents.all, agents.ids, agents.groups, customers.ids)",
        ));
    }
    let targets: Vec<String> = cx
        .agents
        .directory
        .agents(license)
        .filter(|a| all || ids.contains(&a.id) || a.group_ids().any(|g| groups.contains(&g)))
        .map(|a| a.id.clone())
        .collect();
    let push = IncomingMulticast::new(caller.user_id(), p.content.clone());
    if !targets.is_empty() {
        fx.agent_deliveries.push(AgentDelivery {
            license,
            to: AgentTarget::Agents(targets),
            push: agent::Push::IncomingMulticast(push.clone()),
            caused_by_request: true,
        });
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in customers {
        if seen.insert(c.clone()) && cx.store.customer(license, &c)?.is_some() {
            let push = Push::IncomingMulticast(push.clone());
            fx.deliveries.push(Delivery { license, customer: c, push, caused_by_request: false, event_json: None });
        }
    }
    Ok(())
}
