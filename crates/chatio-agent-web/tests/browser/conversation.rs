//! The features of a conversation beyond messages, a person in the agent page and a visitor
//! on our customer SDK in one chat: typing both ways (the agent's indicator sent once while
//! composing and stopped when idle or sent; the visitor's sneak peek on the page).

use std::time::Duration;

use chatio_customer_sdk::{ChatId, CustomerData, CustomerSdk, EventKind, Events, File, NewEvent, SdkEvent, StartChat};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn files_both_ways_and_a_picture_too_big_or_not_a_picture() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let mut t = conversation(&env).await;
    let (c, visitor, chat) = (&t.c, &t.visitor, &t.chat);
    let me = visitor.customer_id().expect("the visitor is logged in");
    // A real picture: the browser's own screenshot.
    let png = c.screenshot().await.expect("a screenshot");
    let dir = root().join("target/widget-test");
    std::fs::create_dir_all(&dir).unwrap();

    // The visitor's picture: a link with its thumbnail, which loads.
    visitor.send_file(chat, File::bytes("parcel-label.png", png.clone())).await.expect("the visitor's file");
    until(c, &has_text("#log .line.other a.file", "parcel-label.png"), "the visitor's file as a link").await;
    until(
        c,
        "[...document.querySelectorAll('#log .line.other a.file img.thumb')].some(i => i.complete && i.naturalWidth > 0)",
        "the thumbnail loaded",
    )
    .await;
    let link =
        js(c, "[document.querySelector('#log a.file').protocol, document.querySelector('#log a.file').rel]").await;
    assert_eq!(link, serde_json::json!(["http:", "noopener noreferrer"]));

    // The agent's picture: chosen in the file field, uploaded, posted; the visitor gets it.
    let picture = dir.join("agent-page-picture.png");
    std::fs::write(&picture, &png).unwrap();
    let field = element(c, "document.getElementById('picture')").await;
    field.send_keys(&picture.to_string_lossy()).await.expect("choose the picture");
    let url = visitor_sees(&mut t.vev, "the agent's picture", |e| match e {
        SdkEvent::NewEvent { event, .. } => match &event.kind {
            EventKind::RichMessage(r) => r.elements.iter().find_map(|el| el.image.as_ref().map(|i| i.url.clone())),
            _ => None,
        },
        _ => None,
    })
    .await;
    assert!(url.starts_with(t.server.http_url().as_str()), "{url}");
    until(c, &has_text("#log .line.me a.file", "agent-page-picture.png"), "the agent's picture on the page").await;
    until(
        c,
        "[...document.querySelectorAll('#log .line.me a.file img.thumb')].some(i => i.complete && i.naturalWidth > 0)",
        "the agent's thumbnail loaded",
    )
    .await;

    // Over 10 MiB: refused on the page, nothing sent. Not a picture: the server's refusal,
    // as a sentence.
    let big = dir.join("agent-page-too-big.png");
    std::fs::write(&big, vec![0x5au8; 10 * 1024 * 1024 + 1]).unwrap();
    field.send_keys(&big.to_string_lossy()).await.unwrap();
    until(c, &has_text("#error", "“agent-page-too-big.png” is too big to send"), "the size refusal").await;
    let text = dir.join("agent-page-notes.txt");
    std::fs::write(&text, "not a picture").unwrap();
    field.send_keys(&text.to_string_lossy()).await.unwrap();
    until(c, &has_text("#error", "“agent-page-notes.txt” was not sent: only PNG, GIF and JPEG"), "the type refusal")
        .await;
    // The agent's next message is the next thing the visitor receives: nothing came of the
    // two refused files.
    let reply = element(c, "document.getElementById('reply')").await;
    reply.send_keys("Agent: anything else?").await.unwrap();
    press(c, Key::Enter).await;
    let next = visitor_sees(&mut t.vev, "the agent's next event", |e| match e {
        SdkEvent::NewEvent { event, .. } if event.author.as_ref() != Some(&me) => {
            Some(event.text().unwrap_or("(not a message)").to_owned())
        }
        _ => None,
    })
    .await;
    assert_eq!(next, "Agent: anything else?", "nothing reached the visitor from the two refused files");
    assert_eq!(js(c, "document.querySelectorAll('#log a.file').length").await, serde_json::json!(2));
    t.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn back_to_the_queue_and_a_ban_each_after_asking() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let mut t = conversation(&env).await;
    let (c, visitor, chat) = (&t.c, &t.visitor, &t.chat);
    // Not accepting chats, so that the router does not give the chat straight back.
    js(c, "document.getElementById('accepting').click()").await;
    until(c, "!document.getElementById('accepting').checked", "not accepting").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Back to the queue: asked first; declined, nothing happens.
    element(c, "document.getElementById('to-queue')").await.click().await.unwrap();
    let asked = c.get_alert_text().await.expect("a question before the transfer");
    assert_eq!(asked, "Put the chat with Ann Visitor back in the queue? You leave it, and another agent can take it.");
    c.dismiss_alert().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(js(c, "document.querySelectorAll('#waiting .chat').length").await, serde_json::json!(0));
    // Accepted: the chat leaves "My chats" for the queue; the visitor hears the agent left.
    element(c, "document.getElementById('to-queue')").await.click().await.unwrap();
    c.accept_alert().await.unwrap();
    visitor_sees(&mut t.vev, "the agent leaving", |e| match e {
        SdkEvent::UserLeftChat { chat: left, .. } if left == chat => Some(()),
        _ => None,
    })
    .await;
    until(c, &has_text("#waiting .chat", "Ann Visitor"), "the chat back in the queue").await;
    until(c, &has_text("#log .line.system", "You left this chat."), "the leave on the page").await;
    until(c, "document.querySelectorAll('#mine .chat').length === 0", "no chat of mine").await;

    // Taken again, then the visitor is banned for the days chosen (asked first).
    js(c, "document.querySelector('#waiting button.take').click()").await;
    until(c, "!document.getElementById('composer').hidden", "the chat open again").await;
    js(c, "document.getElementById('ban-days').value = '30'").await;
    element(c, "document.getElementById('ban')").await.click().await.unwrap();
    let asked = c.get_alert_text().await.expect("a question before the ban");
    assert!(asked.starts_with("Ban Ann Visitor for 30 days?"), "{asked}");
    c.accept_alert().await.unwrap();
    visitor_sees(&mut t.vev, "the ban", |e| match e {
        SdkEvent::Disconnected { reason, .. } => Some(reason.to_string()),
        _ => None,
    })
    .await;
    until(c, &has_text("#log .line.system", "Ann Visitor is banned for 30 days."), "the ban on the page").await;
    until(c, &has_text("#log .line.system", "The chat is closed."), "the chat closed by the ban").await;
    until(c, "document.getElementById('composer').hidden", "no reply box after the ban").await;
    let _ = visitor;
    t.end().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn the_visitor_s_details_beside_the_conversation_follow_the_visitor() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let t = conversation(&env).await;
    let (c, visitor) = (&t.c, &t.visitor);
    until(c, &has_text("#visitor-facts", "Ann Visitor"), "the visitor's name beside the conversation").await;
    // What the visitor's page reports reaches the panel live (customer_updated).
    let data = serde_json::from_value(serde_json::json!({
        "email": "ann@example.com",
        "fields": {"order": "A-17"},
        "monitoring": {"page": {"url": "https://shop.example/cart", "title": "Your cart"}}
    }))
    .expect("customer data");
    visitor.update_customer(data).await.expect("the visitor's data");
    until(c, &has_text("#visitor-facts", "ann@example.com"), "the e-mail").await;
    until(c, &has_text("#visitor-facts", "A-17"), "a custom field").await;
    until(c, &has_text("#visitor-pages a", "Your cart"), "the page of the visit").await;
    let facts = js(
        c,
        "[document.querySelector('#visitor-pages a').href, document.getElementById('visitor-pages-empty').hidden,\
          [...document.querySelectorAll('#visitor-facts dt')].map(d => d.textContent + ': ' + d.nextElementSibling.textContent)]",
    )
    .await;
    assert_eq!(facts[0], serde_json::json!("https://shop.example/cart"));
    assert_eq!(facts[1], serde_json::json!(true));
    let facts: Vec<&str> = facts[2].as_array().expect("facts").iter().filter_map(|f| f.as_str()).collect();
    assert!(facts.contains(&"Visits: 1"), "{facts:?}");
    t.end().await;
}
