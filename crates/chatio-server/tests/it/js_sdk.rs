//! The real `@livechat/chat.io-customer-sdk` 0.9.1 against the server, in Node
//! (`tests/js/sdk_node.js`). The package (its published tarball: the dist bundle includes
//! the socket.io fork) and the `ws` module are installed with npm into
//! `target/js-sdk/` once. Ignored in a plain `cargo test` (they need Node, npm and Chromium):
//! `-- --include-ignored js_sdk` runs them, skipping with a message when a tool is missing or
//! the installation fails, unless `CHATIO_JS_REQUIRED=1` (CI), which makes both a failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::client::builder;

/// The SDK version the tests pin.
pub const SDK: &str = "@livechat/chat.io-customer-sdk@0.9.1";

fn required() -> bool {
    std::env::var("CHATIO_JS_REQUIRED").is_ok_and(|v| v == "1")
}

/// Skips (returns `None` after printing why) or, when required, fails.
pub fn skip<T>(why: &str) -> Option<T> {
    assert!(!required(), "CHATIO_JS_REQUIRED=1 but {why}");
    // On the process's standard error itself: the harness captures `eprintln!`, and a skipped
    // test would pass in silence.
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "\nSKIPPED: {why} (CHATIO_JS_REQUIRED=1 makes this a failure)");
    None
}

/// The cache directory (`<workspace>/target/js-sdk`).
pub fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("js-sdk")
}

/// The directory of the harness scripts.
pub fn scripts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js")
}

pub fn tool_works(name: &str) -> bool {
    Command::new(name).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok_and(|s| s.success())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
    if out.status.success() { Ok(()) } else { Err(format!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr))) }
}

/// Installs the package and `ws` into the cache directory (once per test binary).
fn install() -> Result<PathBuf, String> {
    let dir = cache_dir();
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    if !dir.join("package/dist/chat.io-customer-sdk.js").exists() {
        run(Command::new("npm").args(["pack", SDK, "--silent"]).current_dir(&dir))?;
        run(Command::new("tar").args(["xzf", "livechat-chat.io-customer-sdk-0.9.1.tgz"]).current_dir(&dir))?;
    }
    if !dir.join("node_modules/ws/package.json").exists() {
        std::fs::write(dir.join("package.json"), r#"{"name":"chatio-js-sdk-tests","version":"1.0.0","private":true}"#)
            .map_err(|e| e.to_string())?;
        run(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent", "ws@8"]).current_dir(&dir))?;
    }
    Ok(dir)
}

/// The cache directory with everything installed, or `None` (skipped).
pub fn prepared() -> Option<PathBuf> {
    if !tool_works("node") {
        return skip("node is not installed: the JS SDK tests need it");
    }
    if !tool_works("npm") {
        return skip("npm is not installed: the JS SDK tests need it");
    }
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(install) {
        Ok(d) => Some(d.clone()),
        Err(e) => skip(&format!("cannot install {SDK} with npm: {e}")),
    }
}

/// Runs a command to completion with a deadline; returns (success, stdout+stderr).
pub fn run_with_deadline(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let out_path = std::env::temp_dir().join(format!("chatio-js-{}-{}.log", std::process::id(), fastrand_u64()));
    let file = std::fs::File::create(&out_path).expect("log file");
    let err = file.try_clone().expect("log file");
    let mut child = cmd.stdout(file).stderr(err).spawn().expect("the command starts");
    let deadline = Instant::now() + limit;
    let ok = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status.success(),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    let text = std::fs::read_to_string(&out_path).unwrap_or_default();
    let _ = std::fs::remove_file(&out_path);
    (ok, text)
}

fn fastrand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(Instant::now())
}

/// Every seed method and event, sendFile with progress, history paging, reconnection, an
/// expired token and a ban: `tests/js/sdk_node.js` with the real package.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node and npm (installs the JS SDK 0.9.1), and Chromium: cargo test -p chatio-server --test it js_sdk -- --include-ignored"]
async fn the_js_sdk_in_node() {
    let Some(dir) = prepared() else { return };
    let server = builder().admin(true).agent_delay(Duration::from_millis(5)).start().await.expect("server starts");
    let origin = server.http_url().trim_end_matches('/').to_owned();
    let mut cmd = Command::new("node");
    cmd.arg(scripts_dir().join("sdk_node.js"))
        .arg(dir.join("package"))
        .arg(&origin)
        .arg(dir.join("node_modules/ws"))
        .arg(server.admin_secret().expect("the admin secret"))
        .current_dir(scripts_dir());
    let (ok, output) = tokio::task::spawn_blocking(move || run_with_deadline(&mut cmd, Duration::from_secs(240)))
        .await
        .expect("the runner");
    println!("{output}");
    assert!(ok, "the JS SDK tests failed:\n{output}");
    assert!(output.contains(" passed, 0 failed"), "{output}");
}

/// The first of `names` found on `PATH`.
pub fn which(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names.iter().find_map(|n| std::env::split_paths(&path).map(|d| d.join(n)).find(|p| p.is_file()))
}

/// The real package in headless Chromium (`tests/js/sdk_browser.js` + `browser_page.js`): the
/// accounts iframe and its postMessage, XHR long-polling then the websocket upgrade,
/// a cross-origin upload, history, from a page on another origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node and npm (installs the JS SDK 0.9.1), and Chromium: cargo test -p chatio-server --test it js_sdk -- --include-ignored"]
async fn the_js_sdk_in_chromium() {
    let Some(dir) = prepared() else { return };
    let Some(chromium) = which(&["chromium", "chromium-browser", "google-chrome"]) else {
        return skip("chromium is not installed (Debian: apt-get install chromium chromium-driver)").unwrap_or(());
    };
    let Some(driver) = which(&["chromedriver"]) else {
        return skip("chromedriver is not installed (Debian: apt-get install chromium-driver)").unwrap_or(());
    };
    let server = builder().agent_delay(Duration::from_millis(5)).start().await.expect("server starts");
    let origin = server.http_url().trim_end_matches('/').to_owned();
    let mut cmd = Command::new("node");
    cmd.arg(scripts_dir().join("sdk_browser.js"))
        .arg(dir.join("package"))
        .arg(&origin)
        .arg(chromium)
        .arg(driver)
        .current_dir(scripts_dir());
    let (ok, output) = tokio::task::spawn_blocking(move || run_with_deadline(&mut cmd, Duration::from_secs(180)))
        .await
        .expect("the runner");
    println!("{output}");
    assert!(ok, "the JS SDK in Chromium failed:\n{output}");
    assert!(output.contains("browser: all checks passed"), "{output}");
}

/// The real package in Node across a restart of the server on its data directory
/// (`tests/js/sdk_restart.js`, issue 22): the server is stopped mid-conversation and started
/// again on the same address and data; the SDK reconnects by itself, the same customer goes
/// on in the same chat, and its history holds every message once, in order. (On the memory
/// store the script fails: the customer's chat is gone.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Node and npm (installs the JS SDK 0.9.1): cargo test -p chatio-server --test it js_sdk -- --include-ignored"]
async fn the_js_sdk_in_node_goes_on_across_a_server_restart() {
    let Some(dir) = prepared() else { return };
    let data = tempfile::tempdir().unwrap();
    let flags = tempfile::tempdir().unwrap();
    let start = |addr: Option<std::net::SocketAddr>| {
        let b = builder().data_dir(data.path()).agent_delay(Duration::from_millis(5));
        let b = match addr {
            Some(a) => b.listen(a),
            None => b,
        };
        b.start()
    };
    let server = start(None).await.expect("server starts");
    let addr = server.addr();
    let origin = server.http_url().trim_end_matches('/').to_owned();
    let mut cmd = Command::new("node");
    cmd.arg(scripts_dir().join("sdk_restart.js"))
        .arg(dir.join("package"))
        .arg(&origin)
        .arg(dir.join("node_modules/ws"))
        .arg(flags.path())
        .current_dir(scripts_dir());
    let node = tokio::task::spawn_blocking(move || run_with_deadline(&mut cmd, Duration::from_secs(180)));
    let deadline = Instant::now() + Duration::from_secs(120);
    while !flags.path().join("restart.request").exists() && !node.is_finished() {
        assert!(Instant::now() < deadline, "the script never asked for the restart");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut restarted = None;
    if !node.is_finished() {
        server.shutdown().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let again = loop {
            match start(Some(addr)).await {
                Ok(s) => break s,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("restart on {addr}: {e}; again");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => panic!("the server could not start again on {addr}: {e}"),
            }
        };
        std::fs::write(flags.path().join("restart.done"), b"").unwrap();
        restarted = Some(again);
    }
    let (ok, output) = node.await.expect("the runner");
    println!("{output}");
    assert!(ok, "the JS SDK across a restart failed:\n{output}");
    assert!(output.contains("restart: all checks passed"), "{output}");
    if let Some(s) = restarted {
        s.shutdown().await;
    }
}
