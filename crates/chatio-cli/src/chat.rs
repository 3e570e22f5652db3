//! `chatio chat`: an interactive terminal client against any v0.5 server.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chatio_customer_sdk::{
    ChatId, Config, Credentials, CustomerData, CustomerSdk, EventId, EventKind, File, NewEvent, Pagination, Postback,
    Properties, Rating, SdkEvent, StartChat, ThreadId, TokenSource,
};
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};

use crate::render::{Mode, Renderer};

/// Options of `chatio chat`.
#[derive(clap::Args, Debug, Clone)]
pub struct ChatArgs {
    /// The server's base URL, e.g. `http://127.0.0.1:8080` (API and token endpoint).
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// The license number.
    #[arg(long, value_name = "N")]
    pub license: u64,
    /// The application client id sent to the token endpoint.
    #[arg(long, default_value = "chatio-cli", value_name = "ID")]
    pub client_id: String,
    /// Use this customer access token instead of asking the token endpoint.
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Your display name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Plain text, no colours.
    #[arg(long)]
    pub plain: bool,
}

const HELP: &str = "Type a line to send it. Commands: /history (older messages), /file PATH, /postback N \
(answer a rich message button), /close (close the thread), /new (start a new chat), /name NAME, /props key=value, \
/rate good|bad [comment], /seen, /help, /quit. Other /commands are sent as messages (the reference server's agent \
answers /help, /rich, /file, /close...).";

#[derive(Default)]
struct State {
    chat: Option<ChatId>,
    buttons: Vec<(ThreadId, EventId, String)>,
}

enum Input {
    Line(String),
    Eof,
    Interrupt,
}

/// Runs the client until `/quit`, end of input or Ctrl-C.
pub async fn run(args: ChatArgs) -> Result<(), String> {
    let color = !args.plain && console::Term::stdout().is_term();
    let out = Renderer::new(Mode::Text { color }).with_status_line(true);
    let mut config = Config::new(args.license, args.client_id.clone()).server(args.url.clone());
    if let Some(t) = &args.token {
        config = config.token(TokenSource::Static(Credentials::bearer(t.clone())));
    }
    if let Some(n) = &args.name {
        config = config.customer(CustomerData::new().name(n.clone()));
    }
    let sdk = CustomerSdk::init(config).map_err(|e| format!("cannot start: {e}"))?;
    let state = Arc::new(Mutex::new(State::default()));

    // Events: printed as they come; the chat to write to and rich message buttons are noted.
    let events = sdk.events();
    let (ev_out, ev_state) = (out.clone(), state.clone());
    let printer = async_std::task::spawn(async move {
        let mut events = events;
        while let Some(e) = events.next().await {
            note(&ev_state, &e);
            ev_out.event(&e);
        }
    });

    let (tx, mut rx) = mpsc::unbounded::<Input>();
    let ctrl = tx.clone();
    let _ = ctrlc::set_handler(move || {
        let _ = ctrl.unbounded_send(Input::Interrupt);
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

    out.step(&format!("connecting to {} (license {}); /help for commands", args.url, args.license));
    let mut history: Option<chatio_customer_sdk::ChatHistory> = None;
    while let Some(input) = rx.next().await {
        let line = match input {
            Input::Line(l) => l,
            Input::Eof | Input::Interrupt => break,
        };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "/quit" {
            break;
        }
        if let Err(e) = command(&out, &sdk, &state, &mut history, line).await {
            out.error(&e);
        }
    }
    out.step("bye");
    drop(history);
    sdk.destroy().await;
    let _ = printer.now_or_never();
    Ok(())
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
    let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| format!("cannot start a chat: {e}"))?;
    if let Ok(mut s) = state.lock() {
        s.chat = Some(chat.id.clone());
    }
    Ok(chat.id)
}

async fn command(
    out: &Renderer,
    sdk: &CustomerSdk,
    state: &Mutex<State>,
    history: &mut Option<chatio_customer_sdk::ChatHistory>,
    line: &str,
) -> Result<(), String> {
    let (cmd, rest) = line.split_once(' ').map_or((line, ""), |(c, r)| (c, r.trim()));
    match cmd {
        "/help" => out.step(HELP),
        "/new" => {
            let chat = sdk.start_chat(StartChat::new()).await.map_err(|e| e.to_string())?;
            if let Ok(mut s) = state.lock() {
                s.chat = Some(chat.id.clone());
            }
            *history = None;
            out.ok(&format!("new chat {}", chat.id));
        }
        "/history" => {
            let chat = current_chat(sdk, state, out).await?;
            if history.is_none() {
                *history = Some(sdk.chat_history(&chat).await.map_err(|e| e.to_string())?);
            }
            if let Some(h) = history.as_mut() {
                let page = h.next_page().await.map_err(|e| format!("history: {e}"))?;
                for e in &page.events {
                    out.event(&SdkEvent::NewEvent { chat: chat.clone(), event: e.clone() });
                }
                out.ok(&format!(
                    "{} older events{}",
                    page.events.len(),
                    if page.done { " (beginning of the chat)" } else { "" }
                ));
            }
        }
        "/file" => {
            if rest.is_empty() {
                return Err("usage: /file PATH".into());
            }
            let chat = current_chat(sdk, state, out).await?;
            let o = out.clone();
            let url = sdk
                .send_file(&chat, File::path(PathBuf::from(rest)))
                .on_progress(move |p| {
                    if p >= 1.0 {
                        o.step("upload 100%");
                    }
                })
                .await
                .map_err(|e| format!("upload failed: {e}"))?;
            out.ok(&format!("uploaded: {url}"));
        }
        "/postback" => {
            let n: usize = rest.parse().map_err(|_| "usage: /postback N (a button number of the last rich message)")?;
            let chat = current_chat(sdk, state, out).await?;
            let button = state.lock().ok().and_then(|s| s.buttons.get(n.wrapping_sub(1)).cloned());
            let Some((thread, event, id)) = button else {
                return Err(format!(
                    "no button {n}: the last rich message has {} buttons",
                    state.lock().map(|s| s.buttons.len()).unwrap_or(0)
                ));
            };
            sdk.send_rich_message_postback(&chat, &thread, &event, Postback::new(id.clone(), true))
                .await
                .map_err(|e| e.to_string())?;
            out.ok(&format!("postback `{id}` sent"));
        }
        "/close" => {
            let chat = current_chat(sdk, state, out).await?;
            sdk.close_thread(&chat).await.map_err(|e| e.to_string())?;
            out.ok("thread closed");
        }
        "/name" => {
            if rest.is_empty() {
                return Err("usage: /name NAME".into());
            }
            let u = sdk.update_customer(CustomerData::new().name(rest)).await.map_err(|e| e.to_string())?;
            out.ok(&format!("you are now {}", u.name.unwrap_or_default()));
        }
        "/props" => {
            let Some((k, v)) = rest.split_once('=') else {
                return Err("usage: /props key=value".into());
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
                .map_err(|e| e.to_string())?;
            out.ok(&format!("property cli.{} set", k.trim()));
        }
        "/rate" => {
            let (r, comment) = rest.split_once(' ').map_or((rest, None), |(r, c)| (r, Some(c)));
            let rating = match r {
                "good" => Rating::Good,
                "bad" => Rating::Bad,
                _ => return Err("usage: /rate good|bad [comment]".into()),
            };
            let chat = current_chat(sdk, state, out).await?;
            sdk.send_rating(&chat, rating, comment).await.map_err(|e| e.to_string())?;
            out.ok("rating sent");
        }
        "/seen" => {
            let chat = current_chat(sdk, state, out).await?;
            sdk.update_last_seen_timestamp(&chat, None).await.map_err(|e| e.to_string())?;
            out.ok("marked as seen");
        }
        "/chats" => {
            let s = sdk.chats_summary(Pagination::default()).await.map_err(|e| e.to_string())?;
            for c in &s.chats_summary {
                out.step(&format!(
                    "chat {} (last: {})",
                    c.id,
                    c.last_event.as_ref().and_then(|e| e.text()).unwrap_or("-")
                ));
            }
        }
        _ => {
            let chat = current_chat(sdk, state, out).await?;
            let _ = sdk.set_sneak_peek(&chat, line);
            sdk.send_event(&chat, NewEvent::message(line)).await.map_err(|e| format!("not sent: {e}"))?;
        }
    }
    Ok(())
}
