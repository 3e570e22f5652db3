//! `login` (4.1, G6, G12), requests before login, `ping` (2.7).

use async_tungstenite::tungstenite::Message;
use serde_json::json;

use crate::client::{Client, LICENSE, builder, http, quiet_server, server};

#[tokio::test]
async fn login_with_a_bearer_or_a_bare_token_returns_the_customer_and_config_path() {
    let server = quiet_server().await;
    let (token, customer) = server.create_token(LICENSE, None).unwrap();
    for form in [format!("Bearer {token}"), token.clone(), format!("bearer  {token}")] {
        let mut c = Client::connect(&server.ws_url(LICENSE)).await;
        let p = c.ok("login", json!({"token": form})).await;
        assert_eq!(p["customer_id"], customer.as_str());
        let path = p["static_config_path"].as_str().unwrap().to_owned();
        assert_eq!(path, format!("{}/licence/{LICENSE}/config.json", server.http_url()));
        let served = http(&server, "GET", path.trim_start_matches(&server.http_url()), &[], "").await;
        assert_eq!((served.status, served.json()), (200, json!({})));
    }
    // Customer ids are lower-case UUID v4 (G1).
    let id = customer.as_str();
    assert_eq!(id.len(), 36);
    assert_eq!(id.chars().nth(14), Some('4'));
    assert!(id.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)));
}

#[tokio::test]
async fn bad_tokens_fail_with_authentication_and_the_connection_stays_open() {
    let server = builder().agent(false).licenses([100, 200]).start().await.unwrap();
    let mut c = Client::connect(&server.ws_url(LICENSE)).await;
    let e = c.fails("login", json!({"token": "Bearer nope"}), "authentication").await;
    assert!(e["message"].as_str().unwrap().contains("invalid"), "{e}");
    // A token of another license.
    let (other, _) = server.create_token(200, None).unwrap();
    let e = c.fails("login", json!({"token": format!("Bearer {other}")}), "authentication").await;
    assert!(e["message"].as_str().unwrap().contains("another license"), "{e}");
    // A missing token names the field.
    let e = c.fails("login", json!({}), "validation").await;
    assert!(e["message"].as_str().unwrap().contains("token"), "{e}");
    // Still open: a good token works on the same connection.
    let (token, customer) = server.create_token(LICENSE, None).unwrap();
    let p = c.ok("login", json!({"token": format!("Bearer {token}")})).await;
    assert_eq!(p["customer_id"], customer.as_str());
}

#[tokio::test]
async fn an_expired_license_refuses_login() {
    let server = builder().agent(false).expired_license(300).start().await.unwrap();
    let (token, _) = server.create_token(300, None).unwrap();
    let mut c = Client::connect(&server.ws_url(300)).await;
    c.fails("login", json!({"token": format!("Bearer {token}")}), "license_expired").await;
}

#[tokio::test]
async fn every_action_needs_login_first() {
    let server = quiet_server().await;
    let mut c = Client::connect(&server.ws_url(LICENSE)).await;
    for (action, payload) in [
        ("get_chats_summary", json!({})),
        ("start_chat", json!({})),
        ("send_event", json!({"chat_id": "X", "event": {"type": "message", "text": "hi"}})),
        ("get_chat_threads", json!({"chat_id": "X", "thread_ids": []})),
        ("update_customer", json!({"customer": {"name": "A"}})),
        ("ping", json!({})),
    ] {
        let e = c.fails(action, payload, "authentication").await;
        assert!(e["message"].as_str().unwrap().contains("login required"), "{e}");
    }
    // An unknown action is a validation error, logged in or not (G7).
    let e = c.fails("fly_to_the_moon", json!({}), "validation").await;
    assert!(e["message"].as_str().unwrap().contains("unknown action `fly_to_the_moon`"), "{e}");
    assert_eq!(server.connection_count(), 1);
}

#[tokio::test]
async fn a_second_login_of_the_same_customer_succeeds_another_customer_is_refused() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    // The same customer with a fresh token (G6).
    let (fresh, _) = server.create_token(LICENSE, Some(&c.customer)).unwrap();
    let p = c.ok("login", json!({"token": format!("Bearer {fresh}")})).await;
    assert_eq!(p["customer_id"], c.customer.as_str());
    assert_eq!(server.customer_connections(LICENSE, &c.customer), 1);
    // Another customer on this connection.
    let (other, _) = server.create_token(LICENSE, None).unwrap();
    c.fails("login", json!({"token": format!("Bearer {other}")}), "authorization").await;
    let p = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(p["total_chats"], 0);
}

#[tokio::test]
async fn login_stores_customer_data_and_announces_changes_to_active_chats() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    let rid = c
        .send_request(
            "login",
            json!({"token": format!("Bearer {}", c.token), "customer": {"name": "Ann", "email": "ann@example.com",
                "fields": {"plan": "gold"}, "monitoring": {"page": {"url": "https://shop.example/", "title": "Shop"}}}}),
        )
        .await;
    let r = c.response_to(&rid).await;
    assert_eq!(r["success"], true, "{r}");
    let push = c.push("customer_updated").await;
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(push["payload"]["chat_id"], chat.as_str());
    let customer = &push["payload"]["customer"];
    assert_eq!(customer["name"], "Ann");
    assert_eq!(customer["email"], "ann@example.com");
    assert_eq!(customer["fields"], json!({"plan": "gold"}));
    assert!(customer.get("monitoring").is_none(), "monitoring is for agents only (G26): {customer}");
    // The same data again changes nothing: no push.
    let rid =
        c.send_request("login", json!({"token": format!("Bearer {}", c.token), "customer": {"name": "Ann"}})).await;
    c.response_to(&rid).await;
    assert!(c.settle().await.is_empty());
}

#[tokio::test]
async fn ping_action_and_control_pings_are_answered() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    // Without request id: the response has none either (2.7).
    c.send_text(r#"{"action":"ping"}"#).await;
    assert_eq!(c.recv_raw().await, r#"{"action":"ping","type":"response","success":true,"payload":{}}"#);
    c.send_text(r#"{"request_id":"p1","action":"ping","payload":{}}"#).await;
    assert_eq!(
        c.recv_raw().await,
        r#"{"request_id":"p1","action":"ping","type":"response","success":true,"payload":{}}"#
    );
    // A control ping gets a pong with the same data.
    c.send_message(Message::Ping(b"are you there".to_vec().into())).await;
    match c.next_message().await {
        Message::Pong(data) => assert_eq!(&data[..], b"are you there"),
        other => panic!("expected a pong, got {other:?}"),
    }
}

#[tokio::test]
async fn legacy_id_key_and_numeric_ids_are_echoed() {
    let server = server().await;
    let mut c = Client::customer(&server).await;
    c.send_text(r#"{"id":"legacy-1","action":"ping"}"#).await;
    assert!(c.recv_raw().await.starts_with(r#"{"request_id":"legacy-1","action":"ping""#));
    c.send_text(r#"{"request_id":42,"action":"ping"}"#).await;
    assert!(c.recv_raw().await.starts_with(r#"{"request_id":42,"action":"ping""#));
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime() {
    let server = builder().agent(false).token_lifetime(std::time::Duration::ZERO).start().await.unwrap();
    let (token, _) = server.create_token(LICENSE, None).unwrap();
    let mut c = Client::connect(&server.ws_url(LICENSE)).await;
    let e = c.fails("login", json!({"token": token}), "authentication").await;
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");
}
