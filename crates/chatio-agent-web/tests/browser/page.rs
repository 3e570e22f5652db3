//! A person in the agent page and a visitor on our customer SDK hold a conversation: sign in
//! with the token (by keyboard), stop accepting chats, the visitor's chat waits in the queue,
//! Take, the visitor's messages arrive live, the reply reaches the visitor, Close. The token
//! is never in the URL or the page; axe-core finds no WCAG A/AA violation (light and dark).
//! And a wrong token brings the sign-in form back with a sentence.

use std::time::Duration;

use chatio_customer_sdk::{CustomerData, CustomerSdk, Events, NewEvent, SdkEvent, StartChat};
use fantoccini::Client;
use fantoccini::key::Key;
use futures::StreamExt;
use serde_json::json;

use crate::support::*;

pub(crate) const LICENSE: u64 = 100;
pub(crate) const TOKEN: &str = "jane-page-token-0123456789";

pub(crate) fn page_built(env: &Env) -> bool {
    let built = env.assets.join("agent/index.html").is_file();
    if !built {
        let why = "the agent page is not built in target/widget/agent (run `cargo xtask widget`)";
        if std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require") {
            panic!("CHATIO_BROWSER_TESTS=require, but {why}");
        }
        eprintln!("SKIPPED the agent page test: {why}");
    }
    built
}

pub(crate) async fn server(env: &Env) -> chatio_server::ServerHandle {
    chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_token(LICENSE, "jane@example.com", TOKEN)
        .start()
        .await
        .expect("server")
}

async fn focused_id(c: &Client) -> serde_json::Value {
    js(c, "document.activeElement && (document.activeElement.id || document.activeElement.className)").await
}

/// The visitor's next event that `f` picks, within the browser tests' wait.
/// A server whose agent, Ann, signs in with links (no token of the configuration).
async fn server_with_ann(env: &Env) -> chatio_server::ServerHandle {
    chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_config(chatio_server::AgentConfig::new(LICENSE, "ann@example.com"))
        .start()
        .await
        .expect("server")
}

pub(crate) async fn visitor_sees<T>(events: &mut Events, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> T {
    let found = tokio::time::timeout(WAIT, async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return Some(t);
            }
        }
        None
    })
    .await;
    match found {
        Ok(Some(t)) => t,
        Ok(None) => panic!("the visitor's events ended while waiting for {what}"),
        Err(_) => panic!("timed out waiting for the visitor to see {what}"),
    }
}

pub(crate) async fn sign_in(c: &Client, token: &str) {
    until(c, "!document.getElementById('signin-fields').disabled", "the sign-in form enabled").await;
    // Keyboard: the token field is the first stop of Tab.
    press(c, Key::Tab).await;
    assert_eq!(focused_id(c).await, json!("token"), "Tab from the page start reaches the token field first");
    c.active_element().await.unwrap().send_keys(token).await.unwrap();
    press(c, Key::Enter).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn a_person_signs_in_takes_a_chat_answers_and_closes_it() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let required = std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let axe_js = match axe_source() {
        Ok(s) => s,
        Err(why) if required => panic!("CHATIO_BROWSER_TESTS=require, but {why}"),
        Err(why) => return eprintln!("SKIPPED the agent page test: {why}"),
    };
    let server = server(&env).await;
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;
    c.goto(&format!("{}/agent/", server.http_url())).await.unwrap();
    sign_in(&c, TOKEN).await;
    until(&c, "document.getElementById('status').textContent.startsWith('Signed in as')", "signed in").await;
    let leaks = js(
        &c,
        &format!(
            "[location.href.includes({t}), document.documentElement.outerHTML.includes({t}), document.getElementById('token').value]",
            t = json!(TOKEN)
        ),
    )
    .await;
    assert_eq!(leaks, json!([false, false, ""]), "the token stays out of the URL, the page and the field");

    // Not accepting chats (by keyboard: Space on the switch): a new chat waits in the queue.
    until(&c, "document.getElementById('accepting').checked", "accepting chats after sign-in").await;
    js(&c, "document.getElementById('accepting').focus()").await;
    press(&c, Key::Space).await;
    until(&c, "!document.getElementById('accepting').checked", "not accepting").await;
    // The switch answers the server's push; give the request its round trip before the chat.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let visitor = CustomerSdk::init(
        chatio_customer_sdk::Config::new(LICENSE, "agent-page-test").server(server.http_url()).seed(3),
    )
    .expect("the visitor's SDK");
    let mut vev = visitor.events();
    visitor_sees(&mut vev, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    visitor.update_customer(CustomerData::new().name("Ann Visitor")).await.expect("the visitor's name");
    let chat = visitor
        .start_chat(StartChat::new().with_event(NewEvent::message("Hello, is anyone there?")))
        .await
        .expect("the visitor starts a chat");

    until(&c, &has_text("#waiting .chat", "Ann Visitor"), "the chat in the queue").await;
    until(&c, &has_text("#waiting .preview", "Hello, is anyone there?"), "the queue's preview").await;
    assert_eq!(js(&c, "document.getElementById('waiting-count').textContent").await, json!("1"));
    // Keyboard: Tab from the switch reaches the queue's Take button; Enter takes the chat.
    press(&c, Key::Tab).await;
    let take_label = js(&c, "document.activeElement.getAttribute('aria-label')").await;
    assert_eq!(take_label, json!("Take the chat with Ann Visitor"));
    press(&c, Key::Enter).await;
    until(&c, &has_text("#chat-title", "Chat with Ann Visitor"), "the chat open").await;
    until(&c, &has_text("#log .line.other", "Hello, is anyone there?"), "the visitor's first message").await;
    until(&c, &has_text("#mine .chat", "Ann Visitor"), "the chat among mine").await;
    until(&c, "document.querySelectorAll('#waiting .chat').length === 0", "the queue empty").await;
    assert_eq!(focused_id(&c).await, json!("reply"), "the reply box has the focus once the chat is open");

    // Live: the visitor writes, the page shows it.
    visitor.send_message(&chat.id, "My parcel did not arrive").await.expect("the visitor writes");
    until(&c, &has_text("#log .line.other", "My parcel did not arrive"), "the visitor's message, live").await;

    // The agent answers by keyboard; the visitor receives it.
    c.active_element().await.unwrap().send_keys("Sorry to hear that. Let me check.").await.unwrap();
    press(&c, Key::Enter).await;
    until(&c, &has_text("#log .line.me", "Sorry to hear that. Let me check."), "the reply on the page").await;
    let heard = visitor_sees(&mut vev, "the agent's reply", |e| match e {
        SdkEvent::NewEvent { event, .. } => event.text().filter(|t| t.starts_with("Sorry to hear")).map(str::to_owned),
        _ => None,
    })
    .await;
    assert_eq!(heard, "Sorry to hear that. Let me check.");

    // Accessibility of the working page, light and dark.
    for scheme in ["light", "dark"] {
        c.issue_cmd(ColorScheme(scheme)).await.expect("emulate the colour scheme");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let violations = axe(&c, &axe_js).await;
        shot(&c, &format!("agent-page-{scheme}")).await;
        assert_eq!(violations, json!([]), "axe-core ({scheme}) found WCAG A/AA violations in the agent page");
    }

    // Close (keyboard: Tab from the reply box, past Send, to Close chat).
    press(&c, Key::Tab).await;
    press(&c, Key::Tab).await;
    assert_eq!(focused_id(&c).await, json!("close-chat"));
    press(&c, Key::Enter).await;
    visitor_sees(&mut vev, "the thread closed", |e| match e {
        SdkEvent::ThreadClosed { chat: closed, .. } if *closed == chat.id => Some(()),
        _ => None,
    })
    .await;
    until(&c, &has_text("#log .line.system", "The chat is closed."), "the close on the page").await;
    until(&c, "document.getElementById('composer').hidden", "no reply box on a closed chat").await;

    // Sign out: back to the form, nothing of the token kept.
    js(&c, "document.getElementById('sign-out').click()").await;
    until(&c, "!document.getElementById('signin-view').hidden", "the sign-in form again").await;
    // A token of the server's configuration is not revoked (H51): the page says so.
    until(&c, &has_text("#signin-error", "stays valid until the operator removes it"), "the note on a fixed token")
        .await;
    assert_eq!(js(&c, &format!("document.documentElement.outerHTML.includes({})", json!(TOKEN))).await, json!(false));

    visitor.destroy().await;
    c.close().await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn a_wrong_token_brings_the_form_back_with_a_sentence() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let server = server(&env).await;
    let (_driver, c) = browser(&env, Screen::Desktop(1024, 768)).await;
    c.goto(&format!("{}/agent/", server.http_url())).await.unwrap();
    sign_in(&c, "not-a-token-of-this-server").await;
    until(&c, &has_text("#signin-error", "The server did not accept this token"), "the refusal on the sign-in form")
        .await;
    let state = js(
        &c,
        "[location.href.includes('not-a-token'), document.getElementById('signin-view').hidden, \
          document.getElementById('console').hidden, document.getElementById('signin-fields').disabled]",
    )
    .await;
    assert_eq!(state, json!([false, false, true, false]), "the form is back and usable; the token is not in the URL");
    // Served never to be framed, without a referrer; not under /widget/.
    let headers = c
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             Promise.all([fetch('/agent/'), fetch('/widget/agent/')]).then(([a, w]) => done([\
               a.headers.get('content-security-policy'), a.headers.get('referrer-policy'), w.status]))\
             .catch(e => done(String(e)));",
            vec![],
        )
        .await
        .expect("fetch the page's headers");
    let csp = headers[0].as_str().unwrap_or_default();
    assert!(csp.contains("frame-ancestors 'none'"), "{headers}");
    assert_eq!((&headers[1], &headers[2]), (&json!("no-referrer"), &json!(404)), "{headers}");
    c.close().await.unwrap();
    server.shutdown().await;
}

/// A sign-in link (H9): opened in the browser, the agent page exchanges its code and signs
/// the person in; the code leaves the address bar at once; the link works once. The page
/// that shows the token instead (for `chatio agent`, `/agent/sign-in`) works the same way
/// and passes axe-core (light and dark).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn a_sign_in_link_signs_a_person_in_once() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let required = std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let axe_js = match axe_source() {
        Ok(s) => s,
        Err(why) if required => panic!("CHATIO_BROWSER_TESTS=require, but {why}"),
        Err(why) => return eprintln!("SKIPPED the agent page test: {why}"),
    };
    let server = server_with_ann(&env).await;
    let link = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    assert!(link.starts_with(&format!("{}/agent/#code=", server.http_url())), "the agent page is served: {link}");
    let code = link.split_once("#code=").map(|(_, c)| c.to_owned()).expect("a code");
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;
    c.goto(&link).await.unwrap();
    until(&c, "document.getElementById('status').textContent.startsWith('Signed in as')", "signed in by the link")
        .await;
    let state = js(
        &c,
        &format!(
            "[location.href.includes({code}), location.hash, document.documentElement.outerHTML.includes({code}), \
              document.getElementById('console').hidden]",
            code = json!(code)
        ),
    )
    .await;
    assert_eq!(state, json!([false, "", false, false]), "the code is out of the address bar and the page");
    until(&c, &has_text("#status", "ann"), "signed in as Ann").await;

    // The same link again (a second tab, say): refused with a sentence, the form usable.
    js(&c, "document.getElementById('sign-out').click()").await;
    until(&c, "!document.getElementById('signin-view').hidden", "the sign-in form again").await;
    c.goto("about:blank").await.unwrap();
    c.goto(&link).await.unwrap();
    until(&c, &has_text("#signin-error", "already used"), "the used link refused").await;
    assert_eq!(js(&c, "document.getElementById('signin-fields').disabled").await, json!(false));

    // The page that shows the token, with a fresh link.
    let link = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    let code = link.split_once("#code=").map(|(_, c)| c.to_owned()).expect("a code");
    c.goto(&format!("{}/agent/sign-in#code={code}", server.http_url())).await.unwrap();
    until(&c, &has_text("#result", "Signed in as ann@example.com"), "the token page signed in").await;
    let token = js(&c, "document.getElementById('token').value").await;
    let token = token.as_str().expect("the token in the field").to_owned();
    assert!(token.len() > 30, "{token}");
    assert_eq!(
        js(&c, &format!("[location.hash, location.href.includes({})]", json!(code))).await,
        json!(["", false]),
        "the code is out of the address bar"
    );
    for scheme in ["light", "dark"] {
        c.issue_cmd(ColorScheme(scheme)).await.expect("emulate the colour scheme");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let violations = axe(&c, &axe_js).await;
        shot(&c, &format!("agent-sign-in-{scheme}")).await;
        assert_eq!(violations, json!([]), "axe-core ({scheme}) found WCAG A/AA violations in the sign-in page");
    }
    // The token it showed is an agent token: the agent page takes it.
    c.goto(&format!("{}/agent/", server.http_url())).await.unwrap();
    sign_in(&c, &token).await;
    until(&c, "document.getElementById('status').textContent.startsWith('Signed in as')", "signed in by token").await;
    c.close().await.unwrap();
    server.shutdown().await;
}

/// Sign out revokes the token on the server (H51): the page posts it to `/agent/sign-out`
/// before it forgets it, and the server refuses it from then on (checked over HTTP).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built agent page): cargo xtask widget, then cargo test -p chatio-agent-web --test browser -- --include-ignored"]
async fn signing_out_revokes_the_token_on_the_server() {
    let Some(env) = env("the agent page test") else { return };
    if !page_built(&env) {
        return;
    }
    let server = server_with_ann(&env).await;
    let (_driver, c) = browser(&env, Screen::Desktop(1280, 800)).await;
    c.goto(&format!("{}/agent/", server.http_url())).await.unwrap();
    // A token the server issues (what the sign-in page shows for a link), over HTTP.
    let link = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    let code = link.split_once("#code=").map(|(_, c)| c.to_owned()).expect("a code");
    let answer = c
        .execute_async(
            "const [code, done] = arguments;\
             fetch('/agent/sign-in', {method: 'POST', body: new URLSearchParams({code})})\
               .then(r => r.json()).then(a => done(a.access_token)).catch(e => done(String(e)));",
            vec![json!(code)],
        )
        .await
        .expect("the code exchanged");
    let token = answer.as_str().expect("a token").to_owned();
    let web_api_status = |token: String| {
        let c = c.clone();
        async move {
            c.execute_async(
                "const [token, done] = arguments;\
                 fetch('/agent/v0.5/action/get_filtered_chats', {method: 'POST',\
                   headers: {authorization: 'Bearer ' + token, 'content-type': 'application/json'}, body: '{}'})\
                   .then(r => done(r.status)).catch(e => done(String(e)));",
                vec![json!(token)],
            )
            .await
            .expect("a Web API call")
        }
    };
    assert_eq!(web_api_status(token.clone()).await, json!(200));
    sign_in(&c, &token).await;
    until(&c, "document.getElementById('status').textContent.startsWith('Signed in as')", "signed in").await;
    js(&c, "document.getElementById('sign-out').click()").await;
    until(&c, "!document.getElementById('signin-view').hidden", "the sign-in form again").await;
    until(&c, "document.getElementById('status').textContent === 'Signed out'", "signed out").await;
    assert_eq!(
        js(&c, "document.getElementById('signin-error').hidden").await,
        json!(true),
        "revoked: nothing to warn about"
    );
    assert_eq!(web_api_status(token).await, json!(401), "the server refuses the token after Sign out");
    c.close().await.unwrap();
    server.shutdown().await;
}
