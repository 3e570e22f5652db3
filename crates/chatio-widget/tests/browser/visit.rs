//! The host page's URL and title reach the agent: the loader hands them to the window
//! (`init`, and `window.chatio.setPage()` for a single-page app), the window sends them with
//! the Customer API's `update_customer` (`customer.monitoring.page`), and the agent sees
//! them in the customer's `monitoring` on the Agent API (`current_visit.pages`, `referrer`).
//! A site that says `data-page="false"` sends none.

use std::time::Instant;

use chatio_agent_sdk::{AgentSdk, ChatId, CustomerMonitoring, UserType};
use serde_json::json;

use crate::support::*;

/// The customer's `monitoring` and name as the agent reads them now (a fresh
/// `get_filtered_chats`, not the SDK's cached view).
async fn seen_by_agent(jane: &AgentSdk, chat: &ChatId) -> (Option<CustomerMonitoring>, Option<String>) {
    let chats = jane.get_filtered_chats(None).await.expect("get_filtered_chats");
    let customer = chats
        .iter()
        .find(|c| &c.id == chat)
        .and_then(|c| c.users.iter().find(|u| u.kind == UserType::Customer))
        .cloned();
    customer.map_or((None, None), |u| (u.monitoring.map(|m| *m), u.name))
}

/// The `(url, title)` of the pages of the customer's current visit, as the agent sees them.
fn pages(m: Option<&CustomerMonitoring>) -> Vec<(String, String)> {
    m.and_then(|m| m.current_visit.as_ref())
        .map(|v| {
            v.pages.iter().map(|p| (p.url.clone().unwrap_or_default(), p.title.clone().unwrap_or_default())).collect()
        })
        .unwrap_or_default()
}

/// Waits until what the agent sees satisfies `f`; fails with the last view.
async fn until_agent_sees(
    jane: &AgentSdk,
    chat: &ChatId,
    what: &str,
    f: impl Fn(Option<&CustomerMonitoring>, Option<&str>) -> bool,
) -> Option<CustomerMonitoring> {
    let deadline = Instant::now() + WAIT;
    loop {
        let (m, name) = seen_by_agent(jane, chat).await;
        if f(m.as_ref(), name.as_deref()) {
            return m;
        }
        assert!(Instant::now() < deadline, "timed out waiting for the agent to see {what}; the agent sees {m:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn the_agent_sees_the_pages_the_visitor_is_on() {
    let Some(env) = env("the page URL and title test") else { return };
    let server = server_with_agent(&env).await;
    let (jane, mut jev) = agent(&server).await;
    let host = host_site(host_page(&server.http_url(), "", "")).await;
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;

    // The visitor comes from the site's landing page to a product page (a link, so the
    // browser has a referrer), opens the chat and writes.
    c.goto(&format!("{host}landing")).await.unwrap();
    let product = format!("{host}products/42?colour=blue");
    c.execute(&format!("location.href = {}", json!(product)), vec![]).await.unwrap();
    until(&c, &format!("location.href === {} && {BUBBLE}", json!(product)), "the product page's bubble").await;
    element(&c, BUBBLE).await.click().await.expect("click the bubble");
    enter_widget(&c).await;
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
    say(&c, "Is this one in stock?").await;
    let chat = incoming_chat(&mut jev).await;
    let m = until_agent_sees(&jane, &chat, "the product page", |m, _| !pages(m).is_empty()).await;
    assert_eq!(pages(m.as_ref()), vec![(product.clone(), "A shop".to_owned())], "{m:?}");
    let m = m.expect("monitoring");
    assert_eq!(m.referrer.as_deref(), Some(format!("{host}landing").as_str()), "the referrer: {m:?}");
    assert!(m.current_visit.as_ref().and_then(|v| v.start).is_some(), "the visit's start: {m:?}");
    assert!(m.current_visit.as_ref().is_some_and(|v| v.pages[0].start.is_some()), "the page's start: {m:?}");

    // A single-page app moves on and says so: a second page, the newest last.
    c.enter_parent_frame().await.unwrap();
    c.execute("history.pushState({}, '', '/cart'); document.title = 'Your cart'; window.chatio.setPage();", vec![])
        .await
        .unwrap();
    let cart = format!("{host}cart");
    let m = until_agent_sees(&jane, &chat, "the cart", |m, _| pages(m).len() >= 2).await;
    assert_eq!(
        pages(m.as_ref()),
        vec![(product.clone(), "A shop".to_owned()), (cart.clone(), "Your cart".to_owned())],
        "{m:?}"
    );
    // The same page again is not a new page.
    c.execute("window.chatio.setPage(); window.chatio.setCustomer({name: 'Ada'})", vec![]).await.unwrap();
    let m = until_agent_sees(&jane, &chat, "the visitor's name", |_, name| name == Some("Ada")).await;
    assert_eq!(pages(m.as_ref()).len(), 2, "the same page counted twice: {m:?}");

    // Another page of the site (a full load): the window comes back and says where it is.
    let checkout = format!("{host}checkout");
    c.goto(&checkout).await.unwrap();
    until(&c, BUBBLE, "the bubble on the checkout page").await;
    c.execute("window.chatio.open()", vec![]).await.unwrap();
    let m = until_agent_sees(&jane, &chat, "the checkout page", |m, _| pages(m).len() >= 3).await;
    assert_eq!(pages(m.as_ref())[2], (checkout, "A shop".to_owned()), "{m:?}");

    // A site that keeps its pages to itself: `data-page="false"`.
    let private = host_site(host_page(&server.http_url(), "", "data-page=\"false\"")).await;
    c.goto(&format!("{private}account/settings")).await.unwrap();
    until(&c, BUBBLE, "the bubble on the private page").await;
    c.execute(
        "window.chatio.open(); window.chatio.setPage(); window.chatio.setCustomer({name: 'Ada Lovelace'})",
        vec![],
    )
    .await
    .unwrap();
    // The name is sent after anything the page would have sent: once the agent has it,
    // a page would be there too.
    let m = until_agent_sees(&jane, &chat, "the new name", |_, name| name == Some("Ada Lovelace")).await;
    assert!(!pages(m.as_ref()).iter().any(|(u, _)| u.contains("account")), "data-page=false sent the page: {m:?}");

    c.close().await.unwrap();
    jane.destroy().await;
    server.shutdown().await;
}
