//! Events: what threads are made of (protocol file, 3.4).
//!
//! An event has common fields (id, order, author, time, properties) and a kind-specific part
//! chosen by its `type`: [`EventKind`]. On the wire both are one flat JSON object; the serde
//! code lives in `event_serde.rs`. An event type this crate does not know decodes to
//! [`EventKind::Unknown`] with every kind-specific key kept.
//!
//! [`Event`] is an event as the server returns it (ids, order and time filled in);
//! [`NewEvent`] is what a client sends (kind-specific fields plus optional `custom_id` and
//! `properties`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ids::{EventId, UserId};
use crate::objects::properties::Properties;
use crate::time::Timestamp;

/// An event as stored by the server.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct Event {
    /// Server-made id.
    pub id: EventId,
    /// The client's own id, echoed back unchanged.
    pub custom_id: Option<String>,
    /// Sort key within the chat: lower first. Never sort by timestamp.
    pub order: u64,
    /// Who sent it; absent on `system_message`.
    pub author_id: Option<UserId>,
    /// Creation time.
    pub timestamp: Timestamp,
    /// Event properties.
    pub properties: Option<Properties>,
    /// `all` (default) or `agents`: only in the agent-side documents (D16).
    pub recipients: Option<Recipients>,
    /// The kind-specific part, chosen by `type`.
    pub kind: EventKind,
}

impl Event {
    /// An event with its required fields; the optional ones start empty.
    pub fn new(id: impl Into<EventId>, order: u64, timestamp: Timestamp, kind: EventKind) -> Self {
        Self {
            id: id.into(),
            custom_id: None,
            order,
            author_id: None,
            timestamp,
            properties: None,
            recipients: None,
            kind,
        }
    }

    /// Sets the author, returning `self`.
    #[must_use]
    pub fn with_author(mut self, author: impl Into<UserId>) -> Self {
        self.author_id = Some(author.into());
        self
    }

    /// Sets the custom id, returning `self`.
    #[must_use]
    pub fn with_custom_id(mut self, custom_id: impl Into<String>) -> Self {
        self.custom_id = Some(custom_id.into());
        self
    }

    /// The wire `type`.
    pub fn event_type(&self) -> &str {
        self.kind.event_type()
    }
}

/// An event as a client sends it (`send_event`, `start_chat`).
///
/// Decoding ignores server-set keys (`id`, `order`, `author_id`, `timestamp`; `recipients`
/// too without the `agent` feature: customers cannot choose recipients, D16).
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub struct NewEvent {
    /// The client's own id for the event, echoed back by the server.
    pub custom_id: Option<String>,
    /// Event properties (sent in the flat form).
    pub properties: Option<Properties>,
    /// Who the event is for: an agent sends `agents` for a whisper customers never see (H14);
    /// absent means `all`.
    #[cfg(feature = "agent")]
    pub recipients: Option<Recipients>,
    /// The kind-specific part.
    pub kind: EventKind,
}

impl NewEvent {
    /// An event of this kind, without custom id or properties.
    pub fn new(kind: EventKind) -> Self {
        Self {
            custom_id: None,
            properties: None,
            #[cfg(feature = "agent")]
            recipients: None,
            kind,
        }
    }

    /// Sets the recipients, returning `self` (`Recipients::Agents`: a whisper).
    #[cfg(feature = "agent")]
    #[must_use]
    pub fn with_recipients(mut self, recipients: Recipients) -> Self {
        self.recipients = Some(recipients);
        self
    }

    /// A `message` event.
    pub fn message(text: impl Into<String>) -> Self {
        Self::new(EventKind::Message(Message::new(text)))
    }

    /// Sets the custom id, returning `self`.
    #[must_use]
    pub fn with_custom_id(mut self, custom_id: impl Into<String>) -> Self {
        self.custom_id = Some(custom_id.into());
        self
    }

    /// Sets the properties, returning `self`.
    #[must_use]
    pub fn with_properties(mut self, properties: Properties) -> Self {
        self.properties = Some(properties);
        self
    }

    /// The wire `type`.
    pub fn event_type(&self) -> &str {
        self.kind.event_type()
    }
}

/// Who an event is for (`recipients`).
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum Recipients {
    /// Everyone in the chat (the default).
    All,
    /// Agents only; never delivered to customers.
    Agents,
    /// A value this crate does not know.
    Other(String),
}

impl Recipients {
    /// The wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::All => "all",
            Self::Agents => "agents",
            Self::Other(s) => s,
        }
    }

    pub(crate) fn parse(s: &str) -> Self {
        match s {
            "all" => Self::All,
            "agents" => Self::Agents,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl Serialize for Recipients {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The kind-specific part of an event.
#[derive(Clone, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum EventKind {
    /// `message`: a text message.
    Message(Message),
    /// `system_message`: made by the server only.
    SystemMessage(SystemMessage),
    /// `annotation`: a note appended to the last thread without opening one.
    Annotation(Annotation),
    /// `filled_form`: an answered form.
    FilledForm(FilledForm),
    /// `file`: an uploaded file (made by the server when `send_file` succeeds).
    File(FileAttachment),
    /// `custom`: any JSON payload.
    Custom(Custom),
    /// `rich_message`: cards with buttons that send postbacks.
    RichMessage(RichMessage),
    /// A type this crate does not know: its name and every key other than the common ones.
    Unknown {
        /// The `type` value.
        event_type: String,
        /// The kind-specific keys, as JSON.
        fields: Map<String, Value>,
    },
}

impl EventKind {
    /// The wire `type`.
    pub fn event_type(&self) -> &str {
        match self {
            Self::Message(_) => "message",
            Self::SystemMessage(_) => "system_message",
            Self::Annotation(_) => "annotation",
            Self::FilledForm(_) => "filled_form",
            Self::File(_) => "file",
            Self::Custom(_) => "custom",
            Self::RichMessage(_) => "rich_message",
            Self::Unknown { event_type, .. } => event_type,
        }
    }

    /// The event types of v0.5, in the protocol file's order.
    pub const TYPES: [&'static str; 7] =
        ["message", "system_message", "annotation", "filled_form", "file", "custom", "rich_message"];
}

/// `message`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// The text.
    pub text: String,
}

impl Message {
    /// A message with this text.
    pub fn new(text: impl Into<String>) -> Self {
        Self { text: text.into() }
    }
}

/// `system_message`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SystemMessage {
    /// Human-readable text.
    pub text: String,
    /// The kind, e.g. `agent_joined`, `routing.archived`.
    pub system_message_type: Option<String>,
}

impl SystemMessage {
    /// A system message of this kind.
    pub fn new(text: impl Into<String>, system_message_type: impl Into<String>) -> Self {
        Self { text: text.into(), system_message_type: Some(system_message_type.into()) }
    }
}

/// `annotation`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Annotation {
    /// Free, non-empty kind (e.g. `rating`).
    pub annotation_type: String,
    /// Annotation text.
    pub text: Option<String>,
}

impl Annotation {
    /// An annotation of this kind.
    pub fn new(annotation_type: impl Into<String>, text: Option<String>) -> Self {
        Self { annotation_type: annotation_type.into(), text }
    }
}

/// `filled_form`.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FilledForm {
    /// The form's fields, in order.
    pub fields: Vec<FormField>,
}

impl FilledForm {
    /// A form with these fields.
    pub fn new(fields: Vec<FormField>) -> Self {
        Self { fields }
    }
}

/// One field of a filled form.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FormField {
    /// `text`, `email`, `radio`, `checkbox`, `select`, `title`, `information`...
    #[serde(rename = "type")]
    pub field_type: String,
    /// Field name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Label shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Whether the field was mandatory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Entered value (`text`, `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Choices (`radio`, `checkbox`, `select`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Vec<FormOption>>,
}

impl FormField {
    /// A field of this type and name.
    pub fn new(field_type: impl Into<String>, name: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            field_type: field_type.into(),
            name: Some(name.into()),
            label: Some(label.into()),
            required: None,
            value: None,
            options: None,
        }
    }
}

/// A choice of a `radio`, `checkbox` or `select` field.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FormOption {
    /// Label shown.
    pub label: String,
    /// Value sent.
    pub value: String,
    /// Whether it was selected.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub checked: bool,
}

impl FormOption {
    /// A choice.
    pub fn new(label: impl Into<String>, value: impl Into<String>, checked: bool) -> Self {
        Self { label: label.into(), value: value.into(), checked }
    }
}

/// `file`: an uploaded file.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FileAttachment {
    /// Original file name.
    pub name: String,
    /// Where it can be downloaded.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Pixel width (images only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Pixel height (images only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl FileAttachment {
    /// A file without image dimensions.
    pub fn new(name: impl Into<String>, url: impl Into<String>, content_type: impl Into<String>, size: u64) -> Self {
        Self { name: name.into(), url: url.into(), content_type: content_type.into(), size, width: None, height: None }
    }

    /// Whether it is an image: both dimensions are known (D32).
    pub fn is_image(&self) -> bool {
        self.width.is_some() && self.height.is_some()
    }
}

/// `custom`: an arbitrary JSON payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Custom {
    /// The payload (an object per the reference; any JSON is kept).
    pub content: Value,
}

impl Custom {
    /// A custom event with this content.
    pub fn new(content: Value) -> Self {
        Self { content }
    }
}

/// `rich_message`: structured content (new in v0.5).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RichMessage {
    /// How to render it (e.g. `cards`).
    pub template_id: String,
    /// The cards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<RichElement>,
}

impl RichMessage {
    /// A rich message with these elements.
    pub fn new(template_id: impl Into<String>, elements: Vec<RichElement>) -> Self {
        Self { template_id: template_id.into(), elements }
    }

    /// Every button of every element.
    pub fn buttons(&self) -> impl Iterator<Item = &Button> {
        self.elements.iter().flat_map(|e| e.buttons.iter())
    }
}

/// A card of a rich message.
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RichElement {
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Subtitle.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    /// Image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<Image>,
    /// Buttons.
    #[serde(default, deserialize_with = "crate::objects::null_as_default", skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<Button>,
}

impl RichElement {
    /// An element with a title and buttons.
    pub fn new(title: impl Into<String>, buttons: Vec<Button>) -> Self {
        Self { title: Some(title.into()), subtitle: None, image: None, buttons }
    }
}

/// An image of a rich message element (same meanings as in [`FileAttachment`]).
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Image {
    /// Where the image is.
    pub url: String,
    /// File name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// MIME type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Pixel width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Pixel height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Image {
    /// An image at this URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into(), name: None, content_type: None, size: None, width: None, height: None }
    }
}

/// A button of a rich message element.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Button {
    /// Caption.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub text: String,
    /// Id sent with `send_rich_message_postback`; several buttons may share one.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub postback_id: String,
    /// Users whose latest postback for this button was `toggled: true`.
    #[serde(default, deserialize_with = "crate::objects::null_as_default")]
    pub user_ids: Vec<UserId>,
}

impl Button {
    /// A button nobody has toggled yet.
    pub fn new(text: impl Into<String>, postback_id: impl Into<String>) -> Self {
        Self { text: text.into(), postback_id: postback_id.into(), user_ids: Vec::new() }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Message(m) => f.write_str(&m.text),
            Self::SystemMessage(m) => f.write_str(&m.text),
            Self::Annotation(a) => write!(f, "[{}] {}", a.annotation_type, a.text.as_deref().unwrap_or("")),
            Self::FilledForm(form) => write!(f, "[form with {} fields]", form.fields.len()),
            Self::File(file) => write!(f, "[file {} {}]", file.name, file.url),
            Self::Custom(c) => write!(f, "[custom {}]", c.content),
            Self::RichMessage(r) => write!(f, "[rich message {}]", r.template_id),
            Self::Unknown { event_type, .. } => write!(f, "[{event_type}]"),
        }
    }
}
