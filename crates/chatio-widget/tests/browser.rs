//! The chat widget in headless Chromium, driven through WebDriver (chromedriver +
//! fantoccini) the way a person uses it, against the reference server serving the widget.
//!
//! Needs the built assets (`cargo xtask widget`), `chromium` and `chromedriver`. Without them
//! the test prints why and passes; with `CHATIO_BROWSER_TESTS=require` (as `cargo xtask ci`
//! sets) a missing piece is a failure. Screenshots go to `target/widget-test/`.
#![cfg(not(target_arch = "wasm32"))]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // chromedriver wants canonical paths for uploads.
    root.canonicalize().unwrap_or(root)
}

fn find_binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// What the test needs, or why it cannot run.
fn prerequisites() -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let assets = root().join("target/widget");
    if !assets.join("chatio_widget_bg.wasm").is_file() || !assets.join("index.html").is_file() {
        return Err(format!("the widget is not built in {} (run `cargo xtask widget`)", assets.display()));
    }
    let chromium = find_binary("CHROME", &["chromium", "chromium-browser", "google-chrome"])
        .ok_or("chromium is not installed (Debian: apt-get install chromium)")?;
    let driver = find_binary("CHROMEDRIVER", &["chromedriver"])
        .ok_or("chromedriver is not installed (Debian: apt-get install chromium-driver)")?;
    Ok((assets, chromium, driver))
}

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(binary: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Driver { child, url: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver, chromium: &Path) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=440,900", "--hide-scrollbars"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a chromium session")
}

/// Evaluates a JS expression in the page.
async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return ({expr});"), vec![]).await.unwrap_or(Value::Null)
}

/// Waits until the JS expression is truthy; fails with `what` and the page's error bar.
async fn until(c: &Client, expr: &str, what: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = js(c, expr).await;
        let truthy = match &v {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::String(s) => !s.is_empty(),
            Value::Number(n) => n.as_f64() != Some(0.0),
            _ => true,
        };
        if truthy {
            return v;
        }
        if Instant::now() > deadline {
            let error =
                js(c, "document.getElementById('error-text') && document.getElementById('error-text').textContent")
                    .await;
            let status =
                js(c, "document.getElementById('status') && document.getElementById('status').textContent").await;
            let _ = shot(c, "failure").await;
            panic!("timed out waiting for {what} (status {status}, error bar {error})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A `.row` (or line) whose text contains `text`.
fn has_text(selector: &str, text: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll({sel})).some(e => e.textContent.includes({text}))",
        sel = json!(selector),
        text = json!(text)
    )
}

async fn shot(c: &Client, name: &str) -> PathBuf {
    let dir = root().join("target/widget-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    if let Ok(png) = c.screenshot().await {
        std::fs::write(&path, png).unwrap();
    }
    path
}

async fn say(c: &Client, text: &str) {
    let input = c.find(Locator::Id("input")).await.expect("the message box");
    input.send_keys(text).await.expect("typing");
    c.find(Locator::Id("send")).await.expect("the send button").click().await.expect("click send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_chats_through_the_widget_in_headless_chromium() {
    let required = std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require");
    let (assets, chromium, driver_bin) = match prerequisites() {
        Ok(p) => p,
        Err(why) if required => panic!("CHATIO_BROWSER_TESTS=require, but {why}"),
        Err(why) => {
            eprintln!("SKIPPED the widget browser test: {why}");
            return;
        }
    };
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&assets)
        .agent_delay(Duration::from_millis(100))
        .start()
        .await
        .expect("server");
    let base = format!("{}/widget/", server.http_url());
    let driver = Driver::start(&driver_bin);
    let c = browser(&driver, &chromium).await;

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

    // Press a card's button: the postback goes out and the button shows as chosen.
    c.find(Locator::Css("button[data-postback='like_yes']")).await.unwrap().click().await.unwrap();
    until(
        &c,
        "document.querySelector(\"button[data-postback='like_yes']\").classList.contains('chosen')",
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
    // up loads the older one.
    c.goto(&format!("{base}?history=1")).await.unwrap();
    until(&c, "document.getElementById('status').textContent === 'Connected'", "Connected again").await;
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

    // A server that refuses the connection: readable text, no crash.
    c.goto(&format!("{base}?server=http://127.0.0.1:9&new")).await.unwrap();
    let shown = until(
        &c,
        "(!document.getElementById('error').hidden && document.getElementById('error-text').textContent) || \
         (!document.getElementById('banner').hidden && document.getElementById('banner').textContent)",
        "an error or the reconnect banner",
    )
    .await;
    eprintln!("unreachable server shows: {shown}");
    assert!(!shown.to_string().contains("panicked"), "{shown}");
    shot(&c, "unreachable").await;

    c.close().await.unwrap();
    drop(driver);
    server.shutdown().await;
}
