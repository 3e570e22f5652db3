//! Recording the agent side: scripted agent sessions (`chatio-agent-sdk`) against the
//! reference server, with a customer (`chatio-customer-sdk`, not recorded) in the same chats;
//! the agent's frames are captured through the transport's [`chatio_transport::Tap`] and
//! normalised like the customer side's. Written to `fixtures/recorded-agent/*.jsonl` by
//! `cargo xtask record`; replayed into the core by [`crate::replay_agent_core`].

use std::path::Path;
use std::sync::Arc;

use chatio_agent_sdk::{AgentEvent, AgentEvents, AgentSdk, AgentToken, Properties, RoutingStatus};
use chatio_customer_sdk::{CustomerSdk, Events, NewEvent, SdkEvent, StartChat};
use chatio_server::{Server, ServerHandle};

use crate::Error;
use crate::record::{CLIENT_SEED, LICENSE, Recorder, SERVER_SEED, settle, wait};
use crate::transcript::{Line, Transcript};

/// The recorded agent sessions, by name.
pub const SESSIONS: &[&str] = &["agent_conversation", "agent_queue"];

/// The agent's e-mail on the recording server.
pub const AGENT: &str = "jane@example.com";
/// The name and version the recorded agent sends with `login` (a replay's session sends it too).
pub const APPLICATION: (&str, &str) = ("conformance", "1");
/// The recording agent's fixed token (redacted in transcripts).
const TOKEN: &str = "conformance-agent-token-0123456789";
/// The customer's seed.
const CUSTOMER_SEED: u64 = 11;

/// What an agent script works with.
struct Ctx {
    agent: AgentSdk,
    aev: AgentEvents,
    customer: CustomerSdk,
    cev: Events,
}

impl Ctx {
    /// Both sides quiet: the order of the agent's lines is the same at each recording.
    async fn settle(&mut self) {
        settle(&mut self.aev).await;
        settle(&mut self.cev).await;
        settle(&mut self.aev).await;
    }
}

/// Records one agent session.
///
/// # Errors
/// When the server cannot start or the script fails (naming the step).
pub async fn record(name: &str) -> Result<Transcript, Error> {
    let server = Server::builder()
        .ephemeral()
        .seed(SERVER_SEED)
        .agent(false)
        .licenses([LICENSE])
        .agent_token(LICENSE, AGENT, TOKEN)
        .start()
        .await?;
    let header = Line::Session {
        name: name.into(),
        license: LICENSE,
        server_seed: SERVER_SEED,
        client_seed: CLIENT_SEED,
        agent: false,
    };
    let recorder = Arc::new(Recorder::new(header, server.http_url()));
    let r = script(name, &server, recorder.clone()).await;
    server.shutdown().await;
    r.map_err(|e| e.in_session(name))?;
    Arc::try_unwrap(recorder)
        .map(Recorder::into_transcript)
        .map_err(|_| Error::Script("the recorder is still in use".into()).in_session(name))
}

/// Records every agent session into `dir` (`<name>.jsonl`).
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

async fn script(name: &str, server: &ServerHandle, recorder: Arc<Recorder>) -> Result<(), Error> {
    let config = chatio_agent_sdk::Config::new(server.http_url(), AgentToken::bearer(TOKEN))
        .seed(CLIENT_SEED)
        .application(APPLICATION.0, APPLICATION.1)
        .tap(recorder);
    let agent = AgentSdk::init(config)?;
    let mut aev = agent.events();
    wait(&mut aev, "the agent connected", |e| matches!(&**e, AgentEvent::Connected { .. }).then_some(())).await?;
    settle(&mut aev).await;
    let customer = CustomerSdk::init(
        chatio_customer_sdk::Config::new(LICENSE, "conformance").server(server.http_url()).seed(CUSTOMER_SEED),
    )?;
    let mut cev = customer.events();
    wait(&mut cev, "the customer connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await?;
    let mut ctx = Ctx { agent, aev, customer, cev };
    ctx.settle().await;
    let r = match name {
        "agent_conversation" => conversation(&mut ctx).await,
        "agent_queue" => queue(&mut ctx).await,
        other => Err(Error::Transcript(format!("no agent session named `{other}`"))),
    };
    ctx.settle().await;
    ctx.customer.destroy().await;
    settle(&mut ctx.aev).await;
    ctx.agent.destroy().await;
    r
}

/// The customer's next message from the agent, its text.
async fn customer_reads(cev: &mut Events, text: &str) -> Result<(), Error> {
    wait(cev, text, |e| match e {
        SdkEvent::NewEvent { event, .. } if event.text() == Some(text) => Some(()),
        _ => None,
    })
    .await
}

/// The agent's next event of `chat` with this text.
async fn agent_reads(aev: &mut AgentEvents, text: &str) -> Result<(), Error> {
    wait(aev, text, |e| match &**e {
        AgentEvent::NewEvent(ev) if ev.text() == Some(text) => Some(()),
        _ => None,
    })
    .await
}

/// A chat routed to the accepting agent: messages both ways, typing, properties, seen,
/// history, close.
async fn conversation(c: &mut Ctx) -> Result<(), Error> {
    let chat = c.customer.start_chat(StartChat::with_events(vec![NewEvent::message("hello, agent")])).await?;
    wait(&mut c.aev, "the routed chat", |e| matches!(&**e, AgentEvent::IncomingChat(_)).then_some(())).await?;
    c.settle().await;
    c.agent.send_typing_indicator(&chat.id, true, false).await?;
    c.agent.send_message(&chat.id, "Hi, Jane here.").await?;
    customer_reads(&mut c.cev, "Hi, Jane here.").await?;
    c.settle().await;
    c.customer.send_message(&chat.id, "my parcel is late").await?;
    agent_reads(&mut c.aev, "my parcel is late").await?;
    c.settle().await;
    c.agent.send_whisper(&chat.id, "check the courier").await?;
    c.agent.update_chat_properties(&chat.id, Properties::new().with("rec", "flag", true)).await?;
    c.agent.update_last_seen_timestamp(&chat.id, None).await?;
    let thread = chat.threads[0].id.clone();
    c.agent.chat_threads(&chat.id, &[thread]).await?;
    c.agent.get_filtered_chats(None).await?;
    c.settle().await;
    c.agent.close_thread(&chat.id).await?;
    c.settle().await;
    Ok(())
}

/// Not accepting chats: the chat waits in the queue; the agent takes it, answers, gives it
/// back to the queue.
async fn queue(c: &mut Ctx) -> Result<(), Error> {
    c.agent.set_routing_status(RoutingStatus::NotAcceptingChats).await?;
    c.settle().await;
    let chat = c.customer.start_chat(StartChat::with_events(vec![NewEvent::message("anyone?")])).await?;
    wait(&mut c.aev, "the queued chat", |e| matches!(&**e, AgentEvent::IncomingChat(_)).then_some(())).await?;
    c.settle().await;
    c.agent.take_chat(&chat.id).await?;
    c.settle().await;
    c.agent.send_message(&chat.id, "Taken: how can I help?").await?;
    customer_reads(&mut c.cev, "Taken: how can I help?").await?;
    c.settle().await;
    c.agent.leave_chat(&chat.id).await?;
    c.settle().await;
    c.agent.set_routing_status(RoutingStatus::AcceptingChats).await?;
    c.settle().await;
    Ok(())
}
