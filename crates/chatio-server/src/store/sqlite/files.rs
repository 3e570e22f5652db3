use std::io::Write;

use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{SqliteStore, failed};
use crate::store::{FileRec, FileStore, Result, StoreError};

impl FileStore for SqliteStore {
    fn file(&mut self, path: &str) -> Result<Option<FileRec>> {
        let row: Option<(String, String, i64)> = self
            .conn
            .prepare_cached("SELECT content_type, disk, created FROM files WHERE path = ?1")
            .and_then(|mut s| s.query_row(params![path], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional())
            .map_err(failed("cannot read a file's record"))?;
        let Some((content_type, disk, created)) = row else { return Ok(None) };
        let bytes = std::fs::read(self.files_dir().join(&disk))
            .map_err(|e| StoreError::new(format!("cannot read the stored file {disk}: {e}")))?;
        Ok(Some(FileRec { content_type, bytes: bytes.into(), created: created as u64 }))
    }

    fn put_file(&mut self, path: &str, file: FileRec, refs: u64) -> Result<()> {
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
        self.write(
            "cannot write a file's record",
            "INSERT OR REPLACE INTO files (path, content_type, disk, created, refs) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![path, file.content_type, disk, file.created as i64, refs as i64],
        )?;
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

    fn refer_file(&mut self, path: &str, delta: i64) -> Result<Option<u64>> {
        let refs: Option<i64> = self.write_returning(
            "cannot count a file's references",
            "UPDATE files SET refs = max(refs + ?2, 0) WHERE path = ?1 RETURNING refs",
            params![path, delta],
        )?;
        Ok(refs.map(|n| n as u64))
    }

    fn delete_file(&mut self, path: &str) -> Result<u64> {
        let disk: Option<String> = self.write_returning(
            "cannot delete a file's record",
            "DELETE FROM files WHERE path = ?1 RETURNING disk",
            params![path],
        )?;
        let Some(disk) = disk else { return Ok(0) };
        let size = std::fs::metadata(self.files_dir().join(&disk)).map_or(0, |m| m.len());
        // The bytes go once the deletion is committed (a rolled-back one keeps them).
        if self.in_transaction {
            self.unlink.push(disk);
        } else {
            let _ = std::fs::remove_file(self.files_dir().join(&disk));
        }
        Ok(size)
    }

    fn unreferenced_files(&mut self, before: u64, limit: usize) -> Result<Vec<String>> {
        self.conn
            .prepare_cached("SELECT path FROM files WHERE refs = 0 AND created < ?1 ORDER BY created LIMIT ?2")
            .and_then(|mut s| {
                s.query_map(params![i64::try_from(before).unwrap_or(i64::MAX), limit as i64], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(failed("cannot list the unreferenced files"))
    }
}
