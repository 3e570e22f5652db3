//! Web API bodies (protocol file, 2.6): the action comes from the URL, the body is the
//! payload wrapped as `{"payload":{…}}` or, tolerantly, bare (D11). Responses are the RTM
//! response envelope without `request_id`, or a bare payload.
//!
//! Both are decoded by wrapping the body into a frame that names the action, so errors carry
//! the action and the `payload.…` path exactly as for websocket frames.

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use super::decode::{self, DecodeError, DecodeErrorKind, Limits};
use super::{ClientFrame, Response, ServerFrame};
use crate::Request;

#[derive(Deserialize)]
struct WebBody<'a> {
    #[serde(borrow, default)]
    payload: Option<&'a RawValue>,
    #[serde(default)]
    success: Option<IgnoredAny>,
    #[serde(rename = "type", default)]
    frame_type: Option<IgnoredAny>,
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

impl Request {
    /// Decodes the body of a Web API request to `action` (from the URL path): the `payload`
    /// member if it is an object, else the whole body. An unknown action yields
    /// [`Request::Unknown`].
    ///
    /// # Errors
    /// A [`DecodeError`] naming the action and the field, as for websocket frames.
    pub fn decode_web_body(action: &str, body: &[u8]) -> Result<Request, DecodeError> {
        let (text, probe) = checked_text(body)?;
        let payload = match probe.payload {
            Some(p) if p.get().trim_start().starts_with('{') => p.get(),
            _ => text,
        };
        let frame = format!(r#"{{"action":{},"payload":{payload}}}"#, json_string(action));
        ClientFrame::decode_with(&frame, &Limits::with_max_frame_len(usize::MAX)).map(|f| f.request)
    }
}

impl Response {
    /// Decodes a Web API response body to `action`: the response envelope (recognised by a
    /// `success` or `type` key), or a bare success payload.
    ///
    /// # Errors
    /// A [`DecodeError`] naming the field.
    pub fn decode_web(action: &str, body: &[u8]) -> Result<Response, DecodeError> {
        let (text, probe) = checked_text(body)?;
        let action = json_string(action);
        let frame = if probe.success.is_some() || probe.frame_type.is_some() {
            // An envelope, usually without `action`: put it first (a key in the body wins).
            // The body has at least one key, so a comma can follow.
            let inner = text.trim_start().strip_prefix('{').unwrap_or(text);
            format!(r#"{{"action":{action},"type":"response",{inner}"#)
        } else {
            format!(r#"{{"action":{action},"type":"response","success":true,"payload":{text}}}"#)
        };
        match ServerFrame::decode_with(&frame, &Limits::with_max_frame_len(usize::MAX))? {
            ServerFrame::Response(r) => Ok(r),
            ServerFrame::Push(_) => Err(DecodeError::invalid_frame("type", "expected a response, got a push")),
        }
    }
}

impl DecodeError {
    pub(crate) fn invalid_frame(path: &str, message: &str) -> Self {
        let mut e = DecodeError::new(DecodeErrorKind::InvalidFrame, message);
        e.set_path(path);
        e
    }
}
