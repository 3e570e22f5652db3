//! `chatio agent`: a terminal console for a person answering chats (Agent API v0.5).
//!
//! It logs in with an agent token and shows what happens in the agent's chats as it comes:
//! chats routed to the agent or waiting in the queue (numbered `#1`, `#2`...), the visitors'
//! messages, their typing and sneak peeks. A typed line is a reply to the current chat; the
//! console's own commands start with a colon (`:chats`, `:take 2`, `:close`...), as in
//! `chatio chat`; `::text` sends `:text`.

mod commands;
mod show;

use std::collections::{HashMap, VecDeque};
use std::io::IsTerminal as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatio_agent_sdk::{AgentEvent, AgentSdk, AgentToken, ChatId, Config, UserId};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};

use crate::chat::{Line, route_among};
use crate::errors::describe;
use crate::render::{Mode, Renderer};

/// Options of `chatio agent`.
#[derive(clap::Args, Debug, Clone)]
pub struct AgentArgs {
    /// The server's base URL.
    #[arg(long, env = "CHATIO_URL", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub url: String,
    /// The agent's access token (`chatio server --agent-token EMAIL=TOKEN` gives one; better
    /// from the environment: it stays out of `ps`). The server's form, `EMAIL=TOKEN[,...]`,
    /// is read too: the first agent's token is used.
    #[arg(long, env = "CHATIO_AGENT_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: String,
    /// Plain text, no colours (also with NO_COLOR set, TERM=dumb, or output not a terminal).
    #[arg(long)]
    pub plain: bool,
    /// With piped input: after the last line, keep showing what arrives until nothing came
    /// for this many seconds.
    #[arg(long, default_value_t = 3, value_name = "SECS")]
    pub wait: u64,
}

/// `:help`.
pub const HELP: &str = "\
Type a line and press Enter to reply in the current chat, exactly as typed. Chats are
numbered as they appear (#1, #2...); N below is such a number (or a chat id).
The console's own commands start with a colon:
  :help                  this text
  :chats                 your chats and the waiting ones
  :take N                take waiting chat N; it becomes the current chat
  :open N                make chat N the current chat and show its conversation (read)
  :history               the current chat's conversation, every thread
  :whisper TEXT          a message only agents see
  :file PATH             send an image (PNG, GIF or JPEG, up to 10 MiB)
  :seen                  mark the current chat as seen
  :close                 close the current chat's thread
  :leave                 give the current chat back to the queue
  :ban DAYS              ban the current chat's customer for DAYS days (1 to 3650)
  :status on|off         take routed chats (accepting_chats) or not
  :quit                  leave (also Ctrl-D or Ctrl-C)
  ::TEXT                 send :TEXT as it is";

/// The console's commands, as `:help` lists them.
const COMMANDS: &[&str] =
    &["help", "chats", "take", "open", "history", "whisper", "file", "seen", "close", "leave", "ban", "status", "quit"];

/// What the console remembers: chat numbers, the current chat, names.
#[derive(Default)]
pub(crate) struct Console {
    /// `#n` is `numbers[n - 1]`.
    numbers: Vec<ChatId>,
    current: Option<ChatId>,
    names: HashMap<UserId, String>,
    me: Option<UserId>,
    /// This agent's routing status, as last shown.
    status: Option<chatio_agent_sdk::RoutingStatus>,
}

impl Console {
    /// The chat's number, given one the first time it is seen.
    pub(crate) fn number(&mut self, chat: &ChatId) -> usize {
        match self.numbers.iter().position(|c| c == chat) {
            Some(i) => i + 1,
            None => {
                self.numbers.push(chat.clone());
                self.numbers.len()
            }
        }
    }

    /// The chat a user wrote: `N`, `#N` or a chat id.
    pub(crate) fn chat_named(&self, arg: &str) -> Result<ChatId, String> {
        let arg = arg.trim();
        if arg.is_empty() {
            return Err("which chat? give its number (:chats lists them)".into());
        }
        if let Ok(n) = arg.trim_start_matches('#').parse::<usize>() {
            return self
                .numbers
                .get(n.wrapping_sub(1))
                .cloned()
                .ok_or_else(|| format!("no chat #{n} (:chats lists them)"));
        }
        Ok(ChatId::from(arg))
    }

    pub(crate) fn name(&self, id: &UserId) -> String {
        if self.me.as_ref() == Some(id) {
            return "you".into();
        }
        self.names.get(id).cloned().unwrap_or_else(|| id.to_string())
    }
}

pub(crate) type Shared = Arc<Mutex<Console>>;

pub(crate) fn lock(c: &Shared) -> std::sync::MutexGuard<'_, Console> {
    c.lock().unwrap_or_else(|e| e.into_inner())
}

enum Input {
    Line(String),
    Eof,
    Interrupt,
    Fatal(String),
}

/// How long the console waits for the session to close when leaving.
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// With piped input, how long the console waits for a session that has not logged in yet.
const CONNECT_WAIT: Duration = Duration::from_secs(20);

/// Runs the console until `:quit`, Ctrl-D, the end of the input or Ctrl-C; `Err` when the
/// session cannot go on (a refused token, an unusable URL).
///
/// # Errors
/// What to change, as a sentence.
pub async fn run(args: AgentArgs) -> Result<crate::chat::Outcome, String> {
    // Ctrl-C is caught before anything is shown (see `chat::run`).
    let (tx, mut rx) = mpsc::unbounded::<Input>();
    crate::chat::on_ctrl_c(tx.clone(), || Input::Interrupt);
    let color = crate::term::color_stdout(args.plain);
    let interactive = std::io::stdin().is_terminal();
    let out = Renderer::new(Mode::Text { color }).with_status_line(true);
    let url = crate::chat::server_url(&args.url)?;
    let config = Config::new(url.clone(), AgentToken::bearer(token_of(&args.token)?))
        .application("chatio agent", env!("CARGO_PKG_VERSION"));
    out.step(&format!("connecting to {url} as an agent; :help for commands, :quit to leave"));
    let sdk = AgentSdk::init(config).map_err(|e| describe(&e))?;
    let console: Shared = Arc::default();
    let last_event = Arc::new(Mutex::new(Instant::now()));

    let events = sdk.events();
    let (ev_out, ev_console, ev_tx, ev_last) = (out.clone(), console.clone(), tx.clone(), last_event.clone());
    let printer = async_std::task::spawn(async move {
        let mut events = events;
        while let Some(e) = events.next().await {
            if let Ok(mut t) = ev_last.lock() {
                *t = Instant::now();
            }
            show::event(&ev_out, &ev_console, &e);
            if let Some(why) = fatal(&e) {
                let _ = ev_tx.unbounded_send(Input::Fatal(why));
            }
        }
    });

    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        let mut line = String::new();
        loop {
            line.clear();
            match stdin.read_line(&mut line) {
                Ok(0) | Err(_) => {
                    let _ = tx.unbounded_send(Input::Eof);
                    return;
                }
                Ok(_) => {
                    if tx.unbounded_send(Input::Line(line.trim_end_matches(['\r', '\n']).to_owned())).is_err() {
                        return;
                    }
                }
            }
        }
    });

    let mut typed: VecDeque<String> = VecDeque::new();
    let mut eof = false;
    let mut failed = 0;
    let result = 'session: loop {
        let line = match typed.pop_front() {
            Some(l) => l,
            None if eof => break 'session linger(&sdk, &mut rx, &last_event, Duration::from_secs(args.wait)).await,
            None => match rx.next().await {
                Some(Input::Line(l)) => l,
                Some(Input::Eof) if interactive => break 'session Ok(()),
                Some(Input::Eof) => {
                    eof = true;
                    continue;
                }
                Some(Input::Interrupt) | None => break 'session Ok(()),
                Some(Input::Fatal(why)) => break 'session Err(why),
            },
        };
        let work = match route_among(&line, COMMANDS) {
            Line::Empty => continue,
            Line::Local("quit", _) => break 'session Ok(()),
            Line::Local(cmd, arg) => commands::run(&out, &sdk, &console, cmd, arg).boxed_local(),
            Line::Send(text) => commands::reply(&sdk, &console, text).boxed_local(),
            Line::Unknown(word) => futures::future::ready(Err(format!(
                "no command `:{word}` (:help lists them); to send the line as it is, start it with ::"
            )))
            .boxed_local(),
        };
        // As in `chatio chat`: Ctrl-C, a session that cannot go on, and on a terminal `:quit`
        // and Ctrl-D interrupt a command; other lines wait their turn.
        let mut work = work.fuse();
        let r = loop {
            futures::select_biased! {
                input = rx.next() => match input {
                    Some(Input::Line(l)) if interactive && route_among(&l, COMMANDS) == Line::Local("quit", "") => {
                        break 'session Ok(())
                    }
                    Some(Input::Line(l)) => typed.push_back(l),
                    Some(Input::Eof) if interactive => break 'session Ok(()),
                    Some(Input::Eof) => eof = true,
                    Some(Input::Interrupt) | None => break 'session Ok(()),
                    Some(Input::Fatal(why)) => break 'session Err(why),
                },
                r = work => break r,
            }
        };
        if let Err(e) = r {
            failed += 1;
            out.error(&e);
        }
    };
    if result.is_ok() {
        out.step("bye");
    }
    let _ = futures::future::select(sdk.destroy().boxed(), async_std::task::sleep(CLOSE_WAIT).boxed()).await;
    let _ = printer.now_or_never();
    result.map(|()| {
        if failed > 0 && !interactive { crate::chat::Outcome::Failed(failed) } else { crate::chat::Outcome::Done }
    })
}

/// After piped input ended: shows what arrives until nothing came for `quiet` (or Ctrl-C);
/// an error if the session never logged in within [`CONNECT_WAIT`].
async fn linger(
    sdk: &AgentSdk,
    rx: &mut mpsc::UnboundedReceiver<Input>,
    last_event: &Mutex<Instant>,
    quiet: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    loop {
        let since = last_event.lock().map(|t| t.elapsed()).unwrap_or(quiet).min(start.elapsed());
        let connected = sdk.is_connected();
        if since >= quiet && connected {
            return Ok(());
        }
        if !connected && start.elapsed() >= CONNECT_WAIT {
            return Err(format!("never logged in within {} s", CONNECT_WAIT.as_secs()));
        }
        let next = quiet.saturating_sub(since).max(Duration::from_millis(50)).min(Duration::from_millis(200));
        let mut tick = async_std::task::sleep(next).boxed().fuse();
        futures::select_biased! {
            input = rx.next() => match input {
                Some(Input::Fatal(why)) => return Err(why),
                Some(Input::Interrupt) | None => return Ok(()),
                Some(Input::Line(_) | Input::Eof) => {}
            },
            () = tick => {}
        }
    }
}

/// The token of `--token`: as given, or the first token of the server's `EMAIL=TOKEN,...`
/// form (the same environment variable can serve `chatio server` and `chatio agent`).
fn token_of(given: &str) -> Result<String, String> {
    let first = given.split(',').next().unwrap_or_default().trim();
    let token = match first.split_once('=') {
        Some((email, token)) if email.contains('@') => token,
        _ => first,
    };
    if token.is_empty() {
        return Err("--token is empty: give the agent's access token (or set CHATIO_AGENT_TOKEN)".into());
    }
    Ok(token.to_owned())
}

/// `Some(what to change)` for an event after which the console cannot go on.
fn fatal(e: &AgentEvent) -> Option<String> {
    use chatio_agent_sdk::Error;
    match e {
        AgentEvent::Disconnected { reason } if reason.is_final() => {
            Some(format!("the server ended the session: {reason}"))
        }
        AgentEvent::Error(err @ Error::Authentication { .. }) => {
            Some(format!("the server refused the token: {}; check --token or CHATIO_AGENT_TOKEN", describe(err)))
        }
        AgentEvent::Error(Error::Server { kind: chatio_agent_sdk::ErrorType::Authentication, .. }) => {
            Some("the server refused the token; check --token or CHATIO_AGENT_TOKEN".into())
        }
        AgentEvent::Error(err @ Error::Transport(t))
            if !t.is_transient() && matches!(t.operation(), chatio_agent_sdk::Operation::Connect) =>
        {
            Some(format!("{}; check --url or CHATIO_URL (the server's base URL)", describe(err)))
        }
        AgentEvent::Error(err @ Error::Config { .. }) => Some(describe(err)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_help_lists_every_command() {
        for c in COMMANDS {
            assert!(HELP.contains(&format!("\n  :{c}")), "`:{c}` is missing from the help");
        }
    }

    #[test]
    fn the_token_is_read_alone_or_in_the_servers_form() {
        assert_eq!(token_of("abc=="), Ok("abc==".to_owned()), "a base64 token keeps its `=`");
        assert_eq!(token_of("jane@example.com=tok-1234"), Ok("tok-1234".to_owned()));
        assert_eq!(token_of("jane@example.com=tok-1,john@example.com=tok-2"), Ok("tok-1".to_owned()));
        assert!(token_of(" ").is_err());
        assert!(token_of("jane@example.com=").is_err());
    }

    #[test]
    fn chats_are_named_by_number_or_id() {
        let mut c = Console::default();
        let a = ChatId::from("A");
        assert_eq!(c.number(&a), 1);
        assert_eq!(c.number(&ChatId::from("B")), 2);
        assert_eq!(c.number(&a), 1, "a chat keeps its number");
        assert_eq!(c.chat_named("1"), Ok(a.clone()));
        assert_eq!(c.chat_named(" #2 "), Ok(ChatId::from("B")));
        assert!(c.chat_named("3").is_err_and(|e| e.contains("no chat #3")));
        assert!(c.chat_named("0").is_err());
        assert_eq!(c.chat_named("XYZ"), Ok(ChatId::from("XYZ")));
        assert!(c.chat_named("").is_err());
    }

    #[test]
    fn lines_are_replies_unless_they_are_the_consoles_commands() {
        assert_eq!(route_among("hello", COMMANDS), Line::Send("hello"));
        assert_eq!(route_among(":take 2", COMMANDS), Line::Local("take", "2"));
        assert_eq!(route_among(":whisper  a b ", COMMANDS), Line::Local("whisper", "a b"));
        assert_eq!(route_among(":rate good", COMMANDS), Line::Unknown("rate"), "a customer command");
        assert_eq!(route_among("::take", COMMANDS), Line::Send(":take"));
    }
}
