//! Test support: the runtime chosen by the crate's features, a reference server with agents,
//! agent and customer sessions, and waiting for events with a deadline (never a sleep).

use std::future::Future;
use std::time::Duration;

use chatio_agent_sdk::{AgentEvent, AgentEvents, AgentSdk, AgentToken, ChatView, Config};
use chatio_customer_sdk::{CustomerSdk, Events, SdkEvent};
use chatio_server::{Server, ServerHandle};
use futures::StreamExt;

/// How long a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(15);

pub const LICENSE: u64 = 100;
pub const JANE: &str = "jane@example.com";
pub const JANE_TOKEN: &str = "jane-fixed-token-0123456789";
pub const JOHN: &str = "john@example.com";
pub const JOHN_TOKEN: &str = "john-fixed-token-0123456789";

/// Runs a test body on the runtime the features select (tokio > async-std > smol).
pub fn run<F: Future<Output = ()> + Send + 'static>(f: F) {
    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio");
        rt.block_on(f);
    }
    #[cfg(all(feature = "async-std", not(feature = "tokio")))]
    {
        async_std::task::block_on(f);
    }
    #[cfg(all(feature = "smol", not(feature = "tokio"), not(feature = "async-std")))]
    {
        smol::block_on(f);
    }
}

/// Fails the test if `f` does not finish within [`WAIT`].
pub async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    let rt = chatio_agent_sdk::runtime::default_runtime().expect("a runtime");
    let deadline = rt.now() + WAIT;
    futures::pin_mut!(f);
    match futures::future::select(f, rt.sleep_until(deadline)).await {
        futures::future::Either::Left((t, _)) => t,
        futures::future::Either::Right(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// A server with two agents on license 100 (Jane and John), no scripted bot.
pub async fn server() -> ServerHandle {
    Server::builder()
        .ephemeral()
        .seed(23)
        .agent(false)
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .agent_token(LICENSE, JOHN, JOHN_TOKEN)
        .start()
        .await
        .expect("server starts")
}

pub fn agent_config(server: &ServerHandle, token: &str) -> Config {
    Config::new(server.http_url(), AgentToken::bearer(token)).seed(7).application("agent-sdk-tests", "1")
}

/// An agent session, logged in, and its events from the login on.
pub async fn agent(server: &ServerHandle, token: &str) -> (AgentSdk, AgentEvents) {
    agent_with(agent_config(server, token)).await
}

pub async fn agent_with(config: Config) -> (AgentSdk, AgentEvents) {
    let sdk = AgentSdk::init(config).expect("init");
    let mut events = sdk.events();
    on_agent(&mut events, "connected", |e| matches!(e, AgentEvent::Connected { .. }).then_some(())).await;
    (sdk, events)
}

/// A customer session (our customer SDK), connected.
pub async fn customer(server: &ServerHandle) -> (CustomerSdk, Events) {
    let config = chatio_customer_sdk::Config::new(LICENSE, "agent-sdk-tests").server(server.http_url()).seed(5);
    let sdk = CustomerSdk::init(config).expect("customer init");
    let mut events = sdk.events();
    on_customer(&mut events, "customer connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    (sdk, events)
}

/// Reads agent events until `f` matches one.
pub async fn on_agent<T>(events: &mut AgentEvents, what: &str, mut f: impl FnMut(&AgentEvent) -> Option<T>) -> T {
    within(what, async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return t;
            }
        }
        panic!("the agent's event stream ended while waiting for {what}");
    })
    .await
}

/// Reads customer events until `f` matches one.
pub async fn on_customer<T>(events: &mut Events, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> T {
    within(what, async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return t;
            }
        }
        panic!("the customer's event stream ended while waiting for {what}");
    })
    .await
}

/// The customer's next message from someone else (system messages skipped), its text.
pub async fn customer_reads(events: &mut Events) -> String {
    on_customer(events, "a message for the customer", |e| match e {
        SdkEvent::NewEvent { event, .. } => match &event.kind {
            chatio_agent_sdk::EventKind::Message(m) => Some(m.text.clone()),
            _ => None,
        },
        _ => None,
    })
    .await
}

/// Waits until the agent's chat state satisfies `f`, reading events meanwhile (the server
/// answers a command before it pushes what the command changed).
pub async fn until_chats(sdk: &AgentSdk, events: &mut AgentEvents, what: &str, f: impl Fn(&[ChatView]) -> bool) {
    within(what, async {
        while !f(&sdk.chats().await.expect("chats")) {
            if events.next().await.is_none() {
                panic!("the agent's event stream ended while waiting for {what}");
            }
        }
    })
    .await
}
