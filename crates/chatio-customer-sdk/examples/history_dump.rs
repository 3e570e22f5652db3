//! Dumps a chat's whole history, oldest first, paging back with `chat_history`.
//!
//! ```text
//! cargo run -p chatio-customer-sdk --example history_dump -- http://127.0.0.1:8080 CUSTOMER_TOKEN CHAT_ID
//! ```
//!
//! Without arguments it starts the reference server in-process, writes a chat with three
//! threads, and dumps that.

use chatio_customer_sdk::{ChatId, Config, Credentials, CustomerSdk, SdkEvent, StartChat, TokenSource};
use futures::StreamExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    async_std::task::block_on(async {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let server = if args.is_empty() {
            Some(chatio_server::Server::builder().ephemeral().agent(false).start().await?)
        } else {
            None
        };
        let mut config = Config::new(100, "history-dump").history_page_events(20);
        config = match (&server, args.as_slice()) {
            (Some(s), _) => config.server(s.http_url()),
            (None, [url, token, ..]) => {
                config.server(url.clone()).token(TokenSource::Static(Credentials::bearer(token.clone())))
            }
            _ => return Err("usage: history_dump [URL TOKEN CHAT_ID]".into()),
        };
        let sdk = CustomerSdk::init(config)?;
        let mut events = sdk.events();
        while let Some(e) = events.next().await {
            if matches!(e, SdkEvent::Connected { .. }) {
                break;
            }
        }
        let chat = match args.get(2) {
            Some(id) => ChatId::new(id.clone()),
            None => {
                let chat = sdk.start_chat(StartChat::new()).await?;
                for t in 0..3 {
                    for m in 0..5 {
                        sdk.send_message(&chat.id, format!("thread {t}, message {m}")).await?;
                    }
                    sdk.close_thread(&chat.id).await?;
                }
                chat.id
            }
        };
        let mut pages = Vec::new();
        let mut history = sdk.chat_history(&chat).await?;
        // `ChatHistory::next` (the JS-style page call) shadows `StreamExt::next`: name the trait.
        while let Some(batch) = StreamExt::next(&mut history).await {
            pages.push(batch?);
        }
        for (i, page) in pages.iter().rev().enumerate() {
            println!("-- page {} ({} events)", pages.len() - i, page.len());
            for e in page {
                println!("{:>4} {:?}: {}", e.order, e.author, e.kind);
            }
        }
        sdk.destroy().await;
        if let Some(s) = server {
            s.shutdown().await;
        }
        Ok(())
    })
}
