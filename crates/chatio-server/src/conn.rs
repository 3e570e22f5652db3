//! One RTM websocket connection: reads frames, answers them through the engine, writes what
//! the hub queues for it, and enforces the idle timeout.

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::CloseFrame;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use chatio_wire::{
    ClientFrame, CustomerDisconnected, DecodeErrorKind, DisconnectReason, ErrorObject, ErrorType, Push, PushFrame,
    Request, Response, ResponseData, ServerFrame, UserId,
};
use futures::{AsyncRead, AsyncWrite, StreamExt};
use std::sync::Arc;
use tokio::sync::mpsc;

use crate::engine::{self, Caller};
use crate::hub::{ConnId, Hub, Out};
use crate::server::{Shared, now_secs};

/// Largest frame accepted (G7, G23); larger ones close the connection with 1009.
pub(crate) const MAX_FRAME: usize = 1 << 20;

/// Sends `customer_disconnected` and a 4000 close to every connection of a customer.
pub(crate) fn disconnect_customer(hub: &Hub, license: u64, customer: &UserId, reason: DisconnectReason) {
    let frame =
        ServerFrame::Push(PushFrame::new(None, Push::CustomerDisconnected(CustomerDisconnected::new(reason.clone()))))
            .encode();
    hub.send_customer(license, customer, || Out::Text(frame.clone()));
    hub.send_customer(license, customer, || Out::Close(4000, reason.as_str().to_owned()));
}

/// Runs a connection that must be refused at once (unknown license, unsupported version):
/// the push, then close 4000 (G12, G13).
pub(crate) async fn refuse<S>(mut ws: WebSocketStream<S>, reason: DisconnectReason)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let frame =
        ServerFrame::Push(PushFrame::new(None, Push::CustomerDisconnected(CustomerDisconnected::new(reason.clone()))))
            .encode();
    let _ = ws.send(Message::text(frame)).await;
    let _ =
        ws.close(Some(CloseFrame { code: CloseCode::Library(4000), reason: reason.as_str().to_owned().into() })).await;
}

/// Serves one logged-out-at-first RTM connection until it ends.
pub(crate) async fn run<S>(shared: Arc<Shared>, mut ws: WebSocketStream<S>, license: u64)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (tx, mut rx) = mpsc::unbounded_channel();
    let id = shared.lock().hub.add(license, tx);
    let idle = shared.config.idle_timeout;
    let mut deadline = tokio::time::Instant::now() + idle;
    let mut shutdown = shared.shutdown.clone();
    loop {
        tokio::select! {
            biased;
            out = rx.recv() => match out {
                Some(Out::Text(t)) => {
                    if ws.send(Message::text(t)).await.is_err() {
                        break;
                    }
                }
                Some(Out::Close(code, reason)) => {
                    let _ = ws.close(Some(CloseFrame { code: CloseCode::from(code), reason: reason.into() })).await;
                    break;
                }
                Some(Out::Drop) | None => break,
            },
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    deadline = tokio::time::Instant::now() + idle;
                    on_text(&shared, id, license, text.as_str());
                }
                Some(Ok(Message::Binary(_))) => {
                    deadline = tokio::time::Instant::now() + idle;
                    let err = ErrorObject::validation("binary frames are not used: send JSON in text frames");
                    shared.lock().hub.respond(id, Response::failure(None, "", err));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
                    deadline = tokio::time::Instant::now() + idle;
                }
                Some(Ok(Message::Close(_))) | None => break,
                Some(Err(async_tungstenite::tungstenite::Error::Capacity(e))) => {
                    tracing::debug!(conn = id, error = %e, "frame too large");
                    let _ = ws.close(Some(CloseFrame { code: CloseCode::Size, reason: "frame too large".into() })).await;
                    break;
                }
                Some(Err(e)) => {
                    tracing::debug!(conn = id, error = %e, "websocket error");
                    break;
                }
            },
            () = tokio::time::sleep_until(deadline) => {
                tracing::debug!(conn = id, "idle timeout");
                let _ = ws.close(Some(CloseFrame { code: CloseCode::Library(4001), reason: "ping_timeout".into() })).await;
                break;
            }
            _ = shutdown.changed() => {
                let _ = ws.close(Some(CloseFrame { code: CloseCode::Away, reason: "server shutting down".into() })).await;
                break;
            }
        }
    }
    shared.lock().hub.remove(id);
}

/// Handles one text frame.
fn on_text(shared: &Arc<Shared>, id: ConnId, license: u64, text: &str) {
    let frame = match ClientFrame::decode(text) {
        Ok(f) => f,
        Err(e) => {
            // G7: answer with a validation error, with the request id and action if readable.
            let action = match e.kind() {
                DecodeErrorKind::InvalidPayload | DecodeErrorKind::InvalidFrame => e.action().unwrap_or("").to_owned(),
                _ => String::new(),
            };
            let err = ErrorObject::validation(e.to_string());
            shared.lock().hub.respond(id, Response::failure(e.request_id().cloned(), action, err));
            return;
        }
    };
    let request_id = frame.request_id.clone();
    let now = now_secs();
    let mut guard = shared.lock();
    let inner = &mut *guard;
    if let Request::Login(login) = &frame.request {
        match engine::login(&mut inner.store, license, login, now, &shared.public_url) {
            Ok((customer, resp, changed)) => {
                match inner.hub.customer_of(id) {
                    Some((_, current)) if current != customer => {
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
                            let push = Push::CustomerDisconnected(CustomerDisconnected::new(
                                DisconnectReason::TooManyConnections,
                            ));
                            inner.hub.send(id, Out::Text(ServerFrame::Push(PushFrame::new(None, push)).encode()));
                            inner
                                .hub
                                .send(id, Out::Close(4000, DisconnectReason::TooManyConnections.as_str().to_owned()));
                            return;
                        }
                        inner.hub.log_in(id, license, &customer);
                    }
                }
                inner.hub.respond(id, Response::success(request_id.clone(), ResponseData::Login(resp)));
                if changed {
                    let mut fx = engine::Effects::default();
                    engine::customer_updated(&inner.store, &inner.hub.presence, license, &customer, true, &mut fx);
                    shared.finish(inner, license, fx, Some((id, request_id)));
                }
            }
            Err(e) => {
                let banned = e.kind == ErrorType::CustomerBanned;
                inner.hub.respond(id, Response::failure(request_id, "login", e));
                if banned {
                    let push = Push::CustomerDisconnected(CustomerDisconnected::new(DisconnectReason::CustomerBanned));
                    inner.hub.send(id, Out::Text(ServerFrame::Push(PushFrame::new(None, push)).encode()));
                    inner.hub.send(id, Out::Close(4000, DisconnectReason::CustomerBanned.as_str().to_owned()));
                }
            }
        }
        return;
    }
    let action = frame.request.action().to_owned();
    let Some((_, customer)) = inner.hub.customer_of(id) else {
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
    shared.finish(inner, license, fx, Some((id, request_id)));
}
