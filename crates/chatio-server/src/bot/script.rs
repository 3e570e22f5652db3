//! What the scripted agent ("Chatio Bot") does, as a pure function of what it hears on its
//! Agent API connection: the pushes of the chats it sees, reduced to [`Heard`], in, the
//! [`Step`]s to perform, in order, out. The client (`bot/mod.rs`) turns the steps into
//! Agent API requests.
//!
//! It joins every new customer chat (and every new thread of a chat it left), greets, and
//! answers each customer message after showing typing on and off. Messages starting with
//! `/` are commands that make it trigger every push of the protocol on demand; `/help`
//! lists them:
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

use std::collections::HashSet;

/// The commands, for `/help`.
pub(crate) const HELP: &str = "Commands: /rich (buttons), /file (an image), /form, /annotation, /custom, /system, \
/multicast, /props, /scopes, /seen, /typing, /close (close this thread), /leave, /echo TEXT. \
Anything else, I answer.";

/// The greeting after joining a chat.
pub(crate) const GREETING: &str = "Hi! I'm Chatio Bot, the reference server's agent. Say anything, or /help.";

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

/// What the bot heard, reduced to what it reacts to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Heard<'a> {
    /// `incoming_chat_thread`: a chat started or a thread opened. `customer_text` is the
    /// customer's last message in the new thread, if any; `has_customer` is false for a
    /// chat an agent started (the bot leaves those alone).
    NewThread { chat: &'a str, has_customer: bool, customer_text: Option<&'a str> },
    /// `incoming_event`: a customer message in an existing thread.
    CustomerMessage { chat: &'a str, text: &'a str },
    /// `chat_users_updated`: the bot was added to or removed from the chat (by itself or
    /// someone else).
    Membership { chat: &'a str, member: bool },
}

/// The bot's memory: the chats it is in.
#[derive(Debug, Default)]
pub(crate) struct Script {
    member_of: HashSet<String>,
}

impl Script {
    /// What to do after hearing `heard`, in order. Membership changes the steps cause are
    /// remembered at once (the pushes confirming them change nothing).
    pub(crate) fn react(&mut self, heard: &Heard<'_>) -> (String, Vec<Step>) {
        match heard {
            Heard::Membership { chat, member } => {
                if *member {
                    self.member_of.insert((*chat).to_owned());
                } else {
                    self.member_of.remove(*chat);
                }
                ((*chat).to_owned(), Vec::new())
            }
            Heard::NewThread { chat, has_customer: false, .. } => ((*chat).to_owned(), Vec::new()),
            Heard::NewThread { chat, customer_text, .. } => {
                let mut steps = Vec::new();
                if !self.member_of.contains(*chat) {
                    steps.push(Step::Join);
                    steps.push(Step::Say(GREETING.to_owned()));
                }
                if let Some(text) = customer_text {
                    steps.extend(answer(text));
                }
                self.track(chat, &steps);
                ((*chat).to_owned(), steps)
            }
            Heard::CustomerMessage { chat, text } => {
                let mut steps = answer(text);
                // After `/leave` the next message brings the agent back (as a router would).
                if !self.member_of.contains(*chat) {
                    steps.insert(0, Step::Join);
                }
                self.track(chat, &steps);
                ((*chat).to_owned(), steps)
            }
        }
    }

    fn track(&mut self, chat: &str, steps: &[Step]) {
        for s in steps {
            match s {
                Step::Join => {
                    self.member_of.insert(chat.to_owned());
                }
                Step::Leave => {
                    self.member_of.remove(chat);
                }
                _ => {}
            }
        }
    }
}

/// The answer to a customer message.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert_eq!(answer("hello")[1], Step::Say("You said: hello".into()));
        assert_eq!(answer("/echo a b"), vec![Step::Typing(true), Step::Say("a b".into()), Step::Typing(false)]);
        assert_eq!(answer("/close").last(), Some(&Step::Close));
        assert!(matches!(&answer("/nope")[1], Step::Say(s) if s.starts_with("Unknown command /nope")));
    }

    #[test]
    fn joins_once_greets_once_and_comes_back_after_leave() {
        let mut s = Script::default();
        let (_, steps) = s.react(&Heard::NewThread { chat: "C", has_customer: true, customer_text: Some("hi") });
        assert_eq!(&steps[..2], &[Step::Join, Step::Say(GREETING.into())]);
        assert_eq!(steps[3], Step::Say("You said: hi".into()));
        // A new thread of a chat it is in: no join, no greeting.
        let (_, steps) = s.react(&Heard::NewThread { chat: "C", has_customer: true, customer_text: Some("again") });
        assert_eq!(steps[0], Step::Typing(true));
        let (_, steps) = s.react(&Heard::CustomerMessage { chat: "C", text: "/leave" });
        assert_eq!(steps.last(), Some(&Step::Leave));
        let (_, steps) = s.react(&Heard::CustomerMessage { chat: "C", text: "back?" });
        assert_eq!(steps[0], Step::Join, "rejoins before answering, without a greeting");
        assert_eq!(steps.len(), 4);
        // Removed by someone else: the next message brings it back too.
        s.react(&Heard::Membership { chat: "C", member: false });
        assert_eq!(s.react(&Heard::CustomerMessage { chat: "C", text: "x" }).1[0], Step::Join);
        // Chats an agent started are left alone.
        assert!(s.react(&Heard::NewThread { chat: "A", has_customer: false, customer_text: None }).1.is_empty());
    }
}
