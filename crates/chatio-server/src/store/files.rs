//! Uploaded files (and the agent's), by the path of their URL.
//!
//! A file counts the events that refer to it (a customer's `file` event, an agent's `file`
//! event or rich-message image naming an `upload_image` file): a customer's upload is
//! referred to by its event from the start; an agent's image by nothing until an event
//! names it. The upkeep deletes a file when its last referring event is deleted
//! (retention), and a file no event has referred to for `ServerConfig::unreferenced_files_after`
//! (`unreferenced_files`).

use bytes::Bytes;

use super::Result;

/// A stored file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct FileRec {
    pub(crate) content_type: String,
    pub(crate) bytes: Bytes,
    /// When it was uploaded (Unix seconds).
    pub(crate) created: u64,
}

/// Files, by URL path (`/api/file/chatio/att/<license>/<hex>.<ext>`).
pub(crate) trait FileStore {
    /// The file at this path, if any.
    fn file(&mut self, path: &str) -> Result<Option<FileRec>>;

    /// Stores a file under its path, referred to by `refs` events.
    fn put_file(&mut self, path: &str, file: FileRec, refs: u64) -> Result<()>;

    /// The bytes of every stored file together (read once, at start, for the upload quota).
    fn file_bytes(&mut self) -> Result<u64>;

    /// Counts one more event referring to the file (`delta` 1) or one fewer (-1); returns
    /// how many refer to it now, `None` when there is no such file.
    fn refer_file(&mut self, path: &str, delta: i64) -> Result<Option<u64>>;

    /// Deletes a file (its record, and its bytes once the deletion is committed); returns
    /// its size, 0 when there was none.
    fn delete_file(&mut self, path: &str) -> Result<u64>;

    /// Up to `limit` files no event refers to that were stored before `before` (Unix
    /// seconds), oldest first.
    fn unreferenced_files(&mut self, before: u64, limit: usize) -> Result<Vec<String>>;
}
