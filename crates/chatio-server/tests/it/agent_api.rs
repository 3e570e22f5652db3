//! The Agent API v0.5 over real sockets (protocol file `agent-api-v0.5.md`): an agent
//! connection speaking raw JSON frames beside a customer connection, both directions.

use serde_json::{Value, json};

use crate::client::{Client, LICENSE, WAIT, builder, http};
use chatio_server::ServerHandle;

const JANE: &str = "jane@example.com";
const JANE_TOKEN: &str = "jane-fixed-token-0123456789";
const JOHN: &str = "john@example.com";
const JOHN_TOKEN: &str = "john-fixed-token-0123456789";

/// A server with two agents on license 100 and one on license 200, no scripted bot.
async fn server() -> ServerHandle {
    builder()
        .licenses([LICENSE, 200])
        .agent(false)
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .agent_token(LICENSE, JOHN, JOHN_TOKEN)
        .agent_token(200, "other@example.com", "other-fixed-token-0123456789")
        .start()
        .await
        .expect("server starts")
}

/// Connects to the agent endpoint and logs in; returns the client and the login payload.
async fn agent(server: &ServerHandle, token: &str) -> (Client, Value) {
    let mut a = Client::connect(&server.agent_ws_url()).await;
    let p = a.ok("login", json!({"token": format!("Bearer {token}"), "application": {"name": "test"}})).await;
    a.token = token.to_owned();
    (a, p)
}

/// A Web API call of the Agent API.
async fn agent_web(server: &ServerHandle, action: &str, token: &str, body: Value) -> crate::client::HttpReply {
    let auth = format!("Bearer {token}");
    http(
        server,
        "POST",
        &format!("/agent/v0.5/action/{action}"),
        &[("authorization", &auth), ("content-type", "application/json")],
        body.to_string(),
    )
    .await
}

#[tokio::test]
async fn login_gives_the_license_the_profile_and_the_chats() {
    let server = server().await;
    let (_a, p) = agent(&server, JANE_TOKEN).await;
    assert_eq!(p["license"]["id"], "100", "A5: a string");
    assert_eq!(p["license"]["in_trial"], false);
    let me = &p["my_profile"];
    assert_eq!(me["id"], JANE);
    assert_eq!(me["type"], "agent");
    assert_eq!(me["email"], JANE);
    assert_eq!(me["routing_status"], "accepting_chats", "H21");
    assert_eq!(me["permission"], "normal");
    assert_eq!(p["chats_summary"], json!([]));
    // The token is accepted without the `Bearer ` prefix too (A3).
    let mut b = Client::connect(&server.agent_ws_url()).await;
    b.ok("login", json!({"token": JOHN_TOKEN})).await;
}

#[tokio::test]
async fn bad_input_gets_typed_errors_and_the_connection_stays() {
    let server = server().await;
    let mut a = Client::connect(&server.agent_ws_url()).await;
    a.fails("get_filtered_chats", json!({}), "authentication").await;
    a.fails("login", json!({"token": "Bearer not-a-token-of-this-server"}), "authentication").await;
    a.send_text("{not json").await;
    let r = a.recv().await;
    assert_eq!(r["success"], false);
    assert_eq!(r["payload"]["error"]["type"], "validation");
    a.ok("login", json!({"token": format!("Bearer {JANE_TOKEN}")})).await;
    a.fails("send_broadcast", json!({}), "validation").await;
    a.fails("upload_image", json!({}), "validation").await;
    a.fails("login", json!({"token": format!("Bearer {JOHN_TOKEN}")}), "authorization").await;
    // Still usable, and `null` payloads are `{}` (the Go example sends them).
    a.send(&json!({"request_id": "n1", "action": "start_chat", "payload": null})).await;
    let r = a.response_to("n1").await;
    assert_eq!(r["success"], true, "{r}");
}

#[tokio::test]
async fn a_customer_token_is_refused_on_the_agent_side_and_the_reverse() {
    let server = server().await;
    let (customer_token, _) = server.create_token(LICENSE, None).expect("token");
    let mut a = Client::connect(&server.agent_ws_url()).await;
    a.fails("login", json!({"token": format!("Bearer {customer_token}")}), "authentication").await;
    let r = agent_web(&server, "start_chat", &customer_token, json!({})).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["payload"]["error"]["type"], "authentication");

    let mut c = Client::connect(&server.ws_url(LICENSE)).await;
    c.fails("login", json!({"token": format!("Bearer {JANE_TOKEN}")}), "authentication").await;
    let r = crate::client::web(&server, "get_chats_summary", JANE_TOKEN, json!({})).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn a_customer_chat_is_routed_and_both_sides_talk() {
    let server = server().await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("hello").await;

    // Jane hears the new chat, then is assigned it (H30).
    let t = jane.push("incoming_chat_thread").await;
    assert_eq!(t["payload"]["chat"]["id"], chat.as_str());
    assert_eq!(t["payload"]["chat"]["thread"]["events"][0]["recipients"], "all");
    let u = jane.push("chat_users_updated").await;
    assert_eq!(u["payload"]["updated_users"]["agents"]["added"][0]["id"], JANE);
    let assigned = jane.event(|e| e["system_message_type"] == "routing.assigned").await;
    assert_eq!(assigned["payload"]["thread_id"], thread.as_str());

    // The customer sees the same, in the customer shapes.
    let u = c.push("chat_users_updated").await;
    assert_eq!(u["payload"]["updated_users"]["added"][0]["id"], JANE);
    assert!(u["payload"]["updated_users"]["added"][0].get("email").is_none(), "customers see no e-mail");
    c.event(|e| e["system_message_type"] == "routing.assigned").await;

    // Agent → customer.
    let sent =
        jane.ok("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "Hi, Jane here"}})).await;
    assert_eq!(sent["thread_id"], thread.as_str());
    assert_eq!(sent["event"]["author_id"], JANE);
    let got = c.says("Hi, Jane here").await;
    assert!(got["payload"]["event"].get("recipients").is_none(), "customers never see `recipients`");

    // Customer → agent.
    c.say(&chat, "thanks").await;
    let e = jane.event(|e| e["text"] == "thanks").await;
    assert_eq!(e["payload"]["event"]["recipients"], "all");

    // A whisper reaches agents only (H14).
    jane.ok(
        "send_event",
        json!({"chat_id": chat, "event": {"type": "message", "text": "psst", "recipients": "agents"}}),
    )
    .await;
    let unread = c.settle().await;
    assert!(!unread.iter().any(|f| f["payload"]["event"]["text"] == "psst"), "{unread:?}");

    // Typing both ways: the customer gets the CREF shape.
    jane.ok("send_typing_indicator", json!({"chat_id": chat, "is_typing": true})).await;
    let typing = c.push("incoming_typing_indicator").await;
    assert_eq!(typing["payload"]["typing_indicator"]["author_id"], JANE);
    assert_eq!(typing["payload"]["typing_indicator"]["is_typing"], true);

    // The customer's draft reaches the agent as a sneak peek.
    c.ok("send_sneak_peek", json!({"chat_id": chat, "sneak_peek_text": "what is the pri"})).await;
    let peek = jane.push("incoming_sneak_peek").await;
    assert_eq!(peek["payload"]["sneak_peek"]["text"], "what is the pri");

    // Closing: `thread_closed` with the agent's id (H18 as amended: no system message,
    // as when a customer closes).
    jane.ok("close_thread", json!({"chat_id": chat})).await;
    let closed = c.push("thread_closed").await;
    assert_eq!(closed["payload"]["user_id"], JANE);
}

#[tokio::test]
async fn with_every_agent_busy_the_chat_waits_and_an_agent_takes_it() {
    let server = builder()
        .agent(false)
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .agent_max_chats(LICENSE, JANE, 1)
        .agent_token(LICENSE, JOHN, JOHN_TOKEN)
        .start()
        .await
        .expect("server starts");
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let (mut john, _) = agent(&server, JOHN_TOKEN).await;
    john.ok("update_agent", json!({"routing_status": "not_accepting_chats"})).await;
    jane.push("agent_updated").await;

    let mut c1 = Client::customer(&server).await;
    let (chat1, _) = c1.start_chat("first").await;
    jane.event(|e| e["system_message_type"] == "routing.assigned").await;
    let mut c2 = Client::customer(&server).await;
    let (chat2, _) = c2.start_chat("second").await;
    // Jane is at her limit and John is not accepting: the chat waits, unassigned.
    let un = c2.event(|e| e["system_message_type"] == "routing.unassigned").await;
    assert_eq!(un["payload"]["chat_id"], chat2.as_str());
    let waiting = john.ok("get_filtered_chats", json!({})).await;
    let summary =
        waiting["chats_summary"].as_array().expect("array").iter().find(|s| s["id"] == chat2.as_str()).cloned();
    let summary = summary.expect("John sees the waiting chat");
    assert_eq!(summary["properties"]["routing"]["unassigned"]["value"], true, "H31");
    // John takes it by hand.
    john.ok("join_chat", json!({"chat_id": chat2, "agent_ids": [JOHN]})).await;
    c2.event(|e| e["system_message_type"] == "agent_joined").await;
    // The queue's property follows (H48): the chat waits no more.
    let unassigned = |v: &Value| {
        (v["action"] == "chat_properties_updated" && v["payload"]["chat_id"] == chat2.as_str())
            .then(|| v["payload"]["properties"]["routing"]["unassigned"]["value"].clone())
    };
    john.frame(|v| unassigned(v) == Some(json!(true))).await;
    john.frame(|v| unassigned(v) == Some(json!(false))).await;
    // Jane is over her limit, so a chat cannot be pushed on her with routing; but she can
    // still see chat 1 and not write into chat 2, where she is no member (H12).
    jane.fails("send_event", json!({"chat_id": chat2, "event": {"type": "message", "text": "x"}}), "authorization")
        .await;
    jane.ok("send_event", json!({"chat_id": chat1, "event": {"type": "message", "text": "ok"}})).await;
}

#[tokio::test]
async fn no_agent_reaches_a_chat_of_another_license_and_no_customer_an_agent_action() {
    let server = server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hello").await;
    let (mut other, _) = agent(&server, "other-fixed-token-0123456789").await;
    other.fails("get_chat_threads", json!({"chat_id": chat}), "authorization").await;
    other.fails("join_chat", json!({"chat_id": chat, "agent_ids": ["other@example.com"]}), "authorization").await;
    other
        .fails("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "x"}}), "authorization")
        .await;
    let listed = other.ok("get_filtered_chats", json!({})).await;
    assert_eq!(listed["chats_summary"], json!([]));
    // The customer side has no agent actions.
    c.fails("join_chat", json!({"chat_id": chat, "agent_ids": [JANE]}), "validation").await;
    c.fails("ban_customer", json!({"customer_id": c.customer, "ban": {"days": 1}}), "validation").await;
}

#[tokio::test]
async fn the_web_api_acts_and_rtm_connections_hear_it() {
    let server = server().await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let r = agent_web(&server, "start_chat", JANE_TOKEN, json!({"payload": {}})).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let chat = r.json()["payload"]["chat"]["id"].as_str().expect("chat id").to_owned();
    let pushed = jane.push("incoming_chat_thread").await;
    assert!(pushed.get("request_id").is_none(), "pushes of Web API calls carry no request id");
    assert_eq!(pushed["payload"]["chat"]["id"], chat.as_str());
    let r = agent_web(
        &server,
        "send_event",
        JANE_TOKEN,
        json!({"chat_id": chat, "event": {"type": "message", "text": "note"}}),
    )
    .await;
    assert_eq!(r.status, 200);
    jane.event(|e| e["text"] == "note").await;
    let r = agent_web(&server, "nope", JANE_TOKEN, json!({})).await;
    assert_eq!(r.status, 404);
    let r = agent_web(&server, "login", JANE_TOKEN, json!({})).await;
    assert_ne!(r.status, 200, "login is RTM only");
}

#[tokio::test]
async fn another_version_is_unsupported() {
    let server = server().await;
    let url = server.agent_ws_url().replace("v0.5", "v0.4");
    let mut a = Client::connect(&url).await;
    let p = a.push("agent_disconnected").await;
    assert_eq!(p["payload"]["reason"], "unsupported_version");
    let end = tokio::time::timeout(WAIT, a.end()).await.expect("closed in time");
    assert_eq!(end.code(), Some(4000));
}

#[tokio::test]
async fn a_gone_agent_is_offline_after_the_grace_period_and_its_chats_go_to_another() {
    let server = builder()
        .agent(false)
        .agent_grace(std::time::Duration::from_millis(300))
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .agent_token(LICENSE, JOHN, JOHN_TOKEN)
        .start()
        .await
        .expect("server starts");
    let (mut john, _) = agent(&server, JOHN_TOKEN).await;
    john.ok("update_agent", json!({"routing_status": "not_accepting_chats"})).await;
    let (jane, _) = agent(&server, JANE_TOKEN).await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hello").await;
    let assigned = c.event(|e| e["system_message_type"] == "routing.assigned").await;
    assert_eq!(assigned["payload"]["event"]["text"], "Chat assigned to jane");
    jane.close().await;
    // John takes chats again; Jane's grace period runs out: she is offline, out of the
    // chat, and the chat goes to John.
    john.ok("update_agent", json!({"routing_status": "accepting_chats"})).await;
    john.frame(|f| {
        f["action"] == "agent_updated"
            && f["payload"]["agent_id"] == JANE
            && f["payload"]["routing_status"] == "offline"
    })
    .await;
    let removed = c
        .frame(|f| f["action"] == "chat_users_updated" && f["payload"]["updated_users"]["removed_ids"][0] == JANE)
        .await;
    assert_eq!(removed["payload"]["chat_id"], chat.as_str());
    let again = c.event(|e| e["system_message_type"] == "routing.assigned").await;
    assert_eq!(again["payload"]["event"]["text"], "Chat assigned to john");
}
