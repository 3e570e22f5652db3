//! `cargo xtask widget`: builds the chat widget (crates/chatio-widget) and the agent page
//! (crates/chatio-agent-web, into `agent/`) for the browser into `target/widget/`, the folder
//! `chatio server --widget` serves (`/widget/`, `/agent/`) and a site owner can put on any
//! static host: the pages (`index.html`) and the loader (`loader.js`) under fixed names,
//! everything else under content-hashed names, each file beside its gzip and brotli forms;
//! and `ci_widget`, the CI step that installs what the WebDriver tests need and runs them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail};

use crate::cmd::{cargo, output, root, run};

/// Where the assets go (served by `chatio server --widget`).
pub(crate) fn out_dir() -> PathBuf {
    root().join("target").join("widget")
}

/// `rustup target add wasm32-unknown-unknown` when it is missing (and rustup is there).
pub(crate) fn ensure_wasm_target() -> Result<()> {
    match output("rustup", &["target", "list", "--installed"]) {
        Some(list) if list.lines().any(|l| l.trim() == "wasm32-unknown-unknown") => Ok(()),
        Some(_) => run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"])),
        None => Ok(()), // no rustup: the toolchain's own targets decide
    }
}

/// The wasm-bindgen CLI of Cargo.lock's version, installed with `cargo install` if needed.
pub(crate) fn ensure_wasm_bindgen() -> Result<()> {
    let want = crate::cmd::locked_version("wasm-bindgen")?;
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

/// `cargo xtask widget [--server URL] [--embed-origin ORIGIN]...`.
pub(crate) fn main(args: &[String]) -> Result<()> {
    let mut opts = Options::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--server" => opts.server = Some(it.next().context("--server needs a URL")?.clone()),
            "--embed-origin" => opts.embed_origins.push(it.next().context("--embed-origin needs an origin")?.clone()),
            other => {
                bail!("unknown option `{other}`: cargo xtask widget [--server URL] [--embed-origin ORIGIN]...");
            }
        }
    }
    build_with(&opts)
}

/// What a build can be told (for a copy of the folder on another static host).
#[derive(Default)]
pub(crate) struct Options {
    /// The chat server the window talks to (`<meta name="chatio-server">`); none: the
    /// origin the folder is served from.
    server: Option<String>,
    /// The origins the static `embed.json` allows (the server answers its own list).
    embed_origins: Vec<String>,
}

/// The files that are not renamed: the page and the loader are at fixed URLs (the snippet
/// names the loader; the loader names `index.html`), revalidated with their ETag.
const FIXED: &[&str] = &["index.html", "loader.js", "embed.json"];

/// FNV-1a, 64 bits, as 12 hex digits: enough to tell two builds of a file apart (a content
/// hash for cache busting, not a security measure).
fn content_hash(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")[..12].to_owned()
}

/// `stem.ext` → `stem.<hash>.ext`.
fn hashed_name(name: &str, bytes: &[u8]) -> String {
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    format!("{stem}.{}.{ext}", content_hash(bytes))
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("{}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("{}", path.display()))
}

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).context("gzip")?;
    enc.finish().context("gzip")
}

fn brotli(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).context("brotli")?;
    Ok(out)
}

/// `embed.json` for a static host: the origins given, or the server's defaults (its own
/// origin and loopback).
fn embed_json(origins: &[String]) -> String {
    let list: Vec<String> = if origins.is_empty() {
        ["self", "http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"].iter().map(|s| (*s).to_owned()).collect()
    } else {
        origins.to_vec()
    };
    serde_json::json!({ "origins": list }).to_string()
}

/// One wasm page the build makes: its crate, its assets, where its files go.
struct Page {
    /// The crate (`cargo build -p`).
    package: &'static str,
    /// Its library name (the wasm and the glue are named after it).
    lib: &'static str,
    /// Its assets, from the workspace root: `index.html`, `boot.js` and the style sheet.
    assets: &'static str,
    /// The style sheet's name.
    css: &'static str,
    /// The folder under `target/widget/` (empty: the folder itself).
    subdir: &'static str,
}

/// The chat widget's window, at the folder's root (`/widget/`).
const WIDGET: Page = Page {
    package: "chatio-widget",
    lib: "chatio_widget",
    assets: "crates/chatio-widget/assets",
    css: "widget.css",
    subdir: "",
};

/// The agent page (crates/chatio-agent-web), in `agent/` (served at `/agent/`).
const AGENT_PAGE: Page = Page {
    package: "chatio-agent-web",
    lib: "chatio_agent_web",
    assets: "crates/chatio-agent-web/assets",
    css: "agent.css",
    subdir: "agent",
};

/// `cargo xtask widget`: release builds for wasm32, wasm-bindgen (`--target web`, without
/// the name and producers sections); then the folder: the widget at its root, the agent page
/// in `agent/`; hashed names for everything but the pages, the loader and `embed.json`, each
/// file beside its `.gz` and `.br`; prints the sizes.
pub(crate) fn build() -> Result<()> {
    build_with(&Options::default())
}

fn build_with(opts: &Options) -> Result<()> {
    ensure_wasm_target()?;
    ensure_wasm_bindgen()?;
    let root = root();
    let out = out_dir();
    // Each page is its own cargo build: built together, the agent page's features (the
    // Agent API's frames) would be unified into the widget's build and grow it.
    let mut files = page_files(&WIDGET, opts)?;
    let assets = root.join(WIDGET.assets);
    files.push(("loader.js".into(), read(&assets.join("loader.js"))?));
    files.push(("embed.json".into(), embed_json(&opts.embed_origins).into_bytes()));
    let agent_files = page_files(&AGENT_PAGE, opts)?;

    let _ = std::fs::remove_dir_all(&out);
    write_folder(&out, &files, "the chat window (first open)")?;
    write_folder(&out.join(AGENT_PAGE.subdir), &agent_files, "the agent page (first open)")?;
    let loader = files.iter().find(|(n, _)| n == "loader.js").map(|(_, b)| gzip(b)).transpose()?.map_or(0, |g| g.len());
    println!("loader.js alone: {loader} bytes gzipped (the budget before the chat is opened: 10 KiB)");
    if loader > 10 * 1024 {
        bail!("loader.js is {loader} bytes gzipped, over its 10 KiB budget");
    }
    println!(
        "widget in {}, agent page in {}; serve them with `cargo run -p chatio-cli -- server --widget` (/widget/, /agent/), or copy the folder to a static host",
        out.display(),
        out.join(AGENT_PAGE.subdir).display()
    );
    Ok(())
}

/// Builds one page: its crate for wasm32 (size settings for this build only; native release
/// builds keep the workspace's), wasm-bindgen, and its files under their final names: the
/// wasm, the glue, the style sheet and the boot script hashed, `index.html` naming them
/// (and preloading the glue and the wasm) and the server of `--server`.
fn page_files(page: &Page, opts: &Options) -> Result<Vec<(String, Vec<u8>)>> {
    let root = root();
    let mut build = Command::new(env!("CARGO"));
    build
        .current_dir(&root)
        .args(["build", "-p", page.package, "--release", "--target", "wasm32-unknown-unknown"])
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "z")
        .env("CARGO_PROFILE_RELEASE_LTO", "true")
        .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "1")
        .env("CARGO_PROFILE_RELEASE_PANIC", "abort")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    run(&mut build)?;
    let stage = root.join("target").join("widget-stage").join(page.lib);
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage).with_context(|| format!("{}", stage.display()))?;
    // No wasm-opt: Debian's binaryen (108) makes this module smaller raw but larger gzipped
    // (docs/benchmarks.md, "chatio-widget"); dropping the name and producers sections is
    // what saves bytes on the wire.
    let wasm = root.join(format!("target/wasm32-unknown-unknown/release/{}.wasm", page.lib));
    run(Command::new("wasm-bindgen")
        .args([
            "--target",
            "web",
            "--no-typescript",
            "--remove-name-section",
            "--remove-producers-section",
            "--out-name",
        ])
        .arg(page.lib)
        .arg("--out-dir")
        .arg(&stage)
        .arg(&wasm))?;
    let assets = root.join(page.assets);

    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let mut place = |name: &str, bytes: Vec<u8>| -> String {
        let hashed = hashed_name(name, &bytes);
        files.push((hashed.clone(), bytes));
        hashed
    };
    let (wasm_file, glue_file) = (format!("{}_bg.wasm", page.lib), format!("{}.js", page.lib));
    let wasm_name = place(&wasm_file, read(&stage.join(&wasm_file))?);
    let glue_name = place(&glue_file, read(&stage.join(&glue_file))?);
    let css_name = place(page.css, read(&assets.join(page.css))?);
    let boot = String::from_utf8(read(&assets.join("boot.js"))?).context("boot.js")?;
    let boot = replace_once(&boot, &format!("'./{glue_file}'"), &format!("'./{glue_name}'"))?;
    let boot = replace_once(&boot, &format!("'./{wasm_file}'"), &format!("'./{wasm_name}'"))?;
    let boot_name = place("boot.js", boot.into_bytes());
    let html = String::from_utf8(read(&assets.join("index.html"))?).context("index.html")?;
    let html = replace_once(&html, &format!("href=\"{}\"", page.css), &format!("href=\"{css_name}\""))?;
    let html = replace_once(&html, "src=\"boot.js\"", &format!("src=\"{boot_name}\""))?;
    // The glue and the wasm start downloading with the page, not after the boot script ran.
    let html = replace_once(
        &html,
        "</head>",
        &format!(
            "<link rel=\"modulepreload\" href=\"{glue_name}\">\n<link rel=\"preload\" href=\"{wasm_name}\" as=\"fetch\" type=\"application/wasm\" crossorigin>\n</head>"
        ),
    )?;
    let html = match &opts.server {
        Some(url) => {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.contains(['"', '<', '>']) {
                bail!("--server {url}: expected an http(s) URL");
            }
            replace_once(
                &html,
                "<meta name=\"chatio-server\" content=\"\">",
                &format!("<meta name=\"chatio-server\" content=\"{}\">", url.trim_end_matches('/')),
            )?
        }
        None => html,
    };
    files.push(("index.html".into(), html.into_bytes()));
    Ok(files)
}

/// Writes `files` into `dir`, each beside its `.gz` and `.br`; prints their sizes and what a
/// first open of the page costs (`total`: every file but the fixed ones, plus the page).
fn write_folder(dir: &Path, files: &[(String, Vec<u8>)], total: &str) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    println!("{:<40} {:>10} {:>10} {:>10}", format!("{}/", dir.display()), "bytes", "gzip -9", "brotli 11");
    let (mut raw, mut gz_total, mut br_total) = (0, 0, 0);
    for (name, bytes) in files {
        let gz = gzip(bytes)?;
        let br = brotli(bytes)?;
        write(&dir.join(name), bytes)?;
        write(&dir.join(format!("{name}.gz")), &gz)?;
        write(&dir.join(format!("{name}.br")), &br)?;
        println!("{name:<40} {:>10} {:>10} {:>10}", bytes.len(), gz.len(), br.len());
        if !FIXED.contains(&name.as_str()) || name == "index.html" {
            raw += bytes.len();
            gz_total += gz.len();
            br_total += br.len();
        }
    }
    #[allow(clippy::cast_precision_loss)]
    let kib = gz_total as f64 / 1024.0;
    println!("{total:<40} {raw:>10} {gz_total:>10} {br_total:>10}  ({kib:.1} KiB gzipped)");
    Ok(())
}

/// `text` with `from` replaced by `to`, which must occur exactly once (a changed asset fails
/// the build instead of shipping a page that names a missing file).
fn replace_once(text: &str, from: &str, to: &str) -> Result<String> {
    match text.matches(from).count() {
        1 => Ok(text.replacen(from, to, 1)),
        n => Err(anyhow!("expected `{from}` once in a widget asset, found it {n} times")),
    }
}

/// The CI step: chromium and chromedriver (Debian packages) when missing, the widget and
/// agent page build, then the WebDriver tests of both with skipping turned into a failure (the accessibility test
/// installs axe-core from npm into `target/widget-test/axe` itself).
pub(crate) fn ci_widget() -> Result<()> {
    let missing = ["chromium", "chromedriver"].iter().any(|b| output(b, &["--version"]).is_none());
    if missing {
        run(Command::new("apt-get").arg("update"))?;
        run(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "chromium", "chromium-driver"])
            .env("DEBIAN_FRONTEND", "noninteractive"))?;
    }
    build()?;
    // One browser at a time: each test starts its own Chromium, and this machine has two cores.
    // `--include-ignored`: the browser tests are ignored in a plain `cargo test` (they need
    // Chromium and the built pages); here both are in place.
    for package in ["chatio-widget", "chatio-agent-web"] {
        run(Command::new(env!("CARGO"))
            .current_dir(root())
            .args(["test", "-p", package, "--test", "browser", "--"])
            .args(["--include-ignored", "--nocapture", "--test-threads=1"])
            .env("CHATIO_BROWSER_TESTS", "require"))?;
    }
    Ok(())
}
