//! Checkpoints off the committer: the server's connection never checkpoints
//! (`wal_autocheckpoint = 0`); a thread of the store with a connection of its own copies the
//! write-ahead log back into the database.
//!
//! After each commit the store wakes the thread ([`Checkpointer::committed`]), which runs a
//! `PASSIVE` checkpoint: it copies what the log holds without waiting for anyone and without
//! stopping the server's writes, and once everything is copied the next write starts the
//! log over from its beginning. When writes outrun it and the log passes its bound
//! ([`WAL_MAX_BYTES`]), the thread runs a `TRUNCATE` checkpoint instead, which makes the
//! server's next write wait until the log is copied and emptied: the log on disk stays
//! within that bound plus what is written during one checkpoint (the group commits of that
//! time). Between checkpoints the log file is cut back to [`WAL_KEEP_BYTES`]
//! (`journal_size_limit`) whenever it starts over.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;

use super::failed;
use crate::store::Result;

/// The write-ahead log's bound: past it, the checkpointer empties the log even if the
/// server's writes must wait for it (`TRUNCATE`).
pub(crate) const WAL_MAX_BYTES: u64 = 256 * 1024 * 1024;

/// How long the checkpointer sleeps when no commit wakes it: the log's size is checked at
/// least this often.
const IDLE_CHECK: Duration = Duration::from_secs(1);

/// The least time between two checkpoints: under a stream of commits, each checkpoint
/// copies the pages of many (a page written by several commits is copied once).
const MIN_INTERVAL: Duration = Duration::from_millis(20);

/// The checkpointing thread and what the store shares with it (see the module documentation).
#[derive(Debug)]
pub(super) struct Checkpointer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

#[derive(Debug, Default)]
struct Shared {
    stop: AtomicBool,
    /// Commits since the thread last looked.
    pending: AtomicBool,
    /// Checkpoints run, of each kind (for tests and the log).
    passive: AtomicU64,
    truncate: AtomicU64,
}

impl Checkpointer {
    /// Starts the thread on its own connection to the database at `path`; the log is
    /// emptied past `max_wal` bytes.
    pub(super) fn start(path: &Path, max_wal: u64) -> Result<Self> {
        let conn = Connection::open(path).map_err(failed("cannot open the database for checkpoints"))?;
        // A TRUNCATE checkpoint waits for the server's write transaction to end.
        conn.busy_timeout(Duration::from_secs(10)).map_err(failed("cannot use the database"))?;
        let shared = Arc::new(Shared::default());
        let wal = PathBuf::from(format!("{}-wal", path.display()));
        let thread = {
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("chatio-checkpoint".into())
                .spawn(move || run(&conn, &wal, max_wal, &shared))
                .map_err(|e| crate::store::StoreError::new(format!("cannot start the checkpoint thread: {e}")))?
        };
        Ok(Self { shared, thread: Some(thread) })
    }

    /// Tells the thread that a commit added to the log.
    pub(super) fn committed(&self) {
        if !self.shared.pending.swap(true, Ordering::AcqRel) {
            if let Some(t) = &self.thread {
                t.thread().unpark();
            }
        }
    }

    /// The checkpoints run so far: (passive, truncate).
    #[cfg(test)]
    pub(super) fn counts(&self) -> (u64, u64) {
        (self.shared.passive.load(Ordering::Acquire), self.shared.truncate.load(Ordering::Acquire))
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// The thread: waits for commits (or [`IDLE_CHECK`]), then checkpoints.
fn run(conn: &Connection, wal: &Path, max_wal: u64, shared: &Shared) {
    loop {
        if !shared.pending.load(Ordering::Acquire) {
            std::thread::park_timeout(IDLE_CHECK);
        }
        if shared.stop.load(Ordering::Acquire) {
            return;
        }
        let committed = shared.pending.swap(false, Ordering::AcqRel);
        let big = std::fs::metadata(wal).is_ok_and(|m| m.len() > max_wal);
        if !committed && !big {
            continue;
        }
        let (mode, count) = if big { ("TRUNCATE", &shared.truncate) } else { ("PASSIVE", &shared.passive) };
        // (busy, log frames, frames checkpointed)
        let sql = if big { "PRAGMA wal_checkpoint(TRUNCATE)" } else { "PRAGMA wal_checkpoint(PASSIVE)" };
        match conn.query_row(sql, [], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))) {
            Ok((busy, frames, copied)) => {
                count.fetch_add(1, Ordering::AcqRel);
                if big {
                    tracing::info!(busy, frames, copied, "the write-ahead log passed its bound: emptied");
                }
            }
            Err(e) => tracing::warn!(error = %e, mode, "a checkpoint failed (tried again after the next commit)"),
        }
        std::thread::sleep(MIN_INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls `done` for up to 30 s.
    fn eventually(mut done: impl FnMut() -> bool) -> bool {
        let until = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < until {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    #[test]
    fn the_log_is_copied_by_the_thread_and_emptied_past_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let wal = dir.path().join("db-wal");
        let writer = Connection::open(&path).unwrap();
        writer.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(())).unwrap();
        writer.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        writer.execute_batch("CREATE TABLE t (v BLOB)").unwrap();
        let bound = 1024 * 1024;
        let checkpointer = Checkpointer::start(&path, bound).unwrap();
        // Commits of 64 KiB each, 6 MiB in all: without the thread the log would hold them all.
        let mut largest = 0;
        for _ in 0..96 {
            writer.execute("INSERT INTO t (v) VALUES (zeroblob(65536))", []).unwrap();
            checkpointer.committed();
            largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        }
        let copied = || std::fs::metadata(&path).unwrap().len();
        assert!(eventually(|| copied() > 6 * 1024 * 1024), "the rows reached the database file: {} bytes", copied());
        assert!(checkpointer.counts().0 > 0, "by PASSIVE checkpoints");
        // Whatever the log grew to meanwhile, it is emptied once past its bound.
        if largest > bound {
            assert!(eventually(|| checkpointer.counts().1 > 0), "a TRUNCATE checkpoint ran past the bound");
        }
        drop(checkpointer);
        let n: i64 = writer.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 96);
        // One more commit past the bound, the thread idle: the log is emptied, not kept.
        let checkpointer = Checkpointer::start(&path, 1).unwrap();
        writer.execute("INSERT INTO t (v) VALUES (zeroblob(65536))", []).unwrap();
        checkpointer.committed();
        assert!(eventually(|| checkpointer.counts().1 > 0 && std::fs::metadata(&wal).map_or(0, |m| m.len()) == 0));
    }
}
