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

pub(crate) mod client_serde;
mod decode;
pub(crate) mod impls;
pub(crate) mod server_serde;
pub(crate) mod web;

pub use decode::{DecodeError, DecodeErrorKind, Limits, MAX_DEPTH, MAX_FRAME_LEN};
#[cfg(feature = "agent")]
pub(crate) use decode::{decode_bytes, decode_str, diagnose};
pub(crate) use decode::{decode_server, decode_server_bytes};

use crate::actions::{ResponsePayload, ResponseSeed};
use crate::pushes::{PushPayload, PushSeed};
use crate::{Action, ErrorObject, Push, PushKind, Request, RequestId, ResponseData};

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

    impls::codec_methods!(decode::decode_str, decode::decode_bytes);
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

/// The customer API's server frames, for the shared server-frame code.
pub(crate) struct CustomerFrames;

impls::server_frame_impls!(CustomerFrames);

/// The response to a request.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Response {
    /// The request's id, if it had one.
    pub request_id: Option<RequestId>,
    /// `success: true` with the action's payload, or `success: false` with the error.
    pub result: Result<ResponseData, Failure>,
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

pub(crate) fn encode<T: serde::Serialize>(v: &T) -> String {
    // Every Serialize impl of this crate writes string map keys and finite numbers only, so
    // serde_json cannot fail here; the fallback keeps the function total anyway.
    serde_json::to_string(v).unwrap_or_else(|_| String::from("{}"))
}
