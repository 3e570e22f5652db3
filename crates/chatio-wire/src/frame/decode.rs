//! Total decoding of untrusted frames: limits, and errors that say what and where.
//!
//! The fast path is a plain `serde_json::from_str`. Only when it fails is the input read a
//! second time, with `serde_path_to_error`, to name the field (`payload.event.text`; not in
//! the wasm32 build, see `field_path`), and a
//! lenient probe recovers the frame's `request_id` and `action` so a server can still answer
//! the request (G7). A failure therefore costs two parses; success costs one.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::server_serde::{ServerApi, ServerFrameSeed};
use crate::objects::event_serde::Key;

use crate::ids::RequestId;

pub use crate::limits::MAX_FRAME_LEN;

/// Deepest nesting of a value the decoder reads: serde_json's fixed recursion limit. Deeper
/// input fails with [`DecodeErrorKind::TooDeep`] without exhausting the stack. Skipped values
/// (unknown keys) and raw ones (unknown payloads) are scanned without recursion and may be
/// deeper; the frame size bounds them.
pub const MAX_DEPTH: usize = 128;

/// Bounds on what the decoder accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest frame in bytes (default [`MAX_FRAME_LEN`]).
    pub max_frame_len: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_frame_len: MAX_FRAME_LEN }
    }
}

impl Limits {
    /// Limits with this maximum frame length.
    pub fn with_max_frame_len(max_frame_len: usize) -> Self {
        Self { max_frame_len }
    }
}

/// What kind of problem a [`DecodeError`] reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The frame is longer than [`Limits::max_frame_len`]; it was not parsed.
    TooLarge,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// Not JSON (or truncated JSON).
    Syntax,
    /// JSON nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// Valid JSON, but not an object.
    NotAnObject,
    /// The object has no `action`.
    MissingAction,
    /// A frame-level key (`request_id`, `action`, `type`, `success`) is invalid.
    InvalidFrame,
    /// The payload does not match what its action requires.
    InvalidPayload,
}

/// Why a frame could not be decoded, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    pub(super) kind: DecodeErrorKind,
    pub(super) request_id: Option<RequestId>,
    pub(super) action: Option<String>,
    pub(super) path: Option<String>,
    pub(super) message: String,
    pub(super) line: usize,
    pub(super) column: usize,
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, message: impl Into<String>) -> Self {
        Self { kind, request_id: None, action: None, path: None, message: message.into(), line: 0, column: 0 }
    }

    pub(crate) fn set_path(&mut self, path: &str) {
        self.path = Some(path.to_owned());
    }

    /// The error, naming `action` as the frame's action.
    #[cfg(feature = "agent")]
    pub(crate) fn with_action(mut self, action: &str) -> Self {
        self.action = Some(action.to_owned());
        self
    }

    /// The kind of problem.
    pub fn kind(&self) -> DecodeErrorKind {
        self.kind
    }

    /// The frame's `request_id` (or legacy `id`), when it could be read.
    pub fn request_id(&self) -> Option<&RequestId> {
        self.request_id.as_ref()
    }

    /// The frame's `action`, when it could be read.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// Where in the frame the problem is, as a dotted path (`payload.event.text`), if known.
    pub fn path(&self) -> Option<&str> {
        self.path.as_deref()
    }

    /// The problem in words, without location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Line and column (1-based) in the input, when known.
    pub fn position(&self) -> Option<(usize, usize)> {
        (self.line > 0).then_some((self.line, self.column))
    }

    /// The field the problem is about: the last segment of [`DecodeError::path`], or the
    /// field named by a "missing field" message.
    pub fn field(&self) -> Option<&str> {
        if let Some(rest) = self.message.strip_prefix("missing field `") {
            return rest.split('`').next();
        }
        self.path.as_deref().and_then(|p| p.rsplit('.').next()).filter(|s| !s.is_empty() && *s != "?")
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            DecodeErrorKind::TooLarge | DecodeErrorKind::NotUtf8 | DecodeErrorKind::NotAnObject => {
                f.write_str(&self.message)?
            }
            DecodeErrorKind::Syntax | DecodeErrorKind::TooDeep => write!(f, "malformed JSON: {}", self.message)?,
            DecodeErrorKind::MissingAction => f.write_str("frame has no `action`")?,
            DecodeErrorKind::InvalidFrame | DecodeErrorKind::InvalidPayload => {
                match &self.action {
                    Some(a) => write!(f, "invalid `{a}` frame")?,
                    None => f.write_str("invalid frame")?,
                }
                match &self.path {
                    Some(p) if !p.is_empty() && p != "." => write!(f, " at `{p}`: {}", self.message)?,
                    _ => write!(f, ": {}", self.message)?,
                }
            }
        }
        if let Some((line, column)) = self.position() {
            write!(f, " (line {line}, column {column})")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {}

pub(crate) fn decode_bytes<T: DeserializeOwned>(input: &[u8], limits: &Limits) -> Result<T, DecodeError> {
    check_len(input.len(), limits)?;
    decode_str(utf8(input)?, limits)
}

pub(crate) fn utf8(input: &[u8]) -> Result<&str, DecodeError> {
    std::str::from_utf8(input).map_err(|e| {
        DecodeError::new(
            DecodeErrorKind::NotUtf8,
            format!("frame is not UTF-8 (invalid byte at offset {})", e.valid_up_to()),
        )
    })
}

pub(crate) fn decode_str<T: DeserializeOwned>(input: &str, limits: &Limits) -> Result<T, DecodeError> {
    check_len(input.len(), limits)?;
    serde_json::from_str(input).map_err(|e| diagnose::<T>(input, e))
}

/// [`decode_str`] for server frames of API `S`, built in place (see `ServerFrameSeed`): the
/// same result, without copying the frame through the layers of the decoder.
pub(crate) fn decode_server<S: ServerApi>(input: &str, limits: &Limits) -> Result<S::Frame, DecodeError>
where
    S::Frame: DeserializeOwned,
{
    check_len(input.len(), limits)?;
    let mut slot = None;
    let mut de = serde_json::Deserializer::from_str(input);
    match ServerFrameSeed::<S>(&mut slot).deserialize(&mut de).and_then(|()| de.end()) {
        Ok(()) => slot.ok_or_else(|| DecodeError::new(DecodeErrorKind::InvalidFrame, "no frame decoded")),
        Err(e) => Err(diagnose::<S::Frame>(input, e)),
    }
}

pub(crate) fn decode_server_bytes<S: ServerApi>(input: &[u8], limits: &Limits) -> Result<S::Frame, DecodeError>
where
    S::Frame: DeserializeOwned,
{
    check_len(input.len(), limits)?;
    decode_server::<S>(utf8(input)?, limits)
}

pub(crate) fn check_len(len: usize, limits: &Limits) -> Result<(), DecodeError> {
    if len > limits.max_frame_len {
        return Err(DecodeError::new(
            DecodeErrorKind::TooLarge,
            format!("frame of {len} bytes exceeds the {}-byte limit", limits.max_frame_len),
        ));
    }
    Ok(())
}

fn request_id_of(v: Option<Value>) -> Option<RequestId> {
    match v? {
        Value::String(s) => Some(RequestId::new(s)),
        Value::Number(n) => serde_json::from_value(Value::Number(n)).ok(),
        _ => None,
    }
}

/// Builds the error for input that failed the fast path.
pub(crate) fn diagnose<T: DeserializeOwned>(input: &str, err: serde_json::Error) -> DecodeError {
    use serde_json::error::Category;
    let (line, column) = (err.line(), err.column());
    match err.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            let msg = strip_position(&err.to_string());
            if msg.contains("recursion limit") {
                return too_deep(input, msg, line, column);
            }
            if msg.contains("number out of range") {
                // The rest of the frame is valid JSON: its request id and action can still
                // be read (the head skips the number without converting it, G7).
                let head = serde_json::from_str::<Head>(input).unwrap_or_default();
                return DecodeError {
                    request_id: head.request_id.or(head.legacy_id),
                    action: head.action,
                    line,
                    column,
                    ..DecodeError::new(DecodeErrorKind::Syntax, msg)
                };
            }
            return DecodeError { line, column, ..DecodeError::new(DecodeErrorKind::Syntax, msg) };
        }
        Category::Data => {}
    }
    // What can be read of any object frame without failing: its request id and action.
    let mut probe = match serde_json::from_str::<serde_json::Map<String, Value>>(input) {
        Ok(p) => p,
        Err(probe_err) => {
            let msg = strip_position(&probe_err.to_string());
            // The frame decoder skips unknown keys without recursing; the probe does not.
            if msg.contains("recursion limit") {
                return too_deep(input, msg, probe_err.line(), probe_err.column());
            }
            return DecodeError {
                line,
                column,
                ..DecodeError::new(DecodeErrorKind::NotAnObject, "frame is not a JSON object")
            };
        }
    };
    let action = match probe.remove("action") {
        Some(Value::String(s)) => Some(s),
        _ => None,
    };
    let request_id = request_id_of(probe.remove("request_id")).or_else(|| request_id_of(probe.remove("id")));
    let (path, msg, line, column) = field_path::<T>(input, &err);
    let kind = if msg == "missing field `action`" {
        DecodeErrorKind::MissingAction
    } else if path.as_deref().is_some_and(is_payload_path) {
        DecodeErrorKind::InvalidPayload
    } else {
        DecodeErrorKind::InvalidFrame
    };
    DecodeError { kind, request_id, action, path, message: msg, line, column }
}

/// Second pass, tracking the path to the failing field: the path, message and position.
#[cfg(not(target_arch = "wasm32"))]
fn field_path<T: DeserializeOwned>(input: &str, err: &serde_json::Error) -> (Option<String>, String, usize, usize) {
    let mut de = serde_json::Deserializer::from_str(input);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            (Some(path), strip_position(&inner.to_string()), inner.line(), inner.column())
        }
        // Cannot happen for a deterministic decoder; keep the first error.
        Ok(_) => (None, strip_position(&err.to_string()), err.line(), err.column()),
    }
}

/// The browser build has no second pass (issue 12, size): `serde_path_to_error` would compile
/// every frame type's decoder a second time, about a third of the module. Its errors keep the
/// message and position but name no field, so a bad payload is
/// [`DecodeErrorKind::InvalidFrame`] there. Only servers act on the difference, and no server
/// runs in a browser.
#[cfg(target_arch = "wasm32")]
#[allow(clippy::extra_unused_type_parameters)] // the native signature
fn field_path<T: DeserializeOwned>(_input: &str, err: &serde_json::Error) -> (Option<String>, String, usize, usize) {
    (None, strip_position(&err.to_string()), err.line(), err.column())
}

/// The error for a frame nested deeper than [`MAX_DEPTH`], with its request id and action when
/// they can be read: a server can still answer the request (G7).
fn too_deep(input: &str, msg: String, line: usize, column: usize) -> DecodeError {
    let head = serde_json::from_str::<Head>(input).unwrap_or_default();
    DecodeError {
        request_id: head.request_id.or(head.legacy_id),
        action: head.action,
        line,
        column,
        ..DecodeError::new(DecodeErrorKind::TooDeep, msg)
    }
}

/// The frame-level keys of an object frame, read without descending into any other value
/// (serde_json skips ignored values without recursion), so a deep payload does not stop it.
#[derive(Default)]
struct Head {
    request_id: Option<RequestId>,
    legacy_id: Option<RequestId>,
    action: Option<String>,
}

/// A request id or action if the value is one, else nothing (the value is skipped).
struct Lenient<T>(Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = d.deserialize_any(Scalar)?;
        Ok(Lenient(v.and_then(|v| T::deserialize(v).ok())))
    }
}

/// Keeps strings and integers as a JSON value; skips anything else.
struct Scalar;

impl<'de> Visitor<'de> for Scalar {
    type Value = Option<Value>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("anything")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl<'de> Deserialize<'de> for Head {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Head;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a frame object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Head, A::Error> {
                let mut head = Head::default();
                while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
                    match &*key {
                        "request_id" => head.request_id = map.next_value::<Lenient<RequestId>>()?.0,
                        "id" => head.legacy_id = map.next_value::<Lenient<RequestId>>()?.0,
                        "action" => head.action = map.next_value::<Lenient<String>>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(head)
            }
        }
        d.deserialize_map(V)
    }
}

/// Whether a `serde_path_to_error` path points into the payload: `payload`, `payload.chat_id`,
/// or `payload[0]` when the payload is (wrongly) an array.
fn is_payload_path(p: &str) -> bool {
    p.strip_prefix("payload").is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('['))
}

/// serde_json appends " at line L column C"; the position is kept apart.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}
