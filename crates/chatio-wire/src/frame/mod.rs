//! Frames: what travels on the websocket, one JSON object per text frame (protocol file,
//! section 2).
//!
//! * [`ClientFrame`]: a request, client → server.
//! * [`ServerFrame`]: a [`Response`] to a request, or a [`PushFrame`], server → client.
//!
//! Both directions encode and decode, so the SDK and the reference server share one
//! definition of every field. Decoding dispatches on `action` while reading (no
//! `serde_json::Value` detour) when `action` comes before `payload`, as every known sender
//! writes it; otherwise the payload is kept raw and decoded once the action is known.

mod client_serde;
mod decode;
mod server_serde;
mod web;

pub use decode::{DecodeError, DecodeErrorKind, Limits, MAX_DEPTH, MAX_FRAME_LEN};

use crate::{ErrorObject, Push, Request, RequestId, ResponseData};

/// A request frame: `{"request_id":…,"action":…,"payload":{…}}`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct ClientFrame {
    /// Chosen by the client; echoed in the response and in the pushes it causes on this
    /// connection. Read from `id` when `request_id` is absent (D14).
    pub request_id: Option<RequestId>,
    /// The action and its payload.
    pub request: Request,
}

impl ClientFrame {
    /// A frame.
    pub fn new(request_id: Option<RequestId>, request: Request) -> Self {
        Self { request_id, request }
    }

    /// The JSON text of the frame.
    pub fn encode(&self) -> String {
        encode(self)
    }

    /// Decodes one frame, within the default [`Limits`].
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong and where; never panics.
    pub fn decode(input: &str) -> Result<Self, DecodeError> {
        decode::decode_str(input, &Limits::default())
    }

    /// Decodes one frame from bytes (checked to be UTF-8), within the default [`Limits`].
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong and where; never panics.
    pub fn decode_bytes(input: &[u8]) -> Result<Self, DecodeError> {
        decode::decode_bytes(input, &Limits::default())
    }

    /// Decodes one frame within the given limits.
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong and where; never panics.
    pub fn decode_with(input: &str, limits: &Limits) -> Result<Self, DecodeError> {
        decode::decode_str(input, limits)
    }
}

/// A frame from the server: a response or a push.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum ServerFrame {
    /// `"type":"response"`: the answer to one request.
    Response(Response),
    /// `"type":"push"`: something happened.
    Push(PushFrame),
}

impl ServerFrame {
    /// The JSON text of the frame.
    pub fn encode(&self) -> String {
        encode(self)
    }

    /// Decodes one frame, within the default [`Limits`].
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong and where; never panics.
    pub fn decode(input: &str) -> Result<Self, DecodeError> {
        decode::decode_server(input, &Limits::default())
    }

    /// Decodes one frame from bytes (checked to be UTF-8), within the default [`Limits`].
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong and where; never panics.
    pub fn decode_bytes(input: &[u8]) -> Result<Self, DecodeError> {
        decode::decode_server_bytes(input, &Limits::default())
    }

    /// Decodes one frame within the given limits.
    ///
    /// # Errors
    /// A [`DecodeError`] saying what is wrong and where; never panics.
    pub fn decode_with(input: &str, limits: &Limits) -> Result<Self, DecodeError> {
        decode::decode_server(input, limits)
    }

    /// The frame's request id, if any.
    pub fn request_id(&self) -> Option<&RequestId> {
        match self {
            Self::Response(r) => r.request_id.as_ref(),
            Self::Push(p) => p.request_id.as_ref(),
        }
    }

    /// The frame's action (response) or push name.
    pub fn action(&self) -> &str {
        match self {
            Self::Response(r) => r.action(),
            Self::Push(p) => p.push.action(),
        }
    }
}

impl From<Response> for ServerFrame {
    fn from(r: Response) -> Self {
        Self::Response(r)
    }
}

impl From<PushFrame> for ServerFrame {
    fn from(p: PushFrame) -> Self {
        Self::Push(p)
    }
}

/// The response to a request.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Response {
    /// The request's id, if it had one.
    pub request_id: Option<RequestId>,
    /// `success: true` with the action's payload, or `success: false` with the error.
    pub result: Result<ResponseData, Failure>,
}

impl Response {
    /// A successful response.
    pub fn success(request_id: Option<RequestId>, data: ResponseData) -> Self {
        Self { request_id, result: Ok(data) }
    }

    /// A failed response to `action`.
    pub fn failure(request_id: Option<RequestId>, action: impl Into<String>, error: ErrorObject) -> Self {
        Self { request_id, result: Err(Failure { action: action.into(), error }) }
    }

    /// The action answered.
    pub fn action(&self) -> &str {
        match &self.result {
            Ok(d) => d.action(),
            Err(f) => &f.action,
        }
    }
}

/// A failed response: the action and `payload.error`.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Failure {
    /// The action that failed (empty when the frame's action could not be read, G7).
    pub action: String,
    /// The error object.
    pub error: ErrorObject,
}

impl Failure {
    /// A failure.
    pub fn new(action: impl Into<String>, error: ErrorObject) -> Self {
        Self { action: action.into(), error }
    }
}

/// A push frame.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct PushFrame {
    /// Present only on the copy delivered to the connection whose request caused the push.
    pub request_id: Option<RequestId>,
    /// The push.
    pub push: Push,
}

impl PushFrame {
    /// A push frame.
    pub fn new(request_id: Option<RequestId>, push: Push) -> Self {
        Self { request_id, push }
    }
}

fn encode<T: serde::Serialize>(v: &T) -> String {
    // Every Serialize impl of this crate writes string map keys and finite numbers only, so
    // serde_json cannot fail here; the fallback keeps the function total anyway.
    serde_json::to_string(v).unwrap_or_else(|_| String::from("{}"))
}
