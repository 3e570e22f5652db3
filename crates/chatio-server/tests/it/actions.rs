//! Every RTM action: its success path (response and push) and its error paths (section 4).

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::client::{Client, quiet_server};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn is_short_id(v: &Value) -> bool {
    v.as_str().is_some_and(|s| s.len() == 10 && s.chars().all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()))
}

fn msg(e: &Value) -> &str {
    e["message"].as_str().unwrap()
}

#[tokio::test]
async fn start_chat_reference_form() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let before = now();
    let rid = c
        .send_request(
            "start_chat",
            json!({"chat": {"scopes": {"groups": [1]}, "properties": {"source": {"type": "facebook"}},
                "thread": {"events": [{"type": "message", "custom_id": "c-1", "text": "hello there"}],
                           "properties": {"routing": {"idle": false}}}}}),
        )
        .await;
    // The response comes first, then the push (G8).
    let r = c.recv().await;
    assert_eq!((r["type"].as_str(), r["request_id"].as_str()), (Some("response"), Some(rid.as_str())), "{r}");
    assert_eq!(r["success"], true);
    let chat = &r["payload"]["chat"];
    assert!(is_short_id(&chat["id"]), "{chat}");
    assert_eq!(chat["scopes"], json!({"groups": [1]}));
    assert_eq!(chat["properties"], json!({"source": {"type": {"value": "facebook"}}}));
    assert_eq!(chat["users"], json!([{"id": c.customer, "type": "customer", "present": true, "fields": {}}]));
    let thread = &chat["thread"];
    assert!(is_short_id(&thread["id"]));
    assert_eq!(thread["active"], true);
    assert_eq!(thread["order"], 1);
    assert_eq!(thread["user_ids"], json!([c.customer]));
    assert_eq!(thread["properties"], json!({"routing": {"idle": {"value": false}}}));
    let event = &thread["events"][0];
    assert_eq!(event["id"], format!("{}_1", thread["id"].as_str().unwrap()));
    assert_eq!(event["order"], 1);
    assert_eq!(event["type"], "message");
    assert_eq!(event["custom_id"], "c-1");
    assert_eq!(event["author_id"], c.customer.as_str());
    assert_eq!(event["text"], "hello there");
    let ts = event["timestamp"].as_u64().unwrap();
    assert!((before..=now()).contains(&ts), "timestamp {ts} in seconds");
    let push = c.recv().await;
    assert_eq!(push["action"], "incoming_chat_thread");
    assert_eq!(push["type"], "push");
    assert_eq!(push["request_id"], rid.as_str());
    assert!(push.get("success").is_none());
    assert_eq!(&push["payload"]["chat"], chat);
}

#[tokio::test]
async fn start_chat_legacy_form_and_errors() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    // The examples' and JS SDK's shape (D1).
    let p = c
        .ok(
            "start_chat",
            json!({"routing_scope": {"type": "license"}, "events": [{"type": "message", "text": "hi"}],
                "properties": {"source": {"type": "web"}}}),
        )
        .await;
    assert_eq!(p["chat"]["scopes"], json!({}));
    assert_eq!(p["chat"]["properties"], json!({"source": {"type": {"value": "web"}}}));
    assert_eq!(p["chat"]["thread"]["events"][0]["text"], "hi");
    // No events at all is fine.
    let p = c.ok("start_chat", json!({})).await;
    assert_eq!(p["chat"]["thread"]["events"], json!([]));
    // Errors.
    let e = c
        .fails(
            "start_chat",
            json!({"chat": {"thread": {"events": [{"type": "system_message", "text": "x"}]}}}),
            "validation",
        )
        .await;
    assert!(msg(&e).contains("chat.thread.events[0]"), "{e}");
    let e = c
        .fails(
            "start_chat",
            json!({"chat": {"thread": {"events": [{"type": "file", "name": "a", "url": "u", "content_type": "t", "size": 1}]}}}),
            "validation",
        )
        .await;
    assert!(msg(&e).contains("send_file"), "{e}");
    let e = c.fails("start_chat", json!({"chat": {"properties": {"ns": {"k": {"deep": 1}}}}}), "validation").await;
    assert!(msg(&e).contains("chat.properties.ns.k"), "{e}");
    c.fails("start_chat", json!({"chat": {"thread": {"events": [{"type": "hologram"}]}}}), "validation").await;
    // Nothing was created by the failures.
    assert_eq!(server.chats_of(100, &c.customer).len(), 2);
}

#[tokio::test]
async fn send_event_to_the_active_thread_then_a_new_one() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, t1) = c.start_chat("first").await;
    c.settle().await;
    let rid = c
        .send_request(
            "send_event",
            json!({"chat_id": chat, "event": {"type": "message", "text": "second", "custom_id": "x",
                "properties": {"ui": {"bold": true}}}}),
        )
        .await;
    let r = c.recv().await;
    assert_eq!(r["request_id"], rid.as_str());
    assert_eq!(r["payload"]["thread_id"], t1.as_str());
    let ev = &r["payload"]["event"];
    assert_eq!(ev["id"], format!("{t1}_2"));
    assert_eq!(ev["order"], 2);
    assert_eq!(ev["custom_id"], "x");
    assert_eq!(ev["properties"], json!({"ui": {"bold": {"value": true}}}));
    let push = c.recv().await;
    assert_eq!(push["action"], "incoming_event");
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(push["payload"], json!({"chat_id": chat, "thread_id": t1, "event": ev}));

    // Once the thread is closed, the next event opens a thread: incoming_chat_thread.
    c.ok("close_thread", json!({"chat_id": chat})).await;
    c.settle().await;
    let rid =
        c.send_request("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "third"}})).await;
    let r = c.recv().await;
    let t2 = r["payload"]["thread_id"].as_str().unwrap().to_owned();
    assert_ne!(t2, t1);
    assert_eq!(r["payload"]["event"]["order"], 3, "event order runs across threads (G2)");
    assert_eq!(r["payload"]["event"]["id"], format!("{t2}_1"));
    let push = c.recv().await;
    assert_eq!(push["action"], "incoming_chat_thread");
    assert_eq!(push["request_id"], rid.as_str());
    let thread = &push["payload"]["chat"]["thread"];
    assert_eq!(
        (thread["id"].as_str(), thread["order"].as_u64(), thread["active"].as_bool()),
        (Some(t2.as_str()), Some(2), Some(true))
    );
    assert_eq!(thread["events"], json!([r["payload"]["event"]]));
}

#[tokio::test]
async fn annotations_go_to_the_last_thread_without_opening_one() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, t1) = c.start_chat("hi").await;
    c.ok("close_thread", json!({"chat_id": chat})).await;
    c.settle().await;
    let p = c
        .ok(
            "send_event",
            json!({"chat_id": chat, "event": {"type": "annotation", "annotation_type": "rating", "text": "good"}}),
        )
        .await;
    assert_eq!(p["thread_id"], t1.as_str());
    assert_eq!(p["event"]["annotation_type"], "rating");
    assert_eq!(c.push("incoming_event").await["payload"]["thread_id"], t1.as_str());
    let s = c.ok("get_chat_threads_summary", json!({"chat_id": chat})).await;
    assert_eq!(s["total_threads"], 1);
    let threads = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [t1]})).await;
    assert_eq!(threads["chat"]["threads"][0]["active"], false);
}

#[tokio::test]
async fn other_event_types_a_customer_may_send() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    for event in [
        json!({"type": "custom", "content": {"a": {"b": 1}}}),
        json!({"type": "filled_form", "fields": [{"type": "text", "name": "n", "label": "Name", "required": true, "value": "Jo"},
            {"type": "radio", "name": "p", "label": "P", "options": [{"label": "A", "value": "a", "checked": true}]}]}),
        json!({"type": "rich_message", "template_id": "cards", "elements": [{"title": "t", "buttons": [{"text": "y", "postback_id": "y"}]}]}),
    ] {
        let p = c.ok("send_event", json!({"chat_id": chat, "event": event})).await;
        let got = &p["event"];
        for (k, v) in event.as_object().unwrap() {
            if k == "elements" {
                assert_eq!(got[k][0]["buttons"][0]["user_ids"], json!([]), "{got}");
            } else {
                assert_eq!(&got[k], v, "{k} of {got}");
            }
        }
    }
}

#[tokio::test]
async fn send_event_errors_name_the_field() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    // A payload that does not decode: request id and action are echoed (G7).
    c.send_text(&format!(r#"{{"request_id":"bad-1","action":"send_event","payload":{{"chat_id":"{chat}","event":{{"type":"message"}}}}}}"#)).await;
    let r = c.recv().await;
    assert_eq!(
        (r["request_id"].as_str(), r["action"].as_str(), r["success"].as_bool()),
        (Some("bad-1"), Some("send_event"), Some(false))
    );
    assert_eq!(r["payload"]["error"]["type"], "validation");
    assert!(msg(&r["payload"]["error"]).contains("text"), "{r}");
    let long = "x".repeat(16_385);
    for (event, needle) in [
        (json!({"type": "system_message", "text": "x"}), "system_message"),
        (json!({"type": "file", "name": "a", "url": "u", "content_type": "t", "size": 1}), "send_file"),
        (json!({"type": "custom", "content": [1, 2]}), "event.content"),
        (json!({"type": "message", "text": long}), "event.text"),
        (json!({"type": "message", "text": "x", "custom_id": "c".repeat(257)}), "event.custom_id"),
        (json!({"type": "annotation", "annotation_type": ""}), "event.annotation_type"),
        (json!({"type": "rich_message", "template_id": ""}), "event.template_id"),
        (
            json!({"type": "rich_message", "template_id": "cards", "elements": vec![json!({"title": "t"}); 11]}),
            "event.elements",
        ),
        (json!({"type": "message", "text": "x", "properties": {"ns": {"k": [1]}}}), "event.properties.ns.k"),
        (json!({"type": "hologram"}), "hologram"),
    ] {
        let e = c.fails("send_event", json!({"chat_id": chat, "event": event}), "validation").await;
        assert!(msg(&e).contains(needle), "{needle}: {e}");
    }
    let e = c
        .fails(
            "send_event",
            json!({"chat_id": "NOSUCHCHAT", "event": {"type": "message", "text": "x"}}),
            "authorization",
        )
        .await;
    assert!(msg(&e).contains("NOSUCHCHAT"), "{e}");
    // No failed request left an event behind.
    assert_eq!(server.chat_events(100, &chat).len(), 1);
    assert!(c.settle().await.is_empty());
}

#[tokio::test]
async fn rich_message_postbacks_toggle_every_button_with_the_id() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("hi").await;
    let rich = json!({"type": "rich_message", "template_id": "cards", "elements": [
        {"title": "a", "buttons": [{"text": "Yes", "postback_id": "yes"}, {"text": "No", "postback_id": "no"}]},
        {"title": "b", "buttons": [{"text": "Yes too", "postback_id": "yes"}]}]});
    let event_id =
        c.ok("send_event", json!({"chat_id": chat, "event": rich})).await["event"]["id"].as_str().unwrap().to_owned();
    c.settle().await;
    let postback = |toggled: bool| json!({"chat_id": chat, "thread_id": thread, "event_id": event_id, "postback": {"id": "yes", "toggled": toggled}});
    let rid = c.send_request("send_rich_message_postback", postback(true)).await;
    let r = c.recv().await;
    assert_eq!((r["request_id"].as_str(), r["success"].as_bool()), (Some(rid.as_str()), Some(true)));
    assert_eq!(r["payload"], json!({}));
    let push = c.recv().await;
    assert_eq!(push["action"], "incoming_rich_message_postback");
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(
        push["payload"],
        json!({"user_id": c.customer, "chat_id": chat, "thread_id": thread, "event_id": event_id, "postback": {"id": "yes", "toggled": true}})
    );
    let buttons = |v: &Value| -> Vec<Value> {
        let els = v["chat"]["threads"][0]["events"][1]["elements"].as_array().unwrap().clone();
        els.iter().flat_map(|e| e["buttons"].as_array().unwrap().clone()).map(|b| b["user_ids"].clone()).collect()
    };
    let t = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(buttons(&t), vec![json!([c.customer]), json!([]), json!([c.customer])]);
    // Toggling twice adds the user once.
    c.ok("send_rich_message_postback", postback(true)).await;
    c.ok("send_rich_message_postback", postback(false)).await;
    let t = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(buttons(&t), vec![json!([]), json!([]), json!([])]);
    // In an inactive thread: stored, no push (G21).
    c.ok("close_thread", json!({"chat_id": chat})).await;
    c.settle().await;
    c.ok("send_rich_message_postback", postback(true)).await;
    assert!(c.settle().await.is_empty(), "no push for inactive threads");
    let t = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(buttons(&t)[0], json!([c.customer]));
    // Errors.
    let bad = |f: &str, v: Value| {
        let mut p = postback(true);
        p[f] = v;
        p
    };
    let e = c.fails("send_rich_message_postback", bad("event_id", json!("nope")), "validation").await;
    assert!(msg(&e).contains("event_id"), "{e}");
    let e = c.fails("send_rich_message_postback", bad("event_id", json!(format!("{thread}_1"))), "validation").await;
    assert!(msg(&e).contains("not a rich_message"), "{e}");
    let e = c
        .fails("send_rich_message_postback", bad("postback", json!({"id": "maybe", "toggled": true})), "validation")
        .await;
    assert!(msg(&e).contains("postback.id"), "{e}");
    let e = c.fails("send_rich_message_postback", bad("thread_id", json!("NOSUCHTHRD")), "validation").await;
    assert!(msg(&e).contains("thread_id"), "{e}");
    c.fails("send_rich_message_postback", bad("chat_id", json!("NOSUCHCHAT")), "authorization").await;
}

#[tokio::test]
async fn sneak_peeks_are_accepted_without_pushes() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    assert_eq!(c.ok("send_sneak_peek", json!({"chat_id": chat, "sneak_peek_text": "typing…"})).await, json!({}));
    assert!(c.settle().await.is_empty());
    c.ok("close_thread", json!({"chat_id": chat})).await;
    c.ok("send_sneak_peek", json!({"chat_id": chat, "sneak_peek_text": "dropped"})).await;
    let e = c.fails("send_sneak_peek", json!({"chat_id": chat}), "validation").await;
    assert!(msg(&e).contains("sneak_peek_text"), "{e}");
    c.fails("send_sneak_peek", json!({"chat_id": "NOSUCHCHAT", "sneak_peek_text": "x"}), "authorization").await;
}

#[tokio::test]
async fn close_thread_pushes_thread_closed_once() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("hi").await;
    c.settle().await;
    let e = c.fails("close_thread", json!({"chat_id": chat, "thread_id": "OTHERTHRD1"}), "validation").await;
    assert!(msg(&e).contains("thread_id"), "{e}");
    let rid = c.send_request("close_thread", json!({"chat_id": chat, "thread_id": thread})).await;
    let r = c.recv().await;
    assert_eq!((r["request_id"].as_str(), r["payload"].clone()), (Some(rid.as_str()), json!({})));
    let push = c.recv().await;
    assert_eq!(push["action"], "thread_closed");
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(push["payload"], json!({"chat_id": chat, "thread_id": thread, "user_id": c.customer}));
    let e = c.fails("close_thread", json!({"chat_id": chat}), "validation").await;
    assert!(msg(&e).contains("no active thread"), "{e}");
    c.fails("close_thread", json!({"chat_id": "NOSUCHCHAT"}), "authorization").await;
}

#[tokio::test]
async fn update_chat_scopes_adds_and_removes_groups() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    let rid = c
        .send_request(
            "update_chat_scopes",
            json!({"chat_id": chat, "add_scopes": {"groups": [1, 2]}, "remove_scopes": {"groups": [3]}}),
        )
        .await;
    assert_eq!(c.response_to(&rid).await["success"], true);
    let push = c.push("chat_scopes_updated").await;
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(
        push["payload"],
        json!({"chat_id": chat, "scopes_added": {"groups": [1, 2]}, "scopes_removed": {"groups": [3]}})
    );
    c.ok("update_chat_scopes", json!({"chat_id": chat, "remove_scopes": {"groups": [1]}})).await;
    let s = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["chats_summary"][0]["scopes"], json!({"groups": [2]}));
    c.fails("update_chat_scopes", json!({"chat_id": "NOSUCHCHAT", "add_scopes": {"groups": [1]}}), "authorization")
        .await;
    c.fails("update_chat_scopes", json!({"chat_id": chat, "add_scopes": {"groups": [-1]}}), "validation").await;
}

#[tokio::test]
async fn update_customer_pushes_once_per_active_chat() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (a, _) = c.start_chat("a").await;
    let (b, _) = c.start_chat("b").await;
    let (closed, _) = c.start_chat("c").await;
    c.ok("close_thread", json!({"chat_id": closed})).await;
    c.settle().await;
    let rid = c
        .send_request(
            "update_customer",
            json!({"customer": {"name": "Mary Brown", "email": "mary@example.com", "fields": {"k1": "v1"},
                "monitoring": {"page": {"url": "https://example.com/"}, "timezone": "-2"}}}),
        )
        .await;
    let r = c.recv().await;
    assert_eq!(r["request_id"], rid.as_str());
    let expected = json!({"id": c.customer, "type": "customer", "name": "Mary Brown", "email": "mary@example.com",
        "fields": {"k1": "v1"}, "present": true});
    assert_eq!(r["payload"], json!({"customer": expected}));
    let mut chats = Vec::new();
    for _ in 0..2 {
        let push = c.recv().await;
        assert_eq!(push["action"], "customer_updated");
        assert_eq!(push["request_id"], rid.as_str());
        assert_eq!(push["payload"]["customer"]["name"], "Mary Brown");
        chats.push(push["payload"]["chat_id"].as_str().unwrap().to_owned());
    }
    chats.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(chats, want);
    assert!(c.settle().await.is_empty(), "no push for the closed chat");
    // Fields merge.
    let p = c.ok("update_customer", json!({"customer": {"fields": {"k2": "v2"}}})).await;
    assert_eq!(p["customer"]["fields"], json!({"k1": "v1", "k2": "v2"}));
    let many: serde_json::Map<String, Value> = (0..101).map(|i| (format!("f{i}"), json!("v"))).collect();
    let e = c.fails("update_customer", json!({"customer": {"fields": many}}), "validation").await;
    assert!(msg(&e).contains("customer.fields"), "{e}");
}

#[tokio::test]
async fn update_chat_and_thread_properties() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("hi").await;
    c.settle().await;
    // Flat and wrapped request values are both accepted (D6); pushes are wrapped.
    let rid = c
        .send_request(
            "update_chat_properties",
            json!({"chat_id": chat, "properties": {"rating": {"score": 1, "comment": {"value": "good"}}}}),
        )
        .await;
    assert_eq!(c.response_to(&rid).await["payload"], json!({}));
    let push = c.push("chat_properties_updated").await;
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(
        push["payload"],
        json!({"chat_id": chat, "properties": {"rating": {"score": {"value": 1}, "comment": {"value": "good"}}}})
    );
    // Merged key by key; the push lists only what was set (G15).
    c.ok("update_chat_properties", json!({"chat_id": chat, "properties": {"rating": {"score": 0}}})).await;
    let push = c.push("chat_properties_updated").await;
    assert_eq!(push["payload"]["properties"], json!({"rating": {"score": {"value": 0}}}));
    let s = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(
        s["chats_summary"][0]["properties"],
        json!({"rating": {"score": {"value": 0}, "comment": {"value": "good"}}})
    );

    let rid = c
        .send_request(
            "update_chat_thread_properties",
            json!({"chat_id": chat, "thread_id": thread, "properties": {"x": {"y": "z"}}}),
        )
        .await;
    assert_eq!(c.response_to(&rid).await["success"], true);
    let push = c.push("chat_thread_properties_updated").await;
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(
        push["payload"],
        json!({"chat_id": chat, "thread_id": thread, "properties": {"x": {"y": {"value": "z"}}}})
    );
    let t = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [thread]})).await;
    assert_eq!(t["chat"]["threads"][0]["properties"], json!({"x": {"y": {"value": "z"}}}));

    // Errors.
    let e = c
        .fails("update_chat_properties", json!({"chat_id": chat, "properties": {"a": {"b": [1]}}}), "validation")
        .await;
    assert!(msg(&e).contains("properties.a.b"), "{e}");
    c.fails(
        "update_chat_properties",
        json!({"chat_id": chat, "properties": {"a": {"b": 4_294_967_296u64}}}),
        "validation",
    )
    .await;
    let e = c.fails("update_chat_properties", json!({"chat_id": chat}), "validation").await;
    assert!(msg(&e).contains("properties"), "{e}");
    c.fails("update_chat_properties", json!({"chat_id": "NOSUCHCHAT", "properties": {}}), "authorization").await;
    let e = c
        .fails(
            "update_chat_thread_properties",
            json!({"chat_id": chat, "thread_id": "NOSUCHTHRD", "properties": {"a": {"b": 1}}}),
            "validation",
        )
        .await;
    assert!(msg(&e).contains("thread_id"), "{e}");
    c.fails(
        "update_chat_thread_properties",
        json!({"chat_id": "NOSUCHCHAT", "thread_id": thread, "properties": {}}),
        "authorization",
    )
    .await;
}

#[tokio::test]
async fn update_last_seen_timestamp_never_moves_back_nor_beyond_now() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    let before = now();
    let rid = c.send_request("update_last_seen_timestamp", json!({"chat_id": chat})).await;
    let r = c.response_to(&rid).await;
    let ts = r["payload"]["timestamp"].as_u64().unwrap();
    assert!((before..=now()).contains(&ts), "defaults to the server's time, in seconds");
    let push = c.push("last_seen_timestamp_updated").await;
    assert_eq!(push["request_id"], rid.as_str());
    assert_eq!(push["payload"], json!({"user_id": c.customer, "chat_id": chat, "timestamp": ts}));
    // Backwards: the stored value stays.
    let p = c.ok("update_last_seen_timestamp", json!({"chat_id": chat, "timestamp": ts - 1000})).await;
    assert_eq!(p["timestamp"], ts);
    // In the future: clamped to now. In milliseconds: read as such (D5).
    let p = c.ok("update_last_seen_timestamp", json!({"chat_id": chat, "timestamp": ts + 100_000})).await;
    assert!(p["timestamp"].as_u64().unwrap() <= now());
    let p = c.ok("update_last_seen_timestamp", json!({"chat_id": chat, "timestamp": (ts - 5) * 1000})).await;
    assert!(p["timestamp"].as_u64().unwrap() >= ts && p["timestamp"].as_u64().unwrap() <= now());
    let s = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["chats_summary"][0]["users"][0]["last_seen_timestamp"], p["timestamp"]);
    c.fails("update_last_seen_timestamp", json!({"chat_id": "NOSUCHCHAT"}), "authorization").await;
    let e = c.fails("update_last_seen_timestamp", json!({}), "validation").await;
    assert!(msg(&e).contains("chat_id"), "{e}");
}

#[tokio::test]
async fn get_chat_threads_returns_the_asked_threads_sorted() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, t1) = c.start_chat("one").await;
    c.say(&chat, "two").await;
    c.ok("close_thread", json!({"chat_id": chat})).await;
    let t2 = c.say(&chat, "three").await["thread_id"].as_str().unwrap().to_owned();
    let p = c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": [t2, "UNKNOWNTHR", t1]})).await;
    let chat_obj = &p["chat"];
    assert_eq!(chat_obj["id"], chat.as_str());
    assert!(chat_obj.get("thread").is_none(), "per-method shape (D8): {chat_obj}");
    let threads = chat_obj["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 2, "unknown ids are skipped");
    assert_eq!((threads[0]["id"].as_str(), threads[0]["active"].as_bool()), (Some(t1.as_str()), Some(false)));
    assert_eq!((threads[1]["id"].as_str(), threads[1]["active"].as_bool()), (Some(t2.as_str()), Some(true)));
    let texts: Vec<&str> =
        threads[0]["events"].as_array().unwrap().iter().map(|e| e["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["one", "two"]);
    // Empty or missing list: no threads (D26).
    assert_eq!(
        c.ok("get_chat_threads", json!({"chat_id": chat, "thread_ids": []})).await["chat"]["threads"],
        json!([])
    );
    assert_eq!(c.ok("get_chat_threads", json!({"chat_id": chat})).await["chat"]["threads"], json!([]));
    c.fails("get_chat_threads", json!({"chat_id": "NOSUCHCHAT", "thread_ids": [t1]}), "authorization").await;
    c.fails("get_chat_threads", json!({"thread_ids": [t1]}), "validation").await;
}

#[tokio::test]
async fn get_chats_summary_describes_each_chat() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let before = now();
    let (chat, thread) = c.start_chat("hello").await;
    c.ok("send_event", json!({"chat_id": chat, "event": {"type": "custom", "content": {"k": 1}}})).await;
    c.ok("send_event", json!({"chat_id": chat, "event": {"type": "message", "text": "latest"}})).await;
    let s = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["total_chats"], 1);
    let summary = &s["chats_summary"][0];
    assert_eq!(summary["id"], chat.as_str());
    let order = summary["order"].as_u64().unwrap();
    assert!((before..=now()).contains(&order), "order is the last activity in seconds (G2)");
    assert_eq!(summary["users"][0]["id"], c.customer.as_str());
    let last = &summary["last_event_per_type"];
    assert_eq!(last["message"]["thread_id"], thread.as_str());
    assert_eq!(last["message"]["thread_order"], 1);
    assert_eq!(last["message"]["event"]["text"], "latest");
    assert_eq!(last["custom"]["event"]["content"], json!({"k": 1}));
    let e = c.fails("get_chats_summary", json!({"limit": 0}), "validation").await;
    assert!(msg(&e).contains("limit"), "{e}");
    c.fails("get_chats_summary", json!({"offset": -1}), "validation").await;
}

#[tokio::test]
async fn idle_threads_are_archived_when_configured() {
    let server =
        crate::client::builder().agent(false).archive_after(std::time::Duration::from_secs(1)).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("then silence").await;
    let sys = c.event(|e| e["type"] == "system_message").await;
    assert!(sys.get("request_id").is_none());
    assert_eq!(sys["payload"]["event"]["system_message_type"], "routing.archived");
    assert_eq!(sys["payload"]["event"]["text"], "Chat archived due to long inactivity");
    let closed = c.push("thread_closed").await;
    assert_eq!(
        closed["payload"],
        json!({"chat_id": chat, "thread_id": thread}),
        "no user_id: the router closed it (G3)"
    );
    // The next message opens a new thread.
    let p = c.say(&chat, "back").await;
    assert_ne!(p["thread_id"], thread.as_str());
}
