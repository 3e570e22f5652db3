//! Uploaded files (and the agent's), by the path of their URL.

use bytes::Bytes;

use super::Result;

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileRec {
    pub(crate) content_type: String,
    pub(crate) bytes: Bytes,
}

/// Files, by URL path (`/api/file/chatio/att/<license>/<hex>.<ext>`).
pub(crate) trait FileStore {
    /// The file at this path, if any.
    fn file(&mut self, path: &str) -> Result<Option<FileRec>>;

    /// Stores a file under its path.
    fn put_file(&mut self, path: &str, file: FileRec) -> Result<()>;

    /// The bytes of every stored file together (read once, at start, for the upload quota).
    fn file_bytes(&mut self) -> Result<u64>;
}
