//! Accessibility: axe-core (from npm) run in the open window finds no WCAG 2.2 A/AA
//! violation, in light and dark mode; and a whole conversation works with the keyboard only.

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::support::*;

async fn focused(c: &Client) -> Value {
    js(c, "[document.activeElement.id || document.activeElement.className, getComputedStyle(document.activeElement).outlineStyle]").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn axe_finds_no_violation_and_the_keyboard_is_enough() {
    let Some(env) = env("the accessibility test") else { return };
    let required = std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let source = match axe_source() {
        Ok(s) => s,
        Err(why) if required => panic!("CHATIO_BROWSER_TESTS=require, but {why}"),
        Err(why) => return crate::support::skipped("the accessibility test", &why),
    };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(50))
        .start()
        .await
        .expect("server");
    let (_driver, c) = browser(&env, Screen::Desktop(1024, 800)).await;
    c.goto(&format!("{}/widget/?new", server.http_url())).await.unwrap();
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;

    // Keyboard only. The message box is the first stop of Tab.
    press(&c, Key::Tab).await;
    assert_eq!(focused(&c).await[0], json!("input"), "Tab from the page start reaches the message box first");
    c.active_element().await.unwrap().send_keys("Hello by keyboard").await.unwrap();
    press(&c, Key::Enter).await;
    until(&c, &has_text(".row.other", "You said: Hello by keyboard"), "the answer").await;
    // Shift+Enter is a new line, Enter sends both lines as one message.
    c.active_element().await.unwrap().send_keys("line one").await.unwrap();
    let shift_enter = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: Key::Shift.into() })
        .then(KeyAction::Down { value: Key::Enter.into() })
        .then(KeyAction::Up { value: Key::Enter.into() })
        .then(KeyAction::Up { value: Key::Shift.into() });
    c.perform_actions(shift_enter).await.unwrap();
    c.active_element().await.unwrap().send_keys("line two").await.unwrap();
    press(&c, Key::Enter).await;
    until(
        &c,
        "Array.from(document.querySelectorAll('.row.me .text')).some(e => e.textContent === 'line one\\nline two')",
        "a two-line message",
    )
    .await;
    c.active_element().await.unwrap().send_keys("/rich").await.unwrap();
    press(&c, Key::Enter).await;
    until(&c, "document.querySelectorAll('.card').length > 0", "the cards").await;
    // Tab on through the window: every stop shows its focus, and End chat is reachable.
    let mut stops = Vec::new();
    for _ in 0..30 {
        press(&c, Key::Tab).await;
        let f = focused(&c).await;
        assert_ne!(f[1], json!("none"), "focus is invisible on {f}");
        stops.push(f[0].clone());
        if f[0] == json!("close-thread") {
            break;
        }
    }
    eprintln!("tab stops after the message box: {stops:?}");
    assert_eq!(stops.last(), Some(&json!("close-thread")), "End chat is reachable with Tab: {stops:?}");
    assert!(stops.contains(&json!("postback")), "the card buttons are reachable: {stops:?}");
    press(&c, Key::Enter).await;
    until(&c, "!document.getElementById('confirm-end').hidden", "the confirmation").await;
    assert_eq!(focused(&c).await[0], json!("confirm-end-yes"));
    press(&c, Key::Enter).await;
    until(&c, &has_text(".line.closed", "You ended the chat"), "the chat ended by keyboard").await;

    // axe-core in the open window, light and dark.
    for scheme in ["light", "dark"] {
        c.issue_cmd(ColorScheme(scheme)).await.expect("emulate the colour scheme");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let violations = axe(&c, &source).await;
        shot(&c, &format!("a11y-{scheme}")).await;
        assert_eq!(violations, json!([]), "axe-core ({scheme}) found WCAG A/AA violations");
    }

    // The embedded window too (its own header controls): on a host page.
    let host = host_site(host_page(&server.http_url(), "", "data-open=\"true\"")).await;
    c.goto(&host).await.unwrap();
    enter_widget(&c).await;
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected (embedded)").await;
    let violations = axe(&c, &source).await;
    assert_eq!(violations, json!([]), "axe-core found violations in the embedded window");
    c.enter_parent_frame().await.unwrap();
    let _ = c.find(Locator::Css("body")).await;
    c.close().await.unwrap();
    server.shutdown().await;
}
