//! Recording: scripted SDK sessions against the reference server, captured through the
//! transport's [`chatio_transport::Tap`] and normalised.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chatio_customer_sdk::{
    Config, CustomerData, CustomerSdk, EventKind, Events, File, NewEvent, OutboxPolicy, Pagination, Postback,
    Properties, Rating, SdkEvent, StartChat, ThreadId,
};
use chatio_server::{Server, ServerHandle};
use chatio_transport::{Tap, TapEvent};
use futures::StreamExt;
use serde_json::Value;

use crate::normalize;
use crate::transcript::{Line, Transcript};

/// The client seed of every recorded session.
pub const CLIENT_SEED: u64 = 5;
/// The server seed of every recorded session.
pub const SERVER_SEED: u64 = 7;
/// The license of every recorded session.
pub const LICENSE: u64 = 100;

/// Collects lines from the tap and the script.
pub struct Recorder {
    start: Instant,
    server: String,
    lines: Mutex<Vec<Line>>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    fn new(header: Line, server: String) -> Self {
        Self { start: Instant::now(), server, lines: Mutex::new(vec![header]) }
    }

    fn t(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.start).as_millis() as u64) / 100 * 100
    }

    fn push(&self, line: Line) {
        if let Ok(mut l) = self.lines.lock() {
            l.push(line);
        }
    }

    /// Notes a Web API upload the script makes.
    pub fn upload(&self, chat_id: &str, custom_id: Option<&str>, name: &str, size: u64) {
        self.push(Line::Upload {
            t: self.t(Instant::now()),
            chat_id: chat_id.into(),
            custom_id: custom_id.map(str::to_owned),
            name: name.into(),
            size,
        });
    }

    /// Notes a fault the script injects.
    pub fn fault(&self, fault: &str, customer: &str) {
        self.push(Line::Fault { t: self.t(Instant::now()), fault: fault.into(), customer_id: customer.into() });
    }

    fn frame(&self, text: &str) -> Value {
        let mut v: Value = serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()));
        normalize::frame(&mut v, &self.server);
        v
    }

    fn into_transcript(self) -> Transcript {
        Transcript { lines: self.lines.into_inner().unwrap_or_default() }
    }
}

impl Tap for Recorder {
    fn event(&self, at: Instant, e: TapEvent<'_>) {
        let t = self.t(at);
        let line = match e {
            TapEvent::Token { fresh, customer_id } => {
                Line::Token { t, fresh, customer_id: customer_id.map(|c| c.to_string()) }
            }
            TapEvent::Connected => Line::Connected { t },
            TapEvent::Sent(s) => Line::Out { t, frame: self.frame(s) },
            TapEvent::Received(s) => Line::In { t, frame: self.frame(s) },
            TapEvent::Disconnected { code, reason } => {
                Line::Disconnected { t, code, reason: if code.is_some() { reason.to_owned() } else { "failed".into() } }
            }
            _ => return,
        };
        self.push(line);
    }
}

/// What a recording script works with.
pub struct Ctx {
    /// The server.
    pub server: ServerHandle,
    /// The SDK session.
    pub sdk: CustomerSdk,
    /// Its events.
    pub events: Events,
    /// The recorder (for fault lines).
    pub recorder: Arc<Recorder>,
    /// The customer id.
    pub customer: String,
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ctx")
    }
}

/// Waits for an event, failing after 10 s.
pub async fn wait<T>(events: &mut Events, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> Result<T, String> {
    let fut = async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return Ok(t);
            }
        }
        Err(format!("the session ended while waiting for {what}"))
    };
    async_std::future::timeout(Duration::from_secs(10), fut)
        .await
        .map_err(|_| format!("timed out waiting for {what}"))?
}

/// Lets pending frames arrive, so that the order of lines is stable between recordings:
/// returns once no event came for 50 ms.
pub async fn settle(events: &mut Events) {
    while let Ok(Some(_)) = async_std::future::timeout(Duration::from_millis(50), events.next()).await {}
}

async fn says(events: &mut Events, text: &str) -> Result<(), String> {
    wait(events, text, |e| match e {
        SdkEvent::NewEvent { event, .. } if event.text().is_some_and(|t| t.contains(text)) => Some(()),
        _ => None,
    })
    .await
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The recorded sessions, by name.
pub const SESSIONS: &[&str] =
    &["connect", "methods", "agent_pushes", "errors", "reconnect", "token_refresh", "history", "file_upload", "outbox"];

/// Records one session.
///
/// # Errors
/// When the server cannot start or the script fails (naming the step).
pub async fn record(name: &str) -> Result<Transcript, String> {
    let agent = !matches!(name, "history" | "outbox" | "errors");
    let server =
        Server::builder().ephemeral().seed(SERVER_SEED).agent(agent).licenses([LICENSE]).start().await.map_err(err)?;
    let header = Line::Session {
        name: name.into(),
        license: LICENSE,
        server_seed: SERVER_SEED,
        client_seed: CLIENT_SEED,
        agent,
    };
    let recorder = Arc::new(Recorder::new(header, server.http_url()));
    let mut config = Config::new(LICENSE, "conformance")
        .server(server.http_url())
        .seed(CLIENT_SEED)
        .tap(recorder.clone())
        .history_page_events(3);
    if name == "outbox" {
        config = config.outbox(OutboxPolicy::Resend);
    }
    let sdk = CustomerSdk::init(config).map_err(err)?;
    let mut events = sdk.events();
    wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await?;
    let customer = sdk.customer_id().map(|c| c.to_string()).unwrap_or_default();
    settle(&mut events).await;
    let mut ctx = Ctx { server, sdk, events, recorder, customer };
    let result = match name {
        "connect" => Ok(()),
        "methods" => methods(&mut ctx).await,
        "agent_pushes" => agent_pushes(&mut ctx).await,
        "errors" => errors(&mut ctx).await,
        "reconnect" => reconnect(&mut ctx).await,
        "token_refresh" => token_refresh(&mut ctx).await,
        "history" => history(&mut ctx).await,
        "file_upload" => file_upload(&mut ctx).await,
        "outbox" => outbox(&mut ctx).await,
        other => Err(format!("no session named `{other}`")),
    };
    settle(&mut ctx.events).await;
    ctx.sdk.destroy().await;
    ctx.server.shutdown().await;
    result.map_err(|e| format!("session `{name}`: {e}"))?;
    Arc::try_unwrap(ctx.recorder).map(Recorder::into_transcript).map_err(|_| "the recorder is still in use".to_owned())
}

/// Records every session into `dir` (`<name>.jsonl`).
///
/// # Errors
/// As [`record`], and I/O errors.
pub async fn record_all(dir: &Path) -> Result<Vec<String>, String> {
    std::fs::create_dir_all(dir).map_err(err)?;
    let mut written = Vec::new();
    for name in SESSIONS {
        let t = record(name).await?;
        let path = dir.join(format!("{name}.jsonl"));
        t.write(&path).map_err(err)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

async fn methods(c: &mut Ctx) -> Result<(), String> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let chat = sdk
        .start_chat(StartChat::with_events(vec![NewEvent::message("hello").with_custom_id("m-0")]))
        .await
        .map_err(err)?;
    says(ev, "You said: hello").await?;
    settle(ev).await;
    let thread = chat.threads[0].id.clone();
    sdk.send_event(&chat.id, NewEvent::message("plain").with_custom_id("m-1")).await.map_err(err)?;
    says(ev, "You said: plain").await?;
    settle(ev).await;
    sdk.send_event(
        &chat.id,
        NewEvent::new(EventKind::Annotation(chatio_customer_sdk::Annotation::new("note", Some("remember".into()))))
            .with_custom_id("m-2"),
    )
    .await
    .map_err(err)?;
    sdk.send_event(
        &chat.id,
        NewEvent::new(EventKind::Custom(chatio_customer_sdk::Custom::new(serde_json::json!({"k": [1, 2]}))))
            .with_custom_id("m-3"),
    )
    .await
    .map_err(err)?;
    sdk.update_customer(CustomerData::new().name("Recorder").email("rec@example.com").field("plan", "pro"))
        .await
        .map_err(err)?;
    sdk.update_chat_properties(&chat.id, Properties::new().with("rec", "flag", true)).await.map_err(err)?;
    sdk.update_chat_thread_properties(&chat.id, &thread, Properties::new().with("rec", "n", 7)).await.map_err(err)?;
    sdk.update_last_seen_timestamp(&chat.id, None).await.map_err(err)?;
    sdk.update_chat_scopes(&chat.id, Some(chatio_customer_sdk::Scopes::groups([1, 2])), None).await.map_err(err)?;
    sdk.send_rating(&chat.id, Rating::Good, Some("fine")).await.map_err(err)?;
    sdk.chats_summary(Pagination::new(0, 10)).await.map_err(err)?;
    let ts = sdk.chat_threads_summary(&chat.id, Pagination::default()).await.map_err(err)?;
    let ids: Vec<ThreadId> = ts.threads_summary.iter().map(|t| t.id.clone()).collect();
    sdk.chat_threads(&chat.id, &ids).await.map_err(err)?;
    sdk.set_sneak_peek(&chat.id, "typing…").map_err(err)?;
    settle(ev).await;
    sdk.close_thread(&chat.id).await.map_err(err)?;
    settle(ev).await;
    Ok(())
}

async fn agent_pushes(c: &mut Ctx) -> Result<(), String> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let chat = sdk.start_chat(StartChat::new()).await.map_err(err)?;
    says(ev, "Chatio Bot").await?;
    settle(ev).await;
    for cmd in [
        "/rich",
        "/file",
        "/form",
        "/annotation",
        "/custom",
        "/system",
        "/multicast",
        "/props",
        "/scopes",
        "/seen",
        "/typing",
    ] {
        sdk.send_message(&chat.id, cmd).await.map_err(err)?;
        settle(ev).await;
    }
    // Answer the rich message.
    let rich = c
        .server
        .chat_events(LICENSE, chat.id.as_str())
        .into_iter()
        .find(|e| matches!(e.kind, EventKind::RichMessage(_)))
        .ok_or("no rich message")?;
    let EventKind::RichMessage(r) = &rich.kind else { return Err("not a rich message".into()) };
    let button = r.buttons().next().ok_or("no button")?.postback_id.clone();
    let thread =
        sdk.chat_threads_summary(&chat.id, Pagination::default()).await.map_err(err)?.threads_summary[0].id.clone();
    sdk.send_rich_message_postback(&chat.id, &thread, &rich.id, Postback::new(button, true)).await.map_err(err)?;
    settle(ev).await;
    sdk.send_message(&chat.id, "/leave").await.map_err(err)?;
    settle(ev).await;
    sdk.send_message(&chat.id, "/close").await.map_err(err)?;
    settle(ev).await;
    Ok(())
}

async fn errors(c: &mut Ctx) -> Result<(), String> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let missing = chatio_customer_sdk::ChatId::new("NOSUCHCHAT");
    let _ = sdk.send_event(&missing, NewEvent::message("x").with_custom_id("e-1")).await;
    let chat = sdk.start_chat(StartChat::new()).await.map_err(err)?;
    let _ = sdk
        .update_chat_thread_properties(&chat.id, &ThreadId::new("NOSUCH"), Properties::new().with("a", "b", 1))
        .await;
    sdk.close_thread(&chat.id).await.map_err(err)?;
    let _ = sdk.close_thread(&chat.id).await;
    let _ = sdk.chat_threads(&missing, &[]).await;
    settle(ev).await;
    Ok(())
}

async fn reconnect(c: &mut Ctx) -> Result<(), String> {
    let chat = c.sdk.start_chat(StartChat::new()).await.map_err(err)?;
    says(&mut c.events, "Chatio Bot").await?;
    settle(&mut c.events).await;
    c.recorder.fault("drop_connections", &c.customer);
    c.server.drop_connections(LICENSE, &c.customer);
    wait(&mut c.events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(()))
        .await?;
    settle(&mut c.events).await;
    c.sdk.send_event(&chat.id, NewEvent::message("after the drop").with_custom_id("r-1")).await.map_err(err)?;
    says(&mut c.events, "You said: after the drop").await?;
    settle(&mut c.events).await;
    Ok(())
}

async fn token_refresh(c: &mut Ctx) -> Result<(), String> {
    c.recorder.fault("expire_tokens", &c.customer);
    c.server.expire_tokens(LICENSE, &c.customer);
    c.recorder.fault("drop_connections", &c.customer);
    c.server.drop_connections(LICENSE, &c.customer);
    wait(&mut c.events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(()))
        .await?;
    settle(&mut c.events).await;
    c.sdk.chats_summary(Pagination::default()).await.map_err(err)?;
    Ok(())
}

async fn history(c: &mut Ctx) -> Result<(), String> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let chat = sdk.start_chat(StartChat::new()).await.map_err(err)?;
    for t in 0..4 {
        for m in 0..2 {
            sdk.send_event(&chat.id, NewEvent::message(format!("t{t} m{m}")).with_custom_id(format!("h-{t}-{m}")))
                .await
                .map_err(err)?;
        }
        sdk.close_thread(&chat.id).await.map_err(err)?;
    }
    settle(ev).await;
    let mut h = sdk.chat_history(&chat.id).await.map_err(err)?;
    loop {
        let page = h.next().await.map_err(err)?;
        settle(ev).await;
        if page.done {
            break;
        }
    }
    Ok(())
}

async fn file_upload(c: &mut Ctx) -> Result<(), String> {
    let chat = c.sdk.start_chat(StartChat::new()).await.map_err(err)?;
    says(&mut c.events, "Chatio Bot").await?;
    settle(&mut c.events).await;
    let data = crate::upload_bytes(4096);
    c.recorder.upload(chat.id.as_str(), Some("f-1"), "data.bin", 4096);
    c.sdk.send_file(&chat.id, File::bytes("data.bin", data)).custom_id("f-1").await.map_err(err)?;
    wait(&mut c.events, "the file event", |e| match e {
        SdkEvent::NewEvent { event, .. } => matches!(event.kind, EventKind::File(_)).then_some(()),
        _ => None,
    })
    .await?;
    settle(&mut c.events).await;
    Ok(())
}

async fn outbox(c: &mut Ctx) -> Result<(), String> {
    let chat = c.sdk.start_chat(StartChat::new()).await.map_err(err)?;
    settle(&mut c.events).await;
    // The next response is lost; then the connection drops: after reconnecting, the SDK finds
    // the event by its custom id instead of sending it twice.
    c.recorder.fault("swallow_next_response", &c.customer);
    c.server.swallow_next_response(LICENSE, &c.customer);
    let send = c.sdk.send_event(&chat.id, NewEvent::message("arrived").with_custom_id("o-1"));
    let chaos = async {
        // The server stores the event before it would have answered.
        while c.server.chat_events(LICENSE, chat.id.as_str()).is_empty() {
            async_std::task::sleep(Duration::from_millis(2)).await;
        }
        c.recorder.fault("drop_connections", &c.customer);
        c.server.drop_connections(LICENSE, &c.customer);
    };
    let (r, ()) = futures::future::join(send, chaos).await;
    r.map_err(err)?;
    // And one that is queued while disconnected, sent after.
    c.recorder.fault("drop_connections", &c.customer);
    c.server.drop_connections(LICENSE, &c.customer);
    c.sdk.send_event(&chat.id, NewEvent::message("queued").with_custom_id("o-2")).await.map_err(err)?;
    settle(&mut c.events).await;
    Ok(())
}
