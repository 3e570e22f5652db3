//! `chatio demo`: the reference server and the SDK in one process, playing a short scripted
//! conversation that shows each capability as it happens.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_std::future::timeout;
use chatio_customer_sdk::{
    ChatId, Config, CustomerData, CustomerSdk, EventKind, File, NewEvent, Postback, Properties, Rating, SdkEvent,
    StartChat,
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::errors::{describe, fatal};
use crate::render::{Mode, Renderer, bytes, clock, plural};

/// Options of `chatio demo`.
#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Use a running server (e.g. `http://127.0.0.1:8080`) instead of starting one in-process.
    #[arg(long, env = "CHATIO_URL", value_name = "URL")]
    pub url: Option<String>,
    /// The license to use.
    #[arg(long, env = "CHATIO_LICENSE", default_value_t = 100, value_name = "N")]
    pub license: u64,
    /// Plain text, no colours or progress bar (also with NO_COLOR set, TERM=dumb, or output
    /// not a terminal).
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// Print JSON lines, each with a `type`: `title`, `step`, `ok`, `error`, `progress` or
    /// `event` (the SDK event, chat events with their whole content).
    #[arg(long)]
    pub json: bool,
    /// How long the in-process agent waits before each of its steps (milliseconds).
    #[arg(long, default_value_t = 120, value_name = "MS")]
    pub agent_delay_ms: u64,
}

/// Reads the event stream, printing every event in the order it came, until one matches.
struct Waiter {
    events: chatio_customer_sdk::Events,
    out: Renderer,
    deadline: Duration,
    license: u64,
}

impl Waiter {
    async fn until<T>(&mut self, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> Result<T, String> {
        let wait = async {
            while let Some(e) = self.events.next().await {
                self.out.event(&e);
                if let Some(t) = f(&e) {
                    return Ok(t);
                }
                if let Some(why) = fatal(&e, self.license, false) {
                    return Err(format!("{why} (while waiting for {what})"));
                }
            }
            Err(format!("the session ended while waiting for {what}"))
        };
        timeout(self.deadline, wait)
            .await
            .map_err(|_| format!("timed out after {:?} waiting for {what}", self.deadline))?
    }

    /// Prints what has arrived so far (waiting at most `quiet` for more).
    async fn drain(&mut self, quiet: Duration) {
        while let Ok(Some(e)) = timeout(quiet, self.events.next()).await {
            self.out.event(&e);
        }
    }
}

fn agent_says(text: &str) -> impl FnMut(&SdkEvent) -> Option<()> + '_ {
    move |e| match e {
        SdkEvent::NewEvent { event, .. } if event.text().is_some_and(|t| t.contains(text)) => Some(()),
        _ => None,
    }
}

/// Runs the demo; `Err` carries a message saying what failed.
pub async fn run(args: DemoArgs) -> Result<(), String> {
    let started = Instant::now();
    let color = crate::term::color_stdout(args.plain);
    let mode = if args.json { Mode::Json } else { Mode::Text { color } };
    let out = Renderer::new(mode);
    let server = match &args.url {
        Some(_) => None,
        None => Some(
            chatio_server::Server::builder()
                .ephemeral()
                .agent_delay(Duration::from_millis(args.agent_delay_ms))
                .licenses([args.license])
                .start()
                .await
                .map_err(|e| format!("cannot start the reference server: {}", describe(&e)))?,
        ),
    };
    let url = match (&args.url, &server) {
        (Some(u), _) => u.clone(),
        (None, Some(s)) => s.http_url(),
        (None, None) => return Err("no server".into()),
    };
    out.title("chatio demo: the Rust SDK for the chat.io Customer API v0.5");
    out.step(&format!("{} at {url}", if args.url.is_some() { "server" } else { "reference server" }));
    let result = script(&out, &url, args.license).await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    match result {
        Ok(()) => {
            out.ok(&format!("demo finished in {:.1} s", started.elapsed().as_secs_f64()));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

async fn script(out: &Renderer, url: &str, license: u64) -> Result<(), String> {
    out.step("creating a customer through the token endpoint and connecting");
    let config = Config::new(license, "chatio-demo")
        .server(url)
        .redirect_uri("http://localhost/chatio-demo")
        .customer(CustomerData::new().name("Demo Customer"))
        // Small history pages, so that paging back shows one thread per page.
        .history_page_events(2);
    let sdk = CustomerSdk::init(config).map_err(|e| format!("cannot start the SDK: {}", describe(&e)))?;
    let mut waiter = Waiter { events: sdk.events(), out: out.clone(), deadline: Duration::from_secs(10), license };
    let r = conversation(out, &sdk, &mut waiter).await;
    waiter.drain(Duration::from_millis(50)).await;
    sdk.destroy().await;
    r
}

async fn conversation(out: &Renderer, sdk: &CustomerSdk, w: &mut Waiter) -> Result<(), String> {
    w.until("the connection", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await?;
    sdk.customer_id().ok_or("no customer id after connecting")?;
    out.ok("logged in");

    out.step("starting a chat with a first message");
    let chat = sdk
        .start_chat(StartChat::with_events(vec![NewEvent::message("Hi! I'm trying the Rust SDK.")]))
        .await
        .map_err(|e| format!("start_chat failed: {}", describe(&e)))?;
    let chat_id = chat.id.clone();
    out.ok(&format!(
        "chat {} started (thread {})",
        chat.id,
        chat.threads.first().map(|t| t.id.to_string()).unwrap_or_default()
    ));
    for event in chat.threads.iter().flat_map(|t| &t.events) {
        out.event(&SdkEvent::NewEvent { chat: chat_id.clone(), event: event.clone() });
    }
    w.until("the agent to join", |e| matches!(e, SdkEvent::UserJoinedChat { .. }).then_some(())).await?;
    w.until("the agent to type", |e| matches!(e, SdkEvent::UserIsTyping { .. }).then_some(())).await?;
    w.until("the agent's answer", agent_says("You said:")).await?;

    out.step("sending a message");
    say(out, sdk, &chat_id, "What can you do?").await?;
    w.until("the agent's answer", agent_says("You said: What can you do?")).await?;

    out.step("asking for a rich message (/rich)");
    say(out, sdk, &chat_id, "/rich").await?;
    let (thread, event, button) = w
        .until("a rich message", |e| match e {
            SdkEvent::NewEvent { event, .. } => match &event.kind {
                EventKind::RichMessage(r) => {
                    let b = r.buttons().next()?;
                    Some((event.thread.clone()?, event.id.clone(), b.postback_id.clone()))
                }
                _ => None,
            },
            _ => None,
        })
        .await?;
    out.step(&format!("answering the first button with a postback (`{button}`)"));
    sdk.send_rich_message_postback(&chat_id, &thread, &event, Postback::new(button, true))
        .await
        .map_err(|e| format!("postback failed: {}", describe(&e)))?;
    out.ok("postback accepted");

    w.drain(Duration::from_millis(20)).await;
    upload(out, sdk, &chat_id).await?;
    w.until("the file event", |e| match e {
        SdkEvent::NewEvent { event, .. } => matches!(event.kind, EventKind::File(_)).then_some(()),
        _ => None,
    })
    .await?;

    out.step("setting a chat property and asking the agent for properties (/props)");
    sdk.update_chat_properties(&chat_id, Properties::new().with("demo", "step", 7))
        .await
        .map_err(|e| format!("update_chat_properties failed: {}", describe(&e)))?;
    say(out, sdk, &chat_id, "/props").await?;
    w.until("the thread properties", |e| matches!(e, SdkEvent::ChatThreadPropertiesUpdated { .. }).then_some(()))
        .await?;

    out.step("marking the chat as seen, and asking the agent to do the same (/seen)");
    let seen = sdk
        .update_last_seen_timestamp(&chat_id, None)
        .await
        .map_err(|e| format!("update_last_seen_timestamp failed: {}", describe(&e)))?;
    out.ok(&format!("last seen stored: {}", clock(seen)));
    say(out, sdk, &chat_id, "/seen").await?;
    w.until("the agent's last-seen update", |e| matches!(e, SdkEvent::LastSeenTimestampUpdated { .. }).then_some(()))
        .await?;

    out.step("asking the agent to close the thread (/close)");
    say(out, sdk, &chat_id, "/close").await?;
    w.until("the thread to close", |e| matches!(e, SdkEvent::ThreadClosed { .. }).then_some(())).await?;

    out.step("writing again: a new thread opens");
    say(out, sdk, &chat_id, "One more question, please.").await?;
    w.until("the agent's answer", agent_says("You said: One more question")).await?;

    w.drain(Duration::from_millis(20)).await;
    out.step("paging the history back");
    let mut history = sdk.chat_history(&chat_id).await.map_err(|e| format!("chat_history failed: {}", describe(&e)))?;
    let mut pages = 0;
    let mut total = 0;
    loop {
        let page = history.next_page().await.map_err(|e| format!("history failed: {}", describe(&e)))?;
        w.drain(Duration::from_millis(5)).await;
        if !page.events.is_empty() {
            pages += 1;
            total += page.events.len();
            let first = page.events.first().and_then(|e| e.text()).unwrap_or("");
            out.ok(&format!("history page {pages}: {}, starting with “{first}”", plural(page.events.len(), "event")));
        }
        if page.done {
            break;
        }
    }
    out.ok(&format!("whole history loaded: {} in {}", plural(total, "event"), plural(pages, "page")));

    out.step("rating the chat");
    sdk.send_rating(&chat_id, Rating::Good, Some("Great demo!"))
        .await
        .map_err(|e| format!("send_rating failed: {}", describe(&e)))?;
    out.ok("rated good");
    Ok(())
}

/// Sends a message and prints it (the server does not push our own messages back to us).
async fn say(out: &Renderer, sdk: &CustomerSdk, chat: &ChatId, text: &str) -> Result<(), String> {
    let event = sdk.send_message(chat, text).await.map_err(|e| format!("send_message failed: {}", describe(&e)))?;
    out.event(&SdkEvent::NewEvent { chat: chat.clone(), event });
    Ok(())
}

async fn upload(out: &Renderer, sdk: &CustomerSdk, chat: &ChatId) -> Result<(), String> {
    const NAME: &str = "chatio-demo.bin";
    let size: u64 = 3 * 1024 * 1024;
    let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    out.step(&format!("uploading a {} file with progress", bytes(size)));
    let last = Arc::new(AtomicU64::new(0));
    // A bar on a colour terminal; elsewhere a progress line per quarter (text or JSON).
    let bar = match out.mode() {
        Mode::Text { color: true } => {
            let pb = ProgressBar::new(size);
            if let Ok(style) =
                ProgressStyle::with_template("    {bar:40.cyan/blue} {percent:>3}% {bytes}/{total_bytes} {msg}")
            {
                pb.set_style(style.progress_chars("█▉▊▋▌▍▎▏ "));
            }
            pb.set_message(NAME);
            Some(pb)
        }
        _ => None,
    };
    let (bar2, last2, out2) = (bar.clone(), last.clone(), out.clone());
    let url = sdk
        .send_file(chat, File::bytes(NAME, data).content_type("application/octet-stream"))
        .custom_id("demo-file")
        .on_progress(move |p| {
            let sent = (p.clamp(0.0, 1.0) * size as f64) as u64;
            let before = last2.fetch_max(sent, Ordering::Relaxed);
            match &bar2 {
                Some(pb) => pb.set_position(sent),
                None if sent * 4 / size > before * 4 / size => out2.progress(NAME, sent, size),
                None => {}
            }
        })
        .await
        .map_err(|e| format!("send_file failed: {}", describe(&e)))?;
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let sent = last.load(Ordering::Relaxed);
    if sent < size {
        return Err(format!("the upload finished with progress at {} of {}", bytes(sent), bytes(size)));
    }
    out.ok(&format!("uploaded {} (progress reported up to 100%): {url}", bytes(size)));
    Ok(())
}
