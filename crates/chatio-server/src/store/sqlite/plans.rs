//! The query plans of the SQLite store: every statement the store runs in the behaviour
//! suite reads through an index (`EXPLAIN QUERY PLAN` shows no `SCAN` of a table), except
//! the few listed in [`FULL_SCANS_ALLOWED`], each with why. A new query without the index it
//! needs fails here.

use std::collections::BTreeSet;
use std::sync::Mutex;

use rusqlite::trace::{TraceEvent, TraceEventCodes};

use super::SqliteStore;
use crate::store::suite;

/// Statements that may read a whole table, and why.
const FULL_SCANS_ALLOWED: &[(&str, &str)] = &[
    ("SELECT count(*) FROM customers", "the statistics' count, read by /admin/stats and the tests"),
    ("SELECT count(*) FROM tokens", "the statistics' count"),
    ("SELECT count(*) FROM refresh_families", "the statistics' count"),
    ("SELECT count(*) FROM browsers", "the statistics' count"),
    (
        "SELECT c.license, c.id, c.banned = 0",
        "the purge's batch: `SCAN c` reads the co-routine of at most PURGE_BATCH customers the inner query \
         found through the primary key",
    ),
    ("SELECT data FROM agents ORDER BY seq", "the configured agents, a handful, read at start"),
    (
        "SELECT hash, license, agent, expires_at FROM agent_tokens ORDER BY seq",
        "the issued agent tokens, read once at start: at most 25 per configured agent (H10), by the primary key's order",
    ),
    (
        "SELECT license, agent, accepting, online, gone_since FROM agent_presence ORDER BY license, agent",
        "the agents' presence, read once at start: one row per configured agent, by the primary key's order",
    ),
    (
        "SELECT license, chat FROM agent_queue ORDER BY seq",
        "the queues of waiting chats, read once at start: at most the chats with an active thread, by the primary key's order",
    ),
];

/// The statements seen (unexpanded: `?N` for parameters).
static SEEN: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

fn record(event: TraceEvent<'_>) {
    if let TraceEvent::Stmt(stmt, _) = event {
        SEEN.lock().unwrap_or_else(|e| e.into_inner()).insert(stmt.sql().trim().to_owned());
    }
}

/// The plan's lines that read a whole table.
fn full_scans(store: &SqliteStore, sql: &str) -> Vec<String> {
    let mut s = store.conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let nulls = vec![rusqlite::types::Null; s.parameter_count()];
    let details: Vec<String> = s
        .query_map(rusqlite::params_from_iter(nulls), |r| r.get::<_, String>(3))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    details
        .into_iter()
        .filter(|d| d.starts_with("SCAN ") && !d.contains("VIRTUAL TABLE") && !d.contains("CONSTANT ROW"))
        .collect()
}

#[test]
fn every_query_of_the_behaviour_suite_reads_through_an_index() {
    for (_, case) in suite::sqlite::ALL {
        let dir = tempfile::tempdir().unwrap();
        let mut store = SqliteStore::open(dir.path(), 1).unwrap();
        store.conn.trace_v2(TraceEventCodes::SQLITE_TRACE_STMT, Some(record));
        case(&mut store);
        store.conn.trace_v2(TraceEventCodes::empty(), None);
    }
    let seen = SEEN.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path(), 1).unwrap();
    let mut checked = 0;
    let mut bad = Vec::new();
    for sql in &seen {
        let head = sql.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        if !matches!(head.as_str(), "SELECT" | "UPDATE" | "DELETE" | "INSERT") {
            continue;
        }
        checked += 1;
        let scans = full_scans(&store, sql);
        if !scans.is_empty() && !FULL_SCANS_ALLOWED.iter().any(|(p, _)| sql.starts_with(p)) {
            bad.push(format!("{sql}\n    {}", scans.join("\n    ")));
        }
    }
    assert!(checked >= 30, "the suite ran {checked} statements: {seen:#?}");
    assert!(bad.is_empty(), "queries that read a whole table:\n{}", bad.join("\n"));
}
