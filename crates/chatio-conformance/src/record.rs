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
use futures::{Stream, StreamExt};
use serde_json::Value;

use crate::Error;
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
    pub(crate) fn new(header: Line, server: String) -> Self {
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

    pub(crate) fn into_transcript(self) -> Transcript {
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
    /// The reference server, when recording; `None` when the script drives the SDK against
    /// a player of the transcript ([`crate::serve`]), which plays the faults itself.
    pub server: Option<ServerHandle>,
    /// The SDK session.
    pub sdk: CustomerSdk,
    /// Its events.
    pub events: Events,
    /// The recorder (for fault lines), when recording.
    pub recorder: Option<Arc<Recorder>>,
    /// The customer id.
    pub customer: String,
}

impl Ctx {
    /// Notes a fault and injects it into the reference server (a player plays it itself).
    fn fault(&self, fault: &str) {
        if let Some(r) = &self.recorder {
            r.fault(fault, &self.customer);
        }
        if let Some(server) = &self.server {
            match fault {
                "drop_connections" => server.drop_connections(LICENSE, &self.customer),
                "expire_tokens" => server.expire_tokens(LICENSE, &self.customer),
                "swallow_next_response" => server.swallow_next_response(LICENSE, &self.customer),
                _ => {}
            }
        }
    }
}

impl std::fmt::Debug for Ctx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ctx")
    }
}

/// Waits for an event (of the customer's or the agent's stream), failing after 10 s.
pub async fn wait<S: Stream + Unpin, T>(
    events: &mut S,
    what: &str,
    mut f: impl FnMut(&S::Item) -> Option<T>,
) -> Result<T, Error> {
    let fut = async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return Ok(t);
            }
        }
        Err(Error::Ended { waiting_for: what.to_owned() })
    };
    let limit = Duration::from_secs(10);
    async_std::future::timeout(limit, fut)
        .await
        .map_err(|_| Error::Timeout { waiting_for: what.to_owned(), after: limit })?
}

/// Lets pending frames arrive, so that the order of lines is stable between recordings:
/// returns once no event came for 50 ms.
pub async fn settle<S: Stream + Unpin>(events: &mut S) {
    while let Ok(Some(_)) = async_std::future::timeout(Duration::from_millis(50), events.next()).await {}
}

async fn says(events: &mut Events, text: &str) -> Result<(), Error> {
    wait(events, text, |e| match e {
        SdkEvent::NewEvent { event, .. } if event.text().is_some_and(|t| t.contains(text)) => Some(()),
        _ => None,
    })
    .await
}

/// The recorded sessions, by name.
pub const SESSIONS: &[&str] =
    &["connect", "methods", "agent_pushes", "errors", "reconnect", "token_refresh", "history", "file_upload", "outbox"];

/// Records one session.
///
/// # Errors
/// When the server cannot start or the script fails (naming the step).
pub async fn record(name: &str) -> Result<Transcript, Error> {
    let agent = !matches!(name, "history" | "outbox" | "errors");
    let server = Server::builder().ephemeral().seed(SERVER_SEED).agent(agent).licenses([LICENSE]).start().await?;
    let header = Line::Session {
        name: name.into(),
        license: LICENSE,
        server_seed: SERVER_SEED,
        client_seed: CLIENT_SEED,
        agent,
    };
    let recorder = Arc::new(Recorder::new(header, server.http_url()));
    let url = server.http_url();
    let (r, server) = script(name, &url, CLIENT_SEED, Some(server), Some(recorder.clone())).await;
    if let Some(server) = server {
        server.shutdown().await;
    }
    r?;
    Arc::try_unwrap(recorder)
        .map(Recorder::into_transcript)
        .map_err(|_| Error::Script("the recorder is still in use".into()).in_session(name))
}

/// Drives the SDK through the scenario of the recorded session `name` against `url`,
/// typically a player of that transcript ([`crate::serve::Player`]): what a client under
/// test must do in client mode. `seed` is the SDK's (another seed than the recorded one
/// gives other request ids).
///
/// # Errors
/// When the script fails (naming the step).
pub async fn drive(name: &str, url: &str, seed: u64) -> Result<(), Error> {
    script(name, url, seed, None, None).await.0
}

async fn script(
    name: &str,
    url: &str,
    seed: u64,
    server: Option<ServerHandle>,
    recorder: Option<Arc<Recorder>>,
) -> (Result<(), Error>, Option<ServerHandle>) {
    let mut config = Config::new(LICENSE, "conformance").server(url).seed(seed).history_page_events(3);
    if let Some(r) = &recorder {
        config = config.tap(r.clone());
    }
    if name == "outbox" {
        config = config.outbox(OutboxPolicy::Resend);
    }
    let sdk = match CustomerSdk::init(config) {
        Ok(s) => s,
        Err(e) => return (Err(Error::Sdk(e).in_session(name)), server),
    };
    let mut events = sdk.events();
    if let Err(e) = wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await {
        sdk.destroy().await;
        return (Err(e.in_session(name)), server);
    }
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
        other => Err(Error::Transcript(format!("no session named `{other}`"))),
    };
    settle(&mut ctx.events).await;
    ctx.sdk.destroy().await;
    (result.map_err(|e| e.in_session(name)), ctx.server)
}

/// Records every session into `dir` (`<name>.jsonl`).
///
/// # Errors
/// As [`record`], and I/O errors.
pub async fn record_all(dir: &Path) -> Result<Vec<String>, Error> {
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    let mut written = Vec::new();
    for name in SESSIONS {
        let t = record(name).await?;
        let path = dir.join(format!("{name}.jsonl"));
        t.write(&path)?;
        written.push(path.display().to_string());
    }
    Ok(written)
}

async fn methods(c: &mut Ctx) -> Result<(), Error> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let chat = sdk.start_chat(StartChat::with_events(vec![NewEvent::message("hello").with_custom_id("m-0")])).await?;
    says(ev, "You said: hello").await?;
    settle(ev).await;
    let thread = chat.threads[0].id.clone();
    sdk.send_event(&chat.id, NewEvent::message("plain").with_custom_id("m-1")).await?;
    says(ev, "You said: plain").await?;
    settle(ev).await;
    sdk.send_event(
        &chat.id,
        NewEvent::new(EventKind::Annotation(chatio_customer_sdk::Annotation::new("note", Some("remember".into()))))
            .with_custom_id("m-2"),
    )
    .await?;
    sdk.send_event(
        &chat.id,
        NewEvent::new(EventKind::Custom(chatio_customer_sdk::Custom::new(serde_json::json!({"k": [1, 2]}))))
            .with_custom_id("m-3"),
    )
    .await?;
    sdk.update_customer(CustomerData::new().name("Recorder").email("rec@example.com").field("plan", "pro")).await?;
    sdk.update_chat_properties(&chat.id, Properties::new().with("rec", "flag", true)).await?;
    sdk.update_chat_thread_properties(&chat.id, &thread, Properties::new().with("rec", "n", 7)).await?;
    sdk.update_last_seen_timestamp(&chat.id, None).await?;
    sdk.update_chat_scopes(&chat.id, Some(chatio_customer_sdk::Scopes::groups([1, 2])), None).await?;
    sdk.send_rating(&chat.id, Rating::Good, Some("fine")).await?;
    sdk.chats_summary(Pagination::new(0, 10)).await?;
    let ts = sdk.chat_threads_summary(&chat.id, Pagination::default()).await?;
    let ids: Vec<ThreadId> = ts.threads_summary.iter().map(|t| t.id.clone()).collect();
    sdk.chat_threads(&chat.id, &ids).await?;
    sdk.set_sneak_peek(&chat.id, "typing…")?;
    settle(ev).await;
    sdk.close_thread(&chat.id).await?;
    settle(ev).await;
    Ok(())
}

async fn agent_pushes(c: &mut Ctx) -> Result<(), Error> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let chat = sdk.start_chat(StartChat::new()).await?;
    says(ev, "Chatio Bot").await?;
    settle(ev).await;
    let mut rich = None;
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
        sdk.send_message(&chat.id, cmd).await?;
        if cmd == "/rich" {
            rich = Some(
                wait(ev, "the rich message", |e| match e {
                    SdkEvent::NewEvent { event, .. } if matches!(event.kind, EventKind::RichMessage(_)) => {
                        Some(event.clone())
                    }
                    _ => None,
                })
                .await?,
            );
        }
        settle(ev).await;
    }
    // Answer the rich message.
    let rich = rich.ok_or_else(|| Error::Script("no rich message".into()))?;
    let EventKind::RichMessage(r) = &rich.kind else { return Err(Error::Script("not a rich message".into())) };
    let button = r.buttons().next().ok_or_else(|| Error::Script("no button".into()))?.postback_id.clone();
    let thread = sdk.chat_threads_summary(&chat.id, Pagination::default()).await?.threads_summary[0].id.clone();
    sdk.send_rich_message_postback(&chat.id, &thread, &rich.id, Postback::new(button, true)).await?;
    settle(ev).await;
    sdk.send_message(&chat.id, "/leave").await?;
    settle(ev).await;
    sdk.send_message(&chat.id, "/close").await?;
    settle(ev).await;
    Ok(())
}

async fn errors(c: &mut Ctx) -> Result<(), Error> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let missing = chatio_customer_sdk::ChatId::new("NOSUCHCHAT");
    let _ = sdk.send_event(&missing, NewEvent::message("x").with_custom_id("e-1")).await;
    let chat = sdk.start_chat(StartChat::new()).await?;
    let _ = sdk
        .update_chat_thread_properties(&chat.id, &ThreadId::new("NOSUCH"), Properties::new().with("a", "b", 1))
        .await;
    sdk.close_thread(&chat.id).await?;
    let _ = sdk.close_thread(&chat.id).await;
    let _ = sdk.chat_threads(&missing, &[]).await;
    settle(ev).await;
    Ok(())
}

async fn reconnect(c: &mut Ctx) -> Result<(), Error> {
    let chat = c.sdk.start_chat(StartChat::new()).await?;
    says(&mut c.events, "Chatio Bot").await?;
    settle(&mut c.events).await;
    c.fault("drop_connections");
    wait(&mut c.events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(()))
        .await?;
    settle(&mut c.events).await;
    c.sdk.send_event(&chat.id, NewEvent::message("after the drop").with_custom_id("r-1")).await?;
    says(&mut c.events, "You said: after the drop").await?;
    settle(&mut c.events).await;
    Ok(())
}

async fn token_refresh(c: &mut Ctx) -> Result<(), Error> {
    c.fault("expire_tokens");
    c.fault("drop_connections");
    wait(&mut c.events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(()))
        .await?;
    settle(&mut c.events).await;
    c.sdk.chats_summary(Pagination::default()).await?;
    Ok(())
}

async fn history(c: &mut Ctx) -> Result<(), Error> {
    let (sdk, ev) = (&c.sdk, &mut c.events);
    let chat = sdk.start_chat(StartChat::new()).await?;
    for t in 0..4 {
        for m in 0..2 {
            sdk.send_event(&chat.id, NewEvent::message(format!("t{t} m{m}")).with_custom_id(format!("h-{t}-{m}")))
                .await?;
        }
        sdk.close_thread(&chat.id).await?;
    }
    settle(ev).await;
    let mut h = sdk.chat_history(&chat.id).await?;
    loop {
        let page = h.next_page().await?;
        settle(ev).await;
        if page.done {
            break;
        }
    }
    Ok(())
}

async fn file_upload(c: &mut Ctx) -> Result<(), Error> {
    let chat = c.sdk.start_chat(StartChat::new()).await?;
    says(&mut c.events, "Chatio Bot").await?;
    settle(&mut c.events).await;
    let data = crate::upload_bytes(4096);
    if let Some(r) = &c.recorder {
        r.upload(chat.id.as_str(), Some("f-1"), "data.bin", 4096);
    }
    c.sdk.send_file(&chat.id, File::bytes("data.bin", data)).custom_id("f-1").await?;
    wait(&mut c.events, "the file event", |e| match e {
        SdkEvent::NewEvent { event, .. } => matches!(event.kind, EventKind::File(_)).then_some(()),
        _ => None,
    })
    .await?;
    settle(&mut c.events).await;
    Ok(())
}

async fn outbox(c: &mut Ctx) -> Result<(), Error> {
    let chat = c.sdk.start_chat(StartChat::new()).await?;
    settle(&mut c.events).await;
    // The next response is lost; then the connection drops: after reconnecting, the SDK finds
    // the event by its custom id instead of sending it twice.
    c.fault("swallow_next_response");
    let send = c.sdk.send_event(&chat.id, NewEvent::message("arrived").with_custom_id("o-1"));
    let chaos = async {
        let Some(server) = &c.server else { return };
        // The server stores the event before it would have answered.
        while server.chat_events(LICENSE, chat.id.as_str()).is_empty() {
            async_std::task::sleep(Duration::from_millis(2)).await;
        }
        c.fault("drop_connections");
    };
    let (r, ()) = futures::future::join(send, chaos).await;
    r?;
    // And one that is queued while disconnected, sent after.
    c.fault("drop_connections");
    c.sdk.send_event(&chat.id, NewEvent::message("queued").with_custom_id("o-2")).await?;
    settle(&mut c.events).await;
    Ok(())
}
