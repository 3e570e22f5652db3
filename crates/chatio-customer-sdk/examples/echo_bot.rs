//! An echo bot: a customer that repeats what agents say.
//!
//! ```text
//! cargo run -p chatio-server -- --listen 127.0.0.1:8080 &
//! cargo run -p chatio-customer-sdk --example echo_bot -- http://127.0.0.1:8080
//! ```
//!
//! Without a URL it starts the reference server in-process and stops after a few echoes.

use chatio_customer_sdk::{Config, CustomerSdk, EventKind, SdkEvent, StartChat};
use futures::StreamExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    async_std::task::block_on(async {
        let url = std::env::args().nth(1);
        let server = match &url {
            Some(_) => None,
            None => Some(chatio_server::Server::builder().ephemeral().start().await?),
        };
        let base = url.clone().unwrap_or_else(|| server.as_ref().map(|s| s.http_url()).unwrap_or_default());
        let sdk = CustomerSdk::init(Config::new(100, "echo-bot").server(base))?;
        let mut events = sdk.events();
        let me = loop {
            match events.next().await {
                Some(SdkEvent::CustomerId(id)) => break id,
                Some(_) => continue,
                None => return Err("the session ended".into()),
            }
        };
        let chat = sdk.start_chat(StartChat::new()).await?;
        println!("chat {} started; echoing agents", chat.id);
        sdk.send_message(&chat.id, "Hello, I repeat what you say.").await?;
        let mut echoes = 0;
        while let Some(event) = events.next().await {
            let SdkEvent::NewEvent { chat: c, event } = event else { continue };
            let (EventKind::Message(m), Some(author)) = (&event.kind, &event.author) else { continue };
            if *author == me || m.text.starts_with("You said: echo:") {
                continue; // our own messages, or the agent repeating our echo
            }
            println!("agent: {}", m.text);
            sdk.send_message(&c, format!("echo: {}", m.text)).await?;
            echoes += 1;
            if url.is_none() && echoes == 3 {
                break;
            }
        }
        sdk.destroy().await;
        if let Some(s) = server {
            s.shutdown().await;
        }
        Ok(())
    })
}
