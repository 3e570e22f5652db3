//! Uploaded files are bounded in time as well as in size (G38): a file no event refers to
//! expires, a file goes with the last event that refers to it (retention), and one an
//! event refers to stays; from the disk and the store alike, on the SQLite store.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::agent_api::{agent, image_form, upload};
use crate::client::{Client, LICENSE, WAIT, builder, http, send_file};

const JANE: &str = "jane@example.com";
const JANE_TOKEN: &str = "jane-fixed-token-0123456789";

/// The status of `GET` on a file's URL.
async fn served(server: &chatio_server::ServerHandle, url: &str) -> u16 {
    let at = url.find("/api/file/").expect("a file URL");
    http(server, "GET", &url[at..], &[], Vec::new()).await.status
}

/// How many files the data directory holds.
fn files_on_disk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir.join("files")).expect("files/").count()
}

/// Waits until `url` is no longer served.
async fn until_gone(server: &chatio_server::ServerHandle, url: &str) {
    let deadline = Instant::now() + 3 * WAIT;
    while served(server, url).await != 404 {
        assert!(Instant::now() < deadline, "{url} was never deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn an_agents_image_no_event_names_expires_and_a_named_one_stays() {
    let dir = tempfile::tempdir().unwrap();
    let server = builder()
        .agent(false)
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .data_dir(dir.path())
        .unreferenced_files_after(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let chat = jane.ok("start_chat", json!({})).await["chat"]["id"].as_str().expect("chat id").to_owned();
    let png = b"\x89PNG\r\n\x1a\n-an-image-sniffed-as-png";
    let mut urls = Vec::new();
    for _ in 0..2 {
        let r = upload(&server, JANE_TOKEN, image_form(png, "image/png")).await;
        assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
        urls.push(r.json()["payload"]["url"].as_str().expect("url").to_owned());
    }
    let (named, unnamed) = (&urls[0], &urls[1]);
    let file = json!({"type": "file", "name": "a.png", "url": named, "content_type": "image/png", "size": png.len()});
    jane.ok("send_event", json!({"chat_id": chat, "event": file})).await;
    assert_eq!(server.stats().upload_bytes, 2 * png.len() as u64);

    until_gone(&server, unnamed).await;
    assert_eq!(files_on_disk(dir.path()), 1, "its bytes left the disk");
    assert_eq!(server.stats().upload_bytes, png.len() as u64, "and the bytes held");
    // Long past the expiry, the named one stays, across a restart too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(served(&server, named).await, 200);
    server.shutdown().await;
    let server = builder()
        .agent(false)
        .data_dir(dir.path())
        .unreferenced_files_after(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(served(&server, named).await, 200);
    assert_eq!(files_on_disk(dir.path()), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn retention_deletes_the_files_of_the_events_it_deletes_and_frees_their_quota() {
    let dir = tempfile::tempdir().unwrap();
    let mut quotas = chatio_server::Quotas::default();
    quotas.set("customer_files", 1).unwrap();
    let server = builder()
        .agent(false)
        .data_dir(dir.path())
        .quotas(quotas)
        .retain_history(Duration::from_secs(1))
        .start()
        .await
        .unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("old").await;
    let r = send_file(&server, &c.token, &[("payload.chat_id", &chat)], Some(("a.txt", "text/plain", b"hello"))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let url = r.json()["payload"]["url"].as_str().expect("url").to_owned();
    assert_eq!(files_on_disk(dir.path()), 1);
    c.ok("close_thread", json!({"chat_id": chat})).await;
    c.say(&chat, "new").await;

    until_gone(&server, &url).await;
    assert_eq!(files_on_disk(dir.path()), 0, "its bytes left the disk");
    assert_eq!(server.stats().upload_bytes, 0);
    // The customer's one file no longer counts: another fits.
    let r = send_file(&server, &c.token, &[("payload.chat_id", &chat)], Some(("b.txt", "text/plain", b"again"))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    server.shutdown().await;
}
