//! `cargo xtask`: the project's workflows, one subcommand each.
//!
//! * `cargo xtask ci` — what `.ci/run` runs: format check, clippy with `-D warnings`, and the
//!   README's test command (`cargo test --workspace`).

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
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
         ci      format check, clippy -D warnings, cargo test --workspace, the SDK suite on smol and tokio (what .ci/run runs)"
    );
}

/// Runs a cargo command, echoing it first.
fn cargo(args: &[&str]) -> Result<(), String> {
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
        cargo(&["clippy", "-p", "chatio-customer-sdk", "--no-default-features", "--features", features, "--all-targets", "--", "-D", "warnings"])?;
        cargo(&["test", "-p", "chatio-customer-sdk", "--no-default-features", "--features", features])?;
    }
    Ok(())
}
