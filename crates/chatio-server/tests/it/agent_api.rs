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
pub(crate) async fn agent(server: &ServerHandle, token: &str) -> (Client, Value) {
    let mut a = Client::connect(&server.agent_ws_url()).await;
    let p = a.ok("login", json!({"token": format!("Bearer {token}"), "application": {"name": "test"}})).await;
    a.token = token.to_owned();
    (a, p)
}

/// A Web API call of the Agent API (an HTTP request over a real socket).
pub(crate) async fn agent_web(
    server: &ServerHandle,
    action: &str,
    token: &str,
    body: Value,
) -> crate::client::HttpReply {
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

/// A customer whose chat is assigned to Jane; returns (customer, chat, thread), with Jane's
/// pushes of the routing read.
async fn assigned_chat(server: &ServerHandle, jane: &mut Client, text: &str) -> (Client, String, String) {
    let mut c = Client::customer(server).await;
    let (chat, thread) = c.start_chat(text).await;
    jane.event(|e| e["system_message_type"] == "routing.assigned").await;
    c.event(|e| e["system_message_type"] == "routing.assigned").await;
    (c, chat, thread)
}

#[tokio::test]
async fn get_archives_searches_every_thread_the_agent_sees_newest_first_in_pages() {
    let server = server().await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let (mut c1, chat1, thread1) = assigned_chat(&server, &mut jane, "Where is my parcel?").await;
    jane.ok("close_thread", json!({"chat_id": chat1})).await;
    c1.push("thread_closed").await;
    let (_c2, chat2, thread2) = assigned_chat(&server, &mut jane, "Do you sell umbrellas?").await;

    let all = jane.ok("get_archives", json!({})).await;
    assert_eq!(all["pagination"], json!({"page": 1, "total": 2}), "{all}");
    let items = all["chats"].as_array().expect("array");
    // Closed and active threads alike, one item per thread, newest first.
    assert_eq!(items[0]["chat"]["id"], chat2.as_str());
    assert_eq!(items[0]["chat"]["thread"]["id"], thread2.as_str());
    assert_eq!(items[1]["chat"]["thread"]["id"], thread1.as_str());
    assert_eq!(items[1]["chat"]["thread"]["active"], false);
    assert_eq!(items[1]["chat"]["users"][0]["type"], "customer");

    // The query looks into event texts, case-insensitively.
    let parcel = jane.ok("get_archives", json!({"filters": {"query": "PARCEL"}})).await;
    assert_eq!(parcel["pagination"]["total"], 1);
    assert_eq!(parcel["chats"][0]["chat"]["id"], chat1.as_str());
    // Pages of one: the second is the older thread.
    let second = jane.ok("get_archives", json!({"pagination": {"page": 2, "limit": 1}})).await;
    assert_eq!(second["chats"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["chats"][0]["chat"]["id"], chat1.as_str());
    // Agent and date filters (today is inside, 1999 is not).
    let by_john = jane.ok("get_archives", json!({"filters": {"agent_ids": [JOHN]}})).await;
    assert_eq!(by_john["pagination"]["total"], 0);
    let old = jane.ok("get_archives", json!({"filters": {"date_to": "1999-12-31"}})).await;
    assert_eq!(old["pagination"]["total"], 0);
    jane.fails("get_archives", json!({"pagination": {"limit": 101}}), "validation").await;
    jane.fails("get_archives", json!({"pagination": {"page": 0}}), "validation").await;
    jane.fails("get_archives", json!({"filters": {"date_from": "2020-13-01"}}), "validation").await;
    // Another license's agent finds nothing.
    let (mut other, _) = agent(&server, "other-fixed-token-0123456789").await;
    let none = other.ok("get_archives", json!({})).await;
    assert_eq!(none["pagination"]["total"], 0);
}

#[tokio::test]
async fn multicast_reaches_exactly_its_targets_agents_and_customers() {
    let server = server().await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let (mut john, _) = agent(&server, JOHN_TOKEN).await;
    let mut c = Client::customer(&server).await;
    let mut bystander = Client::customer(&server).await;
    let content = json!({"note": "maintenance at noon"});
    let scopes = json!({"agents": {"ids": [JOHN]}, "customers": {"ids": [c.customer, "nobody-of-this-license"]}});
    jane.ok("multicast", json!({"scopes": scopes, "content": content})).await;
    let to_john = john.push("incoming_multicast").await;
    assert_eq!(to_john["payload"], json!({"author_id": JANE, "content": content}));
    let to_c = c.push("incoming_multicast").await;
    assert_eq!(to_c["payload"]["author_id"], JANE);
    assert_eq!(to_c["payload"]["content"], content);
    // The requester is not targeted, nor is anyone else.
    assert!(!jane.settle().await.iter().any(|f| f["action"] == "incoming_multicast"));
    assert!(!bystander.settle().await.iter().any(|f| f["action"] == "incoming_multicast"));
    // Every agent of the license, by `all` and by group 0.
    jane.ok("multicast", json!({"scopes": {"agents": {"groups": [0]}}, "content": {}})).await;
    jane.push("incoming_multicast").await;
    john.push("incoming_multicast").await;
    jane.fails("multicast", json!({"scopes": {}, "content": {}}), "validation").await;
    jane.fails("multicast", json!({"scopes": {"agents": {"all": true}}, "content": "text"}), "validation").await;
}

#[tokio::test]
async fn ban_customer_closes_their_chats_tells_the_agents_and_cuts_the_customer_off() {
    let server = server().await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let (mut john, _) = agent(&server, JOHN_TOKEN).await;
    let (mut c, chat, thread) = assigned_chat(&server, &mut jane, "spam spam").await;
    let customer = c.customer.clone();
    let token = c.token.clone();
    jane.fails("ban_customer", json!({"customer_id": customer, "ban": {"days": 0}}), "validation").await;
    jane.fails("ban_customer", json!({"customer_id": "nobody", "ban": {"days": 1}}), "validation").await;
    jane.ok("ban_customer", json!({"customer_id": customer, "ban": {"days": 5}})).await;

    // The customer: the system message, the thread closed by nobody, then the disconnection.
    let msg = c.event(|e| e["system_message_type"] == "customer_banned").await;
    assert_eq!(msg["payload"]["event"]["text"], "Chat archived because customer was banned by jane for 5 days");
    let closed = c.push("thread_closed").await;
    assert_eq!(closed["payload"]["thread_id"], thread.as_str());
    assert!(closed["payload"].get("user_id").is_none(), "{closed}");
    let gone = c.push("customer_disconnected").await;
    assert_eq!(gone["payload"]["reason"], "customer_banned");
    let end = tokio::time::timeout(WAIT, c.end()).await.expect("closed in time");
    assert_eq!(end.code(), Some(4000));
    // Every agent of the license hears the ban.
    let banned = john.push("customer_banned").await;
    assert_eq!(banned["payload"], json!({"customer_id": customer, "ban": {"days": 5}}));
    let t = jane.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(t["chat"]["threads"][0]["active"], false);
    assert_eq!(t["chat"]["users"][0]["banned"], true);
    // The customer's token is refused while the ban lasts.
    let r = crate::client::web(&server, "get_chats_summary", &token, json!({})).await;
    assert_eq!(r.json()["payload"]["error"]["type"], "customer_banned", "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test]
async fn an_agent_toggles_a_rich_message_button_and_both_sides_hear_it() {
    let server = server().await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let (mut c, chat, thread) = assigned_chat(&server, &mut jane, "options?").await;
    let rich = json!({"type": "rich_message", "template_id": "cards", "elements": [
        {"title": "Pick", "buttons": [{"text": "Yes", "postback_id": "yes", "user_ids": []}]}
    ]});
    let sent = jane.ok("send_event", json!({"chat_id": chat, "event": rich})).await;
    let event_id = sent["event"]["id"].as_str().expect("event id").to_owned();
    let postback =
        json!({"chat_id": chat, "thread_id": thread, "event_id": event_id, "postback": {"id": "yes", "toggled": true}});
    jane.ok("send_rich_message_postback", postback.clone()).await;
    let heard = c.push("incoming_rich_message_postback").await;
    assert_eq!(heard["payload"]["user_id"], JANE);
    assert_eq!(heard["payload"]["postback"], json!({"id": "yes", "toggled": true}));
    let own = jane.push("incoming_rich_message_postback").await;
    assert_eq!(own["payload"]["event_id"], event_id.as_str());
    // The button remembers who toggled it.
    let t = jane.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    let ev = t["chat"]["threads"][0]["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["id"] == event_id.as_str())
        .cloned();
    assert_eq!(ev.expect("the rich message")["elements"][0]["buttons"][0]["user_ids"], json!([JANE]));
    let mut bad = postback.clone();
    bad["postback"]["id"] = json!("nope");
    jane.fails("send_rich_message_postback", bad, "validation").await;
    // Another license's agent does not even see the chat (H38).
    let (mut other, _) = agent(&server, "other-fixed-token-0123456789").await;
    other.fails("send_rich_message_postback", postback, "authorization").await;
}

/// A multipart body with the image part of `upload_image`.
pub(crate) fn image_form(bytes: &[u8], content_type: &str) -> (String, Vec<u8>) {
    let boundary = "agent-upload-boundary-42";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"payload.image\"; filename=\"a.png\"\r\nContent-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn upload(server: &ServerHandle, token: &str, form: (String, Vec<u8>)) -> crate::client::HttpReply {
    let auth = format!("Bearer {token}");
    http(
        server,
        "POST",
        "/agent/v0.5/action/upload_image",
        &[("authorization", &auth), ("content-type", &form.0)],
        form.1,
    )
    .await
}

#[tokio::test]
async fn upload_image_stores_an_image_and_refuses_other_files_and_oversize_ones() {
    let server = server().await;
    let png = b"\x89PNG\r\n\x1a\n0000IHDR-not-really-but-sniffed-as-png";
    let r = upload(&server, JANE_TOKEN, image_form(png, "image/png")).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let p = r.json()["payload"].clone();
    let path = p["path"].as_str().expect("path").to_owned();
    assert!(path.starts_with("100/") && path.ends_with(".png"), "{path}");
    let url = p["url"].as_str().expect("url");
    assert!(url.ends_with(&format!("/api/file/chatio/img/{path}")), "{url}");
    let served = http(&server, "GET", &format!("/api/file/chatio/img/{path}"), &[], Vec::new()).await;
    assert_eq!(served.status, 200);
    assert_eq!(served.content_type, "image/png");
    assert_eq!(&served.body[..], &png[..]);

    // Not an image (whatever it claims), none at all, too big, no token.
    let r = upload(&server, JANE_TOKEN, image_form(b"%PDF-1.4", "image/png")).await;
    assert_eq!((r.status, r.json()["payload"]["error"]["type"].clone()), (400, json!("validation")));
    let r = upload(&server, JANE_TOKEN, ("multipart/form-data; boundary=x".into(), b"--x--\r\n".to_vec())).await;
    assert_eq!(r.status, 400);
    let big = vec![0xFFu8; 10 * 1024 * 1024 + 1];
    let r = upload(&server, JANE_TOKEN, image_form(&big, "image/jpeg")).await;
    assert_eq!(r.status, 413);
    let r = upload(&server, "not-a-token-at-all-000000", image_form(png, "image/png")).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn auto_chat_scopes_add_their_groups_to_matching_new_chats() {
    let admin = {
        let mut a = chatio_server::AgentConfig::new(LICENSE, "boss@example.com");
        a.permission = chatio_server::AgentPermission::Administrator;
        a.tokens.push(chatio_wire::Token::new("boss-fixed-token-0123456789".to_owned()));
        a
    };
    let server = builder()
        .agent(false)
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .agent_config(admin)
        .start()
        .await
        .expect("server starts");
    let (mut boss, _) = agent(&server, "boss-fixed-token-0123456789").await;
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let config = json!({
        "scopes": {"groups": [1]},
        "rules": {"chat_properties": {"source": {"campaign": {"values": ["spring"]}}}},
        "description": "spring campaign to group 1"
    });
    jane.fails("add_auto_chat_scopes", config.clone(), "authorization").await;
    let added = boss.ok("add_auto_chat_scopes", config).await;
    let id = added["auto_chat_scopes_id"].as_str().expect("id").to_owned();
    assert_eq!(id.len(), 25);
    let listed = boss.ok("get_auto_chat_scopes_config", json!({})).await;
    assert_eq!(listed["auto_chat_scopes_config"][0]["id"], id.as_str());
    assert_eq!(listed["auto_chat_scopes_config"][0]["description"], "spring campaign to group 1");
    boss.fails("add_auto_chat_scopes", json!({"scopes": {"groups": [1]}, "rules": {"geo": {}}}), "validation").await;
    boss.fails("add_auto_chat_scopes", json!({"scopes": {"groups": []}, "rules": {}}), "validation").await;

    // A matching chat gets group 1; another does not.
    let mut c = Client::customer(&server).await;
    let start = json!({"chat": {"properties": {"source": {"campaign": "spring"}},
        "thread": {"events": [{"type": "message", "text": "hi"}]}}});
    let chat = c.ok("start_chat", start).await["chat"]["id"].as_str().expect("id").to_owned();
    let upd = c.push("chat_scopes_updated").await;
    assert_eq!(upd["payload"]["chat_id"], chat.as_str());
    assert_eq!(upd["payload"]["scopes_added"], json!({"groups": [1]}));
    let seen = boss.frame(|f| f["action"] == "chat_scopes_updated" && f["payload"]["chat_id"] == chat.as_str()).await;
    assert_eq!(seen["payload"]["scopes_added"]["groups"], json!([1]));
    let mut d = Client::customer(&server).await;
    d.start_chat("no campaign").await;
    assert!(!d.settle().await.iter().any(|f| f["action"] == "chat_scopes_updated"));

    boss.ok("remove_auto_chat_scopes", json!({"auto_chat_scopes_id": id})).await;
    boss.fails("remove_auto_chat_scopes", json!({"auto_chat_scopes_id": id}), "validation").await;
    let listed = boss.ok("get_auto_chat_scopes_config", json!({})).await;
    assert_eq!(listed["auto_chat_scopes_config"], json!([]));
}

#[tokio::test]
async fn an_agent_acts_as_its_own_bot_with_author_id_and_no_one_else_can() {
    const BOT: &str = "5c9871d5372c824cbf22d860a707a578";
    let server = builder()
        .agent(false)
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .agent_token(LICENSE, JOHN, JOHN_TOKEN)
        .agent_config(chatio_server::AgentConfig::bot(LICENSE, BOT, "Helper Bot", JANE))
        .start()
        .await
        .expect("server starts");
    let (mut jane, _) = agent(&server, JANE_TOKEN).await;
    let (mut john, _) = agent(&server, JOHN_TOKEN).await;
    let (mut c, chat, _) = assigned_chat(&server, &mut jane, "hello").await;
    // Jane's bot joins and writes.
    jane.send(&json!({"request_id": "b1", "action": "join_chat", "payload": {"chat_id": chat, "agent_ids": [BOT]}, "author_id": BOT})).await;
    assert_eq!(jane.response_to("b1").await["success"], true);
    let joined = c.event(|e| e["system_message_type"] == "agent_joined").await;
    assert_eq!(joined["payload"]["event"]["text"], "Helper Bot joined the chat");
    let msg = json!({"chat_id": chat, "event": {"type": "message", "text": "beep"}});
    jane.send(&json!({"request_id": "b2", "action": "send_event", "payload": msg, "author_id": BOT})).await;
    let r = jane.response_to("b2").await;
    assert_eq!(r["payload"]["event"]["author_id"], BOT, "{r}");
    let got = c.says("beep").await;
    assert_eq!(got["payload"]["event"]["author_id"], BOT);
    // Over the Web API too.
    let body = json!({"payload": {"chat_id": chat, "event": {"type": "message", "text": "boop"}}, "author_id": BOT});
    let r = agent_web(&server, "send_event", JANE_TOKEN, body.clone()).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["payload"]["event"]["author_id"], BOT);
    // John owns no bot: refused both ways, and so is an unknown id.
    john.send(&json!({"request_id": "j1", "action": "send_event", "payload": msg, "author_id": BOT})).await;
    let r = john.response_to("j1").await;
    assert_eq!(r["payload"]["error"]["type"], "authorization", "{r}");
    let r = agent_web(&server, "send_event", JOHN_TOKEN, body).await;
    assert_eq!(r.status, 403);
    jane.send(&json!({"request_id": "b3", "action": "send_event", "payload": msg, "author_id": "nobody"})).await;
    assert_eq!(jane.response_to("b3").await["payload"]["error"]["type"], "authorization");
    // A bot cannot log in: it has no token of its own.
    let mut b = Client::connect(&server.agent_ws_url()).await;
    b.fails("login", json!({"token": BOT}), "authentication").await;
}

/// `POST /agent/sign-in` with a form body.
async fn sign_in(server: &ServerHandle, code: &str) -> crate::client::HttpReply {
    let body = format!("code={code}");
    http(server, "POST", "/agent/sign-in", &[("content-type", "application/x-www-form-urlencoded")], body).await
}

/// The code of a sign-in link (its fragment).
fn code_of(link: &str) -> String {
    link.split_once("#code=").map(|(_, c)| c.to_owned()).expect("a #code= fragment")
}

#[tokio::test]
async fn a_person_signs_in_with_a_one_time_link_and_gets_an_agent_token() {
    let server = builder()
        .agent(false)
        .agent_config(chatio_server::AgentConfig::new(LICENSE, "ann@example.com"))
        .token_rate(1_000.0, 1_000)
        .start()
        .await
        .expect("server starts");
    assert!(server.agent_sign_in_link(LICENSE, "nobody@example.com").is_err());
    let link = server.agent_sign_in_link(LICENSE, "Ann@Example.com").expect("a link");
    assert!(link.starts_with(&format!("{}/agent/sign-in#code=", server.http_url())), "{link}");
    // The page and its script; scripts from the server only.
    let page = http(&server, "GET", "/agent/sign-in", &[], "").await;
    assert_eq!(page.status, 200);
    assert!(page.content_type.starts_with("text/html"));
    let csp = page.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(http(&server, "GET", "/agent/sign-in.js", &[], "").await.status, 200);

    let r = sign_in(&server, &code_of(&link)).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let answer = r.json();
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["entity_id"], "ann@example.com");
    assert_eq!(answer["license_id"], LICENSE);
    assert_eq!(answer["expires_in"], 8 * 3600, "H10");
    let token = answer["access_token"].as_str().expect("a token").to_owned();
    // The token is an agent token: RTM login and the Web API take it.
    let (_a, p) = agent(&server, &token).await;
    assert_eq!(p["my_profile"]["id"], "ann@example.com");
    assert_eq!(agent_web(&server, "start_chat", &token, json!({})).await.status, 200);
    // A code is used once; a wrong one and an empty one are refused.
    let again = sign_in(&server, &code_of(&link)).await;
    assert_eq!((again.status, again.json()["error"].clone()), (400, json!("invalid_grant")));
    assert_eq!(sign_in(&server, "sgn-not-a-code-of-this-server").await.status, 400);
    assert_eq!(sign_in(&server, "").await.json()["error"], "invalid_request");
    // A new link replaces the waiting one.
    let first = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    let second = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    assert_eq!(sign_in(&server, &code_of(&first)).await.status, 400);
    assert_eq!(sign_in(&server, &code_of(&second)).await.status, 200);
}

#[tokio::test]
async fn an_agent_holds_at_most_25_issued_tokens_and_sign_ins_are_rate_limited() {
    let server = builder()
        .agent(false)
        .agent_config(chatio_server::AgentConfig::new(LICENSE, "ann@example.com"))
        .token_rate(1_000.0, 1_000)
        .start()
        .await
        .expect("server starts");
    let mut tokens = Vec::new();
    for _ in 0..26 {
        let link = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
        let r = sign_in(&server, &code_of(&link)).await;
        tokens.push(r.json()["access_token"].as_str().expect("a token").to_owned());
    }
    // The 26th pushed the oldest out (H10's bound); the others still work.
    assert_eq!(agent_web(&server, "start_chat", &tokens[0], json!({})).await.status, 401);
    assert_eq!(agent_web(&server, "start_chat", &tokens[1], json!({})).await.status, 200);
    assert_eq!(agent_web(&server, "start_chat", &tokens[25], json!({})).await.status, 200);

    // Guessing codes costs the address its token rate.
    let slow = builder()
        .agent(false)
        .agent_config(chatio_server::AgentConfig::new(LICENSE, "ann@example.com"))
        .token_rate(0.001, 2)
        .start()
        .await
        .expect("server starts");
    assert_eq!(sign_in(&slow, "sgn-guess-one-000000000000").await.status, 400);
    assert_eq!(sign_in(&slow, "sgn-guess-two-000000000000").await.status, 400);
    let limited = sign_in(&slow, "sgn-guess-three-0000000000").await;
    assert_eq!((limited.status, limited.json()["error"].clone()), (429, json!("slow_down")));
}

/// Agents across a restart on the same data directory (issue 22's agents' state): a token
/// issued by sign-in still logs in (only its digest was stored), and the agent sees the
/// chat it was in, with the customer's message.
#[tokio::test]
async fn agents_keep_their_issued_tokens_and_their_chats_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let on = || {
        builder()
            .agent(false)
            .data_dir(dir.path())
            .agent_token(LICENSE, JANE, JANE_TOKEN)
            .agent_config(chatio_server::AgentConfig::new(LICENSE, "ann@example.com"))
            .start()
    };
    let server = on().await.expect("server starts");
    let link = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    let r = sign_in(&server, &code_of(&link)).await;
    let ann_token = r.json()["access_token"].as_str().expect("a token").to_owned();
    let (_a, _) = agent(&server, &ann_token).await;
    // Ann alone is logged in and accepting: the customer's chat goes to her.
    let mut c = Client::customer(&server).await;
    let (chat, _thread) = c.start_chat("hello, anyone?").await;
    let (_a2, p) = agent(&server, &ann_token).await;
    let mine = |p: &Value| p["chats_summary"].as_array().map(|a| a.iter().any(|s| s["id"] == chat.as_str()));
    assert_eq!(mine(&p), Some(true), "Ann sees the chat routed to her: {p}");
    drop((_a, _a2, c));
    server.shutdown().await;
    let db = std::fs::read(dir.path().join("chatio.db")).unwrap_or_default();
    assert!(!db.windows(ann_token.len()).any(|w| w == ann_token.as_bytes()), "the token itself is not stored");

    let server = on().await.expect("server starts again");
    let (_a, p) = agent(&server, &ann_token).await;
    assert_eq!(p["my_profile"]["id"], "ann@example.com", "the issued token logs in after the restart");
    assert_eq!(mine(&p), Some(true), "Ann still sees her chat after the restart: {p}");
    let summary = p["chats_summary"].as_array().unwrap().iter().find(|s| s["id"] == chat.as_str()).cloned().unwrap();
    let users: Vec<_> = summary["users"].as_array().unwrap().iter().map(|u| u["id"].clone()).collect();
    assert!(users.contains(&json!("ann@example.com")), "Ann is still a member: {summary}");
    assert_eq!(summary["last_event_per_type"]["message"]["event"]["text"], "hello, anyone?", "{summary}");
    server.shutdown().await;
}

#[tokio::test]
async fn signing_out_revokes_an_issued_token_and_keeps_a_configured_one() {
    let server = builder()
        .agent(false)
        .agent_config(chatio_server::AgentConfig::new(LICENSE, "ann@example.com"))
        .agent_token(LICENSE, JANE, JANE_TOKEN)
        .token_rate(1_000.0, 1_000)
        .start()
        .await
        .expect("server starts");
    let link = server.agent_sign_in_link(LICENSE, "ann@example.com").expect("a link");
    let token = sign_in(&server, &code_of(&link)).await.json()["access_token"].as_str().expect("a token").to_owned();
    assert_eq!(agent_web(&server, "start_chat", &token, json!({})).await.status, 200);
    let sign_out = |token: Option<String>| {
        let server = &server;
        async move {
            let auth = token.map(|t| format!("Bearer {t}"));
            let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| vec![("authorization", a)]).unwrap_or_default();
            http(server, "POST", "/agent/sign-out", &headers, String::new()).await
        }
    };
    let r = sign_out(Some(token.clone())).await;
    assert_eq!((r.status, r.json()), (200, json!({"revoked": true})));
    // Refused from now on, on the Web API and at an RTM login.
    let refused = agent_web(&server, "start_chat", &token, json!({})).await;
    assert_eq!((refused.status, refused.json()["payload"]["error"]["type"].clone()), (401, json!("authentication")));
    let mut a = Client::connect(&server.agent_ws_url()).await;
    a.fails("login", json!({"token": format!("Bearer {token}")}), "authentication").await;
    // Once: the second time the token is unknown (200, RFC 7009).
    assert_eq!(sign_out(Some(token)).await.json(), json!({"revoked": false}));
    // The configuration's token stays; no token is a bad request.
    let fixed = sign_out(Some(JANE_TOKEN.to_owned())).await;
    assert_eq!((fixed.status, fixed.json()["error"].clone()), (400, json!("unsupported_token_type")));
    assert_eq!(agent_web(&server, "start_chat", JANE_TOKEN, json!({})).await.status, 200);
    let none = sign_out(None).await;
    assert_eq!((none.status, none.json()["error"].clone()), (400, json!("invalid_request")));
}
