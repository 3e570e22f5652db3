//! Web API bodies (protocol file, 2.6): the action comes from the URL, the body is the
//! payload wrapped as `{"payload":{…}}` or, tolerantly, bare (D11). Responses are the RTM
//! response envelope without `request_id`, or a bare payload.
//!
//! Both are decoded by wrapping the body into a frame that names the action, so errors carry
//! the action and the `payload.…` path exactly as for websocket frames.

use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::decode::{self, DecodeError, DecodeErrorKind, Limits};
use super::{ClientFrame, Response, ServerFrame};
use crate::actions::Request;
use crate::ids::RequestId;
use crate::objects::event_serde::Key;

/// What a Web API body says about its shape. Only a JSON object is a body: an array is
/// refused, as for websocket frames.
struct WebBody<'a> {
    payload: Option<&'a RawValue>,
    envelope: bool,
}

impl<'de> Deserialize<'de> for WebBody<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WebBody<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WebBody<'de>, A::Error> {
                let mut body = WebBody { payload: None, envelope: false };
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "payload" => body.payload = Some(map.next_value()?),
                        "success" | "type" => {
                            map.next_value::<IgnoredAny>()?;
                            body.envelope = true;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(body)
            }
        }
        d.deserialize_map(V)
    }
}

fn checked_text(body: &[u8]) -> Result<(&str, WebBody<'_>), DecodeError> {
    let limits = Limits::default();
    decode::check_len(body.len(), &limits)?;
    let text = decode::utf8(body)?;
    let probe = serde_json::from_str::<WebBody<'_>>(text).map_err(|e| decode::diagnose::<IgnoredAny>(text, e))?;
    Ok((text, probe))
}

fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// A frame built around a piece of the body: `prefix + body[offset..offset + len] + suffix`.
/// Errors found in it are reported at their place in the body, not in the built frame.
struct Wrapped<'a> {
    body: &'a str,
    frame: String,
    prefix_len: usize,
    offset: usize,
    len: usize,
}

impl<'a> Wrapped<'a> {
    fn new(body: &'a str, prefix: &str, piece: &str, suffix: &str) -> Self {
        // `piece` is a sub-slice of `body`: its offset is the distance between the pointers.
        let offset = (piece.as_ptr() as usize).saturating_sub(body.as_ptr() as usize).min(body.len());
        let frame = format!("{prefix}{piece}{suffix}");
        Self { body, frame, prefix_len: prefix.len(), offset, len: piece.len() }
    }

    /// Moves the error's position from the built frame to the body; a position inside the
    /// added text (which cannot hold an error of the body) is dropped.
    fn locate(&self, mut e: DecodeError) -> DecodeError {
        let position = e.position().and_then(|(line, column)| {
            let at = index_of(&self.frame, line, column)?;
            let inside = at.checked_sub(self.prefix_len)?.min(self.len);
            Some(line_column(self.body, self.offset + inside))
        });
        (e.line, e.column) = position.unwrap_or((0, 0));
        e
    }
}

/// The byte index of serde_json's (line, column): `column` bytes after the line's start.
fn index_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start = if line <= 1 { 0 } else { text.match_indices('\n').nth(line - 2).map(|(i, _)| i + 1)? };
    Some(start + column)
}

/// serde_json's (line, column) of a byte index.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let head = text.get(..at).unwrap_or(text);
    let start = head.rfind('\n').map_or(0, |i| i + 1);
    (1 + head.matches('\n').count(), at.saturating_sub(start))
}

/// Decodes the Web API request body to `action` with `decode`, given as a request frame: the
/// body's `payload` member if that is an object, else the whole body (D11). Errors are placed
/// in the body.
pub(crate) fn decode_request_body<T>(
    action: &str,
    body: &[u8],
    decode: impl FnOnce(&str, &Limits) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let (text, probe) = checked_text(body)?;
    let payload = match probe.payload {
        Some(p) if p.get().trim_start().starts_with('{') => p.get(),
        _ => text,
    };
    let prefix = format!(r#"{{"action":{},"payload":"#, json_string(action));
    let w = Wrapped::new(text, &prefix, payload, "}");
    decode(&w.frame, &Limits::with_max_frame_len(usize::MAX)).map_err(|e| w.locate(e))
}

/// Decodes the Web API response body to `action` with `decode`, given as a response frame:
/// the response envelope (recognised by a `success` or `type` key), or a bare success payload.
pub(crate) fn decode_response_body<T>(
    action: &str,
    body: &[u8],
    decode: impl FnOnce(&str, &Limits) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    let (text, probe) = checked_text(body)?;
    let name = json_string(action);
    let w = if probe.envelope {
        // An envelope, usually without `action`: put it first (a key in the body wins).
        // The body has at least one key, so a comma can follow.
        let inner = text.trim_start().strip_prefix('{').unwrap_or(text);
        Wrapped::new(text, &format!(r#"{{"action":{name},"type":"response","#), inner, "")
    } else {
        Wrapped::new(text, &format!(r#"{{"action":{name},"type":"response","success":true,"payload":"#), text, "}")
    };
    decode(&w.frame, &Limits::with_max_frame_len(usize::MAX)).map_err(|e| w.locate(e))
}

impl Request {
    /// Decodes the body of a Web API request to `action` (from the URL path): the `payload`
    /// member if it is an object, else the whole body. An unknown action yields
    /// [`Request::Unknown`].
    ///
    /// # Errors
    /// A [`DecodeError`] naming the action and the field, as for websocket frames.
    pub fn decode_web_body(action: &str, body: &[u8]) -> Result<Request, DecodeError> {
        decode_request_body(action, body, |frame, limits| ClientFrame::decode_with(frame, limits).map(|f| f.request))
    }
}

impl Response {
    /// Decodes a Web API response body to `action`: the response envelope (recognised by a
    /// `success` or `type` key), or a bare success payload.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the field.
    pub fn decode_web(action: &str, body: &[u8]) -> Result<Response, DecodeError> {
        match decode_response_body(action, body, ServerFrame::decode_with)? {
            ServerFrame::Response(r) => Ok(r),
            ServerFrame::Push(p) => Err(DecodeError::push_not_response(p.push.action(), p.request_id)),
        }
    }
}

impl DecodeError {
    pub(crate) fn invalid_frame(path: &str, message: &str) -> Self {
        let mut e = DecodeError::new(DecodeErrorKind::InvalidFrame, message);
        e.set_path(path);
        e
    }

    /// The error for a Web API response body that reads as a push.
    pub(crate) fn push_not_response(action: &str, request_id: Option<RequestId>) -> Self {
        let mut e = DecodeError::invalid_frame("type", "expected a response, got a push");
        e.action = Some(action.to_owned());
        e.request_id = request_id;
        e
    }
}
