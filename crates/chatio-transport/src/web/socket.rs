//! The RTM websocket on the browser's `WebSocket`.

use std::future::Future;
use std::task::{Context, Poll, ready};

use futures::StreamExt;
use futures::channel::mpsc;
use url::Url;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use super::js_message;
use crate::bounds::MaybeSend;
use crate::error::{BrowserError, Error};
use crate::platform::{CLOSED_BY_CLIENT, Closing, SocketEvent as DriverEvent};

/// What the browser's websocket reported.
#[derive(Debug)]
pub enum SocketEvent {
    /// The connection opened.
    Open,
    /// A text message.
    Text(String),
    /// A binary message of this many bytes (the protocol has none).
    Binary(usize),
    /// The `error` event (the browser says nothing more; `close` follows).
    Error,
    /// The connection closed.
    Closed {
        /// The close code (1006: closed without a close frame).
        code: u16,
        /// The close reason.
        reason: String,
    },
}

/// An RTM websocket in the browser. Dropping it closes the socket and detaches its handlers.
pub struct Socket {
    ws: WebSocket,
    events: mpsc::UnboundedReceiver<SocketEvent>,
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("url", &self.ws.url()).finish_non_exhaustive()
    }
}

impl Socket {
    /// Starts opening a websocket; [`SocketEvent::Open`] or [`SocketEvent::Closed`] follows.
    ///
    /// # Errors
    /// [`Error::Connect`] when the browser refuses the URL at once (a bad URL, a blocked port).
    pub fn open(url: &Url) -> Result<Self, Error> {
        let ws = WebSocket::new(url.as_str()).map_err(|e| connect_error(url, js_message(&e)))?;
        ws.set_binary_type(BinaryType::Arraybuffer);
        let (tx, events) = mpsc::unbounded();
        let t = tx.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let _ = t.unbounded_send(SocketEvent::Open);
        });
        let t = tx.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let data = e.data();
            let event = match data.as_string() {
                Some(text) => SocketEvent::Text(text),
                None => {
                    let len = data.dyn_ref::<js_sys::ArrayBuffer>().map_or(0, |b| b.byte_length() as usize);
                    SocketEvent::Binary(len)
                }
            };
            let _ = t.unbounded_send(event);
        });
        let t = tx.clone();
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            let _ = t.unbounded_send(SocketEvent::Error);
        });
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let _ = tx.unbounded_send(SocketEvent::Closed { code: e.code(), reason: e.reason() });
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        ws.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self { ws, events, _on_open: on_open, _on_message: on_message, _on_error: on_error, _on_close: on_close })
    }

    /// The next thing the socket reports; `None` never comes while the socket lives.
    pub async fn next(&mut self) -> Option<SocketEvent> {
        self.events.next().await
    }

    /// Sends a text frame.
    ///
    /// # Errors
    /// [`Error::WebSocket`] when the socket is not open.
    pub fn send(&self, text: &str) -> Result<(), Error> {
        self.ws
            .send_with_str(text)
            .map_err(|e| Error::WebSocket { context: "writing".into(), source: Box::new(BrowserError(js_message(&e))) })
    }

    /// Closes with a code and a reason (the handlers stay until the socket is dropped).
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.ws.close_with_code_and_reason(code, reason);
    }
}

/// The browser could not open the websocket to `url`: `why`.
fn connect_error(url: &Url, why: String) -> Error {
    Error::Connect { url: crate::urls::redact(url), source: Box::new(BrowserError(why)) }
}

/// The RTM websocket, as the driver holds it.
pub type RtmSocket = Socket;

/// Opens the websocket and waits for `open` (the driver bounds the wait by its timeout).
///
/// # Errors
/// [`Error::Connect`] when the browser refuses the URL, reports an error or closes the socket
/// before it opened (the browser says no more than that: CORS, refusals and TLS failures look
/// alike to a page).
pub async fn connect(url: &Url) -> Result<Socket, Error> {
    let mut socket = Socket::open(url)?;
    loop {
        match socket.next().await {
            Some(SocketEvent::Open) => return Ok(socket),
            Some(SocketEvent::Error) | None => {
                return Err(connect_error(url, "the browser could not open the websocket".into()));
            }
            Some(SocketEvent::Closed { code, reason }) => {
                return Err(connect_error(url, format!("the websocket closed before opening ({code} {reason})")));
            }
            Some(_) => {}
        }
    }
}

impl crate::platform::Socket for Socket {
    type Text = String;

    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<DriverEvent<String>> {
        loop {
            let event = match ready!(self.events.poll_next_unpin(cx)) {
                Some(SocketEvent::Text(t)) => DriverEvent::Text(t),
                Some(SocketEvent::Binary(len)) => DriverEvent::Binary(len),
                Some(SocketEvent::Closed { code, reason }) => DriverEvent::Closed { code: Some(code), reason },
                Some(SocketEvent::Open | SocketEvent::Error) => continue,
                // The handlers own the senders: this cannot happen while the socket lives. As
                // a connection gone without a close frame, if it did.
                None => DriverEvent::Closed { code: Some(1006), reason: String::new() },
            };
            return Poll::Ready(event);
        }
    }

    fn send(&mut self, frame: String) -> impl Future<Output = Result<(), Error>> + MaybeSend + '_ {
        std::future::ready(Socket::send(self, &frame))
    }

    /// 1000 with [`CLOSED_BY_CLIENT`], whatever `why` (as the browser driver always did).
    fn close(self, _why: Closing) -> impl Future<Output = ()> + MaybeSend + 'static {
        Socket::close(&self, 1000, CLOSED_BY_CLIENT);
        std::future::ready(())
    }

    /// 1000 with [`CLOSED_BY_CLIENT`] too: the browser sends the close frame (or, if the
    /// socket is already closing, nothing more).
    fn abandon(self) {
        Socket::close(&self, 1000, CLOSED_BY_CLIENT);
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onerror(None);
        self.ws.set_onclose(None);
        let _ = self.ws.close();
    }
}
