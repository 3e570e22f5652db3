//! Dumps a chat's whole history, oldest first, paging back with `chat_history`.
//!
//! ```text
//! cargo run -p chatio-customer-sdk --example history_dump [-- URL [CUSTOMER_ID|resume|- [CHAT_ID]]]
//! ```
//!
//! * No arguments: starts the reference server in-process, writes a chat with three threads,
//!   and dumps it.
//! * `URL`: creates a new customer through the server's token endpoint, writes the same
//!   chat there, dumps it, and says how to dump it again.
//! * `URL resume [CHAT_ID]` with `CHATIO_REFRESH_TOKEN=…`: resumes the customer that refresh
//!   token belongs to (a customer id is not a credential, G11) and dumps the chat, by default
//!   the customer's most recent one.
//! * `URL CUSTOMER_ID [CHAT_ID]` with `CHATIO_APP_TOKEN=…` (the server's `--app-token`): as
//!   a server-side app, which may name the customer.
//! * `URL - [CHAT_ID]` with `CHATIO_TOKEN=TOKEN`: with a customer access token of your own.
//!
//! `CHATIO_LICENSE` picks the license (100 by default).

use std::process::ExitCode;
use std::time::Duration;

use chatio_customer_sdk::{
    ChatId, Config, Credentials, CustomerSdk, Pagination, SdkEvent, StartChat, Token, TokenSource, UserId,
};
use futures::StreamExt;

const USAGE: &str = "usage: history_dump [URL [CUSTOMER_ID|resume|- [CHAT_ID]]]";

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
    let latest = std::sync::Arc::new(std::sync::Mutex::new(None::<Token>));
    let kept = latest.clone();
    let mut config = Config::new(license, "history-dump")
        .server(url.clone())
        .redirect_uri("http://localhost/history-dump")
        .history_page_events(20)
        .on_refresh_token(move |t| *kept.lock().unwrap_or_else(|e| e.into_inner()) = Some(t.clone()));
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (args.get(1).map(String::as_str), env("CHATIO_TOKEN")) {
        (Some("-") | None, Some(token)) => {
            config = config.token(TokenSource::Static(Credentials::bearer(token)));
        }
        (Some("-"), None) => return Err("`-` as CUSTOMER_ID needs CHATIO_TOKEN set to a customer token".into()),
        (Some("resume"), _) => {
            let secret = env("CHATIO_REFRESH_TOKEN").ok_or("`resume` needs CHATIO_REFRESH_TOKEN set")?;
            config = config.token(TokenSource::AccountsResume(Token::new(secret)));
        }
        (Some(id), _) => {
            let app_token = env("CHATIO_APP_TOKEN").ok_or(
                "a customer id is not a credential: set CHATIO_APP_TOKEN (the server's --app-token), \
                 or resume a customer with `resume` and CHATIO_REFRESH_TOKEN",
            )?;
            config =
                config.token(TokenSource::AccountsFor { customer: UserId::new(id), app_token: Token::new(app_token) });
        }
        (None, None) => {}
    }
    let sdk = CustomerSdk::init(config)?;
    // Bounded: a refused token or an unreachable server ends the run with the reason.
    let result = async_std::future::timeout(Duration::from_secs(60), dump(&sdk, &args))
        .await
        .unwrap_or_else(|_| Err("no answer from the server within 60 s".into()));
    if let (Ok(chat), Some(_), None) = (&result, args.first(), args.get(1)) {
        let secret = latest.lock().unwrap_or_else(|e| e.into_inner()).clone();
        if let Some(secret) = secret {
            // The refresh token is this customer's secret: shown to you, never logged.
            println!(
                "dump it again: CHATIO_REFRESH_TOKEN={} cargo run -p chatio-customer-sdk --example history_dump -- {url} resume {chat}",
                secret.expose()
            );
        }
    }
    sdk.destroy().await;
    if let Some(s) = server {
        s.shutdown().await;
    }
    result.map(|_| ())
}

async fn dump(sdk: &CustomerSdk, args: &[String]) -> Result<ChatId, Box<dyn std::error::Error>> {
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
    Ok(chat)
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
