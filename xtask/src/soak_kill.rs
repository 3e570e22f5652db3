//! `cargo xtask soak --server --kill`: the reference server killed with SIGKILL under load
//! and started again on the same data directory, N times (issue 22).
//!
//! The soak itself is the ignored test `kill::kill_soak` of chatio-server's integration
//! tests (the CI-sized run of the same code is `kill::sigkill_under_load_loses_nothing_acknowledged`):
//! this runs it in release mode, sized by the options, and it prints the cycles and counts.

use std::process::Command;

use anyhow::{Result, anyhow, bail};

use crate::cmd::run;

/// Entry point of `cargo xtask soak --server --kill [--cycles N] [--customers N] [--window N]`.
pub fn main(args: &[String]) -> Result<()> {
    let mut env: Vec<(&str, String)> = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut num = |name: &str| -> Result<String> {
            it.next().filter(|v| v.parse::<u64>().is_ok()).cloned().ok_or_else(|| anyhow!("{name} needs a number"))
        };
        match a.as_str() {
            "--cycles" => env.push(("CHATIO_KILL_CYCLES", num("--cycles")?)),
            "--customers" => env.push(("CHATIO_KILL_CUSTOMERS", num("--customers")?)),
            "--window" => env.push(("CHATIO_KILL_WINDOW", num("--window")?)),
            "-h" | "--help" => {
                println!(
                    "cargo xtask soak --server --kill [--cycles N] [--customers N] [--window N]\n\n\
                     The release chatio-server binary on a data directory, killed with SIGKILL 200-800 ms after\n\
                     each start while customers send with acknowledgements, and started again on the same directory;\n\
                     then every message is checked stored exactly once, in order, every acknowledged one among them.\n\
                     --cycles     kills (default 20)\n\
                     --customers  customers sending at once (default 20)\n\
                     --window     messages in flight per customer (default 16)"
                );
                return Ok(());
            }
            other => bail!("unknown option `{other}` (see --help)"),
        }
    }
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["test", "--release", "-p", "chatio-server", "--test", "it", "kill::kill_soak", "--"]).args([
        "--ignored",
        "--exact",
        "--nocapture",
    ]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(&mut cmd)
}
