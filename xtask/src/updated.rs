//! `cargo xtask updated`: the workspace against the newest semver-compatible dependencies, as a
//! new user's project resolves them (issue 26: a routine `cargo update` once broke
//! `cargo clippy -D warnings` through a deprecation).
//!
//! Copies the checkout's files (tracked and untracked, not ignored) to `target/updated/ws`,
//! runs `cargo update` there, then `cargo clippy --workspace --all-targets -- -D warnings` and
//! `cargo test --workspace` (`--no-tests`: clippy only) in a target directory of its own
//! (`target/updated/target`), and builds the README's getting-started
//! program against the fresh versions. The repository's `Cargo.lock` is never touched.
//!
//! Part of `cargo xtask ci` as `updated --no-tests` (clippy and the getting-started program;
//! the tests ran against the lock file). Its outcome depends on what was published upstream
//! since the lock file was written, so it can turn red without a change here: that is its
//! purpose (a user's new project resolves the same versions). When it fails, fix the code (or
//! pin, with the reason beside the pin) and refresh `Cargo.lock`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail, ensure};

use crate::cmd::{root, run, target_dir};

/// `cargo xtask updated [--no-tests]`.
pub(crate) fn main(args: &[String]) -> Result<()> {
    let mut tests = true;
    for a in args {
        match a.as_str() {
            "--no-tests" => tests = false,
            other => bail!("unknown argument `{other}` (expected --no-tests)"),
        }
    }
    let ws = target_dir().join("updated").join("ws");
    copy_checkout(&ws)?;
    // A target directory of its own: in the workspace's, the copy's crates would have the same
    // artifact names as the checkout's, and one could be taken for the other.
    let target = target_dir().join("updated").join("target");
    let cargo =
        |args: &[&str]| run(Command::new(env!("CARGO")).current_dir(&ws).args(args).env("CARGO_TARGET_DIR", &target));
    cargo(&["update"])?;
    print_moves(&root().join("Cargo.lock"), &ws.join("Cargo.lock"))?;
    cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    if tests {
        cargo(&["test", "--workspace"])?;
    }
    crate::getting_started::check(&ws, &target, false)?;
    println!(
        "the workspace builds, lints{} clean against the newest compatible dependencies",
        if tests { " and tests" } else { "" }
    );
    Ok(())
}

/// Copies the checkout's files (what `git ls-files` lists: tracked, and untracked unless
/// ignored) to `to`, links as links, replacing what was there.
fn copy_checkout(to: &Path) -> Result<()> {
    if to.exists() {
        std::fs::remove_dir_all(to).with_context(|| format!("cannot empty {}", to.display()))?;
    }
    let out = Command::new("git")
        .current_dir(root())
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .output()
        .context("cannot run git ls-files")?;
    ensure!(out.status.success(), "git ls-files failed: {}", String::from_utf8_lossy(&out.stderr));
    let mut copied = 0usize;
    for name in out.stdout.split(|b| *b == 0).filter(|n| !n.is_empty()) {
        let rel = PathBuf::from(String::from_utf8_lossy(name).into_owned());
        let (from, dest) = (root().join(&rel), to.join(&rel));
        let Ok(meta) = std::fs::symlink_metadata(&from) else { continue }; // deleted, not yet committed
        if let Some(dir) = dest.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&from).with_context(|| format!("cannot read {}", from.display()))?;
            std::os::unix::fs::symlink(&target, &dest).with_context(|| format!("cannot link {}", dest.display()))?;
        } else {
            std::fs::copy(&from, &dest).with_context(|| format!("cannot copy {}", rel.display()))?;
        }
        copied += 1;
    }
    eprintln!("copied {copied} files to {}", to.display());
    Ok(())
}

/// Prints the packages whose version `cargo update` moved.
fn print_moves(before: &Path, after: &Path) -> Result<()> {
    let read = |p: &Path| -> Result<std::collections::BTreeSet<String>> {
        let text = std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
        let mut set = std::collections::BTreeSet::new();
        let mut name = None;
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("name = ") {
                name = Some(n.trim_matches('"').to_owned());
            } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
                set.insert(format!("{n} {}", v.trim_matches('"')));
            }
        }
        Ok(set)
    };
    let (old, new) = (read(before)?, read(after)?);
    let moved: Vec<&String> = new.difference(&old).collect();
    if moved.is_empty() {
        println!("cargo update moved nothing: Cargo.lock is current");
    } else {
        println!("cargo update moved {} packages to:", moved.len());
        for m in moved {
            println!("  {m}");
        }
    }
    Ok(())
}
