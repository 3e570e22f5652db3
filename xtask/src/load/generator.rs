//! The load generator's side of the pipe to its orchestrator.
//!
//! A generator is this xtask started again in release as its own process (so that the
//! server's memory can be read from `/proc` without the generator in it). It talks to the
//! orchestrator over stdout/stdin, one line each: `STAGE <name>` (the orchestrator samples the
//! server, then answers `GO`), `RESULT <key> <value>`, `LOG <text>`.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::{Context as _, Result, anyhow, ensure};

/// Tells the orchestrator a stage is reached and waits for its `GO`.
pub fn stage(name: &str) -> Result<()> {
    println!("STAGE {name}");
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("reading the orchestrator's answer")?;
    ensure!(line.trim() == "GO", "expected GO from the orchestrator, got {line:?}");
    Ok(())
}

/// Reports a result.
pub fn result(key: &str, value: impl std::fmt::Display) {
    println!("RESULT {key} {value}");
}

/// Reports a line for the orchestrator's terminal.
pub fn log(text: &str) {
    println!("LOG {text}");
}

/// The generator's runtime: tokio on two threads.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().context("tokio runtime")
}

/// The generator's `--key value` options.
pub struct Opts(HashMap<String, String>);

impl Opts {
    /// Reads `--key value` pairs.
    pub fn parse(args: &[String]) -> Result<Opts> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(k) = it.next() {
            let v = it.next().ok_or_else(|| anyhow!("{k} needs a value"))?;
            map.insert(k.trim_start_matches("--").to_owned(), v.clone());
        }
        Ok(Opts(map))
    }

    /// A required number.
    pub fn num(&self, key: &str) -> Result<u64> {
        let v = self.0.get(key).ok_or_else(|| anyhow!("--{key} is required"))?;
        v.parse().with_context(|| format!("--{key} {v}: not a number"))
    }

    /// The server's `HOST:PORT` from the required `--url http://HOST:PORT`.
    pub fn addr(&self) -> Result<String> {
        let url = self.0.get("url").ok_or_else(|| anyhow!("--url is required"))?;
        Ok(url.trim_start_matches("http://").trim_end_matches('/').to_owned())
    }
}

/// Percentile `p` (0..=1) of sorted values; 0 when there are none.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_percentiles() {
        let args: Vec<String> = ["--url", "http://127.0.0.1:80/", "--n", "3"].map(String::from).into();
        let o = Opts::parse(&args).expect("parse");
        assert_eq!(o.addr().expect("addr"), "127.0.0.1:80");
        assert_eq!(o.num("n").expect("n"), 3);
        assert!(o.num("m").is_err());
        assert!(Opts::parse(&args[..1]).is_err());
        let v: Vec<u32> = (1..=100).collect();
        assert_eq!((percentile(&v, 0.5), percentile(&v, 0.99), percentile(&v, 1.0)), (50, 99, 100));
        assert_eq!(percentile(&[], 0.5), 0);
    }
}
