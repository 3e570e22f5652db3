//! The `chatio` binary, run as a user would: the demo to completion, and the chat client
//! driven through its standard input against a reference server.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_chatio");

#[test]
fn the_demo_runs_to_completion() {
    let out = Command::new(BIN).args(["demo", "--plain"]).output().expect("run chatio demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "exit {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}", out.status);
    for line in [
        "reference server at http://127.0.0.1:",
        "customer id ",
        "connected (0 chats)",
        "Chatio Bot is now in the chat",
        "Chatio Bot is typing",
        "Chatio Bot: You said: Hi! I'm trying the Rust SDK.",
        "sent a rich message (cards)",
        "postback accepted",
        "uploaded (progress reached 1.00)",
        "chat properties updated: bot.mood=cheerful",
        "thread properties updated: bot.topic=demo",
        "last seen stored",
        "thread closed by Chatio Bot",
        "history page 2",
        "whole history loaded",
        "rated good",
        "demo finished in",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
    assert!(!stdout.contains('\u{1b}'), "--plain prints no escape codes");
}

#[test]
fn the_demo_prints_json_lines() {
    let out = Command::new(BIN).args(["demo", "--json"]).output().expect("run chatio demo --json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut events = Vec::new();
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if let Some(e) = v.get("event").and_then(|e| e.as_str()) {
            events.push(e.to_owned());
        }
    }
    for e in [
        "customer_id",
        "connected",
        "user_joined_chat",
        "user_is_typing",
        "new_event",
        "thread_closed",
        "thread_summary",
    ] {
        assert!(events.iter().any(|x| x == e), "no `{e}` event in {events:?}");
    }
}

#[test]
fn bad_arguments_say_what_to_type() {
    let out = Command::new(BIN).args(["chat", "--license", "100"]).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--url <URL>"), "{err}");
    let out = Command::new(BIN).args(["chat", "--url", "http://x", "--license", "abc"]).output().expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'abc' for '--license <N>'"), "{err}");
    let out = Command::new(BIN).args(["demo", "--plain", "--json"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
}

/// Reads the child's stdout on a thread, so the test can wait for a line with a deadline.
fn lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

fn expect_line(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
    loop {
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(line) => {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return;
                }
            }
            Err(_) => panic!("no line containing `{needle}`; got:\n{}", seen.join("\n")),
        }
    }
}

#[test]
fn the_chat_client_talks_to_a_server() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let mut child = Command::new(BIN)
        .args(["chat", "--url", &server.http_url(), "--license", "100", "--plain", "--name", "Tester"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatio chat");
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    let mut stdin = child.stdin.take().expect("stdin");
    expect_line(&rx, "connected (0 chats)", &mut seen);
    writeln!(stdin, "hello from the terminal").expect("write");
    expect_line(&rx, "You said: hello from the terminal", &mut seen);
    writeln!(stdin, "/rich").expect("write");
    expect_line(&rx, "(1) Yes!", &mut seen);
    writeln!(stdin, "/postback 1").expect("write");
    expect_line(&rx, "postback `like_yes` sent", &mut seen);
    writeln!(stdin, "/props color=blue").expect("write");
    expect_line(&rx, "property cli.color set", &mut seen);
    writeln!(stdin, "/name Grace").expect("write");
    expect_line(&rx, "you are now Grace", &mut seen);
    writeln!(stdin, "/history").expect("write");
    expect_line(&rx, "older events", &mut seen);
    writeln!(stdin, "/close").expect("write");
    expect_line(&rx, "thread closed", &mut seen);
    writeln!(stdin, "/postback 9").expect("write");
    writeln!(stdin, "/quit").expect("write");
    expect_line(&rx, "bye", &mut seen);
    let status = child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert!(err.contains("no button 9"), "a bad command is reported, not fatal: {err}");
}

#[test]
fn ctrl_c_exits_the_chat_client_cleanly() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let mut child = Command::new(BIN)
        .args(["chat", "--url", &server.http_url(), "--license", "100", "--plain"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatio chat");
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    expect_line(&rx, "connected (0 chats)", &mut seen);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(status.success());
    expect_line(&rx, "bye", &mut seen);
    let status = child.wait().expect("exit");
    assert!(status.success(), "Ctrl-C exits with 0: {status:?}");
}
