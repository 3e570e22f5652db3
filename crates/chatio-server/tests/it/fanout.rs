//! Pushes go to every connection of the customer, the request id only on the requester's
//! copy (2.4, G5); customers cannot touch each other's chats (authorization).

use serde_json::json;

use crate::client::{Client, quiet_server, web};

#[tokio::test]
async fn every_connection_gets_the_push_and_only_the_requester_the_request_id() {
    let server = quiet_server().await;
    let mut a = Client::customer(&server).await;
    let mut b = a.again(&server).await;
    assert_eq!(server.customer_connections(100, &a.customer), 2);

    let rid = a.send_request("start_chat", json!({})).await;
    let r = a.response_to(&rid).await;
    let chat = r["payload"]["chat"]["id"].as_str().unwrap().to_owned();
    let mine = a.push("incoming_chat_thread").await;
    let theirs = b.push("incoming_chat_thread").await;
    assert_eq!(mine["request_id"], rid.as_str());
    assert!(theirs.get("request_id").is_none(), "{theirs}");
    assert_eq!(mine["payload"], theirs["payload"]);

    let rid =
        b.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "from b"}})).await;
    b.response_to(&rid).await;
    let mine = b.push("incoming_event").await;
    let theirs = a.push("incoming_event").await;
    assert_eq!(mine["request_id"], rid.as_str());
    assert!(theirs.get("request_id").is_none());
    assert_eq!(mine["payload"], theirs["payload"]);

    // A Web API request: pushes without request id on every RTM connection (1.3).
    let reply = web(
        &server,
        "send_event",
        &a.token,
        json!({"payload": {"chat_id": chat, "event": {"type": "message", "text": "web"}}}),
    )
    .await;
    assert_eq!(reply.status, 200);
    for c in [&mut a, &mut b] {
        let p = c.push("incoming_event").await;
        assert_eq!(p["payload"]["event"]["text"], "web");
        assert!(p.get("request_id").is_none());
    }
    // Nothing else was queued for either.
    assert!(a.settle().await.is_empty());
    assert!(b.settle().await.is_empty());
}

#[tokio::test]
async fn a_customer_cannot_read_or_write_another_customers_chat() {
    let server = quiet_server().await;
    let mut owner = Client::customer(&server).await;
    let (chat, thread) = owner.start_chat("private").await;
    let event = format!("{thread}_1");
    owner.settle().await;
    let mut intruder = Client::customer(&server).await;
    for (action, payload) in [
        ("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})),
        ("get_chat_threads_summary", json!({"chat_id": chat})),
        ("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "boo"}})),
        (
            "send_rich_message_postback",
            json!({"chat_id": chat, "thread_id": thread, "event_id": event, "postback": {"id": "x", "toggled": true}}),
        ),
        ("send_sneak_peek", json!({"chat_id": chat, "sneak_peek_text": "boo"})),
        ("close_thread", json!({"chat_id": chat})),
        ("update_chat_scopes", json!({"chat_id": chat, "add_scopes": {"groups": [9]}})),
        ("update_chat_properties", json!({"chat_id": chat, "properties": {"a": {"b": 1}}})),
        ("update_chat_thread_properties", json!({"chat_id": chat, "thread_id": thread, "properties": {"a": {"b": 1}}})),
        ("update_last_seen_timestamp", json!({"chat_id": chat})),
    ] {
        let e = intruder.fails(action, payload.clone(), "authorization").await;
        assert!(e["message"].as_str().unwrap().contains(&chat), "{action}: {e}");
        // The same over the Web API: 403.
        let reply = web(&server, action, &intruder.token, json!({"payload": payload})).await;
        assert_eq!(reply.status, 403, "{action}");
        assert_eq!(reply.json()["payload"]["error"]["type"], "authorization");
    }
    let s = intruder.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["total_chats"], 0);
    // The owner saw nothing and the chat is untouched.
    assert!(owner.settle().await.is_empty());
    assert_eq!(server.chat_events(100, &chat).len(), 1);
    let t = owner.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(t["chat"]["threads"][0]["active"], true);
    assert_eq!(t["chat"]["scopes"], json!({}));
}

#[tokio::test]
async fn pushes_never_reach_other_customers_or_logged_out_connections() {
    let server = quiet_server().await;
    let mut a = Client::customer(&server).await;
    let mut other = Client::customer(&server).await;
    let mut anonymous = Client::connect(&server.ws_url(100)).await;
    a.start_chat("hi").await;
    assert!(other.settle().await.is_empty());
    // A logged-out connection can only get its own (failed) response.
    let id = anonymous.send_request("ping", json!({})).await;
    let r = anonymous.recv().await;
    assert_eq!((r["request_id"].as_str(), r["success"].as_bool()), (Some(id.as_str()), Some(false)));
}
