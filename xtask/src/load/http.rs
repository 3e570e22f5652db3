//! The raw HTTP/1.1 client of the load generators: customer tokens (one per connection, or
//! many over keep-alive lanes), one-shot requests, Web API actions. Raw so that a generator
//! can also send what no client library would (a body announced and never sent).

use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, ensure};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::ws::find;

/// Bound on one request's answer.
pub const WAIT: Duration = Duration::from_secs(30);
/// The largest answer read over keep-alive.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The token endpoint's request line (a new customer of license 100 each time).
pub fn token_path(client: &str) -> String {
    format!("/customer/?client_id={client}&response_type=token&redirect_uri=http%3A%2F%2Flocalhost%2F{client}")
}

/// The `access_token` of a token endpoint answer.
pub fn access_token(status: u16, body: &[u8]) -> Result<String> {
    ensure!(status == 200, "the token endpoint answered {status}: {}", String::from_utf8_lossy(body));
    let v: serde_json::Value = serde_json::from_slice(body).context("the token endpoint's answer is not JSON")?;
    v["access_token"].as_str().map(str::to_owned).ok_or_else(|| anyhow!("no access_token in {v}"))
}

/// One request on a fresh connection (`Connection: close`): (status, body).
pub async fn request(addr: &str, method: &str, path: &str, headers: &str, body: &[u8]) -> Result<(u16, Vec<u8>)> {
    request_from(None, addr, method, path, headers, body).await
}

/// A TCP connection to `addr`, from the local address `local` when given (another loopback
/// address is another client address for the server's per-address limits).
pub async fn connect_from(local: Option<std::net::IpAddr>, addr: &str) -> Result<TcpStream> {
    let Some(ip) = local else {
        return TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"));
    };
    let sa: std::net::SocketAddr = addr.parse().with_context(|| format!("`{addr}` is not an IP address and port"))?;
    let sock = if sa.is_ipv4() { tokio::net::TcpSocket::new_v4() } else { tokio::net::TcpSocket::new_v6() }?;
    sock.bind(std::net::SocketAddr::new(ip, 0)).with_context(|| format!("binding to {ip}"))?;
    sock.connect(sa).await.with_context(|| format!("connecting to {addr} from {ip}"))
}

/// [`request`] from the local address `local`.
pub async fn request_from(
    local: Option<std::net::IpAddr>,
    addr: &str,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>)> {
    let mut s = connect_from(local, addr).await?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await.context("writing the request")?;
    s.write_all(body).await.context("writing the body")?;
    let mut out = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut out))
        .await
        .map_err(|_| anyhow!("{method} {path}: no answer within {WAIT:?}"))?
        .context("reading the answer")?;
    let status = status_of(&out)?;
    let body = find(&out, b"\r\n\r\n").map(|i| out[i + 4..].to_vec()).unwrap_or_default();
    Ok((status, body))
}

/// The status code of an HTTP/1.1 answer.
fn status_of(answer: &[u8]) -> Result<u16> {
    let code = answer.strip_prefix(b"HTTP/1.1 ").and_then(|r| r.get(..3));
    let code = code.and_then(|c| std::str::from_utf8(c).ok()).and_then(|c| c.parse().ok());
    code.ok_or_else(|| {
        anyhow!("not an HTTP/1.1 answer: {:?}", String::from_utf8_lossy(&answer[..answer.len().min(64)]))
    })
}

/// A new customer's token, on a connection of its own.
pub async fn token(addr: &str) -> Result<String> {
    let (status, body) = request(addr, "POST", &token_path("load"), "", b"").await?;
    access_token(status, &body)
}

/// `n` new customers' tokens, over four keep-alive connections.
pub async fn tokens(addr: &str, n: usize) -> Result<Vec<String>> {
    let lanes = 4.min(n.max(1));
    let mut tasks = tokio::task::JoinSet::new();
    for lane in 0..lanes {
        let addr = addr.to_owned();
        let count = n / lanes + usize::from(lane < n % lanes);
        tasks.spawn(async move {
            let mut stream = TcpStream::connect(&addr).await.with_context(|| format!("connecting to {addr}"))?;
            let mut out = Vec::with_capacity(count);
            let mut buf = Vec::new();
            let req = format!("POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\n\r\n", token_path("bench"));
            for _ in 0..count {
                stream.write_all(req.as_bytes()).await.context("writing to the token endpoint")?;
                let (status, body) = read_answer(&mut stream, &mut buf).await?;
                out.push(access_token(status, &body)?);
            }
            anyhow::Ok(out)
        });
    }
    let mut all = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        all.extend(r.context("a token lane panicked")??);
    }
    Ok(all)
}

/// Reads one answer with a `Content-Length` body over keep-alive; `buf` keeps what follows.
pub async fn read_answer(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(u16, Vec<u8>)> {
    loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            let status = status_of(buf)?;
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| anyhow!("an answer without content-length: {head}"))?;
            ensure!(len <= MAX_BODY, "an answer of {len} bytes");
            if buf.len() >= i + 4 + len {
                let body = buf[i + 4..i + 4 + len].to_vec();
                buf.drain(..i + 4 + len);
                return Ok((status, body));
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(WAIT, stream.read(&mut chunk))
            .await
            .map_err(|_| anyhow!("no answer within {WAIT:?}"))?
            .context("reading the answer")?;
        ensure!(n > 0, "the server closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// A Web API action with a customer token: (status, the answer as JSON or `Null`).
pub async fn web(addr: &str, token: &str, action: &str, body: &serde_json::Value) -> Result<(u16, serde_json::Value)> {
    let (status, b) = request(
        addr,
        "POST",
        &format!("/customer/v0.5/action/{action}?license_id=100"),
        &format!("Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"),
        body.to_string().as_bytes(),
    )
    .await?;
    Ok((status, serde_json::from_slice(&b).unwrap_or(serde_json::Value::Null)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_one_shot_and_over_keep_alive_log_in() {
        let server = chatio_server::Server::builder().ephemeral().agent(false).start_blocking().expect("server");
        let addr = server.addr().to_string();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        rt.block_on(async {
            let mut all = tokens(&addr, 9).await.expect("tokens");
            all.push(token(&addr).await.expect("token"));
            let distinct: std::collections::BTreeSet<_> = all.iter().collect();
            assert_eq!(distinct.len(), 10);
            for t in &all {
                let (status, v) = web(&addr, t, "start_chat", &serde_json::json!({})).await.expect("web");
                assert_eq!(status, 200, "{v}");
                assert!(v["payload"]["chat"]["id"].is_string(), "{v}");
            }
            let (status, _) = web(&addr, "bad", "start_chat", &serde_json::json!({})).await.expect("web");
            assert_eq!(status, 401);
        });
    }

    #[test]
    fn a_refusing_endpoint_is_an_error_with_its_answer() {
        assert!(access_token(400, b"{\"error\":\"x\"}").expect_err("400").to_string().contains("400"));
        assert!(access_token(200, b"{}").is_err());
        assert_eq!(access_token(200, b"{\"access_token\":\"t\"}").expect("token"), "t");
        assert_eq!(status_of(b"HTTP/1.1 408 Request Timeout\r\n").expect("status"), 408);
        assert!(status_of(b"garbage").is_err());
    }
}
