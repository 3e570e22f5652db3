//! `chatio conformance`, run as a user would: `server` against `chatio server` processes
//! (started without `--seed`, so the ids differ from the recording), one of them broken on
//! purpose; `serve` played to our own SDK.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_chatio");

/// A `chatio server` process, killed on drop.
struct ServerProcess {
    child: Child,
    url: String,
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server(extra: &[&str]) -> ServerProcess {
    let mut child = Command::new(BIN)
        .args(["server", "--memory", "--listen", "127.0.0.1:0", "--agent-delay-ms", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chatio server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("the server's line");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
    ServerProcess { child, url }
}

/// Exit code, stdout (the report), stdout and stderr (for messages).
fn conformance(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN).arg("conformance").args(args).output().expect("run chatio conformance");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), stdout, all)
}

#[test]
fn server_mode_passes_on_the_reference_server() {
    let s = server(&["--admin", "--admin-secret", "conformance-admin"]);
    let (code, _, out) = conformance(&["server", &s.url, "--admin", "--admin-secret", "conformance-admin"]);
    assert_eq!(code, 0, "{out}");
    for line in ["pass  methods", "pass  reconnect", "skip  errors", "6 passed, 0 failed, 3 skipped"] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    // Another license (in URLs too), and the token endpoint named explicitly.
    let s = server(&["--admin", "--admin-secret", "conformance-admin", "--no-agent", "--license", "7"]);
    let (code, _, out) = conformance(&[
        "server",
        &s.url,
        "--admin",
        "--admin-secret",
        "conformance-admin",
        "--no-agent",
        "--license",
        "7",
        "--token-endpoint",
        &s.url,
    ]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3 passed, 0 failed, 6 skipped"), "{out}");
}

#[test]
fn server_mode_fails_on_a_broken_server_naming_frame_and_path() {
    let s = server(&["--conformance-fault", "timestamps-ms"]);
    let (code, _, out) = conformance(&["server", &s.url, "--only", "methods"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("line 9: the `start_chat` response"), "{out}");
    assert!(out.contains("payload.chat.thread.events[0].timestamp: expected seconds, got milliseconds"), "{out}");
    let (code, stdout, out) = conformance(&["server", &s.url, "--only", "methods", "--json"]);
    assert_eq!(code, 1, "{out}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(json["summary"]["failed"], 1);
    assert_eq!(json["transcripts"][0]["failures"][0]["diffs"][0]["path"], "payload.chat.thread.events[0].timestamp");
    // A transcript name that does not exist: exit 2, saying which exist.
    let (code, _, out) = conformance(&["server", &s.url, "--only", "nope"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("no transcript named `nope`"), "{out}");
}

#[test]
fn serve_mode_passes_with_our_sdk() {
    let mut child = Command::new(BIN)
        .args(["conformance", "serve", "--transcript", "methods", "--timeout-ms", "10000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start chatio conformance serve");
    let mut err = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    err.read_line(&mut line).expect("the listening line");
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("a URL").to_owned();
    async_std::task::block_on(async {
        async_std::future::timeout(Duration::from_secs(60), chatio_conformance::record::drive("methods", &url, 9))
            .await
            .expect("the SDK's script hangs")
            .expect("the SDK's script");
    });
    let out = child.wait_with_output().expect("wait");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("pass  methods") && stdout.contains("1 passed, 0 failed, 0 skipped"), "{stdout}");
}
