use super::MemoryStore;
use crate::store::{FileRec, FileStore, Result};

impl FileStore for MemoryStore {
    fn file(&mut self, path: &str) -> Result<Option<FileRec>> {
        Ok(self.files.get(path).cloned())
    }

    fn put_file(&mut self, path: &str, file: FileRec) -> Result<()> {
        self.files.insert(path.to_owned(), file);
        Ok(())
    }

    fn file_bytes(&mut self) -> Result<u64> {
        Ok(self.files.values().map(|f| f.bytes.len() as u64).sum())
    }
}
