//! `cargo xtask getting-started`: the getting-started program of
//! `crates/chatio-customer-sdk/README.md` (the crate's front page, which the root README
//! points to), built as a reader builds it and run against a reference server.
//!
//! A new project outside the workspace gets the README's `[dependencies]` lines (the SDK by
//! path instead of from the registry) and its `main.rs`, with the server address replaced by
//! the address of a reference server started for the check; it must build, print the agent's
//! name and its answer, and end by itself. By default the project uses the workspace's
//! `Cargo.lock` (a reproducible CI step); `cargo xtask updated` builds it with freshly resolved
//! dependencies, as a new user's project would.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, ensure};

use crate::cmd::{root, run, run_bounded, target_dir};

/// The address the README's program talks to (what `chatio server` listens on by default).
const README_SERVER: &str = "http://127.0.0.1:8080";

/// What the program must print.
const EXPECTED: &[&str] = &["Chatio Bot is in the chat", "You said: Hello!"];

/// `cargo xtask getting-started`.
pub(crate) fn main() -> Result<()> {
    check(&root(), &target_dir(), true)
}

/// The `toml` and `rust` blocks of the README's "Getting started" section.
fn blocks(readme: &str) -> Result<(String, String)> {
    let start = readme.find("## Getting started").context("no `## Getting started` section")?;
    let section = &readme[start..];
    let section = &section[..section[2..].find("\n## ").map_or(section.len(), |i| i + 2)];
    let block = |lang: &str| -> Result<String> {
        let open = section.find(&format!("```{lang}")).with_context(|| format!("no {lang} block"))?;
        let body = &section[open..];
        let body = &body[body.find('\n').context("unterminated block")? + 1..];
        let end = body.find("```").context("unterminated block")?;
        Ok(body[..end].to_owned())
    };
    Ok((block("toml")?, block("rust")?))
}

/// Builds and runs the README's program from the checkout at `ws` (the repository, or the
/// copy `cargo xtask updated` made) in `target` (that checkout's target directory, whose
/// dependencies are built already); `locked`: with that checkout's `Cargo.lock`.
pub(crate) fn check(ws: &Path, target: &Path, locked: bool) -> Result<()> {
    let sdk = ws.join("crates/chatio-customer-sdk");
    let readme = std::fs::read_to_string(sdk.join("README.md")).context("cannot read the SDK's README")?;
    let (deps, program) = blocks(&readme)?;
    ensure!(deps.contains("[dependencies]"), "the README's toml block has no [dependencies]");
    let version = "chatio-customer-sdk = \"0.1\"";
    ensure!(deps.contains(version), "the README's dependencies do not say `{version}`");
    let deps = deps.replace(version, &format!("chatio-customer-sdk = {{ version = \"0.1\", path = {:?} }}", sdk));
    ensure!(program.contains(README_SERVER), "the README's program does not talk to {README_SERVER}");

    let server =
        chatio_server::Server::builder().ephemeral().start_blocking().context("cannot start the reference server")?;
    let program = program.replace(README_SERVER, &server.http_url());

    // Outside the workspace (a project of its own), one folder per checkout and mode.
    let checkout: String = ws.to_string_lossy().chars().map(|c| if c.is_alphanumeric() { c } else { '_' }).collect();
    let dir: PathBuf =
        std::env::temp_dir().join(format!("chatio-getting-started{checkout}{}", if locked { "" } else { "-fresh" }));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).with_context(|| format!("cannot create {}", dir.display()))?;
    let manifest = format!("[package]\nname = \"hello-chatio\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n{deps}");
    std::fs::write(dir.join("Cargo.toml"), manifest).context("cannot write Cargo.toml")?;
    std::fs::write(dir.join("src/main.rs"), program).context("cannot write main.rs")?;
    if locked {
        std::fs::copy(ws.join("Cargo.lock"), dir.join("Cargo.lock")).context("cannot copy Cargo.lock")?;
    }
    let result = (|| {
        run(Command::new(env!("CARGO")).current_dir(&dir).args(["build", "-q"]).env("CARGO_TARGET_DIR", target))?;
        let bin = target.join("debug/hello-chatio");
        eprintln!("$ {} (against {})", bin.display(), server.http_url());
        let (status, out, err) = run_bounded(&mut Command::new(&bin), 120).context("the getting-started program")?;
        print!("{out}");
        eprint!("{err}");
        ensure!(status.success(), "the getting-started program failed ({status})");
        for e in EXPECTED {
            ensure!(out.contains(e), "the getting-started program did not print `{e}`");
        }
        Ok(())
    })();
    async_std::task::block_on(server.shutdown());
    let _ = std::fs::remove_dir_all(&dir);
    result.map_err(|e: anyhow::Error| anyhow!("README getting-started: {e:#}"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_readme_blocks_are_found() {
        let readme = "# x\n\n## Getting started\n\ntext\n\n```toml\n[dependencies]\na = 1\n```\n\n```rust,no_run\nfn main() {}\n```\n\n## Next\n```rust\nno\n```\n";
        let (toml, rust) = super::blocks(readme).expect("blocks");
        assert_eq!(toml, "[dependencies]\na = 1\n");
        assert_eq!(rust, "fn main() {}\n");
        assert!(super::blocks("# x\n```rust\nfn main() {}\n```\n").is_err());
    }
}
