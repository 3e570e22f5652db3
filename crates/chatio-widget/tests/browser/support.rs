//! What every browser test needs: the prerequisites, chromedriver and a Chromium session,
//! a host site on a second origin, JavaScript helpers, screenshots.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chatio_agent_sdk::{AgentEvent, AgentEvents, AgentSdk, AgentToken, ChatId};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::elements::{Element, ElementRef};
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder};
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const WAIT: Duration = Duration::from_secs(30);

pub fn root() -> PathBuf {
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

/// What a browser test needs.
pub struct Env {
    pub assets: PathBuf,
    pub chromium: PathBuf,
    pub driver: PathBuf,
}

fn prerequisites() -> Result<Env, String> {
    let assets = root().join("target/widget");
    let built = std::fs::read_dir(&assets)
        .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().ends_with(".wasm")))
        .unwrap_or(false);
    if !built || !assets.join("index.html").is_file() || !assets.join("loader.js").is_file() {
        return Err(format!("the widget is not built in {} (run `cargo xtask widget`)", assets.display()));
    }
    let chromium = find_binary("CHROME", &["chromium", "chromium-browser", "google-chrome"])
        .ok_or("chromium is not installed (Debian: apt-get install chromium)")?;
    let driver = find_binary("CHROMEDRIVER", &["chromedriver"])
        .ok_or("chromedriver is not installed (Debian: apt-get install chromium-driver)")?;
    Ok(Env { assets, chromium, driver })
}

/// The prerequisites, or `None` after saying why the test is skipped (a failure under
/// `CHATIO_BROWSER_TESTS=require`).
pub fn env(test: &str) -> Option<Env> {
    let required = std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require");
    match prerequisites() {
        Ok(e) => Some(e),
        Err(why) if required => panic!("CHATIO_BROWSER_TESTS=require, but {why}"),
        Err(why) => {
            skipped(test, &why);
            None
        }
    }
}

/// Says loudly that a test did not run and why: on the process's standard error itself, which
/// the test harness does not capture (`eprintln!` in a passing test is never shown), so a
/// skipped browser test is visible in a plain `cargo test` run.
pub fn skipped(test: &str, why: &str) {
    use std::io::Write as _;
    let _ = writeln!(
        std::io::stderr().lock(),
        "\nSKIPPED {test}: {why} (CHATIO_BROWSER_TESTS=require makes this a failure)"
    );
}

/// chromedriver on a free port, killed on drop.
pub struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    pub fn start(binary: &Path) -> Driver {
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

/// How the browser looks at pages.
#[derive(Clone, Copy)]
pub enum Screen {
    /// A desktop window of this size.
    Desktop(u32, u32),
    /// A phone: this viewport in CSS pixels, touch, device pixel ratio 2.
    Phone(u32, u32),
}

/// A Chromium session (and its driver: keep both alive).
pub async fn browser(env: &Env, screen: Screen) -> (Driver, Client) {
    browser_with(env, screen, &[]).await
}

/// A Chromium session with extra command-line switches.
pub async fn browser_with(env: &Env, screen: Screen, extra: &[&str]) -> (Driver, Client) {
    let driver = Driver::start(&env.driver);
    let mut args = vec![
        "--headless=new".to_owned(),
        "--no-sandbox".into(),
        "--disable-dev-shm-usage".into(),
        "--disable-gpu".into(),
        "--hide-scrollbars".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let mut options = json!({ "binary": env.chromium });
    match screen {
        Screen::Desktop(w, h) => args.push(format!("--window-size={w},{h}")),
        Screen::Phone(w, h) => {
            options["mobileEmulation"] =
                json!({ "deviceMetrics": { "width": w, "height": h, "pixelRatio": 2.0, "touch": true } });
        }
    }
    options["args"] = json!(args);
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let c = ClientBuilder::new(connector).capabilities(caps).connect(&driver.url).await.expect("a chromium session");
    (driver, c)
}

/// Evaluates a JS expression in the current frame.
pub async fn js(c: &Client, expr: &str) -> Value {
    c.execute(&format!("return ({expr});"), vec![]).await.unwrap_or(Value::Null)
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::String(s) => !s.is_empty(),
        Value::Number(n) => n.as_f64() != Some(0.0),
        _ => true,
    }
}

/// Waits until the JS expression is truthy; fails with `what`, the page's status and error
/// bar (when the current frame is the widget's) and a screenshot.
pub async fn until(c: &Client, expr: &str, what: &str) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let v = js(c, expr).await;
        if truthy(&v) {
            return v;
        }
        if Instant::now() > deadline {
            let state = js(
                c,
                "[document.getElementById('status') && document.getElementById('status').textContent, \
                  document.getElementById('error-text') && document.getElementById('error-text').textContent, \
                  document.getElementById('banner') && document.getElementById('banner').textContent]",
            )
            .await;
            let _ = shot(c, "failure").await;
            panic!("timed out waiting for {what} (status, error bar, banner: {state})");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A JS expression: some element of `selector` contains `text`.
pub fn has_text(selector: &str, text: &str) -> String {
    format!(
        "Array.from(document.querySelectorAll({sel})).some(e => e.textContent.includes({text}))",
        sel = json!(selector),
        text = json!(text)
    )
}

pub async fn shot(c: &Client, name: &str) -> PathBuf {
    let dir = root().join("target/widget-test");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.png"));
    if let Ok(png) = c.screenshot().await {
        std::fs::write(&path, png).unwrap();
    }
    path
}

/// An element a script returned.
pub async fn element(c: &Client, expr: &str) -> Element {
    let v = js(c, expr).await;
    let id = v
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("`{expr}` is not an element: {v}"));
    Element::from_element_id(c.clone(), ElementRef::from(id.to_owned()))
}

/// The loader's bubble (in the shadow root of `<chatio-widget>`).
pub const BUBBLE: &str = "(document.querySelector('chatio-widget') && document.querySelector('chatio-widget').shadowRoot.querySelector('button'))";
/// The loader's iframe.
pub const FRAME: &str = "(document.querySelector('chatio-widget') && document.querySelector('chatio-widget').shadowRoot.querySelector('iframe'))";

/// Switches into the chat window's iframe (from the host page).
pub async fn enter_widget(c: &Client) {
    until(c, FRAME, "the chat window's iframe").await;
    element(c, FRAME).await.enter_frame().await.expect("switch into the chat window");
}

/// Types `text` into the widget's message box and presses Send.
pub async fn say(c: &Client, text: &str) {
    let input = c.find(fantoccini::Locator::Id("input")).await.expect("the message box");
    input.send_keys(text).await.expect("typing");
    c.find(fantoccini::Locator::Id("send")).await.expect("the send button").click().await.expect("click send");
}

/// A host site on a second origin (`http://localhost:PORT`, while the chat server is on
/// `127.0.0.1`): every path answers `html`. Stops with the test's runtime.
pub async fn host_site(html: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else { return };
            let html = html.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match sock.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\ncache-control: no-store\r\nconnection: close\r\n\r\n",
                    html.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(html.as_bytes()).await;
            });
        }
    });
    format!("http://localhost:{port}/")
}

/// A host page with only the snippet (and `extra` in its head).
pub fn host_page(server: &str, extra_head: &str, attrs: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>A shop</title>{extra_head}</head><body><h1>A shop that sells things</h1>\
         <p>Some text of the host page, long enough to look like a page. The chat bubble sits at the bottom right.</p>\
         <script src=\"{server}/widget/loader.js\" data-license=\"100\" {attrs} async></script></body></html>"
    )
}

/// `Network.emulateNetworkConditions` through chromedriver's endpoint (latency in ms,
/// throughputs in bytes per second; 0 turns throttling off for that direction).
#[derive(Debug)]
pub struct NetworkConditions {
    pub latency_ms: u64,
    pub download: u64,
    pub upload: u64,
}

impl fantoccini::wd::WebDriverCompatibleCommand for NetworkConditions {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/chromium/network_conditions", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "network_conditions": {
            "offline": false, "latency": self.latency_ms,
            "download_throughput": self.download, "upload_throughput": self.upload,
        }});
        (http::Method::POST, Some(body.to_string()))
    }
}

/// The names and transferred bytes of the resources the current frame loaded.
pub async fn resources(c: &Client) -> Vec<(String, f64)> {
    let v = js(
        c,
        "performance.getEntriesByType('resource').map(e => [e.name, e.transferSize]).concat(\
         performance.getEntriesByType('navigation').map(e => [e.name, e.transferSize]))",
    )
    .await;
    v.as_array()
        .map(|a| {
            a.iter().filter_map(|e| Some((e.get(0)?.as_str()?.to_owned(), e.get(1)?.as_f64().unwrap_or(0.0)))).collect()
        })
        .unwrap_or_default()
}

/// axe-core's browser bundle, installed with npm into `target/widget-test/axe` on first use
/// (one install at a time: tests running side by side would otherwise race npm on one folder).
pub fn axe_source() -> Result<String, String> {
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = root().join("target/widget-test/axe");
    let file: PathBuf = dir.join("node_modules/axe-core/axe.min.js");
    if !file.is_file() {
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg("axe-core@4")
            .status()
            .map_err(|e| format!("npm is needed for axe-core: {e}"))?;
        if !status.success() {
            return Err(format!("npm install axe-core failed ({status})"));
        }
    }
    std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))
}

/// The WCAG 2.2 A/AA violations axe-core finds in the current frame.
pub async fn axe(c: &Client, source: &str) -> Value {
    let script = format!(
        "{source}\n;const done = arguments[arguments.length - 1];\
         axe.run(document, {{ runOnly: {{ type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }}, resultTypes: ['violations'] }})\
         .then(r => done(r.violations.map(v => ({{ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary) }}))))\
         .catch(e => done([{{ id: 'axe-error', help: String(e) }}]));"
    );
    c.execute_async(&script, vec![]).await.expect("axe.run")
}

/// `Emulation.setEmulatedMedia` through chromedriver's CDP endpoint.
#[derive(Debug)]
pub struct ColorScheme(pub &'static str);

impl fantoccini::wd::WebDriverCompatibleCommand for ColorScheme {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": "Emulation.setEmulatedMedia",
            "params": { "features": [{ "name": "prefers-color-scheme", "value": self.0 }] } });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// One key pressed and released.
pub async fn press(c: &Client, key: Key) {
    let k: char = key.into();
    let actions =
        KeyActions::new("keyboard".into()).then(KeyAction::Down { value: k }).then(KeyAction::Up { value: k });
    c.perform_actions(actions).await.expect("a key press");
}

/// License 100's agent for tests that need one (the server is built with
/// `.agent(false).agent_token(100, AGENT, AGENT_TOKEN)`): she takes every chat the router
/// gives her and writes when the test says so.
pub const AGENT: &str = "jane@example.com";
/// Her Agent API token.
pub const AGENT_TOKEN: &str = "jane-widget-token-0123456789";

/// A server serving the widget with one agent of our own (no scripted bot).
pub async fn server_with_agent(env: &Env) -> chatio_server::ServerHandle {
    chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&env.assets)
        .agent(false)
        .agent_token(100, AGENT, AGENT_TOKEN)
        .start()
        .await
        .expect("server")
}

/// The agent on the Agent API (our agent SDK), logged in and accepting chats.
pub async fn agent(server: &chatio_server::ServerHandle) -> (AgentSdk, AgentEvents) {
    let config = chatio_agent_sdk::Config::new(server.http_url(), AgentToken::bearer(AGENT_TOKEN));
    let sdk = AgentSdk::init(config).expect("agent init");
    let mut events = sdk.events();
    agent_sees(&mut events, "the agent connected", |e| matches!(e, AgentEvent::Connected { .. }).then_some(())).await;
    (sdk, events)
}

/// The agent's next event that `f` picks, within [`WAIT`].
pub async fn agent_sees<T>(events: &mut AgentEvents, what: &str, mut f: impl FnMut(&AgentEvent) -> Option<T>) -> T {
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
        Ok(None) => panic!("the agent's events ended while waiting for {what}"),
        Err(_) => panic!("timed out waiting for the agent to see {what}"),
    }
}

/// The chat a visitor's first message started, as the agent was given it.
pub async fn incoming_chat(events: &mut AgentEvents) -> ChatId {
    agent_sees(events, "the visitor's chat", |e| match e {
        AgentEvent::IncomingChat(chat) => Some(chat.id.clone()),
        _ => None,
    })
    .await
}
