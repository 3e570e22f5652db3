//! `chatio demo`: the reference server and the SDK in one process, playing a short scripted
//! conversation that shows each capability as it happens.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_std::future::timeout;
use chatio_customer_sdk::{
    ChatId, Config, CustomerData, CustomerSdk, EventKind, File, NewEvent, Postback, Properties, Rating, SdkEvent,
    StartChat,
};
use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};

use crate::render::{Mode, Renderer};

/// Options of `chatio demo`.
#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Use a running server (e.g. `http://127.0.0.1:8080`) instead of starting one in-process.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The license to use.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub license: u64,
    /// Plain text, no colours or progress bar.
    #[arg(long, conflicts_with = "json")]
    pub plain: bool,
    /// Print the events as JSON lines.
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
}

impl Waiter {
    async fn until<T>(&mut self, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> Result<T, String> {
        let wait = async {
            while let Some(e) = self.events.next().await {
                self.out.event(&e);
                if let Some(t) = f(&e) {
                    return Ok(t);
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
    let color = !args.plain && console::Term::stdout().is_term();
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
                .map_err(|e| format!("cannot start the reference server: {e}"))?,
        ),
    };
    let url = match (&args.url, &server) {
        (Some(u), _) => u.clone(),
        (None, Some(s)) => s.http_url(),
        (None, None) => return Err("no server".into()),
    };
    out.title("chatio demo: the Rust SDK for the chat.io Customer API v0.5");
    out.step(&format!("reference server at {url}"));
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
        .redirect_uri("https://demo.chatio.invalid/")
        .customer(CustomerData::new().name("Demo Customer"))
        // Small history pages, so that paging back shows one thread per page.
        .history_page_events(2);
    let sdk = CustomerSdk::init(config).map_err(|e| format!("cannot start the SDK: {e}"))?;
    let mut waiter = Waiter { events: sdk.events(), out: out.clone(), deadline: Duration::from_secs(10) };
    let r = conversation(out, &sdk, &mut waiter).await;
    waiter.drain(Duration::from_millis(50)).await;
    sdk.destroy().await;
    r
}

async fn conversation(out: &Renderer, sdk: &CustomerSdk, w: &mut Waiter) -> Result<(), String> {
    w.until("the connection", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await?;
    let me = sdk.customer_id().ok_or("no customer id after connecting")?;
    out.ok(&format!("logged in as customer {me}"));

    out.step("starting a chat with a first message");
    let chat = sdk
        .start_chat(StartChat::with_events(vec![NewEvent::message("Hi! I'm trying the Rust SDK.")]))
        .await
        .map_err(|e| format!("start_chat failed: {e}"))?;
    let chat_id = chat.id.clone();
    out.ok(&format!(
        "chat {} started (thread {})",
        chat.id,
        chat.threads.first().map(|t| t.id.to_string()).unwrap_or_default()
    ));
    w.until("the agent to join", |e| matches!(e, SdkEvent::UserJoinedChat { .. }).then_some(())).await?;
    w.until("the agent to type", |e| matches!(e, SdkEvent::UserIsTyping { .. }).then_some(())).await?;
    w.until("the agent's answer", agent_says("You said:")).await?;

    out.step("sending a message");
    sdk.send_message(&chat_id, "What can you do?").await.map_err(|e| format!("send_message failed: {e}"))?;
    w.until("the agent's answer", agent_says("You said: What can you do?")).await?;

    out.step("asking for a rich message (/rich)");
    sdk.send_message(&chat_id, "/rich").await.map_err(|e| format!("send_message failed: {e}"))?;
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
        .map_err(|e| format!("postback failed: {e}"))?;
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
        .map_err(|e| format!("update_chat_properties failed: {e}"))?;
    sdk.send_message(&chat_id, "/props").await.map_err(|e| format!("send_message failed: {e}"))?;
    w.until("the thread properties", |e| matches!(e, SdkEvent::ChatThreadPropertiesUpdated { .. }).then_some(()))
        .await?;

    out.step("marking the chat as seen, and asking the agent to do the same (/seen)");
    let seen = sdk
        .update_last_seen_timestamp(&chat_id, None)
        .await
        .map_err(|e| format!("update_last_seen_timestamp failed: {e}"))?;
    out.ok(&format!("last seen stored: {} s", seen.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())));
    sdk.send_message(&chat_id, "/seen").await.map_err(|e| format!("send_message failed: {e}"))?;
    w.until("the agent's last-seen update", |e| matches!(e, SdkEvent::LastSeenTimestampUpdated { .. }).then_some(()))
        .await?;

    out.step("asking the agent to close the thread (/close)");
    sdk.send_message(&chat_id, "/close").await.map_err(|e| format!("send_message failed: {e}"))?;
    w.until("the thread to close", |e| matches!(e, SdkEvent::ThreadClosed { .. }).then_some(())).await?;

    out.step("writing again: a new thread opens");
    sdk.send_message(&chat_id, "One more question, please.").await.map_err(|e| format!("send_message failed: {e}"))?;
    w.until("the agent's answer", agent_says("You said: One more question")).await?;

    w.drain(Duration::from_millis(20)).await;
    out.step("paging the history back");
    let mut history = sdk.chat_history(&chat_id).await.map_err(|e| format!("chat_history failed: {e}"))?;
    let mut pages = 0;
    let mut total = 0;
    loop {
        let page = history.next_page().await.map_err(|e| format!("history failed: {e}"))?;
        w.drain(Duration::from_millis(5)).await;
        if !page.events.is_empty() {
            pages += 1;
            total += page.events.len();
            let first = page.events.first().and_then(|e| e.text()).unwrap_or("");
            out.ok(&format!("history page {pages}: {} events, starting with “{first}”", page.events.len()));
        }
        if page.done {
            break;
        }
    }
    out.ok(&format!("whole history loaded: {total} events in {pages} pages"));

    out.step("rating the chat");
    sdk.send_rating(&chat_id, Rating::Good, Some("Great demo!"))
        .await
        .map_err(|e| format!("send_rating failed: {e}"))?;
    out.ok("rated good");
    Ok(())
}

async fn upload(out: &Renderer, sdk: &CustomerSdk, chat: &ChatId) -> Result<(), String> {
    let size = 3 * 1024 * 1024;
    let bytes: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    out.step(&format!("uploading a {} MiB file with progress", size / (1024 * 1024)));
    let last = Arc::new(AtomicU64::new(0));
    let bar: Arc<Mutex<Option<ProgressBar>>> = Arc::new(Mutex::new(None));
    if let Mode::Text { color: true } = out.mode() {
        let pb = ProgressBar::new(1000);
        if let Ok(style) = ProgressStyle::with_template("    {bar:40.cyan/blue} {percent:>3}% {msg}") {
            pb.set_style(style.progress_chars("█▉▊▋▌▍▎▏ "));
        }
        pb.set_message("chatio-demo.bin");
        if let Ok(mut b) = bar.lock() {
            *b = Some(pb);
        }
    }
    let (bar2, last2) = (bar.clone(), last.clone());
    let url = sdk
        .send_file(chat, File::bytes("chatio-demo.bin", bytes).content_type("application/octet-stream"))
        .custom_id("demo-file")
        .on_progress(move |p| {
            last2.store((p * 1000.0) as u64, Ordering::Relaxed);
            if let Ok(b) = bar2.lock() {
                if let Some(pb) = b.as_ref() {
                    pb.set_position((p * 1000.0) as u64);
                }
            }
        })
        .await
        .map_err(|e| format!("send_file failed: {e}"))?;
    if let Ok(b) = bar.lock() {
        if let Some(pb) = b.as_ref() {
            pb.finish_and_clear();
        }
    }
    let reached = last.load(Ordering::Relaxed) as f64 / 1000.0;
    out.ok(&format!("uploaded (progress reached {reached:.2}): {url}"));
    Ok(())
}
