//! `cargo xtask fuzz [target|all] [--time SECONDS]`: runs the cargo-fuzz targets of `fuzz/`
//! on the nightly toolchain (installing cargo-fuzz if needed), seeded from `fuzz/seeds/`
//! (made from the fixtures), and reports executions and crashes.

use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail};

use crate::cmd::root;

/// The fuzz targets.
pub const TARGETS: &[&str] = &["wire_decode", "core_session", "server_requests"];

fn ensure_cargo_fuzz() -> Result<()> {
    let ok = Command::new("cargo").args(["+nightly", "fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    eprintln!("$ cargo install cargo-fuzz --locked");
    let s = Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]).status()?;
    if s.success() {
        Ok(())
    } else {
        Err(anyhow!("cannot install cargo-fuzz (needs the nightly toolchain: rustup toolchain install nightly)"))
    }
}

/// Runs the fuzzers.
pub fn main(args: &[String]) -> Result<()> {
    let mut time = 60u64;
    let mut which = "all".to_owned();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--time" => time = it.next().and_then(|t| t.parse().ok()).context("--time needs seconds")?,
            t => which = t.to_owned(),
        }
    }
    let targets: Vec<&str> = if which == "all" { TARGETS.to_vec() } else { vec![which.as_str()] };
    if let Some(bad) = targets.iter().find(|t| !TARGETS.contains(t)) {
        bail!("unknown fuzz target `{bad}`: {}", TARGETS.join(", "));
    }
    ensure_cargo_fuzz()?;
    let mut report = Vec::new();
    for t in targets {
        let corpus = root().join("fuzz/corpus").join(t);
        std::fs::create_dir_all(&corpus)?;
        let seeds = root().join("fuzz/seeds").join(t);
        let mut cmd = Command::new("cargo");
        cmd.current_dir(root()).args(["+nightly", "fuzz", "run", "-s", "none", t]).arg(&corpus);
        if seeds.exists() {
            cmd.arg(&seeds);
        }
        cmd.args(["--", &format!("-max_total_time={time}"), "-max_len=8192", "-print_final_stats=1"]);
        eprintln!("$ {cmd:?}");
        let out = cmd.output()?;
        let log = String::from_utf8_lossy(&out.stderr);
        let runs = log
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("stat::number_of_executed_units:").map(|n| n.trim().to_owned()))
            .unwrap_or_else(|| "?".into());
        let crashed = !out.status.success();
        report.push(format!(
            "{t}: {runs} executions in {time} s, {}",
            if crashed { "CRASH (see fuzz/artifacts)" } else { "0 crashes" }
        ));
        if crashed {
            eprintln!(
                "{}",
                log.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
    }
    for r in &report {
        println!("{r}");
    }
    if report.iter().any(|r| r.contains("CRASH")) { Err(anyhow!("a fuzz target crashed")) } else { Ok(()) }
}
