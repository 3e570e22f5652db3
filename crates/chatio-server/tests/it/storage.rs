//! The SQLite store through the server (issue 22): what a client did survives a restart on
//! the same data directory, and a directory in use or written by a newer version is
//! refused at start.

use serde_json::json;

use crate::client::{Client, LICENSE, builder};

/// A server with its data in `dir`, the agent on (so that its chat membership and events
/// are stored too).
async fn on(dir: &std::path::Path) -> chatio_server::ServerHandle {
    builder().data_dir(dir).start().await.expect("server starts on the data directory")
}

#[tokio::test]
async fn a_conversation_survives_a_restart_on_the_same_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let server = on(dir.path()).await;
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("hello").await;
    c.says("You said: hello").await;
    c.ok("update_chat_properties", json!({"chat_id": chat, "properties": {"ui": {"bold": true}}})).await;
    c.ok("update_customer", json!({"customer": {"name": "Ann", "fields": {"plan": "gold"}}})).await;
    let sent = c.say(&chat, "second").await;
    // The bot answers as a client of the server: its answer is in before the restart.
    c.says("You said: second").await;
    let before = server.chat_events(LICENSE, &chat);
    let agent = server.agent_id();
    let (customer, token) = (c.customer.clone(), c.token.clone());
    drop(c);
    server.shutdown().await;

    let server = on(dir.path()).await;
    assert_eq!(server.agent_id(), agent, "the same agent");
    assert_eq!(server.chat_events(LICENSE, &chat), before, "every event, in order");
    assert_eq!(server.chats_of(LICENSE, &customer), vec![chatio_wire::ChatId::new(chat.clone())]);
    // The same token still logs the same customer in, and the chat reads as it was.
    let mut c = Client::with_token(&server, &token).await;
    assert_eq!(c.customer, customer);
    let summary = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(summary["total_chats"], 1, "{summary}");
    let s = &summary["chats_summary"][0];
    assert_eq!(s["id"], chat);
    assert_eq!(s["properties"]["ui"]["bold"]["value"], true, "{s}");
    assert_eq!(s["last_event_per_type"]["message"]["event"]["text"], "You said: second", "{s}");
    // The agent's avatar follows the server's address (a restart may change the port).
    assert_eq!(s["users"][1]["avatar"], format!("{}/static/bot.png", server.http_url()), "{s}");
    let threads = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    let events = threads["chat"]["threads"][0]["events"].as_array().unwrap().len();
    assert_eq!(events, before.len(), "{threads}");
    let users = threads["chat"]["users"].as_array().unwrap();
    assert_eq!(users[0]["name"], "Ann");
    assert_eq!(users[0]["fields"]["plan"], "gold");
    // New events go on after the stored ones: orders and ids never repeat.
    let next = c.say(&chat, "after the restart").await;
    assert!(next["event"]["order"].as_u64() > sent["event"]["order"].as_u64(), "{next}");
    assert_ne!(next["event"]["id"], sent["event"]["id"]);
    let (other, _) = c.start_chat("a new chat").await;
    assert_ne!(other, chat, "a fresh id, though the seed is the same");
    server.shutdown().await;
}

#[tokio::test]
async fn a_data_directory_in_use_is_refused_with_that_said() {
    let dir = tempfile::tempdir().unwrap();
    let first = on(dir.path()).await;
    let err = builder().data_dir(dir.path()).start().await.expect_err("a second server on the same data");
    assert!(matches!(err, chatio_server::Error::Store(_)), "{err:?}");
    assert!(err.to_string().contains("in use by another chatio-server"), "{err}");
    first.shutdown().await;
    // Free again once the first one stopped.
    on(dir.path()).await.shutdown().await;
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("chatio.db"), b"this is not a database, it is a text file of some length").unwrap();
    let err = builder().data_dir(dir.path()).start().await.expect_err("not a database");
    assert!(err.to_string().contains("not a SQLite database"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_directory_is_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("data");
    let server = on(&dir).await;
    let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700);
    server.shutdown().await;
}

/// `POST /customer/` with a form body: the status and the JSON answer.
async fn token_endpoint(server: &chatio_server::ServerHandle, form: &str) -> (u16, serde_json::Value) {
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let r = crate::client::http(server, "POST", "/customer/", &headers, form.to_owned()).await;
    (r.status, r.json())
}

/// A signed-in customer stays signed in across a restart (G11, G36): its refresh token and
/// the accounts page's cookie still resume it, and a refresh token used before the restart,
/// reused after it, still revokes its family.
#[tokio::test]
async fn refresh_tokens_and_remembered_browsers_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = on(dir.path()).await;
    let first = "client_id=web&response_type=token&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2F";
    let refresh = |rt: &str| format!("client_id=web&grant_type=refresh_token&refresh_token={rt}");
    let (status, a) = token_endpoint(&server, first).await;
    assert_eq!(status, 200, "{a}");
    let customer = a["entity_id"].as_str().unwrap().to_owned();
    let r1 = a["refresh_token"].as_str().unwrap().to_owned();
    let (status, b) = token_endpoint(&server, &refresh(&r1)).await;
    assert_eq!(status, 200, "{b}");
    let r2 = b["refresh_token"].as_str().unwrap().to_owned();
    let page = "/customer?license_id=100&client_id=x&response_type=token&redirect_uri=http://127.0.0.1:7/&post_message_uri=http://127.0.0.1:7/&state=s";
    let r = crate::client::http(&server, "GET", page, &[], "").await;
    let set = r.headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("a cookie").to_owned();
    let cookie = set.split(';').next().unwrap().to_owned();
    let remembered = page_customer(&r.body);
    // A second family, for the reuse after the restart.
    let (_, c) = token_endpoint(&server, first).await;
    let victim_r1 = c["refresh_token"].as_str().unwrap().to_owned();
    let (_, d) = token_endpoint(&server, &refresh(&victim_r1)).await;
    let victim_r2 = d["refresh_token"].as_str().unwrap().to_owned();
    // Its second secret used too: the first is no longer the one a lost answer may retry (G39).
    let (_, d) = token_endpoint(&server, &refresh(&victim_r2)).await;
    let victim_r3 = d["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(server.stats().refresh_families, 2);
    server.shutdown().await;

    let server = on(dir.path()).await;
    assert_eq!(server.stats().refresh_families, 2, "the families are stored");
    // The refresh token resumes the same customer, whose new access token logs in.
    let (status, e) = token_endpoint(&server, &refresh(&r2)).await;
    assert_eq!((status, e["entity_id"].as_str()), (200, Some(customer.as_str())), "{e}");
    let c = Client::with_token(&server, e["access_token"].as_str().unwrap()).await;
    assert_eq!(c.customer, customer);
    // The browser is still remembered.
    let again = crate::client::http(&server, "GET", page, &[("cookie", cookie.as_str())], "").await;
    assert_eq!(page_customer(&again.body), remembered);
    // A token rotated before the restart, reused after it: refused, and its family revoked.
    let (status, f) = token_endpoint(&server, &refresh(&victim_r1)).await;
    assert_eq!(status, 400, "{f}");
    assert!(f["error_description"].as_str().unwrap().contains("already used"), "{f}");
    let (status, _) = token_endpoint(&server, &refresh(&victim_r3)).await;
    assert_eq!(status, 400, "the family is revoked");
    assert_eq!(server.stats().refresh_families, 1);
    server.shutdown().await;

    // And the revocation is stored too.
    let server = on(dir.path()).await;
    let (status, _) = token_endpoint(&server, &refresh(&victim_r2)).await;
    assert_eq!(status, 400, "still revoked after another restart");
    server.shutdown().await;
}

/// The customer id the accounts page posts.
fn page_customer(body: &[u8]) -> String {
    let html = String::from_utf8_lossy(body);
    let message = html.split("var message = ").nth(1).and_then(|r| r.split(";\n").next()).expect("a message");
    let message: serde_json::Value = serde_json::from_str(message).expect("JSON");
    message["entity_id"].as_str().expect("an entity id").to_owned()
}

/// Group commit: the requests of concurrent clients share transactions (fewer commits than
/// requests), each answer is sent only once its write is committed, and everything
/// answered is there after a restart, in order.
#[tokio::test]
async fn concurrent_writers_share_commits_and_nothing_answered_is_lost() {
    const CLIENTS: usize = 8;
    const EACH: usize = 25;
    let dir = tempfile::tempdir().unwrap();
    let quiet = || builder().agent(false).data_dir(dir.path());
    let server = quiet().start().await.unwrap();
    let client = |n: usize| {
        let server = &server;
        async move {
            let mut c = Client::customer(server).await;
            let (chat, _) = c.start_chat("first").await;
            let mut ids = Vec::new();
            for i in 0..EACH {
                let event = json!({"chat_id": chat, "event": {"type": "message", "text": format!("{n}-{i}")}});
                ids.push(c.send_request("send_event", event).await);
            }
            for id in ids {
                let r = c.response_to(&id).await;
                assert_eq!(r["success"], true, "{r}");
            }
            chat
        }
    };
    let chats = futures::future::join_all((0..CLIENTS).map(client)).await;
    let stats = server.stats();
    assert!(stats.grouped_requests >= (CLIENTS * (EACH + 1)) as u64, "{stats:?}");
    assert!(stats.group_commits < stats.grouped_requests, "writers shared commits: {stats:?}");
    server.shutdown().await;

    let server = quiet().start().await.unwrap();
    for (n, chat) in chats.iter().enumerate() {
        let texts: Vec<String> = server
            .chat_events(LICENSE, chat)
            .iter()
            .filter_map(|e| match &e.kind {
                chatio_wire::EventKind::Message(m) => Some(m.text.clone()),
                _ => None,
            })
            .collect();
        let expected: Vec<String> =
            std::iter::once("first".to_owned()).chain((0..EACH).map(|i| format!("{n}-{i}"))).collect();
        assert_eq!(texts, expected, "every answered event, once, in order");
    }
    server.shutdown().await;
}

/// A full disk (here the database's size bound, which fails the same way): the write that
/// does not fit is refused with a typed error (`internal`, `data.storage = "full"`), the
/// connection goes on, and every message acknowledged before it is there after a restart.
#[tokio::test]
async fn a_full_database_refuses_writes_typed_and_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let server = builder().agent(false).data_dir(dir.path()).max_db_bytes(512 * 1024).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("first").await;
    let big = "x".repeat(16_000);
    let mut acked = 1;
    let refusal = loop {
        let r = c
            .request(
                "send_event",
                json!({"chat_id": chat, "event": {"type": "message", "text": format!("{acked} {big}")}}),
            )
            .await;
        if r["success"] != true {
            break r;
        }
        acked += 1;
        assert!(acked < 200, "the bound was never reached");
    };
    let error = &refusal["payload"]["error"];
    assert_eq!(error["type"], "internal", "{refusal}");
    assert_eq!(error["data"]["storage"], "full", "{refusal}");
    assert!(error["message"].as_str().unwrap().contains("full"), "{refusal}");
    // Reads still work: the server goes on.
    let summary = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(summary["total_chats"], 1);
    server.shutdown().await;

    let server = builder().agent(false).data_dir(dir.path()).start().await.unwrap();
    let stored = server.chat_events(LICENSE, &chat).len();
    assert_eq!(stored, acked, "every acknowledged message, and not the refused one");
    server.shutdown().await;
}

/// Retention: closed threads older than the configured age go, with their events, and their
/// events no longer count against the chat's quota; the chat's last thread stays.
#[tokio::test]
async fn retention_deletes_old_closed_threads_but_not_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let mut quotas = chatio_server::Quotas::default();
    quotas.set("chat_events", 3).unwrap();
    let server = builder()
        .agent(false)
        .data_dir(dir.path())
        .quotas(quotas)
        .retain_history(std::time::Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, first) = c.start_chat("old").await;
    c.ok("close_thread", json!({"chat_id": chat})).await;
    let second = c.say(&chat, "new").await["thread_id"].as_str().expect("a new thread").to_owned();
    assert_ne!(first, second);
    let deadline = std::time::Instant::now() + crate::client::WAIT;
    loop {
        let events = server.chat_events(LICENSE, &chat);
        if events.iter().all(|e| e.id.as_str().starts_with(&second)) {
            assert!(!events.is_empty(), "the last thread keeps its events");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the old thread was never deleted: {events:?}");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let threads = c.ok("get_chat_threads_summary", json!({"chat_id": chat})).await;
    assert_eq!(threads["total_threads"], 1, "{threads}");
    // The quota of 3 events counts the one left: two more fit.
    c.say(&chat, "two").await;
    c.say(&chat, "three").await;
    server.shutdown().await;
}
