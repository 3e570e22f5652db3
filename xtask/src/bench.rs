//! `cargo xtask bench [name]`: the benchmarks, run in release mode, with a summary.
//!
//! | name | what |
//! |---|---|
//! | `wire` | `chatio-wire`'s decode bench (criterion) |
//! | `core` | `chatio-core`'s pushes bench (criterion) |
//! | `recorded` | decode vs `IgnoredAny`, and core pushes, on the recorded corpus (criterion) |
//! | `js` | the JavaScript SDK 0.9.1 on the same recorded pushes under Node, against `recorded` |
//! | `server` | the reference server's load benchmark (`bench_server.rs`) |
//! | `sdk` | SDK end to end: messages a session sends and has acknowledged per second |
//! | `all` | all of the above (the default) |

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, anyhow, bail};

use crate::cmd::{cargo, root, run, target_dir};

const CRITERION_ARGS: [&str; 5] = ["--", "--warm-up-time", "1", "--measurement-time", "4"];

/// The mean time of a criterion benchmark, in nanoseconds.
fn estimate(group: &str, name: &str) -> Option<f64> {
    let p = target_dir().join("criterion").join(group).join(name).join("new/estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

fn criterion(package: &str, bench: &str) -> Result<()> {
    let mut args = vec!["bench", "-p", package, "--bench", bench];
    args.extend(CRITERION_ARGS);
    cargo(&args)
}

fn recorded_summary(out: &mut Vec<String>) {
    let frames = count_recorded(false);
    let pushes = count_recorded(true);
    if let (Some(ours), Some(floor)) =
        (estimate("recorded_decode", "chatio_wire"), estimate("recorded_decode", "ignored_any"))
    {
        out.push(format!(
            "recorded corpus ({frames} server frames): chatio-wire decode {:.0} ns/frame, serde_json IgnoredAny {:.0} ns/frame, ratio {:.2}x (target <= 1.5x)",
            ours / frames as f64,
            floor / frames as f64,
            ours / floor
        ));
    }
    if let Some(t) = estimate("recorded_core", "pushes") {
        out.push(format!(
            "core on the recorded pushes ({pushes} frames): {:.0} ns/push, {:.2} M pushes/s on one core (target >= 1 M/s)",
            t / pushes as f64,
            pushes as f64 / t * 1e3
        ));
    }
}

/// Server frames (or only unsolicited pushes) in the recorded corpus.
fn count_recorded(pushes_only: bool) -> usize {
    recorded_frames(pushes_only).len()
}

fn recorded_frames(pushes_only: bool) -> Vec<String> {
    let dir = root().join("fixtures/recorded");
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        for line in text.lines() {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
            if v["kind"] != "in" {
                continue;
            }
            let frame = &v["frame"];
            if pushes_only && (frame["type"] != "push" || frame.get("request_id").is_some()) {
                continue;
            }
            // Transcripts keep frames as sorted JSON values; the server writes them in the
            // canonical order, which is what clients decode.
            match chatio_wire::ServerFrame::decode(&frame.to_string()) {
                Ok(f) => out.push(f.encode()),
                Err(_) => out.push(frame.to_string()),
            }
        }
    }
    out
}

fn js(out: &mut Vec<String>) -> Result<()> {
    if Command::new("node").arg("--version").output().is_err() {
        out.push("js: skipped (node is not installed)".into());
        return Ok(());
    }
    if estimate("recorded_core", "pushes").is_none() {
        criterion("chatio-conformance", "recorded")?;
    }
    let dir = target_dir().join("js-bench");
    std::fs::create_dir_all(&dir)?;
    let sdk = dir.join("package");
    if !sdk.join("lib/socketListener.js").exists() {
        run(Command::new("npm").args(["pack", "@livechat/chat.io-customer-sdk@0.9.1", "--silent"]).current_dir(&dir))?;
        run(Command::new("tar").args(["xzf", "livechat-chat.io-customer-sdk-0.9.1.tgz"]).current_dir(&dir))?;
    }
    if !dir.join("node_modules/redux").exists() {
        std::fs::write(dir.join("package.json"), r#"{"name":"chatio-js-bench","version":"1.0.0","private":true}"#)?;
        // The SDK's parse-and-dispatch path needs these; its socket.io fork (a git
        // dependency) is not needed for it, and is not fetched.
        run(Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent"])
            .args([
                "redux@3",
                "redux-saga@0.15",
                "mitt@1",
                "@livechat/data-utils@0.1",
                "@livechat/side-effects-middleware@0.1",
            ])
            .current_dir(&dir))?;
    }
    let frames = recorded_frames(true);
    let frames_file = dir.join("frames.txt");
    std::fs::write(&frames_file, frames.join("\n"))?;
    let output = Command::new("node")
        .arg(root().join("xtask/js/bench.js"))
        .arg(&sdk)
        .arg(&frames_file)
        .arg("4")
        .env("NODE_PATH", dir.join("node_modules"))
        .output()
        .context("cannot run node")?;
    if !output.status.success() {
        bail!("the JS bench failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let v: serde_json::Value = serde_json::from_slice(&output.stdout).context("JS bench output")?;
    let js_rate = v["pushes_per_second"].as_f64().unwrap_or(0.0);
    let rust_rate = estimate("recorded_core", "pushes").map_or(0.0, |t| frames.len() as f64 / t * 1e9);
    out.push(format!(
        "JS SDK 0.9.1 under Node {}: {:.0} pushes/s; chatio-core: {:.0} pushes/s; ratio {:.1}x (target >= 20x)",
        String::from_utf8_lossy(&Command::new("node").arg("--version").output().map(|o| o.stdout).unwrap_or_default())
            .trim(),
        js_rate,
        rust_rate,
        rust_rate / js_rate.max(1.0)
    ));
    Ok(())
}

fn example(package: &str, name: &str, args: &[&str], out: &mut Vec<String>) -> Result<()> {
    let mut a = vec!["run", "--release", "-q", "-p", package, "--example", name, "--"];
    a.extend(args);
    let o = Command::new(env!("CARGO")).args(&a).output()?;
    if !o.status.success() {
        bail!("{name} failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    out.extend(String::from_utf8_lossy(&o.stdout).lines().map(str::to_owned));
    Ok(())
}

/// Runs the named benchmarks and prints a summary.
pub fn main(args: &[String]) -> Result<()> {
    let which = args.first().map(String::as_str).unwrap_or("all");
    let all = which == "all";
    let mut out = Vec::new();
    if all || which == "wire" {
        criterion("chatio-wire", "decode")?;
    }
    if all || which == "core" {
        criterion("chatio-core", "pushes")?;
    }
    if all || which == "recorded" {
        criterion("chatio-conformance", "recorded")?;
        recorded_summary(&mut out);
    }
    if all || which == "js" {
        js(&mut out)?;
    }
    if all || which == "sdk" {
        example("chatio-conformance", "sdk_throughput", &[], &mut out)?;
    }
    if which == "vs-js" {
        vs_js(&args[1..], &mut out)?;
    }
    if all || which == "server" {
        crate::bench_server::main(&args[args.len().min(1)..])?;
    }
    if which == "agent" {
        return crate::bench_agent::main(&args[1..]);
    }
    if !["all", "wire", "core", "recorded", "js", "sdk", "server", "vs-js"].contains(&which) {
        bail!("unknown benchmark `{which}`: use wire, core, recorded, js, server, sdk, vs-js, agent or all");
    }
    println!("\n== summary ({}, {} cores)", cpu(), std::thread::available_parallelism().map_or(0, |n| n.get()));
    for l in &out {
        println!("{l}");
    }
    println!("criterion reports: {}", target_dir().join("criterion").display());
    Ok(())
}

/// `vs-js [--messages N] [--sessions S] [--seconds T]`: the same scenario through the same
/// reference server (a release binary, agent off), by our SDK (`vs_js` example) and by the
/// JS SDK 0.9.1 under Node (`xtask/js/vs_js.js`, socket.io). Not part of `all` (it runs
/// about a minute and holds 2 000 sessions).
fn vs_js(args: &[String], out: &mut Vec<String>) -> Result<()> {
    let (mut n, mut sessions, mut seconds) = ("2000".to_owned(), "1000".to_owned(), "20".to_owned());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let v = it.next().cloned().ok_or_else(|| anyhow!("`{a}` needs a value"))?;
        match a.as_str() {
            "--messages" => n = v,
            "--sessions" => sessions = v,
            "--seconds" => seconds = v,
            other => bail!("unknown vs-js option `{other}` (--messages, --sessions, --seconds)"),
        }
    }
    if Command::new("node").arg("--version").output().is_err() {
        out.push("vs-js: skipped (node is not installed)".into());
        return Ok(());
    }
    // The package and `ws`, in the directory the JS SDK tests use.
    let dir = target_dir().join("js-sdk");
    std::fs::create_dir_all(&dir)?;
    if !dir.join("package/dist/chat.io-customer-sdk.js").exists() {
        run(Command::new("npm").args(["pack", "@livechat/chat.io-customer-sdk@0.9.1", "--silent"]).current_dir(&dir))?;
        run(Command::new("tar").args(["xzf", "livechat-chat.io-customer-sdk-0.9.1.tgz"]).current_dir(&dir))?;
    }
    if !dir.join("node_modules/ws/package.json").exists() {
        std::fs::write(dir.join("package.json"), r#"{"name":"chatio-js-sdk-tests","version":"1.0.0","private":true}"#)?;
        run(Command::new("npm").args(["install", "--no-audit", "--no-fund", "--silent", "ws@8"]).current_dir(&dir))?;
    }
    crate::cmd::cargo(&[
        "build",
        "--release",
        "-q",
        "-p",
        "chatio-server",
        "--bin",
        "chatio-server",
        "-p",
        "chatio-conformance",
        "--example",
        "vs_js",
    ])?;
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr())?.port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Command::new(target_dir().join("release/chatio-server"))
        .args(["--listen", &addr, "--memory", "--no-agent", "--max-connections", "8192"])
        .args(["--max-connections-per-address", "8192"])
        .env("RUST_LOG", "warn")
        .spawn()
        .context("cannot start the server")?;
    let result = (|| {
        for _ in 0..100 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let origin = format!("http://{addr}");
        let ours = Command::new(target_dir().join("release/examples/vs_js"))
            .args(["--server", &origin, "--messages", &n, "--sessions", &sessions, "--seconds", &seconds])
            .output()?;
        if !ours.status.success() {
            bail!("our half failed: {}", String::from_utf8_lossy(&ours.stderr));
        }
        let js = Command::new("node")
            .arg("--expose-gc")
            .arg(root().join("xtask/js/vs_js.js"))
            .arg(dir.join("package"))
            .arg(&origin)
            .arg(dir.join("node_modules/ws"))
            .args([&n, &sessions, &seconds])
            .output()?;
        if !js.status.success() {
            bail!("the JS half failed: {}", String::from_utf8_lossy(&js.stderr));
        }
        let parse = |b: &[u8]| -> Result<serde_json::Value> {
            let text = String::from_utf8_lossy(b);
            let line = text.lines().last().unwrap_or_default().to_owned();
            serde_json::from_str(&line).with_context(|| format!("bench output `{line}`"))
        };
        Ok((parse(&ours.stdout)?, parse(&js.stdout)?))
    })();
    let _ = server.kill();
    let _ = server.wait();
    let (ours, js) = result?;
    let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    out.push(format!("vs-js: same reference server (release, agent off), N = {n}, {sessions} sessions, {seconds} s"));
    out.push(format!("  ours: {}", ours["client"].as_str().unwrap_or("?")));
    out.push(format!("  JS:   {}", js["client"].as_str().unwrap_or("?")));
    out.push(format!("  {:<34} {:>12} {:>12} {:>9}  target", "", "ours", "JS", "ratio"));
    let row = |out: &mut Vec<String>, label: &str, key: &str, higher_better: bool, unit: &str, target: f64| {
        let (o, j) = (f(&ours, key), f(&js, key));
        let ratio = if higher_better { o / j } else { j / o };
        let verdict = if ratio >= target { "met" } else { "MISSED" };
        out.push(format!("  {label:<34} {o:>10.1}{unit} {j:>10.1}{unit} {ratio:>8.1}x  >= {target}x {verdict}"));
    };
    row(out, "one at a time: msgs/s", "seq_msgs_per_s", true, "  ", 5.0);
    row(out, "one at a time: p50 ack (ms)", "seq_p50_ms", false, "  ", 5.0);
    row(out, "one at a time: p99 ack (ms)", "seq_p99_ms", false, "  ", 5.0);
    row(out, "64 in flight: msgs/s", "win64_msgs_per_s", true, "  ", 5.0);
    row(out, "64 in flight: p50 ack (ms)", "win64_p50_ms", false, "  ", 5.0);
    row(out, "64 in flight: p99 ack (ms)", "win64_p99_ms", false, "  ", 5.0);
    // CPU time of each client process per message (user + system, /proc/self/stat): with 64
    // in flight both are bound by the one server, so throughput no longer tells them apart.
    row(out, "one at a time: client CPU/msg (µs)", "seq_cpu_us_per_msg", false, "  ", 5.0);
    row(out, "64 in flight: client CPU/msg (µs)", "win64_cpu_us_per_msg", false, "  ", 5.0);
    row(out, "idle: client RSS / session (KiB)", "idle_rss_per_session_kib", false, "  ", 10.0);
    row(out, "1 msg/s each: p99 ack (ms)", "load_p99_ms", false, "  ", 5.0);
    out.push(format!("  raw: ours {ours}"));
    out.push(format!("  raw: JS   {js}"));
    Ok(())
}

fn cpu() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

#[allow(dead_code)]
fn exists(p: &Path) -> bool {
    p.exists()
}
