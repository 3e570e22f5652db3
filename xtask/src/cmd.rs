//! Running things: commands echoed and checked, cargo, programs on `PATH`, apt-get for what
//! is missing, bounded runs with captured output, and the workspace's paths and lock file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail, ensure};

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map_or_else(|| manifest.join(".."), Path::to_path_buf)
}

/// The target directory (`CARGO_TARGET_DIR`, else the workspace's `target/`).
pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Runs a command, echoing it first; fails unless it succeeds.
pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let status = cmd.status().with_context(|| format!("cannot run {shown}"))?;
    ensure!(status.success(), "{shown} failed ({status})");
    Ok(())
}

/// Runs cargo (this toolchain's), echoing the command first.
pub(crate) fn cargo(args: &[&str]) -> Result<()> {
    eprintln!("$ cargo {}", args.join(" "));
    let status = Command::new(env!("CARGO")).args(args).status().context("cannot run cargo")?;
    ensure!(status.success(), "`cargo {}` failed ({status})", args.join(" "));
    Ok(())
}

/// A command's standard output when it ran and succeeded.
pub(crate) fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Where a program is on `PATH`.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// Whether a program is on `PATH`.
pub(crate) fn on_path(name: &str) -> bool {
    which(name).is_some()
}

/// `apt-get install` of Debian packages (after `apt-get update`).
pub(crate) fn apt_install(packages: &[&str]) -> Result<()> {
    ensure!(on_path("apt-get"), "{packages:?} missing and no apt-get to install them");
    let apt = |args: &[&str]| run(Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive"));
    apt(&["update", "-q"])?;
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(packages);
    apt(&args)
}

/// Runs a command with its output captured, killing it after `secs` seconds:
/// (status, stdout, stderr).
pub(crate) fn run_bounded(cmd: &mut Command, secs: u64) -> Result<(std::process::ExitStatus, String, String)> {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().context("cannot run")?;
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_string(&mut text);
            }
            text
        })
    };
    let out = read(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let err = read(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        match child.try_wait().context("waiting")? {
            Some(status) => break status,
            None if std::time::Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("did not finish within {secs} s");
            }
            None => std::thread::sleep(std::time::Duration::from_millis(100)),
        }
    };
    Ok((status, out.join().unwrap_or_default(), err.join().unwrap_or_default()))
}

/// The size of a file gzipped with `-9`.
pub(crate) fn gzip_len(path: &Path) -> Result<u64> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(path).output().context("cannot run gzip")?;
    ensure!(out.status.success(), "gzip {} failed", path.display());
    Ok(out.stdout.len() as u64)
}

/// The version of `package` that Cargo.lock pins (the first, if several).
pub(crate) fn locked_version(package: &str) -> Result<String> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"")
            && let Some(v) = lines.next().and_then(|l| l.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_owned());
        }
    }
    Err(anyhow!("{package} is not in Cargo.lock"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_root_is_the_workspace_without_dot_dot() {
        let root = super::root();
        assert!(root.join("Cargo.lock").is_file() && root.join("xtask").is_dir(), "{}", root.display());
        assert!(!root.to_string_lossy().contains(".."), "{}", root.display());
        assert!(super::locked_version("serde").is_ok() && super::locked_version("no-such-crate").is_err());
    }
}
