//! The chat window as a page of its own (`/widget/`): a whole conversation, state and
//! feedback (a message typed before the wasm loaded, retry after a failure, a server
//! restart mid-conversation, in memory and on a data directory, where the conversation goes on
//! with its history), and settings taken from the page, never from a link.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn a_customer_chats_through_the_widget_in_headless_chromium() {
    let Some(env) = env("the widget page test") else { return };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(100))
        .start()
        .await
        .expect("server");
    let base = format!("{}/widget/", server.http_url());
    let (driver, c) = browser(&env, Screen::Desktop(440, 900)).await;

    // Open the page: it fetches a token from the server's token endpoint and connects.
    // `history=1` makes each history page one thread, so that scrolling up has work to do.
    c.goto(&format!("{base}?history=1&new")).await.expect("open the widget");
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;

    // Type and send; the agent joins and answers.
    say(&c, "Hello from the browser").await;
    until(&c, &has_text(".row.other", "You said: Hello from the browser"), "the agent's answer").await;
    until(&c, "document.querySelector('.row.me[data-event]') !== null", "my message acknowledged").await;
    until(&c, "document.getElementById('agents').textContent.includes('is here')", "the agent in the header").await;
    until(&c, &has_text(".row.system", "joined the chat"), "the agent joining").await;

    // The server drops the connection: the banner says so, then the session is back.
    server.drop_all_connections();
    until(&c, "!document.getElementById('banner').hidden && document.getElementById('banner').textContent.includes('Reconnecting')", "the reconnect banner").await;
    shot(&c, "reconnecting").await;
    until(
        &c,
        "document.getElementById('status').textContent === 'Connected' && document.getElementById('banner').hidden",
        "the connection restored",
    )
    .await;

    // The agent types before answering: the indicator shows while it does.
    c.execute(
        "window.__typing = false; new MutationObserver(() => { if (!document.getElementById('typing').hidden) window.__typing = true; })\
         .observe(document.getElementById('typing'), {attributes: true, childList: true});",
        vec![],
    )
    .await
    .unwrap();
    say(&c, "/rich").await;
    until(&c, &has_text(".card-title", "Do you like chatio-rs?"), "the rich message card").await;
    assert_eq!(js(&c, "window.__typing").await, Value::Bool(true), "the typing indicator never showed");

    // Press a card's button: the postback goes out and the button shows as chosen. (The
    // typing line going away moves the list: click once it is settled.)
    until(&c, "document.getElementById('typing').hidden", "the agent done typing").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    c.find(Locator::Css("button[data-postback='like_yes']")).await.unwrap().click().await.unwrap();
    until(
        &c,
        "document.querySelector(\"button[data-postback='like_yes']\").getAttribute('aria-pressed') === 'true'",
        "the chosen button",
    )
    .await;

    // Upload a file: the progress bar goes to 100 % and the file appears in the list.
    let upload = root().join("target/widget-test/photo-of-the-issue.bin");
    std::fs::create_dir_all(upload.parent().unwrap()).unwrap();
    std::fs::write(&upload, vec![0x5au8; 3 * 1024 * 1024]).unwrap();
    c.execute(
        "window.__progress = []; new MutationObserver(() => window.__progress.push(document.getElementById('upload-pct').textContent))\
         .observe(document.getElementById('upload-pct'), {childList: true, characterData: true, subtree: true});",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("file")).await.unwrap().send_keys(&upload.to_string_lossy()).await.expect("choose the file");
    until(&c, "document.getElementById('upload-state').textContent === 'Sent'", "the upload to finish").await;
    assert_eq!(js(&c, "document.getElementById('upload-progress').value").await, json!(100));
    assert_eq!(js(&c, "document.getElementById('upload-pct').textContent").await, json!("100 %"));
    let seen = js(&c, "window.__progress").await;
    eprintln!("upload progress seen: {seen}");
    assert_eq!(seen.as_array().and_then(|a| a.last()), Some(&json!("100 %")), "progress: {seen}");
    until(&c, &has_text(".row.me .file-link", "photo-of-the-issue.bin"), "the sent file in the list").await;

    // A file over 10 MiB is refused with a readable message, before anything is sent.
    let big = root().join("target/widget-test/too-big.bin");
    std::fs::write(&big, vec![0u8; 10 * 1024 * 1024 + 1]).unwrap();
    c.find(Locator::Id("file")).await.unwrap().send_keys(&big.to_string_lossy()).await.unwrap();
    until(&c, "document.getElementById('error-text').textContent.includes('too big')", "the too-big message").await;
    c.find(Locator::Id("error-close")).await.unwrap().click().await.unwrap();

    // The cancel button: pressed as soon as the upload is under way (the moment the widget
    // says "Sending…", before the request can finish on loopback), the upload ends as
    // "Cancelled", the button goes away and no file is posted to the chat.
    let cancelled = root().join("target/widget-test/cancelled-upload.bin");
    std::fs::write(&cancelled, vec![0x33u8; 9 * 1024 * 1024]).unwrap();
    c.execute(
        "const s = document.getElementById('upload-state');\
         window.__cancelObserver = new MutationObserver(() => {\
           if (s.textContent === 'Sending…') { window.__cancelObserver.disconnect(); document.getElementById('upload-cancel').click(); }\
         });\
         window.__cancelObserver.observe(s, {childList: true, characterData: true, subtree: true});",
        vec![],
    )
    .await
    .unwrap();
    c.find(Locator::Id("file")).await.unwrap().send_keys(&cancelled.to_string_lossy()).await.expect("choose the file");
    until(
        &c,
        "['Cancelled', 'Sent', 'Failed'].includes(document.getElementById('upload-state').textContent)",
        "the cancelled upload to end",
    )
    .await;
    assert_eq!(js(&c, "document.getElementById('upload-state').textContent").await, json!("Cancelled"));
    assert_eq!(
        js(&c, "document.getElementById('upload-cancel').hidden").await,
        json!(true),
        "the cancel button is hidden"
    );
    say(&c, "after the cancel").await;
    until(&c, &has_text(".row.other", "You said: after the cancel"), "the answer after the cancel").await;
    assert_eq!(
        js(
            &c,
            "Array.from(document.querySelectorAll('.file-link')).some(e => e.textContent === 'cancelled-upload.bin')"
        )
        .await,
        json!(false),
        "a cancelled upload posts no file"
    );

    // A file dropped on the window, and one pasted into the message box, are sent too; the
    // upload bar goes away after a success.
    for (event, name, target) in [("drop", "dropped.txt", "widget"), ("paste", "pasted.txt", "input")] {
        let init = if event == "drop" {
            "DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true})"
        } else {
            "ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true})"
        };
        c.execute(
            &format!(
                "const dt = new DataTransfer(); dt.items.add(new File(['hello {name}'], '{name}', {{type: 'text/plain'}})); \
                 document.getElementById('{target}').dispatchEvent(new {init});"
            ),
            vec![],
        )
        .await
        .unwrap();
        until(&c, &has_text(".row.me .file-link", name), "the dropped or pasted file in the list").await;
        until(&c, "document.getElementById('upload').hidden", "the upload bar gone after the success").await;
    }

    // The agent closes the thread; the customer rates; the next message opens a new thread.
    say(&c, "/close").await;
    until(&c, "document.querySelector('.line.closed') !== null", "the closed thread note").await;
    c.find(Locator::Id("rate-good")).await.unwrap().click().await.unwrap();
    until(&c, "document.getElementById('rating-state').textContent.includes('Thanks')", "the rating").await;
    say(&c, "Back again").await;
    until(&c, &has_text(".line.divider", "new thread"), "the new-thread divider").await;
    until(&c, &has_text(".row.other", "You said: Back again"), "the answer in the new thread").await;
    assert_eq!(
        js(&c, "Array.from(document.querySelectorAll('.file-link')).filter(e => e.textContent === 'photo-of-the-issue.bin').length").await,
        json!(1),
        "the sent file is shown once (the upload's answer and its new_event echo are the same file)"
    );
    let screenshot = shot(&c, "widget").await;
    eprintln!("screenshot: {}", screenshot.display());
    say(&c, "/rich").await;
    until(&c, "document.querySelectorAll('.card').length >= 4", "the second rich message").await;
    say(&c, "/help").await;
    until(&c, &has_text(".row.other", "/rich"), "the help text").await;
    // Forms and system messages are displayed.
    say(&c, "/form").await;
    until(&c, "document.querySelector('.row dl.form') !== null", "the form").await;
    until(&c, "document.querySelector('.row.system') !== null", "a system message").await;
    shot(&c, "help-and-form").await;
    // The agent leaves: the header says so.
    say(&c, "/leave").await;
    until(&c, "document.getElementById('agents').textContent === 'No agent in the chat'", "the agent leaving").await;

    // Reload: the same customer (remembered in localStorage) sees the newest thread; scrolling
    // up loads the older one. What the page remembers is the server-issued refresh secret
    // (G11), never the customer's id, and resuming with it rotates it.
    let secret =
        "Object.keys(localStorage).filter(k => k.endsWith('.refresh_token')).map(k => localStorage.getItem(k))";
    let before = js(&c, secret).await;
    assert!(
        before.as_array().is_some_and(|a| a.len() == 1 && a[0].as_str().is_some_and(|t| t.len() >= 32)),
        "{before}"
    );
    c.goto(&format!("{base}?history=1")).await.unwrap();
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected again").await;
    let after = js(&c, secret).await;
    assert!(after.as_array().is_some_and(|a| a.len() == 1) && after != before, "not rotated: {before} → {after}");
    until(&c, &has_text(".row", "You said: Back again"), "the newest thread from history").await;
    let layout = js(
        &c,
        "(() => { const m = document.getElementById('messages'); return {rows: m.querySelectorAll('.row').length, \
         scroll: m.scrollHeight, client: m.clientHeight, top: m.scrollTop, \
         history: document.getElementById('history-top').textContent, \
         loads: document.getElementById('history-top').dataset.loads}; })()",
    )
    .await;
    eprintln!("after reload: {layout}");
    assert_eq!(
        js(&c, &has_text(".row", "Hello from the browser")).await,
        json!(false),
        "the first thread should wait for a scroll up ({layout})"
    );
    // Scroll to the top, as the wheel would, until the first thread is there.
    let deadline = Instant::now() + WAIT;
    while js(&c, &has_text(".row", "Hello from the browser")).await != json!(true) {
        assert!(Instant::now() < deadline, "scrolling up never loaded the first thread");
        c.execute(
            "const m = document.getElementById('messages'); m.scrollTop = 0; m.dispatchEvent(new Event('scroll'));",
            vec![],
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    until(&c, "document.getElementById('history-top').textContent.includes('beginning')", "the start of history").await;
    shot(&c, "history").await;

    // The agent who left still has its name on its messages after the reload.
    let authors = js(&c, "Array.from(document.querySelectorAll('.row.other .author')).map(e => e.textContent)").await;
    assert!(
        authors.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(|n| n != "Agent")),
        "author names after a reload: {authors}"
    );
    // Messages carry their time.
    assert_eq!(
        js(&c, "/^\\d\\d:\\d\\d$/.test(document.querySelector('.row.me .meta time').textContent)").await,
        json!(true)
    );

    // End chat asks first, then says so in the list.
    say(&c, "One more thing").await;
    until(&c, &has_text(".row.other", "You said: One more thing"), "the answer").await;
    c.find(Locator::Id("close-thread")).await.unwrap().click().await.unwrap();
    until(&c, "!document.getElementById('confirm-end').hidden", "the End chat confirmation").await;
    assert_eq!(js(&c, "document.activeElement.id").await, json!("confirm-end-yes"));
    c.find(Locator::Id("confirm-end-yes")).await.unwrap().click().await.unwrap();
    until(&c, &has_text(".line.closed", "You ended the chat"), "the closed thread in the list").await;
    assert_eq!(js(&c, "document.querySelectorAll('.line.closed').length").await, json!(1), "said once");
    shot(&c, "ended").await;

    // A link cannot point the page at another server: `?server=` is ignored, and the other
    // server hears nothing (no token request, no customer).
    let decoy = chatio_server::Server::builder().ephemeral().start().await.expect("decoy server");
    c.goto(&format!("{base}?server={}&new", decoy.http_url())).await.unwrap();
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected to its own server").await;
    let (t, cu) = (decoy.stats().tokens, decoy.stats().customers);
    assert_eq!((t, cu), (0, 0), "the decoy server got tokens or customers");
    decoy.shutdown().await;

    c.close().await.unwrap();
    drop(driver);
    server.shutdown().await;
}

async fn connected(c: &Client) {
    until(c, "document.getElementById('status').textContent === 'Connected'", "Connected").await;
}

/// A server on `addr` (the same port after a restart) serving the widget, on the data
/// directory `data` when there is one (else in memory).
async fn serve_on(
    env: &Env,
    addr: std::net::SocketAddr,
    data: Option<&std::path::Path>,
) -> chatio_server::ServerHandle {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut builder = chatio_server::Server::builder()
            .listen(addr)
            .widget_dir(&env.assets)
            .agent_delay(Duration::from_millis(100));
        if let Some(dir) = data {
            builder = builder.data_dir(dir);
        }
        let started = builder.start().await;
        match started {
            Ok(s) => return s,
            Err(e) if Instant::now() < deadline => {
                eprintln!("restart on {addr}: {e}; again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("the server could not start again on {addr}: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn nothing_the_visitor_sends_is_lost_early_on_failure_or_across_a_restart() {
    let Some(env) = env("the state and feedback test") else { return };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(100))
        .start()
        .await
        .expect("server");
    let addr = server.addr();
    let base = format!("{}/widget/", server.http_url());
    let (_driver, c) = browser(&env, Screen::Desktop(480, 800)).await;

    // A slow network (about 120 KiB/s): the message box is there long before the wasm; a
    // message sent then waits, marked, and goes out once the widget runs.
    c.issue_cmd(NetworkConditions { latency_ms: 100, download: 120 * 1024, upload: 120 * 1024 })
        .await
        .expect("throttle");
    c.goto(&format!("{base}?new")).await.unwrap();
    let typed = Instant::now();
    c.find(Locator::Id("input")).await.unwrap().send_keys("Typed before the widget loaded\u{E007}").await.unwrap();
    let early =
        js(&c, "[!!document.querySelector('.row.queued'), document.getElementById('status').textContent]").await;
    eprintln!("right after sending, {:?} after the page load: {early}", typed.elapsed());
    assert_eq!(early, json!([true, "Loading…"]), "the message was not held while the wasm loaded");
    c.issue_cmd(NetworkConditions { latency_ms: 0, download: 0, upload: 0 }).await.expect("unthrottle");
    until(&c, &has_text(".row.other", "You said: Typed before the widget loaded"), "the early message answered").await;
    assert_eq!(js(&c, "document.querySelectorAll('.row.me').length").await, json!(1), "sent once");
    assert_eq!(js(&c, "document.location.search").await, json!("?new"), "the form did not reload the page");

    // A server restart mid-conversation (the memory store forgets the chat): the widget
    // reconnects, and the next message goes into a new chat instead of failing.
    server.shutdown().await;
    until(&c, "!document.getElementById('banner').hidden", "the reconnect banner").await;
    let server = serve_on(&env, addr, None).await;
    connected(&c).await;
    until(&c, "document.getElementById('banner').hidden", "the banner gone").await;
    say(&c, "After the restart").await;
    until(&c, &has_text(".row.other", "You said: After the restart"), "the answer after the restart").await;
    assert_eq!(js(&c, "document.querySelectorAll('.row.failed').length").await, json!(0));
    let left =
        js(&c, "document.getElementById('error').hidden || document.getElementById('error-text').textContent").await;
    assert_eq!(left, json!(true), "no error left over");
    shot(&c, "after-restart").await;

    // A failure: a new visitor's first message (it starts the chat) while the server is
    // down longer than the request timeout (15 s). The message keeps its text, lays out as
    // a normal row, says why, and offers a retry that works once the server is back. (Later
    // messages wait in the SDK's outbox instead, and go out after the reconnect.)
    c.goto(&format!("{base}?new")).await.unwrap();
    connected(&c).await;
    server.shutdown().await;
    until(&c, "!document.getElementById('banner').hidden", "the reconnect banner").await;
    say(&c, "Sent while the server is down").await;
    let deadline = Duration::from_secs(40);
    let waited = Instant::now();
    while js(&c, "!!document.querySelector('.row.failed .retry')").await != json!(true) {
        assert!(waited.elapsed() < deadline, "the message never failed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let failed = js(
        &c,
        "(() => { const r = document.querySelector('.row.failed'); const b = r.querySelector('.bubble'); \
         return [b.querySelector('.text').textContent, Math.round(b.getBoundingClientRect().height), r.querySelector('.failed-note').textContent]; })()",
    )
    .await;
    eprintln!("the failed message: {failed}");
    assert_eq!(failed[0], json!("Sent while the server is down"));
    assert!(failed[1].as_f64().unwrap() < 90.0, "the failed bubble is squeezed: {failed}");
    assert!(!failed[2].as_str().unwrap().contains("ws://"), "no URLs in the sentence: {failed}");
    shot(&c, "failed").await;
    let server = serve_on(&env, addr, None).await;
    connected(&c).await;
    c.find(Locator::Css(".row.failed .retry")).await.unwrap().click().await.unwrap();
    until(&c, &has_text(".row.other", "You said: Sent while the server is down"), "the retried message answered").await;
    assert_eq!(js(&c, "document.querySelectorAll('.row.failed').length").await, json!(0), "retried in place");
    assert_eq!(
        js(&c, "Array.from(document.querySelectorAll('.row.me .text')).filter(e => e.textContent === 'Sent while the server is down').length").await,
        json!(1),
        "one row for the retried message"
    );
    c.close().await.unwrap();
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn a_conversation_goes_on_with_its_history_across_a_restart_on_the_data_directory() {
    let Some(env) = env("the durable restart test") else { return };
    let data = std::env::temp_dir().join(format!("chatio-widget-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let server = chatio_server::Server::builder()
        .ephemeral()
        .data_dir(&data)
        .widget_dir(&env.assets)
        .agent_delay(Duration::from_millis(100))
        .start()
        .await
        .expect("server");
    let addr = server.addr();
    let (_driver, c) = browser(&env, Screen::Desktop(480, 800)).await;
    c.goto(&format!("{}/widget/?new", server.http_url())).await.unwrap();
    connected(&c).await;
    say(&c, "Before the restart").await;
    until(&c, &has_text(".row.other", "You said: Before the restart"), "the answer before the restart").await;

    // The server stops mid-conversation and starts again on the same data (SQLite): the
    // widget reconnects as the same customer, and the next message goes into the same chat.
    server.shutdown().await;
    until(&c, "!document.getElementById('banner').hidden", "the reconnect banner").await;
    let server = serve_on(&env, addr, Some(&data)).await;
    connected(&c).await;
    say(&c, "After the restart").await;
    until(&c, &has_text(".row.other", "You said: After the restart"), "the answer after the restart").await;
    assert_eq!(js(&c, "document.querySelectorAll('.row.failed').length").await, json!(0));

    // The page opened again (without `?new`: the same visitor) paints the conversation from
    // the server: both messages, once each.
    c.goto(&format!("{}/widget/", server.http_url())).await.unwrap();
    connected(&c).await;
    until(&c, &has_text(".row.me", "Before the restart"), "the history from before the restart").await;
    until(&c, &has_text(".row.other", "You said: After the restart"), "the history from after it").await;
    let mine = js(&c, "[...document.querySelectorAll('.row.me')].map(r => r.textContent)").await;
    let mine: Vec<String> = serde_json::from_value(mine).unwrap();
    let count = |t: &str| mine.iter().filter(|m| m.contains(t)).count();
    assert_eq!((count("Before the restart"), count("After the restart")), (1, 1), "{mine:?}");
    shot(&c, "after-durable-restart").await;
    // Closed before the driver goes: killing chromedriver leaves its browser running.
    c.close().await.unwrap();
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&data);
}
