//! The unread count in the tab's title while the tab is hidden: the host page's title (the
//! loader does it), and the window's own title when it is a page of its own. The tab is
//! hidden by minimizing the browser window (`document.hidden` turns true, as when the
//! visitor switches tabs); the agent writes at chosen moments through the Agent API.

use serde_json::json;

use crate::support::*;

/// The current page's title and whether the page is hidden.
async fn title_and_hidden(c: &fantoccini::Client) -> serde_json::Value {
    js(c, "[document.title, document.hidden]").await
}

async fn hide_tab(c: &fantoccini::Client) {
    c.minimize_window().await.expect("minimize the browser window");
    until(c, "document.hidden", "the tab hidden").await;
}

async fn show_tab(c: &fantoccini::Client) {
    c.set_window_size(1280, 800).await.expect("restore the browser window");
    until(c, "!document.hidden", "the tab shown").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn the_tab_title_counts_what_the_agent_wrote_while_the_tab_was_hidden() {
    let Some(env) = env("the tab title test") else { return };
    let server = server_with_agent(&env).await;
    let (jane, mut jev) = agent(&server).await;
    let host = host_site(host_page(&server.http_url(), "", "")).await;
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;

    // The host page: the visitor opens the chat and starts it; the agent gets it.
    c.goto(&host).await.expect("open the host page");
    until(&c, BUBBLE, "the bubble").await;
    element(&c, BUBBLE).await.click().await.expect("click the bubble");
    enter_widget(&c).await;
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
    say(&c, "Hello, is anyone there?").await;
    let chat = incoming_chat(&mut jev).await;
    jane.send_message(&chat, "Hi, I am Jane.").await.expect("the agent writes");
    until(&c, &has_text(".row.other", "Hi, I am Jane."), "the agent's first message").await;
    c.enter_parent_frame().await.unwrap();
    // Read while the visitor looks: the title stays the page's own.
    assert_eq!(title_and_hidden(&c).await, json!(["A shop", false]));

    // The visitor switches away (window open): the agent's messages count in the title.
    hide_tab(&c).await;
    jane.send_message(&chat, "Still there?").await.unwrap();
    until(&c, "document.title === '(1) A shop'", "one unread message in the host page's title").await;
    jane.send_message(&chat, "I will wait.").await.unwrap();
    until(&c, "document.title === '(2) A shop'", "two unread messages in the host page's title").await;
    // Back: read, the title is the page's own again, the bubble has no badge.
    show_tab(&c).await;
    until(&c, "document.title === 'A shop'", "the host page's own title back").await;
    until(&c, "window.chatio.unread === 0", "the unread count cleared").await;

    // Minimized into the bubble with the tab shown: the bubble counts, the title does not.
    c.execute("window.chatio.minimize()", vec![]).await.unwrap();
    jane.send_message(&chat, "A message for the bubble").await.unwrap();
    until(&c, "window.chatio.unread === 1", "the bubble's count").await;
    assert_eq!(title_and_hidden(&c).await, json!(["A shop", false]), "the title counts only while the tab is hidden");
    // Hidden now: the count the bubble has goes into the title; a title the page sets
    // meanwhile (a single-page app) is the one counted on and restored.
    hide_tab(&c).await;
    until(&c, "document.title === '(1) A shop'", "the bubble's count in the hidden tab's title").await;
    c.execute("document.title = 'Your cart'", vec![]).await.unwrap();
    jane.send_message(&chat, "Another one").await.unwrap();
    until(&c, "document.title === '(2) Your cart'", "the count on the page's new title").await;
    show_tab(&c).await;
    until(&c, "document.title === 'Your cart'", "the page's newest title back, the window still minimized").await;
    assert_eq!(js(&c, "window.chatio.unread").await, json!(2), "unread until the window is opened");
    c.execute("window.chatio.open()", vec![]).await.unwrap();
    until(&c, "window.chatio.unread === 0", "read once opened").await;

    // `data-title-badge="false"`: the site keeps its title.
    let quiet = host_site(host_page(&server.http_url(), "", "data-title-badge=\"false\"")).await;
    c.goto(&quiet).await.unwrap();
    until(&c, BUBBLE, "the bubble").await;
    c.execute("window.chatio.open()", vec![]).await.unwrap();
    enter_widget(&c).await;
    until(&c, &has_text(".row.other", "A message for the bubble"), "the conversation on the next page").await;
    c.enter_parent_frame().await.unwrap();
    hide_tab(&c).await;
    jane.send_message(&chat, "Not in the title").await.unwrap();
    until(&c, "window.chatio.unread === 1", "the bubble's count").await;
    assert_eq!(title_and_hidden(&c).await, json!(["A shop", true]), "data-title-badge=false leaves the title");
    show_tab(&c).await;

    // The window as a page of its own (`/widget/`): its own title counts.
    c.goto(&format!("{}/widget/?new", server.http_url())).await.unwrap();
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
    let own = js(&c, "document.title").await;
    let own = own.as_str().expect("a title").to_owned();
    say(&c, "Hello from the page of its own").await;
    let chat = incoming_chat(&mut jev).await;
    jane.send_message(&chat, "Hi again.").await.unwrap();
    until(&c, &has_text(".row.other", "Hi again."), "the agent's message").await;
    hide_tab(&c).await;
    jane.send_message(&chat, "Are you there?").await.unwrap();
    until(&c, &format!("document.title === {}", json!(format!("(1) {own}"))), "the count in the page's title").await;
    show_tab(&c).await;
    until(&c, &format!("document.title === {}", json!(own)), "the page's own title back").await;

    c.close().await.unwrap();
    jane.destroy().await;
    server.shutdown().await;
}
