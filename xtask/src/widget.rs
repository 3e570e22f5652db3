//! `cargo xtask widget`: builds the chat widget (crates/chatio-widget) for the browser into
//! `target/widget/`; and `ci_widget`, the CI step that installs what the WebDriver test
//! needs and runs it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, root};

/// Where the assets go (served by `chatio server --widget`).
pub(crate) fn out_dir() -> PathBuf {
    root().join("target").join("widget")
}

fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let status = cmd.status().map_err(|e| format!("cannot run {shown}: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("{shown} failed ({status})")) }
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The wasm-bindgen version in Cargo.lock: the CLI must be exactly this one.
pub(crate) fn locked_wasm_bindgen() -> Result<String, String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).map_err(|e| format!("Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err("no wasm-bindgen in Cargo.lock".into())
}

/// `rustup target add wasm32-unknown-unknown` when it is missing (and rustup is there).
pub(crate) fn ensure_wasm_target() -> Result<(), String> {
    match output("rustup", &["target", "list", "--installed"]) {
        Some(list) if list.lines().any(|l| l.trim() == "wasm32-unknown-unknown") => Ok(()),
        Some(_) => run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"])),
        None => Ok(()), // no rustup: the toolchain's own targets decide
    }
}

/// The wasm-bindgen CLI of Cargo.lock's version, installed with `cargo install` if needed.
pub(crate) fn ensure_wasm_bindgen() -> Result<(), String> {
    let want = locked_wasm_bindgen()?;
    let have = output("wasm-bindgen", &["--version"]).unwrap_or_default();
    if have.split_whitespace().nth(1) == Some(want.as_str()) {
        return Ok(());
    }
    eprintln!("wasm-bindgen {want} is needed (found: {}); installing it", have.trim());
    let locked = cargo(&["install", "wasm-bindgen-cli", "--version", &want, "--locked"]);
    if locked.is_err() {
        // The CLI's own lock file can name a crate version the registry no longer serves
        // (seen with webpki-roots): resolve afresh, still at the exact CLI version.
        eprintln!("`cargo install --locked` failed; trying again without --locked");
        cargo(&["install", "wasm-bindgen-cli", "--version", &want])?;
    }
    Ok(())
}

fn gzip_len(path: &Path) -> Result<u64, String> {
    let out =
        Command::new("gzip").args(["-9", "-c"]).arg(path).output().map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", path.display()));
    }
    Ok(out.stdout.len() as u64)
}

/// `cargo xtask widget`: release build for wasm32, wasm-bindgen (`--target web`, without the
/// name and producers sections), the page and styles; prints the sizes.
pub(crate) fn build() -> Result<(), String> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    let root = root();
    // Size settings for this build only (native release builds keep the workspace's).
    let mut build = Command::new(env!("CARGO"));
    build
        .current_dir(&root)
        .args(["build", "-p", "chatio-widget", "--release", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    run(&mut build)?;
    let out = out_dir();
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    // No wasm-opt: Debian's binaryen (108) makes this module smaller raw but larger gzipped
    // (docs/benchmarks.md, "chatio-widget"); dropping the name and producers sections is
    // what saves bytes on the wire.
    let wasm = root.join("target/wasm32-unknown-unknown/release/chatio_widget.wasm");
    run(Command::new("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-name",
            "chatio_widget",
            "--out-dir",
        ])
        .arg(&out)
        .arg(&wasm))?;
    for asset in ["index.html", "widget.css"] {
        std::fs::copy(root.join("crates/chatio-widget/assets").join(asset), out.join(asset))
            .map_err(|e| format!("{asset}: {e}"))?;
    }
    let (mut raw, mut gz) = (0, 0);
    println!("{:<24} {:>10} {:>10}", "asset", "bytes", "gzip -9");
    for name in ["chatio_widget_bg.wasm", "chatio_widget.js", "index.html", "widget.css"] {
        let path = out.join(name);
        let len = std::fs::metadata(&path).map_err(|e| format!("{}: {e}", path.display()))?.len();
        let z = gzip_len(&path)?;
        println!("{name:<24} {len:>10} {z:>10}");
        raw += len;
        gz += z;
    }
    #[allow(clippy::cast_precision_loss)]
    let kib = gz as f64 / 1024.0;
    println!("{:<24} {raw:>10} {gz:>10}  ({kib:.1} KiB gzipped)", "total");
    println!("widget assets in {}; serve them with `cargo run -p chatio-cli -- server --widget`", out.display());
    Ok(())
}

/// The CI step: chromium and chromedriver (Debian packages) when missing, the widget build,
/// then the WebDriver test with skipping turned into a failure.
pub(crate) fn ci_widget() -> Result<(), String> {
    let missing = ["chromium", "chromedriver"].iter().any(|b| output(b, &["--version"]).is_none());
    if missing {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    build()?;
    run(Command::new(env!("CARGO"))
        .current_dir(root())
        .args(["test", "-p", "chatio-widget", "--test", "browser", "--", "--nocapture"])
        .env("CHATIO_BROWSER_TESTS", "require"))
}
