use super::MemoryStore;
use crate::store::{FileRec, FileStore, Result};

impl FileStore for MemoryStore {
    fn file(&mut self, path: &str) -> Result<Option<FileRec>> {
        Ok(self.files.get(path).map(|(f, _)| f.clone()))
    }

    fn put_file(&mut self, path: &str, file: FileRec, refs: u64) -> Result<()> {
        self.files.insert(path.to_owned(), (file, refs));
        Ok(())
    }

    fn file_bytes(&mut self) -> Result<u64> {
        Ok(self.files.values().map(|(f, _)| f.bytes.len() as u64).sum())
    }

    fn refer_file(&mut self, path: &str, delta: i64) -> Result<Option<u64>> {
        Ok(self.files.get_mut(path).map(|(_, refs)| {
            *refs = refs.saturating_add_signed(delta);
            *refs
        }))
    }

    fn delete_file(&mut self, path: &str) -> Result<u64> {
        Ok(self.files.remove(path).map_or(0, |(f, _)| f.bytes.len() as u64))
    }

    fn unreferenced_files(&mut self, before: u64, limit: usize) -> Result<Vec<String>> {
        // The memory store is for tests and the demo; its files are bounded by the upload
        // quotas, so one pass over them is bounded too.
        let mut old: Vec<(u64, &String)> = self
            .files
            .iter()
            .filter(|(_, (f, refs))| *refs == 0 && f.created < before)
            .map(|(p, (f, _))| (f.created, p))
            .collect();
        old.sort();
        Ok(old.into_iter().take(limit).map(|(_, p)| p.clone()).collect())
    }
}
