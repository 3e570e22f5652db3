//! The SDK's store in an SQLite file (the `sqlite` feature; rusqlite with the bundled SQLite).
//!
//! Schema version 3 (`PRAGMA user_version`), marked as ours by `PRAGMA application_id`
//! ([`APPLICATION_ID`]): `outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, custom_id TEXT UNIQUE,
//! chat TEXT, event TEXT)`, the event as its wire JSON (version 1); `identity(key TEXT PRIMARY
//! KEY, value TEXT)`, the customer's refresh token under `refresh_token` and the last chats
//! summary (wire JSON) under `chats_summary` (version 2); the history cache (version 3):
//! `history(chat, event_id, ord, thread, event)`, one row per cached event (the event as its
//! wire JSON, keyed by chat and event id, `ord` the event's `order`), and
//! `history_chats(chat, touched)`, which chat was updated last (the session bounds both:
//! see `chatio_core::Config::cached_events`). Older
//! versions are migrated in one transaction at open (`MIGRATIONS`).
//! The refresh token is a secret: it is in the file (keep the file where the application keeps
//! its own secrets), never in logs or `Debug` output. A file of another
//! application (another `application_id`, or tables without ours) is refused as
//! [`StoreError::Foreign`], a newer schema as [`StoreError::NewerSchema`], a file that is not a
//! database as [`StoreError::Corrupt`]; none of them is changed.
//!
//! One process at a time: the file is opened in SQLite's exclusive locking mode and locked at
//! once, so a second process gets [`StoreError::Locked`] (and runs in memory) instead of both
//! sending the same outbox entry. The lock goes with the process, even a killed one.
//! Durability: WAL journal, `synchronous=NORMAL` — a committed write survives the process
//! being killed (SIGKILL included); after an operating-system crash or power loss the last
//! writes may be missing (their events were then never confirmed to the application either).
//! The work runs on the `blocking` thread pool, never on the driver's task.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chatio_core::{CachedChat, CachedEvent, StoreChange, StoredEvent, StoredState};
use chatio_wire::{ChatId, Event, NewEvent, ThreadId, Token};
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, params};

use crate::store::{Store, StoreError, StoreFuture};

/// `application_id` of an SDK store: `chIO`.
pub const APPLICATION_ID: i32 = 0x6368_494f;

/// The schema version this SDK writes and reads.
pub const SCHEMA_VERSION: i64 = 3;

/// The step from version `i` to `i + 1`, for each `i` below [`SCHEMA_VERSION`].
const MIGRATIONS: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS outbox (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         custom_id TEXT NOT NULL UNIQUE,
         chat TEXT NOT NULL,
         event TEXT NOT NULL
     );",
    "CREATE TABLE IF NOT EXISTS identity (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    "CREATE TABLE IF NOT EXISTS history (
         chat TEXT NOT NULL,
         event_id TEXT NOT NULL,
         ord INTEGER NOT NULL,
         thread TEXT,
         event TEXT NOT NULL,
         PRIMARY KEY (chat, event_id)
     ) WITHOUT ROWID;
     CREATE INDEX IF NOT EXISTS history_order ON history (chat, ord);
     CREATE TABLE IF NOT EXISTS history_chats (chat TEXT PRIMARY KEY, touched INTEGER NOT NULL);",
];

/// The SDK's store in an SQLite file (created if missing). Opened by the first
/// [`load`](Store::load); clones share the connection.
#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    conn: Arc<Mutex<Option<Connection>>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// A store in the file at `path` (opened when the session starts).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into(), conn: Arc::new(Mutex::new(None)) }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the open connection (opening it first) on the blocking pool.
    fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, Result<T, StoreError>> {
        let (path, conn) = (self.path.clone(), self.conn.clone());
        Box::pin(blocking::unblock(move || {
            let mut guard = conn.lock().map_err(|_| corrupt("a writer panicked", None))?;
            if guard.is_none() {
                *guard = Some(open(&path)?);
            }
            match guard.as_mut() {
                Some(c) => f(c),
                None => Err(corrupt("not open", None)),
            }
        }))
    }
}

fn corrupt(detail: &str, source: Option<rusqlite::Error>) -> StoreError {
    StoreError::Corrupt { detail: detail.into(), source: source.map(|e| Box::new(e) as _) }
}

/// Sorts SQLite's failures: busy/locked → `Locked`, not a database / damaged → `Corrupt`, the
/// rest (I/O, full disk, read-only, cannot open) → `Io`.
fn classify(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StoreError::Locked,
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => corrupt("not a readable database", Some(e)),
        _ => StoreError::Io(Box::new(e)),
    }
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut c = Connection::open_with_flags(path, flags).map_err(classify)?;
    // Another process holding the lock is an answer at once, not a wait.
    c.busy_timeout(std::time::Duration::ZERO).map_err(classify)?;
    c.pragma_update(None, "locking_mode", "EXCLUSIVE").map_err(classify)?;
    // The first read of the header; also the check that it is a database at all.
    let app: i32 = c.pragma_query_value(None, "application_id", |r| r.get(0)).map_err(classify)?;
    let version: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).map_err(classify)?;
    let tables: i64 = c.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(classify)?;
    if app != APPLICATION_ID && (app != 0 || tables > 0) {
        return Err(StoreError::Foreign);
    }
    if version > SCHEMA_VERSION {
        return Err(StoreError::NewerSchema { found: version, supported: SCHEMA_VERSION });
    }
    c.pragma_update(None, "journal_mode", "WAL").map_err(classify)?;
    c.pragma_update(None, "synchronous", "NORMAL").map_err(classify)?;
    // Takes the exclusive lock now and keeps it (exclusive locking mode) until the
    // connection closes; creates or migrates the schema in the same transaction.
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive).map_err(classify)?;
    if version < SCHEMA_VERSION {
        for step in MIGRATIONS.iter().skip(usize::try_from(version).unwrap_or(0)) {
            tx.execute_batch(step).map_err(classify)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID).map_err(classify)?;
        tx.pragma_update(None, "user_version", SCHEMA_VERSION).map_err(classify)?;
    }
    tx.commit().map_err(classify)?;
    Ok(c)
}

fn load(c: &mut Connection) -> Result<StoredState, StoreError> {
    let mut stmt = c.prepare_cached("SELECT chat, event FROM outbox ORDER BY seq").map_err(classify)?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))).map_err(classify)?;
    let mut outbox = Vec::new();
    for row in rows {
        let (chat, event) = row.map_err(|e| corrupt("an outbox row does not read", Some(e)))?;
        let event: NewEvent = serde_json::from_str(&event).map_err(|e| StoreError::Corrupt {
            detail: "an outbox event does not decode".into(),
            source: Some(Box::new(e)),
        })?;
        outbox.push(StoredEvent::new(ChatId::new(chat), event));
    }
    drop(stmt);
    let refresh: Option<String> = c
        .query_row("SELECT value FROM identity WHERE key = 'refresh_token'", [], |r| r.get(0))
        .optional()
        .map_err(classify)?;
    let summary: Option<String> = c
        .query_row("SELECT value FROM identity WHERE key = 'chats_summary'", [], |r| r.get(0))
        .optional()
        .map_err(classify)?;
    let summary = match summary {
        Some(json) => Some(serde_json::from_str(&json).map_err(|e| StoreError::Corrupt {
            detail: "the kept chats summary does not decode".into(),
            source: Some(Box::new(e)),
        })?),
        None => None,
    };
    let history = load_history(c)?;
    Ok(StoredState::with_outbox(outbox)
        .with_refresh_token(refresh.map(Token::new))
        .with_chats_summary(summary)
        .with_history(history))
}

/// The history cache: chats in the order they were updated, each one's events in its order.
fn load_history(c: &mut Connection) -> Result<Vec<CachedChat>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT h.chat, h.thread, h.event FROM history h JOIN history_chats c ON c.chat = h.chat
             ORDER BY c.touched, h.ord",
        )
        .map_err(classify)?;
    let rows = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, String>(2)?)))
        .map_err(classify)?;
    let mut history: Vec<CachedChat> = Vec::new();
    for row in rows {
        let (chat, thread, event) = row.map_err(|e| corrupt("a cached event does not read", Some(e)))?;
        let event: Event = serde_json::from_str(&event).map_err(|e| StoreError::Corrupt {
            detail: "a cached event does not decode".into(),
            source: Some(Box::new(e)),
        })?;
        let chat = ChatId::new(chat);
        let entry = CachedEvent::new(chat.clone(), thread.map(ThreadId::new), event);
        match history.last_mut() {
            Some(last) if last.chat == chat => last.events.push(entry),
            _ => history.push(CachedChat::new(chat, vec![entry])),
        }
    }
    Ok(history)
}

fn apply(c: &mut Connection, changes: Vec<StoreChange>) -> Result<(), StoreError> {
    let tx = c.transaction().map_err(classify)?;
    for change in changes {
        match change {
            StoreChange::OutboxAdded(e) => {
                let event = serde_json::to_string(&e.event).map_err(|e| StoreError::Io(Box::new(e)))?;
                tx.prepare_cached("INSERT OR IGNORE INTO outbox (custom_id, chat, event) VALUES (?1, ?2, ?3)")
                    .and_then(|mut s| s.execute(params![e.key(), e.chat.as_str(), event]))
                    .map_err(classify)?;
            }
            StoreChange::OutboxRemoved { custom_id } => {
                tx.prepare_cached("DELETE FROM outbox WHERE custom_id = ?1")
                    .and_then(|mut s| s.execute(params![custom_id]))
                    .map_err(classify)?;
            }
            StoreChange::RefreshToken(t) => {
                tx.prepare_cached("INSERT OR REPLACE INTO identity (key, value) VALUES ('refresh_token', ?1)")
                    .and_then(|mut s| s.execute(params![t.expose()]))
                    .map_err(classify)?;
            }
            StoreChange::ChatsSummary(s) => {
                let json = serde_json::to_string(&s).map_err(|e| StoreError::Io(Box::new(e)))?;
                tx.prepare_cached("INSERT OR REPLACE INTO identity (key, value) VALUES ('chats_summary', ?1)")
                    .and_then(|mut s| s.execute(params![json]))
                    .map_err(classify)?;
            }
            StoreChange::Forget => tx
                .execute_batch(
                    "DELETE FROM outbox; DELETE FROM identity; DELETE FROM history; DELETE FROM history_chats;",
                )
                .map_err(classify)?,
            StoreChange::CachedEvent(e) => {
                let json = serde_json::to_string(&e.event).map_err(|e| StoreError::Io(Box::new(e)))?;
                let ord = i64::try_from(e.event.order).unwrap_or(i64::MAX);
                let thread = e.thread.as_ref().map(ThreadId::as_str);
                tx.prepare_cached(
                    "INSERT INTO history (chat, event_id, ord, thread, event) VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (chat, event_id) DO UPDATE
                     SET ord = excluded.ord, thread = excluded.thread, event = excluded.event",
                )
                .and_then(|mut s| s.execute(params![e.chat.as_str(), e.event.id.as_str(), ord, thread, json]))
                .map_err(classify)?;
                tx.prepare_cached(
                    "INSERT INTO history_chats (chat, touched)
                     VALUES (?1, (SELECT coalesce(max(touched), 0) + 1 FROM history_chats))
                     ON CONFLICT (chat) DO UPDATE SET touched = excluded.touched",
                )
                .and_then(|mut s| s.execute(params![e.chat.as_str()]))
                .map_err(classify)?;
            }
            StoreChange::CacheTrimmed { chat, keep } => {
                tx.prepare_cached(
                    "DELETE FROM history WHERE chat = ?1 AND event_id NOT IN
                     (SELECT event_id FROM history WHERE chat = ?1 ORDER BY ord DESC LIMIT ?2)",
                )
                .and_then(|mut s| s.execute(params![chat.as_str(), keep]))
                .map_err(classify)?;
            }
            StoreChange::CacheEvicted { chat } => {
                for sql in ["DELETE FROM history WHERE chat = ?1", "DELETE FROM history_chats WHERE chat = ?1"] {
                    tx.prepare_cached(sql).and_then(|mut s| s.execute(params![chat.as_str()])).map_err(classify)?;
                }
            }
            _ => {}
        }
    }
    tx.commit().map_err(classify)
}

impl Store for SqliteStore {
    fn load(&self) -> StoreFuture<'_, Result<StoredState, StoreError>> {
        self.with(load)
    }

    fn apply(&self, changes: Vec<StoreChange>) -> StoreFuture<'_, Result<(), StoreError>> {
        self.with(move |c| apply(c, changes))
    }

    /// Closes the connection (and its lock).
    fn close(&self) {
        if let Ok(mut c) = self.conn.lock() {
            c.take();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("chatio-store-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("store.db")
    }

    #[test]
    fn the_sqlite_store_passes_the_suite() {
        let path = temp("suite");
        futures::executor::block_on(suite::run(|| SqliteStore::new(&path)));
    }

    fn load_error(path: &Path) -> StoreError {
        match futures::executor::block_on(SqliteStore::new(path).load()) {
            Ok(s) => panic!("loaded {s:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_second_process_is_refused_while_one_holds_it() {
        let path = temp("locked");
        let first = SqliteStore::new(&path);
        futures::executor::block_on(first.load()).expect("the first opens it");
        // Another connection is what another process would have (the lock is the file's).
        assert!(matches!(load_error(&path), StoreError::Locked), "the second is refused");
        first.close();
        let second = SqliteStore::new(&path);
        futures::executor::block_on(second.load()).expect("free again once the first closed");
        drop(second);
        futures::executor::block_on(first.load()).expect("a closed store opens again");
    }

    #[test]
    fn foreign_newer_and_damaged_files_are_refused_untouched() {
        let path = temp("foreign");
        let c = Connection::open(&path).expect("open");
        c.execute_batch("CREATE TABLE notes (x TEXT); INSERT INTO notes VALUES ('mine');").expect("foreign");
        drop(c);
        assert!(matches!(load_error(&path), StoreError::Foreign));
        let c = Connection::open(&path).expect("still theirs");
        let kept: String = c.query_row("SELECT x FROM notes", [], |r| r.get(0)).expect("untouched");
        assert_eq!(kept, "mine");
        drop(c);

        let path = temp("newer");
        futures::executor::block_on(SqliteStore::new(&path).load()).expect("ours");
        Connection::open(&path).expect("open").pragma_update(None, "user_version", 4).expect("a newer SDK's");
        let e = load_error(&path);
        assert!(matches!(e, StoreError::NewerSchema { found: 4, supported: 3 }), "{e:?}");

        let path = temp("damaged");
        std::fs::write(&path, b"this is not a database, just some bytes that are long enough to have a header")
            .expect("write");
        let e = load_error(&path);
        assert!(matches!(e, StoreError::Corrupt { .. }), "{e:?}");

        let path = temp("bad-row");
        let s = SqliteStore::new(&path);
        futures::executor::block_on(s.load()).expect("ours");
        drop(s);
        let c = Connection::open(&path).expect("open");
        c.execute("INSERT INTO outbox (custom_id, chat, event) VALUES ('x', 'A', '{not json')", []).expect("row");
        drop(c);
        assert!(matches!(load_error(&path), StoreError::Corrupt { .. }));
    }

    #[test]
    fn a_version_1_store_is_migrated_and_keeps_its_outbox() {
        let path = temp("v1");
        let c = Connection::open(&path).expect("open");
        c.execute_batch(MIGRATIONS[0]).expect("v1 schema");
        c.pragma_update(None, "application_id", APPLICATION_ID).expect("ours");
        c.pragma_update(None, "user_version", 1).expect("v1");
        let event = r#"{"type":"message","text":"kept","custom_id":"k1"}"#;
        c.execute("INSERT INTO outbox (custom_id, chat, event) VALUES ('k1', 'A', ?1)", [event]).expect("row");
        drop(c);
        let s = SqliteStore::new(&path);
        let state = futures::executor::block_on(s.load()).expect("migrated");
        assert_eq!(state.outbox.iter().map(StoredEvent::key).collect::<Vec<_>>(), ["k1"]);
        futures::executor::block_on(s.apply(vec![StoreChange::RefreshToken(Token::new("rt"))])).expect("v2 table");
        futures::executor::block_on(s.apply(vec![StoreChange::CacheEvicted { chat: ChatId::new("A") }]))
            .expect("v3 tables");
        drop(s);
        let c = Connection::open(&path).expect("open");
        let v: i64 = c.pragma_query_value(None, "user_version", |r| r.get(0)).expect("version");
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn a_directory_that_cannot_hold_it_is_an_io_error() {
        let path = temp("missing").with_file_name("no-such-dir").join("store.db");
        assert!(matches!(load_error(&path), StoreError::Io(_)));
    }
}
