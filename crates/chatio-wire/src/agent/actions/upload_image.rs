//! `upload_image` (Web API only): a multipart upload of a PNG, GIF or JPEG image (agent
//! protocol file, 5.23).
//!
//! Never sent as a JSON frame: the form has one part, `payload.image`, the image itself.

use serde::{Deserialize, Serialize};

/// The `upload_image` request: a multipart form with the image in [`UploadImage::FIELD_IMAGE`].
/// It has no text fields; as a JSON payload it is `{}` (and a server refuses it on the RTM,
/// H3).
#[derive(Clone, PartialEq, Eq, Debug, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadImage {}

impl UploadImage {
    /// Largest accepted image: 10 MiB (H26).
    pub const MAX_FILE_SIZE: u64 = crate::limits::MAX_FILE_SIZE;
    /// Multipart field name of the image part.
    pub const FIELD_IMAGE: &'static str = "payload.image";

    /// The request.
    pub fn new() -> Self {
        Self {}
    }
}

/// `upload_image` response payload.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UploadImageResponse {
    /// Where the image can be fetched.
    pub url: String,
    /// The part of `url` after the image base URL, to store (H26: the reference server's URLs
    /// do not expire).
    pub path: String,
}

impl UploadImageResponse {
    /// A response.
    pub fn new(url: impl Into<String>, path: impl Into<String>) -> Self {
        Self { url: url.into(), path: path.into() }
    }
}
