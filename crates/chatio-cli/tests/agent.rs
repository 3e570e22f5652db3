//! `chatio agent` run as a person would, in a pseudo-terminal (util-linux `script`): a
//! conversation with a customer (our customer SDK, in this process) on a reference server.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use chatio_customer_sdk::{CustomerData, CustomerSdk, Events, NewEvent, SdkEvent, StartChat};
use futures::StreamExt;

const BIN: &str = env!("CARGO_BIN_EXE_chatio");
const JANE: &str = "jane@example.com";
const TOKEN: &str = "jane-console-token-0123456789";

fn server() -> chatio_server::ServerHandle {
    chatio_server::Server::builder()
        .ephemeral()
        .agent(false)
        .agent_token(100, JANE, TOKEN)
        .start_blocking()
        .expect("server")
}

/// `chatio agent ARGS` in a pseudo-terminal: its input is a terminal (the keyboard is the
/// child's stdin). The token comes in the server's `EMAIL=TOKEN` form, from the environment.
fn console(args: &[&str]) -> (std::process::Child, mpsc::Receiver<String>) {
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    // `exec`: the shell `script` starts must not stay between the console and the terminal's
    // Ctrl-C (see `chat_in_a_terminal` in tests/cli.rs).
    let mut cmd = vec!["exec".to_owned(), quote(BIN), "agent".to_owned()];
    cmd.extend(args.iter().map(|a| quote(a)));
    let mut child = Command::new("script")
        .args(["-qfec", &cmd.join(" "), "/dev/null"])
        .env("SHELL", "/bin/sh")
        .env("CHATIO_AGENT_TOKEN", format!("{JANE}={TOKEN}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("util-linux `script` runs the console in a pseudo-terminal (apt-get install bsdutils)");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    (child, rx)
}

/// Waits (15 s at most) for a line containing `needle`.
fn expect(rx: &mpsc::Receiver<String>, needle: &str, seen: &mut Vec<String>) {
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

/// Waits for lines containing each of `needles`, in any order.
fn expect_all(rx: &mpsc::Receiver<String>, needles: &[&str], seen: &mut Vec<String>) {
    let mut left: Vec<&str> = needles.to_vec();
    while !left.is_empty() {
        match rx.recv_timeout(Duration::from_secs(15)) {
            Ok(line) => {
                left.retain(|n| !line.contains(n));
                seen.push(line);
            }
            Err(_) => panic!("no lines containing {left:?}; got:\n{}", seen.join("\n")),
        }
    }
}

fn typed(child: &mut std::process::Child, line: &str) {
    let keyboard = child.stdin.as_mut().expect("keyboard");
    keyboard.write_all(format!("{line}\r").as_bytes()).expect("type");
    keyboard.flush().expect("flush");
}

/// The customer's next message (system messages skipped), its text.
async fn customer_reads(events: &mut Events) -> String {
    while let Some(e) = events.next().await {
        if let SdkEvent::NewEvent { event, .. } = e {
            if let chatio_customer_sdk::EventKind::Message(m) = &event.kind {
                return m.text.clone();
            }
        }
    }
    panic!("the customer's events ended")
}

async fn customer_sees(events: &mut Events, what: &str, f: impl Fn(&SdkEvent) -> bool) {
    let wait = async {
        while let Some(e) = events.next().await {
            if f(&e) {
                return;
            }
        }
        panic!("the customer's events ended waiting for {what}");
    };
    if async_std::future::timeout(Duration::from_secs(15), wait).await.is_err() {
        panic!("the customer never saw {what}");
    }
}

/// A 1×1 PNG image.
const PIXEL_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00, 0x0c, 0x49,
    0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[test]
fn a_person_answers_a_customer_in_the_console() {
    let server = server();
    let (mut child, rx) = console(&["--url", &server.http_url(), "--plain"]);
    let mut seen = Vec::new();
    expect(&rx, "connected as jane (accepting_chats); chats: 0 yours, 0 waiting", &mut seen);

    async_std::task::block_on(async {
        let config = chatio_customer_sdk::Config::new(100, "console-test")
            .server(server.http_url())
            .customer(CustomerData::new().name("Ann"));
        let ann = CustomerSdk::init(config).expect("customer");
        let mut ev = ann.events();
        customer_sees(&mut ev, "connected", |e| matches!(e, SdkEvent::Connected { .. })).await;

        // A chat arrives, routed to Jane: it becomes the current chat.
        let start = StartChat::new().with_event(NewEvent::message("Hello, my parcel is late"));
        let chat = ann.start_chat(start).await.expect("start_chat");
        expect(&rx, "#1 new chat from Ann: «Ann: Hello, my parcel is late»", &mut seen);
        expect(&rx, "you are in chat #1: it is the current chat", &mut seen);

        // A typed line is a reply.
        typed(&mut child, "Hi Ann, which order is it?");
        assert_eq!(customer_reads(&mut ev).await, "Hi Ann, which order is it?");

        // The visitor's draft and message.
        ann.set_sneak_peek(&chat.id, "It is order 12").expect("sneak peek");
        expect(&rx, "Ann is typing: «It is order 12»", &mut seen);
        ann.send_message(&chat.id, "It is order 1234").await.expect("message");
        expect(&rx, "Ann: It is order 1234", &mut seen);

        // A whisper stays among agents: the customer's next message is the reply after it.
        typed(&mut child, ":whisper courier lost it");
        expect(&rx, "whispered (agents only)", &mut seen);
        typed(&mut child, "Let me check with the courier.");
        assert_eq!(customer_reads(&mut ev).await, "Let me check with the courier.");

        typed(&mut child, ":chats");
        expect(&rx, "yours (1):", &mut seen);
        expect(&rx, "*#1   Ann", &mut seen);

        // An image from a file: uploaded, then sent; the customer gets it.
        let image = std::env::temp_dir().join(format!("chatio-agent-console-{}.png", std::process::id()));
        std::fs::write(&image, PIXEL_PNG).expect("write the image");
        typed(&mut child, &format!(":file {}", image.display()));
        expect(&rx, &format!("sent image {}", image.file_name().unwrap().to_string_lossy()), &mut seen);
        customer_sees(&mut ev, "the image", |e| {
            matches!(e, SdkEvent::NewEvent { event, .. }
                if matches!(&event.kind, chatio_customer_sdk::EventKind::RichMessage(r)
                    if r.elements.iter().any(|el| el.image.as_ref().is_some_and(|i| i.url.contains("/api/file/")))))
        })
        .await;
        let _ = std::fs::remove_file(&image);
        typed(&mut child, ":file /nonexistent/picture.png");
        expect(&rx, "image not sent", &mut seen);

        // Back to the queue (not accepting, so the router does not give it back), and taken.
        typed(&mut child, ":status off");
        expect(&rx, "routing status set: not_accepting_chats", &mut seen);
        typed(&mut child, ":leave");
        // The command's answer and the server's push, in either order: the console's state
        // has it once the push came.
        expect_all(&rx, &["left chat #1: it goes back to the queue", "you left chat #1"], &mut seen);
        customer_sees(&mut ev, "Jane leaving", |e| matches!(e, SdkEvent::UserLeftChat { .. })).await;
        typed(&mut child, ":chats");
        expect(&rx, "waiting (1)", &mut seen);
        expect(&rx, " #1   Ann", &mut seen);
        typed(&mut child, ":take 1");
        expect(&rx, "you took chat #1", &mut seen);
        customer_sees(&mut ev, "Jane back", |e| matches!(e, SdkEvent::UserJoinedChat { .. })).await;

        // The conversation with history, the whisper among it.
        typed(&mut child, ":history");
        expect(&rx, "chat #1 (1 thread):", &mut seen);
        expect(&rx, "you (whisper): courier lost it", &mut seen);
        expect(&rx, "chat #1 is the current chat", &mut seen);

        // Closing: the customer hears it.
        typed(&mut child, ":close");
        expect(&rx, "closed the thread of chat #1", &mut seen);
        customer_sees(&mut ev, "the thread closed", |e| matches!(e, SdkEvent::ThreadClosed { .. })).await;

        // A ban: the customer is told and disconnected.
        typed(&mut child, ":ban 1");
        expect(&rx, "Ann is banned for 1 days", &mut seen);
        customer_sees(
            &mut ev,
            "the ban",
            |e| matches!(e, SdkEvent::Disconnected { reason } if reason.as_str() == "customer_banned"),
        )
        .await;
        ann.destroy().await;
    });

    typed(&mut child, ":nope");
    typed(&mut child, ":quit");
    expect(&rx, "bye", &mut seen);
    let status = child.wait().expect("exit");
    assert!(status.success(), "a terminal session ends with 0 after `:quit`: {status:?}");
}

#[test]
fn a_refused_token_ends_the_console_with_an_error() {
    let server = server();
    let out = Command::new(BIN)
        .args(["agent", "--url", &server.http_url(), "--token", "not-a-token-of-this-server"])
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("the server refused the token") && err.contains("CHATIO_AGENT_TOKEN"), "{err}");
}

#[test]
fn piped_commands_that_fail_exit_non_zero() {
    let server = server();
    let mut child = Command::new(BIN)
        .args(["agent", "--url", &server.http_url(), "--plain", "--wait", "1"])
        .env("CHATIO_AGENT_TOKEN", TOKEN)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().expect("stdin").write_all(b":chats\nhello\n:take 9\n").expect("write");
    let out = child.wait_with_output().expect("exit");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("no chats"), "{stdout}");
    assert!(stderr.contains("no current chat"), "{stderr}");
    assert!(stderr.contains("no chat #9"), "{stderr}");
    assert!(stderr.contains("2 commands failed"), "{stderr}");
    assert_eq!(out.status.code(), Some(1));
}
