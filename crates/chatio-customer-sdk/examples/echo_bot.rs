//! An echo bot: a customer that repeats what agents say.
//!
//! ```text
//! cargo run -p chatio-customer-sdk --example echo_bot
//! ```
//!
//! Without arguments it starts the reference server in-process, echoes the agent's first two
//! messages, waits until the agent has answered both echoes, and stops.
//!
//! Against a running server it needs nothing but the server's URL: the SDK creates a
//! customer through the token endpoint and the bot starts its own chat, then echoes until
//! Ctrl-C (`CHATIO_LICENSE` picks the license, 100 by default):
//!
//! ```text
//! cargo run -p chatio-cli -- server &
//! cargo run -p chatio-customer-sdk --example echo_bot -- http://127.0.0.1:8080
//! ```

use std::process::ExitCode;
use std::time::Duration;

use chatio_customer_sdk::{Config, CustomerSdk, EventKind, SdkEvent, StartChat};
use futures::StreamExt;

/// How many echoes the in-process run sends before it stops.
const LOCAL_ECHOES: usize = 2;

fn main() -> ExitCode {
    match async_std::task::block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Display, then the causes: what a user can act on.
            eprintln!("echo_bot: {e}");
            let mut cause = e.source();
            while let Some(c) = cause {
                eprintln!("  caused by: {c}");
                cause = c.source();
            }
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1);
    let license = match std::env::var("CHATIO_LICENSE") {
        Ok(l) => l.parse().map_err(|_| format!("CHATIO_LICENSE={l} is not a license number"))?,
        Err(_) => 100,
    };
    let server = match &url {
        Some(_) => None,
        None => Some(chatio_server::Server::builder().ephemeral().licenses([license]).start().await?),
    };
    let base = url.clone().unwrap_or_else(|| server.as_ref().map(|s| s.http_url()).unwrap_or_default());
    let sdk = CustomerSdk::init(Config::new(license, "echo-bot").server(base.clone()))?;
    let mut events = sdk.events();
    let result = if url.is_some() {
        echo(&sdk, &mut events, None).await
    } else {
        // A bound: the in-process run finishes in about a second; it never hangs.
        async_std::future::timeout(Duration::from_secs(30), echo(&sdk, &mut events, Some(LOCAL_ECHOES)))
            .await
            .unwrap_or_else(|_| Err("no answer from the agent within 30 s".into()))
    };
    sdk.destroy().await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    result
}

/// Echoes agent messages; with `limit`, stops once the agent has answered that many echoes.
async fn echo(
    sdk: &CustomerSdk,
    events: &mut chatio_customer_sdk::Events,
    limit: Option<usize>,
) -> Result<(), Box<dyn std::error::Error>> {
    let me = loop {
        match events.next().await {
            Some(SdkEvent::CustomerId(id)) => break id,
            // A refused login or an unknown license ends the run with the server's reason.
            Some(SdkEvent::Error(e)) => return Err(format!("cannot log in: {e}").into()),
            Some(SdkEvent::Disconnected { reason }) => return Err(format!("the server refused us: {reason}").into()),
            Some(_) => continue,
            None => return Err("the session ended".into()),
        }
    };
    let chat = sdk.start_chat(StartChat::new()).await?;
    println!("chat {} started as customer {me}; echoing agents", chat.id);
    sdk.send_message(&chat.id, "Hello, I repeat what you say.").await?;
    let (mut echoed, mut confirmed) = (0, 0);
    while let Some(event) = events.next().await {
        let SdkEvent::NewEvent { chat: c, event } = event else { continue };
        let (EventKind::Message(m), Some(author)) = (&event.kind, &event.author) else { continue };
        if *author == me {
            continue; // our own messages
        }
        println!("agent: {}", m.text);
        if m.text.starts_with("You said: echo:") {
            // The agent repeating one of our echoes: answering it would never end.
            confirmed += 1;
            if limit.is_some_and(|n| confirmed >= n) {
                println!("the agent answered our {confirmed} echoes; done");
                return Ok(());
            }
            continue;
        }
        if limit.is_some_and(|n| echoed >= n) {
            continue;
        }
        sdk.send_message(&c, format!("echo: {}", m.text)).await?;
        echoed += 1;
    }
    Err("the session ended".into())
}
