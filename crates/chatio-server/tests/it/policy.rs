//! The optional rules of the server's configuration: the chat cap (G4), declared properties
//! (G15) and the app token of the token endpoint (G11). Each is off by default, which the
//! other modules exercise.

use serde_json::json;

use crate::client::{Client, builder, http, web};

fn message(e: &serde_json::Value) -> String {
    e["message"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn a_customer_may_start_at_most_the_configured_number_of_chats() {
    let server = builder().agent(false).max_chats_per_customer(2).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    c.start_chat("one").await;
    c.start_chat("two").await;
    let e = c.fails("start_chat", json!({"chat": {}}), "validation").await;
    assert!(message(&e).contains("too many chats"), "{e}");
    // The Web API counts the same chats; another customer has its own count.
    let r = web(&server, "start_chat", &c.token, json!({"chat": {}})).await;
    assert_eq!((r.status, r.json()["payload"]["error"]["type"].as_str()), (400, Some("validation")));
    let mut other = Client::customer(&server).await;
    other.start_chat("mine").await;
    // Nothing was created by the refused calls.
    assert_eq!(server.chats_of(100, &c.customer).len(), 2);
}

#[tokio::test]
async fn declared_properties_limit_what_customers_write() {
    use chatio_server::PropertyAccess::{ReadOnly, ReadWrite};
    let server = builder()
        .agent(false)
        .declare_property("routing", "priority", ReadOnly)
        .declare_property("ui", "bold", ReadWrite)
        .start()
        .await
        .unwrap();
    let mut c = Client::customer(&server).await;

    // start_chat: chat, thread and event properties are all checked, before anything exists.
    for (chat, field) in [
        (json!({"properties": {"routing": {"priority": 1}}}), "chat.properties.routing.priority"),
        (json!({"thread": {"properties": {"other": {"x": 1}}}}), "chat.thread.properties.other.x"),
        (
            json!({"thread": {"events": [{"type": "message", "text": "hi", "properties": {"routing": {"priority": 2}}}]}}),
            "chat.thread.events[0].properties.routing.priority",
        ),
    ] {
        let e = c.fails("start_chat", json!({"chat": chat}), "authorization").await;
        assert!(message(&e).contains(field), "{e}");
    }
    assert!(server.chats_of(100, &c.customer).is_empty());

    // A read-write property goes through everywhere.
    let p = c
        .ok(
            "start_chat",
            json!({"chat": {"properties": {"ui": {"bold": true}}, "thread": {"properties": {"ui": {"bold": false}},
                "events": [{"type": "message", "text": "hi", "properties": {"ui": {"bold": true}}}]}}}),
        )
        .await;
    let chat = p["chat"]["id"].as_str().unwrap().to_owned();
    let thread = p["chat"]["thread"]["id"].as_str().unwrap().to_owned();
    c.ok("update_chat_properties", json!({"chat_id": chat, "properties": {"ui": {"bold": false}}})).await;
    c.ok(
        "update_chat_thread_properties",
        json!({"chat_id": chat, "thread_id": thread, "properties": {"ui": {"bold": true}}}),
    )
    .await;

    // Read-only and undeclared ones fail, and the message says which and why.
    let e = c
        .fails(
            "update_chat_properties",
            json!({"chat_id": chat, "properties": {"routing": {"priority": 3}}}),
            "authorization",
        )
        .await;
    assert!(message(&e).contains("properties.routing.priority") && message(&e).contains("read-only"), "{e}");
    let e = c
        .fails(
            "update_chat_thread_properties",
            json!({"chat_id": chat, "thread_id": thread, "properties": {"ui": {"bold": true}, "new": {"k": "v"}}}),
            "authorization",
        )
        .await;
    assert!(message(&e).contains("properties.new.k") && message(&e).contains("not a declared"), "{e}");
    let e = c
        .fails(
            "send_event",
            json!({"chat_id": chat, "event": {"type": "message", "text": "x", "properties": {"new": {"k": 1}}}}),
            "authorization",
        )
        .await;
    assert!(message(&e).contains("event.properties.new.k"), "{e}");

    // The refused writes changed nothing: the chat still has the last allowed value only.
    let summary = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(summary["chats_summary"][0]["properties"], json!({"ui": {"bold": {"value": false}}}));
    let events = server.chat_events(100, &chat);
    assert_eq!(events.len(), 1, "{events:?}");
}

/// An app token makes a request a server-side app's: only such a request may name the
/// customer of its token (G11).
#[tokio::test]
async fn an_app_token_lets_a_server_side_app_name_the_customer() {
    let server = builder().agent(false).app_token("app-secret").start().await.unwrap();
    let path = "/customer/?client_id=app&response_type=token&redirect_uri=http://localhost/&customer_id=mapped-7";
    let missing = http(&server, "POST", path, &[], "").await;
    assert_eq!((missing.status, missing.json()["error"].as_str()), (401, Some("unauthorized_client")));
    let wrong = http(&server, "POST", path, &[("authorization", "Bearer nope")], "").await;
    assert_eq!((wrong.status, wrong.json()["error"].as_str()), (401, Some("unauthorized_client")));
    let ok = http(&server, "POST", path, &[("authorization", "Bearer app-secret")], "").await;
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let ok = ok.json();
    assert_eq!(ok["entity_id"], "mapped-7");
    let token = ok["access_token"].as_str().unwrap().to_owned();
    // The customer token it gave works as usual.
    let c = Client::with_token(&server, &token).await;
    assert_eq!(c.customer, "mapped-7");
    // A request without the app token still gets a token, for a new customer.
    let anon =
        http(&server, "POST", "/customer/?client_id=app&response_type=token&redirect_uri=http://localhost/", &[], "")
            .await;
    assert_eq!(anon.status, 200);
    assert_ne!(anon.json()["entity_id"], "mapped-7");
    // The server's own description of itself never shows the app token.
    assert!(!format!("{:?}", server.config()).contains("app-secret"));
}
