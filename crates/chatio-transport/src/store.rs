//! The SDK's store: what a session keeps across restarts of the process (a kill, a crash, a
//! page reload), behind the [`Store`] trait.
//!
//! The sans-IO session says what to keep as [`StoreChange`]s; the driver writes each step's
//! changes with [`Store::apply`] **before** that step's frames go out (an event is in the store
//! before it is on the wire, so before its call can report anything), and at start reads the
//! store back with [`Store::load`] and hands it to the session, before any command runs. A
//! store that fails (at start or on a write) is dropped: the session goes on in memory and
//! emits [`SdkEvent::StoreUnavailable`](chatio_core::SdkEvent::StoreUnavailable).
//!
//! What it keeps: the outbox (see `chatio_core`'s `persist` module) — events accepted by
//! `send_event` whose outcome is not known; the customer's latest refresh token; the chats
//! summary of the last login (one page as the server gave it, replaced at each login); the
//! history cache (each chat's latest events, bounded by the session: see
//! [`Config::cached_events`](chatio_core::Config::cached_events)). How many: at most
//! [`Config::max_outbox`](chatio_core::Config::max_outbox) entries are added by a session
//! (1 000 by default; one more is refused with `Error::OutboxFull`), each at most one event
//! frame (the server's 1 MiB frame limit), so a store holds at most about that many events.
//!
//! Implementations: [`MemoryStore`] (kept while the process runs: shared by sessions started
//! one after the other, and the reference for the behaviour suite), the native SQLite store
//! (`SqliteStore`, the `sqlite` feature), the browser's IndexedDB store (`web::IndexedDbStore`,
//! wasm32), or your own.

use std::error::Error as StdError;
use std::fmt;
use std::sync::{Arc, Mutex};

use chatio_core::{CachedChat, StoreChange, StoredState};

pub use crate::bounds::StoreFuture;
use crate::bounds::{MaybeSend, MaybeSync};
use crate::error::BoxError;

/// Where a session keeps what must survive a restart.
///
/// [`apply`](Self::apply) must be atomic (all of a batch or none) and durable against the
/// process being killed once its future completed; [`load`](Self::load) returns the outbox
/// entries in the order they were added.
pub trait Store: MaybeSend + MaybeSync + 'static {
    /// Reads what earlier sessions kept (opening the store first if need be).
    ///
    /// # Errors
    /// A [`StoreError`] when the store cannot be used: the session then runs without it.
    fn load(&self) -> StoreFuture<'_, Result<StoredState, StoreError>>;

    /// Writes `changes`, in order, all or none.
    ///
    /// # Errors
    /// A [`StoreError`]: the session then runs without the store.
    fn apply(&self, changes: Vec<StoreChange>) -> StoreFuture<'_, Result<(), StoreError>>;

    /// The session ended: let go of what holds the store (a file's lock), so the next
    /// session — in this process or another — can open it. A later `load` opens it again.
    /// The default does nothing.
    fn close(&self) {}
}

/// Why a store cannot be used.
#[derive(Debug)]
#[non_exhaustive]
pub enum StoreError {
    /// A newer version of the SDK wrote it: its schema version is above the one this version
    /// reads. It is left untouched.
    NewerSchema {
        /// The store's schema version.
        found: i64,
        /// The newest this version reads.
        supported: i64,
    },
    /// It is not an SDK store (another application's database); it is left untouched.
    Foreign,
    /// Another process (or tab) uses it.
    Locked,
    /// Its content cannot be read (a damaged file, a row that does not decode).
    Corrupt {
        /// What is wrong.
        detail: String,
        /// The underlying error, if any.
        source: Option<BoxError>,
    },
    /// Reading or writing failed (I/O, a full disk, a quota).
    Io(BoxError),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NewerSchema { found, supported } => {
                write!(f, "the store was written by a newer SDK (schema {found}; this one reads up to {supported})")
            }
            StoreError::Foreign => f.write_str("the file is not a chatio SDK store"),
            StoreError::Locked => f.write_str("another process or tab uses the store"),
            StoreError::Corrupt { detail, .. } => write!(f, "the store is damaged: {detail}"),
            StoreError::Io(_) => f.write_str("reading or writing the store failed"),
        }
    }
}

impl StdError for StoreError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            StoreError::Corrupt { source: Some(e), .. } | StoreError::Io(e) => Some(e.as_ref()),
            _ => None,
        }
    }
}

impl StoreError {
    /// The error the session reports ([`Operation::Store`](chatio_core::Operation::Store),
    /// never transient: the store is not tried again by this session).
    pub fn into_core(self) -> chatio_core::TransportError {
        chatio_core::TransportError::new(chatio_core::Operation::Store, false, self)
    }
}

/// A store in memory: kept while the process runs. Clones share it, so a session started
/// after another ended (same `MemoryStore`) takes over what the first left.
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<StoredState>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Store for MemoryStore {
    fn load(&self) -> StoreFuture<'_, Result<StoredState, StoreError>> {
        let state = match self.state.lock() {
            Ok(s) => Ok(s.clone()),
            Err(_) => Err(StoreError::Corrupt { detail: "a writer panicked".into(), source: None }),
        };
        Box::pin(async move { state })
    }

    fn apply(&self, changes: Vec<StoreChange>) -> StoreFuture<'_, Result<(), StoreError>> {
        let result = match self.state.lock() {
            Ok(mut s) => {
                apply_to(&mut s, changes);
                Ok(())
            }
            Err(_) => Err(StoreError::Corrupt { detail: "a writer panicked".into(), source: None }),
        };
        Box::pin(async move { result })
    }
}

/// Applies `changes` to a state kept whole (the memory store; a model for others).
pub(crate) fn apply_to(state: &mut StoredState, changes: Vec<StoreChange>) {
    for c in changes {
        match c {
            StoreChange::OutboxAdded(e) if !state.outbox.iter().any(|o| o.key() == e.key()) => state.outbox.push(e),
            StoreChange::OutboxRemoved { custom_id } => state.outbox.retain(|o| o.key() != custom_id),
            StoreChange::RefreshToken(t) => state.refresh_token = Some(t),
            StoreChange::ChatsSummary(s) => state.chats_summary = Some(s),
            StoreChange::Forget => *state = StoredState::default(),
            StoreChange::CachedEvent(e) => {
                let chat = match state.history.iter().position(|c| c.chat == e.chat) {
                    Some(i) => state.history.remove(i),
                    None => CachedChat::new(e.chat.clone(), Vec::new()),
                };
                let mut chat = chat;
                chat.events.retain(|kept| kept.event.id != e.event.id);
                let at = chat.events.partition_point(|kept| kept.event.order <= e.event.order);
                chat.events.insert(at, e);
                state.history.push(chat);
            }
            StoreChange::CacheTrimmed { chat, keep } => {
                if let Some(c) = state.history.iter_mut().find(|c| c.chat == chat) {
                    let keep = usize::try_from(keep).unwrap_or(usize::MAX);
                    c.events.drain(..c.events.len().saturating_sub(keep));
                }
            }
            StoreChange::CacheEvicted { chat } => state.history.retain(|c| c.chat != chat),
            _ => {}
        }
    }
}

/// The behaviour every store must have, run against each implementation (memory here, SQLite
/// in `native/sqlite.rs`, IndexedDB in `web/indexeddb.rs` in headless Chromium). `open` gives a handle on the same underlying store each time it is
/// called (a reopened file, a shared memory store): what one handle wrote, the next reads.
#[cfg(test)]
pub(crate) mod suite {
    use super::*;
    use chatio_core::{CachedEvent, StoredEvent};
    use chatio_wire::{ChatId, NewEvent, ThreadId, Token};

    fn ev(chat: &str, c: &str, text: &str) -> StoredEvent {
        StoredEvent::new(ChatId::new(chat), NewEvent::message(text).with_custom_id(c))
    }

    fn keys(s: &StoredState) -> Vec<&str> {
        s.outbox.iter().map(StoredEvent::key).collect()
    }

    /// Runs the suite on `open`.
    pub(crate) async fn run<S: Store>(open: impl Fn() -> S) {
        let s = open();
        assert_eq!(s.load().await.expect("load").outbox, vec![], "a new store is empty");
        let a = ev("A", "a1", "hello");
        let b = ev("B", "b1", "ünïcødé ✓ \"quoted\"");
        s.apply(vec![StoreChange::OutboxAdded(a.clone()), StoreChange::OutboxAdded(b.clone())]).await.expect("add");
        s.apply(vec![StoreChange::OutboxAdded(ev("A", "a2", "two"))]).await.expect("add");
        let loaded = s.load().await.expect("load");
        assert_eq!(keys(&loaded), ["a1", "b1", "a2"], "in the order added");
        assert_eq!(loaded.outbox[1], b, "events come back whole");
        drop(s);

        let s = open();
        assert_eq!(keys(&s.load().await.expect("reload")), ["a1", "b1", "a2"], "kept by the store");
        let gone = |c: &str| StoreChange::OutboxRemoved { custom_id: c.into() };
        s.apply(vec![gone("b1"), gone("unknown"), StoreChange::OutboxAdded(ev("C", "c1", "three"))])
            .await
            .expect("remove");
        assert_eq!(keys(&s.load().await.expect("load")), ["a1", "a2", "c1"]);
        s.apply(vec![StoreChange::OutboxAdded(a.clone())]).await.expect("a key added twice is kept once");
        assert_eq!(keys(&s.load().await.expect("load")), ["a1", "a2", "c1"]);
        s.apply(vec![gone("a1"), StoreChange::OutboxAdded(a)]).await.expect("re-add");
        assert_eq!(keys(&s.load().await.expect("load")), ["a2", "c1", "a1"], "a re-added key goes last");
        s.apply(vec![gone("a2"), gone("c1"), gone("a1")]).await.expect("empty");
        drop(s);
        assert_eq!(open().load().await.expect("load").outbox, vec![]);

        // The identity: the latest refresh token is kept; `Forget` wipes everything.
        let s = open();
        assert_eq!(s.load().await.expect("load").refresh_token, None);
        s.apply(vec![StoreChange::RefreshToken(Token::new("rt-1"))]).await.expect("identity");
        s.apply(vec![StoreChange::OutboxAdded(ev("A", "a9", "x")), StoreChange::RefreshToken(Token::new("rt-2"))])
            .await
            .expect("rotated");
        drop(s);
        let s = open();
        let kept = s.load().await.expect("load");
        assert_eq!(kept.refresh_token.as_ref().map(Token::expose), Some("rt-2"), "the latest one");
        assert_eq!(keys(&kept), ["a9"]);
        assert!(!format!("{kept:?}").contains("rt-2"), "never in Debug output");
        // The chats summary of the last login: the latest kept, whole.
        let summary = |total: u64| {
            serde_json::from_value::<chatio_wire::GetChatsSummaryResponse>(serde_json::json!({
                "chats_summary": [{"id": "C1", "order": 5, "users": [], "properties": {}}],
                "total_chats": total,
            }))
            .expect("a summary")
        };
        s.apply(vec![StoreChange::ChatsSummary(summary(1)), StoreChange::ChatsSummary(summary(2))])
            .await
            .expect("summary");
        drop(s);
        let s = open();
        assert_eq!(s.load().await.expect("load").chats_summary, Some(summary(2)));

        // The history cache: each chat's events in the chat's order, replaced by id, trimmed
        // to the latest, evicted whole; the chat updated last comes last.
        let cached = |chat: &str, id: &str, order: u64, text: &str| {
            let kind = chatio_wire::EventKind::Message(chatio_wire::Message::new(text));
            let event = chatio_wire::Event::new(id, order, chatio_wire::Timestamp::from_secs(order), kind);
            CachedEvent::new(ChatId::new(chat), Some(ThreadId::new("T")), event)
        };
        let history = |s: &StoredState| -> Vec<(String, Vec<String>)> {
            s.history
                .iter()
                .map(|c| {
                    let events = c
                        .events
                        .iter()
                        .map(|e| match &e.event.kind {
                            chatio_wire::EventKind::Message(m) => format!("{}:{}", e.event.id.as_str(), m.text),
                            _ => e.event.id.as_str().to_owned(),
                        })
                        .collect();
                    (c.chat.as_str().to_owned(), events)
                })
                .collect()
        };
        let add = |e: CachedEvent| StoreChange::CachedEvent(e);
        s.apply(vec![
            add(cached("A", "a2", 2, "two")),
            add(cached("A", "a1", 1, "one")),
            add(cached("B", "b1", 1, "bee")),
            add(cached("A", "a3", 3, "three")),
        ])
        .await
        .expect("cache");
        drop(s);
        let s = open();
        let kept = s.load().await.expect("load");
        let strings = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            history(&kept),
            [("B".to_owned(), strings(&["b1:bee"])), ("A".to_owned(), strings(&["a1:one", "a2:two", "a3:three"]))],
            "in the chat's order; the chat updated last comes last"
        );
        assert_eq!(kept.history[1].events[0], cached("A", "a1", 1, "one"), "events come back whole");
        s.apply(vec![
            add(cached("A", "a2", 2, "two, edited")),
            StoreChange::CacheTrimmed { chat: ChatId::new("A"), keep: 2 },
            add(cached("B", "b2", 2, "bee two")),
            StoreChange::CacheTrimmed { chat: ChatId::new("nowhere"), keep: 1 },
        ])
        .await
        .expect("replace and trim");
        assert_eq!(
            history(&s.load().await.expect("load")),
            [
                ("A".to_owned(), strings(&["a2:two, edited", "a3:three"])),
                ("B".to_owned(), strings(&["b1:bee", "b2:bee two"])),
            ],
            "the same id replaced; the latest kept"
        );
        s.apply(vec![StoreChange::CacheEvicted { chat: ChatId::new("A") }]).await.expect("evict");
        drop(s);
        let s = open();
        assert_eq!(history(&s.load().await.expect("load")), [("B".to_owned(), strings(&["b1:bee", "b2:bee two"]))]);
        s.apply(vec![StoreChange::Forget]).await.expect("forget");
        drop(s);
        assert_eq!(open().load().await.expect("load"), StoredState::default(), "forgotten");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_passes_the_suite() {
        let store = MemoryStore::new();
        futures::executor::block_on(suite::run(|| store.clone()));
    }

    #[test]
    fn errors_say_what_and_keep_their_cause() {
        let io = StoreError::Io(Box::new(std::io::Error::other("disk full")));
        let t = io.into_core();
        assert_eq!(t.operation(), chatio_core::Operation::Store);
        assert!(!t.is_transient());
        assert_eq!(chatio_core::chain(&t), "the SDK's store failed: reading or writing the store failed: disk full");
        let newer = StoreError::NewerSchema { found: 3, supported: 1 };
        assert!(newer.to_string().contains("newer SDK (schema 3; this one reads up to 1)"));
    }
}
