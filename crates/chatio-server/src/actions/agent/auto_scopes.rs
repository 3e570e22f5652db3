//! The auto chat scopes (protocol file §5.20–5.22, H25, H44): per license, configurations
//! whose rules, when they all hold for a chat, add their scopes to it — at the chat's
//! creation and whenever its customer opens a thread, before routing. At most
//! [`MAX_CONFIGS`] per license (H39); kept in memory with the rest of the agents' data.

use std::collections::BTreeSet;

use chatio_wire as wire;
use chatio_wire::agent::{
    self, AddAutoChatScopes, AddAutoChatScopesResponse, AutoChatScopesConfig, GetAutoChatScopesConfigResponse,
    RemoveAutoChatScopes,
};
use chatio_wire::{ChatId, ErrorObject, Push};

use super::super::checks::{check_text, validation};
use super::super::{Ctx, Effects};
use super::{AgentCaller, allowed, to_agents, to_customer};

/// Configurations per license at most (H39).
pub(crate) const MAX_CONFIGS: usize = 100;

/// `add_auto_chat_scopes`: a new configuration; its id.
pub(crate) fn add(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: AddAutoChatScopes,
) -> Result<AddAutoChatScopesResponse, ErrorObject> {
    allowed(caller, "add_auto_chat_scopes", false)?;
    if p.scopes.groups.as_ref().is_none_or(Vec::is_empty) {
        return Err(validation("`scopes.groups`: name at least one group"));
    }
    if let Some(key) = p.rules.other.keys().next() {
        return Err(validation(format!("`rules.{key}`: unknown rule (H44)")));
    }
    if let Some(d) = &p.description {
        check_text("description", d)?;
    }
    let configs = cx.agents.auto_scopes.entry(caller.license).or_default();
    if configs.len() >= MAX_CONFIGS {
        return Err(validation(format!(
            "this license has {MAX_CONFIGS} auto chat scopes configurations, the most it may"
        )));
    }
    let id = cx.store.ids().hex(25);
    let mut config = AutoChatScopesConfig::new(id.clone(), p.scopes, p.rules);
    config.description = p.description;
    cx.agents.auto_scopes.entry(caller.license).or_default().push(config);
    Ok(AddAutoChatScopesResponse::new(id))
}

/// `remove_auto_chat_scopes`: an unknown id is `validation`.
pub(crate) fn remove(cx: &mut Ctx<'_>, caller: &AgentCaller, p: &RemoveAutoChatScopes) -> Result<(), ErrorObject> {
    allowed(caller, "remove_auto_chat_scopes", false)?;
    let configs = cx.agents.auto_scopes.entry(caller.license).or_default();
    let before = configs.len();
    configs.retain(|c| c.id != p.auto_chat_scopes_id);
    if configs.len() == before {
        return Err(validation(format!("`auto_chat_scopes_id`: no configuration `{}`", p.auto_chat_scopes_id)));
    }
    Ok(())
}

/// `get_auto_chat_scopes_config`: the license's configurations, oldest first.
pub(crate) fn get(cx: &mut Ctx<'_>, caller: &AgentCaller) -> Result<GetAutoChatScopesConfigResponse, ErrorObject> {
    allowed(caller, "get_auto_chat_scopes_config", false)?;
    let configs = cx.agents.auto_scopes.get(&caller.license).cloned().unwrap_or_default();
    Ok(GetAutoChatScopesConfigResponse::new(configs))
}

/// Applies the license's configurations to a chat a customer created or opened a thread in:
/// the groups of every configuration whose rules hold (chat properties as the agents see
/// them; `customer_url` on the customer's latest page) that the chat lacks are added, and
/// both sides hear `chat_scopes_updated`.
pub(crate) fn apply(cx: &mut Ctx<'_>, license: u64, chat_id: &ChatId, fx: &mut Effects) -> crate::store::Result<()> {
    let Some(configs) = cx.agents.auto_scopes.get(&license).filter(|c| !c.is_empty()).cloned() else {
        return Ok(());
    };
    let Some(mut chat) = cx.store.chat(license, chat_id)? else { return Ok(()) };
    let url = match cx.store.customer(license, &chat.customer)? {
        Some(c) => c.monitoring.and_then(|m| m.page).and_then(|p| p.url),
        None => None,
    };
    let props = super::view::properties(cx.agents, license, &chat);
    let mut added = BTreeSet::new();
    for c in &configs {
        let props_hold = c.rules.chat_properties.as_ref().is_none_or(|f| f.matches(|ns, n| props.get(ns, n)));
        let url_holds = c.rules.customer_url.as_ref().is_none_or(|f| f.matches(url.as_deref().unwrap_or("")));
        if props_hold && url_holds {
            for g in c.scopes.groups.iter().flatten() {
                if !chat.scopes.contains(g) {
                    added.insert(*g);
                }
            }
        }
    }
    if added.is_empty() {
        return Ok(());
    }
    chat.scopes.extend(added.iter().copied());
    cx.store.put_chat(license, chat.clone())?;
    let mut scopes = wire::Scopes::default();
    scopes.groups = Some(added.into_iter().collect());
    let push = wire::ChatScopesUpdated::new(chat_id.clone(), scopes, wire::Scopes::default());
    to_customer(fx, license, &chat, Push::ChatScopesUpdated(push.clone()));
    to_agents(cx, fx, license, &chat, agent::Push::ChatScopesUpdated(push), false);
    Ok(())
}
