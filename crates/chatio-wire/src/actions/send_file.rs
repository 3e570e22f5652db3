//! `send_file` (Web API only): a multipart upload (protocol file, 4.7).
//!
//! Never sent as a JSON frame: [`SendFile`] types the form's text fields
//! (`payload.chat_id`, `payload.custom_id`); the file itself is the `payload.file` part.

use serde::{Deserialize, Serialize};

use crate::ids::ChatId;

/// The text fields of a `send_file` multipart form.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendFile {
    /// Target chat (`payload.chat_id`).
    pub chat_id: ChatId,
    /// Becomes the file event's `custom_id` (`payload.custom_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
}

impl SendFile {
    /// Largest accepted file: 10 MiB (the JS SDK's own check).
    pub const MAX_FILE_SIZE: u64 = crate::limits::MAX_FILE_SIZE;
    /// Multipart field name of the chat id.
    pub const FIELD_CHAT_ID: &'static str = "payload.chat_id";
    /// Multipart field name of the custom id.
    pub const FIELD_CUSTOM_ID: &'static str = "payload.custom_id";
    /// Multipart field name of the file part.
    pub const FIELD_FILE: &'static str = "payload.file";

    /// The fields of an upload.
    pub fn new(chat_id: impl Into<ChatId>, custom_id: Option<String>) -> Self {
        Self { chat_id: chat_id.into(), custom_id }
    }
}

/// `send_file` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SendFileResponse {
    /// Where the stored file can be downloaded.
    pub url: String,
}

impl SendFileResponse {
    /// A response.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: url.into() }
    }
}
