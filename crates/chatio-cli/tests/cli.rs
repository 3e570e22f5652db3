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
        "you are customer ",
        "connected (0 chats)",
        "Chatio Bot joined the chat",
        "Chatio Bot is typing",
        "you: Hi! I'm trying the Rust SDK.",
        "Chatio Bot: You said: Hi! I'm trying the Rust SDK.",
        "you: What can you do?",
        "sent a rich message (cards)",
        "postback accepted",
        // Not a terminal: plain progress lines with byte counts instead of a bar.
        "upload 100%  3.0 MiB of 3.0 MiB",
        "uploaded 3.0 MiB",
        "chat properties updated: bot.mood=cheerful",
        "thread properties updated: bot.topic=demo",
        "last seen stored: ",
        " UTC",
        "thread closed by Chatio Bot",
        "new thread ",
        "history page 2",
        "whole history loaded",
        "rated good",
        "demo finished in",
    ] {
        assert!(stdout.contains(line), "missing `{line}` in:\n{stdout}");
    }
    assert!(!stdout.contains('\u{1b}'), "--plain prints no escape codes");
    // Each thing once, in words.
    assert_eq!(stdout.matches("joined the chat").count(), 1, "the agent's join once:\n{stdout}");
    let me = stdout.lines().find_map(|l| l.split("you are customer ").nth(1)).expect("customer id");
    assert_eq!(stdout.matches(me.trim()).count(), 1, "the customer id once:\n{stdout}");
    for wrong in [" 1 events", " 1 pages", "progress reached", "Some("] {
        assert!(!stdout.contains(wrong), "`{wrong}` in:\n{stdout}");
    }
    // Times of day, not epoch seconds.
    let seen = stdout.lines().find_map(|l| l.split("saw the chat at ").nth(1)).expect("a last-seen line");
    let clock = seen.trim().strip_suffix(" UTC").unwrap_or_else(|| panic!("not a UTC time: {seen}"));
    assert!(clock.len() == 8 && clock.split(':').all(|p| p.len() == 2 && p.parse::<u8>().is_ok()), "{seen}");
}

#[test]
fn the_demo_prints_json_lines() {
    let out = Command::new(BIN).args(["demo", "--json"]).output().expect("run chatio demo --json");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let mut events = Vec::new();
    let (mut types, mut rich, mut progress) = (std::collections::BTreeSet::new(), false, 0);
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        let t = v["type"].as_str().unwrap_or_else(|| panic!("no `type`: {line}")).to_owned();
        if t == "event" {
            events.push(v["event"].as_str().expect("event name").to_owned());
            if v["data"]["type"] == "rich_message" {
                rich = v["data"]["content"]["elements"][0]["buttons"][0]["postback_id"] == "like_yes";
            }
        }
        if t == "progress" {
            assert_eq!(v["total_bytes"], 3 * 1024 * 1024, "{line}");
            assert!(v["sent_bytes"].as_u64().is_some(), "{line}");
            progress += 1;
        }
        types.insert(t);
    }
    for t in ["title", "step", "ok", "event", "progress"] {
        assert!(types.contains(t), "no line of type `{t}` in {types:?}");
    }
    assert!(rich, "the rich message's cards and buttons are in its line:\n{stdout}");
    assert!(progress >= 2, "progress lines: {progress}");
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

/// Runs `chatio demo` on a pseudo-terminal (`script`), with extra environment variables.
fn demo_on_a_terminal(env: &[(&str, &str)]) -> String {
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("exec {BIN} demo --agent-delay-ms 0"), "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env("TERM", "xterm-256color");
    cmd.env_remove("NO_COLOR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    // Like every terminal test here, a failure without `script`, never a silent pass.
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs the demo in a pseudo-terminal (apt-get install bsdutils)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn colours_only_on_a_terminal_without_no_color_or_term_dumb() {
    let coloured = demo_on_a_terminal(&[]);
    assert!(coloured.contains('\u{1b}'), "a terminal gets colours:\n{coloured}");
    assert!(coloured.contains("/3.00 MiB"), "the progress bar counts bytes:\n{coloured}");
    for env in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let plain = demo_on_a_terminal(&[env]);
        assert!(!plain.contains('\u{1b}'), "{env:?} still prints escape codes:\n{plain}");
        assert!(plain.contains("upload 100%  3.0 MiB of 3.0 MiB"), "no bar, progress lines: {plain}");
    }
}

#[test]
fn bad_arguments_say_what_to_type() {
    let out = Command::new(BIN).args(["chat", "--url", "http://x", "--license", "abc"]).output().expect("run");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid value 'abc' for '--license <N>'"), "{err}");
    let out = Command::new(BIN).args(["demo", "--plain", "--json"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot be used with"));
    let out = Command::new(BIN).args(["chatting"]).output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognized subcommand 'chatting'"));
    let out = Command::new(BIN).args(["demo", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["CHATIO_URL", "CHATIO_LICENSE", "[default: 100]", "--verbose"] {
        assert!(help.contains(needle), "demo --help lacks {needle}:\n{help}");
    }
    let out = Command::new(BIN).args(["chat", "--help"]).output().expect("run");
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["CHATIO_URL", "CHATIO_LICENSE", "CHATIO_TOKEN", "[default: 100]"] {
        assert!(help.contains(needle), "chat --help lacks {needle}:\n{help}");
    }
}

#[test]
fn the_environment_gives_the_url_and_the_license() {
    // An unknown license from the environment reaches the server, which refuses it.
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let out = Command::new(BIN)
        .args(["demo", "--plain"])
        .env("CHATIO_URL", server.http_url())
        .env("CHATIO_LICENSE", "7")
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains(&format!("server at {}", server.http_url())), "{stdout}");
    assert!(stderr.contains("the server does not know license 7"), "{stderr}");
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
    expect_line_within(rx, needle, seen, 15);
}

/// Waits for a line containing `needle`, at most `secs` seconds between lines and two
/// minutes in all.
fn expect_line_within(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>, secs: u64) {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no line containing `{needle}` in 2 min; got:\n{}",
            seen.join("\n")
        );
        match rx.recv_timeout(Duration::from_secs(secs)) {
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

/// Starts `chatio chat` with these arguments, stdin, stdout and stderr piped.
fn chat(args: &[&str]) -> std::process::Child {
    Command::new(BIN)
        .arg("chat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatio chat")
}

fn stderr_of(child: &mut std::process::Child) -> String {
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    err
}

#[test]
fn the_chat_client_talks_to_a_server() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let mut child = chat(&["--url", &server.http_url(), "--plain", "--name", "Tester"]);
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    let mut stdin = child.stdin.take().expect("stdin");
    expect_line(&rx, "connected (0 chats)", &mut seen);
    writeln!(stdin, "hello from the terminal").expect("write");
    expect_line(&rx, "You said: hello from the terminal", &mut seen);
    // The agent's commands reach the agent, its /help included.
    writeln!(stdin, "/help").expect("write");
    expect_line(&rx, "Chatio Bot: Commands: /rich", &mut seen);
    // The client's own help, and what it says is true.
    writeln!(stdin, ":help").expect("write");
    expect_line(&rx, "::TEXT", &mut seen);
    writeln!(stdin, "/rich").expect("write");
    expect_line(&rx, "(1) Yes!", &mut seen);
    writeln!(stdin, ":postback 1").expect("write");
    expect_line(&rx, "postback `like_yes` sent", &mut seen);
    writeln!(stdin, "/scopes").expect("write");
    expect_line(&rx, "chat scopes updated: added group 1; removed nothing", &mut seen);
    writeln!(stdin, ":props color=blue").expect("write");
    expect_line(&rx, "property cli.color set", &mut seen);
    writeln!(stdin, ":name Grace").expect("write");
    expect_line(&rx, "you are now Grace", &mut seen);
    let file = std::env::temp_dir().join(format!("chatio-cli-test-{}.bin", std::process::id()));
    std::fs::write(&file, vec![7u8; 200 * 1024]).expect("temp file");
    writeln!(stdin, ":file {}", file.display()).expect("write");
    expect_line(&rx, "uploaded ", &mut seen);
    let _ = std::fs::remove_file(&file);
    writeln!(stdin, "/close").expect("write");
    expect_line(&rx, "Closing this thread", &mut seen);
    expect_line(&rx, "thread closed by Chatio Bot", &mut seen);
    writeln!(stdin, ":history").expect("write");
    expect_line(&rx, "older events", &mut seen);
    writeln!(stdin, "::help").expect("write");
    expect_line(&rx, "You said: :help", &mut seen);
    writeln!(stdin, ":postback 9").expect("write");
    writeln!(stdin, ":nope").expect("write");
    writeln!(stdin, ":quit").expect("write");
    expect_line(&rx, "bye", &mut seen);
    let status = child.wait().expect("exit");
    // Input is not a terminal here: the two failed commands make the exit status 1.
    assert_eq!(status.code(), Some(1), "{status:?}");
    let all = seen.join("\n");
    assert_eq!(all.matches("upload 100%").count(), 1, "upload 100% once:\n{all}");
    // The history listing is one block: no thread summary line inside it.
    let listing = all.split(":history").last().unwrap_or_default();
    assert!(!listing.contains("events)"), "{all}");
    let err = stderr_of(&mut child);
    assert!(err.contains("no button 9"), "a bad command is reported, not fatal: {err}");
    assert!(err.contains("no command `:nope`"), "{err}");
    assert!(err.contains("2 commands failed"), "{err}");
}

/// Waits for the child's exit, at most `secs`; kills it and fails otherwise.
fn exit_within(child: &mut std::process::Child, secs: u64) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running after {secs} s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_refused_token_ends_the_chat_client_with_an_error() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    // stdin stays open: the client must end by itself.
    let mut child = chat(&["--url", &server.http_url(), "--token", "not-a-token", "--plain"]);
    let _stdin = child.stdin.take();
    let status = exit_within(&mut child, 20);
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("the server refused the token"), "{err}");
    assert!(!err.contains("not-a-token"), "the token is not printed: {err}");
}

#[test]
fn an_unknown_license_ends_the_chat_client_with_an_error() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let mut child = chat(&["--url", &server.http_url(), "--license", "7", "--plain"]);
    let _stdin = child.stdin.take();
    let status = exit_within(&mut child, 20);
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("the server does not know license 7 (set --license or CHATIO_LICENSE)"), "{err}");
}

#[test]
fn a_chat_lost_in_a_server_restart_says_to_start_a_new_one() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let url = server.http_url();
    let mut child = chat(&["--url", &url, "--plain"]);
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    let mut stdin = child.stdin.take().expect("stdin");
    expect_line(&rx, "connected (0 chats)", &mut seen);
    writeln!(stdin, "first").expect("write");
    expect_line(&rx, "You said: first", &mut seen);
    // A new server on the same port: the chat is gone.
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().expect("addr");
    futures::executor::block_on(server.shutdown());
    let _again = chatio_server::Server::builder().listen(addr).start_blocking().expect("server again");
    expect_line(&rx, "connection restored", &mut seen);
    writeln!(stdin, "second").expect("write");
    writeln!(stdin, "third").expect("write");
    expect_line(&rx, "You said: third", &mut seen);
    writeln!(stdin, ":quit").expect("write");
    let status = exit_within(&mut child, 20);
    let err = stderr_of(&mut child);
    // Input is not a terminal: the message that could not be sent makes the exit status 1.
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("1 command failed"), "{err}");
    assert_eq!(err.matches("authorization").count(), 1, "one error line: {err}");
    assert!(err.contains("your next message starts a new chat"), "{err}");
}

#[test]
fn ctrl_c_exits_the_chat_client_cleanly() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let mut child = chat(&["--url", &server.http_url(), "--plain"]);
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    expect_line(&rx, "connected (0 chats)", &mut seen);
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill -INT");
    assert!(status.success());
    expect_line(&rx, "bye", &mut seen);
    let status = child.wait().expect("exit");
    assert!(status.success(), "Ctrl-C exits with 0: {status:?}");
}

#[test]
fn verbose_shows_the_sdk_logs_and_quiet_is_the_default() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let run = |extra: &[&str], rust_log: Option<&str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(extra).args(["chat", "--url", &server.http_url(), "--license", "7", "--plain"]);
        cmd.env_remove("RUST_LOG").stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        if let Some(l) = rust_log {
            cmd.env("RUST_LOG", l);
        }
        let mut child = cmd.spawn().expect("spawn");
        let _stdin = child.stdin.take();
        let status = exit_within(&mut child, 20);
        assert_eq!(status.code(), Some(1));
        stderr_of(&mut child)
    };
    let quiet = run(&[], None);
    assert!(!quiet.contains("chatio_transport"), "no logs without -v: {quiet}");
    let verbose = run(&["-vv"], None);
    assert!(verbose.contains("chatio_transport"), "-vv logs: {verbose}");
    assert!(!verbose.contains('\u{1b}'), "logs to a pipe are plain: {verbose}");
    let filtered = run(&[], Some("chatio_transport=debug"));
    assert!(filtered.contains("chatio_transport"), "RUST_LOG filters the logs: {filtered}");
}

#[test]
fn the_server_log_is_plain_text_when_redirected() {
    let mut child = Command::new(BIN)
        .args(["server", "--memory", "--listen", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatio server");
    let rx = lines(&mut child);
    expect_line(&rx, "http://127.0.0.1:", &mut Vec::new());
    let _ = child.kill();
    let _ = child.wait();
    let log = stderr_of(&mut child);
    assert!(log.contains("listening"), "{log}");
    assert!(!log.contains('\u{1b}'), "ANSI codes in a redirected log: {log:?}");
}

/// What `chatio server` logs at its default level (`info`) is what a site owner follows: where
/// it listens and where its data is, each connection, login, chat start and close, and each
/// refusal — with ids, never a token.
#[test]
fn the_server_log_shows_connections_chats_and_refusals_without_secrets() {
    let mut child = Command::new(BIN)
        .args(["server", "--memory", "--listen", "127.0.0.1:0", "--agent-delay-ms", "0"])
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chatio server");
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    expect_line(&rx, "http://127.0.0.1:", &mut seen);
    let url = seen
        .iter()
        .find_map(|l| l.split_whitespace().find(|w| w.starts_with("http://127.0.0.1:")))
        .expect("the listening URL")
        .to_owned();
    let (out, err, status) = chat_piped(&["--url", &url, "--plain"], "hello\n:close\n");
    assert!(status.success(), "{out}\n{err}");
    let secret = "not-a-valid-token-7f3a9c";
    let (_, _, status) = chat_piped(&["--url", &url, "--plain", "--token", secret], "hi\n");
    assert!(!status.success());
    let _ = child.kill();
    let _ = child.wait();
    let log = stderr_of(&mut child);
    let stdout: String = seen.join("\n");
    assert!(stdout.contains("data in memory") || log.contains("data in memory"), "where the data is:\n{stdout}\n{log}");
    for line in [
        "listening",
        "connection opened",
        "customer logged in",
        "chat started",
        "chat closed",
        "login refused",
        "connection closed",
    ] {
        assert!(log.contains(line), "no `{line}` at the default level:\n{log}");
    }
    assert!(!log.contains(secret), "a token in the log:\n{log}");
    assert!(!log.to_lowercase().contains("bearer"), "a token in the log:\n{log}");
}

/// How a hostile server answers.
#[derive(Clone, Copy, PartialEq)]
enum Hostile {
    /// A token at the token endpoint; HTTP 500 to the websocket upgrade.
    Status500,
    /// A token at the token endpoint; reads the upgrade request and never answers.
    No101,
    /// HTTP 404 to everything (a wrong base URL).
    NotFound,
}

/// A tiny HTTP server on a loopback port that misbehaves as told. Each connection is handled
/// on its own thread, for at most 60 s.
fn hostile(how: Hostile) -> String {
    use std::io::Read;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let token_request = head.starts_with(b"POST /customer/");
                let answer: Vec<u8> = match how {
                    Hostile::Status500 | Hostile::No101 if token_request => {
                        let body = r#"{"access_token":"t0k","token_type":"Bearer","expires_in":3600,"entity_id":"c1"}"#;
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                        .into_bytes()
                    }
                    Hostile::Status500 => {
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\noops"
                            .to_vec()
                    }
                    Hostile::NotFound => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found".to_vec()
                    }
                    Hostile::No101 => {
                        std::thread::sleep(Duration::from_secs(60));
                        return;
                    }
                };
                let _ = conn.write_all(&answer);
            });
        }
    });
    url
}

/// Runs `chatio chat --url URL` until a line containing `until`, then `:quit`; returns its
/// stdout lines, stderr and exit status.
fn chat_until(url: &str, until: &str) -> (String, String, std::process::ExitStatus) {
    let mut child = chat(&["--url", url, "--plain"]);
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    let mut stdin = child.stdin.take().expect("stdin");
    expect_line_within(&rx, until, &mut seen, 40);
    writeln!(stdin, ":quit").expect("write");
    let status = exit_within(&mut child, 20);
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
        seen.push(l);
    }
    (seen.join("\n"), stderr_of(&mut child), status)
}

#[test]
fn a_500_on_the_upgrade_is_shown_once_with_its_cause() {
    let url = hostile(Hostile::Status500);
    let (out, err, status) = chat_until(&url, "reconnecting (attempt 3)");
    assert!(status.success(), "not fatal: the server may recover; {err}");
    let cause = "connecting failed: websocket error: handshake with ws://";
    assert!(out.contains(cause) && out.contains("HTTP error: 500 Internal Server Error"), "{out}");
    assert_eq!(out.matches(cause).count(), 1, "the same error once:\n{out}");
    assert!(!out.contains("authentication failed") && !err.contains("authentication failed"), "{out}\n{err}");
}

#[test]
fn a_server_that_never_answers_101_is_shown_timing_out() {
    let url = hostile(Hostile::No101);
    // The SDK's connect timeout is 20 s.
    let (out, err, status) = chat_until(&url, "timed out after");
    assert!(status.success(), "{err}");
    assert!(out.contains("error: connecting failed: timed out after 20.0 s"), "{out}");
    assert!(!out.contains("authentication failed"), "{out}");
}

#[test]
fn a_404_is_fatal_and_says_to_check_the_url() {
    let url = hostile(Hostile::NotFound);
    let mut child = chat(&["--url", &url, "--plain"]);
    let _stdin = child.stdin.take();
    let status = exit_within(&mut child, 20);
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("HTTP status 404") && err.contains("check --url or CHATIO_URL"), "{err}");
    assert!(!err.contains("authentication failed"), "{err}");
}

#[test]
fn a_tls_failure_is_fatal_and_labelled_as_tls() {
    // https:// to a server that speaks plain HTTP.
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let url = server.http_url().replace("http://", "https://");
    let mut child = chat(&["--url", &url, "--plain"]);
    let _stdin = child.stdin.take();
    let status = exit_within(&mut child, 20);
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("TLS with 127.0.0.1 failed"), "{err}");
    assert!(!err.contains("authentication failed"), "{err}");
}

#[test]
fn a_refused_connection_is_retried_and_shown_once() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let (out, err, status) = chat_until(&format!("http://127.0.0.1:{port}"), "reconnecting (attempt 3)");
    assert!(status.success(), "{err}");
    let refused = "connecting failed: cannot connect to ws://";
    assert_eq!(out.matches(refused).count(), 1, "{out}");
    assert_eq!(out.matches("fetching a token failed: cannot connect to http://").count(), 1, "{out}");
    assert!(!out.contains("authentication failed"), "{out}");
}

/// `chatio chat ARGS` in a pseudo-terminal (util-linux `script`): it sees a terminal on its
/// standard input, and a Ctrl-C typed (byte 3) reaches it as SIGINT from the line discipline,
/// as in a real terminal. Returns the child (its stdin is the keyboard) and its output lines.
///
/// `script` runs the command through `$SHELL -c`; the shell must `exec` the client, or the
/// Ctrl-C reaches the shell too, and a shell that does not exec a lone command (dash, `sh` on
/// Debian, CI's shell) dies of it: status 130 whatever the client does. `SHELL` is set so the
/// test does not depend on the caller's.
fn chat_in_a_terminal(args: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut cmd = vec!["exec".to_owned(), quote(BIN), "chat".to_owned()];
    cmd.extend(args.iter().map(|a| quote(a)));
    let mut child = Command::new("script")
        .args(["-qfec", &cmd.join(" "), "/dev/null"])
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the client in a pseudo-terminal (apt-get install bsdutils)");
    let rx = lines(&mut child);
    (child, rx)
}

/// A port on loopback where nothing listens.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Types `keys` into the terminal, then expects the client gone within `secs`.
fn type_then_gone_within(child: &mut std::process::Child, keys: &[u8], secs: u64) -> std::process::ExitStatus {
    let stdin = child.stdin.as_mut().expect("keyboard");
    stdin.write_all(keys).expect("type");
    stdin.flush().expect("flush");
    exit_within(child, secs)
}

/// A message typed while nothing listens waits for a connection (reconnect after reconnect):
/// the key of the test, then the client must be gone within a few seconds (it waited ~20 s).
fn interrupts_a_waiting_message(keys: &[u8]) -> std::process::ExitStatus {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (mut child, rx) = chat_in_a_terminal(&["--url", &url, "--plain"]);
    let mut seen = Vec::new();
    expect_line(&rx, "reconnecting (attempt 1)", &mut seen);
    let stdin = child.stdin.as_mut().expect("keyboard");
    stdin.write_all(b"hi\r").expect("type");
    stdin.flush().expect("flush");
    expect_line(&rx, "reconnecting (attempt 2)", &mut seen);
    type_then_gone_within(&mut child, keys, 3)
}

#[test]
fn ctrl_c_interrupts_a_message_waiting_for_a_connection() {
    let status = interrupts_a_waiting_message(b"\x03");
    assert!(status.success(), "Ctrl-C leaves cleanly: {status:?}");
}

/// Ctrl-C pressed as soon as the client's first line shows (here before it could connect)
/// still ends it cleanly: the handler is in place before anything is printed. (It was set
/// up after the first lines once, and a loaded CI machine typed Ctrl-C in between: status 130.)
#[test]
fn ctrl_c_right_after_the_first_line_exits_cleanly() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (mut child, rx) = chat_in_a_terminal(&["--url", &url, "--plain"]);
    let mut seen = Vec::new();
    expect_line(&rx, "connecting to", &mut seen);
    let status = type_then_gone_within(&mut child, b"\x03", 3);
    assert!(status.success(), "Ctrl-C leaves cleanly: {status:?}");
}

#[test]
fn quit_interrupts_a_message_waiting_for_a_connection() {
    let status = interrupts_a_waiting_message(b":quit\r");
    assert!(status.success(), "{status:?}");
}

#[test]
fn ctrl_d_interrupts_a_message_waiting_for_a_connection() {
    let status = interrupts_a_waiting_message(b"\x04");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_second_ctrl_c_exits_at_once() {
    let status = interrupts_a_waiting_message(b"\x03\x03");
    assert!(matches!(status.code(), Some(0 | 130)), "{status:?}");
}

/// `chatio chat ARGS` with `input` piped in: (stdout, stderr, status).
fn chat_piped(args: &[&str], input: &str) -> (String, String, std::process::ExitStatus) {
    let mut child = chat(args);
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(input.as_bytes()).expect("write");
    drop(stdin);
    let rx = lines(&mut child);
    let status = exit_within(&mut child, 60);
    let mut out = Vec::new();
    while let Ok(l) = rx.recv_timeout(Duration::from_millis(200)) {
        out.push(l);
    }
    (out.join("\n"), stderr_of(&mut child), status)
}

#[test]
fn piped_input_with_a_refused_token_exits_non_zero() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let url = server.http_url();
    for input in ["hi\n", ""] {
        let (out, err, status) = chat_piped(&["--url", &url, "--token", "bad", "--plain"], input);
        assert_eq!(status.code(), Some(1), "input {input:?}:\n{out}\n{err}");
        assert!(err.contains("the server refused the token"), "{err}");
    }
}

#[test]
fn piped_input_shows_the_replies_and_failed_commands_exit_non_zero_without_starting_a_chat() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let url = server.http_url();
    // Replies arrive after the input ended: they are shown, and all went well.
    let (out, err, status) = chat_piped(&["--url", &url, "--plain"], "hello\n");
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("You said: hello"), "the agent's reply is shown:\n{out}");
    // Commands that need a chat fail without starting one; each failure counts.
    let input = ":file /nonexistent/file\n:history\n:postback 1\n:close\n:seen\n:rate good\n:props a=b\n:nope\n";
    let (out, err, status) = chat_piped(&["--url", &url, "--plain"], input);
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("cannot read /nonexistent/file"), "{err}");
    assert_eq!(err.matches("no chat yet").count(), 6, "{err}");
    assert!(err.contains("8 commands failed"), "{err}");
    assert!(!out.contains("starting a chat") && !out.contains("started"), "no chat started:\n{out}");
}

#[test]
fn addresses_without_a_scheme_are_accepted_on_loopback_and_hinted_elsewhere() {
    let server = chatio_server::Server::builder().ephemeral().start_blocking().expect("server");
    let port = server.addr().port();
    let (out, err, status) = chat_piped(&["--url", &format!("localhost:{port}"), "--plain"], "hello\n");
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains(&format!("taken as http://localhost:{port}")), "{out}");
    assert!(out.contains("You said: hello"), "{out}");
    let (out, err, status) = chat_piped(&["--url", "chat.example.com:8080", "--plain"], "hello\n");
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("write http://chat.example.com:8080"), "{err}");
    assert_eq!(err.matches("cannot start").count(), 0, "{err}");
}

#[test]
fn a_few_refused_connections_say_nothing_listens_there() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let (out, err, status) = chat_until(&url, "nothing is listening at");
    assert!(status.success(), "{err}");
    assert!(out.contains(&format!("nothing is listening at {url}")) || err.contains("nothing is listening"), "{out}");
}

#[test]
fn the_server_listens_on_a_host_name() {
    // `--memory`: the default data directory is the user's, and another server (a test
    // running beside this one, or the user's own) may hold its lock.
    let mut child = Command::new(BIN)
        .args(["server", "--memory", "--listen", "localhost:0", "--no-agent"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chatio server");
    let rx = lines(&mut child);
    let mut seen = Vec::new();
    expect_line(&rx, "listening on http://127.0.0.1:", &mut seen);
    let _ = child.kill();
    let _ = child.wait();
}
