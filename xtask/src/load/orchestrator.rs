//! The orchestrator's side: release builds, the server process, the generator process with
//! its watchdog, and samples of the server's memory and CPU time from `/proc` (Linux).

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail, ensure};

use crate::cmd::target_dir;

/// `cargo build --release --quiet ARGS` in the workspace.
pub fn cargo_release(args: &[&str]) -> Result<()> {
    eprintln!("$ cargo build --release {}", args.join(" "));
    let status = Command::new(env!("CARGO"))
        .current_dir(crate::cmd::root())
        .args(["build", "--release", "--quiet"])
        .args(args)
        .status()
        .context("cannot run cargo")?;
    ensure!(status.success(), "cargo build failed ({status})");
    Ok(())
}

/// Builds the release server and the release xtask (the generator).
pub fn build_server_and_generator() -> Result<()> {
    ensure!(std::path::Path::new("/proc/self/status").exists(), "the load tools read /proc: Linux only");
    cargo_release(&["-p", "chatio-server", "--bin", "chatio-server"])?;
    cargo_release(&["-p", "xtask", "--bin", "xtask"])
}

/// Spawns `program args` (stdout piped, stderr inherited, `RUST_LOG=warn`) with the soft
/// file-descriptor limit raised to 20 000: 10 000 sockets per process need more than the
/// usual 1 024.
pub fn spawn_raised(program: &PathBuf, args: &[String], stdin: Stdio) -> Result<Child> {
    Command::new("sh")
        .arg("-c")
        .arg(r#"ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$@""#)
        .arg(program)
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env("RUST_LOG", "warn")
        .spawn()
        .with_context(|| format!("cannot start {}", program.display()))
}

/// A process's resident memory in KiB.
pub fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).context("reading /proc/<pid>/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))
}

/// A process's user + system CPU time, in seconds.
pub fn cpu_secs(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).context("reading /proc/<pid>/stat")?;
    let rest = stat.rsplit_once(')').map(|(_, r)| r).ok_or_else(|| anyhow!("bad /proc/{pid}/stat"))?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the command name: state is field 3, utime 14 and stime 15 (1-based).
    let ticks =
        |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).ok_or_else(|| anyhow!("bad /proc/{pid}/stat"));
    Ok((ticks(11)? + ticks(12)?) as f64 / clock_ticks() as f64)
}

fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// The release `chatio-server` binary, running; killed when dropped.
pub struct ServerProcess {
    child: Child,
    /// Its process id.
    pub pid: u32,
    /// Its base URL, `http://HOST:PORT` (from the line it prints first).
    pub url: String,
}

impl ServerProcess {
    /// Starts `target/release/chatio-server ARGS` (file limit raised) and reads its URL.
    pub fn start(args: &[&str]) -> Result<ServerProcess> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        ServerProcess::from_child(spawn_raised(&target_dir().join("release/chatio-server"), &args, Stdio::null())?)
    }

    /// A server already spawned with its stdout piped: reads the URL it prints first.
    pub fn from_child(mut child: Child) -> Result<ServerProcess> {
        let pid = child.id();
        let mut line = String::new();
        let out = child.stdout.take().ok_or_else(|| anyhow!("no server stdout"))?;
        let read = BufReader::new(out).read_line(&mut line);
        let mut server = ServerProcess { child, pid, url: String::new() };
        read.context("reading the server's first line")?;
        let url = line.split_whitespace().find(|w| w.starts_with("http://"));
        server.url = url.ok_or_else(|| anyhow!("the server printed no URL: {line:?}"))?.to_owned();
        Ok(server)
    }

    /// Whether it is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a generator reported with `RESULT`, in order.
#[derive(Debug, Default)]
pub struct Results(pub Vec<(String, String)>);

impl Results {
    /// The last value reported for `key`, or an empty string.
    pub fn get(&self, key: &str) -> String {
        self.0.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    /// The last value reported for `key` as a number, NaN when missing.
    pub fn num(&self, key: &str) -> f64 {
        self.get(key).parse().unwrap_or(f64::NAN)
    }

    /// Records a value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.0.push((key.to_owned(), value.into()));
    }
}

/// Runs the release xtask as a generator with `args` to its end, calling `on_stage` at each
/// `STAGE` before answering `GO`, printing its `LOG` lines. A watchdog kills it and the
/// processes `also_kill` if it runs longer than `limit`.
pub fn run_generator(
    args: &[&str],
    limit: Duration,
    also_kill: &[u32],
    mut on_stage: impl FnMut(&str) -> Result<()>,
) -> Result<Results> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut load = spawn_raised(&target_dir().join("release/xtask"), &args, Stdio::piped())?;
    let mut pids = vec![load.id()];
    pids.extend(also_kill);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            eprintln!("xtask: the run overran {limit:?}: killing it");
            for pid in pids {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    });
    let mut results = Results::default();
    let read = (|| -> Result<()> {
        let mut to_load = load.stdin.take().ok_or_else(|| anyhow!("no generator stdin"))?;
        let from_load = BufReader::new(load.stdout.take().ok_or_else(|| anyhow!("no generator stdout"))?);
        for line in from_load.lines() {
            let line = line.context("reading the generator")?;
            if let Some(stage) = line.strip_prefix("STAGE ") {
                on_stage(stage).with_context(|| format!("at stage {stage}"))?;
                writeln!(to_load, "GO").and_then(|()| to_load.flush()).context("writing to the generator")?;
            } else if let Some(kv) = line.strip_prefix("RESULT ") {
                let (k, v) = kv.split_once(' ').unwrap_or((kv, ""));
                results.insert(k, v);
            } else if let Some(log) = line.strip_prefix("LOG ") {
                eprintln!("  {log}");
            }
        }
        Ok(())
    })();
    if read.is_err() {
        let _ = load.kill();
    }
    let status = load.wait().context("waiting for the generator");
    let _ = done_tx.send(());
    let _ = watchdog.join();
    read?;
    let status = status?;
    if !status.success() {
        bail!("the load generator failed ({status})");
    }
    Ok(results)
}

/// Samples a process's RSS every `every` until stopped: (time, KiB).
pub struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<(Instant, u64)>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    pub fn start(pid: u32, every: Duration) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples: Arc<Mutex<Vec<(Instant, u64)>>> = Arc::default();
        let thread = {
            let (stop, samples) = (stop.clone(), samples.clone());
            std::thread::spawn(move || {
                let mut next = Instant::now();
                while !stop.load(Ordering::Relaxed) {
                    if Instant::now() >= next {
                        if let Ok(kib) = rss_kib(pid) {
                            samples.lock().unwrap_or_else(|e| e.into_inner()).push((Instant::now(), kib));
                        }
                        next += every;
                    }
                    std::thread::sleep(Duration::from_millis(50).min(every));
                }
            })
        };
        Sampler { stop, samples, thread: Some(thread) }
    }

    /// Stops sampling; the samples taken.
    pub fn finish(mut self) -> Vec<(Instant, u64)> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        std::mem::take(&mut *self.samples.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
