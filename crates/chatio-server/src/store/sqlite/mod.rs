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
//!   transaction (`BEGIN IMMEDIATE`); each request's writes sit in a savepoint that
//!   [`end`](Store::end) releases or rolls back; [`commit`](Store::commit) stores the id
//!   generator's position and commits. The store groups commits
//!   ([`Store::groups_commits`]): the requests that run while a commit is pending share
//!   its transaction (the state holds their answers until it is done). With WAL and `synchronous = NORMAL` a commit survives
//!   the process being killed (SIGKILL included); after a power loss or an OS crash the last
//!   commits before the crash may be lost, never half of one.
//! * **Memory** does not grow with what is stored: the store keeps no record in memory of
//!   its own (every read is a query), and SQLite's caches are bounded per connection: the
//!   page cache to [`PAGE_CACHE_KIB`] KiB, the prepared statements to [`STATEMENT_CACHE`];
//!   the write-ahead log is truncated back to [`WAL_KEEP_BYTES`] after each checkpoint.
//!   A request's savepoint journal (the pages it changed, for its rollback) is kept in
//!   memory (`temp_store = MEMORY`), never in a temporary file: one request's pages at most.
//!   The chats and last threads that every event reads and writes are kept decoded, at
//!   most [`HOT_CHATS`](hot::HOT_CHATS) chats, written through and forgotten whenever writes
//!   may have been undone (`hot.rs`).
//! * **Records** are JSON in a `data` column, with the columns their queries select and sort
//!   by beside it (indexed); events are stored in the reference form. Token secrets are
//!   stored as their SHA-256.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Ids, Result, Store, StoreError};

mod agents;
mod chats;
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
        Ok(Self {
            conn,
            dir: dir.to_owned(),
            ids,
            in_transaction: false,
            failed_commits: 0,
            unlink: Vec::new(),
            unlink_mark: 0,
            hot: hot::Hot::default(),
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
    /// I/O error): every write since the last commit is gone, counted as a failed commit so
    /// that answers held for them are never sent.
    fn lost_transaction(&mut self) -> bool {
        if self.in_transaction && self.conn.is_autocommit() {
            tracing::error!("the database rolled back the open transaction: its writes are not stored");
            self.in_transaction = false;
            self.unlink.clear();
            self.hot.clear();
            self.failed_commits += 1;
            return true;
        }
        false
    }

    /// Runs a statement without parameters or rows (transaction control), prepared once:
    /// every request begins and ends a savepoint, so parsing them each time would cost.
    fn control(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.prepare_cached(sql)?.execute([]).map(|_| ())
    }

    /// Where the uploaded files are kept.
    fn files_dir(&self) -> PathBuf {
        self.dir.join("files")
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
        self.lost_transaction();
        if !self.in_transaction {
            self.control("BEGIN IMMEDIATE").map_err(failed("cannot start a transaction"))?;
            self.in_transaction = true;
        }
        self.unlink_mark = self.unlink.len();
        self.control("SAVEPOINT request").map_err(failed("cannot start a transaction"))
    }

    fn end(&mut self, keep: bool) -> Result<()> {
        if self.lost_transaction() {
            // A failed request's own error says why; a request that would keep its writes
            // cannot.
            return if keep { Err(StoreError::new("the database undid the transaction")) } else { Ok(()) };
        }
        if !keep {
            self.unlink.truncate(self.unlink_mark);
            self.hot.clear();
        }
        let undone = if keep { Ok(()) } else { self.control("ROLLBACK TO request") };
        undone.and_then(|()| self.control("RELEASE request")).map_err(failed("cannot end a transaction"))
    }

    fn commit(&mut self) -> Result<()> {
        if self.lost_transaction() {
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
            let _ = self.conn.execute_batch("ROLLBACK");
            self.in_transaction = false;
            self.unlink.clear();
            self.hot.clear();
            self.failed_commits += 1;
            return Err(failed("cannot commit")(e));
        }
        self.in_transaction = false;
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
    }

    #[test]
    fn a_full_database_fails_typed_and_the_writes_it_undid_count_as_a_failed_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        store.limit_size(256 * 1024).unwrap();
        let big = |i: usize| Customer { name: Some(format!("{i}{}", "n".repeat(8_000))), ..Customer::default() };
        store.begin().unwrap();
        store.put_customer(100, &"kept".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        // Requests grouped in one transaction until the bound is reached.
        let mut error = None;
        for i in 0..100 {
            store.begin().unwrap();
            let r = store.put_customer(100, &format!("c{i}").as_str().into(), big(i));
            store.end(r.is_ok()).unwrap();
            if let Err(e) = r {
                error = Some(e);
                break;
            }
        }
        let error = error.expect("the bound is reached");
        assert!(error.is_full() && error.to_string().contains("full"), "{error}");
        assert_eq!(store.failed_commits(), 1, "the grouped writes were undone with it");
        assert!(store.commit().is_ok(), "nothing left to commit");
        assert!(store.customer(100, &"c0".into()).unwrap().is_none());
        // The store goes on: what fits is stored.
        store.begin().unwrap();
        store.put_customer(100, &"after".into(), Customer::default()).unwrap();
        store.end(true).unwrap();
        store.commit().unwrap();
        drop(store);
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        assert!(store.customer(100, &"kept".into()).unwrap().is_some());
        assert!(store.customer(100, &"after".into()).unwrap().is_some());
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
