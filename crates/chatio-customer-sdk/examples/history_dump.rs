//! Dumps a chat's whole history, oldest first, paging back with `chat_history`.
//!
//! ```text
//! cargo run -p chatio-customer-sdk --example history_dump [-- URL [CUSTOMER_ID [CHAT_ID]]]
//! ```
//!
//! * No arguments: starts the reference server in-process, writes a chat with three threads,
//!   and dumps it.
//! * `URL`: creates a new customer through the server's token endpoint, writes the same
//!   chat there, dumps it, and prints the command that dumps it again.
//! * `URL CUSTOMER_ID [CHAT_ID]`: logs in as that customer (through the token endpoint) and
//!   dumps the chat, by default the customer's most recent one. `chatio chat` prints your
//!   customer id when it connects (`customer id …`) and the chat ids with `:chats`.
//!
//! With a customer access token of your own, set `CHATIO_TOKEN=TOKEN` instead of giving a
//! customer id (`-` as CUSTOMER_ID). `CHATIO_LICENSE` picks the license (100 by default).

use std::process::ExitCode;
use std::time::Duration;

use chatio_customer_sdk::{
    ChatId, Config, Credentials, CustomerSdk, Pagination, SdkEvent, StartChat, TokenSource, UserId,
};
use futures::StreamExt;

const USAGE: &str = "usage: history_dump [URL [CUSTOMER_ID|- [CHAT_ID]]]";

fn main() -> ExitCode {
    match async_std::task::block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("history_dump: {e}");
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
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() > 3 || args.first().is_some_and(|a| a.starts_with('-')) {
        return Err(USAGE.into());
    }
    let license = match std::env::var("CHATIO_LICENSE") {
        Ok(l) => l.parse().map_err(|_| format!("CHATIO_LICENSE={l} is not a license number"))?,
        Err(_) => 100,
    };
    let server = match args.first() {
        None => Some(chatio_server::Server::builder().ephemeral().agent(false).licenses([license]).start().await?),
        Some(_) => None,
    };
    let url = match (&server, args.first()) {
        (Some(s), _) => s.http_url(),
        (None, Some(u)) => u.clone(),
        (None, None) => return Err(USAGE.into()),
    };
    let mut config = Config::new(license, "history-dump").server(url.clone()).history_page_events(20);
    match (args.get(1).map(String::as_str), std::env::var("CHATIO_TOKEN")) {
        (Some("-") | None, Ok(token)) => {
            config = config.token(TokenSource::Static(Credentials::bearer(token)));
        }
        (Some("-"), Err(_)) => return Err("`-` as CUSTOMER_ID needs CHATIO_TOKEN set to a customer token".into()),
        (Some(id), _) => config = config.token(TokenSource::AccountsFor(UserId::new(id))),
        (None, Err(_)) => {}
    }
    let sdk = CustomerSdk::init(config)?;
    // Bounded: a refused token or an unreachable server ends the run with the reason.
    let result = async_std::future::timeout(Duration::from_secs(60), dump(&sdk, &url, &args))
        .await
        .unwrap_or_else(|_| Err("no answer from the server within 60 s".into()));
    sdk.destroy().await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    result
}

async fn dump(sdk: &CustomerSdk, url: &str, args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let mut events = sdk.events();
    loop {
        match events.next().await {
            Some(SdkEvent::Connected { .. }) => break,
            Some(SdkEvent::Error(e)) => return Err(format!("cannot log in: {e}").into()),
            Some(SdkEvent::Disconnected { reason }) => return Err(format!("the server refused us: {reason}").into()),
            Some(_) => {}
            None => return Err("the session ended before it connected".into()),
        }
    }
    let me = sdk.customer_id();
    let chat = match (args.get(1), args.get(2)) {
        (_, Some(id)) => ChatId::new(id.clone()),
        (Some(_), None) => {
            let summary = sdk.chats_summary(Pagination::default()).await?;
            match summary.chats_summary.first() {
                Some(c) => c.id.clone(),
                None => return Err("this customer has no chat yet: start one with `chatio chat`".into()),
            }
        }
        (None, None) => write_sample_chat(sdk).await?,
    };
    let mut pages = Vec::new();
    let mut history = sdk.chat_history(&chat).await?;
    // `ChatHistory::next` (the JS-style page call) shadows `StreamExt::next`: name the trait.
    while let Some(batch) = StreamExt::next(&mut history).await {
        pages.push(batch?);
    }
    println!("chat {chat}: {} pages", pages.len());
    for (i, page) in pages.iter().rev().enumerate() {
        println!("-- page {} ({} events)", pages.len() - i, page.len());
        for e in page {
            let author = match &e.author {
                Some(a) if Some(a) == me.as_ref() => "you",
                Some(a) => a.as_str(),
                None => "system",
            };
            println!("{:>4} {author}: {}", e.order, e.kind);
        }
    }
    if let (Some(me), Some(_), None) = (me, args.first(), args.get(1)) {
        println!("dump it again: cargo run -p chatio-customer-sdk --example history_dump -- {url} {me} {chat}");
    }
    Ok(())
}

/// A chat with three threads of five messages.
async fn write_sample_chat(sdk: &CustomerSdk) -> Result<ChatId, Box<dyn std::error::Error>> {
    let chat = sdk.start_chat(StartChat::new()).await?;
    for t in 0..3 {
        for m in 0..5 {
            sdk.send_message(&chat.id, format!("thread {t}, message {m}")).await?;
        }
        sdk.close_thread(&chat.id).await?;
    }
    Ok(chat.id)
}
