//! Faults from the server: token expiry, dropped connections (nothing lost, nothing twice),
//! bans, lost responses.

use std::collections::BTreeMap;

use chatio_customer_sdk::{DisconnectReason, Error, EventKind, OutboxPolicy, SdkEvent, StartChat, TokenSource};

use crate::support::*;

#[test]
fn a_fresh_token_after_the_server_expired_it() {
    run(async {
        let server = quiet_server().await;
        let (sdk, mut events) = connect(&server).await;
        let me = sdk.customer_id().expect("id");
        let before = sdk.auth().token().await.expect("token");
        server.expire_tokens(100, me.as_str());
        server.drop_connections(100, me.as_str());
        wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
        wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(()))
            .await;
        let after = sdk.auth().token().await.expect("token");
        assert_ne!(before.access_token(), after.access_token(), "a new token was fetched");
        assert_eq!(after.customer_id.as_ref(), Some(&me), "for the same customer");
        let chat = sdk.start_chat(StartChat::new()).await.expect("works again");
        assert!(!chat.id.as_str().is_empty());
        sdk.destroy().await;
        server.shutdown().await;
    });
}

/// An accounts service that answers every request with a real token of `server` and an
/// `expires_in` of `u64::MAX` seconds (more than any clock can add). Plain std threads and
/// sockets: it is network input the reference server cannot be made to send.
fn accounts_with_endless_tokens(server: &chatio_server::ServerHandle) -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let (token, customer) = server.create_token(100, None).expect("token");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                if line == "\r\n" {
                    break;
                }
            }
            let _ = reader.by_ref().take(length).read_to_end(&mut Vec::new());
            let body = format!(
                r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":18446744073709551615,"entity_id":"{customer}","client_id":"sdk-tests"}}"#
            );
            let answer = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes());
        }
    });
    url
}

/// A token lifetime too large for the clock (network input from the accounts service) is
/// treated as no known expiry by the transport's cache and by the core, not a panic.
#[test]
fn a_token_lifetime_past_the_clock_is_no_expiry() {
    run(async {
        let server = quiet_server().await;
        let accounts = accounts_with_endless_tokens(&server);
        let (sdk, _events) = connect_with(config(&server).accounts(accounts)).await;
        let token = sdk.auth().token().await.expect("cached token");
        assert_eq!(token.expires_in, Some(std::time::Duration::from_secs(u64::MAX)));
        let chat = sdk.start_chat(StartChat::new()).await.expect("logged in with it");
        assert!(!chat.id.as_str().is_empty());
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn nothing_lost_nothing_twice_across_dropped_connections() {
    run(async {
        let server = quiet_server().await;
        let (sdk, mut events) = connect(&server).await;
        let me = sdk.customer_id().expect("id");
        let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
        let n = 60;
        let mut sends = Vec::new();
        for i in 0..n {
            let (sdk, chat) = (sdk.clone(), chat.id.clone());
            sends.push(async move { sdk.send_message(&chat, &format!("m{i}")).await });
        }
        // Drop the connection twice while the messages are in flight.
        let server_ref = &server;
        let me_ref = me.clone();
        let chaos = async move {
            for _ in 0..2 {
                server_ref.drop_connections(100, me_ref.as_str());
                wait(&mut events, "connection_restored", |e| {
                    matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(())
                })
                .await;
            }
        };
        let (results, ()) = within("all sends", futures::future::join(futures::future::join_all(sends), chaos)).await;
        let mut acked = BTreeMap::new();
        for r in results {
            let e = r.expect("every send succeeds despite the drops");
            *acked.entry(e.text().expect("text").to_owned()).or_insert(0) += 1;
        }
        assert_eq!(acked.len(), n, "every message acknowledged");
        let stored = server.chat_events(100, chat.id.as_str());
        let mut counts = BTreeMap::new();
        for e in &stored {
            if let EventKind::Message(m) = &e.kind {
                *counts.entry(m.text.clone()).or_insert(0) += 1;
            }
        }
        assert_eq!(counts.len(), n, "none lost");
        assert!(counts.values().all(|c| *c == 1), "none twice: {counts:?}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

/// `a` sends a message whose response the server swallows; once a second connection of the
/// same customer (`other`) sees it stored, the server drops the customer's connections.
/// Returns the outcome of the send.
async fn send_swallowed_then_drop(
    server: &chatio_server::ServerHandle,
    customer: &str,
    a: &chatio_customer_sdk::CustomerSdk,
    other: &mut chatio_customer_sdk::Events,
    chat: &chatio_customer_sdk::ChatId,
) -> Result<chatio_customer_sdk::Event, Error> {
    server.swallow_next_response(100, customer);
    let send = a.send_message(chat, "arrived, unacknowledged");
    let chaos = async {
        wait(other, "the event on the other connection", |e| match e {
            SdkEvent::NewEvent { event, .. } if event.text() == Some("arrived, unacknowledged") => Some(()),
            _ => None,
        })
        .await;
        server.drop_connections(100, customer);
    };
    let (r, ()) = within("the send", futures::future::join(send, chaos)).await;
    r
}

/// [`send_swallowed_then_drop`] in a fresh chat with this outbox policy; also returns how
/// many times the message is stored.
async fn send_then_drop(policy: OutboxPolicy) -> (Result<chatio_customer_sdk::Event, Error>, usize) {
    let server = quiet_server().await;
    let (token, customer) = server.create_token(100, None).expect("token");
    let creds = chatio_customer_sdk::Credentials::bearer(token);
    let (a, _ea) = connect_with(config(&server).token(TokenSource::Static(creds.clone())).outbox(policy)).await;
    let (b, mut eb) = connect_with(config(&server).token(TokenSource::Static(creds))).await;
    let chat = a.start_chat(StartChat::new()).await.expect("chat");
    let r = send_swallowed_then_drop(&server, customer.as_str(), &a, &mut eb, &chat.id).await;
    let stored = server
        .chat_events(100, chat.id.as_str())
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Message(m) if m.text == "arrived, unacknowledged"))
        .count();
    a.destroy().await;
    b.destroy().await;
    server.shutdown().await;
    (r, stored)
}

#[test]
fn an_arrived_but_unacknowledged_event_resolves_once_after_reconnecting() {
    run(async {
        let (r, stored) = send_then_drop(OutboxPolicy::Resend).await;
        let e = r.expect("resolved from the chat's events after reconnecting");
        assert_eq!(e.text(), Some("arrived, unacknowledged"));
        assert_eq!(stored, 1, "not sent twice");
    });
}

#[test]
fn with_the_js_policy_an_in_flight_event_fails() {
    run(async {
        let (r, stored) = send_then_drop(OutboxPolicy::FailOnDisconnect).await;
        assert!(matches!(r, Err(Error::ConnectionLost)), "{r:?}");
        assert_eq!(stored, 1);
    });
}

#[test]
fn a_ban_ends_the_session_without_reconnecting() {
    run(async {
        let server = quiet_server().await;
        let (sdk, mut events) = connect(&server).await;
        let me = sdk.customer_id().expect("id");
        server.ban(100, me.as_str());
        let reason = wait(&mut events, "disconnected", |e| match e {
            SdkEvent::Disconnected { reason } => Some(reason.clone()),
            _ => None,
        })
        .await;
        assert_eq!(reason, DisconnectReason::CustomerBanned);
        // The session stops: calls fail at once with the reason, no reconnect is attempted.
        let e = sdk.start_chat(StartChat::new()).await.expect_err("banned");
        assert!(matches!(e, Error::Disconnected { reason: DisconnectReason::CustomerBanned }), "{e}");
        let next = within("the stream to end or go quiet", async {
            use futures::StreamExt;
            let mut seen = Vec::new();
            while let Some(e) = futures::FutureExt::now_or_never(events.next()).flatten() {
                seen.push(e);
            }
            seen
        })
        .await;
        assert!(next.iter().all(|e| !matches!(e, SdkEvent::Reconnecting { .. })), "{next:?}");
        // The server forgets the connection when its task ends, maybe after the client saw
        // the close; the session must not have opened another one meanwhile.
        within("the server to forget the connection", async {
            let rt = chatio_customer_sdk::runtime::default_runtime().expect("a runtime");
            while server.customer_connections(100, me.as_str()) != 0 {
                rt.sleep_until(rt.now() + std::time::Duration::from_millis(2)).await;
            }
        })
        .await;
        assert!(!sdk.is_connected());
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_static_token_that_is_refused_reports_authentication() {
    run(async {
        let server = quiet_server().await;
        let sdk = chatio_customer_sdk::CustomerSdk::init(
            config(&server).token(TokenSource::Static(chatio_customer_sdk::Credentials::bearer("not-a-token"))),
        )
        .expect("init");
        let mut events = sdk.events();
        let e = wait(&mut events, "an authentication error", |e| match e {
            SdkEvent::Error(err @ Error::Authentication { .. }) => Some(err.clone()),
            _ => None,
        })
        .await;
        assert!(e.to_string().contains("authentication failed"), "{e}");
        sdk.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_check_whose_answer_exceeds_the_frame_limit_fails_the_event_instead_of_looping() {
    run(async {
        let server = quiet_server().await;
        let (token, customer) = server.create_token(100, None).expect("token");
        let creds = chatio_customer_sdk::Credentials::bearer(token);
        let fast = chatio_customer_sdk::Backoff::new(
            std::time::Duration::from_millis(5),
            std::time::Duration::from_millis(40),
            0.5,
        );
        let small = config(&server).token(TokenSource::Static(creds.clone())).max_frame_len(64 * 1024).reconnect(fast);
        let (a, mut ea) = connect_with(small).await;
        let (b, mut eb) = connect_with(config(&server).token(TokenSource::Static(creds))).await;
        let chat = a.start_chat(StartChat::new()).await.expect("chat");
        // A thread whose `get_chat_threads` answer is larger than 64 KiB.
        let long = "x".repeat(2000);
        for _ in 0..40 {
            a.send_message(&chat.id, &long).await.expect("send");
        }
        let r = send_swallowed_then_drop(&server, customer.as_str(), &a, &mut eb, &chat.id).await;
        assert_eq!(r.err(), Some(Error::DeliveryUnknown { attempts: 3 }));
        // Each refused answer was reported, and the chat is free again.
        let mut refused = 0;
        while refused < 3 {
            refused += wait(&mut ea, "a refused frame", |e| match e {
                SdkEvent::Error(e @ Error::Protocol(_))
                    if chatio_customer_sdk::chain(e)
                        .contains("a frame from the server exceeds the 65536-byte limit") =>
                {
                    Some(1)
                }
                _ => None,
            })
            .await;
        }
        let next = within("the next send", a.send_message(&chat.id, "later")).await.expect("the chat moves on");
        assert_eq!(next.text(), Some("later"));
        let stored = server
            .chat_events(100, chat.id.as_str())
            .iter()
            .filter(|e| matches!(&e.kind, EventKind::Message(m) if m.text == "arrived, unacknowledged"))
            .count();
        assert_eq!(stored, 1, "not sent twice");
        a.destroy().await;
        b.destroy().await;
        server.shutdown().await;
    });
}
