//! `cargo xtask`: the project's workflows, one subcommand each.
//!
//! * `cargo xtask ci` — what `.ci/run` runs: `tidy` (the architecture rules), format check,
//!   clippy with `-D warnings`, and the
//!   README's test command (`cargo test --workspace`), the SDK suite on smol and tokio, every
//!   SDK example run to completion, and `cargo doc` with warnings denied.

mod bench;
mod bench_agent;
mod bench_server;
mod cmd;
mod fuzz;
mod getting_started;
mod load;
mod soak_attacks;
mod soak_kill;
mod soak_sdk_kill;
mod soak_server;
mod tidy;
mod updated;
mod wasm;
mod widget;

use std::process::{Command, ExitCode};

use anyhow::{Context as _, Result, anyhow, bail, ensure};

use cmd::{cargo, on_path, root, run_bounded};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("record") => record(&args[1..]),
        Some("examples") => examples(),
        Some("packages") => packages(),
        Some("getting-started") => getting_started::main(),
        Some("updated") => updated::main(&args[1..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("server") => bench_server::main(&args[2..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("wasm") => wasm::bench(&args[2..]),
        Some("bench") => bench::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("wasm") => wasm::main(&args[1..]),
        Some("widget") => widget::main(&args[1..]),
        Some("tidy") => tidy::main(&args[1..]),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(anyhow!("unknown task `{other}`; run `cargo xtask help` for the list")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         ci      tidy, format check, clippy -D warnings, cargo test --workspace, the SDK suite on smol and tokio,\n          \
         every SDK example, cargo doc with warnings denied, the JS SDK 0.9.1 in Node and Chromium (what .ci/run runs)\n  \
         examples  runs every SDK example as the README lists it (part of ci)\n  \
         packages  cargo package of every library crate, as published, and the packaged chatio-wire's tests (part of ci)\n  \
         getting-started  builds the SDK README's getting-started program as a new project and runs it against a\n          \
         reference server (part of ci)\n  \
         updated [--no-tests]  a copy of the workspace after `cargo update`: clippy -D warnings, cargo test, the\n          \
         getting-started program (part of ci with --no-tests: an upstream release can turn it red)\n  \
         record  re-records fixtures/recorded/*.jsonl (SDK sessions against the reference server); --check compares instead;\n          --agent: fixtures/recorded-agent/*.jsonl (agent sessions) instead, --agent --check compares them\n  \
         bench   [wire|core|recorded|js|server|sdk|all|vs-js|agent] the benchmarks, in release mode, with a summary (vs-js: our SDK vs the JS SDK 0.9.1 through one server; agent: one agent session's round trip and how many chats it carries)\n  \
         fuzz    [wire_decode|core_session|server_requests|all] [--time S] the cargo-fuzz targets (nightly)\n  \
         soak    [--cycles N] chaos soak: messages sent while the server kills the connection at random points\n  \
         wasm    test: chatio-core's tests on wasm32 (Node), the SDK's in-browser suite (headless Chromium);\n          `bench wasm [--runs N]`: the minimal page's gzipped size and load-to-Connected time\n  \
         soak --server [--sessions N] [--secs S] the reference server under stalled readers and slow bodies (issue 14)\n  \
         soak --server --kill [--cycles N] [--customers N] the server killed with SIGKILL under load, restarted on its data (issue 22)\n  \
         soak --sdk-kill [--cycles N] a client (the SDK on an SQLite store) killed with SIGKILL while it sends, restarted (issue 24)\n  \
         soak --attacks  each flood of issues 14 and 21 once (tokens, connections, frames, events, chats, uploads, socket.io)\n          \
         against one release server while an honest customer chats from another address: the reliability table\n  \
         tidy    the architecture rules of docs/ARCHITECTURE.md (crate direction, sans-I/O crates, limits, platform cfgs,\n          \
         module layers); --write-docs rewrites the document's copy of the rules table\n  \
         widget  builds the chat widget into target/widget/ and the agent page into target/widget/agent/ (hashed, pre-compressed;\n          [--server URL] [--embed-origin ORIGIN]...)"
    );
}

fn ci() -> Result<()> {
    eprintln!("$ cargo xtask tidy");
    tidy::main(&[])?;
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // The chat client's tests type into a pseudo-terminal through util-linux `script`.
    if !on_path("script") {
        cmd::apt_install(&["bsdutils"])?;
    }
    // The README's test command.
    cargo(&["test", "--workspace"])?;
    // The agent side's recorded transcripts against a fresh recording (a few seconds): a
    // change of what the server or the agent client says shows up as a stale fixture.
    eprintln!("$ cargo xtask record --agent --check");
    record(&["--agent".to_owned(), "--check".to_owned()])?;
    // The SDK's end-to-end suite under the other runtimes (async-std ran above).
    for features in ["smol,tls", "tokio,tls"] {
        cargo(&[
            "clippy",
            "-p",
            "chatio-customer-sdk",
            "--no-default-features",
            "--features",
            features,
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ])?;
        cargo(&["test", "-p", "chatio-customer-sdk", "--no-default-features", "--features", features])?;
    }
    // The SDK killed while it sends, restarted on its store (issue 24): a short debug run.
    soak_sdk_kill::main(&["--debug".to_owned(), "--cycles".to_owned(), "5".to_owned()])?;
    examples()?;
    getting_started::main()?;
    // The workspace after `cargo update` (issue 26): a routine update must not break a build
    // with warnings denied. Clippy and the getting-started program; the tests ran above.
    updated::main(&["--no-tests".to_owned()])?;
    docs()?;
    packages()?;
    js_sdk_tests()?;
    // The widget first: its install of wasm-bindgen-cli falls back to an unlocked install
    // when `cargo install --locked` cannot resolve (wasm::ci then finds it installed).
    ci_widget()?;
    // The SDK in the browser: wasm32 builds, the core's tests in Node, the in-browser suite.
    wasm::ci()?;
    Ok(())
}

/// The chat widget in headless Chromium: installs chromium, chromium-driver, the wasm target
/// and the pinned wasm-bindgen-cli when missing, builds the widget, runs its WebDriver test.
fn ci_widget() -> Result<()> {
    widget::ci_widget()
}

/// The official JS SDK 0.9.1 against the reference server, in Node and in headless Chromium
/// (issue 13; `crates/chatio-server/tests/it/js_sdk.rs`), and as a visitor answered by our
/// agent SDK (issue 23; `crates/chatio-agent-sdk/tests/it/js_visitor.rs`). Installs what is missing with
/// apt-get (nodejs, npm, chromium, chromium-driver; the tests install the npm package
/// themselves), then runs the tests with `CHATIO_JS_REQUIRED=1`, so that a missing tool or a
/// failed npm install is a failure instead of a skip.
fn js_sdk_tests() -> Result<()> {
    let wanted = [("node", "nodejs"), ("npm", "npm"), ("chromium", "chromium"), ("chromedriver", "chromium-driver")];
    let missing: Vec<&str> = wanted.iter().filter(|(bin, _)| !on_path(bin)).map(|(_, pkg)| *pkg).collect();
    if !missing.is_empty() {
        cmd::apt_install(&missing)?;
    }
    // `--include-ignored`: these tests are ignored in a plain `cargo test` (they need Node,
    // npm and Chromium); the filters keep the other ignored tests (soaks) out.
    let args = [
        "test",
        "-p",
        "chatio-server",
        "--test",
        "it",
        "--",
        "--include-ignored",
        "--nocapture",
        "js_sdk",
        "cross_origin",
    ];
    eprintln!("$ CHATIO_JS_REQUIRED=1 cargo {}", args.join(" "));
    let status =
        Command::new(env!("CARGO")).args(args).env("CHATIO_JS_REQUIRED", "1").status().context("cannot run cargo")?;
    if !status.success() {
        bail!("the JS SDK tests failed ({status})");
    }
    // The JS SDK as a visitor, answered by our agent SDK (crates/chatio-agent-sdk/tests/it/js_visitor.rs).
    let args =
        ["test", "-p", "chatio-agent-sdk", "--test", "it", "--", "--include-ignored", "--nocapture", "js_visitor"];
    eprintln!("$ CHATIO_JS_REQUIRED=1 cargo {}", args.join(" "));
    let status =
        Command::new(env!("CARGO")).args(args).env("CHATIO_JS_REQUIRED", "1").status().context("cannot run cargo")?;
    if status.success() { Ok(()) } else { Err(anyhow!("the JS SDK visitor test failed ({status})")) }
}

/// Every example of the SDK, run as the README lists it (no arguments: each starts the
/// reference server in-process and must finish by itself, successfully, within 2 minutes).
fn examples() -> Result<()> {
    let dir = root().join("crates/chatio-customer-sdk/examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok()?.file_name().into_string().ok()?.strip_suffix(".rs").map(str::to_owned))
        .collect();
    names.sort();
    if names.is_empty() {
        bail!("no examples in {}", dir.display());
    }
    cargo(&["build", "-p", "chatio-customer-sdk", "--examples"])?;
    for name in &names {
        let args = ["run", "-q", "-p", "chatio-customer-sdk", "--example", name.as_str()];
        eprintln!("$ cargo {}", args.join(" "));
        let (status, out, err) = run_bounded(Command::new(env!("CARGO")).args(args), 120)?;
        print!("{out}");
        eprint!("{err}");
        if !status.success() {
            bail!("the example {name} failed ({status})");
        }
        // What a reader sees: no Debug output (`Some(…)`, `Error: InvalidArgs { … }`).
        if let Some(line) = out.lines().chain(err.lines()).find(|l| l.contains("Some(") || l.contains(" { ")) {
            bail!("the example {name} prints Debug output: {line}");
        }
    }
    examples_fail_fast()
}

/// A refused token or an unknown license ends `history_dump` at once with a non-zero exit
/// and the reason (it used to hang without a word).
fn examples_fail_fast() -> Result<()> {
    let server =
        chatio_server::Server::builder().ephemeral().start_blocking().context("cannot start the reference server")?;
    let url = server.http_url();
    for (env, expected) in [(("CHATIO_TOKEN", "bad-token"), "cannot log in"), (("CHATIO_LICENSE", "7"), "license")] {
        let customer = if env.0 == "CHATIO_TOKEN" { "-" } else { "someone" };
        let args = ["run", "-q", "-p", "chatio-customer-sdk", "--example", "history_dump", "--", &url, customer];
        eprintln!("$ {}={} cargo {}", env.0, env.1, args.join(" "));
        // A customer id is honoured only for a server-side app (G11): it brings an app token.
        let mut cmd = Command::new(env!("CARGO"));
        cmd.args(args).env(env.0, env.1).env("CHATIO_APP_TOKEN", "xtask");
        let (status, _, err) =
            run_bounded(&mut cmd, 60).with_context(|| format!("history_dump with {}={}", env.0, env.1))?;
        eprint!("{err}");
        if err.contains("bad-token") {
            bail!("history_dump printed the token");
        }
        if status.success() || !err.contains(expected) {
            bail!("history_dump with {}={} should fail saying `{expected}` ({status})", env.0, env.1);
        }
    }
    async_std::task::block_on(server.shutdown());
    Ok(())
}

/// The library crates, in dependency order.
const LIBRARIES: &[&str] = &["chatio-wire", "chatio-core", "chatio-transport", "chatio-customer-sdk", "chatio-server"];

/// The library crates package as they would be published: each carries its README and both
/// licence files; chatio-wire is verified in full (built from its `.crate`); the others,
/// whose siblings are not on crates.io, are packaged together without verification (cargo
/// resolves the siblings from the packages it makes in the same run), the SDK with its own
/// dependencies only (it needs no server published first), the server with chatio-wire.
fn packages() -> Result<()> {
    for lib in LIBRARIES {
        let out = Command::new(env!("CARGO"))
            .args(["package", "--list", "--allow-dirty", "-p", lib])
            .output()
            .context("cannot run cargo")?;
        ensure!(
            out.status.success(),
            "`cargo package --list -p {lib}` failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let files = String::from_utf8_lossy(&out.stdout);
        for needed in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
            ensure!(files.lines().any(|f| f == needed), "the {lib} package has no {needed}");
        }
    }
    cargo(&["package", "--allow-dirty", "-p", "chatio-wire"])?;
    packaged_wire_tests()?;
    let sdk = ["chatio-wire", "chatio-core", "chatio-transport", "chatio-customer-sdk"];
    let mut args = vec!["package", "--no-verify", "--allow-dirty"];
    args.extend(sdk.iter().flat_map(|p| ["-p", p]));
    cargo(&args)?;
    cargo(&["package", "--no-verify", "--allow-dirty", "-p", "chatio-wire", "-p", "chatio-server"])
}

/// chatio-wire's tests as a user of the published crate runs them: the `.crate` unpacked
/// outside the workspace, `cargo test --features agent` there. They read their fixture frames
/// from the package (`tests/fixtures/`), never from the repository around it.
fn packaged_wire_tests() -> Result<()> {
    let version = env!("CARGO_PKG_VERSION");
    let name = format!("chatio-wire-{version}");
    let krate = cmd::target_dir().join("package").join(format!("{name}.crate"));
    // One folder per checkout, the same every run: cargo does not rebuild a test whose only
    // change is the folder it was built in, and `env!("CARGO_MANIFEST_DIR")` would then name
    // a folder that is gone.
    let checkout: String =
        root().to_string_lossy().chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
    let dir = std::env::temp_dir().join(format!("chatio-packaged{checkout}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let result = (|| {
        cmd::run(Command::new("tar").arg("-xzf").arg(&krate).arg("-C").arg(&dir))?;
        let manifest = dir.join(&name).join("Cargo.toml");
        // A target directory of its own: in the workspace's, the packaged crate's test binaries
        // would have the same names as the workspace's own chatio-wire's.
        cmd::run(
            Command::new(env!("CARGO"))
                .args(["test", "--features", "agent", "--manifest-path"])
                .arg(&manifest)
                .arg("--target-dir")
                .arg(cmd::target_dir().join("package-test")),
        )
    })();
    let _ = std::fs::remove_dir_all(&dir);
    result.context("the packaged chatio-wire's tests")
}

/// The API docs build without a warning (broken links included).
fn docs() -> Result<()> {
    eprintln!("$ RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps");
    let status = Command::new(env!("CARGO"))
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .status()
        .context("cannot run cargo")?;
    if status.success() { Ok(()) } else { Err(anyhow!("`cargo doc` has warnings or errors ({status})")) }
}

/// `cargo xtask soak [--cycles N] [--seed S]`, or `cargo xtask soak --server [...]`.
fn soak(args: &[String]) -> Result<()> {
    if let Some(i) = args.iter().position(|a| a == "--sdk-kill") {
        let mut rest = args.to_vec();
        rest.remove(i);
        return soak_sdk_kill::main(&rest);
    }
    if args.iter().any(|a| a == "--attacks") && !args.iter().any(|a| a == "--server") {
        return soak_server::main(args);
    }
    if let Some(i) = args.iter().position(|a| a == "--server") {
        let mut rest = args.to_vec();
        rest.remove(i);
        if let Some(k) = rest.iter().position(|a| a == "--kill") {
            rest.remove(k);
            return soak_kill::main(&rest);
        }
        return soak_server::main(&rest);
    }
    let mut a = vec!["run", "--release", "-q", "-p", "chatio-conformance", "--example", "soak", "--"];
    a.extend(args.iter().map(String::as_str));
    cargo(&a)
}

/// Recorded sessions whose frames (not only their times) vary from one recording to the next:
/// `outbox` drops the connection while messages are in flight, and which of them the server
/// had already stored depends on the moment of the drop.
const TIMING_DEPENDENT: &[&str] = &["outbox"];

/// `cargo xtask record [--agent] [--check]`: re-records the customer side's sessions
/// (`fixtures/recorded`) or, with `--agent`, the agent side's (`fixtures/recorded-agent`);
/// `--check` records into a temporary folder instead and compares.
fn record(args: &[String]) -> Result<()> {
    let agent = args.iter().any(|a| a == "--agent");
    let check = args.iter().any(|a| a == "--check");
    let folder = if agent { "fixtures/recorded-agent" } else { "fixtures/recorded" };
    let dir = root().join(folder);
    let out = if check {
        std::env::temp_dir().join(format!("chatio-record-{}{}", if agent { "agent-" } else { "" }, std::process::id()))
    } else {
        dir.clone()
    };
    let written = async_std::task::block_on(async {
        if agent {
            chatio_conformance::record_agent::record_all(&out).await
        } else {
            chatio_conformance::record::record_all(&out).await
        }
    })
    .map_err(|e| anyhow!("{}", e.chain()));
    if !check {
        for w in written? {
            println!("recorded {w}");
        }
        println!("now run `cargo test -p chatio-conformance` and review snapshot changes with `cargo insta review`");
        return Ok(());
    }
    let sessions =
        if agent { chatio_conformance::record_agent::SESSIONS } else { chatio_conformance::record::SESSIONS };
    let stale = written.map(|_| stale_recordings(&dir, &out, sessions));
    let _ = std::fs::remove_dir_all(&out);
    let stale = stale?;
    if stale.is_empty() {
        println!("{folder} is up to date");
        Ok(())
    } else {
        let again = if agent { "cargo xtask record --agent" } else { "cargo xtask record" };
        Err(anyhow!(
            "{folder} differs from a fresh recording ({}): re-record with `{again}`, review and commit",
            stale.join(", ")
        ))
    }
}

/// The sessions of `sessions` whose recording in `fresh` differs from the committed one in
/// `dir` (or cannot be read). What each side said is compared in order, kind by kind ("out"
/// frames, "in" frames, tokens, connections): how the two streams interleave and the times
/// move between recordings, and so do the names of uploaded files (capabilities from the OS
/// random source even on a seeded server).
fn stale_recordings(dir: &std::path::Path, fresh: &std::path::Path, sessions: &[&str]) -> Vec<String> {
    let mut stale = Vec::new();
    for name in sessions {
        if TIMING_DEPENDENT.contains(name) {
            println!("skipped {name}.jsonl: what it records depends on when the injected drop lands");
            continue;
        }
        let file = format!("{name}.jsonl");
        let read = |p: std::path::PathBuf| {
            chatio_conformance::transcript::Transcript::read(&p).map(|t| {
                let mut kinds: std::collections::BTreeMap<String, Vec<serde_json::Value>> = Default::default();
                for l in t.lines {
                    let mut v = serde_json::to_value(&l).unwrap_or_default();
                    mask_file_names(&mut v);
                    if let Some(m) = v.as_object_mut() {
                        m.remove("t");
                        let kind = m.get("kind").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
                        kinds.entry(kind).or_default().push(v);
                    }
                }
                kinds
            })
        };
        match (read(dir.join(&file)), read(fresh.join(&file))) {
            (Ok(a), Ok(b)) if a == b => {}
            _ => stale.push(file),
        }
    }
    stale
}

/// Replaces the random name of every uploaded file (`/api/file/…/<hex>.<ext>`) with `FILE`.
fn mask_file_names(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::String(s) if s.contains("/api/file/") => {
            if let Some((dir, name)) = s.rsplit_once('/') {
                let stem = name.split('.').next().unwrap_or_default();
                if !stem.is_empty() && stem.bytes().all(|b| b.is_ascii_hexdigit()) {
                    *s = format!("{dir}/FILE{}", &name[stem.len()..]);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(mask_file_names),
        serde_json::Value::Object(m) => m.values_mut().for_each(mask_file_names),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uploaded_file_names_are_masked_and_nothing_else() {
        let mut v = serde_json::json!({
            "url": "http://server/api/file/chatio/att/100/26e18967c7c66bef1605012f0a0458fb.bin",
            "other": "http://server/licence/100/config.json",
            "name": "data.bin"
        });
        super::mask_file_names(&mut v);
        assert_eq!(v["url"], "http://server/api/file/chatio/att/100/FILE.bin");
        assert_eq!(v["other"], "http://server/licence/100/config.json");
        assert_eq!(v["name"], "data.bin");
    }
}
