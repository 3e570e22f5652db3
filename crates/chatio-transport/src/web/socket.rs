//! The RTM websocket on the browser's `WebSocket`.

use std::io;

use futures::StreamExt;
use futures::channel::mpsc;
use url::Url;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{BinaryType, CloseEvent, Event, MessageEvent, WebSocket};

use super::js_message;
use crate::error::{BrowserError, Error};

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
        let ws = WebSocket::new(url.as_str())
            .map_err(|e| Error::Connect { url: url.as_str().to_owned(), source: io::Error::other(js_message(&e)) })?;
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
            .map_err(|e| Error::WebSocket { context: "writing".into(), source: BrowserError(js_message(&e)) })
    }

    /// Closes with a code and a reason (the handlers stay until the socket is dropped).
    pub fn close(&self, code: u16, reason: &str) {
        let _ = self.ws.close_with_code_and_reason(code, reason);
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
