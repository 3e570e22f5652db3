//! Issue 21: no one becomes another customer. One test per numbered finding that the
//! server part can show over loopback sockets (the cross-origin browser half of finding 3
//! runs in headless Chromium, `cross_origin.rs`), plus the refresh-token rules of G11.

use serde_json::{Value, json};

use crate::client::{Client, builder, http, web};

const LICENSE: u64 = 100;
const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

/// `POST /customer/` with a form body.
async fn token(server: &chatio_server::ServerHandle, form: &str, headers: &[(&str, &str)]) -> (u16, Value) {
    let mut h = vec![FORM];
    h.extend_from_slice(headers);
    let r = http(server, "POST", "/customer/", &h, form.to_owned()).await;
    (r.status, r.json())
}

/// The accounts page's script: the message it posts and the origin it posts it to.
fn posted(body: &[u8]) -> (Value, String) {
    let html = String::from_utf8_lossy(body);
    let message = html.split("var message = ").nth(1).and_then(|r| r.split(";\n").next()).expect("a message");
    let target = html.split("var target = ").nth(1).and_then(|r| r.split(";\n").next()).expect("a target");
    (serde_json::from_str(message).expect("JSON"), serde_json::from_str(target).expect("JSON"))
}

/// Finding 1: a customer id is not a credential. With the default configuration, a request
/// naming the victim's id gets no token, and nothing it gets reads the victim's chats.
#[tokio::test]
async fn finding_1_a_customer_id_gets_no_token_for_that_customer() {
    let server = builder().agent(false).start().await.unwrap();
    let mut victim = Client::customer(&server).await;
    let (chat, _) = victim.start_chat("my secret order").await;
    let form = format!(
        "client_id=x&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2F&customer_id={}",
        victim.customer
    );
    let (status, answer) = token(&server, &form, &[]).await;
    assert_eq!((status, answer["error"].as_str()), (401, Some("unauthorized_client")), "{answer}");
    assert!(answer.get("access_token").is_none());
    // The same request as JSON, in the query, or with a wrong app token: refused alike.
    let json_body = json!({"client_id": "x", "response_type": "token", "redirect_uri": "http://localhost/", "customer_id": victim.customer});
    let r = http(&server, "POST", "/customer", &[("content-type", "application/json")], json_body.to_string()).await;
    assert_eq!(r.status, 401);
    let r = http(&server, "POST", &format!("/customer/?{form}"), &[], "").await;
    assert_eq!(r.status, 401);
    let (status, _) = token(&server, &form, &[("authorization", "Bearer guessed")]).await;
    assert_eq!(status, 401);
    // A token without customer_id is a new customer, who sees none of the victim's chats.
    let (status, other) =
        token(&server, "client_id=x&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2F", &[]).await;
    assert_eq!(status, 200);
    assert_ne!(other["entity_id"], victim.customer.as_str());
    let summary = web(&server, "get_chats_summary", other["access_token"].as_str().unwrap(), json!({})).await.json();
    assert_eq!(summary["payload"]["total_chats"], 0, "{summary}");
    let read = web(
        &server,
        "get_chat_threads",
        other["access_token"].as_str().unwrap(),
        json!({"chat_id": chat, "thread_ids": []}),
    )
    .await;
    assert_eq!(read.status, 403);
}

/// G11: the refresh token resumes the customer, rotates on use, and a reused one revokes
/// its family (the owner's newer one dies with it).
#[tokio::test]
async fn refresh_tokens_resume_rotate_and_a_reuse_revokes_the_family() {
    let server = builder().agent(false).start().await.unwrap();
    let first = "client_id=web&response_type=token&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2F";
    let (_, a) = token(&server, first, &[]).await;
    let customer = a["entity_id"].as_str().unwrap().to_owned();
    let r1 = a["refresh_token"].as_str().expect("a refresh token").to_owned();
    assert!(r1.len() >= 32 && !r1.contains(&customer), "{r1}");
    let refresh = |rt: &str| format!("client_id=web&grant_type=refresh_token&refresh_token={rt}");
    let (status, b) = token(&server, &refresh(&r1), &[]).await;
    assert_eq!((status, b["entity_id"].as_str()), (200, Some(customer.as_str())), "{b}");
    let r2 = b["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(r1, r2);
    let c = Client::with_token(&server, b["access_token"].as_str().unwrap()).await;
    assert_eq!(c.customer, customer);
    // Another client id cannot use it.
    let (status, e) =
        token(&server, &format!("client_id=other&grant_type=refresh_token&refresh_token={r2}"), &[]).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")));
    // r2 is used; r1 again: refused, and r3 is revoked with its family.
    let (status, c) = token(&server, &refresh(&r2), &[]).await;
    assert_eq!(status, 200, "{c}");
    let r3 = c["refresh_token"].as_str().unwrap().to_owned();
    let (status, e) = token(&server, &refresh(&r1), &[]).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    assert!(e["error_description"].as_str().unwrap().contains("already used"));
    let (status, _) = token(&server, &refresh(&r3), &[]).await;
    assert_eq!(status, 400, "the family is revoked");
    assert_eq!(server.stats().refresh_families, 0);
    // A ban revokes the refresh tokens too.
    let (_, d) = token(&server, first, &[]).await;
    server.ban(LICENSE, d["entity_id"].as_str().unwrap());
    let (status, _) = token(&server, &refresh(d["refresh_token"].as_str().unwrap()), &[]).await;
    assert_eq!(status, 400);
}

/// G39: a client that lost a rotation's answer (killed before it kept the new secret)
/// presents the old one again and is still the same customer, as often as the answer is
/// lost, while the new one was never used; the lost successor, if it shows up later after
/// all, revokes the family.
#[tokio::test]
async fn a_refresh_whose_answer_was_lost_is_retried_with_the_same_secret() {
    let server = builder().agent(false).start().await.unwrap();
    let first = "client_id=web&response_type=token&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2F";
    let (_, a) = token(&server, first, &[]).await;
    let customer = a["entity_id"].as_str().unwrap().to_owned();
    let r1 = a["refresh_token"].as_str().unwrap().to_owned();
    let refresh = |rt: &str| format!("client_id=web&grant_type=refresh_token&refresh_token={rt}");
    let (_, lost) = token(&server, &refresh(&r1), &[]).await;
    let lost = lost["refresh_token"].as_str().expect("a successor, never kept").to_owned();
    for _ in 0..2 {
        let (status, b) = token(&server, &refresh(&r1), &[]).await;
        assert_eq!((status, b["entity_id"].as_str()), (200, Some(customer.as_str())), "{b}");
        let next = b["refresh_token"].as_str().unwrap();
        assert!(next != lost && next != r1);
        let c = Client::with_token(&server, b["access_token"].as_str().unwrap()).await;
        assert_eq!(c.customer, customer, "the same customer");
    }
    let (_, b) = token(&server, &refresh(&r1), &[]).await;
    let kept = b["refresh_token"].as_str().unwrap().to_owned();
    assert_eq!(server.stats().refresh_families, 1, "one family throughout");
    // The lost successor shows up after all: a copy went somewhere, the family is revoked.
    let (status, e) = token(&server, &refresh(&lost), &[]).await;
    assert_eq!((status, e["error"].as_str()), (400, Some("invalid_grant")), "{e}");
    let (status, _) = token(&server, &refresh(&kept), &[]).await;
    assert_eq!(status, 400, "the family is revoked");
    assert_eq!(server.stats().refresh_families, 0);
}

/// G11: a registered server-side app authenticates with its client secret (form field or
/// HTTP Basic) to name a customer; the same secret for another app, or a public app, does
/// not.
#[tokio::test]
async fn a_registered_server_side_app_names_customers_with_its_secret() {
    let backend = chatio_server::RegisteredApp::new(LICENSE, "backend", &["https://shop.example/"])
        .unwrap()
        .with_secret("backend-secret");
    let web_app = chatio_server::RegisteredApp::new(LICENSE, "web", &["https://shop.example/"]).unwrap();
    let server = builder().agent(false).register_app(backend).register_app(web_app).start().await.unwrap();
    let ask = |client: &str| {
        format!("client_id={client}&response_type=token&redirect_uri=https%3A%2F%2Fshop.example%2F&customer_id=user-9")
    };
    let (status, _) = token(&server, &ask("backend"), &[]).await;
    assert_eq!(status, 401);
    let (status, t) = token(&server, &(ask("backend") + "&client_secret=backend-secret"), &[]).await;
    assert_eq!((status, t["entity_id"].as_str()), (200, Some("user-9")));
    // Basic base64("backend:backend-secret").
    let (status, _) =
        token(&server, &ask("backend"), &[("authorization", "Basic YmFja2VuZDpiYWNrZW5kLXNlY3JldA==")]).await;
    assert_eq!(status, 200);
    let (status, _) = token(&server, &(ask("web") + "&client_secret=backend-secret"), &[]).await;
    assert_eq!(status, 401, "the secret belongs to another app");
    let (status, _) = token(&server, &(ask("backend") + "&client_secret=backend-secre"), &[]).await;
    assert_eq!(status, 401);
}

/// Finding 2: the accounts page does not hand out a customer by a cookie holding its id.
/// The cookie it sets holds a random secret (HttpOnly), which resumes the customer; a
/// cookie holding a customer id, or a guessed secret, makes a new customer.
#[tokio::test]
async fn finding_2_the_accounts_cookie_is_a_secret_not_the_customer_id() {
    let server = builder().agent(false).app_token("only-for-backends").start().await.unwrap();
    let page = "/customer?license_id=100&client_id=x&response_type=token&redirect_uri=http://127.0.0.1:7/&post_message_uri=http://127.0.0.1:7/&state=s";
    let mut victim = Client::customer(&server).await;
    victim.start_chat("private").await;
    let forged = format!("chatio_customer_100={}", victim.customer);
    let r = http(&server, "GET", page, &[("cookie", forged.as_str())], "").await;
    let (message, target) = posted(&r.body);
    assert_eq!(target, "http://127.0.0.1:7");
    assert_ne!(message["entity_id"], victim.customer.as_str(), "{message}");
    assert!(server.chats_of(LICENSE, message["entity_id"].as_str().unwrap()).is_empty());
    // The cookie set is a random secret, HttpOnly, not the customer id.
    let set = r.headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("a cookie").to_owned();
    let entity = message["entity_id"].as_str().unwrap().to_owned();
    assert!(set.starts_with("chatio_customer_100=") && !set.contains(&entity), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
    // That cookie resumes that customer; a guessed secret does not.
    let cookie = set.split(';').next().unwrap().to_owned();
    let again = http(&server, "GET", page, &[("cookie", cookie.as_str())], "").await;
    assert_eq!(posted(&again.body).0["entity_id"], entity.as_str());
    let guessed =
        http(&server, "GET", page, &[("cookie", "chatio_customer_100=ck-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")], "").await;
    assert_ne!(posted(&guessed.body).0["entity_id"], entity.as_str());
    // No CORS on the page, whatever the origin.
    let r = http(&server, "GET", page, &[("origin", "http://127.0.0.1:7")], "").await;
    assert!(r.headers.keys().all(|k| !k.as_str().starts_with("access-control")), "{:?}", r.headers);
}

/// Over https the cookie is `Secure; SameSite=None`, so that a page on another site can use
/// the accounts page in its iframe.
#[tokio::test]
async fn over_https_the_cookie_is_secure_and_cross_site() {
    let server = builder().agent(false).public_url("https://chat.example").start().await.unwrap();
    let page = "/customer?license_id=100&client_id=x&response_type=token&redirect_uri=http://localhost:7/";
    let r = http(&server, "GET", page, &[], "").await;
    let set = r.headers.get("set-cookie").and_then(|v| v.to_str().ok()).unwrap().to_owned();
    assert!(set.contains("Secure") && set.contains("SameSite=None") && set.contains("HttpOnly"), "{set}");
}

/// Finding 3 (the part a socket shows): a token is posted only to the origin of a
/// registered redirect URI, compared exactly, and only that origin may frame the page.
#[tokio::test]
async fn finding_3_tokens_go_only_to_allowed_origins() {
    let server = builder().agent(false).start().await.unwrap();
    let page = |redirect: &str, target: &str| {
        format!(
            "/customer?license_id=100&client_id=x&response_type=token&redirect_uri={redirect}&post_message_uri={target}&state=s"
        )
    };
    // The defaults: own and loopback origins.
    let ok = http(&server, "GET", &page("http://127.0.0.1:5/a", "http://127.0.0.1:5/b"), &[], "").await;
    let (m, target) = posted(&ok.body);
    assert!(m["access_token"].is_string());
    assert_eq!(target, "http://127.0.0.1:5");
    let csp = ok.headers.get("content-security-policy").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert_eq!(csp, "frame-ancestors http://127.0.0.1:5");
    for (redirect, target) in [
        ("http://evil.test/", "http://evil.test/"),
        ("http://127.0.0.1:5/", "http://evil.test/"),
        ("http://localhost.evil.test/", "http://localhost.evil.test/"),
        ("http://127.0.0.1:5/", "http://127.0.0.1.evil.test:5/"),
        ("http://127.0.0.1:5/", "null"),
    ] {
        let r = http(&server, "GET", &page(redirect, target), &[], "").await;
        let (m, to) = posted(&r.body);
        assert!(m.get("access_token").is_none() && m["oauth_exception"].is_string(), "{redirect} {target}: {m}");
        assert_eq!(to, "*", "refusals carry no secret");
        assert!(r.headers.get("set-cookie").is_none());
    }
    // Registered: exact, never by prefix; the token goes where a registered redirect URI is.
    let app = chatio_server::RegisteredApp::new(LICENSE, "shop", &["https://good.com/chat/"]).unwrap();
    let server = builder().agent(false).register_app(app).start().await.unwrap();
    let page = |client: &str, redirect: &str, target: &str| {
        format!(
            "/customer?license_id=100&client_id={client}&response_type=token&redirect_uri={redirect}&post_message_uri={target}"
        )
    };
    let ok = http(&server, "GET", &page("shop", "https://good.com/chat/", "https://good.com/chat/"), &[], "").await;
    assert_eq!(posted(&ok.body).1, "https://good.com");
    for (client, redirect, target) in [
        ("shop", "https://good.com.evil.com/chat/", "https://good.com.evil.com/chat/"),
        ("shop", "https://good.com/chat/", "https://good.com.evil.com/"),
        ("shop", "https://good.com/chat/x", "https://good.com/chat/"),
        ("shop", "http://127.0.0.1:5/", "http://127.0.0.1:5/"),
        ("other", "https://good.com/chat/", "https://good.com/chat/"),
    ] {
        let r = http(&server, "GET", &page(client, redirect, target), &[], "").await;
        let (m, _) = posted(&r.body);
        assert!(m.get("access_token").is_none(), "{client} {redirect} {target}: {m}");
    }
}

/// Finding 3, CORS: answers are readable only by allowed origins, never with credentials
/// (except socket.io's polls, which carry no cookie authority); the `null` origin and
/// look-alikes get nothing.
#[tokio::test]
async fn finding_3_cors_never_reflects_any_origin_with_credentials() {
    let server = builder().agent(false).start().await.unwrap();
    let (_, t) = token(&server, "client_id=x&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2F", &[]).await;
    let bearer = format!("Bearer {}", t["access_token"].as_str().unwrap());
    let cors = |r: &crate::client::HttpReply| {
        (
            r.headers.get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned()),
            r.headers.get("access-control-allow-credentials").is_some(),
        )
    };
    for evil in ["null", "http://evil.test", "http://localhost.evil.test", "http://127.0.0.2:9"] {
        let r = http(
            &server,
            "POST",
            "/customer/v0.5/action/get_chats_summary?license_id=100",
            &[("origin", evil), ("authorization", bearer.as_str()), ("content-type", "application/json")],
            "{}",
        )
        .await;
        assert_eq!(r.status, 200);
        assert_eq!(cors(&r), (None, false), "{evil}");
        let form = "client_id=x&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2F";
        let r = http(&server, "POST", "/customer/", &[("origin", evil), FORM], form).await;
        assert_eq!(cors(&r), (None, false), "{evil}");
        let r = http(
            &server,
            "OPTIONS",
            "/customer/v0.5/action/send_file?license_id=100",
            &[("origin", evil), ("access-control-request-method", "POST")],
            "",
        )
        .await;
        assert_eq!(cors(&r), (None, false), "{evil}");
    }
    let ok = "http://127.0.0.1:9";
    let r = http(
        &server,
        "POST",
        "/customer/v0.5/action/get_chats_summary?license_id=100",
        &[("origin", ok), ("authorization", bearer.as_str()), ("content-type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(cors(&r), (Some(ok.to_owned()), false));
    // socket.io: allowed origins only, with credentials (the JS SDK's polls are credentialed).
    let sio = "/customer/v0.5/rtm/sio/?EIO=3&transport=polling&license_id=100";
    let r = http(&server, "GET", sio, &[("origin", ok)], "").await;
    assert_eq!(cors(&r), (Some(ok.to_owned()), true));
    let r = http(&server, "GET", sio, &[("origin", "http://evil.test")], "").await;
    assert_eq!(cors(&r), (None, false));
    // Files and the widget: none.
    let r = http(&server, "GET", "/static/bot.png", &[("origin", ok)], "").await;
    assert_eq!(cors(&r), (None, false));
}

/// `--seed` never makes a secret predictable: tokens, refresh tokens, cookie secrets and
/// the agent's file URLs differ between two servers with the same seed.
#[tokio::test]
async fn finding_6_a_seed_predicts_no_secret() {
    let mut seen: Vec<Vec<String>> = Vec::new();
    for _ in 0..2 {
        let server = builder().seed(7).start().await.unwrap();
        let (_, t) =
            token(&server, "client_id=x&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2F", &[]).await;
        let page = http(
            &server,
            "GET",
            "/customer?license_id=100&client_id=x&response_type=token&redirect_uri=http://localhost/",
            &[],
            "",
        )
        .await;
        let cookie = page.headers.get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_owned();
        let mut c = Client::with_token(&server, t["access_token"].as_str().unwrap()).await;
        let (chat, _) = c.start_chat("hi").await;
        c.settle().await;
        c.say(&chat, "/file").await;
        let file = c.event(|e| e["type"] == "file").await;
        let url = file["payload"]["event"]["url"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
        seen.push(vec![
            t["entity_id"].as_str().unwrap().to_owned(),
            t["access_token"].as_str().unwrap().to_owned(),
            t["refresh_token"].as_str().unwrap().to_owned(),
            cookie,
            url,
        ]);
    }
    assert_eq!(seen[0][0], seen[1][0], "ids follow the seed");
    for (i, (a, b)) in seen[0].iter().zip(&seen[1]).enumerate().skip(1) {
        assert_ne!(a, b, "secret {i} followed the seed");
    }
}
