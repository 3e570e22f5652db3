//! The Web API (2.6, G33), `send_file` and the files it serves (4.7, G14), the customer
//! token endpoint (1.4, G11).

use std::io::{Read, Write};

use serde_json::{Value, json};

use crate::client::{Client, LICENSE, builder, http, quiet_server, send_file, web};

fn png(width: u32, height: u32, padding: usize) -> Vec<u8> {
    let mut b = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    b.extend_from_slice(&width.to_be_bytes());
    b.extend_from_slice(&height.to_be_bytes());
    b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
    b.extend(std::iter::repeat_n(0x5a, padding));
    b
}

fn error_type(v: &Value) -> &str {
    v["payload"]["error"]["type"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn json_actions_answer_with_the_response_envelope() {
    let server = quiet_server().await;
    let mut rtm = Client::customer(&server).await;
    let reply = web(
        &server,
        "start_chat",
        &rtm.token,
        json!({"payload": {"chat": {"thread": {"events": [{"type": "message", "text": "hi"}]}}}}),
    )
    .await;
    assert_eq!((reply.status, reply.content_type.as_str()), (200, "application/json"));
    let body = reply.json();
    assert_eq!(
        (body["action"].as_str(), body["type"].as_str(), body["success"].as_bool()),
        (Some("start_chat"), Some("response"), Some(true))
    );
    assert!(body.get("request_id").is_none());
    let chat = body["payload"]["chat"]["id"].as_str().unwrap().to_owned();
    assert_eq!(body["payload"]["chat"]["users"][0]["present"], true, "the customer has an RTM connection");
    let push = rtm.push("incoming_chat_thread").await;
    assert!(push.get("request_id").is_none());
    // A bare body works too (D11).
    let reply =
        web(&server, "send_event", &rtm.token, json!({"chat_id": chat, "event": {"type": "message", "text": "bare"}}))
            .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["payload"]["event"]["text"], "bare");
    // RTM-only reads are served too (G33).
    let reply = web(&server, "get_chats_summary", &rtm.token, json!({})).await;
    assert_eq!(reply.json()["payload"]["total_chats"], 1);
    let reply = web(&server, "update_last_seen_timestamp", &rtm.token, json!({"payload": {"chat_id": chat}})).await;
    assert!(reply.json()["payload"]["timestamp"].as_u64().is_some());
    // An empty body reads as `{}`.
    let reply = http(
        &server,
        "POST",
        "/customer/v0.5/action/get_chats_summary?license_id=100",
        &[("authorization", &format!("Bearer {}", rtm.token))],
        "",
    )
    .await;
    assert_eq!(reply.status, 200);
    // The unversioned path acts as v0.5.
    let reply = http(
        &server,
        "POST",
        "/customer/action/get_chats_summary?license_id=100",
        &[("authorization", &format!("Bearer {}", rtm.token))],
        "{}",
    )
    .await;
    assert_eq!(reply.status, 200);
}

#[tokio::test]
async fn web_api_errors_map_to_http_statuses() {
    let server = builder().agent(false).expired_license(300).start().await.unwrap();
    let c = Client::customer(&server).await;
    let (chat, _) = {
        let mut c2 = Client::with_token(&server, &c.token).await;
        c2.start_chat("hi").await
    };
    let cases: Vec<(&str, Option<&str>, &str, u16, &str)> = vec![
        ("/customer/v0.5/action/get_chats_summary?license_id=100", None, "{}", 401, "authentication"),
        ("/customer/v0.5/action/get_chats_summary?license_id=100", Some("Bearer nope"), "{}", 401, "authentication"),
        ("/customer/v0.5/action/teleport?license_id=100", Some("tok"), "{}", 404, "validation"),
        ("/customer/v0.5/action/login?license_id=100", Some("tok"), "{}", 404, "validation"),
        ("/customer/v0.5/action/ping?license_id=100", Some("tok"), "{}", 404, "validation"),
        ("/customer/v0.4/action/get_chats_summary?license_id=100", Some("tok"), "{}", 400, "unsupported_version"),
        ("/customer/v0.5/action/get_chats_summary", Some("tok"), "{}", 400, "validation"),
        ("/customer/v0.5/action/get_chats_summary?license_id=999", Some("tok"), "{}", 404, "validation"),
        (
            "/customer/v0.5/action/send_event?license_id=100",
            Some("tok"),
            "{\"payload\":{\"chat_id\":1}}",
            400,
            "validation",
        ),
        ("/customer/v0.5/action/send_event?license_id=100", Some("tok"), "not json", 400, "validation"),
        (
            "/customer/v0.5/action/close_thread?license_id=100",
            Some("tok"),
            "{\"chat_id\":\"NOSUCHCHAT\"}",
            403,
            "authorization",
        ),
    ];
    for (path, auth, body, status, kind) in cases {
        let auth = auth.map(|a| if a == "tok" { format!("Bearer {}", c.token) } else { a.to_owned() });
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("authorization", a.as_str())).collect();
        let reply = http(&server, "POST", path, &headers, body.to_owned()).await;
        assert_eq!(reply.status, status, "{path} {body}");
        let v = reply.json();
        assert_eq!(error_type(&v), kind, "{path}: {v}");
        assert_eq!(v["success"], false);
        assert!(v["payload"]["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // A payload error names the field.
    let reply =
        web(&server, "send_event", &c.token, json!({"payload": {"chat_id": chat, "event": {"type": "message"}}})).await;
    assert!(reply.json()["payload"]["error"]["message"].as_str().unwrap().contains("text"));
    // An expired license: 403 license_expired.
    let (expired, _) = server.create_token(300, None).unwrap();
    let reply = http(
        &server,
        "POST",
        "/customer/v0.5/action/get_chats_summary?license_id=300",
        &[("authorization", &format!("Bearer {expired}"))],
        "{}",
    )
    .await;
    assert_eq!((reply.status, error_type(&reply.json())), (403, "license_expired"));
}

#[tokio::test]
async fn send_file_stores_serves_and_announces_the_file() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, thread) = c.start_chat("a picture follows").await;
    c.settle().await;
    let image = png(640, 480, 3000);
    let reply = send_file(
        &server,
        &c.token,
        &[("payload.chat_id", &chat), ("payload.custom_id", "up-1")],
        Some(("cat.png", "image/png", &image)),
    )
    .await;
    assert_eq!(reply.status, 200, "{}", String::from_utf8_lossy(&reply.body));
    let body = reply.json();
    assert_eq!((body["action"].as_str(), body["success"].as_bool()), (Some("send_file"), Some(true)));
    let url = body["payload"]["url"].as_str().unwrap().to_owned();
    let prefix = format!("{}/api/file/chatio/att/{LICENSE}/", server.http_url());
    let name = url.strip_prefix(&prefix).unwrap_or_else(|| panic!("{url}"));
    assert_eq!(name.len(), 32 + 4, "32 hex characters and .png (G14): {name}");
    assert!(name.ends_with(".png"));
    // The push (no request id: a Web API call) carries the file event.
    let push = c.push("incoming_event").await;
    assert!(push.get("request_id").is_none());
    assert_eq!(push["payload"]["thread_id"], thread.as_str());
    let ev = &push["payload"]["event"];
    assert_eq!(ev["type"], "file");
    assert_eq!(ev["custom_id"], "up-1");
    assert_eq!(ev["author_id"], c.customer.as_str());
    assert_eq!(
        (ev["name"].as_str(), ev["url"].as_str(), ev["content_type"].as_str()),
        (Some("cat.png"), Some(url.as_str()), Some("image/png"))
    );
    assert_eq!(ev["size"], image.len());
    assert_eq!((ev["width"].as_u64(), ev["height"].as_u64()), (Some(640), Some(480)));
    // Served back as uploaded.
    let served = http(&server, "GET", url.trim_start_matches(&server.http_url()), &[], "").await;
    assert_eq!((served.status, served.content_type.as_str()), (200, "image/png"));
    assert_eq!(&served.body[..], &image[..]);
    assert_eq!(
        http(&server, "GET", &format!("/api/file/chatio/att/{LICENSE}/{}.png", "0".repeat(32)), &[], "").await.status,
        404
    );

    // Without custom id (D10) and without content type: sniffed, no dimensions for text.
    let reply =
        send_file(&server, &c.token, &[("payload.chat_id", &chat)], Some(("notes.txt", "", b"plain words"))).await;
    assert_eq!(reply.status, 200);
    let ev = c.push("incoming_event").await["payload"]["event"].clone();
    assert!(ev.get("custom_id").is_none());
    assert_eq!(ev["content_type"], "application/octet-stream");
    assert!(ev.get("width").is_none() && ev.get("height").is_none());
    assert!(ev["url"].as_str().unwrap().ends_with(".txt"));

    // After the thread is closed, a file opens a new thread.
    c.ok("close_thread", json!({"chat_id": chat})).await;
    let reply =
        send_file(&server, &c.token, &[("payload.chat_id", &chat)], Some(("again.png", "image/png", &png(1, 1, 0))))
            .await;
    assert_eq!(reply.status, 200);
    let push = c.push("incoming_chat_thread").await;
    assert_eq!(push["payload"]["chat"]["thread"]["events"][0]["type"], "file");
}

#[tokio::test]
async fn send_file_rejects_bad_and_oversize_uploads_without_storing_them() {
    let server = quiet_server().await;
    let mut c = Client::customer(&server).await;
    let (chat, _) = c.start_chat("hi").await;
    c.settle().await;
    let small = png(2, 2, 10);
    for (fields, file, status, needle) in [
        (vec![], Some(("a.png", "image/png", &small[..])), 400, "payload.chat_id"),
        (vec![("payload.chat_id", chat.as_str())], None, 400, "payload.file"),
        (vec![("payload.chat_id", "NOSUCHCHAT")], Some(("a.png", "image/png", &small[..])), 403, "NOSUCHCHAT"),
    ] {
        let reply = send_file(&server, &c.token, &fields, file).await;
        assert_eq!(reply.status, status, "{needle}");
        assert!(reply.json()["payload"]["error"]["message"].as_str().unwrap().contains(needle), "{needle}");
    }
    // Not multipart at all.
    let reply = web(&server, "send_file", &c.token, json!({"chat_id": chat})).await;
    assert_eq!((reply.status, error_type(&reply.json())), (400, "validation"));
    // One byte over 10 MiB: 413, validation, nothing stored, no event.
    let big = vec![7u8; 10 * 1024 * 1024 + 1];
    let reply = send_file(
        &server,
        &c.token,
        &[("payload.chat_id", &chat)],
        Some(("big.bin", "application/octet-stream", &big)),
    )
    .await;
    assert_eq!(reply.status, 413);
    let v = reply.json();
    assert_eq!(error_type(&v), "validation");
    assert!(v["payload"]["error"]["message"].as_str().unwrap().contains("too big"), "{v}");
    // Exactly 10 MiB is fine.
    let reply = send_file(
        &server,
        &c.token,
        &[("payload.chat_id", &chat)],
        Some(("max.bin", "application/octet-stream", &big[1..])),
    )
    .await;
    assert_eq!(reply.status, 200);
    let events = server.chat_events(LICENSE, &chat);
    assert_eq!(events.len(), 2, "only the first message and the 10 MiB file");
    // A body announced as larger is refused before it is read.
    let mut raw = std::net::TcpStream::connect(server.addr()).unwrap();
    raw.set_read_timeout(Some(crate::client::WAIT)).unwrap();
    write!(
        raw,
        "POST /customer/v0.5/action/send_file?license_id=100 HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {}\r\n\
         content-type: multipart/form-data; boundary=b\r\ncontent-length: 50000000\r\n\r\n",
        c.token
    )
    .unwrap();
    let mut head = [0u8; 12];
    raw.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 413");
}

#[tokio::test]
async fn the_token_endpoint_accepts_form_json_and_query() {
    let server = quiet_server().await;
    let form = "client_id=my-app&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2F";
    let a = http(&server, "POST", "/customer/", &[("content-type", "application/x-www-form-urlencoded")], form).await;
    assert_eq!((a.status, a.content_type.as_str()), (200, "application/json"));
    let a = a.json();
    assert_eq!(
        (a["token_type"].as_str(), a["expires_in"].as_u64(), a["client_id"].as_str()),
        (Some("Bearer"), Some(3600), Some("my-app"))
    );
    assert_eq!(a["license_id"], LICENSE);
    let entity = a["entity_id"].as_str().unwrap().to_owned();
    let token = a["access_token"].as_str().unwrap().to_owned();
    // The token logs in as that entity, bare or with Bearer.
    let c = Client::with_token(&server, &token).await;
    assert_eq!(c.customer, entity);
    // JSON body, no trailing slash, the refresh grant: the same entity, another token.
    let body = json!({"client_id": "my-app", "grant_type": "refresh_token", "refresh_token": a["refresh_token"], "valid_for": 120});
    let b = http(&server, "POST", "/customer", &[("content-type", "application/json")], body.to_string()).await.json();
    assert_eq!((b["entity_id"].as_str(), b["expires_in"].as_u64()), (Some(entity.as_str()), Some(120)));
    assert_ne!(b["access_token"], a["access_token"]);
    assert_ne!(b["refresh_token"], a["refresh_token"], "rotated");
    // Query string.
    let q =
        http(&server, "POST", "/customer/?client_id=x&response_type=token&redirect_uri=http://127.0.0.1:1/", &[], "")
            .await
            .json();
    let c = Client::with_token(&server, q["access_token"].as_str().unwrap()).await;
    assert_eq!(c.customer, q["entity_id"].as_str().unwrap());
    // Errors.
    for (query, status, error) in [
        ("response_type=token&redirect_uri=http://localhost/", 400, "invalid_request"),
        ("client_id=x&response_type=code&redirect_uri=http://localhost/", 400, "invalid_request"),
        ("client_id=x&response_type=token", 400, "invalid_request"),
        ("client_id=x&response_type=token&redirect_uri=https://a/", 400, "invalid_request"),
        ("client_id=x&response_type=token&redirect_uri=http://localhost/&valid_for=5", 400, "invalid_request"),
        ("client_id=x&response_type=token&redirect_uri=http://localhost/&license_id=999", 400, "invalid_request"),
        (
            "client_id=x&response_type=token&redirect_uri=http://localhost/&customer_id=pinned",
            401,
            "unauthorized_client",
        ),
        ("client_id=x&grant_type=refresh_token&refresh_token=rt-nope", 400, "invalid_grant"),
        ("client_id=x&grant_type=refresh_token", 400, "invalid_request"),
        ("client_id=x&grant_type=password", 400, "unsupported_grant_type"),
    ] {
        let r = http(&server, "POST", &format!("/customer/?{query}"), &[], "").await;
        assert_eq!(r.status, status, "{query}");
        let v = r.json();
        assert_eq!(v["error"], error, "{query}");
        assert!(v["error_description"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let r = http(&server, "POST", "/customer/", &[("content-type", "application/json")], "{oops").await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn the_token_endpoint_accepts_only_registered_apps_once_there_are_some() {
    let app = chatio_server::RegisteredApp::new(LICENSE, "good-app", &["https://a.example/cb"]).unwrap();
    let server = builder().agent(false).register_app(app).start().await.unwrap();
    let ok = http(
        &server,
        "POST",
        "/customer/?client_id=good-app&response_type=token&redirect_uri=https://a.example/cb",
        &[],
        "",
    )
    .await;
    assert_eq!(ok.status, 200);
    let bad = http(
        &server,
        "POST",
        "/customer/?client_id=evil&response_type=token&redirect_uri=https://a.example/cb",
        &[],
        "",
    )
    .await;
    assert_eq!((bad.status, bad.json()["error"].as_str()), (401, Some("unauthorized_client")));
    for uri in ["https://a.example/cb/more", "https://a.example.evil.test/cb", "http://localhost/"] {
        let bad = http(
            &server,
            "POST",
            &format!("/customer/?client_id=good-app&response_type=token&redirect_uri={uri}"),
            &[],
            "",
        )
        .await;
        assert_eq!((bad.status, bad.json()["error"].as_str()), (400, Some("invalid_request")), "{uri}");
    }
}

#[tokio::test]
async fn the_widget_directory_is_served_under_widget_and_nothing_outside_it() {
    let dir = std::env::temp_dir().join(format!("chatio-widget-route-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>w</title>").unwrap();
    std::fs::write(dir.join("chatio_widget_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.parent().unwrap().join("chatio-widget-secret.txt"), "secret").unwrap();
    let server = builder().widget_dir(&dir).start().await.unwrap();
    let page = http(&server, "GET", "/widget/", &[], "").await;
    assert_eq!((page.status, page.content_type.as_str()), (200, "text/html; charset=utf-8"));
    assert!(page.body.starts_with(b"<!doctype html>"));
    let wasm = http(&server, "GET", "/widget/chatio_widget_bg.wasm", &[], "").await;
    assert_eq!((wasm.status, wasm.content_type.as_str()), (200, "application/wasm"));
    assert_eq!(http(&server, "GET", "/widget", &[], "").await.status, 301);
    assert_eq!(http(&server, "GET", "/widget/nope.js", &[], "").await.status, 404);
    let escape = http(&server, "GET", "/widget/../chatio-widget-secret.txt", &[], "").await;
    assert_eq!(escape.status, 404);
    let escape = http(&server, "GET", "/widget/%2e%2e/chatio-widget-secret.txt", &[], "").await;
    assert_eq!(escape.status, 404);
    server.shutdown().await;

    // Configured but not built: the page says what to run.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let server = builder().widget_dir(&empty).start().await.unwrap();
    let page = http(&server, "GET", "/widget/", &[], "").await;
    assert_eq!(page.status, 404);
    assert!(String::from_utf8_lossy(&page.body).contains("cargo xtask widget"));
    server.shutdown().await;
    // Not configured: not served.
    let server = builder().start().await.unwrap();
    assert_eq!(http(&server, "GET", "/widget/", &[], "").await.status, 404);
    server.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}
