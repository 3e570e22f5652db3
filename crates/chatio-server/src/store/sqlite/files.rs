use std::io::Write;

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{SqliteStore, failed};
use crate::store::{FileRec, FileStore, Result, StoreError};

impl FileStore for SqliteStore {
    fn file(&mut self, path: &str) -> Result<Option<FileRec>> {
        let row: Option<(String, String)> = self
            .conn
            .prepare_cached("SELECT content_type, disk FROM files WHERE path = ?1")
            .and_then(|mut s| s.query_row(params![path], |r| Ok((r.get(0)?, r.get(1)?))).optional())
            .map_err(failed("cannot read a file's record"))?;
        let Some((content_type, disk)) = row else { return Ok(None) };
        let bytes = std::fs::read(self.files_dir().join(&disk))
            .map_err(|e| StoreError::new(format!("cannot read the stored file {disk}: {e}")))?;
        Ok(Some(FileRec { content_type, bytes: bytes.into() }))
    }

    fn put_file(&mut self, path: &str, file: FileRec) -> Result<()> {
        // The name on disk is derived from the URL path (itself a capability), never taken
        // from what a client sent.
        let disk = format!("{:x}", Sha256::digest(path.as_bytes()));
        let full = self.files_dir().join(&disk);
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&full)?;
            f.write_all(&file.bytes)?;
            f.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&full);
            return Err(StoreError::new(format!("cannot store the file: {e}")));
        }
        self.conn
            .prepare_cached("INSERT OR REPLACE INTO files (path, content_type, disk) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![path, file.content_type, disk]))
            .map_err(failed("cannot write a file's record"))?;
        Ok(())
    }

    fn file_bytes(&mut self) -> Result<u64> {
        let dir = std::fs::read_dir(self.files_dir())
            .map_err(|e| StoreError::new(format!("cannot list the stored files: {e}")))?;
        let mut total = 0u64;
        for entry in dir {
            let entry = entry.map_err(|e| StoreError::new(format!("cannot list the stored files: {e}")))?;
            total = total.saturating_add(entry.metadata().map_or(0, |m| m.len()));
        }
        Ok(total)
    }
}
