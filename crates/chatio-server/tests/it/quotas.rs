//! The quotas (G38): what one customer can make the server hold is bounded per chat (events,
//! their bytes, files), per customer (chats, files, upload bytes), per property write and in
//! total (upload bytes); past a bound the request gets a `validation` error whose `data`
//! names it, nothing is stored, and other chats and customers are served as before.

use chatio_server::Quotas;
use serde_json::{Value, json};

use crate::client::{Client, builder, send_file, web};

fn quotas(set: &[(&str, u64)]) -> Quotas {
    let mut q = Quotas::default();
    for (name, value) in set {
        q.set(name, *value).unwrap();
    }
    q
}

/// Asserts that an error object is the quota `limit` with `max`.
fn is_quota(e: &Value, limit: &str, max: u64) {
    assert_eq!(e["type"], "validation", "{e}");
    assert_eq!(e["data"], json!({"limit": limit, "max": max}), "{e}");
}

fn message(text: &str) -> Value {
    json!({"type": "message", "text": text})
}

#[tokio::test]
async fn a_chat_holds_at_most_its_quota_of_events_over_rtm_and_the_web_api() {
    let server = builder().agent(false).quotas(quotas(&[("chat_events", 5)])).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("one").await;
    for i in 2..=5 {
        c.say(&chat, &format!("message {i}")).await;
    }
    let e = c.fails("send_event", json!({"chat_id": chat, "event": message("sixth")}), "validation").await;
    is_quota(&e, "chat_events", 5);
    assert!(e["message"].as_str().unwrap().contains("start a new chat"), "{e}");
    let r = web(&server, "send_event", &c.token, json!({"chat_id": chat, "event": message("sixth")})).await;
    assert_eq!(r.status, 400);
    is_quota(&r.json()["payload"]["error"], "chat_events", 5);
    // A file is an event too: refused before it is stored.
    let f = send_file(&server, &c.token, &[("payload.chat_id", &chat)], Some(("a.txt", "text/plain", b"hi"))).await;
    assert_eq!(f.status, 400);
    is_quota(&f.json()["payload"]["error"], "chat_events", 5);
    assert_eq!(server.stats().upload_bytes, 0);
    assert_eq!(server.chat_events(100, &chat).len(), 5);
    // A start_chat with more events than a chat holds is refused whole.
    let many: Vec<Value> = (0..6).map(|i| message(&i.to_string())).collect();
    let e = c.fails("start_chat", json!({"chat": {"thread": {"events": many}}}), "validation").await;
    is_quota(&e, "chat_events", 5);
    // The customer's other chats, and other customers, are served as before.
    let (other_chat, _) = c.start_chat("a new chat").await;
    c.say(&other_chat, "still fine").await;
    let mut other = Client::customer(&server).await;
    let (theirs, _) = other.start_chat("hello").await;
    other.say(&theirs, "fine too").await;
}

#[tokio::test]
async fn the_scripted_agent_stops_answering_in_a_full_chat() {
    let server = builder().agent(true).quotas(quotas(&[("chat_events", 8)])).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hello").await;
    let mut refused = false;
    for i in 0..8 {
        let r = c.request("send_event", json!({"chat_id": chat, "event": message(&format!("m{i}"))})).await;
        if r["success"] == false {
            is_quota(&r["payload"]["error"], "chat_events", 8);
            refused = true;
            break;
        }
    }
    assert!(refused, "eight messages and the agent's answers fit in a chat of 8 events");
    c.settle().await;
    assert_eq!(server.chat_events(100, &chat).len(), 8, "the agent added events past the quota");
}

#[tokio::test]
async fn a_chat_holds_at_most_its_quota_of_event_bytes() {
    let server = builder().agent(false).quotas(quotas(&[("chat_bytes", 4_000)])).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let text = "x".repeat(1_000);
    let (chat, _) = c.start_chat(&text).await;
    c.say(&chat, &text).await;
    c.say(&chat, &text).await;
    let e = c.fails("send_event", json!({"chat_id": chat, "event": message(&text)}), "validation").await;
    is_quota(&e, "chat_bytes", 4_000);
    // A small event still fits in what is left.
    c.say(&chat, "ok").await;
    assert_eq!(server.chat_events(100, &chat).len(), 4);
}

#[tokio::test]
async fn property_values_and_counts_are_bounded_after_merging() {
    let q = quotas(&[("properties", 3), ("property_value_bytes", 16)]);
    let server = builder().agent(false).quotas(q).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let long = "v".repeat(17);
    // start_chat: chat, thread and event properties.
    for chat in [
        json!({"properties": {"a": {"x": long}}}),
        json!({"thread": {"properties": {"a": {"x": 1, "y": 2, "z": 3, "w": 4}}}}),
        json!({"thread": {"events": [{"type": "message", "text": "hi", "properties": {"a": {"x": long}}}]}}),
    ] {
        c.fails("start_chat", json!({"chat": chat}), "validation").await;
    }
    assert!(server.chats_of(100, &c.customer).is_empty());
    let p = c.ok("start_chat", json!({"chat": {"properties": {"a": {"x": 1, "y": 2}}}})).await;
    let chat = p["chat"]["id"].as_str().unwrap().to_owned();
    let thread = p["chat"]["thread"]["id"].as_str().unwrap().to_owned();
    let e = c
        .fails("update_chat_properties", json!({"chat_id": chat, "properties": {"a": {"x": long}}}), "validation")
        .await;
    is_quota(&e, "property_value_bytes", 16);
    // Rewriting a key costs nothing; a third key fits, a fourth does not.
    c.ok("update_chat_properties", json!({"chat_id": chat, "properties": {"a": {"x": 5, "z": "sixteen bytes..."}}}))
        .await;
    let e = c
        .fails("update_chat_properties", json!({"chat_id": chat, "properties": {"b": {"w": true}}}), "validation")
        .await;
    is_quota(&e, "properties", 3);
    let four = json!({"a": {"1": 1, "2": 2, "3": 3, "4": 4}});
    let e = c
        .fails(
            "update_chat_thread_properties",
            json!({"chat_id": chat, "thread_id": thread, "properties": four}),
            "validation",
        )
        .await;
    is_quota(&e, "properties", 3);
    let e = c
        .fails(
            "send_event",
            json!({"chat_id": chat, "event": {"type": "message", "text": "x", "properties": {"a": {"x": long}}}}),
            "validation",
        )
        .await;
    is_quota(&e, "property_value_bytes", 16);
    // What was refused left the chat as it was.
    let summary = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(
        summary["chats_summary"][0]["properties"],
        json!({"a": {"x": {"value": 5}, "y": {"value": 2}, "z": {"value": "sixteen bytes..."}}})
    );
}

#[tokio::test]
async fn a_customer_starts_at_most_its_quota_of_chats_and_the_default_is_bounded() {
    assert_eq!(chatio_server::ServerConfig::default().max_chats_per_customer, Some(1_000));
    let server = builder().agent(false).max_chats_per_customer(2).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    c.start_chat("one").await;
    c.start_chat("two").await;
    let e = c.fails("start_chat", json!({"chat": {}}), "validation").await;
    is_quota(&e, "chats_per_customer", 2);
}

/// Uploads one small file; the error object when refused.
async fn upload(
    server: &chatio_server::ServerHandle,
    c: &Client,
    chat: &str,
    name: &str,
    size: usize,
) -> Option<Value> {
    let bytes = vec![b'a'; size];
    let r = send_file(server, &c.token, &[("payload.chat_id", chat)], Some((name, "text/plain", &bytes))).await;
    match r.status {
        200 => None,
        400 => Some(r.json()["payload"]["error"].clone()),
        other => panic!("status {other}: {}", String::from_utf8_lossy(&r.body)),
    }
}

#[tokio::test]
async fn uploads_are_bounded_per_chat_per_customer_and_in_total() {
    let q =
        quotas(&[("chat_files", 2), ("customer_files", 3), ("customer_upload_bytes", 1_000), ("upload_bytes", 1_500)]);
    let server = builder().agent(false).quotas(q).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (one, _) = c.start_chat("one").await;
    let (two, _) = c.start_chat("two").await;
    assert!(upload(&server, &c, &one, "a.txt", 100).await.is_none());
    assert!(upload(&server, &c, &one, "b.txt", 100).await.is_none());
    is_quota(&upload(&server, &c, &one, "c.txt", 100).await.unwrap(), "chat_files", 2);
    // The customer's bytes: 200 held, 900 more would pass 1 000.
    is_quota(&upload(&server, &c, &two, "big.txt", 900).await.unwrap(), "customer_upload_bytes", 1_000);
    assert!(upload(&server, &c, &two, "d.txt", 700).await.is_none());
    let (three, _) = c.start_chat("three").await;
    is_quota(&upload(&server, &c, &three, "e.txt", 1).await.unwrap(), "customer_files", 3);
    assert_eq!(server.stats().upload_bytes, 900);
    // The server's total: another customer may add 600, not 601.
    let mut other = Client::customer(&server).await;
    let (theirs, _) = other.start_chat("mine").await;
    is_quota(&upload(&server, &other, &theirs, "f.txt", 601).await.unwrap(), "upload_bytes", 1_500);
    assert!(upload(&server, &other, &theirs, "g.txt", 600).await.is_none());
    assert_eq!(server.stats().upload_bytes, 1_500);
    // Refused uploads left no event behind.
    let files = |chat: &str| server.chat_events(100, chat).iter().filter(|e| e.event_type() == "file").count();
    assert_eq!((files(&one), files(&two), files(&three), files(&theirs)), (2, 1, 0, 1));
}

#[tokio::test]
async fn file_names_are_bounded_and_never_hold_control_or_bidi_characters() {
    let server = builder().agent(false).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("files").await;
    let long = format!("{}.txt", "n".repeat(252));
    is_quota(&upload(&server, &c, &chat, &long, 3).await.unwrap(), "file_name_chars", 255);
    for bad in ["invoice\u{202E}fdp.exe", "a\u{2067}b.txt", "tab\there.txt"] {
        let e = upload(&server, &c, &chat, bad, 3).await.unwrap_or_else(|| panic!("{bad:?} accepted"));
        assert_eq!(e["data"], json!({"limit": "file_name"}), "{e}");
    }
    assert!(upload(&server, &c, &chat, &format!("{}.txt", "é".repeat(251)), 3).await.is_none());
    assert_eq!(server.chat_events(100, &chat).len(), 2);
}

#[tokio::test]
async fn agents_past_a_quota_get_the_same_error_with_its_data_over_rtm_and_the_web_api() {
    use crate::agent_api::{agent, agent_web};
    const TOKEN: &str = "quota-agent-fixed-token-0123456789";
    let q = quotas(&[("chat_events", 6), ("properties", 1)]);
    let server = builder().agent(false).quotas(q).agent_token(100, "jane@example.com", TOKEN).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hello").await;
    let (mut a, _) = agent(&server, TOKEN).await;
    a.ok("join_chat", json!({"chat_id": chat})).await;
    // The agent fills the chat; the event past the quota is refused with the quota's data.
    let mut refusal = None;
    for i in 0..6 {
        let r = a.request("send_event", json!({"chat_id": chat, "event": message(&format!("a{i}"))})).await;
        if r["success"] == false {
            refusal = Some(r["payload"]["error"].clone());
            break;
        }
    }
    let e = refusal.expect("six events fit in a chat of six");
    is_quota(&e, "chat_events", 6);
    let r = agent_web(&server, "send_event", TOKEN, json!({"chat_id": chat, "event": message("web")})).await;
    assert_eq!(r.status, 400);
    is_quota(&r.json()["payload"]["error"], "chat_events", 6);
    assert_eq!(server.chat_events(100, &chat).len(), 6);
    // Properties: one key fits, a second is refused the same way.
    a.ok("update_chat_properties", json!({"chat_id": chat, "properties": {"n": {"a": 1}}})).await;
    let e =
        a.fails("update_chat_properties", json!({"chat_id": chat, "properties": {"n": {"b": 2}}}), "validation").await;
    is_quota(&e, "properties", 1);
}
