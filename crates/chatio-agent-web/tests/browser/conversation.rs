//! The features of a conversation beyond messages, a person in the agent page and a visitor
//! on our customer SDK in one chat: typing both ways (the agent's indicator sent once while
//! composing and stopped when idle or sent; the visitor's sneak peek on the page).

use std::time::Duration;

use chatio_customer_sdk::{ChatId, CustomerData, CustomerSdk, Events, NewEvent, SdkEvent, StartChat};
use fantoccini::Client;
use fantoccini::key::Key;
use futures::StreamExt;

use crate::page::{TOKEN, page_built, server, sign_in, visitor_sees};
use crate::support::*;

/// A signed-in page (accepting chats) and a visitor, "Ann Visitor", whose new chat the
/// server routed to the agent: the page has it open.
struct Conversation {
    _driver: Driver,
    c: Client,
    server: chatio_server::ServerHandle,
    visitor: CustomerSdk,
    vev: Events,
    chat: ChatId,
}

async fn conversation(env: &Env) -> Conversation {
    let server = server(env).await;
    let (driver, c) = browser(env, Screen::Desktop(1280, 800)).await;
    c.goto(&format!("{}/agent/", server.http_url())).await.unwrap();
    sign_in(&c, TOKEN).await;
    until(&c, "document.getElementById('status').textContent.startsWith('Signed in as')", "signed in").await;
    until(&c, "document.getElementById('accepting').checked", "accepting chats after sign-in").await;
    let visitor = CustomerSdk::init(
        chatio_customer_sdk::Config::new(crate::page::LICENSE, "agent-page-conversation")
            .server(server.http_url())
            .seed(5),
    )
    .expect("the visitor's SDK");
    let mut vev = visitor.events();
    visitor_sees(&mut vev, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    visitor.update_customer(CustomerData::new().name("Ann Visitor")).await.expect("the visitor's name");
    let chat = visitor
        .start_chat(StartChat::new().with_event(NewEvent::message("Hello?")))
        .await
        .expect("the visitor starts a chat")
        .id;
    until(&c, &has_text("#chat-title", "Chat with Ann Visitor"), "the routed chat open").await;
    until(&c, &has_text("#log .line.other", "Hello?"), "the visitor's first message").await;
    Conversation { _driver: driver, c, server, visitor, vev, chat }
}

impl Conversation {
    async fn end(self) {
        self.visitor.destroy().await;
        self.c.close().await.unwrap();
        self.server.shutdown().await;
    }
}

/// What the visitor hears of the agent while it writes, in order, until `last` (a message
/// text) arrives: `typing`, `stopped`, `message: …`.
async fn visitor_hears_until(events: &mut Events, last: &str) -> Vec<String> {
    let mut heard = Vec::new();
    let found = tokio::time::timeout(WAIT, async {
        while let Some(e) = events.next().await {
            match &e {
                SdkEvent::UserIsTyping { .. } => heard.push("typing".to_owned()),
                SdkEvent::UserStoppedTyping { .. } => heard.push("stopped".to_owned()),
                SdkEvent::NewEvent { event, .. } => {
                    if let Some(t) = event.text().filter(|t| t.starts_with("Agent:")) {
                        heard.push(format!("message: {t}"));
                        if t == last {
                            return true;
                        }
                    }
                }
                _ => {}
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "the visitor did not receive {last:?}; heard {heard:?}");
    heard
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn typing_shows_both_ways() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let mut t = conversation(&env).await;
    let (c, visitor, chat) = (&t.c, &t.visitor, &t.chat);

    // The visitor's sneak peek shows under the conversation, and goes with their message.
    visitor.set_sneak_peek(chat, "Where is my").expect("a sneak peek");
    until(c, &has_text("#typing", "Ann Visitor is typing: Where is my"), "the visitor's sneak peek").await;
    visitor.send_message(chat, "Where is my parcel?").await.expect("the visitor writes");
    until(c, &has_text("#log .line.other", "Where is my parcel?"), "the visitor's message").await;
    assert_eq!(js(c, "document.getElementById('typing').textContent").await, serde_json::json!(""));

    // The agent writes a whole sentence, key by key, and sends it: one "typing" (not one a
    // key), "stopped" before the message.
    let reply = element(c, "document.getElementById('reply')").await;
    reply.send_keys("Agent: let me check that for you").await.unwrap();
    press(c, Key::Enter).await;
    let heard = visitor_hears_until(&mut t.vev, "Agent: let me check that for you").await;
    assert_eq!(heard, ["typing", "stopped", "message: Agent: let me check that for you"]);

    // The agent starts writing and pauses: "stopped" after the idle time, then one "typing"
    // again when it goes on.
    reply.send_keys("Agent: found").await.unwrap();
    let started = std::time::Instant::now();
    visitor_sees(&mut t.vev, "the agent typing", |e| matches!(e, SdkEvent::UserIsTyping { .. }).then_some(())).await;
    let stopped = tokio::time::timeout(Duration::from_secs(12), async {
        while let Some(e) = t.vev.next().await {
            match e {
                SdkEvent::UserStoppedTyping { .. } => return Ok(()),
                SdkEvent::UserIsTyping { .. } => return Err("a second \"typing\" while typing"),
                _ => {}
            }
        }
        Err("the visitor's events ended")
    })
    .await;
    assert_eq!(stopped, Ok(Ok(())), "the agent's typing stops by itself when idle");
    assert!(started.elapsed() >= Duration::from_secs(4), "not before the idle time: {:?}", started.elapsed());
    reply.send_keys(" it").await.unwrap();
    press(c, Key::Enter).await;
    let heard = visitor_hears_until(&mut t.vev, "Agent: found it").await;
    assert_eq!(heard, ["typing", "stopped", "message: Agent: found it"]);
    until(c, &has_text("#log .line.me", "Agent: found it"), "the reply on the page").await;

    t.end().await;
}
