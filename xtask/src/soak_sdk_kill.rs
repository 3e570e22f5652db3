//! `cargo xtask soak --sdk-kill`: a client process (our SDK on an SQLite store) killed with
//! SIGKILL at random moments while it sends, and started again on the same store, N times,
//! against the `chatio-server` binary on a data directory (issue 24).
//!
//! The soak itself is the ignored test `kill_soak::sdk_kill_soak` of chatio-customer-sdk's
//! integration tests: this builds the server binary and runs it (release by default; `cargo
//! xtask ci` runs a short debug run), and it prints the cycles and counts.

use std::process::Command;

use anyhow::{Result, anyhow, bail};

use crate::cmd::{cargo, run, target_dir};

/// Entry point of `cargo xtask soak --sdk-kill [--cycles N] [--window N] [--max-ms N] [--debug]`.
pub fn main(args: &[String]) -> Result<()> {
    let mut env: Vec<(&str, String)> = Vec::new();
    let mut release = true;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<String> {
            it.next().filter(|v| v.parse::<u64>().is_ok()).cloned().ok_or_else(|| anyhow!("{name} needs a number"))
        };
        match a.as_str() {
            "--cycles" => env.push(("CHATIO_SDK_KILL_CYCLES", num("--cycles")?)),
            "--window" => env.push(("CHATIO_SDK_KILL_WINDOW", num("--window")?)),
            "--max-ms" => env.push(("CHATIO_SDK_KILL_MAX_MS", num("--max-ms")?)),
            "--seed" => env.push(("CHATIO_SDK_KILL_SEED", num("--seed")?)),
            "--debug" => release = false,
            "-h" | "--help" => {
                println!(
                    "cargo xtask soak --sdk-kill [--cycles N] [--window N] [--max-ms N] [--seed S] [--debug]\n\n\
                     A client process (the SDK on an SQLite store, its customer resumed by the refresh token it keeps)\n\
                     sends messages into one chat and is killed with SIGKILL 0 to --max-ms ms after each start, then\n\
                     started again on the same store, against the chatio-server binary on a data directory; then the\n\
                     server's data must hold every message the client accepted exactly once, all in order, one customer\n\
                     (tokens of 2 s, refresh answers 200 ms late: kills also land in a refresh, G39).\n\
                     --cycles  kills (default 20)\n\
                     --window  messages in flight (default 4)\n\
                     --max-ms  latest kill after a start (default 1500)\n\
                     --seed    the kill moments (default: from the clock; printed)\n\
                     --debug   debug builds (default release)"
                );
                return Ok(());
            }
            other => bail!("unknown option `{other}` (see --help)"),
        }
    }
    let profile: &[&str] = if release { &["--release"] } else { &[] };
    let mut build = vec!["build", "-q", "-p", "chatio-server", "--bin", "chatio-server"];
    build.extend(profile);
    cargo(&build)?;
    let server = target_dir().join(if release { "release" } else { "debug" }).join("chatio-server");
    let mut cmd = Command::new(env!("CARGO"));
    cmd.arg("test").args(profile).args(["-p", "chatio-customer-sdk", "--test", "it", "kill_soak::sdk_kill_soak", "--"]);
    cmd.args(["--ignored", "--exact", "--nocapture"]).env("CHATIO_SERVER_BIN", server);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}
