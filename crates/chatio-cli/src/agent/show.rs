//! How the console prints agent events: one line each, the chat's number in front unless it
//! is the current chat; typing and sneak peeks on the status line of an interactive terminal.

use chatio_agent_sdk::model::{Chat, ChatView, Event, User};
use chatio_agent_sdk::{AgentEvent, ChatId, EventKind, Recipients, RoutingStatus};
use console::Style;

use super::{Console, Shared, lock};
use crate::render::{Renderer, bytes, clock, plural};

/// The name to show for a user: its name, else its e-mail, else its id.
pub(super) fn display_name(u: &User) -> String {
    u.name.clone().or_else(|| u.email.clone()).unwrap_or_else(|| u.id.to_string())
}

fn learn(c: &mut Console, users: &[User]) {
    for u in users {
        c.names.insert(u.id.clone(), display_name(u));
    }
}

/// Learns the names of a chat list; numbers the chats.
pub(super) fn learn_chats(c: &mut Console, chats: &[ChatView]) {
    for chat in chats {
        learn(c, &chat.users);
        c.number(&chat.id);
    }
}

/// `[#n] ` for a chat other than the current one.
fn label(c: &mut Console, chat: &ChatId) -> String {
    let n = c.number(chat);
    if c.current.as_ref() == Some(chat) { String::new() } else { format!("[#{n}] ") }
}

/// An event of a conversation as a line (without the chat label).
pub(super) fn event_text(out: &Renderer, c: &Console, e: &Event) -> String {
    let who = e.author.as_ref().map_or_else(|| "system".to_owned(), |a| c.name(a));
    let bold = out.style(Style::new().magenta().bold());
    let whisper = if e.recipients == Some(Recipients::Agents) { " (whisper)" } else { "" };
    match &e.kind {
        EventKind::Message(m) => format!("{}{whisper}: {}", bold.apply_to(who), m.text),
        EventKind::SystemMessage(m) => out.style(Style::new().italic()).apply_to(&m.text).to_string(),
        EventKind::File(f) => format!("{who} sent a file: {} ({}) {}", f.name, bytes(f.size), f.url),
        EventKind::RichMessage(r) => {
            let mut s = format!("{who}{whisper} sent a rich message ({}):", r.template_id);
            for el in &r.elements {
                s.push_str(&format!("\n      [{}]", el.title.as_deref().unwrap_or("")));
                if let Some(img) = &el.image {
                    s.push_str(&format!(" {}", img.url));
                }
                for b in &el.buttons {
                    s.push_str(&format!(" ({})", b.text));
                }
            }
            s
        }
        EventKind::FilledForm(f) => format!("{who} sent a form with {}", plural(f.fields.len(), "field")),
        EventKind::Annotation(a) => {
            format!("{who} annotated ({}): {}", a.annotation_type, a.text.as_deref().unwrap_or(""))
        }
        EventKind::Custom(c) => format!("{who} sent a custom event: {}", c.content),
        other => format!("{who} sent a `{}` event", other.event_type()),
    }
}

/// A chat as a line of `:chats`: number, customer, unread count, last message.
pub(super) fn chat_line(out: &Renderer, c: &mut Console, chat: &ChatView) -> String {
    let n = c.number(&chat.id);
    let current = if c.current.as_ref() == Some(&chat.id) { "*" } else { " " };
    let customer = chat.customer().map_or_else(|| "(no customer)".to_owned(), display_name);
    let unread = match chat.unread {
        0 => String::new(),
        n => format!("  {}", out.style(Style::new().yellow().bold()).apply_to(format!("{n} unread"))),
    };
    let last = chat.last_event.as_ref().map(|e| format!("  «{}»", event_text(out, c, e))).unwrap_or_default();
    format!("{current}#{n:<3} {customer}{unread}{last}")
}

fn customer_of(chat: &Chat) -> Option<&User> {
    chat.users.iter().find(|u| !u.is_agent())
}

/// Prints a live event (and learns names, numbers and the current chat from it).
pub(super) fn event(out: &Renderer, console: &Shared, e: &AgentEvent) {
    let mut c = lock(console);
    let dim = out.style(Style::new().dim());
    let status_line = out.has_status_line();
    let line: String = match e {
        AgentEvent::Connected { me, chats, .. } => {
            c.me = Some(me.id.clone());
            learn_chats(&mut c, chats);
            let waiting = chats.iter().filter(|v| v.is_waiting()).count();
            let mine = chats.iter().filter(|v| v.is_active() && v.has_user(&me.id)).count();
            if c.current.is_none() {
                c.current = chats.iter().find(|v| v.is_active() && v.has_user(&me.id)).map(|v| v.id.clone());
            }
            c.status.clone_from(&me.routing_status);
            let status = me.routing_status.as_ref().map(RoutingStatus::as_str).unwrap_or("unknown status");
            format!(
                "connected as {} ({status}); chats: {mine} yours, {waiting} waiting (:chats lists them)",
                display_name(me)
            )
        }
        AgentEvent::ConnectionRestored { chats, .. } => {
            learn_chats(&mut c, chats);
            "connection restored".into()
        }
        AgentEvent::ConnectionLost => out.style(Style::new().yellow()).apply_to("connection lost").to_string(),
        AgentEvent::ConnectionUnstable => {
            out.style(Style::new().yellow()).apply_to("the server is silent: checking the connection").to_string()
        }
        AgentEvent::ConnectionRecovered => "the connection is fine again".into(),
        AgentEvent::Reconnecting { attempt, delay } => {
            format!("reconnecting (attempt {attempt}) in {:.1} s", delay.as_secs_f64())
        }
        AgentEvent::Lagged { missed } => {
            format!("{} not shown (the terminal fell behind)", plural(*missed as usize, "event"))
        }
        AgentEvent::Disconnected { reason } => format!("disconnected by the server: {reason}"),
        AgentEvent::IncomingChat(chat) => {
            learn(&mut c, &chat.users);
            let n = c.number(&chat.id);
            let who = customer_of(chat).map_or_else(|| "(no customer)".to_owned(), display_name);
            let first = chat
                .threads
                .last()
                .and_then(|t| t.events.iter().find(|e| matches!(e.kind, EventKind::Message(_))))
                .map(|e| format!(": «{}»", event_text(out, &c, e)))
                .unwrap_or_default();
            format!("#{n} new chat from {}{first}", out.style(Style::new().bold()).apply_to(who))
        }
        AgentEvent::UserJoined { chat, user } => {
            c.names.insert(user.id.clone(), display_name(user));
            if c.me.as_ref() != Some(&user.id) {
                return;
            }
            let n = c.number(chat);
            match &c.current {
                // `:take` made it current already and said so.
                Some(current) if current == chat => return,
                Some(_) => format!("you are in chat #{n} (:open {n} to reply there)"),
                None => {
                    c.current = Some(chat.clone());
                    format!("you are in chat #{n}: it is the current chat (type to reply)")
                }
            }
        }
        AgentEvent::UserLeft { chat, user } => {
            if c.me.as_ref() != Some(user) {
                return;
            }
            let n = c.number(chat);
            if c.current.as_ref() == Some(chat) {
                c.current = None;
            }
            format!("you left chat #{n}")
        }
        AgentEvent::NewEvent(ev) => {
            let label = label(&mut c, &ev.chat);
            format!("{label}{}", event_text(out, &c, ev))
        }
        AgentEvent::Typing { chat, user, is_typing, .. } => {
            let label = label(&mut c, chat);
            let text = format!("{label}{} {}", c.name(user), if *is_typing { "is typing…" } else { "stopped typing" });
            if status_line {
                drop(c);
                return out.status(is_typing.then_some(text.as_str()));
            }
            dim.apply_to(text).to_string()
        }
        AgentEvent::SneakPeek { chat, user, text, .. } => {
            let label = label(&mut c, chat);
            let text = format!("{label}{} is typing: «{text}»", c.name(user));
            if status_line {
                drop(c);
                return out.status(Some(&text));
            }
            dim.apply_to(text).to_string()
        }
        AgentEvent::ThreadClosed { chat, user, .. } => {
            let label = label(&mut c, chat);
            let by = user.as_ref().map_or_else(|| "the server".to_owned(), |u| c.name(u));
            format!("{label}thread closed by {by}")
        }
        AgentEvent::CustomerBanned { customer, days } => {
            format!("{} banned for {}", c.name(customer), plural(*days as usize, "day"))
        }
        AgentEvent::AgentUpdated { agent, routing_status } => {
            let status = routing_status.as_ref().map_or("offline", RoutingStatus::as_str);
            if c.me.as_ref() == Some(agent) {
                // Said once per change (the login's own push repeats what `connected` said).
                if c.status == *routing_status {
                    return;
                }
                c.status.clone_from(routing_status);
                format!("you are {status}")
            } else {
                format!("{} is {status}", c.name(agent))
            }
        }
        AgentEvent::CustomerUpdated { customer, .. } => {
            c.names.insert(customer.id.clone(), display_name(customer));
            return;
        }
        AgentEvent::ChatPropertiesUpdated { chat, properties } => {
            // The router's own property is the queue, shown by the system messages.
            let shown: Vec<String> = properties
                .iter()
                .filter(|(ns, _, _)| *ns != "routing")
                .map(|(ns, k, v)| format!("{ns}.{k}={v}"))
                .collect();
            if shown.is_empty() {
                return;
            }
            format!("{}chat properties: {}", label(&mut c, chat), shown.join(", "))
        }
        AgentEvent::ChatThreadPropertiesUpdated { chat, properties, .. } => {
            let shown: Vec<String> = properties.iter().map(|(ns, k, v)| format!("{ns}.{k}={v}")).collect();
            format!("{}thread properties: {}", label(&mut c, chat), shown.join(", "))
        }
        AgentEvent::LastSeenTimestampUpdated { chat, user, timestamp } => {
            if c.me.as_ref() == Some(user) {
                return;
            }
            let label = label(&mut c, chat);
            dim.apply_to(format!("{label}{} saw the chat at {}", c.name(user), clock(*timestamp))).to_string()
        }
        AgentEvent::ChatScopesUpdated { chat, .. } => format!("{}chat groups updated", label(&mut c, chat)),
        AgentEvent::RichMessagePostback { user, chat, postback, .. } => {
            let label = label(&mut c, chat);
            let did = if postback.toggled { "pressed" } else { "released" };
            format!("{label}{} {did} button `{}`", c.name(user), postback.id)
        }
        AgentEvent::Multicast { author, content } => format!("multicast from {}: {content}", c.name(author)),
        AgentEvent::UnknownPush { action, .. } => format!("unknown push `{action}`"),
        AgentEvent::Error(err) => {
            out.style(Style::new().red()).apply_to(format!("error: {}", crate::errors::describe(err))).to_string()
        }
        // A command's own push: the command already said it.
        AgentEvent::ChatUpdated { .. } => return,
        _ => return,
    };
    drop(c);
    out.note(&line);
}
