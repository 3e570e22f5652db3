//! The SQLite store (issue 22): everything in one database file in a data directory, the
//! uploaded files beside it in `files/`.
//!
//! * **Opening** ([`SqliteStore::open`]) makes the directory private to the user (0700),
//!   takes an exclusive lock on `LOCK` in it (a second server on the same directory gets a
//!   clear error instead of a shared database), opens `chatio.db` in WAL mode with
//!   `synchronous = NORMAL`, and applies the schema's migrations in order (`NNN_name.sql`
//!   beside this file; the schema version is `PRAGMA user_version`). A database written by a
//!   newer version is refused, never changed; a file that is not a SQLite database is
//!   refused with that said.
//! * **Transactions**: the first [`begin`](Store::begin) after a commit opens a
//!   transaction (`BEGIN IMMEDIATE`) that the requests until the next
//!   [`commit`](Store::commit) share; the commit stores the id generator's position and
//!   commits. There is no savepoint per request: the store keeps the statements the open
//!   transaction ran, with their parameters (`Redo`), and a request that fails after it
//!   wrote (a storage error half-way: the actions check everything before they write) is
//!   undone by rolling the transaction back and running the other requests' statements
//!   again, so it never takes their writes with it. The same replay keeps the others' writes
//!   when SQLite undid the whole transaction by itself (a full disk); only when the replay
//!   fails too are they lost, counted as a failed commit. The kept statements are bounded:
//!   past [`REDO_MAX_BYTES`] of parameters, the next request commits the transaction first.
//!   So every statement that writes goes through `SqliteStore::write` (or
//!   `write_returning`), which keeps it; a test checks that no other file runs one itself.
//!   The store groups commits
//!   ([`Store::groups_commits`]): the requests that run while a commit is pending share
//!   its transaction (the state holds their answers until it is done). With WAL and `synchronous = NORMAL` a commit survives
//!   the process being killed (SIGKILL included); after a power loss or an OS crash the last
//!   commits before the crash may be lost, never half of one.
//! * **Memory** does not grow with what is stored: the store keeps no record in memory of
//!   its own (every read is a query), and SQLite's caches are bounded per connection: the
//!   page cache to [`PAGE_CACHE_KIB`] KiB, the prepared statements to [`STATEMENT_CACHE`];
//!   the write-ahead log is copied into the database by a thread of its own, never by a
//!   commit, and bounded to about [`WAL_MAX_BYTES`](checkpoint::WAL_MAX_BYTES) (`checkpoint.rs`);
//!   its file is cut back to [`WAL_KEEP_BYTES`] whenever it starts over.
//!   A statement's journal (the pages it changed, for its own rollback) is kept in memory
//!   (`temp_store = MEMORY`), never in a temporary file.
//!   The chats and last threads that every event reads and writes are kept decoded, at
//!   most [`HOT_CHATS`](hot::HOT_CHATS) chats, written through and forgotten whenever writes
//!   may have been undone (`hot.rs`).
//! * **Records** are JSON in a `data` column, with the columns their queries select and sort
//!   by beside it (indexed); events are stored in the reference form. Token secrets are
//!   stored as their SHA-256.

use std::path::{Path, PathBuf};

use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{Connection, OptionalExtension, ToSql, params};

use super::{Ids, Result, Store, StoreError};

mod agents;
mod chats;
mod checkpoint;
mod customers;
mod files;
mod hot;
mod identity;
#[cfg(test)]
mod plans;
mod tokens;

/// The migrations, in order: version N is the schema after the N-th.
const MIGRATIONS: &[(&str, &str)] = &[
    ("001_init", include_str!("001_init.sql")),
    ("002_agent_lists", include_str!("002_agent_lists.sql")),
    ("003_identity", include_str!("003_identity.sql")),
    ("004_file_refs", include_str!("004_file_refs.sql")),
    ("005_agent_tokens", include_str!("005_agent_tokens.sql")),
    ("006_agent_routing", include_str!("006_agent_routing.sql")),
];

/// SQLite's page cache of the server's connection, in KiB (`PRAGMA cache_size`): the hot
/// pages of the indexes and the recent events; the store's one cache of records.
pub(crate) const PAGE_CACHE_KIB: i64 = 8 * 1024;
/// Prepared statements kept per connection (the store runs about 50 distinct ones).
pub(crate) const STATEMENT_CACHE: usize = 64;
/// The size the write-ahead log is truncated back to after a checkpoint
/// (`PRAGMA journal_size_limit`).
pub(crate) const WAL_KEEP_BYTES: i64 = 64 * 1024 * 1024;

/// The most bytes of parameters (plus 16 per value) the open transaction's statements are
/// kept with for a replay (`Redo`): past it, the next request commits the transaction
/// first (the answers held for it still wait for the group's commit).
pub(crate) const REDO_MAX_BYTES: usize = 8 << 20;

/// The database file's name in the data directory.
const DB_FILE: &str = "chatio.db";

/// A SQLite error as a store error, saying what was being done.
fn failed(doing: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| {
        let message = format!("{doing}: {}", describe(&e));
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            StoreError::full(message)
        } else {
            StoreError::new(message)
        }
    }
}

/// What a SQLite error means for someone running the server.
fn describe(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(DiskFull) => format!("the disk is full ({e})"),
        Some(ReadOnly) => format!("the database cannot be written: read-only file or directory ({e})"),
        Some(DatabaseBusy | DatabaseLocked) => format!("the database is in use by another process ({e})"),
        Some(NotADatabase) => format!("the file is not a SQLite database ({e})"),
        Some(DatabaseCorrupt) => format!("the database is corrupt ({e})"),
        Some(CannotOpen) => format!("the database cannot be opened ({e})"),
        _ => e.to_string(),
    }
}

/// A JSON error (a record that does not encode or decode) as a store error.
fn json(e: serde_json::Error) -> StoreError {
    StoreError::new(format!("a stored record is not what this version reads: {e}"))
}

/// The store on a SQLite database (see the module documentation).
#[derive(Debug)]
pub(crate) struct SqliteStore {
    /// Copies the write-ahead log into the database, on its own thread and connection.
    checkpointer: checkpoint::Checkpointer,
    conn: Connection,
    dir: PathBuf,
    ids: Ids,
    /// Whether a transaction is open (writes since the last commit).
    in_transaction: bool,
    /// Commits that failed since the store was opened.
    failed_commits: u64,
    /// Files (their names in `files/`) whose records the open transaction deleted: removed
    /// from the disk once it commits, forgotten when it does not.
    unlink: Vec<String>,
    /// How many of `unlink` were there when the current request began.
    unlink_mark: usize,
    /// The chats and last threads every event reads, decoded (`hot.rs`).
    hot: hot::Hot,
    /// The statements of the open transaction, to run again when one request's are undone.
    redo: Redo,
    /// Held for the store's life: the data directory's lock.
    _lock: DirLock,
}

impl SqliteStore {
    /// Opens (or creates) the store in `dir`. A new database's ids come from `seed`; an
    /// existing one goes on where it stopped.
    ///
    /// # Errors
    /// The directory cannot be made private or written, another server holds it, the
    /// database is not one, is corrupt, or was written by a newer version.
    pub(crate) fn open(dir: &Path, seed: u64) -> Result<Self> {
        let lock = prepare_dir(dir)?;
        let path = dir.join(DB_FILE);
        let conn = Connection::open(&path).map_err(failed("cannot open the database"))?;
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
            .map_err(failed("cannot use the database"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::new(format!("the database cannot use WAL (journal mode {mode})")));
        }
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(failed("cannot use the database"))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(failed("cannot use the database"))?;
        conn.pragma_update(None, "cache_size", -PAGE_CACHE_KIB).map_err(failed("cannot use the database"))?;
        conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES).map_err(failed("cannot use the database"))?;
        // Checkpoints run on a thread of their own (`checkpoint.rs`), never in a commit.
        conn.pragma_update(None, "wal_autocheckpoint", 0).map_err(failed("cannot use the database"))?;
        // Each request's savepoint keeps the pages it changes in a statement journal, which
        // SQLite writes to a fresh temporary file past 64 KiB: about 23 `pwrite` calls and a
        // file created and deleted per request. In memory it costs a copy of those pages
        // (one request's, then dropped). Durability is the write-ahead log's, unchanged.
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(failed("cannot use the database"))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        migrate(&conn)?;
        let position: Option<(i64, i64)> = conn
            .query_row("SELECT rng, activity FROM ids WHERE k = 0", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
            .map_err(failed("cannot read the id generator"))?;
        let ids = match position {
            Some((rng, activity)) => Ids::at((rng as u64, activity as u64)),
            None => {
                let ids = Ids::new(seed);
                let (rng, activity) = ids.position();
                conn.execute(
                    "INSERT INTO ids (k, rng, activity, created) VALUES (0, ?1, ?2, strftime('%s','now'))",
                    params![rng as i64, activity as i64],
                )
                .map_err(failed("cannot write the database"))?;
                ids
            }
        };
        let checkpointer = checkpoint::Checkpointer::start(&path, checkpoint::WAL_MAX_BYTES)?;
        Ok(Self {
            checkpointer,
            conn,
            dir: dir.to_owned(),
            ids,
            in_transaction: false,
            failed_commits: 0,
            unlink: Vec::new(),
            unlink_mark: 0,
            hot: hot::Hot::default(),
            redo: Redo::default(),
            _lock: lock,
        })
    }

    /// Bounds the database to about `bytes` (`PRAGMA max_page_count`): a write past it
    /// fails with the same error as a full disk.
    pub(crate) fn limit_size(&mut self, bytes: u64) -> Result<()> {
        let page: i64 =
            self.conn.pragma_query_value(None, "page_size", |r| r.get(0)).map_err(failed("cannot use the database"))?;
        let pages = i64::try_from(bytes / page.max(512) as u64).unwrap_or(i64::MAX).max(1);
        self.conn.pragma_update(None, "max_page_count", pages).map_err(failed("cannot use the database"))
    }

    /// Whether SQLite rolled the open transaction back by itself (it may on a full disk or an
    /// I/O error): every write since the last commit is gone from the database.
    fn lost_transaction(&self) -> bool {
        self.in_transaction && self.conn.is_autocommit()
    }

    /// Gives up the open transaction (a commit failed, or its writes could not be run
    /// again): nothing of it is kept, counted as a failed commit so that answers held for
    /// it are never sent.
    fn abandon(&mut self) {
        tracing::error!("the open transaction was rolled back: its writes are not stored");
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        self.in_transaction = false;
        self.unlink.clear();
        self.hot.clear();
        self.redo.clear();
        self.failed_commits += 1;
    }

    /// Undoes the current request's writes (see the module documentation): rolls the
    /// transaction back and runs the statements of the requests before it again. When they
    /// cannot run, the transaction is abandoned.
    fn undo_request(&mut self) -> Result<()> {
        self.unlink.truncate(self.unlink_mark);
        self.hot.clear();
        self.redo.statements.truncate(self.redo.mark);
        let rolled_back = if self.conn.is_autocommit() { Ok(()) } else { self.control("ROLLBACK") };
        let replayed = rolled_back.and_then(|()| self.control("BEGIN IMMEDIATE")).and_then(|()| {
            for (sql, values) in &self.redo.statements {
                let mut statement = self.conn.prepare_cached(sql)?;
                let mut rows = statement.query(rusqlite::params_from_iter(values.iter()))?;
                while rows.next()?.is_some() {}
            }
            Ok(())
        });
        if let Err(e) = replayed {
            self.abandon();
            return Err(failed("cannot write again the requests before a failed one")(e));
        }
        Ok(())
    }

    /// Runs a statement that writes, prepared once, and keeps it for a replay.
    fn write(&mut self, doing: &str, sql: &'static str, p: &[&dyn ToSql]) -> Result<usize> {
        let n = self.conn.prepare_cached(sql).and_then(|mut s| s.execute(p)).map_err(failed(doing))?;
        self.keep(sql, p)?;
        Ok(n)
    }

    /// Runs a statement that writes and returns at most one row (`RETURNING`), and keeps it
    /// for a replay.
    fn write_returning<T: rusqlite::types::FromSql>(
        &mut self,
        doing: &str,
        sql: &'static str,
        p: &[&dyn ToSql],
    ) -> Result<Option<T>> {
        let row = self
            .conn
            .prepare_cached(sql)
            .and_then(|mut s| s.query_row(p, |r| r.get(0)).optional())
            .map_err(failed(doing))?;
        self.keep(sql, p)?;
        Ok(row)
    }

    /// Keeps a statement the open transaction ran (outside one, nothing can undo it).
    fn keep(&mut self, sql: &'static str, p: &[&dyn ToSql]) -> Result<()> {
        if !self.in_transaction {
            return Ok(());
        }
        let mut values = Vec::with_capacity(p.len());
        for v in p {
            let value = match v.to_sql().map_err(failed("cannot keep a statement"))? {
                ToSqlOutput::Borrowed(r) => Value::from(r),
                ToSqlOutput::Owned(v) => v,
                _ => return Err(StoreError::new("a statement's parameter cannot be kept")),
            };
            self.redo.bytes += 16
                + match &value {
                    Value::Text(t) => t.len(),
                    Value::Blob(b) => b.len(),
                    _ => 0,
                };
            values.push(value);
        }
        self.redo.statements.push((sql, values));
        Ok(())
    }

    /// Runs a statement without parameters or rows (transaction control), prepared once.
    fn control(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute([]).map(|_| ())
    }

    /// Where the uploaded files are kept.
    fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
    }
}

/// The statements the open transaction ran, in order, with their parameters (see the
/// module documentation).
#[derive(Debug, Default)]
struct Redo {
    statements: Vec<(&'static str, Vec<Value>)>,
    /// The parameters' bytes, plus 16 per value.
    bytes: usize,
    /// How many statements were kept when the current request began.
    mark: usize,
}

impl Redo {
    fn clear(&mut self) {
        self.statements.clear();
        self.bytes = 0;
        self.mark = 0;
    }
}

/// Copies the database of the data directory `dir` to the file `to`, consistent, while a
/// server may be using it (SQLite's online backup, from a connection of its own; WAL lets it
/// read beside the server's writes). Restoring is starting a server on a directory holding
/// the copy as `chatio.db`.
pub(crate) fn backup(dir: &Path, to: &Path) -> Result<()> {
    let from = dir.join(DB_FILE);
    if !from.is_file() {
        return Err(StoreError::new(format!("no database in {}", dir.display())));
    }
    let conn = Connection::open_with_flags(&from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(failed("cannot open the database"))?;
    conn.backup(rusqlite::MAIN_DB, to, None).map_err(failed("backup failed"))
}

/// Applies the migrations the database has not had; refuses one from a newer version.
fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 =
        conn.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(failed("cannot read the database"))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        return Err(StoreError::new(format!(
            "the database has schema version {version}, written by a newer chatio-server (this one knows up to \
             {known}): refusing to change it"
        )));
    }
    for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let to = i as i64 + 1;
        let batch = format!("BEGIN IMMEDIATE;\n{sql}\nPRAGMA user_version = {to};\nCOMMIT;");
        if let Err(e) = conn.execute_batch(&batch) {
            let _ = conn.execute_batch("ROLLBACK");
            return Err(StoreError::new(format!("migration {name} failed: {}", describe(&e))));
        }
        tracing::info!(migration = name, "database migrated");
    }
    Ok(())
}

/// The data directory's lock (an exclusive `flock` on `LOCK`), held while the store lives.
#[derive(Debug)]
struct DirLock {
    _file: std::fs::File,
}

/// Makes `dir` (and `dir/files`) exist, private to the user, and locks it.
fn prepare_dir(dir: &Path) -> Result<DirLock> {
    let io = |doing: &str, e: std::io::Error| StoreError::new(format!("{doing} {}: {e}", dir.display()));
    std::fs::create_dir_all(dir.join("files")).map_err(|e| io("cannot create the data directory", e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| io("cannot make private the data directory", e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("LOCK"))
        .map_err(|e| io("cannot write in the data directory", e))?;
    #[cfg(unix)]
    rustix::fs::flock(&file, rustix::fs::FlockOperation::NonBlockingLockExclusive).map_err(|_| {
        StoreError::new(format!("the data directory {} is in use by another chatio-server", dir.display()))
    })?;
    Ok(DirLock { _file: file })
}

impl Store for SqliteStore {
    fn ids(&mut self) -> &mut Ids {
        &mut self.ids
    }

    fn begin(&mut self) -> Result<()> {
        if self.lost_transaction() {
            // Undone by SQLite after a request that went on as if its write had worked.
            self.abandon();
        }
        if self.in_transaction && self.redo.bytes > REDO_MAX_BYTES {
            self.commit()?;
        }
        if !self.in_transaction {
            self.control("BEGIN IMMEDIATE").map_err(failed("cannot start a transaction"))?;
            self.in_transaction = true;
        }
        self.unlink_mark = self.unlink.len();
        self.redo.mark = self.redo.statements.len();
        Ok(())
    }

    fn end(&mut self, keep: bool) -> Result<()> {
        let lost = self.lost_transaction();
        if keep && !lost {
            return Ok(());
        }
        // A failed request that wrote nothing (a refusal: the actions check before they
        // write) leaves nothing to undo.
        if lost || self.redo.statements.len() > self.redo.mark || self.unlink.len() > self.unlink_mark {
            let undone = self.undo_request();
            if keep || undone.is_err() {
                // A failed request's own error says why; a request that would keep its
                // writes cannot: they were undone.
                tracing::error!("the database undid a request's writes");
                return if keep {
                    undone.and(Err(StoreError::new("the database undid the request's writes")))
                } else {
                    Ok(())
                };
            }
        }
        Ok(())
    }

    fn commit(&mut self) -> Result<()> {
        if self.lost_transaction() {
            self.abandon();
            return Err(StoreError::new("the database undid the transaction"));
        }
        if !self.in_transaction {
            return Ok(());
        }
        let (rng, activity) = self.ids.position();
        let stored = self
            .conn
            .prepare_cached("UPDATE ids SET rng = ?1, activity = ?2 WHERE k = 0")
            .and_then(|mut s| s.execute(params![rng as i64, activity as i64]))
            .and_then(|_| self.control("COMMIT"));
        if let Err(e) = stored {
            // Nothing of the transaction is kept: roll back what SQLite still holds.
            self.abandon();
            return Err(failed("cannot commit")(e));
        }
        self.in_transaction = false;
        self.redo.clear();
        self.checkpointer.committed();
        for disk in std::mem::take(&mut self.unlink) {
            if let Err(e) = std::fs::remove_file(self.files_dir().join(&disk)) {
                tracing::warn!(file = %disk, error = %e, "a deleted file could not be removed from the disk");
            }
        }
        Ok(())
    }

    fn groups_commits(&self) -> bool {
        true
    }

    fn failed_commits(&self) -> u64 {
        self.failed_commits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Customer, CustomerStore};

    #[test]
    fn the_caches_are_set_to_their_documented_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path(), 1).unwrap();
        let read = |name: &str| -> i64 { store.conn.pragma_query_value(None, name, |r| r.get(0)).unwrap() };
        assert_eq!(read("cache_size"), -PAGE_CACHE_KIB);
        assert_eq!(read("journal_size_limit"), WAL_KEEP_BYTES);
        assert_eq!(read("mmap_size"), 0, "no memory map: the page cache is the bound");
        assert_eq!(read("temp_store"), 2, "statement journals in memory, not in a temporary file per request");
        assert_eq!(read("wal_autocheckpoint"), 0, "no checkpoint in a commit: the checkpointer's thread runs them");
    }

    #[test]
    fn a_full_database_fails_the_request_that_did_not_fit_and_keeps_the_others_of_its_group() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        store.limit_size(256 * 1024).unwrap();
        let big = |i: usize| Customer { name: Some(format!("{i}{}", "n".repeat(8_000))), ..Customer::default() };
        store.begin().unwrap();
        store.put_customer(100, &"kept".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        // Requests grouped in one transaction until the bound is reached.
        let mut failed = None;
        for i in 0..100 {
            store.begin().unwrap();
            let r = store.put_customer(100, &format!("c{i}").as_str().into(), big(i));
            store.end(r.is_ok()).unwrap();
            if let Err(e) = r {
                failed = Some((i, e));
                break;
            }
        }
        let (last, error) = failed.expect("the bound is reached");
        assert!(last > 0);
        assert!(error.is_full() && error.to_string().contains("full"), "{error}");
        assert_eq!(store.failed_commits(), 0, "the requests before it are written again, not lost");
        // The store goes on: what fits is stored with the group.
        store.begin().unwrap();
        store.put_customer(100, &"after".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        drop(store);
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        for i in 0..last {
            assert!(store.customer(100, &format!("c{i}").as_str().into()).unwrap().is_some(), "c{i} of the group");
        }
        assert!(store.customer(100, &format!("c{last}").as_str().into()).unwrap().is_none(), "the one that failed");
        assert!(store.customer(100, &"kept".into()).unwrap().is_some());
        assert!(store.customer(100, &"after".into()).unwrap().is_some());
    }

    #[test]
    fn every_write_is_kept_for_a_replay() {
        let files = [
            ("agents.rs", include_str!("agents.rs")),
            ("chats.rs", include_str!("chats.rs")),
            ("customers.rs", include_str!("customers.rs")),
            ("files.rs", include_str!("files.rs")),
            ("identity.rs", include_str!("identity.rs")),
            ("tokens.rs", include_str!("tokens.rs")),
        ];
        for (name, source) in files {
            for bypass in [".execute(", ".execute_batch(", "RETURNING"] {
                let found = source.lines().filter(|l| l.contains(bypass) && !l.contains("self.write")).count();
                // A RETURNING statement is written as an argument of `write_returning`.
                let allowed = if bypass == "RETURNING" { source.matches("write_returning(").count() } else { 0 };
                assert!(found <= allowed, "{name} runs a write without `SqliteStore::write`: a replay would lose it");
            }
        }
    }

    #[test]
    fn a_request_that_fails_after_writing_is_undone_alone_and_leaves_no_half() {
        use crate::store::{ChatStore, FileRec, FileStore};
        use chatio_wire::{ChatId, ThreadId};
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        let file = || FileRec { content_type: "text/plain".into(), bytes: b"x".to_vec().into(), created: 1 };
        store.begin().unwrap();
        store.put_file("/f/old", file(), 1).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        // One group: a request before, one that writes three things then fails, one after.
        store.begin().unwrap();
        store.put_customer(100, &"before".into(), Customer::default()).unwrap();
        assert_eq!(store.refer_file("/f/old", 1).unwrap(), Some(2));
        store.end(true).unwrap();
        store.begin().unwrap();
        store.put_customer(100, &"half".into(), Customer::default()).unwrap();
        assert_eq!(store.refer_file("/f/old", 5).unwrap(), Some(7));
        assert_eq!(store.delete_file("/f/old").unwrap(), 1);
        let event = chatio_wire::Event::new(
            "e",
            1,
            chatio_wire::Timestamp::from_secs(1),
            chatio_wire::EventKind::Message(chatio_wire::Message::new("t")),
        );
        let missing = store.add_event(100, &ChatId::new("C"), &ThreadId::new("T"), &event);
        assert!(missing.is_err(), "no such thread: the request fails after its writes");
        store.end(false).unwrap();
        store.begin().unwrap();
        store.put_customer(100, &"after".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        assert_eq!(store.failed_commits(), 0);
        store.commit().unwrap();
        assert!(dir.path().join("files").read_dir().unwrap().count() == 1, "the deleted file's bytes stay");
        drop(store);
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        assert!(store.customer(100, &"before".into()).unwrap().is_some());
        assert!(store.customer(100, &"half".into()).unwrap().is_none());
        assert!(store.customer(100, &"after".into()).unwrap().is_some());
        assert!(store.file("/f/old").unwrap().is_some(), "its deletion was undone");
        assert_eq!(store.refer_file("/f/old", 0).unwrap(), Some(2), "the request before counted, the failed one not");
    }

    #[test]
    fn the_hot_records_never_show_a_write_that_was_undone() {
        use crate::store::{ChatRec, ChatStore, ThreadRec};
        use chatio_wire::{ChatId, Properties, ThreadId, UserId};
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        let c = ChatId::new("C");
        let mut chat = ChatRec {
            id: c.clone(),
            customer: UserId::new("u"),
            agents: Vec::new(),
            properties: Properties::new(),
            scopes: Default::default(),
            next_event_order: 1,
            last_activity: 0,
            activity_seq: 1,
            last_seen: Default::default(),
            held: Default::default(),
        };
        let thread = |order: u64| ThreadRec {
            id: ThreadId::new(format!("T{order}")),
            active: true,
            order,
            user_ids: Vec::new(),
            properties: Properties::new(),
            last_activity: 0,
            events: 0,
        };
        store.begin().unwrap();
        store.put_chat(100, chat.clone()).unwrap();
        store.put_thread(100, &c, thread(1)).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        assert_eq!(store.last_thread(100, &c).unwrap().map(|t| t.order), Some(1));
        // A request that writes, reads its writes, then fails: nothing of it is read after.
        store.begin().unwrap();
        chat.next_event_order = 9;
        store.put_chat(100, chat.clone()).unwrap();
        store.put_thread(100, &c, thread(2)).unwrap();
        assert_eq!(store.chat(100, &c).unwrap().map(|c| c.next_event_order), Some(9));
        assert_eq!(store.last_thread(100, &c).unwrap().map(|t| t.order), Some(2));
        store.end(false).unwrap();
        assert_eq!(store.chat(100, &c).unwrap().map(|c| c.next_event_order), Some(1));
        assert_eq!(store.last_thread(100, &c).unwrap().map(|t| t.order), Some(1));
        // Kept writes are read back, through a commit and after a reopen.
        store.begin().unwrap();
        store.put_thread(100, &c, thread(2)).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        assert_eq!(store.last_thread(100, &c).unwrap().map(|t| t.order), Some(2));
        drop(store);
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        assert_eq!(store.last_thread(100, &c).unwrap().map(|t| t.order), Some(2));
    }

    #[test]
    fn a_database_of_a_newer_version_is_refused_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        drop(SqliteStore::open(dir.path(), 1).unwrap());
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let err = SqliteStore::open(dir.path(), 1).unwrap_err().to_string();
        assert!(err.contains("schema version 99") && err.contains("newer"), "{err}");
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, 99, "not changed");
    }

    #[test]
    fn files_stored_before_references_were_counted_get_the_count_of_the_events_naming_them() {
        use crate::store::FileStore;
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("files")).unwrap();
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        for (_, sql) in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        let url = |p: &str| format!("http://h:1/api/file/chatio/{p}");
        for (path, disk) in [("att/100/a.txt", "da"), ("img/100/b.png", "db"), ("img/100/c.png", "dc")] {
            conn.execute(
                "INSERT INTO files (path, content_type, disk) VALUES (?1, 'x', ?2)",
                params![format!("/api/file/chatio/{path}"), disk],
            )
            .unwrap();
            std::fs::write(dir.path().join("files").join(disk), b"1234").unwrap();
        }
        let file = serde_json::json!({"type": "file", "url": url("att/100/a.txt")});
        let rich = serde_json::json!({"type": "rich_message", "elements": [
            {"image": {"url": url("img/100/b.png")}}, {"title": "no image"}, {"image": {"url": url("img/100/b.png")}}]});
        for (ord, (ty, body)) in [("file", file), ("rich_message", rich)].into_iter().enumerate() {
            conn.execute(
                "INSERT INTO events (license, chat, ord, thread, id, type, agents_only, body) \
                 VALUES (100, 'C', ?1, 'T', ?2, ?3, 0, ?4)",
                params![ord as i64, format!("e{ord}"), ty, body.to_string()],
            )
            .unwrap();
        }
        drop(conn);
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        assert_eq!(store.unreferenced_files(u64::MAX, 10).unwrap(), ["/api/file/chatio/img/100/c.png"]);
        assert_eq!(store.refer_file("/api/file/chatio/att/100/a.txt", 0).unwrap(), Some(1));
        assert_eq!(store.refer_file("/api/file/chatio/img/100/b.png", 0).unwrap(), Some(2), "named twice");
        let created = store.file("/api/file/chatio/img/100/c.png").unwrap().unwrap().created;
        assert!(created > 1_700_000_000, "from the migration on: {created}");
        assert!(store.unreferenced_files(created, 10).unwrap().is_empty(), "not expired at once");
    }

    #[test]
    fn a_backup_taken_while_open_restores_the_data() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        store.begin().unwrap();
        store.put_customer(100, &"ann".into(), Customer { name: Some("Ann".into()), ..Customer::default() }).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        let copy = tempfile::tempdir().unwrap();
        backup(dir.path(), &copy.path().join(DB_FILE)).unwrap();
        drop(store);
        let mut restored = SqliteStore::open(copy.path(), 2).unwrap();
        assert_eq!(restored.customer(100, &"ann".into()).unwrap().and_then(|c| c.name).as_deref(), Some("Ann"));
        assert!(backup(&copy.path().join("nope"), &copy.path().join("x")).is_err());
    }

    #[test]
    fn a_request_that_fails_leaves_nothing_and_an_uncommitted_one_is_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        store.begin().unwrap();
        store.put_customer(100, &"kept".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        store.begin().unwrap();
        store.put_customer(100, &"undone".into(), Customer::default()).unwrap();
        store.end(false).unwrap();
        store.commit().unwrap();
        store.begin().unwrap();
        store.put_customer(100, &"never committed".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        drop(store);
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        assert!(store.customer(100, &"kept".into()).unwrap().is_some());
        assert!(store.customer(100, &"undone".into()).unwrap().is_none());
        assert!(store.customer(100, &"never committed".into()).unwrap().is_none());
    }
}
