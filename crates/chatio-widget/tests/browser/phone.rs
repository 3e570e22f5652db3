//! Phone layouts: the window opened from the bubble fills the screen, and every control is
//! inside the viewport, big enough to hit, with a 16 px message box (no zoom on focus).

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

/// Every control of the window: inside the viewport, at least 24 × 24 CSS px; the message
/// box's font at least 16 px. Returns the offenders.
const CHECK: &str = "(() => {
  const w = innerWidth, h = innerHeight, bad = [];
  const ids = ['input', 'attach', 'send', 'minimize', 'rate-good', 'rate-bad', 'close-thread'];
  for (const id of ids) {
    const e = document.getElementById(id);
    if (!e || e.hidden) { bad.push(id + ': missing or hidden'); continue; }
    const r = e.getBoundingClientRect();
    if (r.left < 0 || r.top < 0 || r.right > w + 0.5 || r.bottom > h + 0.5) bad.push(id + ': outside ' + JSON.stringify([r.left, r.top, r.right, r.bottom, w, h]));
    if (r.width < 24 || r.height < 24) bad.push(id + ': ' + r.width + 'x' + r.height);
  }
  for (const b of document.querySelectorAll('#messages button')) {
    const r = b.getBoundingClientRect();
    if (r.height < 24) bad.push('a button in the list is ' + r.height + ' px tall');
  }
  const fs = parseFloat(getComputedStyle(document.getElementById('input')).fontSize);
  if (fs < 16) bad.push('input font ' + fs);
  const list = document.getElementById('messages').getBoundingClientRect();
  if (list.height < 80) bad.push('the list is only ' + list.height + ' px tall');
  return bad;
})()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn phones_get_a_full_screen_window_with_every_control_in_view() {
    let Some(env) = env("the phone layout test") else { return };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(50))
        .start()
        .await
        .expect("server");
    let host = host_site(host_page(&server.http_url(), "", "")).await;
    for (name, w, h) in
        [("phone-375x667", 375, 667), ("phone-320x568", 320, 568), ("phone-landscape-667x375", 667, 375)]
    {
        let (_driver, c) = browser(&env, Screen::Phone(w, h)).await;
        c.goto(&host).await.unwrap();
        assert_eq!(js(&c, "[innerWidth, innerHeight]").await, json!([w, h]), "viewport");
        until(&c, BUBBLE, "the bubble").await;
        shot(&c, &format!("{name}-bubble")).await;
        element(&c, BUBBLE).await.click().await.expect("tap the bubble");
        let frame = until(
            &c,
            &format!("(() => {{ const r = {FRAME}.getBoundingClientRect(); return r.width > 0 && [r.left, r.top, r.width, r.height]; }})()"),
            "the open window",
        )
        .await;
        assert_eq!(frame, json!([0, 0, w, h]), "{name}: the window fills the screen");
        enter_widget(&c).await;
        until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
        say(&c, "/rich").await;
        until(&c, "document.querySelectorAll('.card').length > 0", "the cards").await;
        let bad = js(&c, CHECK).await;
        shot(&c, name).await;
        assert_eq!(bad, Value::Array(vec![]), "{name}: controls out of view or too small");
        // The list scrolls inside the window; the page itself does not.
        assert_eq!(
            js(&c, "document.scrollingElement.scrollHeight <= innerHeight + 1").await,
            json!(true),
            "{name}: the page scrolls"
        );
        // Minimize from inside the window (the bubble is hidden while the window covers it).
        c.find(fantoccini::Locator::Id("minimize")).await.unwrap().click().await.unwrap();
        c.enter_parent_frame().await.unwrap();
        until(&c, "window.chatio.isOpen === false", "minimized").await;
        c.close().await.unwrap();
    }
    server.shutdown().await;
}
