//! The plain websocket transport (`/customer/v0.5/rtm/ws`): the upgrade, then one reader
//! loop that feeds the session and runs its timers, and one writer task that drains it.

use std::sync::Arc;

use async_tungstenite::tokio::TokioAdapter;
use async_tungstenite::tungstenite::error::ProtocolError;
use async_tungstenite::tungstenite::handshake::derive_accept_key;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message};
use async_tungstenite::{WebSocketSender, WebSocketStream};
use bytes::Bytes;
use chatio_wire::DisconnectReason;
use chatio_wire::agent::AgentDisconnectReason;
use chatio_wire::limits::MAX_FRAME_LEN;
use futures::{AsyncRead, AsyncWrite, SinkExt, StreamExt};
use http::{StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

use crate::net::http::{Resp, query, respond};
use crate::sendq::{CLOSE_DISCONNECTED, Out, agent_disconnected_frame, disconnected_frame, reason_text};
use crate::session::{self, Outbound};
use crate::state::State;

/// Websocket read buffer per connection (tungstenite grows it for larger frames).
const READ_BUFFER: usize = 2 * 1024;
/// Websocket write batching threshold per connection.
const WRITE_BUFFER: usize = 8 * 1024;
/// Most queued frames written before one flush.
const WRITE_BATCH: usize = 64;
/// How long [`linger`] discards input after a close caused by a bad frame.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Answers the upgrade request of `GET /customer/<version>/rtm/ws` and, once upgraded, runs
/// the session (or refuses it with `customer_disconnected` and close 4000).
pub(crate) fn upgrade(state: Arc<State>, req: hyper::Request<Incoming>, version: Option<String>) -> Resp {
    let q = query(&req);
    let Some(license) = q.get("license_id").and_then(|l| l.parse::<u64>().ok()) else {
        return respond(
            StatusCode::BAD_REQUEST,
            "text/plain",
            "the `license_id` query parameter (an integer) is required",
        );
    };
    handshake(state, req, Endpoint::Customer { license, version })
}

/// Answers the upgrade request of `GET /agent/<version>/rtm/ws` (Agent API, H1: no query
/// parameter; the license comes with the token at `login`) and runs the session, or refuses
/// another version with `agent_disconnected` `unsupported_version` and close 4000.
pub(crate) fn upgrade_agent(state: Arc<State>, req: hyper::Request<Incoming>, version: Option<String>) -> Resp {
    handshake(state, req, Endpoint::Agent { version })
}

/// Which API a websocket serves.
enum Endpoint {
    Customer { license: u64, version: Option<String> },
    Agent { version: Option<String> },
}

fn handshake(state: Arc<State>, req: hyper::Request<Incoming>, endpoint: Endpoint) -> Resp {
    let upgrade_ok = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "a websocket upgrade is required here");
    };
    if !upgrade_ok {
        return respond(StatusCode::BAD_REQUEST, "text/plain", "a websocket upgrade is required here");
    }
    let accept = derive_accept_key(key.as_bytes());
    let refusal = match &endpoint {
        Endpoint::Customer { license, version } => match version.as_deref() {
            None | Some("v0.5") => (!state.config.licenses.contains(license))
                .then_some(Refusal::Customer(DisconnectReason::LicenseNotFound)),
            Some(_) => Some(Refusal::Customer(DisconnectReason::UnsupportedVersion)),
        },
        Endpoint::Agent { version } => match version.as_deref() {
            None | Some("v0.5") => None,
            Some(_) => Some(Refusal::Agent(AgentDisconnectReason::UnsupportedVersion)),
        },
    };
    tokio::spawn(async move {
        let upgraded = match hyper::upgrade::on(req).await {
            Ok(u) => u,
            Err(e) => {
                tracing::debug!(error = %e, "upgrade failed");
                return;
            }
        };
        // Small buffers: an idle session must stay cheap (tungstenite's 128 KiB defaults would
        // cost ~134 KiB a connection). Writes are batched up to WRITE_BUFFER and flushed by
        // the connection task after each burst.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .write_buffer_size(WRITE_BUFFER)
            .max_message_size(Some(MAX_FRAME_LEN))
            .max_frame_size(Some(MAX_FRAME_LEN));
        let io = TokioAdapter::new(TokioIo::new(upgraded));
        let ws = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
        match (refusal, endpoint) {
            (Some(Refusal::Customer(reason)), _) => refuse(ws, reason).await,
            (Some(Refusal::Agent(reason)), _) => refuse_agent(ws, reason).await,
            (None, Endpoint::Customer { license, .. }) => run(state, ws, Some(license)).await,
            (None, Endpoint::Agent { .. }) => run(state, ws, None).await,
        }
    });
    let mut r = respond(StatusCode::SWITCHING_PROTOCOLS, "text/plain", Bytes::new());
    let h = r.headers_mut();
    h.remove(header::CONTENT_TYPE);
    h.insert(header::UPGRADE, header::HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, header::HeaderValue::from_static("Upgrade"));
    if let Ok(v) = header::HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
    }
    r
}

/// Why a connection is refused at once, per API.
enum Refusal {
    Customer(DisconnectReason),
    Agent(AgentDisconnectReason),
}

/// Runs an agent connection that is refused at once (another version, H1): the
/// `agent_disconnected` push, then close 4000 with the reason.
async fn refuse_agent<S>(mut ws: WebSocketStream<S>, reason: AgentDisconnectReason)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let text = reason.as_str().to_owned();
    let _ = ws.send(Message::Text(agent_disconnected_frame(reason))).await;
    let close = CloseFrame { code: CloseCode::from(CLOSE_DISCONNECTED), reason: text.into() };
    let _ = ws.close(Some(close)).await;
}

/// Runs a connection that is refused at once (unknown license, unsupported version): the
/// push, then close 4000 (G12, G13).
async fn refuse<S>(mut ws: WebSocketStream<S>, reason: DisconnectReason)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = ws.send(Message::Text(disconnected_frame(reason.clone()))).await;
    let close = CloseFrame { code: CloseCode::from(CLOSE_DISCONNECTED), reason: reason_text(&reason).into() };
    let _ = ws.close(Some(close)).await;
}

type Sink<S> = WebSocketSender<S>;

/// The writer: drains the session's queue into the socket, batching a burst (at most
/// [`WRITE_BATCH`] frames) into one flush, and reports what it flushed. Returns the sink
/// half when it ends.
///
/// An item is taken from the queue only when it will be written in this batch: an item
/// taken and then dropped at the batch limit would be lost while its bytes stayed counted
/// as pending, and the slow-consumer deadline would close a healthy session (4002) after
/// `write_timeout` (the client then waited that long and resent the request).
async fn write_loop<S>(mut sink: Sink<S>, mut out: Outbound) -> Sink<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(first) = out.next().await {
        let mut next = Some(first);
        let mut bytes = 0;
        let mut batched = 0;
        while let Some(item) = next.take() {
            match item {
                Out::Text(t) => {
                    bytes += t.len();
                    if sink.feed(Message::Text(t)).await.is_err() {
                        return sink;
                    }
                }
                Out::Close(code, reason) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into_owned().into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    out.flushed(bytes);
                    return sink;
                }
                Out::Finish => {
                    let _ = sink.flush().await;
                    return sink;
                }
                Out::Drop => return sink,
            }
            batched += 1;
            if batched < WRITE_BATCH {
                next = out.try_next();
            }
        }
        if sink.flush().await.is_err() {
            return sink;
        }
        out.flushed(bytes);
    }
    sink
}

/// Serves one RTM session over a websocket until it ends.
async fn run<S>(state: Arc<State>, ws: WebSocketStream<S>, license: Option<u64>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (session, outbound) = match license {
        Some(license) => session::open(&state, license),
        None => session::open_agent(&state),
    };
    let id = session.id();
    let (sink, mut stream) = ws.split();
    let mut writer = tokio::spawn(write_loop(sink, outbound));
    let mut reading = true;
    let mut linger_after = false;
    loop {
        tokio::select! {
            biased;
            written = &mut writer => {
                if linger_after {
                    if let Ok(mut ws) = written.map_err(drop).and_then(|sink| WebSocketStream::reunite(sink, stream).map_err(drop)) {
                        Box::pin(linger(&mut ws)).await;
                    }
                }
                break;
            }
            _ = session.ended() => {
                tracing::debug!(conn = id, "writer stuck: dropping the connection");
                break;
            }
            msg = stream.next(), if reading => match msg {
                Some(Ok(Message::Text(text))) => {
                    session.settle_bot().await;
                    session.text(text.as_str());
                }
                Some(Ok(Message::Binary(_))) => {
                    session.unsupported("binary frames are not used: send JSON in text frames");
                }
                // Pings are answered by tungstenite itself; pongs only count as activity.
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => session.activity(),
                Some(Ok(Message::Close(_))) => {
                    // tungstenite queued the reply to the peer's close frame: the writer
                    // flushes it and ends.
                    reading = false;
                    session.peer_closed();
                }
                None => break,
                Some(Err(e)) => {
                    let Some((code, reason)) = close_for(&e) else {
                        tracing::debug!(conn = id, error = %e, "websocket error");
                        break;
                    };
                    tracing::debug!(conn = id, error = %e, code = u16::from(code), "bad frame: closing");
                    reading = false;
                    linger_after = true;
                    session.close(code.into(), reason);
                }
            },
        }
    }
    writer.abort();
    drop(session);
}

/// The close a read error calls for (RFC 6455 7.4.1), if the connection can still take one.
fn close_for(e: &WsError) -> Option<(CloseCode, &'static str)> {
    match e {
        WsError::Capacity(_) => Some((CloseCode::Size, "frame too large (max 1 MiB)")),
        WsError::Utf8(_) => Some((CloseCode::Invalid, "invalid UTF-8 in a text frame")),
        WsError::Protocol(p) => Some(match p {
            ProtocolError::UnmaskedFrameFromClient => (CloseCode::Protocol, "client frames must be masked"),
            _ => (CloseCode::Protocol, "websocket protocol error"),
        }),
        _ => None,
    }
}

/// After a close caused by a bad frame, reads and discards what the peer still sends (the
/// rest of that frame, its close reply) for a short while: closing a socket with unread
/// data resets it, and the peer could lose the close frame.
async fn linger<S>(ws: &mut WebSocketStream<S>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    use futures::AsyncReadExt;
    let mut buf = vec![0u8; 16 * 1024];
    let deadline = Instant::now() + LINGER;
    let sock = ws.get_mut();
    while let Ok(Ok(n)) = tokio::time::timeout_at(deadline, sock.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A burst longer than one write batch reaches the client whole, in order, and leaves
    /// nothing counted as pending (the writer once dropped the item it took at the batch
    /// limit: a lost response, and a 4002 close of a healthy session `write_timeout` later).
    #[tokio::test]
    async fn a_burst_longer_than_a_batch_is_written_whole_and_counted_flushed() {
        let (queue, outbound) = session::Outbound::detached(1 << 20);
        let n = 3 * WRITE_BATCH + 5;
        for i in 0..n {
            queue.send(Out::Text(format!("frame {i}").into()));
        }
        queue.send(Out::Close(1000, "done".into()));
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let server = WebSocketStream::from_raw_socket(TokioAdapter::new(server_io), Role::Server, None).await;
        let mut client = WebSocketStream::from_raw_socket(TokioAdapter::new(client_io), Role::Client, None).await;
        let (sink, _stream) = server.split();
        let writer = tokio::spawn(write_loop(sink, outbound));
        let mut got = Vec::new();
        let read = async {
            while let Some(Ok(msg)) = client.next().await {
                match msg {
                    Message::Text(t) => got.push(t.to_string()),
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        };
        // A bound against a hang only: everything is already queued.
        tokio::time::timeout(std::time::Duration::from_secs(10), read).await.expect("the writer delivered the close");
        let _ = writer.await;
        let want: Vec<String> = (0..n).map(|i| format!("frame {i}")).collect();
        assert_eq!(got.len(), n, "frames lost: {:?}", want.iter().filter(|w| !got.contains(w)).collect::<Vec<_>>());
        assert_eq!(got, want);
        assert_eq!(queue.pending(), 0, "every written byte is counted flushed");
    }
}
