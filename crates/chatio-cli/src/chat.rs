//! `chatio chat`: an interactive terminal client against any v0.5 server.
//!
//! Every line typed is sent to the chat as it is, `/commands` included (they are the agent's:
//! the reference server's agent answers `/help`, `/rich`, `/file`, `/close`...). The client's
//! own commands start with a colon (`:help`, `:file PATH`, `:quit`...); `::text` sends
//! `:text`.

use std::collections::VecDeque;
use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
    /// With piped input: after the last line, keep showing what arrives (the agent's
    /// replies) until nothing came for this many seconds.
    #[arg(long, default_value_t = 3, value_name = "SECS")]
    pub wait: u64,
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
    route_among(line, COMMANDS)
}

/// [`route`] for a console with these colon commands (`chatio agent` has its own).
pub fn route_among<'a>(line: &'a str, commands: &[&str]) -> Line<'a> {
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
    if commands.contains(&word) { Line::Local(word, arg) } else { Line::Unknown(word) }
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

/// How a run of the client ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `:quit`, Ctrl-C, Ctrl-D or the end of the input, every command done.
    Done,
    /// Input was not a terminal and some commands failed (each was printed): exit non-zero.
    Failed(usize),
}

/// How long the client waits for the session to close after Ctrl-C or `:quit` before it
/// leaves anyway (it always lets go within a second).
const CLOSE_WAIT: Duration = Duration::from_millis(500);

/// With piped input, how long the client waits after the last line for a session that has
/// not connected yet (it keeps retrying meanwhile), before it gives up with an error.
const CONNECT_WAIT: Duration = Duration::from_secs(20);

/// Refused connections in a row after which the client says nothing listens there.
const REFUSED_HINT_AFTER: u32 = 3;

/// Runs the client until `:quit`, Ctrl-D, the end of the input or Ctrl-C, which interrupt
/// whatever a command is waiting for (a second Ctrl-C exits at once); `Err` when the session
/// cannot go on (with what to change).
///
/// With piped input every line is run in turn, then the client keeps showing what arrives
/// (the agent's replies) until nothing came for `--wait` seconds; a failed command makes the
/// outcome [`Outcome::Failed`].
pub async fn run(args: ChatArgs) -> Result<Outcome, String> {
    // Ctrl-C is caught before anything is shown: a user (or a test) who presses it as soon as
    // the first line appears gets a clean exit, never the default kill.
    let (tx, mut rx) = mpsc::unbounded::<Input>();
    on_ctrl_c(tx.clone(), || Input::Interrupt);
    let color = crate::term::color_stdout(args.plain);
    let interactive = std::io::stdin().is_terminal();
    let out = Renderer::new(Mode::Text { color }).with_status_line(true);
    let url = server_url(&args.url)?;
    if url != args.url {
        out.step(&format!("{} has no scheme: taken as {url} (a loopback address)", args.url));
    }
    let mut config = Config::new(args.license, args.client_id.clone()).server(url.clone());
    if let Some(t) = &args.token {
        config = config.token(TokenSource::Static(Credentials::bearer(t.clone())));
    }
    if let Some(n) = &args.name {
        config = config.customer(CustomerData::new().name(n.clone()));
    }
    out.step(&format!("connecting to {url} (license {}); :help for commands, :quit to leave", args.license));
    let sdk = CustomerSdk::init(config).map_err(|e| describe(&e))?;
    let state = Arc::new(Mutex::new(State::default()));
    let last_event = Arc::new(Mutex::new(Instant::now()));
    let connected = Arc::new(AtomicBool::new(false));

    // Events: printed as they come; the chat to write to and rich message buttons are noted;
    // refused connections in a row get a hint; an event that ends the session for good ends
    // the client.
    let events = sdk.events();
    let (ev_out, ev_state, ev_tx, ev_last) = (out.clone(), state.clone(), tx.clone(), last_event.clone());
    let ev_connected = connected.clone();
    let (license, static_token, ev_url) = (args.license, args.token.is_some(), url.clone());
    let printer = async_std::task::spawn(async move {
        let mut events = events;
        let mut refused = 0;
        while let Some(e) = events.next().await {
            if let Ok(mut t) = ev_last.lock() {
                *t = Instant::now();
            }
            note(&ev_state, &e);
            ev_out.event(&e);
            match &e {
                SdkEvent::Connected { .. } | SdkEvent::ConnectionRestored { .. } => {
                    refused = 0;
                    ev_connected.store(true, Ordering::Relaxed);
                }
                SdkEvent::Error(err) if connection_refused(err) => {
                    refused += 1;
                    if refused == REFUSED_HINT_AFTER {
                        ev_out.step(&format!(
                            "nothing is listening at {ev_url} ({refused} connections refused): is the server running, \
                             and is that its address? (`chatio server` prints its URL; :quit to leave)"
                        ));
                    }
                }
                _ => {}
            }
            if let Some(why) = fatal(&e, license, static_token) {
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

    let mut history: Option<chatio_customer_sdk::ChatHistory> = None;
    let mut typed: VecDeque<String> = VecDeque::new();
    let mut eof = false;
    let mut failed = 0;
    let result = 'session: loop {
        let line = match typed.pop_front() {
            Some(l) => l,
            None if eof => {
                let quiet = Duration::from_secs(args.wait);
                break 'session linger(&mut rx, &last_event, &connected, quiet).await.and_then(|()| {
                    if connected.load(Ordering::Relaxed) {
                        Ok(())
                    } else {
                        Err(format!("never connected to {url} within {} s", CONNECT_WAIT.as_secs()))
                    }
                });
            }
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
        let work = match route(&line) {
            Line::Empty => continue,
            Line::Local("quit", _) => break 'session Ok(()),
            Line::Local(cmd, arg) => command(&out, &sdk, &state, &mut history, cmd, arg).boxed_local(),
            Line::Send(text) => send(&out, &sdk, &state, text).boxed_local(),
            Line::Unknown(word) => futures::future::ready(Err(format!(
                "no command `:{word}` (:help lists them); to send the line as it is, start it with ::"
            )))
            .boxed_local(),
        };
        // The command runs while input is read: Ctrl-C, a session that cannot go on, and on a
        // terminal `:quit` and Ctrl-D interrupt it; other lines (and, piped, `:quit`) wait
        // their turn.
        let mut work = work.fuse();
        let r = loop {
            futures::select_biased! {
                input = rx.next() => match input {
                    Some(Input::Line(l)) if interactive && route(&l) == Line::Local("quit", "") => break 'session Ok(()),
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
    drop(history);
    // Closing politely, but never waiting long: the user asked to leave.
    let _ = futures::future::select(sdk.destroy().boxed(), async_std::task::sleep(CLOSE_WAIT).boxed()).await;
    let _ = printer.now_or_never();
    result.map(|()| if failed > 0 && !interactive { Outcome::Failed(failed) } else { Outcome::Done })
}

/// After piped input ended: shows what arrives until nothing came for `quiet` (or Ctrl-C),
/// waiting up to [`CONNECT_WAIT`] for a session that has not connected yet.
async fn linger(
    rx: &mut mpsc::UnboundedReceiver<Input>,
    last_event: &Mutex<Instant>,
    connected: &AtomicBool,
    quiet: Duration,
) -> Result<(), String> {
    let start = Instant::now();
    if let Ok(mut t) = last_event.lock() {
        *t = start;
    }
    loop {
        let since = last_event.lock().map(|t| t.elapsed()).unwrap_or(quiet);
        let waited = start.elapsed();
        let settled = connected.load(Ordering::Relaxed) || waited >= CONNECT_WAIT;
        if since >= quiet && settled {
            return Ok(());
        }
        let next = if since < quiet { quiet - since } else { (CONNECT_WAIT - waited).min(Duration::from_millis(200)) };
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

/// The server URL to use: as given when it has a scheme; `http://` added for a loopback
/// address without one (`localhost:8080`, `127.0.0.1:8080`); otherwise an error saying what
/// to type.
pub fn server_url(given: &str) -> Result<String, String> {
    let given = given.trim();
    if given.contains("://") {
        return Ok(given.to_owned());
    }
    let host = given.split('/').next().unwrap_or_default();
    let host = match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => host,
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let loopback =
        host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if loopback {
        Ok(format!("http://{given}"))
    } else if given.is_empty() {
        Err("--url is empty: give the server's base URL, like http://127.0.0.1:8080".to_owned())
    } else {
        Err(format!("--url {given} has no scheme: write http://{given} (or https://{given} for TLS)"))
    }
}

/// Whether an SDK error is a refused TCP connection (nothing listens at the address).
fn connection_refused(e: &Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if err.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused) {
            return true;
        }
        next = err.source();
    }
    false
}

/// Ctrl-C ends the client, interrupting whatever it waits for; a second Ctrl-C exits at once
/// (status 130). Through tokio's signal handling, which the reference server's CLI uses too:
/// no extra dependency, and a build shared with the examples.
pub(crate) fn on_ctrl_c<T: Send + 'static>(tx: mpsc::UnboundedSender<T>, interrupt: fn() -> T) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
    let second = |n: usize| {
        if n > 0 {
            eprintln!();
            std::process::exit(130);
        }
    };
    // Registered before returning: a Ctrl-C right after start is caught too.
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let Ok(mut sigint) = rt.block_on(async { signal(SignalKind::interrupt()) }) else { return };
        std::thread::spawn(move || {
            for n in 0.. {
                if rt.block_on(sigint.recv()).is_none() {
                    return;
                }
                second(n);
                let _ = tx.unbounded_send(interrupt());
            }
        });
    }
    #[cfg(not(unix))]
    std::thread::spawn(move || {
        for n in 0.. {
            if rt.block_on(tokio::signal::ctrl_c()).is_err() {
                return;
            }
            second(n);
            let _ = tx.unbounded_send(interrupt());
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

/// The chat a command works on, without starting one: only a message (or a file) starts a
/// chat.
fn existing_chat(state: &Mutex<State>) -> Result<ChatId, String> {
    state
        .lock()
        .ok()
        .and_then(|s| s.chat.clone())
        .ok_or_else(|| "no chat yet: type a message to start one (or :new)".to_owned())
}

/// The current chat, started when there is none (sending a message or a file).
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
            let chat = existing_chat(state)?;
            if history.is_none() {
                *history = Some(sdk.chat_history(&chat).await.map_err(|e| chat_error(state, &chat, "history", &e))?);
            }
            if let Some(h) = history.as_mut() {
                let page = h.next_page().await.map_err(|e| chat_error(state, &chat, "history", &e))?;
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
            let meta = std::fs::metadata(rest).map_err(|e| format!("cannot read {rest}: {e}"))?;
            if !meta.is_file() {
                return Err(format!("{rest} is not a file"));
            }
            let total = meta.len();
            let chat = current_chat(sdk, state, out).await?;
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
            let chat = existing_chat(state)?;
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
            let chat = existing_chat(state)?;
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
            let chat = existing_chat(state)?;
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
            let chat = existing_chat(state)?;
            sdk.send_rating(&chat, rating, comment).await.map_err(|e| chat_error(state, &chat, "rate", &e))?;
            out.ok("rating sent");
        }
        "seen" => {
            let chat = existing_chat(state)?;
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
    fn addresses_without_a_scheme_are_taken_as_http_on_loopback_and_hinted_elsewhere() {
        for (given, taken) in [
            ("localhost:8080", "http://localhost:8080"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("127.0.0.2", "http://127.0.0.2"),
            ("[::1]:8080", "http://[::1]:8080"),
            ("LOCALHOST:1/base", "http://LOCALHOST:1/base"),
            ("http://example.com", "http://example.com"),
            ("https://chat.example.com/x", "https://chat.example.com/x"),
        ] {
            assert_eq!(server_url(given).as_deref(), Ok(taken), "{given}");
        }
        let e = server_url("chat.example.com:8080").expect_err("no scheme, not loopback");
        assert!(e.contains("write http://chat.example.com:8080"), "{e}");
        assert!(server_url("10.0.0.1:80").is_err());
        assert!(server_url(" ").is_err());
    }

    #[test]
    fn a_refused_connection_is_told_apart() {
        let io = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let t = chatio_customer_sdk::transport::Error::Connect { url: "ws://127.0.0.1:9".into(), source: Box::new(io) };
        let e: Error = t.into_core(chatio_customer_sdk::Operation::Connect);
        assert!(connection_refused(&e));
        assert!(!connection_refused(&Error::Cancelled));
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
