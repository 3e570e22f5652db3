//! Starting and stopping: from any runtime, clean shutdown, drop, bind errors, and the
//! `chatio-server` binary's command-line interface.

use futures::StreamExt;
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use crate::client::{Client, LICENSE, WAIT, builder};

#[test]
fn starts_and_stops_without_any_async_runtime_around() {
    // `start` needs no tokio context: here it is polled by the futures executor.
    let server = futures::executor::block_on(builder().start()).unwrap();
    let addr = server.addr();
    assert_eq!(server.http_url(), format!("http://{addr}"));
    assert_eq!(server.ws_url(7), format!("ws://{addr}/customer/v0.5/rtm/ws?license_id=7"));
    assert_ne!(addr.port(), 0);
    futures::executor::block_on(server.shutdown());
    assert!(std::net::TcpStream::connect(addr).is_err(), "the listener is closed");
    // And the blocking form.
    let server = builder().start_blocking().unwrap();
    assert!(std::net::TcpStream::connect(server.addr()).is_ok());
    futures::executor::block_on(server.shutdown());
}

#[tokio::test]
async fn shutdown_closes_connections_cleanly() {
    let server = builder().start().await.unwrap();
    let mut a = Client::customer(&server).await;
    let mut b = Client::connect(&server.ws_url(LICENSE)).await;
    let addr = server.addr();
    server.shutdown().await;
    for c in [&mut a, &mut b] {
        let end = c.end().await;
        assert_eq!(end.code(), Some(1001), "{end:?}");
    }
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let server = builder().start().await.unwrap();
    let mut c = Client::customer(&server).await;
    drop(server);
    assert_eq!(c.end().await.code(), Some(1001));
}

#[tokio::test]
async fn a_busy_port_is_a_bind_error() {
    let first = builder().start().await.unwrap();
    let err = builder().listen(first.addr()).start().await.unwrap_err();
    match &err {
        chatio_server::Error::Bind { addr, .. } => assert_eq!(*addr, first.addr()),
        other => panic!("expected a bind error, got {other:?}"),
    }
    assert!(err.to_string().contains(&first.addr().to_string()));
}

#[tokio::test]
async fn many_servers_side_by_side() {
    let a = builder().start().await.unwrap();
    let b = builder().licenses([5]).start().await.unwrap();
    assert_ne!(a.addr(), b.addr());
    let (token, _) = b.create_token(5, None).unwrap();
    let mut c = Client::connect(&b.ws_url(5)).await;
    c.ok("login", json!({"token": token})).await;
    assert!(a.create_token(5, None).is_err());
    a.shutdown().await;
    c.ok("ping", json!({})).await;
}

/// The server binary, its data in memory (tests run side by side).
fn binary() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatio-server"));
    cmd.kill_on_drop(true).arg("--memory");
    cmd
}

#[tokio::test]
async fn the_binary_prints_its_url_and_serves() {
    let mut child = binary()
        .args(["--listen", "127.0.0.1:0", "--no-agent", "--license", "100", "--license", "200"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("the binary runs");
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let line = tokio::time::timeout(WAIT, lines.next_line()).await.expect("a line in time").unwrap().expect("one line");
    let url =
        line.split_whitespace().find(|w| w.starts_with("http://")).expect("http://HOST:PORT in the line").to_owned();
    let addr: std::net::SocketAddr = url.trim_start_matches("http://").parse().expect("HOST:PORT");
    assert_ne!(addr.port(), 0, "the real port: {line}");
    // Token endpoint, then the websocket, on license 200.
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post(
        "/customer/?client_id=cli&response_type=token&redirect_uri=http://localhost/&license_id=200",
    )
    .header("host", addr.to_string())
    .body(http_body_util::Empty::<bytes::Bytes>::new())
    .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    let token: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (mut ws, _) =
        async_tungstenite::tokio::connect_async(format!("ws://{addr}/customer/v0.5/rtm/ws?license_id=200"))
            .await
            .unwrap();
    let login = json!({"request_id": "1", "action": "login", "payload": {"token": format!("Bearer {}", token["access_token"].as_str().unwrap())}});
    ws.send(async_tungstenite::tungstenite::Message::text(login.to_string())).await.unwrap();
    let answer = tokio::time::timeout(WAIT, ws.next()).await.unwrap().unwrap().unwrap();
    let answer: serde_json::Value = serde_json::from_str(answer.to_text().unwrap()).unwrap();
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["payload"]["customer_id"], token["entity_id"]);
    // Exactly one line on stdout.
    child.start_kill().unwrap();
    let rest = tokio::time::timeout(WAIT, lines.next_line()).await.expect("stdout ends").unwrap_or(None);
    assert_eq!(rest, None, "one line only");
    let _ = child.wait().await;
}

#[tokio::test]
async fn the_binary_stops_on_sigterm_and_reports_bind_errors() {
    let blocker = builder().start().await.unwrap();
    let out = tokio::time::timeout(WAIT, binary().args(["--listen", &blocker.addr().to_string()]).output())
        .await
        .unwrap()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot listen on"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());

    let help = binary().arg("--help").output().await.unwrap();
    assert!(help.status.success());
    let help = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "--listen",
        "--license",
        "--no-agent",
        "--agent-delay-ms",
        "--max-connections-per-customer",
        "--idle-timeout-s",
        "--admin",
        "/rich",
    ] {
        assert!(help.contains(needle), "{needle}");
    }

    #[cfg(unix)]
    {
        let mut child = binary()
            .args(["--listen", "127.0.0.1:0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let _ = tokio::time::timeout(WAIT, lines.next_line()).await.unwrap();
        let pid = child.id().unwrap().to_string();
        let killed = tokio::process::Command::new("kill").args(["-TERM", &pid]).status().await.unwrap();
        assert!(killed.success());
        let status = tokio::time::timeout(WAIT, child.wait()).await.expect("exits on SIGTERM").unwrap();
        assert!(status.success(), "{status}");
    }
}

/// Without `--data` or `--memory` the binary keeps its data in the default directory
/// (`$XDG_DATA_HOME/chatio-server`) and says where at start.
#[tokio::test]
async fn the_binary_keeps_its_data_in_the_default_directory_and_says_where() {
    let home = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_chatio-server"))
        .args(["--listen", "127.0.0.1:0", "--no-agent"])
        .env("XDG_DATA_HOME", home.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary runs");
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let dir = home.path().join("chatio-server");
    let said = format!("data in {} (SQLite)", dir.display());
    let found = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = err.next_line().await {
            if line.contains(&said) {
                return true;
            }
        }
        false
    })
    .await
    .expect("the line in time");
    assert!(found, "stderr says {said}");
    assert!(dir.join("chatio.db").is_file());
    child.start_kill().unwrap();
    let _ = child.wait().await;
}

/// A POST over a fresh connection to the binary; the status and the body.
async fn post_form(addr: std::net::SocketAddr, path: &str, body: String) -> (u16, serde_json::Value) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post(path)
        .header("host", addr.to_string())
        .header("content-type", "application/x-www-form-urlencoded")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let status = resp.status().as_u16();
    let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
}

/// `--agent EMAIL --agent-sign-in`: the binary prints a one-time link per agent on standard
/// error; its code gives an agent token that logs in on the Agent API; the code is single
/// use; and neither the code's token nor the token is in the log, even at `trace`.
#[tokio::test]
async fn the_binary_prints_sign_in_links_whose_codes_give_agent_tokens_never_logged() {
    let mut child = binary()
        .args(["--listen", "127.0.0.1:0", "--no-agent", "--agent", "Ann@Example.com", "--agent-sign-in"])
        .env("RUST_LOG", "trace")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary runs");
    let mut err = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let link = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = err.next_line().await {
            if let Some(rest) = line.strip_prefix("agent sign-in for ann@example.com (license 100, one use, 24 h): ") {
                return rest.to_owned();
            }
        }
        panic!("the binary ended without printing a sign-in link");
    })
    .await
    .expect("the link in time");
    // Without --widget the link opens the page that shows the token (for `chatio agent`).
    let (base, code) = link.split_once("/agent/sign-in#code=").expect("…/agent/sign-in#code=CODE");
    let addr: std::net::SocketAddr = base.trim_start_matches("http://").parse().expect("HOST:PORT");
    let (status, answer) = post_form(addr, "/agent/sign-in", format!("code={code}")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((&answer["entity_id"], &answer["expires_in"]), (&json!("ann@example.com"), &json!(28800)));
    let token = answer["access_token"].as_str().expect("a token").to_owned();
    let (status, again) = post_form(addr, "/agent/sign-in", format!("code={code}")).await;
    assert_eq!((status, &again["error"]), (400, &json!("invalid_grant")), "single use");

    let (mut ws, _) = async_tungstenite::tokio::connect_async(format!("ws://{addr}/agent/v0.5/rtm/ws")).await.unwrap();
    let login = json!({"request_id": "1", "action": "login", "payload": {"token": format!("Bearer {token}")}});
    ws.send(async_tungstenite::tungstenite::Message::text(login.to_string())).await.unwrap();
    let answer = tokio::time::timeout(WAIT, ws.next()).await.unwrap().unwrap().unwrap();
    let answer: serde_json::Value = serde_json::from_str(answer.to_text().unwrap()).unwrap();
    assert_eq!(answer["success"], true, "{answer}");
    assert_eq!(answer["payload"]["my_profile"]["id"], "ann@example.com");
    drop(ws);

    // Stop it (SIGTERM: a clean shutdown flushes the log) and read everything it logged.
    let pid = child.id().expect("running");
    let _ = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status();
    let mut log = String::new();
    let _ = tokio::time::timeout(WAIT, async {
        while let Ok(Some(line)) = err.next_line().await {
            log.push_str(&line);
            log.push('\n');
        }
    })
    .await;
    let _ = child.wait().await;
    // What the sign-in and the login logged was read (RUST_LOG=trace asks for everything).
    assert!(log.contains("sign-in code") && log.contains("connection opened"), "the log was read: {log}");
    assert!(!log.contains(&token), "the agent token is in the log");
    assert!(!log.contains(code), "the sign-in code is in the log (after its link)");
}
