//! `send_rich_message_postback` by an agent (protocol file §5.9): the agent (or its bot,
//! H34) toggles a button of a rich message; the customer and the agents hear it while the
//! thread is active. The button's state is the customer side's (CUST G21).

use chatio_wire as wire;
use chatio_wire::agent;
use chatio_wire::{ErrorObject, Push};

use super::super::events::toggle_postback;
use super::super::{Ctx, Effects};
use super::{AgentCaller, allowed, to_agents, to_customer, visible_chat};

/// Runs the postback of `caller`.
pub(crate) fn send_rich_message_postback(
    cx: &mut Ctx<'_>,
    caller: &AgentCaller,
    p: &wire::SendRichMessagePostback,
    fx: &mut Effects,
) -> Result<(), ErrorObject> {
    let license = caller.license;
    let me = caller.user_id();
    let chat = visible_chat(cx, caller, &p.chat_id)?;
    allowed(caller, "send_rich_message_postback", chat.agents.contains(&me))?;
    if toggle_postback(cx, license, &chat, p, &me)? {
        let push = wire::IncomingRichMessagePostback::new(
            me,
            p.chat_id.clone(),
            p.thread_id.clone(),
            p.event_id.clone(),
            p.postback.clone(),
        );
        to_customer(fx, license, &chat, Push::IncomingRichMessagePostback(push.clone()));
        to_agents(cx, fx, license, &chat, agent::Push::IncomingRichMessagePostback(push), true);
    }
    Ok(())
}
