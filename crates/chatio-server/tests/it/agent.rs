//! The scripted agent: joining, greeting, answering, and every command that triggers a push.

use std::time::Duration;

use serde_json::{Value, json};

use crate::client::{Client, builder, http, server};

/// Replaces what differs between runs (times, the port) so transcripts compare.
fn sanitize(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                if k == "timestamp"
                    || k == "last_seen_timestamp"
                    || (k == "order" && x.as_u64().is_some_and(|o| o > 1_000_000))
                {
                    *x = json!("[time]");
                } else {
                    sanitize(x, base);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| sanitize(x, base)),
        Value::String(s) if s.contains(base) => {
            *s = s.replace(base, "http://[server]");
            // File names are capabilities drawn from the OS random source, seed or not.
            if let Some(at) = s.find("/api/file/chatio/att/").or_else(|| s.find("/api/file/chatio/img/")) {
                let name_at = s.rfind('/').unwrap_or(at) + 1;
                let ext = s.rfind('.').filter(|e| *e > name_at).map(|e| s[e..].to_owned()).unwrap_or_default();
                s.replace_range(name_at.., &format!("[file]{ext}"));
            }
        }
        _ => {}
    }
}

async fn transcript(script: &[&str]) -> Vec<Value> {
    let server = server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat(script[0]).await;
    let mut frames = c.settle().await;
    for text in &script[1..] {
        c.say(&chat, text).await;
        frames.extend(c.settle().await);
    }
    for f in &mut frames {
        sanitize(f, &server.http_url());
    }
    frames
}

#[tokio::test]
async fn the_agent_joins_greets_and_answers_in_a_fixed_order() {
    let server = server().await;
    let mut c = Client::customer(&server).await;
    let rid = c
        .send_request("start_chat", json!({"chat": {"thread": {"events": [{"type": "message", "text": "hello"}]}}}))
        .await;
    let mut frames = vec![c.response_to(&rid).await];
    frames.extend(c.settle().await);
    for f in &mut frames {
        sanitize(f, &server.http_url());
    }
    insta::assert_json_snapshot!("agent_joins_greets_answers", frames);
}

#[tokio::test]
async fn same_seed_same_frames() {
    let script = [
        "hello",
        "/rich",
        "/file",
        "/form",
        "/annotation",
        "/custom",
        "/system",
        "/multicast",
        "/props",
        "/scopes",
        "/seen",
        "/typing",
        "/close",
        "again",
        "/leave",
        "back",
        "/echo done",
    ];
    let a = transcript(&script).await;
    let b = transcript(&script).await;
    assert!(a.len() > 40, "{} frames", a.len());
    assert_eq!(a, b);
}

#[tokio::test]
async fn every_command_triggers_its_push() {
    let server = server().await;
    let bot = server.agent_id().unwrap().to_string();
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("hi").await;
    c.settle().await;

    c.say(&chat, "/rich").await;
    let typing = c.push("incoming_typing_indicator").await;
    assert_eq!(typing["payload"]["typing_indicator"]["is_typing"], true);
    assert_eq!(typing["payload"]["typing_indicator"]["author_id"], bot.as_str());
    let rich = c.event(|e| e["type"] == "rich_message").await;
    let ev = &rich["payload"]["event"];
    assert_eq!(ev["author_id"], bot.as_str());
    assert_eq!(ev["template_id"], "cards");
    let postbacks: Vec<&str> = ev["elements"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["buttons"].as_array().unwrap())
        .map(|b| b["postback_id"].as_str().unwrap())
        .collect();
    assert_eq!(postbacks, ["like_yes", "like_no", "docs_yes"]);
    let image = ev["elements"][0]["image"]["url"].as_str().unwrap();
    assert_eq!(http(&server, "GET", image.trim_start_matches(&server.http_url()), &[], "").await.status, 200);
    let off = c.push("incoming_typing_indicator").await;
    assert_eq!(off["payload"]["typing_indicator"]["is_typing"], false);
    // The customer answers with a postback.
    c.ok(
        "send_rich_message_postback",
        json!({"chat_id": chat, "thread_id": thread, "event_id": ev["id"], "postback": {"id": "like_yes", "toggled": true}}),
    )
    .await;
    assert_eq!(c.push("incoming_rich_message_postback").await["payload"]["postback"]["id"], "like_yes");

    c.say(&chat, "/file").await;
    let file = c.event(|e| e["type"] == "file").await["payload"]["event"].clone();
    assert_eq!((file["name"].as_str(), file["content_type"].as_str()), (Some("chatio.png"), Some("image/png")));
    assert_eq!((file["width"].as_u64(), file["height"].as_u64()), (Some(64), Some(48)));
    let url = file["url"].as_str().unwrap();
    // The bot uploaded its picture with `upload_image`, as any agent would (H15, H26).
    assert!(url.starts_with(&format!("{}/api/file/chatio/img/100/", server.http_url())), "{url}");
    let served = http(&server, "GET", url.trim_start_matches(&server.http_url()), &[], "").await;
    assert_eq!((served.status, served.content_type.as_str()), (200, "image/png"));
    assert_eq!(served.body.len() as u64, file["size"].as_u64().unwrap());
    assert!(served.body.starts_with(b"\x89PNG\r\n\x1a\n"));

    c.say(&chat, "/form").await;
    let form = c.event(|e| e["type"] == "filled_form").await["payload"]["event"].clone();
    assert_eq!(form["fields"][1]["options"][0], json!({"label": "Support", "value": "support", "checked": true}));

    c.say(&chat, "/annotation").await;
    assert_eq!(c.event(|e| e["type"] == "annotation").await["payload"]["event"]["author_id"], bot.as_str());

    c.say(&chat, "/custom").await;
    assert_eq!(
        c.event(|e| e["type"] == "custom").await["payload"]["event"]["content"],
        json!({"kind": "demo", "value": 42})
    );

    c.say(&chat, "/system").await;
    let sys = c.event(|e| e["type"] == "system_message").await["payload"]["event"].clone();
    assert_eq!(sys["system_message_type"], "routing.assigned");
    assert!(sys.get("author_id").is_none(), "{sys}");

    c.say(&chat, "/multicast").await;
    let m = c.push("incoming_multicast").await;
    assert_eq!(m["payload"]["author_id"], bot.as_str());
    assert!(m["payload"]["content"].is_object());

    c.say(&chat, "/props").await;
    let p = c.push("chat_properties_updated").await;
    assert_eq!(p["payload"], json!({"chat_id": chat, "properties": {"bot": {"mood": {"value": "cheerful"}}}}));
    let p = c.push("chat_thread_properties_updated").await;
    assert_eq!(
        p["payload"],
        json!({"chat_id": chat, "thread_id": thread, "properties": {"bot": {"topic": {"value": "demo"}}}})
    );

    c.say(&chat, "/scopes").await;
    let s = c.push("chat_scopes_updated").await;
    assert_eq!(s["payload"], json!({"chat_id": chat, "scopes_added": {"groups": [1]}, "scopes_removed": {}}));

    c.say(&chat, "/seen").await;
    let seen = c.push("last_seen_timestamp_updated").await;
    assert_eq!(seen["payload"]["user_id"], bot.as_str());

    c.say(&chat, "/typing").await;
    assert_eq!(c.push("incoming_typing_indicator").await["payload"]["typing_indicator"]["is_typing"], true);
    assert_eq!(c.push("incoming_typing_indicator").await["payload"]["typing_indicator"]["is_typing"], false);

    c.say(&chat, "/echo some words").await;
    c.says("some words").await;
    c.say(&chat, "/help").await;
    let help = c.event(|e| e["text"].as_str().is_some_and(|t| t.starts_with("Commands:"))).await;
    assert!(help["payload"]["event"]["text"].as_str().unwrap().contains("/rich"));
    c.say(&chat, "/nope").await;
    c.event(|e| e["text"].as_str().is_some_and(|t| t.starts_with("Unknown command /nope"))).await;

    c.say(&chat, "/close").await;
    let closed = c.push("thread_closed").await;
    assert_eq!(closed["payload"], json!({"chat_id": chat, "thread_id": thread, "user_id": bot}));
    assert!(closed.get("request_id").is_none(), "the agent's pushes carry no request id");
    // Writing again opens a thread; the agent (still in the chat) answers without a new greeting.
    let r = c.say(&chat, "again").await;
    assert_ne!(r["thread_id"], thread.as_str());
    c.says("You said: again").await;
    let rest = c.settle().await;
    assert!(!rest.iter().any(|f| f["action"] == "chat_users_updated"), "{rest:?}");
}

#[tokio::test]
async fn the_agent_leaves_and_comes_back() {
    let server = server().await;
    let bot = server.agent_id().unwrap().to_string();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    let joined = c.push("chat_users_updated").await;
    let added = &joined["payload"]["updated_users"]["added"][0];
    assert_eq!(
        (added["id"].as_str(), added["type"].as_str(), added["name"].as_str()),
        (Some(bot.as_str()), Some("agent"), Some("Chatio Bot"))
    );
    assert_eq!(added["present"], true);
    let avatar = added["avatar"].as_str().unwrap();
    let served = http(&server, "GET", avatar.trim_start_matches(&server.http_url()), &[], "").await;
    assert_eq!((served.status, served.content_type.as_str()), (200, "image/png"));
    let sys = c.event(|e| e["system_message_type"] == "agent_joined").await;
    assert_eq!(sys["payload"]["event"]["text"], "Chatio Bot joined the chat");
    c.settle().await;
    let s = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["chats_summary"][0]["users"][1]["id"], bot.as_str());

    c.say(&chat, "/leave").await;
    c.says("Bye!").await;
    let left = c.push("chat_users_updated").await;
    assert_eq!(left["payload"]["updated_users"], json!({"added": [], "removed_ids": [bot]}));
    let sys = c.event(|e| e["system_message_type"] == "agent_left").await;
    assert_eq!(sys["payload"]["event"]["text"], "Chatio Bot left the chat");
    c.settle().await;
    let s = c.ok("get_chats_summary", json!({})).await;
    assert_eq!(s["chats_summary"][0]["users"].as_array().unwrap().len(), 1);

    c.say(&chat, "anyone?").await;
    let back = c.push("chat_users_updated").await;
    assert_eq!(back["payload"]["updated_users"]["added"][0]["id"], bot.as_str());
    c.says("You said: anyone?").await;
}

#[tokio::test]
async fn agent_pushes_reach_every_connection_and_survive_a_delay() {
    let server = builder().agent_delay(Duration::from_millis(5)).start().await.unwrap();
    let mut a = Client::customer(&server).await;
    let mut b = a.again(&server).await;
    let (chat, _) = a.start_chat("hello").await;
    for c in [&mut a, &mut b] {
        c.push("chat_users_updated").await;
        let answer = c.says("You said: hello").await;
        assert!(answer.get("request_id").is_none());
    }
    b.say(&chat, "from b").await;
    a.says("You said: from b").await;
    b.says("You said: from b").await;
}

#[tokio::test]
async fn without_the_agent_nobody_answers() {
    let server = builder().agent(false).start().await.unwrap();
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hello").await;
    c.say(&chat, "/rich").await;
    let rest = c.settle().await;
    let actions: Vec<&str> = rest.iter().map(|f| f["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["incoming_chat_thread", "incoming_event"]);
    assert_eq!(server.chat_events(100, &chat).len(), 2);
}

/// Issue 21, finding 4: the agent's `/file` costs the server no more than the message that
/// asked: every answer points at the same stored picture (one per license), still served.
#[tokio::test]
async fn the_agents_pictures_are_one_stored_file() {
    let server = server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    let mut urls = std::collections::BTreeSet::new();
    for _ in 0..20 {
        c.say(&chat, "/file").await;
        let file = c.event(|e| e["type"] == "file").await;
        urls.insert(file["payload"]["event"]["url"].as_str().unwrap().to_owned());
    }
    assert_eq!(urls.len(), 1, "{urls:?}");
    let url = urls.into_iter().next().unwrap();
    let served = http(&server, "GET", url.trim_start_matches(&server.http_url()), &[], "").await;
    assert_eq!((served.status, served.content_type.as_str()), (200, "image/png"));
}

#[tokio::test]
async fn the_bot_is_an_agent_api_client_of_the_server_on_each_license_without_agents() {
    // License 200 has an agent of its own: the bot serves license 100 only (H37), through
    // one Agent API connection, which is a session of the server like any other.
    let server = builder()
        .licenses([crate::client::LICENSE, 200])
        .agent_token(200, "jane@example.com", "jane-fixed-token-0123456789")
        .start()
        .await
        .expect("server starts");
    assert_eq!(server.stats().sessions, 1, "the bot's websocket");
    let quiet = crate::client::quiet_server().await;
    assert_eq!(quiet.stats().sessions, 0, "--no-agent: no bot connection");

    let mut c = Client::customer(&server).await;
    c.start_chat("hello").await;
    c.says("You said: hello").await;
    // A restart drops every connection: the bot comes back by itself before it returns.
    server.restart().await.expect("restarts");
    assert_eq!(server.stats().sessions, 1);
    let mut c = Client::customer(&server).await;
    c.start_chat("again").await;
    c.says("You said: again").await;
    // The bot's token is the server's secret: nothing in the handle's Debug output names
    // one, and a guess is refused.
    assert!(!format!("{server:?}").contains("bot-"), "no bot token in Debug");
    let mut guess = Client::connect(&server.agent_ws_url()).await;
    guess.fails("login", json!({"token": "Bearer bot-0000000000000000"}), "authentication").await;
}
