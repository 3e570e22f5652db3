//! How the server serves the widget's folder: encodings, caching, revalidation, embedding
//! policy. Plain HTTP over a real socket (no browser needed, but the built folder is).

use http_body_util::BodyExt;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::support::*;

type Body = http_body_util::Empty<bytes::Bytes>;

async fn get(url: &str, headers: &[(&str, &str)]) -> (http::StatusCode, http::HeaderMap, Vec<u8>) {
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = http::Request::get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = client.request(req.body(Body::new()).unwrap()).await.expect("request");
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (parts.status, parts.headers, bytes)
}

fn header<'a>(h: &'a http::HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
#[ignore = "a browser test (Chromium, chromedriver, the built widget): cargo xtask widget, then cargo test -p chatio-widget --test browser -- --include-ignored"]
async fn assets_are_compressed_cached_and_revalidated() {
    let assets = root().join("target/widget");
    if !assets.join("loader.js.gz").is_file() {
        let required = std::env::var("CHATIO_BROWSER_TESTS").is_ok_and(|v| v == "require");
        assert!(!required, "the widget is not built (run `cargo xtask widget`)");
        crate::support::skipped("the serving test", "the widget is not built (run `cargo xtask widget`)");
        return;
    }
    let server = chatio_server::Server::builder()
        .ephemeral()
        .widget_dir(&assets)
        .embed_origin(100, "https://shop.example")
        .start()
        .await
        .expect("server");
    let base = format!("{}/widget/", server.http_url());

    // The loader: gzip when asked, no-cache with an ETag, and 304 when revalidated.
    let (status, h, body) = get(&format!("{base}loader.js"), &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-encoding"), "gzip");
    assert_eq!(header(&h, "cache-control"), "no-cache");
    assert_eq!(header(&h, "vary"), "Accept-Encoding");
    assert_eq!(header(&h, "content-type"), "text/javascript; charset=utf-8");
    assert!(body.len() <= 10 * 1024, "loader.js is {} bytes gzipped", body.len());
    let raw = std::fs::read(assets.join("loader.js")).unwrap();
    assert!(body.len() < raw.len() / 2, "{} gzipped vs {} raw", body.len(), raw.len());
    let tag = header(&h, "etag").to_owned();
    assert!(tag.starts_with('"'), "{tag}");
    let (status, h304, body) =
        get(&format!("{base}loader.js"), &[("accept-encoding", "gzip"), ("if-none-match", &tag)]).await;
    assert_eq!((status, body.len()), (http::StatusCode::NOT_MODIFIED, 0));
    assert_eq!(header(&h304, "etag"), tag);
    // Brotli first when both are taken; identity when neither is.
    let (_, h, _) = get(&format!("{base}loader.js"), &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(header(&h, "content-encoding"), "br");
    let (_, h, body) = get(&format!("{base}loader.js"), &[]).await;
    assert_eq!((header(&h, "content-encoding"), body), ("", raw));

    // The page names hashed files; they are immutable for a year.
    let (_, h, page) = get(&format!("{base}index.html?license=100"), &[]).await;
    let page = String::from_utf8(page).unwrap();
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let csp = header(&h, "content-security-policy");
    assert!(csp.ends_with("frame-ancestors https://shop.example"), "{csp}");
    let wasm = page
        .split('"')
        .find(|s| s.starts_with("chatio_widget_bg.") && s.ends_with(".wasm"))
        .expect("the page preloads the hashed wasm")
        .to_owned();
    let (status, h, body) = get(&format!("{base}{wasm}"), &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-encoding"), "br");
    assert_eq!(header(&h, "content-type"), "application/wasm");
    assert_eq!(header(&h, "cache-control"), "public, max-age=31536000, immutable");
    eprintln!("{wasm}: {} bytes brotli", body.len());
    // A license's defaults: own origin and loopback.
    let (_, h, json) = get(&format!("{base}embed.json?license=100"), &[("origin", "http://localhost:1")]).await;
    assert_eq!(header(&h, "access-control-allow-origin"), "*");
    assert_eq!(String::from_utf8(json).unwrap(), r#"{"license":100,"origins":["https://shop.example"]}"#);
    let (status, _, _) = get(&format!("{base}embed.json?license=7"), &[]).await;
    assert_eq!(status, 404);
    // The compressed siblings are not addressable by name; nothing leaves the folder.
    let (status, _, _) = get(&format!("{base}loader.js.gz"), &[]).await;
    assert_eq!(status, 404);
    let (status, _, _) = get(&format!("{base}..%2F..%2FCargo.toml"), &[]).await;
    assert_eq!(status, 404);
    server.shutdown().await;

    // Without configured origins: the server's own and loopback origins.
    let server = chatio_server::Server::builder().ephemeral().widget_dir(&assets).start().await.unwrap();
    let (_, h, _) = get(&format!("{}/widget/?license=100", server.http_url()), &[]).await;
    assert!(
        header(&h, "content-security-policy")
            .ends_with("frame-ancestors 'self' http://localhost:* http://127.0.0.1:* http://[::1]:*"),
        "{h:?}"
    );
    server.shutdown().await;
}
