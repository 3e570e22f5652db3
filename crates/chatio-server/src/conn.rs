//! One RTM websocket connection: reads frames, answers them through the engine, writes what
//! the hub queues for it, and enforces the idle timeout.

use std::sync::Arc;

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use chatio_wire::{
    ClientFrame, CustomerDisconnected, DecodeErrorKind, DisconnectReason, ErrorObject, ErrorType, Push, PushFrame,
    Request, Response, ResponseData, ServerFrame, UserId,
};
use futures::{AsyncRead, AsyncWrite, SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::engine::{self, Caller};
use crate::hub::{ConnId, Hub, Out};
use crate::server::{Shared, now_secs};

/// Largest frame accepted (G7, G23); larger ones close the connection with 1009.
pub(crate) const MAX_FRAME: usize = 1 << 20;

/// Close code after `customer_disconnected` (G9).
pub(crate) const CLOSE_DISCONNECTED: u16 = 4000;
/// Close code of the idle timeout (G9).
pub(crate) const CLOSE_IDLE: u16 = 4001;

/// How long [`linger`] discards input after an oversize frame.
const LINGER: std::time::Duration = std::time::Duration::from_secs(2);

/// Most queued frames written before one flush.
const WRITE_BATCH: usize = 64;

/// The `customer_disconnected` push.
fn disconnected_frame(reason: DisconnectReason) -> Utf8Bytes {
    let push = Push::CustomerDisconnected(CustomerDisconnected::new(reason));
    Utf8Bytes::from(ServerFrame::Push(PushFrame::new(None, push)).encode())
}

fn reason_text(reason: &DisconnectReason) -> &'static str {
    match reason {
        DisconnectReason::CustomerBanned => "customer_banned",
        DisconnectReason::TooManyConnections => "too_many_connections",
        DisconnectReason::LicenseNotFound => "license_not_found",
        DisconnectReason::UnsupportedVersion => "unsupported_version",
        DisconnectReason::PingTimeout => "ping_timeout",
        _ => "internal_error",
    }
}

/// Sends `customer_disconnected` and a 4000 close to one connection.
pub(crate) fn disconnect(hub: &Hub, id: ConnId, reason: DisconnectReason) {
    hub.send(id, Out::Text(disconnected_frame(reason.clone())));
    hub.send(id, Out::Close(CLOSE_DISCONNECTED, reason_text(&reason)));
}

/// Sends `customer_disconnected` and a 4000 close to every connection of a customer.
pub(crate) fn disconnect_customer(hub: &Hub, license: u64, customer: &UserId, reason: DisconnectReason) {
    let frame = disconnected_frame(reason.clone());
    hub.send_customer(license, customer, || Out::Text(frame.clone()));
    hub.send_customer(license, customer, || Out::Close(CLOSE_DISCONNECTED, reason_text(&reason)));
}

/// Runs a connection that is refused at once (unknown license, unsupported version): the
/// push, then close 4000 (G12, G13).
pub(crate) async fn refuse<S>(mut ws: WebSocketStream<S>, reason: DisconnectReason)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = ws.send(Message::Text(disconnected_frame(reason.clone()))).await;
    let close = CloseFrame { code: CloseCode::from(CLOSE_DISCONNECTED), reason: reason_text(&reason).into() };
    let _ = ws.close(Some(close)).await;
}

/// What the write side asks the loop to do.
enum Next {
    Continue,
    End,
}

/// Writes one queued item and up to [`WRITE_BATCH`] more that are already waiting, then
/// flushes once: a burst of pushes costs one write to the socket.
async fn write_out<S>(ws: &mut WebSocketStream<S>, first: Out, rx: &mut mpsc::UnboundedReceiver<Out>) -> Next
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut item = first;
    for _ in 0..WRITE_BATCH {
        match item {
            Out::Text(t) => {
                if ws.feed(Message::Text(t)).await.is_err() {
                    return Next::End;
                }
            }
            Out::Close(code, reason) => {
                let _ = ws.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
                return Next::End;
            }
            Out::Drop => return Next::End,
        }
        match rx.try_recv() {
            Ok(next) => item = next,
            Err(_) => break,
        }
    }
    if ws.flush().await.is_err() { Next::End } else { Next::Continue }
}

/// Serves one RTM connection (logged out at first) until it ends.
pub(crate) async fn run<S>(shared: Arc<Shared>, mut ws: WebSocketStream<S>, license: u64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = shared.lock().hub.add(license, tx);
    let idle = shared.config.idle_timeout;
    // Any inbound frame counts as activity (2.7); the timer is re-armed only when it fires,
    // so a busy connection costs no timer work per frame.
    let mut last_inbound = Instant::now();
    let timer = tokio::time::sleep(idle);
    tokio::pin!(timer);
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            biased;
            out = rx.recv() => match out {
                Some(first) => {
                    if let Next::End = write_out(&mut ws, first, &mut rx).await {
                        break;
                    }
                }
                None => break,
            },
            msg = ws.next() => {
                last_inbound = Instant::now();
                match msg {
                    Some(Ok(Message::Text(text))) => on_text(&shared, id, license, text.as_str()),
                    Some(Ok(Message::Binary(_))) => {
                        let err = ErrorObject::validation("binary frames are not used: send JSON in text frames");
                        shared.lock().hub.respond(id, Response::failure(None, "", err));
                    }
                    // Pings are answered by tungstenite itself; pongs only count as activity.
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(_))) => {
                        // tungstenite queued the reply to the peer's close frame: send it.
                        let _ = ws.flush().await;
                        break;
                    }
                    None => break,
                    Some(Err(WsError::Capacity(e))) => {
                        tracing::debug!(conn = id, error = %e, "frame too large: closing with 1009");
                        let close = CloseFrame { code: CloseCode::Size, reason: "frame too large (max 1 MiB)".into() };
                        let _ = ws.close(Some(close)).await;
                        Box::pin(linger(&mut ws)).await;
                        break;
                    }
                    Some(Err(e)) => {
                        tracing::debug!(conn = id, error = %e, "websocket error");
                        break;
                    }
                }
            },
            () = &mut timer => {
                let deadline = last_inbound + idle;
                if Instant::now() >= deadline {
                    tracing::debug!(conn = id, "idle timeout: closing with 4001");
                    let close = CloseFrame { code: CloseCode::from(CLOSE_IDLE), reason: "ping_timeout".into() };
                    let _ = ws.close(Some(close)).await;
                    break;
                }
                timer.as_mut().reset(deadline);
            }
            _ = shutdown.changed() => {
                let close = CloseFrame { code: CloseCode::Away, reason: "server shutting down".into() };
                let _ = ws.close(Some(close)).await;
                break;
            }
        }
    }
    shared.lock().hub.remove(id);
    shared.conn_gone.notify_one();
}

/// After a close caused by an oversize frame, reads and discards what the peer still sends
/// (the rest of that frame, its close reply) for a short while: closing a socket with
/// unread data resets it, and the peer could lose the close frame.
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

/// The validation error for a frame that could not be decoded (G7): the request id and
/// action when they could be read, and a message naming the field.
fn undecodable(e: &chatio_wire::DecodeError) -> Response {
    let action = match e.kind() {
        DecodeErrorKind::InvalidPayload | DecodeErrorKind::InvalidFrame => e.action().unwrap_or(""),
        _ => "",
    };
    let message = match e.field() {
        Some(field) if !e.to_string().contains(field) => format!("{e} (field `{field}`)"),
        _ => e.to_string(),
    };
    Response::failure(e.request_id().cloned(), action, ErrorObject::validation(message))
}

/// Handles one text frame (of any transport).
pub(crate) fn on_text(shared: &Arc<Shared>, id: ConnId, license: u64, text: &str) {
    let frame = match ClientFrame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            shared.lock().hub.respond(id, undecodable(&e));
            return;
        }
    };
    let request_id = frame.request_id;
    let now = now_secs();
    let mut guard = shared.lock();
    let inner = &mut *guard;
    if let Request::Login(login) = &frame.request {
        match engine::login(&mut inner.store, license, login, now, &shared.public_url) {
            Ok((customer, resp, changed)) => {
                match inner.hub.customer_of(id) {
                    Some(current) if *current != customer => {
                        let err = ErrorObject::new(
                            ErrorType::Authorization,
                            "this connection is logged in as another customer",
                        );
                        inner.hub.respond(id, Response::failure(request_id, "login", err));
                        return;
                    }
                    Some(_) => {}
                    None => {
                        if inner.hub.count(license, &customer) >= shared.config.max_connections_per_customer {
                            tracing::info!(conn = id, "too many connections for one customer");
                            disconnect(&inner.hub, id, DisconnectReason::TooManyConnections);
                            return;
                        }
                        inner.hub.log_in(id, license, &customer);
                    }
                }
                inner.hub.respond(id, Response::success(request_id.clone(), ResponseData::Login(resp)));
                if changed {
                    let mut fx = engine::Effects::default();
                    engine::customer_updated(&inner.store, &inner.hub.presence, license, &customer, true, &mut fx);
                    shared.finish(inner, license, fx, Some((id, request_id.as_ref())));
                }
            }
            Err(e) => {
                let banned = e.kind == ErrorType::CustomerBanned;
                inner.hub.respond(id, Response::failure(request_id, "login", e));
                if banned {
                    disconnect(&inner.hub, id, DisconnectReason::CustomerBanned);
                }
            }
        }
        return;
    }
    let action = frame.request.action().to_owned();
    if let Request::Unknown { .. } = frame.request {
        let err = ErrorObject::validation(format!("unknown action `{action}`"));
        inner.hub.respond(id, Response::failure(request_id, action, err));
        return;
    }
    let Some(customer) = inner.hub.customer_of(id).cloned() else {
        let err = ErrorObject::new(ErrorType::Authentication, "login required: the first request must be `login`");
        inner.hub.respond(id, Response::failure(request_id, action, err));
        return;
    };
    if inner.store.licenses.get(&license).is_some_and(|l| l.expired) {
        let err = ErrorObject::with_default_message(ErrorType::LicenseExpired);
        inner.hub.respond(id, Response::failure(request_id, action, err));
        return;
    }
    let caller = Caller { license, customer };
    let (result, fx) = engine::handle(&mut inner.store, &inner.hub.presence, &caller, frame.request, now);
    let response = match result {
        Ok(data) => Response::success(request_id.clone(), data),
        Err(e) => Response::failure(request_id.clone(), action, e),
    };
    inner.hub.respond(id, response);
    shared.finish(inner, license, fx, Some((id, request_id.as_ref())));
}
