//! `chatio chat`: an interactive terminal client against any v0.5 server.
//!
//! Every line typed is sent to the chat as it is, `/commands` included (they are the agent's:
//! the reference server's agent answers `/help`, `/rich`, `/file`, `/close`...). The client's
//! own commands start with a colon (`:help`, `:file PATH`, `:quit`...); `::text` sends
//! `:text`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chatio_customer_sdk::{
    ChatId, Config, Credentials, CustomerData, CustomerSdk, Error, ErrorType, EventId, EventKind, File, NewEvent,
    Pagination, Postback, Properties, Rating, SdkEvent, StartChat, ThreadId, TokenSource,
};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};

use crate::errors::{describe, fatal};
use crate::render::{Mode, Renderer, bytes, plural};

/// Options of `chatio chat`.
#[derive(clap::Args, Debug, Clone)]
pub struct ChatArgs {
    /// The server's base URL (API and token endpoint).
    #[arg(long, env = "CHATIO_URL", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub url: String,
    /// The license number.
    #[arg(long, env = "CHATIO_LICENSE", default_value_t = 100, value_name = "N")]
    pub license: u64,
    /// The application client id sent to the token endpoint.
    #[arg(long, default_value = "chatio-cli", value_name = "ID")]
    pub client_id: String,
    /// Use this customer access token instead of asking the token endpoint (better from the
    /// environment: it stays out of `ps`).
    #[arg(long, env = "CHATIO_TOKEN", hide_env_values = true, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Your display name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Plain text, no colours (also with NO_COLOR set, TERM=dumb, or output not a terminal).
    #[arg(long)]
    pub plain: bool,
}

/// `:help`: the truth about what a line does.
pub const HELP: &str = "\
Type a line and press Enter to send it to the chat, exactly as typed. Lines starting with /
are sent too: they are the agent's commands (the reference server's agent lists its own on
/help: /rich, /file, /form, /props, /scopes, /seen, /close, /leave...).
The client's own commands start with a colon:
  :help                  this text
  :history               older messages of the chat, a page at a time
  :file PATH             upload a file
  :postback N            answer button N of the last rich message
  :close                 close the current thread
  :new                   start a new chat
  :chats                 list your chats
  :name NAME             set your name
  :props KEY=VALUE       set the chat property cli.KEY
  :rate good|bad [TEXT]  rate the chat
  :seen                  mark the chat as seen
  :quit                  leave (also Ctrl-D or Ctrl-C)
  ::TEXT                 send :TEXT as it is";

/// The client's commands, as `:help` lists them.
const COMMANDS: &[&str] =
    &["help", "history", "file", "postback", "close", "new", "chats", "name", "props", "rate", "seen", "quit"];

/// What a typed line is.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// Nothing to do.
    Empty,
    /// Send this text to the chat.
    Send(&'a str),
    /// A local command and its argument (trimmed).
    Local(&'a str, &'a str),
    /// `:word` that is no command.
    Unknown(&'a str),
}

/// Routes a typed line: `:command args` is the client's, `::text` sends `:text`, anything
/// else (`/commands` included) is sent as it is.
pub fn route(line: &str) -> Line<'_> {
    if line.trim().is_empty() {
        return Line::Empty;
    }
    if let Some(rest) = line.strip_prefix("::") {
        return Line::Send(line.get(1..).filter(|_| !rest.is_empty()).unwrap_or(line));
    }
    let Some(rest) = line.trim().strip_prefix(':') else { return Line::Send(line) };
    let (word, arg) = rest.split_once(char::is_whitespace).map_or((rest, ""), |(w, a)| (w, a.trim()));
    if word.is_empty() || !word.chars().all(|c| c.is_ascii_alphabetic()) {
        return Line::Send(line); // `:)`, `: hello`...
    }
    if COMMANDS.contains(&word) { Line::Local(word, arg) } else { Line::Unknown(word) }
}

#[derive(Default)]
struct State {
    chat: Option<ChatId>,
    buttons: Vec<(ThreadId, EventId, String)>,
}

enum Input {
    Line(String),
    Eof,
    Interrupt,
    /// The session cannot go on (refused token, unknown license...).
    Fatal(String),
}

/// Runs the client until `:quit`, end of input or Ctrl-C (`Ok`), or until the session
/// cannot go on (`Err` with what to change).
pub async fn run(args: ChatArgs) -> Result<(), String> {
    let color = crate::term::color_stdout(args.plain);
    let out = Renderer::new(Mode::Text { color }).with_status_line(true);
    let mut config = Config::new(args.license, args.client_id.clone()).server(args.url.clone());
    if let Some(t) = &args.token {
        config = config.token(TokenSource::Static(Credentials::bearer(t.clone())));
    }
    if let Some(n) = &args.name {
        config = config.customer(CustomerData::new().name(n.clone()));
    }
    out.step(&format!("connecting to {} (license {}); :help for commands, :quit to leave", args.url, args.license));
    let sdk = CustomerSdk::init(config).map_err(|e| format!("cannot start: {}", describe(&e)))?;
    let state = Arc::new(Mutex::new(State::default()));
    let (tx, mut rx) = mpsc::unbounded::<Input>();

    // Events: printed as they come; the chat to write to and rich message buttons are noted;
    // an event that ends the session for good ends the client.
    let events = sdk.events();
    let (ev_out, ev_state, ev_tx) = (out.clone(), state.clone(), tx.clone());
    let (license, static_token) = (args.license, args.token.is_some());
    let printer = async_std::task::spawn(async move {
        let mut events = events;
        while let Some(e) = events.next().await {
            note(&ev_state, &e);
            ev_out.event(&e);
            if let Some(why) = fatal(&e, license, static_token) {
                let _ = ev_tx.unbounded_send(Input::Fatal(why));
            }
        }
    });

    on_ctrl_c(tx.clone());
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

    let mut history: Option<chatio_customer_sdk::ChatHistory> = None;
    let mut result = Ok(());
    while let Some(input) = rx.next().await {
        let line = match input {
            Input::Line(l) => l,
            Input::Eof | Input::Interrupt => break,
            Input::Fatal(why) => {
                result = Err(why);
                break;
            }
        };
        let r = match route(&line) {
            Line::Empty => continue,
            Line::Local("quit", _) => break,
            Line::Local(cmd, arg) => command(&out, &sdk, &state, &mut history, cmd, arg).await,
            Line::Send(text) => send(&out, &sdk, &state, text).await,
            Line::Unknown(word) => {
                Err(format!("no command `:{word}` (:help lists them); to send the line as it is, start it with ::"))
            }
        };
        if let Err(e) = r {
            out.error(&e);
        }
    }
    if result.is_ok() {
        out.step("bye");
    }
    drop(history);
    sdk.destroy().await;
    let _ = printer.now_or_never();
    result
}

/// Ctrl-C ends the client cleanly (through tokio's signal handling, which the reference
/// server's CLI uses too: no extra dependency, and a build shared with the examples).
fn on_ctrl_c(tx: mpsc::UnboundedSender<Input>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    // Registered before returning: a Ctrl-C right after start is caught too.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut sigint) = rt.block_on(async { signal(SignalKind::interrupt()) }) else { return };
        std::thread::spawn(move || {
            if rt.block_on(sigint.recv()).is_some() {
                let _ = tx.unbounded_send(Input::Interrupt);
            }
        });
    }
    #[cfg(not(unix))]
    std::thread::spawn(move || {
        if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
            let _ = tx.unbounded_send(Input::Interrupt);
        }
    });
}

/// Remembers the current chat and the rich message buttons.
fn note(state: &Mutex<State>, e: &SdkEvent) {
    let Ok(mut s) = state.lock() else { return };
    match e {
        SdkEvent::Connected { chats_summary, .. } if s.chat.is_none() => {
            s.chat = chats_summary.first().map(|c| c.id.clone());
        }
        SdkEvent::NewEvent { chat, event } => {
            if s.chat.is_none() {
                s.chat = Some(chat.clone());
            }
            if let (EventKind::RichMessage(r), Some(thread)) = (&event.kind, &event.thread) {
                s.buttons = r.buttons().map(|b| (thread.clone(), event.id.clone(), b.postback_id.clone())).collect();
            }
        }
        _ => {}
    }
}

async fn current_chat(sdk: &CustomerSdk, state: &Mutex<State>, out: &Renderer) -> Result<ChatId, String> {
    if let Some(c) = state.lock().ok().and_then(|s| s.chat.clone()) {
        return Ok(c);
    }
    out.step("starting a chat");
    let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| format!("cannot start a chat: {}", describe(&e)))?;
    out.ok(&format!("chat {} started", chat.id));
    if let Ok(mut s) = state.lock() {
        s.chat = Some(chat.id.clone());
    }
    Ok(chat.id)
}

/// An SDK error about the current chat, as a message; a chat the server no longer lets us
/// use (gone after a server restart, or not ours) is forgotten, so the next message starts
/// a new one.
fn chat_error(state: &Mutex<State>, chat: &ChatId, what: &str, e: &Error) -> String {
    let gone = matches!(e, Error::Server { kind: ErrorType::Authorization, .. });
    if gone {
        if let Ok(mut s) = state.lock() {
            if s.chat.as_ref() == Some(chat) {
                s.chat = None;
                s.buttons.clear();
            }
        }
        return format!(
            "{what}: {}. The chat {chat} cannot be used any more (did the server restart?): \
             your next message starts a new chat (or type :new)",
            describe(e)
        );
    }
    format!("{what}: {}", describe(e))
}

async fn send(out: &Renderer, sdk: &CustomerSdk, state: &Mutex<State>, text: &str) -> Result<(), String> {
    let chat = current_chat(sdk, state, out).await?;
    sdk.send_event(&chat, NewEvent::message(text)).await.map_err(|e| chat_error(state, &chat, "not sent", &e))?;
    Ok(())
}

async fn command(
    out: &Renderer,
    sdk: &CustomerSdk,
    state: &Mutex<State>,
    history: &mut Option<chatio_customer_sdk::ChatHistory>,
    cmd: &str,
    rest: &str,
) -> Result<(), String> {
    match cmd {
        "help" => out.block(HELP),
        "new" => {
            let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| describe(&e))?;
            if let Ok(mut s) = state.lock() {
                s.chat = Some(chat.id.clone());
                s.buttons.clear();
            }
            *history = None;
            out.ok(&format!("new chat {}", chat.id));
        }
        "history" => {
            let chat = current_chat(sdk, state, out).await?;
            if history.is_none() {
                *history = Some(sdk.chat_history(&chat).await.map_err(|e| chat_error(state, &chat, "history", &e))?);
            }
            if let Some(h) = history.as_mut() {
                let page = h.next().await.map_err(|e| chat_error(state, &chat, "history", &e))?;
                let mut thread = None;
                for e in &page.events {
                    if e.thread.is_some() && e.thread != thread {
                        thread.clone_from(&e.thread);
                        out.step(&format!("thread {}", e.thread.as_ref().map(ToString::to_string).unwrap_or_default()));
                    }
                    out.history_event(&chat, e);
                }
                let n = page.events.len();
                out.ok(&match (n, page.done) {
                    (0, _) => "no older events: this is the beginning of the chat".to_owned(),
                    (n, done) => format!(
                        "{n} older {}{}",
                        if n == 1 { "event" } else { "events" },
                        if done { " (the beginning of the chat)" } else { "; :history for more" }
                    ),
                });
            }
        }
        "file" => {
            if rest.is_empty() {
                return Err("usage: :file PATH".into());
            }
            let chat = current_chat(sdk, state, out).await?;
            let total = std::fs::metadata(rest).map_err(|e| format!("cannot read {rest}: {e}"))?.len();
            let (o, name, shown) = (out.clone(), rest.to_owned(), Arc::new(AtomicU64::new(0)));
            // A line per quarter, each once (the SDK may report a fraction more than once).
            let url = sdk
                .send_file(&chat, File::path(PathBuf::from(rest)))
                .on_progress(move |p| {
                    let quarter = (p.clamp(0.0, 1.0) * 4.0) as u64;
                    if quarter > 0 && shown.fetch_max(quarter, Ordering::Relaxed) < quarter {
                        o.progress(&name, total * quarter / 4, total);
                    }
                })
                .await
                .map_err(|e| chat_error(state, &chat, "upload failed", &e))?;
            out.ok(&format!("uploaded {} ({}): {url}", rest, bytes(total)));
        }
        "postback" => {
            let n: usize = rest.parse().map_err(|_| "usage: :postback N (a button number of the last rich message)")?;
            let chat = current_chat(sdk, state, out).await?;
            let button = state.lock().ok().and_then(|s| s.buttons.get(n.wrapping_sub(1)).cloned());
            let Some((thread, event, id)) = button else {
                return Err(format!(
                    "no button {n}: the last rich message has {}",
                    plural(state.lock().map(|s| s.buttons.len()).unwrap_or(0), "button")
                ));
            };
            sdk.send_rich_message_postback(&chat, &thread, &event, Postback::new(id.clone(), true))
                .await
                .map_err(|e| chat_error(state, &chat, "postback", &e))?;
            out.ok(&format!("postback `{id}` sent"));
        }
        "close" => {
            let chat = current_chat(sdk, state, out).await?;
            sdk.close_thread(&chat).await.map_err(|e| chat_error(state, &chat, "close", &e))?;
            out.ok("thread closed");
        }
        "name" => {
            if rest.is_empty() {
                return Err("usage: :name NAME".into());
            }
            let u = sdk.update_customer(CustomerData::new().name(rest)).await.map_err(|e| describe(&e))?;
            out.ok(&format!("you are now {}", u.name.unwrap_or_default()));
        }
        "props" => {
            let Some((k, v)) = rest.split_once('=') else {
                return Err("usage: :props KEY=VALUE".into());
            };
            let chat = current_chat(sdk, state, out).await?;
            let value = match v.trim().parse::<i32>() {
                Ok(n) => chatio_customer_sdk::PropertyValue::Int(n.into()),
                Err(_) => match v.trim() {
                    "true" => true.into(),
                    "false" => false.into(),
                    s => s.into(),
                },
            };
            sdk.update_chat_properties(&chat, Properties::new().with("cli", k.trim(), value))
                .await
                .map_err(|e| chat_error(state, &chat, "props", &e))?;
            out.ok(&format!("property cli.{} set", k.trim()));
        }
        "rate" => {
            let (r, comment) = rest.split_once(' ').map_or((rest, None), |(r, c)| (r, Some(c)));
            let rating = match r {
                "good" => Rating::Good,
                "bad" => Rating::Bad,
                _ => return Err("usage: :rate good|bad [comment]".into()),
            };
            let chat = current_chat(sdk, state, out).await?;
            sdk.send_rating(&chat, rating, comment).await.map_err(|e| chat_error(state, &chat, "rate", &e))?;
            out.ok("rating sent");
        }
        "seen" => {
            let chat = current_chat(sdk, state, out).await?;
            sdk.update_last_seen_timestamp(&chat, None).await.map_err(|e| chat_error(state, &chat, "seen", &e))?;
            out.ok("marked as seen");
        }
        "chats" => {
            let s = sdk.chats_summary(Pagination::default()).await.map_err(|e| describe(&e))?;
            if s.chats_summary.is_empty() {
                out.ok("no chats yet: type a message to start one");
            }
            for c in &s.chats_summary {
                out.step(&format!(
                    "chat {} (last: {})",
                    c.id,
                    c.last_event.as_ref().and_then(|e| e.text()).unwrap_or("-")
                ));
            }
        }
        other => return Err(format!("no command `:{other}`")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_routed_to_the_chat_or_the_client() {
        assert_eq!(route("hello"), Line::Send("hello"));
        assert_eq!(route("/help"), Line::Send("/help"), "the agent's commands are sent");
        assert_eq!(route("/close"), Line::Send("/close"));
        assert_eq!(route("/file"), Line::Send("/file"));
        assert_eq!(route(":help"), Line::Local("help", ""));
        assert_eq!(route(":file  a b.txt "), Line::Local("file", "a b.txt"));
        assert_eq!(route(" :quit"), Line::Local("quit", ""));
        assert_eq!(route(":nope x"), Line::Unknown("nope"));
        assert_eq!(route("::help"), Line::Send(":help"), ":: escapes");
        assert_eq!(route("::"), Line::Send("::"));
        assert_eq!(route(":)"), Line::Send(":)"));
        assert_eq!(route(": hi"), Line::Send(": hi"));
        assert_eq!(route("   "), Line::Empty);
    }

    #[test]
    fn the_help_lists_every_command() {
        for c in COMMANDS {
            assert!(HELP.contains(&format!("\n  :{c}")), "`:{c}` is missing from the help");
        }
        for agent in ["/help", "/rich", "/file", "/close"] {
            assert!(HELP.contains(agent), "{agent}");
        }
    }
}
