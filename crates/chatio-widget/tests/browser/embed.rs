//! The widget on a host site: a page on a second origin with only the snippet.

use std::time::Duration;

use serde_json::json;

use crate::support::*;

/// CSS a careless (or hostile) site might have: every element unset, and a fixed box on top
/// of everything where the bubble goes.
const HOSTILE: &str = "<style>* { all: unset !important; } \
    #cover { display: block !important; position: fixed !important; right: 0 !important; bottom: 0 !important; \
    width: 240px !important; height: 240px !important; z-index: 2147483647 !important; \
    background: rgba(200, 0, 0, .15) !important; pointer-events: none !important; }</style>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn the_snippet_on_another_origin_costs_nothing_until_clicked_then_chats() {
    let Some(env) = env("the snippet test") else { return };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(300))
        .start()
        .await
        .expect("server");
    // A second page of the same site, with ordinary CSS and a label for the bubble.
    let host = host_site(host_page(&server.http_url(), "", "data-label=\"Chat with the shop\"")).await;
    let html = host_page(&server.http_url(), HOSTILE, "").replace("<body>", "<body><div id=\"cover\"></div>");
    let host_with_cover = host_site(html).await;
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;

    // The page: the bubble appears; nothing but the loader and embed.json was loaded, even
    // after the browser had time to be idle.
    c.goto(&host_with_cover).await.expect("open the host page");
    until(&c, BUBBLE, "the bubble").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let before = resources(&c).await;
    eprintln!("host page resources before the click: {before:?}");
    assert!(!before.iter().any(|(n, _)| n.contains(".wasm") || n.contains("index.html")), "{before:?}");
    assert_eq!(js(&c, FRAME).await, json!(null), "no chat window before the click");
    let widget_bytes: f64 = before.iter().filter(|(n, _)| n.contains("/widget/")).map(|(_, b)| *b).sum();
    eprintln!("bytes the host page paid for the widget before the click: {widget_bytes}");
    assert!(widget_bytes > 0.0 && widget_bytes <= 10.0 * 1024.0, "{widget_bytes} bytes before the click");
    // The bubble is on top of the page's own top-most box, and the hostile CSS left it round
    // and 60 px wide.
    let hit = js(
        &c,
        &format!(
            "(() => {{ const b = {BUBBLE}; const r = b.getBoundingClientRect(); \
             return [document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === document.querySelector('chatio-widget'), \
             Math.round(r.width), getComputedStyle(b).borderRadius]; }})()"
        ),
    )
    .await;
    assert_eq!(hit, json!([true, 60, "50%"]), "the bubble under hostile CSS");
    shot(&c, "host-hostile-css").await;

    // The click: the window opens (a real WebDriver click, which fails if something covers
    // the bubble), the wasm loads inside the iframe, and a conversation runs.
    element(&c, BUBBLE).await.click().await.expect("click the bubble");
    until(&c, &format!("{FRAME} && {FRAME}.getBoundingClientRect().width > 300"), "the open window").await;
    enter_widget(&c).await;
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
    let opened = resources(&c).await;
    assert!(opened.iter().any(|(n, _)| n.ends_with(".wasm")), "the window loaded the wasm: {opened:?}");
    let first_open: f64 = opened.iter().map(|(_, b)| *b).sum();
    eprintln!("bytes of the first open (the window's own resources): {first_open}");
    assert_eq!(js(&c, "document.documentElement.classList.contains('embedded')").await, json!(true));
    assert_eq!(js(&c, "document.getElementById('minimize').hidden").await, json!(false));
    say(&c, "Hello from a shop").await;
    until(&c, &has_text(".row.other", "You said: Hello from a shop"), "the agent's answer").await;
    shot(&c, "host-open").await;

    // Minimized right after sending: the answer arrives while the window is closed and the
    // bubble counts it.
    c.execute(
        "document.getElementById('input').value = '/echo while you were away'; \
         document.getElementById('composer').requestSubmit(); document.getElementById('minimize').click();",
        vec![],
    )
    .await
    .unwrap();
    c.enter_parent_frame().await.unwrap();
    until(&c, &format!("!{FRAME}.getBoundingClientRect().width"), "the window folded into the bubble").await;
    until(&c, "window.chatio.unread === 1", "one unread message").await;
    let badge = js(&c, &format!("[{BUBBLE}.querySelector('.n').textContent, {BUBBLE}.querySelector('.n').hidden, {BUBBLE}.getAttribute('aria-label')]")).await;
    assert_eq!(badge, json!(["1", false, "Chat with us (1 unread)"]));
    shot(&c, "host-unread").await;
    // Opened again: read.
    c.execute("window.chatio.open()", vec![]).await.unwrap();
    until(&c, "window.chatio.unread === 0", "the unread count cleared").await;
    assert_eq!(js(&c, &format!("{BUBBLE}.querySelector('.n').hidden")).await, json!(true));
    enter_widget(&c).await;
    until(&c, &has_text(".row.other", "while you were away"), "the message read").await;
    c.enter_parent_frame().await.unwrap();

    // The page's API tells the agent who the visitor is; the page URL went with `init`.
    c.execute(
        "window.chatio.setCustomer({name: 'Ada from the shop', email: 'ada@shop.example', fields: {plan: 'gold'}})",
        vec![],
    )
    .await
    .unwrap();
    // The second page: the loader with a label.
    c.goto(&host).await.unwrap();
    until(&c, BUBBLE, "the bubble on the second page").await;
    assert_eq!(js(&c, &format!("{BUBBLE}.getAttribute('aria-label')")).await, json!("Chat with the shop"));
    shot(&c, "host-bubble").await;
    // The same visitor on the second page (same site): the window shows the conversation.
    c.execute("window.chatio.open()", vec![]).await.unwrap();
    enter_widget(&c).await;
    until(&c, &has_text(".row.other", "while you were away"), "the history on the second page").await;
    c.enter_parent_frame().await.unwrap();
    shot(&c, "host-window").await;

    c.close().await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn a_site_not_allowed_gets_no_bubble_no_window_and_no_token() {
    let Some(env) = env("the not-allowed origin test") else { return };
    // License 100 may only be embedded by one origin, which is not the test's host page.
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .embed_origin(100, "https://shop.example")
        .start()
        .await
        .expect("server");
    let url = server.http_url();
    // The snippet, and a page that frames the chat window itself, bypassing the loader, and
    // listens for anything the window might post.
    let html = host_page(&url, "", "").replace(
        "</body>",
        &format!(
            "<script>window.__got = []; addEventListener('message', e => window.__got.push(String(e.data && e.data.type)));</script>\
             <iframe id=\"direct\" src=\"{url}/widget/index.html?license=100#embed=\"></iframe></body>"
        ),
    );
    let host = host_site(html).await;
    let embed_attr = host.trim_end_matches('/').to_owned();
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;
    let tokens_before = server.stats().tokens;
    c.goto(&host).await.unwrap();
    // The iframe's fragment names the page (so the window would talk to it if it ran).
    c.execute(&format!("document.getElementById('direct').src += encodeURIComponent({})", json!(embed_attr)), vec![])
        .await
        .unwrap();
    until(&c, "performance.getEntriesByType('resource').some(e => e.name.includes('embed.json'))", "embed.json").await;
    tokio::time::sleep(Duration::from_millis(3000)).await;
    assert_eq!(js(&c, "document.querySelector('chatio-widget')").await, json!(null), "no bubble");
    assert_eq!(js(&c, "typeof window.chatio").await, json!("undefined"), "no API");
    assert_eq!(js(&c, "window.__got").await, json!([]), "the framed window posted nothing");
    // The framed window did not render: frame-ancestors refused it.
    c.find(fantoccini::Locator::Id("direct")).await.unwrap().enter_frame().await.unwrap();
    let inside = js(&c, "[location.href, !!document.getElementById('composer')]").await;
    eprintln!("the directly framed window: {inside}");
    assert_eq!(inside[1], json!(false), "the chat window rendered on a site not allowed: {inside}");
    c.enter_parent_frame().await.unwrap();
    assert_eq!(server.stats().tokens, tokens_before, "a token was issued for the page not allowed");
    shot(&c, "not-allowed").await;
    c.close().await.unwrap();
    server.shutdown().await;
}
