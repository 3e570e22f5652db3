//! Bad input never takes the server down nor disturbs other connections (G7); idle timeout
//! (2.7, G9); connection limit (G10); unknown license (G12); other versions (G13).

use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use serde_json::json;

use crate::client::{Client, LICENSE, builder, http, quiet_server};

#[tokio::test]
async fn malformed_frames_get_a_validation_error_and_the_connection_stays() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let mut bystander = Client::customer(&server).await;
    for (frame, needle) in [
        ("{\"action\": \"ping\"", "malformed JSON"),
        ("not json at all", "malformed JSON"),
        ("[1,2,3]", "not a JSON object"),
        ("\"a string\"", "not a JSON object"),
        ("{\"request_id\":\"q1\",\"payload\":{}}", "action"),
        ("{\"request_id\":\"q2\",\"action\":7}", "action"),
    ] {
        c.send_text(frame).await;
        let r = c.recv().await;
        assert_eq!(r["type"], "response", "{frame}: {r}");
        assert_eq!(r["success"], false);
        assert_eq!(r["action"], "", "{frame}: the action could not be read");
        assert_eq!(r["payload"]["error"]["type"], "validation");
        assert!(r["payload"]["error"]["message"].as_str().unwrap().contains(needle), "{frame}: {r}");
    }
    // When they can be read, the request id and action are echoed.
    c.send_text(r#"{"request_id":"q3","action":"get_chats_summary","payload":{"limit":"ten"}}"#).await;
    let r = c.recv().await;
    assert_eq!((r["request_id"].as_str(), r["action"].as_str()), (Some("q3"), Some("get_chats_summary")));
    assert!(r["payload"]["error"]["message"].as_str().unwrap().contains("payload.limit"), "{r}");
    // Binary frames are not used.
    c.send_message(Message::Binary(vec![1, 2, 3].into())).await;
    let r = c.recv().await;
    assert_eq!((r["action"].as_str(), r["payload"]["error"]["type"].as_str()), (Some(""), Some("validation")));
    assert!(r["payload"]["error"]["message"].as_str().unwrap().contains("binary"));
    // Both connections still work.
    c.ok("get_chats_summary", json!({})).await;
    bystander.ok("get_chats_summary", json!({})).await;
}

#[tokio::test]
async fn an_oversize_frame_closes_only_its_connection_with_1009() {
    let server = quiet_server().await;
    let mut big = Client::customer(&server).await;
    let mut bystander = Client::customer(&server).await;
    let (chat, _) = bystander.start_chat("still here").await;
    // Exactly 1 MiB is accepted (and answered: it is not a valid frame).
    let at_limit = format!("{{\"action\":\"ping\",\"pad\":\"{}\"}}", "x".repeat((1 << 20) - 26));
    assert_eq!(at_limit.len(), 1 << 20);
    big.send_text(&at_limit).await;
    let r = big.recv().await;
    assert_eq!(r["action"], "ping", "{r}");
    // One byte more closes with 1009.
    let over = format!("{{\"action\":\"ping\",\"pad\":\"{}\"}}", "x".repeat((1 << 20) - 25));
    big.send_text(&over).await;
    let end = big.end().await;
    assert_eq!(end.code(), Some(1009), "{end:?}");
    bystander.say(&chat, "and still fine").await;
    drop(big);
    for _ in 0..1000 {
        if server.connection_count() == 1 {
            break;
        }
        bystander.ok("ping", json!({})).await;
    }
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn a_silent_connection_is_closed_with_4001() {
    let server = builder().agent(false).idle_timeout(Duration::from_secs(1)).start().await.unwrap();
    let mut logged_in = Client::customer(&server).await;
    let mut anonymous = Client::connect(&server.ws_url(LICENSE)).await;
    for c in [&mut logged_in, &mut anonymous] {
        let end = c.end().await;
        assert_eq!((end.code(), end.reason().as_str()), (Some(4001), "ping_timeout"), "{end:?}");
        assert!(c.backlog.is_empty(), "no customer_disconnected before an idle close (G9)");
    }
    // Both are forgotten (the server notices asynchronously; a busy probe waits for it).
    let mut probe = Client::customer(&server).await;
    for _ in 0..1000 {
        if server.connection_count() == 1 {
            break;
        }
        probe.ok("ping", json!({})).await;
    }
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn any_inbound_frame_keeps_a_connection_alive() {
    // The idle limit is 1.5 s; a frame every 150 ms (ping actions and control pings, in
    // turn) for 3 s keeps the connection open.
    let server = builder().agent(false).idle_timeout(Duration::from_millis(1500)).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let mut ticker = tokio::time::interval(Duration::from_millis(150));
    for i in 0..20 {
        ticker.tick().await;
        if i % 2 == 0 {
            c.ok("ping", json!({})).await;
        } else {
            c.send_message(Message::Ping(Vec::new().into())).await;
            assert!(matches!(c.next_message().await, Message::Pong(_)));
        }
    }
    c.ok("get_chats_summary", json!({})).await;
}

#[tokio::test]
async fn too_many_connections_for_one_customer() {
    let server = builder().agent(false).max_connections_per_customer(2).start().await.unwrap();
    let mut first = Client::customer(&server).await;
    let mut second = first.again(&server).await;
    let mut third = Client::connect(&server.ws_url(LICENSE)).await;
    third.send(&json!({"request_id": "l", "action": "login", "payload": {"token": first.token}})).await;
    let end = third.end().await;
    assert_eq!((end.code(), end.reason().as_str()), (Some(4000), "too_many_connections"), "{end:?}");
    let push = third.backlog.pop_front().expect("customer_disconnected before the close");
    assert_eq!(
        push,
        json!({"action": "customer_disconnected", "type": "push", "payload": {"reason": "too_many_connections"}})
    );
    first.ok("ping", json!({})).await;
    second.ok("ping", json!({})).await;
    assert_eq!(server.customer_connections(LICENSE, &first.customer), 2);
    // Once one leaves, a new connection fits (the server notices the close asynchronously).
    second.close().await;
    for _ in 0..1000 {
        if server.customer_connections(LICENSE, &first.customer) == 1 {
            break;
        }
        first.ok("ping", json!({})).await;
    }
    let again = first.again(&server).await;
    assert_eq!(again.customer, first.customer);
}

#[tokio::test]
async fn unknown_license_and_other_versions_are_refused_after_the_upgrade() {
    let server = quiet_server().await;
    let url = server.ws_url(LICENSE);
    for (url, reason) in [
        (url.replace("license_id=100", "license_id=999"), "license_not_found"),
        (url.replace("/v0.5/", "/v0.4/"), "unsupported_version"),
        (url.replace("/v0.5/", "/v3.3/"), "unsupported_version"),
    ] {
        let mut c = Client::connect(&url).await;
        let end = c.end().await;
        assert_eq!((end.code(), end.reason().as_str()), (Some(4000), reason), "{url}: {end:?}");
        assert_eq!(
            c.backlog.pop_front(),
            Some(json!({"action": "customer_disconnected", "type": "push", "payload": {"reason": reason}}))
        );
    }
    // The unversioned path acts as v0.5 (G13).
    let mut c = Client::connect(&url.replace("/v0.5/", "/")).await;
    let (token, _) = server.create_token(LICENSE, None).unwrap();
    c.ok("login", json!({"token": token})).await;
}

#[tokio::test]
async fn plain_http_errors_on_the_websocket_paths() {
    let server = quiet_server().await;
    for (path, status) in [
        ("/customer/v0.5/rtm/ws", 400),
        ("/customer/v0.5/rtm/ws?license_id=abc", 400),
        ("/customer/v0.5/rtm/ws?license_id=100", 400),
        // socket.io: not an Engine.IO request (no EIO, no transport); other versions are not served.
        ("/customer/v0.5/rtm/sio?license_id=100", 400),
        ("/customer/v0.4/rtm/sio?license_id=100", 404),
        ("/customer/rtm/sio?license_id=100", 404),
        ("/nothing/here", 404),
    ] {
        assert_eq!(http(&server, "GET", path, &[], "").await.status, status, "{path}");
    }
    let index = http(&server, "GET", "/", &[], "").await;
    assert_eq!(index.status, 200);
}

#[tokio::test]
async fn an_abrupt_client_disconnect_is_cleaned_up() {
    let server = quiet_server().await;
    let c = Client::customer(&server).await;
    let customer = c.customer.clone();
    drop(c);
    let mut probe = Client::customer(&server).await;
    for _ in 0..1000 {
        if server.customer_connections(LICENSE, &customer) == 0 {
            break;
        }
        probe.ok("ping", json!({})).await;
    }
    assert_eq!(server.customer_connections(LICENSE, &customer), 0);
    assert_eq!(server.connection_count(), 1);
}
