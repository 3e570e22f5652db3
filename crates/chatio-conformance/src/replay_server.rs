//! Replaying a transcript against a fresh reference server: the client's frames are sent
//! as recorded, and every server frame must equal the recorded one.
//!
//! The server is started with the transcript's seed and agent setting, so its ids repeat.
//! Uploaded files' URLs (random names even on a seeded server) are paired as they come
//! ([`crate::compare::IdMap::of_urls`]). Tokens are made with the server's own token
//! function (the same draws as the token endpoint); recorded faults are injected at their place; recorded uploads are performed.
//! Before a fault the replay makes sure the server has processed everything sent so far,
//! with a `ping` whose answer it keeps to itself.

use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use chatio_server::{Server, ServerHandle};
use serde_json::Value;

use crate::Error;
use crate::live::Live;
use crate::normalize;
use crate::transcript::{Line, Transcript};

const WAIT: Duration = Duration::from_secs(10);

/// Replays a transcript against a fresh reference server.
///
/// # Errors
/// The first server frame that differs from the recording, with the line.
pub async fn replay(t: &Transcript) -> Result<usize, Error> {
    let (_, license, seed, _, agent) =
        t.header().ok_or_else(|| Error::Transcript("the transcript has no session header".into()))?;
    let server = Server::builder().ephemeral().seed(seed).agent(agent).licenses([license]).start().await?;
    let r = run(&server, t, license).await;
    server.shutdown().await;
    r
}

async fn run(server: &ServerHandle, t: &Transcript, license: u64) -> Result<usize, Error> {
    let base = server.http_url();
    let mut conn: Option<Live<_>> = None;
    let mut token = String::new();
    let mut customer: Option<String> = None;
    let mut compared = 0;
    // File names are random even on a seeded server: file URLs are paired, not compared.
    let mut urls = crate::compare::IdMap::of_urls(t);
    for (n, line) in t.lines.iter().enumerate().skip(1) {
        let at = n + 1;
        match line {
            Line::Session { .. } => {}
            Line::Token { fresh, customer_id, .. } => {
                // The token endpoint is hit for the first token and for fresh ones.
                if customer.is_none() || *fresh {
                    let (tok, id) =
                        server.create_token(license, customer.as_deref()).map_err(|e| Error::from(e).at_line(at))?;
                    if customer_id.as_deref().is_some_and(|c| c != id.as_str()) {
                        let (expected, got) = (format!("{customer_id:?}"), id.to_string());
                        return Err(
                            Error::Mismatch { what: "the server made the customer".into(), expected, got }.at_line(at)
                        );
                    }
                    token = tok;
                    customer = Some(id.to_string());
                }
            }
            Line::Connected { .. } => {
                let addr = server.addr();
                let tcp = async_std::net::TcpStream::connect(addr)
                    .await
                    .map_err(|e| Error::net(format_args!("connecting to {addr}"))(e).at_line(at))?;
                let (ws, _) = async_tungstenite::client_async(server.ws_url(license), tcp)
                    .await
                    .map_err(|e| Error::from(e).at_line(at))?;
                conn = Some(Live::new(ws, WAIT, "replay-sync"));
            }
            Line::Out { frame, .. } => {
                let c = conn.as_mut().ok_or_else(|| no_connection(at))?;
                if c.dropped {
                    // Written to a connection the server had dropped: lost when recording
                    // (the client resends it later), so not sent.
                    continue;
                }
                let mut f = frame.clone();
                if f.get("action").and_then(Value::as_str) == Some("login") {
                    f["payload"]["token"] = Value::String(format!("Bearer {token}"));
                }
                let _ = c.ws.send(Message::text(f.to_string())).await;
            }
            Line::In { frame, .. } => {
                let c = conn.as_mut().ok_or_else(|| no_connection(at))?;
                let mismatch = |got: String| {
                    Error::Mismatch { what: "the server sent".into(), expected: frame.to_string(), got }.at_line(at)
                };
                let got = c.next_frame().await.map_err(|e| e.at_line(at))?;
                let mut got = got.ok_or_else(|| mismatch("nothing (the connection ended)".into()))?;
                normalize::frame(&mut got, &base);
                if got != *frame && !crate::compare::frames(frame, &got, &mut urls).is_empty() {
                    return Err(mismatch(got.to_string()));
                }
                compared += 1;
            }
            Line::Fault { fault, customer_id, .. } => {
                if let Some(c) = conn.as_mut() {
                    c.sync().await.map_err(|e| e.at_line(at))?;
                }
                match fault.as_str() {
                    "drop_connections" => {
                        if let Some(c) = conn.as_mut() {
                            c.dropped = true;
                        }
                        server.drop_connections(license, customer_id);
                    }
                    "expire_tokens" => server.expire_tokens(license, customer_id),
                    "swallow_next_response" => server.swallow_next_response(license, customer_id),
                    "ban" => server.ban(license, customer_id),
                    other => return Err(Error::Transcript(format!("unknown fault `{other}`")).at_line(at)),
                }
            }
            Line::Upload { chat_id, custom_id, name, size, .. } => {
                if let Some(c) = conn.as_mut() {
                    c.sync().await.map_err(|e| e.at_line(at))?;
                }
                let sent = async {
                    let rt = chatio_transport::runtime::default_runtime().map_err(chatio_transport::Error::from)?;
                    let client = chatio_transport::http::HttpClient::new(rt, Default::default(), WAIT);
                    let base = url::Url::parse(&base).map_err(|source| Error::Url { url: base.clone(), source })?;
                    crate::live::upload(&client, &base, license, &token, chat_id, custom_id.clone(), name, *size).await
                };
                sent.await.map_err(|e| e.at_line(at))?;
            }
            Line::Disconnected { code, .. } => {
                if let Some(mut c) = conn.take() {
                    if *code == Some(1000) {
                        let _ = c.ws.close(None).await;
                    }
                }
            }
        }
    }
    Ok(compared)
}

fn no_connection(at: usize) -> Error {
    Error::Transcript("a frame but no connection".into()).at_line(at)
}
