//! Test support: the runtime chosen by the crate's features, an in-process reference server,
//! SDK sessions, and waiting for events with a deadline (never a sleep).

use std::future::Future;
use std::time::Duration;

use chatio_customer_sdk::{Config, CustomerSdk, Events, SdkEvent};
use chatio_server::{Server, ServerHandle};
use futures::StreamExt;

/// How long a test waits for anything.
pub const WAIT: Duration = Duration::from_secs(15);

/// Runs a test body on the runtime the features select (tokio > async-std > smol).
/// `CHATIO_TEST_LOG=debug` (an `EnvFilter`) prints the SDK's and the server's traces.
pub fn run<F: Future<Output = ()> + Send + 'static>(f: F) {
    if let Ok(filter) = std::env::var("CHATIO_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
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
    let rt = chatio_customer_sdk::runtime::default_runtime().expect("a runtime");
    let deadline = rt.now() + WAIT;
    futures::pin_mut!(f);
    match futures::future::select(f, rt.sleep_until(deadline)).await {
        futures::future::Either::Left((t, _)) => t,
        futures::future::Either::Right(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// A reference server on a free port (agent with no delay: deterministic).
pub async fn server() -> ServerHandle {
    Server::builder().ephemeral().seed(11).start().await.expect("server starts")
}

/// A server with its agent off.
pub async fn quiet_server() -> ServerHandle {
    Server::builder().ephemeral().seed(12).agent(false).start().await.expect("server starts")
}

pub fn config(server: &ServerHandle) -> Config {
    Config::new(100, "sdk-tests").server(server.http_url()).seed(5)
}

/// An SDK session and its event stream, connected.
pub async fn connect(server: &ServerHandle) -> (CustomerSdk, Events) {
    connect_with(config(server)).await
}

pub async fn connect_with(config: Config) -> (CustomerSdk, Events) {
    let sdk = CustomerSdk::init(config).expect("init");
    let mut events = sdk.events();
    wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    (sdk, events)
}

/// Reads events until `f` matches one.
pub async fn wait<T>(events: &mut Events, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> T {
    within(what, async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return t;
            }
        }
        panic!("the event stream ended while waiting for {what}");
    })
    .await
}

/// Waits for the agent's message containing `text`.
pub async fn agent_says(events: &mut Events, text: &str) -> chatio_customer_sdk::Event {
    wait(events, text, |e| match e {
        SdkEvent::NewEvent { event, .. } if event.text().is_some_and(|t| t.contains(text)) => Some(event.clone()),
        _ => None,
    })
    .await
}
