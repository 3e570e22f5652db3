//! `cargo xtask wasm`: the SDK on `wasm32-unknown-unknown`.
//!
//! * `cargo xtask wasm test` — installs what it needs (the wasm32 target, wasm-bindgen-cli
//!   pinned to Cargo.lock's wasm-bindgen, Chromium and chromedriver, Node), builds chatio-core
//!   and the SDK's browser build for wasm32, runs chatio-core's tests in Node and the
//!   transport's browser unit tests (the IndexedDB store) in headless Chromium, then starts the
//!   reference server and runs the SDK's in-browser suite (`tests/browser.rs`) in headless
//!   Chromium. Part of `cargo xtask ci`.
//! * `cargo xtask wasm docs` — the browser API's docs (the SDK and the transport for wasm32
//!   with `web`, which docs.rs does not build), warnings denied; part of `wasm test`.
//! * `cargo xtask bench wasm` — the size of a minimal page (release, wasm-opt when installed, gzip) and the
//!   time from page load to `Connected` in headless Chromium (see `docs/benchmarks.md`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result, anyhow, bail};

use crate::cmd::{self, apt_install, cargo, on_path, run, target_dir, which};
use crate::load::orchestrator::ServerProcess;

pub(crate) const TARGET: &str = "wasm32-unknown-unknown";

/// Where the tools are.
pub(crate) struct Tools {
    /// `chromedriver`, when a browser was asked for.
    pub chromedriver: Option<PathBuf>,
}

/// Installs what the wasm steps need, if missing: the wasm32 target, wasm-bindgen-cli at
/// Cargo.lock's version, Node (chatio-core's tests), and with `browser` Chromium and
/// chromedriver.
pub(crate) fn ensure_tools(browser: bool) -> Result<Tools> {
    if which("rustup").is_some() {
        run(Command::new("rustup").args(["target", "add", TARGET]))?;
    }
    let version = cmd::locked_version("wasm-bindgen")?;
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
            bail!("chromedriver not found after installing chromium-driver");
        }
    }
    Ok(tools)
}

/// Builds and starts `chatio-server` (debug) on a free port, its data in memory, with `extra`
/// arguments.
pub(crate) fn start_server(extra: &[&str]) -> Result<ServerProcess> {
    cargo(&["build", "-q", "-p", "chatio-server", "--bin", "chatio-server"])?;
    let bin = target_dir().join("debug").join("chatio-server");
    let child = Command::new(&bin)
        .args(["--listen", "127.0.0.1:0", "--memory"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))?;
    let server = ServerProcess::from_child(child)?;
    eprintln!("reference server at {}", server.url);
    Ok(server)
}

/// `cargo test` for wasm32 with wasm-bindgen-test-runner as the runner.
fn wasm_test(args: &[&str], env: &[(&str, &str)]) -> Result<()> {
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
pub(crate) fn ci() -> Result<()> {
    test()
}

fn test() -> Result<()> {
    let tools = ensure_tools(true)?;
    cargo(&["build", "-p", "chatio-wire", "-p", "chatio-core", "--target", TARGET])?;
    wasm_test(&["-p", "chatio-core", "--lib", "--test", "it"], &[])?;
    let web = ["-p", "chatio-customer-sdk", "--no-default-features", "--features", "web"];
    let mut build = vec!["build", "--target", TARGET];
    build.extend(web);
    cargo(&build)?;
    // The browser driver (chatio-transport's `web` module) and the core, as built for wasm32.
    let mut clippy = vec!["clippy", "--target", TARGET, "--tests", "-p", "chatio-transport", "-p", "chatio-core"];
    clippy.extend(["-p", "chatio-customer-sdk", "--no-default-features", "--features", "chatio-customer-sdk/web"]);
    clippy.extend(["--", "-D", "warnings"]);
    cargo(&clippy)?;
    docs()?;
    let chromedriver = tools.chromedriver.as_deref().map(Path::to_string_lossy).unwrap_or_default().into_owned();
    // The transport's browser-only unit tests (the IndexedDB store and its tab lock) in
    // headless Chromium.
    let transport = ["-p", "chatio-transport", "--no-default-features", "--features", "web", "--lib"];
    wasm_test(&transport, &[("CHROMEDRIVER", chromedriver.as_str())])?;
    // The admin routes need a secret (G37); this one lives as long as this run.
    let secret =
        format!("wasm-suite-{}-{}", std::process::id(), std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos()));
    let server = start_server(&["--admin", "--admin-secret", &secret, "--agent-delay-ms", "0"])?;
    let mut args = web.to_vec();
    args.extend(["--test", "browser"]);
    let env = [
        ("CHROMEDRIVER", chromedriver.as_str()),
        ("CHATIO_TEST_SERVER", &server.url),
        ("CHATIO_TEST_ADMIN_SECRET", &secret),
    ];
    wasm_test(&args, &env)
}

/// The browser API's docs (the SDK and the transport for wasm32 with `web`), which docs.rs
/// does not build (one feature set for every target; the native runtimes do not build for
/// wasm32), without a warning: `target/wasm32-unknown-unknown/doc/`.
fn docs() -> Result<()> {
    let args = ["doc", "--no-deps", "--target", TARGET, "-p", "chatio-customer-sdk", "-p", "chatio-transport"];
    let features = ["--no-default-features", "--features", "chatio-customer-sdk/web"];
    eprintln!("$ RUSTDOCFLAGS='-D warnings' cargo {} {}", args.join(" "), features.join(" "));
    let status = Command::new(env!("CARGO"))
        .args(args)
        .args(features)
        .env("RUSTDOCFLAGS", "-D warnings")
        .status()
        .context("cannot run cargo")?;
    if status.success() { Ok(()) } else { Err(anyhow!("the browser API docs have warnings or errors ({status})")) }
}

/// `cargo xtask wasm <test|docs>`.
pub(crate) fn main(args: &[String]) -> Result<()> {
    match args.first().map(String::as_str) {
        Some("test") | None => test(),
        Some("docs") => {
            if which("rustup").is_some() {
                run(Command::new("rustup").args(["target", "add", TARGET]))?;
            }
            docs()
        }
        Some(other) => Err(anyhow!("unknown wasm task `{other}` (test, docs)")),
    }
}

// ------------------------------------------------------------------------- bench wasm

/// Gzipped size (`gzip -9`) of a file, in bytes.
fn size(path: &Path) -> Result<u64> {
    std::fs::metadata(path).map(|m| m.len()).with_context(|| format!("{}", path.display()))
}

/// Serves the files of `dir` over HTTP/1.0 on a free port, `no-store`, on a thread.
fn serve_dir(dir: PathBuf) -> Result<String> {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}", listener.local_addr()?);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = head.split_whitespace().nth(1).unwrap_or("/").split('?').next().unwrap_or("/").to_owned();
            let name = path.trim_start_matches('/');
            let name = if name.is_empty() { "index.html" } else { name };
            let file = dir.join(name);
            let (status, body) = match std::fs::read(&file) {
                Ok(b) if !name.contains("..") => ("200 OK", b),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let ct = match file.extension().and_then(|e| e.to_str()) {
                Some("wasm") => "application/wasm",
                Some("js") => "text/javascript",
                Some("html") => "text/html",
                _ => "application/octet-stream",
            };
            let _ = write!(
                s,
                "HTTP/1.0 {status}\r\ncontent-type: {ct}\r\ncontent-length: {}\r\ncache-control: no-store\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(&body);
        }
    });
    Ok(url)
}

/// One WebDriver call (HTTP/1.1, JSON) to chromedriver; the body is read by its length.
fn webdriver(port: u16, method: &str, path: &str, body: Option<&serde_json::Value>) -> Result<serde_json::Value> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).context("chromedriver")?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut r = BufReader::new(s);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            bail!("chromedriver closed the connection");
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap_or(0);
        }
        if line == "\r\n" {
            break;
        }
    }
    let mut out = vec![0u8; length];
    r.read_exact(&mut out)?;
    serde_json::from_slice(&out).with_context(|| format!("chromedriver answered {:?}", String::from_utf8_lossy(&out)))
}

/// `cargo xtask bench wasm [--runs N]`: the minimal page's size and its load → `Connected`
/// time in headless Chromium.
pub(crate) fn bench(args: &[String]) -> Result<()> {
    let runs: usize =
        args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1)).and_then(|n| n.parse().ok()).unwrap_or(7);
    let tools = ensure_tools(true)?;
    cargo(&["build", "-p", "chatio-web-minimal", "--profile", "wasm-release", "--target", TARGET])?;
    let built = target_dir().join(TARGET).join("wasm-release").join("chatio_web_minimal.wasm");
    let out = target_dir().join("wasm-minimal");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out)?;
    run(Command::new("wasm-bindgen")
        .args(["--target", "web", "--no-typescript", "--remove-name-section", "--remove-producers-section"])
        .arg("--out-dir")
        .arg(&out)
        .arg(&built))?;
    let wasm = out.join("chatio_web_minimal_bg.wasm");
    let js = out.join("chatio_web_minimal.js");
    println!("minimal page (connect, start a chat, send), profile wasm-release:");
    let raw = size(&wasm)?;
    let raw_gz = cmd::gzip_len(&wasm)?;
    println!("  wasm after wasm-bindgen: {:.1} KiB ({:.1} KiB gzipped)", raw as f64 / 1024.0, raw_gz as f64 / 1024.0);
    // wasm-opt (Debian's binaryen) when it is installed; it can make the gzipped module
    // larger: keep the smaller.
    if on_path("wasm-opt") {
        let opt = out.join("opt.wasm");
        run(Command::new("wasm-opt")
            .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int", "--enable-sign-ext"])
            .args(["--enable-mutable-globals", "--enable-reference-types", "--enable-multivalue"])
            .arg(&wasm)
            .arg("-o")
            .arg(&opt))?;
        let (ow, owz) = (size(&opt)?, cmd::gzip_len(&opt)?);
        println!("  wasm after wasm-opt -Oz: {:.1} KiB ({:.1} KiB gzipped)", ow as f64 / 1024.0, owz as f64 / 1024.0);
        if owz < raw_gz {
            std::fs::rename(&opt, &wasm)?;
        }
    } else {
        println!("  wasm-opt: not installed (apt-get install binaryen), step skipped");
    }
    let (w, wz, j, jz) = (size(&wasm)?, cmd::gzip_len(&wasm)?, size(&js)?, cmd::gzip_len(&js)?);
    let total = wz + jz;
    let kib = |b: u64| b as f64 / 1024.0;
    println!("  wasm served: {:.1} KiB ({:.1} KiB gzipped)", kib(w), kib(wz));
    println!("  JS glue: {:.1} KiB ({:.1} KiB gzipped)", kib(j), kib(jz));
    println!(
        "  total gzipped: {:.1} KiB (target 128 KiB; JS SDK 0.9.1 minified: 28 KiB gzipped, ratio {:.1}x)",
        kib(total),
        kib(total) / 28.0
    );
    std::fs::write(
        out.join("index.html"),
        "<!doctype html><meta charset=utf-8><title>loading</title>\
         <script type=module>import init from './chatio_web_minimal.js'; init();</script>",
    )?;

    // Load → Connected, in headless Chromium through chromedriver.
    let page = serve_dir(out.clone())?;
    let server = start_server(&["--agent-delay-ms", "0"])?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let chromedriver = tools.chromedriver.context("no chromedriver")?;
    let mut driver = ChildGuard(
        Command::new(&chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("cannot start chromedriver")?,
    );
    let _ = &mut driver;
    let started = std::time::Instant::now();
    while webdriver(port, "GET", "/status", None).is_err() {
        if started.elapsed() > std::time::Duration::from_secs(20) {
            bail!("chromedriver did not start");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "args": ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]}}}});
    let session = webdriver(port, "POST", "/session", Some(&caps))?;
    let id =
        session["value"]["sessionId"].as_str().ok_or_else(|| anyhow!("no WebDriver session: {session}"))?.to_owned();
    let mut times = Vec::new();
    let result = (|| -> Result<()> {
        for i in 0..runs {
            let url = format!("{page}/index.html?server={}", server.url);
            webdriver(port, "POST", &format!("/session/{id}/url"), Some(&serde_json::json!({ "url": url })))?;
            let t0 = std::time::Instant::now();
            loop {
                let title = webdriver(port, "GET", &format!("/session/{id}/title"), None)?;
                let title = title["value"].as_str().unwrap_or_default().to_owned();
                if let Some(ms) = title.strip_prefix("sent ") {
                    let ms: f64 = ms.parse().with_context(|| format!("title {title:?}"))?;
                    println!("  run {i}: page load → Connected {ms:.1} ms (then the message was sent)");
                    times.push(ms);
                    break;
                }
                if title.starts_with("error") {
                    bail!("the page failed: {title}");
                }
                if t0.elapsed() > std::time::Duration::from_secs(30) {
                    bail!("the page did not connect and send in 30 s (title {title:?})");
                }
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        Ok(())
    })();
    let _ = webdriver(port, "DELETE", &format!("/session/{id}"), None);
    result?;
    times.sort_by(f64::total_cmp);
    let median = times.get(times.len() / 2).copied().unwrap_or_default();
    println!(
        "  page load → Connected: median {median:.1} ms over {runs} runs (min {:.1}, max {:.1})",
        times.first().copied().unwrap_or_default(),
        times.last().copied().unwrap_or_default()
    );
    Ok(())
}

/// A child process killed on drop.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
