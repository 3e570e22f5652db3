//! The RTM websocket on native targets: async-tungstenite over the runtime's TCP (and rustls
//! for `wss://`), and [`NativeSocket`], the driver's view of it.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use async_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};
use futures::StreamExt;
use url::Url;

use super::net::{self, TlsConfig};
use crate::bounds::MaybeSend;
use crate::error::Error;
use crate::platform::{CLOSED_BY_CLIENT, Closing, Socket, SocketEvent};
use crate::runtime::{BoxFuture, BoxIo, Runtime};

/// An open RTM websocket.
pub type RtmSocket = WebSocketStream<BoxIo>;

/// The websocket's read buffer, allocated per connection and grown in chunks of this size.
pub const READ_BUFFER: usize = 4 * 1024;

/// Opens the websocket. Messages from the server longer than `max_frame_len` bytes fail the
/// stream (the session's [`Config::max_frame_len`](chatio_core::Config::max_frame_len)).
///
/// # Errors
/// Connection, TLS and handshake failures (an HTTP status other than 101 included).
pub async fn connect(
    rt: &Arc<dyn Runtime>,
    tls: &TlsConfig,
    url: &Url,
    max_frame_len: usize,
) -> Result<RtmSocket, Error> {
    let io = net::connect(rt, tls, url).await?;
    let mut config = WebSocketConfig::default();
    // tungstenite allocates its whole read buffer up front (128 KiB by default): that was
    // nearly all of an idle session's memory. Small chunks cost a few more reads for a large
    // frame, which are rare (history answers), and nothing for the usual ones.
    config.read_buffer_size = READ_BUFFER;
    config.max_message_size = Some(max_frame_len);
    config.max_frame_size = Some(max_frame_len);
    let (socket, _response) =
        async_tungstenite::client_async_with_config(url.as_str(), io, Some(config)).await.map_err(|e| {
            Error::WebSocket { context: format!("handshake with {}", crate::urls::redact(url)), source: Box::new(e) }
        })?;
    Ok(socket)
}

/// An open [`RtmSocket`] as the driver reads it: text, binary, the close frame's code and
/// reason when the stream ends, tungstenite's refusal of an oversize message.
pub struct NativeSocket {
    ws: RtmSocket,
    /// The close frame, once read (reported when the stream ends).
    close: Option<(Option<u16>, String)>,
}

impl std::fmt::Debug for NativeSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativeSocket").finish_non_exhaustive()
    }
}

impl NativeSocket {
    /// Wraps an open websocket.
    pub fn new(ws: RtmSocket) -> Self {
        Self { ws, close: None }
    }
}

impl Socket for NativeSocket {
    type Text = Utf8Bytes;

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<SocketEvent<Utf8Bytes>> {
        loop {
            let event = match ready!(self.ws.poll_next_unpin(cx)) {
                Some(Ok(Message::Text(t))) => SocketEvent::Text(t),
                Some(Ok(Message::Binary(b))) => SocketEvent::Binary(b.len()),
                Some(Ok(Message::Close(f))) => {
                    self.close =
                        Some(f.map_or((None, String::new()), |f| (Some(u16::from(f.code)), f.reason.to_string())));
                    continue;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(WsError::Capacity(c))) => SocketEvent::TooLarge { detail: c.to_string() },
                Some(Err(e)) => {
                    SocketEvent::Failed(Error::WebSocket { context: "reading".into(), source: Box::new(e) })
                }
                None => {
                    let (code, reason) = self.close.take().unwrap_or((None, String::new()));
                    SocketEvent::Closed { code, reason }
                }
            };
            return Poll::Ready(event);
        }
    }

    async fn send(&mut self, frame: String) -> Result<(), Error> {
        self.ws
            .send(Message::text(frame))
            .await
            .map_err(|e| Error::WebSocket { context: "writing".into(), source: Box::new(e) })
    }

    /// Boxed: a close happens once per connection, and an inline close future (with the
    /// socket it owns) would grow every idle driver's task by 0.8 KiB.
    fn close(self, why: Closing) -> impl Future<Output = ()> + MaybeSend + 'static {
        let mut ws = self.ws;
        let frame = match why {
            Closing::Requested => Some(CloseFrame { code: CloseCode::Normal, reason: CLOSED_BY_CLIENT.into() }),
            // A close frame without a status code.
            Closing::SessionEnded => None,
        };
        let close: BoxFuture<()> = Box::pin(async move {
            let _ = ws.close(frame).await;
        });
        close
    }

    /// Dropped: no close frame (after a refused frame or a failed write the stream may not
    /// take one).
    fn abandon(self) {}
}
