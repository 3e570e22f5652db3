//! The scripted agent ("Chatio Bot").
//!
//! It joins every new chat (and every new thread of a chat it left), greets, and answers
//! each customer message after showing typing on and off. Messages starting with `/` are
//! commands that make it trigger every push of the protocol on demand; `/help` lists them:
//!
//! | command | what the agent does |
//! |---|---|
//! | `/help` | lists the commands |
//! | `/rich` | sends a `rich_message` (cards with buttons; answer with a postback) |
//! | `/file` | sends a `file` event (a PNG the server really serves) |
//! | `/form` | sends a `filled_form` event |
//! | `/annotation` | sends an `annotation` |
//! | `/custom` | sends a `custom` event |
//! | `/system` | sends a `system_message` (`routing.assigned`) |
//! | `/multicast` | sends an `incoming_multicast` push |
//! | `/props` | sets a chat and a thread property (`chat_properties_updated`, `chat_thread_properties_updated`) |
//! | `/scopes` | adds group 1 to the chat's scopes (`chat_scopes_updated`) |
//! | `/seen` | updates its last-seen time (`last_seen_timestamp_updated`) |
//! | `/typing` | shows typing on, then off (`incoming_typing_indicator`) |
//! | `/close` | closes the thread (`thread_closed` with its user id) |
//! | `/leave` | leaves the chat (`chat_users_updated` removed, `agent_left`) |
//! | `/echo TEXT` | answers `TEXT` |
//!
//! The agent stays in the chat across threads (no new greeting when a thread reopens); after
//! `/leave`, the customer's next message makes it join again before answering.
//!
//! With a delay of 0 every step runs at once, right after the request that caused it, so a
//! test sees the same frames every run; otherwise each step waits the delay.

use chatio_wire as wire;
use chatio_wire::{ChatId, EventKind, Push, Timestamp, UserId};
use serde_json::json;

use super::views::agent_user;
use super::{Delivery, Effects, Trigger, add_agent_event};
use crate::files;
use crate::store::{self, Agent, ChatRec, FileRec, Store};

/// The commands, for `/help`.
pub(crate) const HELP: &str = "Commands: /rich (buttons), /file (an image), /form, /annotation, /custom, /system, \
/multicast, /props, /scopes, /seen, /typing, /close (close this thread), /leave, /echo TEXT. \
Anything else, I answer.";

/// One step of the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Join,
    Leave,
    Typing(bool),
    Say(String),
    Rich,
    File,
    Form,
    Annotation,
    Custom,
    System,
    Multicast,
    Props,
    Scopes,
    Seen,
    Close,
}

/// What the agent (`bot`) will do for a trigger, in order.
pub(crate) fn plan(
    store: &mut dyn Store,
    bot: &Agent,
    license: u64,
    trigger: &Trigger,
) -> store::Result<(ChatId, Vec<Step>)> {
    let mut member = |chat: &ChatId| -> store::Result<bool> {
        Ok(store.chat(license, chat)?.is_some_and(|c| c.agents.contains(&bot.id)))
    };
    Ok(match trigger {
        Trigger::NeedsAgent { chat } => {
            if member(chat)? {
                (chat.clone(), Vec::new())
            } else {
                let greet = "Hi! I'm Chatio Bot, the reference server's agent. Say anything, or /help.".to_owned();
                (chat.clone(), vec![Step::Join, Step::Say(greet)])
            }
        }
        Trigger::CustomerMessage { chat, text } => {
            let mut steps = answer(text);
            // After `/leave` the next message brings the agent back (as a router would).
            if !member(chat)? {
                steps.insert(0, Step::Join);
            }
            (chat.clone(), steps)
        }
    })
}

fn answer(text: &str) -> Vec<Step> {
    let t = text.trim();
    let (cmd, rest) = t.split_once(' ').unwrap_or((t, ""));
    // Typing on, the answer, typing off.
    let typed = |s: Step| vec![Step::Typing(true), s, Step::Typing(false)];
    match cmd {
        "/help" => typed(Step::Say(HELP.into())),
        "/rich" => typed(Step::Rich),
        "/file" => typed(Step::File),
        "/form" => vec![Step::Form],
        "/annotation" => vec![Step::Annotation],
        "/custom" => vec![Step::Custom],
        "/system" => vec![Step::System],
        "/multicast" => vec![Step::Multicast],
        "/props" => vec![Step::Props],
        "/scopes" => vec![Step::Scopes],
        "/seen" => vec![Step::Seen],
        "/typing" => vec![Step::Typing(true), Step::Typing(false)],
        "/close" => vec![Step::Say("Closing this thread. Write again to open a new one.".into()), Step::Close],
        "/leave" => vec![Step::Say("Bye!".into()), Step::Leave],
        "/echo" => typed(Step::Say(rest.to_owned())),
        c if c.starts_with('/') => typed(Step::Say(format!("Unknown command {c}. {HELP}"))),
        _ => typed(Step::Say(format!("You said: {t}"))),
    }
}

/// Applies one step of the agent `bot`. Steps on a chat that is gone, or needing an active
/// thread that is not there any more, do nothing.
#[allow(clippy::too_many_arguments)] // the step's whole context, each a plain value
pub(crate) fn apply(
    store: &mut dyn Store,
    quotas: &crate::config::Quotas,
    bot: &Agent,
    license: u64,
    chat_id: &ChatId,
    step: &Step,
    now: u64,
    public_url: &str,
) -> store::Result<Effects> {
    let mut fx = Effects::default();
    let bot_user = agent_user(Some(bot), &bot.id, None);
    // The agent's picture: one stored file per license (and server run) however often it is
    // asked for, so that its answers cost no more than the messages that ask (issue 21,
    // finding 4); its name comes from the OS random source, like every file's.
    let file = if *step == Step::File || *step == Step::Rich {
        let key = format!("/api/file/chatio/att/{license}/{}.png", picture_name(public_url));
        let size = match store.file(&key)? {
            Some(f) => f.bytes.len() as u64,
            None => {
                let png = files::sample_png(64, 48);
                let size = png.len() as u64;
                store.put_file(&key, FileRec { content_type: "image/png".into(), bytes: bytes::Bytes::from(png) })?;
                size
            }
        };
        Some((format!("{public_url}{key}"), size))
    } else {
        None
    };
    let Some(mut chat) = store.chat(license, chat_id)? else { return Ok(fx) };
    let customer = chat.customer.clone();
    let push = |fx: &mut Effects, push: Push| {
        fx.deliveries.push(Delivery { license, customer: customer.clone(), push, caused_by_request: false });
    };
    let active = store.last_thread(license, chat_id)?.filter(|t| t.active);
    let has_active = active.is_some();
    let event = |store: &mut dyn Store,
                 fx: &mut Effects,
                 chat: &mut ChatRec,
                 author: Option<&UserId>,
                 kind: EventKind|
     -> store::Result<()> {
        if let Some((thread, ev)) = add_agent_event(store, quotas, license, chat, author, kind, now)? {
            push(fx, Push::IncomingEvent(wire::IncomingEvent::new(chat_id.clone(), thread, ev)));
        }
        Ok(())
    };
    let me = Some(&bot.id);
    match step {
        Step::Join => {
            if !chat.agents.contains(&bot.id) && has_active {
                chat.agents.push(bot.id.clone());
                if let Some(mut t) = active {
                    t.add_user(&bot.id);
                    store.put_thread(license, chat_id, t)?;
                }
                let mut added = bot_user.clone();
                added.present = Some(true);
                push(
                    &mut fx,
                    Push::ChatUsersUpdated(wire::ChatUsersUpdated::new(
                        chat_id.clone(),
                        wire::UpdatedUsers::new(vec![added], Vec::new()),
                    )),
                );
                let text = format!("{} joined the chat", bot.name);
                let kind = EventKind::SystemMessage(wire::SystemMessage::new(text, "agent_joined"));
                event(store, &mut fx, &mut chat, None, kind)?;
            }
        }
        Step::Leave => {
            if chat.agents.contains(&bot.id) {
                chat.agents.retain(|a| a != &bot.id);
                push(
                    &mut fx,
                    Push::ChatUsersUpdated(wire::ChatUsersUpdated::new(
                        chat_id.clone(),
                        wire::UpdatedUsers::new(Vec::new(), vec![bot.id.clone()]),
                    )),
                );
                let text = format!("{} left the chat", bot.name);
                let kind = EventKind::SystemMessage(wire::SystemMessage::new(text, "agent_left"));
                event(store, &mut fx, &mut chat, None, kind)?;
            }
        }
        _ if !has_active => {}
        Step::Typing(on) => push(
            &mut fx,
            Push::IncomingTypingIndicator(wire::IncomingTypingIndicator::new(
                chat_id.clone(),
                wire::TypingIndicator::new(bot.id.clone(), Timestamp::from_secs(now), *on),
            )),
        ),
        Step::Say(text) => {
            event(store, &mut fx, &mut chat, me, EventKind::Message(wire::Message::new(text.clone())))?;
        }
        Step::Rich => {
            let mut image = wire::Image::new(file.as_ref().map(|f| f.0.clone()).unwrap_or_default());
            image.name = Some("chatio.png".into());
            image.content_type = Some("image/png".into());
            image.size = file.as_ref().map(|f| f.1);
            image.width = Some(64);
            image.height = Some(48);
            let mut card = wire::RichElement::new(
                "Do you like chatio-rs?",
                vec![wire::Button::new("Yes!", "like_yes"), wire::Button::new("Not yet", "like_no")],
            );
            card.subtitle = Some("Answer with a postback".into());
            card.image = Some(image);
            let more = wire::RichElement::new("Want the docs?", vec![wire::Button::new("Sure", "docs_yes")]);
            let kind = EventKind::RichMessage(wire::RichMessage::new("cards", vec![card, more]));
            event(store, &mut fx, &mut chat, me, kind)?;
        }
        Step::File => {
            if let Some((url, size)) = file {
                let mut f = wire::FileAttachment::new("chatio.png", url, "image/png", size);
                f.width = Some(64);
                f.height = Some(48);
                event(store, &mut fx, &mut chat, me, EventKind::File(f))?;
            }
        }
        Step::Form => {
            let mut name = wire::FormField::new("text", "name", "Your name");
            name.required = Some(true);
            name.value = Some("Chatio Bot".into());
            let mut purpose = wire::FormField::new("radio", "purpose", "Chat purpose");
            purpose.options = Some(vec![
                wire::FormOption::new("Support", "support", true),
                wire::FormOption::new("Sale", "sale", false),
            ]);
            let kind = EventKind::FilledForm(wire::FilledForm::new(vec![name, purpose]));
            event(store, &mut fx, &mut chat, me, kind)?;
        }
        Step::Annotation => {
            let kind =
                EventKind::Annotation(wire::Annotation::new("note", Some("The customer tried /annotation".into())));
            event(store, &mut fx, &mut chat, me, kind)?;
        }
        Step::Custom => {
            let kind = EventKind::Custom(wire::Custom::new(json!({"kind": "demo", "value": 42})));
            event(store, &mut fx, &mut chat, me, kind)?;
        }
        Step::System => {
            let text = format!("Chat assigned to {}", bot.name);
            let kind = EventKind::SystemMessage(wire::SystemMessage::new(text, "routing.assigned"));
            event(store, &mut fx, &mut chat, None, kind)?;
        }
        Step::Multicast => push(
            &mut fx,
            Push::IncomingMulticast(wire::IncomingMulticast::new(
                bot.id.clone(),
                json!({"announcement": "Multicast from Chatio Bot"}),
            )),
        ),
        Step::Props => {
            let chat_props = wire::Properties::new().with("bot", "mood", "cheerful");
            chat.properties.merge(&chat_props);
            push(&mut fx, Push::ChatPropertiesUpdated(wire::ChatPropertiesUpdated::new(chat_id.clone(), chat_props)));
            let thread_props = wire::Properties::new().with("bot", "topic", "demo");
            if let Some(mut t) = active {
                t.properties.merge(&thread_props);
                let tid = t.id.clone();
                store.put_thread(license, chat_id, t)?;
                push(
                    &mut fx,
                    Push::ChatThreadPropertiesUpdated(wire::ChatThreadPropertiesUpdated::new(
                        chat_id.clone(),
                        tid,
                        thread_props,
                    )),
                );
            }
        }
        Step::Scopes => {
            chat.scopes.insert(1);
            push(
                &mut fx,
                Push::ChatScopesUpdated(wire::ChatScopesUpdated::new(
                    chat_id.clone(),
                    wire::Scopes::groups([1]),
                    wire::Scopes::all(),
                )),
            );
        }
        Step::Seen => {
            let ts = Timestamp::from_secs(now);
            chat.last_seen.insert(bot.id.clone(), ts);
            push(
                &mut fx,
                Push::LastSeenTimestampUpdated(wire::LastSeenTimestampUpdated::new(
                    bot.id.clone(),
                    chat_id.clone(),
                    ts,
                )),
            );
        }
        Step::Close => {
            if let Some(mut t) = active {
                t.active = false;
                let tid = t.id.clone();
                store.put_thread(license, chat_id, t)?;
                push(&mut fx, Push::ThreadClosed(wire::ThreadClosed::new(chat_id.clone(), tid, Some(bot.id.clone()))));
            }
        }
    }
    store.put_chat(license, chat)?;
    Ok(fx)
}

/// The name of the agent's picture for the server at `public_url` in this process: 32 hex
/// characters from the OS random source, drawn once per server.
fn picture_name(public_url: &str) -> String {
    static NAMES: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<String, String>>> =
        std::sync::OnceLock::new();
    let names = NAMES.get_or_init(Default::default);
    let mut names = names.lock().unwrap_or_else(|e| e.into_inner());
    names.entry(public_url.to_owned()).or_insert_with(|| crate::identity::secret::random_hex(32)).clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans() {
        assert_eq!(answer("hello")[1], Step::Say("You said: hello".into()));
        assert_eq!(answer("/echo a b"), vec![Step::Typing(true), Step::Say("a b".into()), Step::Typing(false)]);
        assert_eq!(answer("/close").last(), Some(&Step::Close));
        assert!(matches!(&answer("/nope")[1], Step::Say(s) if s.starts_with("Unknown command /nope")));
    }
}
