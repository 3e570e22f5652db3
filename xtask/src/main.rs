//! `cargo xtask`: the project's workflows, one subcommand each.
//!
//! * `cargo xtask ci` — what `.ci/run` runs: format check, clippy with `-D warnings`, and the
//!   README's test command (`cargo test --workspace`).

mod bench;
mod bench_server;
mod fuzz;
mod wasm;
mod widget;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("record") => record(&args[1..]),
        Some("bench") if args.get(1).map(String::as_str) == Some("server") => bench_server::main(&args[2..]),
        Some("bench") => bench::main(&args[1..]),
        Some("fuzz") => fuzz::main(&args[1..]),
        Some("soak") => soak(&args[1..]),
        Some("wasm") => wasm::main(&args[1..]),
        Some("widget") => widget::build(),
        Some("help") | Some("--help") | Some("-h") | None => {
            print_help();
            Ok(())
        }
        Some(other) => Err(format!("unknown task `{other}`; run `cargo xtask help` for the list")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

fn print_help() {
    println!(
        "cargo xtask <task>\n\n\
         tasks:\n  \
         ci      format check, clippy -D warnings, cargo test --workspace, the SDK suite on smol and tokio (what .ci/run runs)\n  \
         record  re-records fixtures/recorded/*.jsonl (SDK sessions against the reference server); --check compares instead\n  \
         bench   [wire|core|recorded|js|server|sdk|all] the benchmarks, in release mode, with a summary\n  \
         fuzz    [wire_decode|core_session|server_requests|all] [--time S] the cargo-fuzz targets (nightly)\n  \
         soak    [--cycles N] chaos soak: messages sent while the server kills the connection at random points\n  \
         wasm    test: chatio-core's tests on wasm32 (Node), the SDK's in-browser suite (headless Chromium)\n  \
         widget  builds the chat widget for the browser into target/widget/ (wasm32, wasm-bindgen, wasm-opt)"
    );
}

/// Runs a cargo command, echoing it first.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO")).args(args).status().map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`cargo {}` failed ({status})", args.join(" "))) }
}

fn ci() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    // The README's test command.
    cargo(&["test", "--workspace"])?;
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
    // The widget first: its install of wasm-bindgen-cli falls back to an unlocked install
    // when `cargo install --locked` cannot resolve (wasm::ci then finds it installed).
    ci_widget()?;
    // The SDK in the browser: wasm32 builds, the core's tests in Node, the in-browser suite.
    wasm::ci()?;
    Ok(())
}

/// The chat widget in headless Chromium: installs chromium, chromium-driver, the wasm target
/// and the pinned wasm-bindgen-cli when missing, builds the widget, runs its WebDriver test.
fn ci_widget() -> Result<(), String> {
    widget::ci_widget()
}

/// `cargo xtask soak [--cycles N] [--seed S]`.
fn soak(args: &[String]) -> Result<(), String> {
    let mut a = vec!["run", "--release", "-q", "-p", "chatio-conformance", "--example", "soak", "--"];
    a.extend(args.iter().map(String::as_str));
    cargo(&a)
}

pub(crate) fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo xtask record [--check]`.
fn record(args: &[String]) -> Result<(), String> {
    let check = args.iter().any(|a| a == "--check");
    let dir = root().join("fixtures/recorded");
    let out =
        if check { std::env::temp_dir().join(format!("chatio-record-{}", std::process::id())) } else { dir.clone() };
    let written = async_std::task::block_on(chatio_conformance::record::record_all(&out))?;
    if !check {
        for w in written {
            println!("recorded {w}");
        }
        println!("now run `cargo test -p chatio-conformance` and review snapshot changes with `cargo insta review`");
        return Ok(());
    }
    // Compare ignoring times: they move between recordings.
    let mut stale = Vec::new();
    for name in chatio_conformance::record::SESSIONS {
        let file = format!("{name}.jsonl");
        let read = |p: std::path::PathBuf| {
            chatio_conformance::transcript::Transcript::read(&p).map(|t| {
                t.lines
                    .into_iter()
                    .map(|l| {
                        let mut v = serde_json::to_value(&l).unwrap_or_default();
                        if let Some(m) = v.as_object_mut() {
                            m.remove("t");
                        }
                        v
                    })
                    .collect::<Vec<_>>()
            })
        };
        match (read(dir.join(&file)), read(out.join(&file))) {
            (Ok(a), Ok(b)) if a == b => {}
            _ => stale.push(file),
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    if stale.is_empty() {
        println!("fixtures/recorded is up to date");
        Ok(())
    } else {
        Err(format!(
            "fixtures/recorded differs from a fresh recording ({}): re-record with `cargo xtask record` and commit",
            stale.join(", ")
        ))
    }
}
