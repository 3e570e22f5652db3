//! Web API `send_file`: what an upload is (its URL, token, form fields and bytes) and how it
//! fails (protocol file, 4.7). Public as `upload`, with the platform's way of sending it.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use chatio_wire::{ErrorObject, SendFile};
use url::Url;

use crate::error::Error;

/// Where the file's bytes come from.
#[derive(Clone)]
pub enum FileSource {
    /// A file on disk, streamed in chunks.
    Path(PathBuf),
    /// Bytes in memory.
    Bytes(Bytes),
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FileSource::Path(p) => write!(f, "Path({})", p.display()),
            FileSource::Bytes(b) => write!(f, "Bytes({} bytes)", b.len()),
        }
    }
}

/// A progress callback: the fraction of the body sent, in [0, 1], never decreasing.
pub type Progress = Arc<dyn Fn(f64) + Send + Sync>;

/// One upload.
#[derive(Clone)]
pub struct Upload {
    /// `<base>/customer/v0.5/action/send_file?license_id=N`.
    pub url: Url,
    /// The customer access token (sent as `Authorization: Bearer …`; never logged).
    pub access_token: String,
    /// The form's text fields.
    pub fields: SendFile,
    /// The file part's name.
    pub file_name: String,
    /// The file part's content type.
    pub content_type: String,
    /// The bytes.
    pub source: FileSource,
    /// The size in bytes (checked against [`SendFile::MAX_FILE_SIZE`] before any I/O).
    pub size: u64,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("url", &self.url.as_str())
            .field("access_token", &"<redacted>")
            .field("fields", &self.fields)
            .field("file_name", &self.file_name)
            .field("size", &self.size)
            .finish()
    }
}

/// Why an upload failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum UploadError {
    /// The server refused it, with its error object (e.g. `validation`, `authorization`).
    Server(ErrorObject),
    /// The transport failed (connection, file, timeout, unreadable answer).
    Transport(Error),
}

impl std::fmt::Display for UploadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadError::Server(e) => write!(f, "server refused the upload: {e}"),
            UploadError::Transport(e) => write!(f, "upload failed: {e}"),
        }
    }
}

impl std::error::Error for UploadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UploadError::Server(_) => None,
            UploadError::Transport(e) => Some(e),
        }
    }
}
