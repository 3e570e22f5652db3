//! Fault injection through the handle and the admin routes, and the handle's test helpers.

use std::time::Duration;

use serde_json::json;

use crate::client::{Client, End, LICENSE, builder, http, quiet_server, web};

#[tokio::test]
async fn drop_connections_ends_them_without_a_close_frame() {
    let server = quiet_server().await;
    let mut a1 = Client::customer(&server).await;
    let mut a2 = a1.again(&server).await;
    let mut b = Client::customer(&server).await;
    server.drop_connections(LICENSE, &a1.customer);
    for c in [&mut a1, &mut a2] {
        assert!(matches!(c.end().await, End::Dropped));
        assert!(c.backlog.is_empty(), "no customer_disconnected either: {:?}", c.backlog);
    }
    b.ok("ping", json!({})).await;
    // The customer can come back.
    let mut back = a1.again(&server).await;
    back.ok("get_chats_summary", json!({})).await;
}

#[tokio::test]
async fn a_delayed_response_arrives_after_the_pushes_it_caused() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    // Normally the response comes first (G8)...
    let rid = c.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "1"}})).await;
    assert_eq!(c.recv().await["request_id"], rid.as_str());
    assert_eq!(c.recv().await["action"], "incoming_event");
    // ...with a delay armed, the push overtakes it.
    server.delay_next_response(LICENSE, &c.customer, Duration::from_millis(200));
    let rid = c.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "2"}})).await;
    let first = c.recv().await;
    assert_eq!((first["action"].as_str(), first["request_id"].as_str()), (Some("incoming_event"), Some(rid.as_str())));
    let second = c.recv().await;
    assert_eq!((second["type"].as_str(), second["request_id"].as_str()), (Some("response"), Some(rid.as_str())));
    // Only the next response was delayed.
    let rid = c.send_request("ping", json!({})).await;
    assert_eq!(c.recv().await["request_id"], rid.as_str());
}

#[tokio::test]
async fn a_swallowed_response_never_comes() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    server.swallow_next_response(LICENSE, &c.customer);
    let lost =
        c.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "lost"}})).await;
    // The request was carried out: its push arrives.
    assert_eq!(c.push("incoming_event").await["request_id"], lost.as_str());
    let rest = c.settle().await;
    assert!(rest.is_empty(), "no response to {lost}: {rest:?}");
    assert_eq!(server.chat_events(LICENSE, &chat).len(), 2);
}

#[tokio::test]
async fn a_malformed_frame_is_sent_and_the_connection_stays_usable() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    server.send_malformed_frame(LICENSE, &c.customer);
    let raw = c.recv_raw().await;
    assert!(serde_json::from_str::<serde_json::Value>(&raw).is_err(), "{raw}");
    c.ok("ping", json!({})).await;
}

#[tokio::test]
async fn expired_tokens_fail_new_logins_but_not_open_connections() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    server.expire_tokens(LICENSE, &c.customer);
    // The server sweeps every second: an expired token stays known (and says "expired")
    // for `expired_token_grace`, counted from the expiry, not from the epoch.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    // G35: the open connection stays usable.
    c.start_chat("still works").await;
    let mut fresh = Client::connect(&server.ws_url(LICENSE)).await;
    let e = fresh.fails("login", json!({"token": format!("Bearer {}", c.token)}), "authentication").await;
    assert!(e["message"].as_str().unwrap().contains("expired"), "{e}");
    let reply = web(&server, "get_chats_summary", &c.token, json!({})).await;
    assert_eq!((reply.status, reply.json()["payload"]["error"]["type"].as_str()), (401, Some("authentication")));
    // A new token for the same customer works.
    let (token, customer) = server.create_token(LICENSE, Some(&c.customer)).unwrap();
    assert_eq!(customer.as_str(), c.customer);
    fresh.ok("login", json!({"token": token})).await;
}

#[tokio::test]
async fn a_ban_disconnects_every_connection_until_lifted() {
    let server = quiet_server().await;
    let mut a1 = Client::customer(&server).await;
    let mut a2 = a1.again(&server).await;
    let mut b = Client::customer(&server).await;
    server.ban(LICENSE, &a1.customer);
    for c in [&mut a1, &mut a2] {
        let end = c.end().await;
        assert_eq!((end.code(), end.reason().as_str()), (Some(4000), "customer_banned"), "{end:?}");
        assert_eq!(
            c.backlog.pop_front(),
            Some(json!({"action": "customer_disconnected", "type": "push", "payload": {"reason": "customer_banned"}}))
        );
    }
    b.ok("ping", json!({})).await;
    // Later logins fail (and disconnect), the Web API refuses with 403.
    let mut again = Client::connect(&server.ws_url(LICENSE)).await;
    again.fails("login", json!({"token": a1.token}), "customer_banned").await;
    assert_eq!(again.end().await.code(), Some(4000));
    let reply = web(&server, "get_chats_summary", &a1.token, json!({})).await;
    assert_eq!((reply.status, reply.json()["payload"]["error"]["type"].as_str()), (403, Some("customer_banned")));
    server.unban(LICENSE, &a1.customer);
    let mut back = a1.again(&server).await;
    back.ok("ping", json!({})).await;
}

#[tokio::test]
async fn a_restart_drops_connections_and_keeps_the_data() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("remember me").await;
    let file = crate::client::send_file(
        &server,
        &c.token,
        &[("payload.chat_id", &chat)],
        Some(("f.txt", "text/plain", b"kept")),
    )
    .await;
    let url = file.json()["payload"]["url"].as_str().unwrap().to_owned();
    let addr = server.addr();
    server.restart().await.unwrap();
    assert_eq!(server.addr(), addr);
    assert!(matches!(c.end().await, End::Dropped));
    let mut back = c.again(&server).await;
    let s = back.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["chats_summary"][0]["id"], chat.as_str());
    assert_eq!(s["chats_summary"][0]["last_event_per_type"]["message"]["event"]["text"], "remember me");
    let served = http(&server, "GET", url.trim_start_matches(&server.http_url()), &[], "").await;
    assert_eq!((served.status, &served.body[..]), (200, &b"kept"[..]));
}

#[tokio::test]
async fn the_admin_routes_inject_the_same_faults() {
    let server = builder().agent(false).admin(true).start().await.unwrap();
    let secret = format!("Bearer {}", server.admin_secret().expect("a secret is drawn"));
    let auth = [("authorization", secret.as_str())];
    // Without the secret (or with a wrong one), nothing; and never any CORS header.
    for headers in [&[][..], &[("authorization", "Bearer wrong")][..]] {
        let r = http(&server, "POST", "/admin/token?customer_id=admin-made", headers, "").await;
        assert_eq!(r.status, 401);
        assert!(server.chats_of(LICENSE, "admin-made").is_empty());
    }
    let r = http(&server, "POST", "/admin/token", &[("origin", "http://127.0.0.1:9"), auth[0]], "").await;
    assert_eq!(r.status, 200);
    assert!(r.headers.keys().all(|k| !k.as_str().starts_with("access-control")), "{:?}", r.headers);
    // The secret in a form body (what a page can send without a preflight).
    let form = format!("admin_secret={}", server.admin_secret().unwrap());
    assert_eq!(http(&server, "POST", "/admin/token", &[], form).await.status, 200);
    // A token through the admin route.
    let t = http(&server, "POST", "/admin/token?customer_id=admin-made", &auth, "").await.json();
    assert_eq!(t["entity_id"], "admin-made");
    let mut c = Client::with_token(&server, t["access_token"].as_str().unwrap()).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    let customer = c.customer.clone();
    let admin = |op: &str| format!("/admin/{op}?license_id=100&customer_id={customer}");

    let events = http(&server, "GET", &format!("/admin/events?chat_id={chat}"), &auth, "").await.json();
    assert_eq!(events["events"][0]["text"], "hi");
    assert_eq!(http(&server, "GET", "/admin/events?chat_id=NOSUCHCHAT", &auth, "").await.status, 404);

    assert_eq!(http(&server, "POST", &admin("malformed"), &auth, "").await.status, 200);
    assert!(serde_json::from_str::<serde_json::Value>(&c.recv_raw().await).is_err());

    http(&server, "POST", &admin("swallow_next_response"), &auth, "").await;
    let lost = c.send_request("ping", json!({})).await;
    let kept = c.send_request("ping", json!({})).await;
    assert_eq!(c.recv().await["request_id"], kept.as_str(), "{lost} was swallowed");

    http(&server, "POST", &(admin("delay_next_response") + "&ms=100"), &auth, "").await;
    let rid = c.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "x"}})).await;
    assert_eq!(c.recv().await["action"], "incoming_event");
    assert_eq!(c.recv().await["request_id"], rid.as_str());

    http(&server, "POST", &admin("expire_tokens"), &auth, "").await;
    assert_eq!(web(&server, "get_chats_summary", &c.token, json!({})).await.status, 401);

    http(&server, "POST", &admin("drop"), &auth, "").await;
    assert!(matches!(c.end().await, End::Dropped));

    let (token, _) = server.create_token(LICENSE, Some(&customer)).unwrap();
    let mut c = Client::with_token(&server, &token).await;
    http(&server, "POST", &admin("ban"), &auth, "").await;
    assert_eq!(c.end().await.code(), Some(4000));
    http(&server, "POST", &admin("unban"), &auth, "").await;
    let mut c = Client::with_token(&server, &token).await;

    assert_eq!(http(&server, "POST", "/admin/restart", &auth, "").await.status, 200);
    assert!(matches!(c.end().await, End::Dropped));

    for (method, path, status) in [
        ("POST", "/admin/teleport?customer_id=x", 404),
        ("POST", "/admin/ban", 400),
        ("POST", "/admin/ban?customer_id=x&license_id=999", 400),
        ("GET", "/admin/ban?customer_id=x", 404),
    ] {
        assert_eq!(http(&server, method, path, &auth, "").await.status, status, "{method} {path}");
    }
}

#[tokio::test]
async fn admin_routes_exist_only_when_enabled() {
    let server = quiet_server().await;
    let c = Client::customer(&server).await;
    let r = http(&server, "POST", &format!("/admin/ban?customer_id={}", c.customer), &[], "").await;
    assert_eq!(r.status, 404);
    let mut c = c;
    c.ok("ping", json!({})).await;
}

#[tokio::test]
async fn handle_helpers() {
    let server = quiet_server().await;
    assert!(matches!(server.create_token(999, None), Err(chatio_server::Error::UnknownLicense(999))));
    let (_, pinned) = server.create_token(LICENSE, Some("pinned-customer")).unwrap();
    assert_eq!(pinned.as_str(), "pinned-customer");
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("one").await;
    c.say(&chat, "two").await;
    let texts: Vec<String> = server.chat_events(LICENSE, &chat).iter().map(|e| e.kind.to_string()).collect();
    assert_eq!(texts, ["one", "two"]);
    assert!(server.chat_events(LICENSE, "NOSUCHCHAT").is_empty());
    assert_eq!(server.chats_of(LICENSE, &c.customer).iter().map(|c| c.to_string()).collect::<Vec<_>>(), [chat]);
    assert_eq!(server.connection_count(), 1);
    assert_eq!(server.customer_connections(LICENSE, &c.customer), 1);
    assert!(server.config().admin.eq(&false));
}
