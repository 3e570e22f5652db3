//! `cargo xtask wasm`: the SDK on `wasm32-unknown-unknown`.
//!
//! * `cargo xtask wasm test` — installs what it needs (the wasm32 target, wasm-bindgen-cli
//!   pinned to Cargo.lock's wasm-bindgen, Chromium and chromedriver, Node), builds chatio-core
//!   and the SDK's browser build for wasm32, runs chatio-core's tests in Node, then starts the
//!   reference server and runs the SDK's in-browser suite (`tests/browser.rs`) in headless
//!   Chromium. Part of `cargo xtask ci`.
//! * `cargo xtask bench wasm` — the size of a minimal page (release, wasm-opt, gzip) and the
//!   time from page load to `Connected` in headless Chromium (see `docs/benchmarks.md`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::{cargo, root};

pub(crate) const TARGET: &str = "wasm32-unknown-unknown";

/// Where the tools are.
pub(crate) struct Tools {
    /// `chromedriver`, when a browser was asked for.
    pub chromedriver: Option<PathBuf>,
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> Result<(), String> {
    eprintln!("$ {cmd:?}");
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{cmd:?} failed ({status})")) }
}

/// The wasm-bindgen version Cargo.lock pins (the CLI must match it exactly).
pub(crate) fn wasm_bindgen_version() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|v| v.strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn apt_install(packages: &[&str]) -> Result<(), String> {
    if which("apt-get").is_none() {
        return Err(format!("{packages:?} missing and no apt-get to install them"));
    }
    run(Command::new("apt-get").arg("update").arg("-q"))?;
    run(Command::new("apt-get").args(["install", "-y", "-q", "--no-install-recommends"]).args(packages))
}

/// Installs what the wasm steps need, if missing: the wasm32 target, wasm-bindgen-cli at
/// Cargo.lock's version, Node (chatio-core's tests), and with `browser` Chromium and
/// chromedriver.
pub(crate) fn ensure_tools(browser: bool) -> Result<Tools, String> {
    if which("rustup").is_some() {
        run(Command::new("rustup").args(["target", "add", TARGET]))?;
    }
    let version = wasm_bindgen_version()?;
    let installed = Command::new("wasm-bindgen-test-runner")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    let bindgen = Command::new("wasm-bindgen")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !installed.contains(&version) || !bindgen.contains(&version) {
        cargo(&["install", "wasm-bindgen-cli", "--version", &version, "--locked"])?;
    }
    if which("node").is_none() {
        apt_install(&["nodejs"])?;
    }
    let mut tools = Tools { chromedriver: None };
    if browser {
        if which("chromium").is_none() || which("chromedriver").is_none() {
            apt_install(&["chromium", "chromium-driver"])?;
        }
        tools.chromedriver = which("chromedriver");
        if tools.chromedriver.is_none() {
            return Err("chromedriver not found after installing chromium-driver".into());
        }
    }
    Ok(tools)
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// A reference server started from its binary; killed on drop.
pub(crate) struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Builds and starts `chatio-server` on a free port with `extra` arguments.
pub(crate) fn start_server(extra: &[&str]) -> Result<ServerProcess, String> {
    cargo(&["build", "-q", "-p", "chatio-server", "--bin", "chatio-server"])?;
    let bin = target_dir().join("debug").join("chatio-server");
    let mut child = Command::new(&bin)
        .args(["--listen", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).map_err(|e| format!("reading the server's first line: {e}"))?;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .map(str::to_owned)
        .ok_or_else(|| format!("the server printed no URL: {line:?}"))?;
    eprintln!("reference server at {url}");
    Ok(ServerProcess { child, url })
}

/// `cargo test` for wasm32 with wasm-bindgen-test-runner as the runner.
fn wasm_test(args: &[&str], env: &[(&str, &str)]) -> Result<(), String> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("test").args(["--target", TARGET]).args(args);
    cmd.env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", "wasm-bindgen-test-runner");
    // The runner's default (20 s for the whole suite) is too short for an end-to-end suite.
    cmd.env("WASM_BINDGEN_TEST_TIMEOUT", "300");
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}

/// The wasm steps of CI: chatio-core and chatio-wire build for wasm32 and the core's tests
/// pass in Node; the SDK's browser build is clippy-clean; the SDK's end-to-end suite passes in
/// headless Chromium against the reference server.
pub(crate) fn ci() -> Result<(), String> {
    test()
}

fn test() -> Result<(), String> {
    let tools = ensure_tools(true)?;
    cargo(&["build", "-p", "chatio-wire", "-p", "chatio-core", "--target", TARGET])?;
    wasm_test(&["-p", "chatio-core", "--lib", "--test", "it"], &[])?;
    let web = ["-p", "chatio-customer-sdk", "--no-default-features", "--features", "web"];
    let mut build = vec!["build", "--target", TARGET];
    build.extend(web);
    cargo(&build)?;
    let mut clippy = vec!["clippy", "--target", TARGET, "--tests"];
    clippy.extend(web);
    clippy.extend(["--", "-D", "warnings"]);
    cargo(&clippy)?;
    let server = start_server(&["--admin", "--agent-delay-ms", "0"])?;
    let chromedriver = tools.chromedriver.as_deref().map(Path::to_string_lossy).unwrap_or_default().into_owned();
    let mut args = web.to_vec();
    args.extend(["--test", "browser"]);
    wasm_test(&args, &[("CHROMEDRIVER", &chromedriver), ("CHATIO_TEST_SERVER", &server.url)])
}

/// `cargo xtask wasm <test>`.
pub(crate) fn main(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        Some("test") | None => test(),
        Some(other) => Err(format!("unknown wasm task `{other}` (test)")),
    }
}
