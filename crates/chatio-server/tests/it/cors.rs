//! Browser clients: CORS preflights and `Access-Control-Allow-Origin` on the token endpoint
//! and the Web API (the SDK compiled to wasm calls them from a page on another origin).

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::client::quiet_server;

/// Sends a raw HTTP/1.1 request and returns the response head, lower-cased.
async fn head(addr: std::net::SocketAddr, request: String) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("in time")
            .expect("read");
        assert!(n > 0, "the server closed before the head");
        buf.extend_from_slice(&chunk[..n]);
    }
    String::from_utf8_lossy(&buf).to_ascii_lowercase()
}

#[tokio::test]
async fn preflights_are_answered_and_answers_name_the_origin() {
    let server = quiet_server().await;
    let addr = server.addr();
    let origin = "http://127.0.0.1:9";
    // The upload's preflight (it sends `Authorization`).
    let h = head(
        addr,
        format!(
            "OPTIONS /customer/v0.5/action/send_file?license_id=100 HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
             Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(h.starts_with("http/1.1 204"), "{h}");
    assert!(h.contains(&format!("access-control-allow-origin: {origin}")), "{h}");
    assert!(h.contains("access-control-allow-headers: authorization"), "{h}");
    assert!(h.contains("access-control-allow-methods: get, post, options"), "{h}");
    // The token endpoint's answer is readable by the page.
    let form = "client_id=web&response_type=token&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2F";
    let h = head(
        addr,
        format!(
            "POST /customer/ HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
            form.len()
        ),
    )
    .await;
    assert!(h.starts_with("http/1.1 200"), "{h}");
    assert!(h.contains(&format!("access-control-allow-origin: {origin}")), "{h}");
    // Errors too (a browser client must read the error object).
    let h = head(
        addr,
        format!(
            "POST /customer/v0.5/action/send_file?license_id=100 HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
             Content-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    )
    .await;
    assert!(h.starts_with("http/1.1 401"), "{h}");
    assert!(h.contains(&format!("access-control-allow-origin: {origin}")), "{h}");
    // No `Origin`, no CORS headers.
    let h = head(
        addr,
        format!("POST /customer/?{form} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(h.starts_with("http/1.1 200") && !h.contains("access-control"), "{h}");
}
