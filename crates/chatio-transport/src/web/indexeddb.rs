//! The SDK's store in the browser's IndexedDB ([`IndexedDbStore`]): the outbox, the
//! customer's refresh token and the last chats summary survive a reload or a closed tab.
//!
//! **Schema** (IndexedDB's own version number, [`SCHEMA_VERSION`]): object store `outbox`,
//! key path `seq` (a number given in the order entries are added), each record
//! `{seq, custom_id, chat, event}` with the event as its wire JSON; object store `identity`,
//! out-of-line keys: `refresh_token` (the secret, a string), `chats_summary` (wire JSON) and
//! `history_chats` (the cached chats, the one updated longest ago first, a JSON array);
//! object store `history` (version 2), the history cache, key path `[chat, event_id]`, each
//! record `{chat, event_id, ord, thread, event}` with the event as its wire JSON and `ord` its
//! `order` (the session bounds it: see `chatio_core::Config::cached_events`).
//! A database of the same name written by a newer SDK (a higher version) is refused as
//! [`StoreError::NewerSchema`], one with other object stores as [`StoreError::Foreign`];
//! neither is changed. A later version adds its step to `upgrade` (run in IndexedDB's
//! `upgradeneeded`, in one transaction).
//!
//! **One tab at a time.** Two tabs of one site share the origin's IndexedDB; both draining
//! one outbox would send an entry twice. The first `load` takes the Web Locks API's exclusive
//! lock named after the database (`navigator.locks.request(…, {ifAvailable: true})`) and holds
//! it until [`Store::close`] (the session ended) or the page goes away, when the browser
//! releases it — a reload or a closed tab never leaves it held, unlike a lease written into
//! the database, which a killed tab cannot clear and which needs clocks and timeouts. A second
//! tab gets [`StoreError::Locked`] at once and runs in memory (the session emits
//! `StoreUnavailable`), like a second process on the SQLite store. Without the Web Locks API
//! (a page that is not a secure context, a very old browser) the store refuses to open
//! ([`StoreError::Io`]) rather than risk a double send.
//!
//! **Writes.** The lock makes this handle the only writer, so it keeps the keys of the outbox
//! (custom id → `seq`) and of the history cache (per chat, `(ord, event id)`) in memory after
//! `load`, and [`Store::apply`] is one `readwrite`
//! transaction over the object stores made only of `put`/`delete`/`clear` requests, awaited
//! until `complete`: all of a batch or none (an aborted transaction — a quota exceeded — is
//! [`StoreError::Io`] and leaves the stored state and the key table as they were). IndexedDB's
//! default durability: a completed transaction survives the tab being closed or the browser
//! killed; after an operating-system crash the last writes may be missing (their events were
//! then never confirmed to the application either).
//!
//! IndexedDB missing (some private modes, a sandboxed frame) is [`StoreError::Io`]: the session
//! runs in memory. The refresh token is a secret readable by any script of the origin (as in
//! `localStorage`); it never appears in logs or `Debug` output.

use std::cell::RefCell;
use std::rc::Rc;

use chatio_core::{CachedChat, CachedEvent, StoreChange, StoredEvent, StoredState};
use chatio_wire::{ChatId, Event, NewEvent, ThreadId, Token};
use js_sys::{Array, Function, Object, Promise, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction, IdbTransactionMode};

use super::js_message;
use crate::error::BrowserError;
use crate::store::{Store, StoreError, StoreFuture};

/// The schema version this SDK writes and reads (IndexedDB's database version).
pub const SCHEMA_VERSION: u32 = 2;

const OUTBOX: &str = "outbox";
const IDENTITY: &str = "identity";
const REFRESH_TOKEN: &str = "refresh_token";
const CHATS_SUMMARY: &str = "chats_summary";
const HISTORY: &str = "history";
const HISTORY_CHATS: &str = "history_chats";

/// The SDK's store in an IndexedDB database of this origin (created if missing). Opened, and
/// its tab lock taken, by the first [`load`](Store::load); clones share it.
#[derive(Clone)]
pub struct IndexedDbStore {
    name: String,
    open: Rc<RefCell<Option<Open>>>,
}

/// The open database, its lock and the outbox's keys.
struct Open {
    db: IdbDatabase,
    /// The tab lock: resolving its function releases it.
    lock: Lock,
    /// `(custom_id, seq)` of every stored outbox entry, oldest first.
    keys: Vec<(String, f64)>,
    /// The `seq` of the next entry.
    next: f64,
    /// The history cache's keys: each chat (the one updated longest ago first) with its
    /// events' `(ord, event id)`, in order.
    cache: CacheKeys,
}

/// The keys of the history cache (see [`Open::cache`]).
type CacheKeys = Vec<(String, Vec<(f64, String)>)>;

impl std::fmt::Debug for IndexedDbStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexedDbStore").field("name", &self.name).finish_non_exhaustive()
    }
}

impl IndexedDbStore {
    /// A store in the IndexedDB database `name` of this page's origin (opened when the
    /// session starts). Give each customer identity its own name (the widget names the server
    /// and license): one database holds one customer.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), open: Rc::new(RefCell::new(None)) }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of the tab lock (Web Locks API) this store holds while a session uses it.
    pub fn lock_name(&self) -> String {
        format!("chatio-store:{}", self.name)
    }

    /// Deletes the database (its tab lock must be free: no session on it). For tests and
    /// for an application that wipes the origin's data; `forget` is the SDK's way.
    ///
    /// # Errors
    /// [`StoreError::Io`] when IndexedDB is missing or refuses.
    pub async fn delete(name: &str) -> Result<(), StoreError> {
        let req = factory()?.delete_database(name).map_err(|e| io("deleting the database", &e))?;
        request_done(&req).await.map_err(|e| io("deleting the database", &e))?;
        Ok(())
    }

    /// Reads the store, opening it first; a store that cannot be read is let go (its lock
    /// released: it is of no use to this tab).
    async fn load_state(&self) -> Result<StoredState, StoreError> {
        let r = self.read_all().await;
        if r.is_err() {
            self.close();
        }
        r
    }

    async fn read_all(&self) -> Result<StoredState, StoreError> {
        if self.open.borrow().is_none() {
            let open = self.open_db().await?;
            *self.open.borrow_mut() = Some(open);
        }
        let db = self.db()?;
        let read = async {
            let tx = db.transaction_with_str_sequence(&names()).map_err(|e| io("a read transaction", &e))?;
            let outbox = tx.object_store(OUTBOX).map_err(|e| io("the outbox", &e))?;
            let identity = tx.object_store(IDENTITY).map_err(|e| io("the identity", &e))?;
            let all = outbox.get_all().map_err(|e| io("reading the outbox", &e))?;
            let token = identity.get(&REFRESH_TOKEN.into()).map_err(|e| io("reading the identity", &e))?;
            let summary = identity.get(&CHATS_SUMMARY.into()).map_err(|e| io("reading the identity", &e))?;
            let order = identity.get(&HISTORY_CHATS.into()).map_err(|e| io("reading the identity", &e))?;
            let history = tx.object_store(HISTORY).map_err(|e| io("the history cache", &e))?;
            let cached = history.get_all().map_err(|e| io("reading the history cache", &e))?;
            transaction_done(&tx).await?;
            Ok::<_, StoreError>((result(&all)?, result(&token)?, result(&summary)?, result(&order)?, result(&cached)?))
        };
        let (all, token, summary, order, cached) = read.await?;
        let mut keys = Vec::new();
        let mut outbox = Vec::new();
        for record in Array::from(&all).iter() {
            let (seq, custom_id, chat, event) = (
                field(&record, "seq").as_f64(),
                field(&record, "custom_id").as_string(),
                field(&record, "chat").as_string(),
                field(&record, "event").as_string(),
            );
            let (Some(seq), Some(custom_id), Some(chat), Some(event)) = (seq, custom_id, chat, event) else {
                return Err(corrupt("an outbox record lacks a field", None));
            };
            let event: NewEvent = serde_json::from_str(&event)
                .map_err(|e| corrupt("an outbox event does not decode", Some(Box::new(e))))?;
            keys.push((custom_id, seq));
            outbox.push(StoredEvent::new(ChatId::new(chat), event));
        }
        let refresh_token = match token {
            v if v.is_undefined() => None,
            v => Some(Token::new(v.as_string().ok_or_else(|| corrupt("the refresh token is not a string", None))?)),
        };
        let chats_summary = match summary.as_string() {
            Some(json) => Some(
                serde_json::from_str(&json)
                    .map_err(|e| corrupt("the kept chats summary does not decode", Some(Box::new(e))))?,
            ),
            None if summary.is_undefined() => None,
            None => return Err(corrupt("the kept chats summary is not a string", None)),
        };
        let (history, cache) = read_history(&order, &cached)?;
        if let Some(open) = self.open.borrow_mut().as_mut() {
            open.next = keys.last().map_or(1.0, |(_, seq)| seq + 1.0);
            open.keys = keys;
            open.cache = cache;
        }
        Ok(StoredState::with_outbox(outbox)
            .with_refresh_token(refresh_token)
            .with_chats_summary(chats_summary)
            .with_history(history))
    }

    async fn apply_changes(&self, changes: Vec<StoreChange>) -> Result<(), StoreError> {
        if self.open.borrow().is_none() {
            self.load_state().await?;
        }
        let db = self.db()?;
        let (mut keys, mut next, mut cache) = match self.open.borrow().as_ref() {
            Some(o) => (o.keys.clone(), o.next, o.cache.clone()),
            None => return Err(corrupt("not open", None)),
        };
        let mut chats_moved = false;
        let tx = db
            .transaction_with_str_sequence_and_mode(&names(), IdbTransactionMode::Readwrite)
            .map_err(|e| io("a write transaction", &e))?;
        let outbox = tx.object_store(OUTBOX).map_err(|e| io("the outbox", &e))?;
        let identity = tx.object_store(IDENTITY).map_err(|e| io("the identity", &e))?;
        let history = tx.object_store(HISTORY).map_err(|e| io("the history cache", &e))?;
        let write = |r: Result<IdbRequest, JsValue>| r.map(drop).map_err(|e| io("writing the store", &e));
        let queued = (|| {
            for change in changes {
                match change {
                    StoreChange::OutboxAdded(e) if !keys.iter().any(|(k, _)| k == e.key()) => {
                        let event = serde_json::to_string(&e.event).map_err(|e| StoreError::Io(Box::new(e)))?;
                        let record = Object::new();
                        set(&record, "seq", &next.into())?;
                        set(&record, "custom_id", &e.key().into())?;
                        set(&record, "chat", &e.chat.as_str().into())?;
                        set(&record, "event", &event.into())?;
                        write(outbox.put(&record))?;
                        keys.push((e.key().to_owned(), next));
                        next += 1.0;
                    }
                    StoreChange::OutboxRemoved { custom_id } => {
                        if let Some(i) = keys.iter().position(|(k, _)| *k == custom_id) {
                            let (_, seq) = keys.remove(i);
                            write(outbox.delete(&seq.into()))?;
                        }
                    }
                    StoreChange::RefreshToken(t) => {
                        write(identity.put_with_key(&t.expose().into(), &REFRESH_TOKEN.into()))?;
                    }
                    StoreChange::ChatsSummary(s) => {
                        let json = serde_json::to_string(&s).map_err(|e| StoreError::Io(Box::new(e)))?;
                        write(identity.put_with_key(&json.into(), &CHATS_SUMMARY.into()))?;
                    }
                    StoreChange::Forget => {
                        write(outbox.clear())?;
                        write(identity.clear())?;
                        write(history.clear())?;
                        keys.clear();
                        cache.clear();
                    }
                    StoreChange::CachedEvent(e) => {
                        let json = serde_json::to_string(&e.event).map_err(|e| StoreError::Io(Box::new(e)))?;
                        #[allow(clippy::cast_precision_loss)] // ok: an order beyond 2^53 only sorts coarser
                        let ord = e.event.order as f64;
                        let (chat, id) = (e.chat.as_str(), e.event.id.as_str());
                        let record = Object::new();
                        set(&record, "chat", &chat.into())?;
                        set(&record, "event_id", &id.into())?;
                        set(&record, "ord", &ord.into())?;
                        set(&record, "thread", &e.thread.as_ref().map_or(JsValue::NULL, |t| t.as_str().into()))?;
                        set(&record, "event", &json.into())?;
                        write(history.put(&record))?;
                        let mut events = match cache.iter().position(|(c, _)| c == chat) {
                            Some(i) => cache.remove(i).1,
                            None => Vec::new(),
                        };
                        events.retain(|(_, kept)| kept != id);
                        let at = events.partition_point(|(o, _)| *o <= ord);
                        events.insert(at, (ord, id.to_owned()));
                        cache.push((chat.to_owned(), events));
                        chats_moved = true;
                    }
                    StoreChange::CacheTrimmed { chat, keep } => {
                        if let Some((_, events)) = cache.iter_mut().find(|(c, _)| c == chat.as_str()) {
                            let keep = usize::try_from(keep).unwrap_or(usize::MAX);
                            for (_, id) in events.drain(..events.len().saturating_sub(keep)) {
                                write(history.delete(&Array::of2(&chat.as_str().into(), &id.into())))?;
                            }
                        }
                    }
                    StoreChange::CacheEvicted { chat } => {
                        if let Some(i) = cache.iter().position(|(c, _)| c == chat.as_str()) {
                            for (_, id) in cache.remove(i).1 {
                                write(history.delete(&Array::of2(&chat.as_str().into(), &id.into())))?;
                            }
                            chats_moved = true;
                        }
                    }
                    _ => {}
                }
            }
            if chats_moved {
                let order: Vec<&str> = cache.iter().map(|(c, _)| c.as_str()).collect();
                let json = serde_json::to_string(&order).map_err(|e| StoreError::Io(Box::new(e)))?;
                write(identity.put_with_key(&json.into(), &HISTORY_CHATS.into()))?;
            }
            Ok(())
        })();
        if let Err(e) = queued {
            let _ = tx.abort();
            return Err(e);
        }
        transaction_done(&tx).await?;
        if let Some(open) = self.open.borrow_mut().as_mut() {
            open.keys = keys;
            open.next = next;
            open.cache = cache;
        }
        Ok(())
    }

    fn db(&self) -> Result<IdbDatabase, StoreError> {
        self.open.borrow().as_ref().map(|o| o.db.clone()).ok_or_else(|| corrupt("not open", None))
    }

    /// Takes the tab lock, then opens (creating or upgrading) the database.
    async fn open_db(&self) -> Result<Open, StoreError> {
        let lock = take_lock(&self.lock_name()).await?;
        match open_database(&self.name).await {
            Ok(db) => Ok(Open { db, lock, keys: Vec::new(), next: 1.0, cache: Vec::new() }),
            Err(e) => {
                lock.release(&self.lock_name());
                Err(e)
            }
        }
    }
}

impl Store for IndexedDbStore {
    fn load(&self) -> StoreFuture<'_, Result<StoredState, StoreError>> {
        Box::pin(self.load_state())
    }

    fn apply(&self, changes: Vec<StoreChange>) -> StoreFuture<'_, Result<(), StoreError>> {
        Box::pin(self.apply_changes(changes))
    }

    /// Closes the database and releases the tab lock.
    fn close(&self) {
        if let Some(open) = self.open.borrow_mut().take() {
            open.db.close();
            open.lock.release(&self.lock_name());
        }
    }
}

fn names() -> Array {
    Array::of3(&OUTBOX.into(), &IDENTITY.into(), &HISTORY.into())
}

/// The history cache from its records and the chats' order (`history_chats`): the chats in
/// that order, each one's events by `ord`; and the keys the store keeps.
fn read_history(order: &JsValue, records: &JsValue) -> Result<(Vec<CachedChat>, CacheKeys), StoreError> {
    let order: Vec<String> = match order.as_string() {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| corrupt("the cached chats' order does not decode", Some(Box::new(e))))?,
        None if order.is_undefined() => Vec::new(),
        None => return Err(corrupt("the cached chats' order is not a string", None)),
    };
    let mut history: Vec<CachedChat> =
        order.iter().map(|c| CachedChat::new(ChatId::new(c.as_str()), Vec::new())).collect();
    let mut keys: CacheKeys = order.into_iter().map(|c| (c, Vec::new())).collect();
    for record in Array::from(records).iter() {
        let (chat, ord, event) =
            (field(&record, "chat").as_string(), field(&record, "ord").as_f64(), field(&record, "event").as_string());
        let (Some(chat), Some(ord), Some(event)) = (chat, ord, event) else {
            return Err(corrupt("a cached event lacks a field", None));
        };
        let thread = field(&record, "thread").as_string().map(ThreadId::new);
        let event: Event =
            serde_json::from_str(&event).map_err(|e| corrupt("a cached event does not decode", Some(Box::new(e))))?;
        let Some(i) = keys.iter().position(|(c, _)| *c == chat) else {
            return Err(corrupt("a cached event of a chat the cache does not list", None));
        };
        keys[i].1.push((ord, event.id.as_str().to_owned()));
        history[i].events.push(CachedEvent::new(ChatId::new(chat), thread, event));
    }
    for ((_, k), h) in keys.iter_mut().zip(history.iter_mut()) {
        k.sort_by(|a, b| a.0.total_cmp(&b.0));
        h.events.sort_by_key(|e| e.event.order);
    }
    Ok((history, keys))
}

fn factory() -> Result<web_sys::IdbFactory, StoreError> {
    let global: Object = js_sys::global().unchecked_into();
    let idb = Reflect::get(&global, &"indexedDB".into()).unwrap_or(JsValue::UNDEFINED);
    if idb.is_undefined() || idb.is_null() {
        return Err(StoreError::Io(Box::new(BrowserError("IndexedDB is not available in this page".into()))));
    }
    Ok(idb.unchecked_into())
}

fn io(context: &str, e: &JsValue) -> StoreError {
    StoreError::Io(Box::new(BrowserError(format!("{context}: {}", js_message(e)))))
}

fn corrupt(detail: &str, source: Option<crate::error::BoxError>) -> StoreError {
    StoreError::Corrupt { detail: detail.into(), source }
}

fn field(record: &JsValue, name: &str) -> JsValue {
    Reflect::get(record, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn set(record: &Object, name: &str, value: &JsValue) -> Result<(), StoreError> {
    Reflect::set(record, &name.into(), value).map(drop).map_err(|e| io("building a record", &e))
}

fn result(req: &IdbRequest) -> Result<JsValue, StoreError> {
    req.result().map_err(|e| io("a request's result", &e))
}

/// Waits for a request's `success` (its `error` event is the rejection).
async fn request_done(req: &IdbRequest) -> Result<JsValue, JsValue> {
    let promise = Promise::new(&mut |resolve, reject| {
        req.set_onsuccess(Some(&resolve));
        req.set_onerror(Some(&reject));
    });
    let r = JsFuture::from(promise).await;
    req.set_onsuccess(None);
    req.set_onerror(None);
    match r {
        Ok(_) => req.result(),
        Err(_) => Err(req.error().ok().flatten().map_or(JsValue::UNDEFINED, JsValue::from)),
    }
}

/// Waits for a transaction's `complete`; `abort` or `error` is [`StoreError::Io`] with the
/// transaction's error (e.g. `QuotaExceededError`).
async fn transaction_done(tx: &IdbTransaction) -> Result<(), StoreError> {
    let promise = Promise::new(&mut |resolve, reject| {
        tx.set_oncomplete(Some(&resolve));
        tx.set_onerror(Some(&reject));
        tx.set_onabort(Some(&reject));
    });
    let r = JsFuture::from(promise).await;
    tx.set_oncomplete(None);
    tx.set_onerror(None);
    tx.set_onabort(None);
    match r {
        Ok(_) => Ok(()),
        Err(_) => {
            let why = tx.error().map_or_else(|| JsValue::from_str("the transaction was aborted"), JsValue::from);
            Err(io("writing the store", &why))
        }
    }
}

/// Opens the database at [`SCHEMA_VERSION`], creating or upgrading it; a newer one is
/// refused (its version read by opening it without a version), a foreign one too.
async fn open_database(name: &str) -> Result<IdbDatabase, StoreError> {
    let factory = factory()?;
    let req = factory.open_with_u32(name, SCHEMA_VERSION).map_err(|e| io("opening the database", &e))?;
    let foreign = Rc::new(std::cell::Cell::new(false));
    let seen = foreign.clone();
    let upgrade_req = req.clone();
    let on_upgrade =
        Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(move |e: web_sys::IdbVersionChangeEvent| {
            if upgrade(&upgrade_req, e.old_version()).is_err() {
                seen.set(true);
                if let Some(tx) = upgrade_req.transaction() {
                    let _ = tx.abort();
                }
            }
        });
    req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
    let opened = request_done(&req).await;
    req.set_onupgradeneeded(None);
    drop(on_upgrade);
    match opened {
        Ok(db) => {
            let db: IdbDatabase = db.unchecked_into();
            let stores = db.object_store_names();
            if !(stores.contains(OUTBOX) && stores.contains(IDENTITY) && stores.contains(HISTORY))
                || stores.length() != 3
            {
                db.close();
                return Err(StoreError::Foreign);
            }
            Ok(db)
        }
        Err(_) if foreign.get() => Err(StoreError::Foreign),
        Err(e) if field(&e, "name").as_string().as_deref() == Some("VersionError") => Err(StoreError::NewerSchema {
            found: current_version(&factory, name).await?,
            supported: SCHEMA_VERSION.into(),
        }),
        Err(e) => Err(io("opening the database", &e)),
    }
}

/// The steps from `old` to [`SCHEMA_VERSION`], in `upgradeneeded`; an error when the database
/// holds object stores that are not ours.
fn upgrade(req: &IdbOpenDbRequest, old: f64) -> Result<(), JsValue> {
    let db: IdbDatabase = req.result()?.unchecked_into();
    let stores = db.object_store_names();
    for i in 0..stores.length() {
        if let Some(s) = stores.item(i) {
            if s != OUTBOX && s != IDENTITY && s != HISTORY {
                return Err(JsValue::from_str("a foreign database"));
            }
        }
    }
    if old < 1.0 {
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&JsValue::from_str("seq"));
        let _: IdbObjectStore = db.create_object_store_with_optional_parameters(OUTBOX, &params)?;
        db.create_object_store(IDENTITY)?;
    }
    if old < 2.0 {
        let params = web_sys::IdbObjectStoreParameters::new();
        params.set_key_path(&Array::of2(&"chat".into(), &"event_id".into()));
        let _: IdbObjectStore = db.create_object_store_with_optional_parameters(HISTORY, &params)?;
    }
    Ok(())
}

/// The version of an existing database (opened without a version, then closed).
async fn current_version(factory: &web_sys::IdbFactory, name: &str) -> Result<i64, StoreError> {
    let req = factory.open(name).map_err(|e| io("opening the database", &e))?;
    let db: IdbDatabase = request_done(&req).await.map_err(|e| io("opening the database", &e))?.unchecked_into();
    #[allow(clippy::cast_possible_truncation)] // ok: IndexedDB versions are integers below 2^53
    let version = db.version() as i64;
    db.close();
    Ok(version)
}

/// A tab lock held (Web Locks API).
struct Lock {
    /// Resolving it releases the lock.
    release: Function,
    /// Settles once the lock manager let it go.
    released: Promise,
}

thread_local! {
    /// Locks this page released whose release has not settled yet, by name: the lock manager
    /// lets a lock go a few tasks after its promise resolves, so a session that starts right
    /// after another ended on the same store waits for that instead of finding it held.
    static RELEASING: RefCell<Vec<(String, Promise)>> = const { RefCell::new(Vec::new()) };
}

impl Lock {
    fn release(self, name: &str) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
        RELEASING.with(|r| r.borrow_mut().push((name.to_owned(), self.released)));
    }
}

/// Takes the exclusive Web Lock `name` if it is free (after this page's own release of it,
/// if one is under way). Held by another tab: [`StoreError::Locked`] at once.
async fn take_lock(name: &str) -> Result<Lock, StoreError> {
    let pending: Vec<Promise> = RELEASING.with(|r| {
        let mut r = r.borrow_mut();
        let (mine, rest) = std::mem::take(&mut *r).into_iter().partition(|(n, _)| n == name);
        *r = rest;
        mine.into_iter().map(|(_, p)| p).collect()
    });
    for p in pending {
        let _ = JsFuture::from(p).await;
    }
    let no_locks = || StoreError::Io(Box::new(BrowserError("the Web Locks API is not available in this page".into())));
    let global: Object = js_sys::global().unchecked_into();
    let navigator = Reflect::get(&global, &"navigator".into()).map_err(|_| no_locks())?;
    let locks = Reflect::get(&navigator, &"locks".into()).map_err(|_| no_locks())?;
    let request = Reflect::get(&locks, &"request".into()).map_err(|_| no_locks())?;
    let Some(request) = request.dyn_ref::<Function>() else { return Err(no_locks()) };
    // The lock is held while the promise the callback returns is pending: `held`, resolved by
    // `release`.
    let mut release = None;
    let held = Promise::new(&mut |resolve, _| release = Some(resolve));
    let Some(release) = release else { return Err(no_locks()) };
    let (tx, rx) = futures::channel::oneshot::channel::<bool>();
    let callback = Closure::once_into_js(move |lock: JsValue| -> JsValue {
        let granted = !lock.is_null() && !lock.is_undefined();
        let _ = tx.send(granted);
        if granted { held.into() } else { JsValue::UNDEFINED }
    });
    let options = Object::new();
    set(&options, "ifAvailable", &JsValue::TRUE)?;
    let done = request.call3(&locks, &name.into(), &options, &callback).map_err(|e| io("the tab lock", &e))?;
    let released = done.dyn_into::<Promise>().map_err(|_| no_locks())?;
    match rx.await {
        Ok(true) => Ok(Lock { release, released }),
        Ok(false) => Err(StoreError::Locked),
        Err(_) => Err(no_locks()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::suite;
    use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

    wasm_bindgen_test_configure!(run_in_browser);

    async fn fresh(name: &str) -> String {
        let name = format!("chatio-test-{name}-{}", js_sys::Math::random());
        IndexedDbStore::delete(&name).await.expect("delete");
        name
    }

    async fn load_error(store: &IndexedDbStore) -> StoreError {
        match store.load().await {
            Ok(s) => panic!("loaded {s:?}"),
            Err(e) => e,
        }
    }

    #[wasm_bindgen_test]
    async fn the_indexeddb_store_passes_the_suite() {
        let name = fresh("suite").await;
        // Each handle closes (its lock goes) when the suite drops it and opens another.
        suite::run(|| ClosingStore(IndexedDbStore::new(&name))).await;
    }

    /// Closes on drop, as a session's end does (the suite drops a handle before it opens the
    /// next one; the lock would refuse the next otherwise).
    struct ClosingStore(IndexedDbStore);

    impl Drop for ClosingStore {
        fn drop(&mut self) {
            self.0.close();
        }
    }

    impl Store for ClosingStore {
        fn load(&self) -> StoreFuture<'_, Result<StoredState, StoreError>> {
            self.0.load()
        }

        fn apply(&self, changes: Vec<StoreChange>) -> StoreFuture<'_, Result<(), StoreError>> {
            self.0.apply(changes)
        }
    }

    #[wasm_bindgen_test]
    async fn a_second_tab_is_refused_while_one_holds_it() {
        let name = fresh("locked").await;
        let first = IndexedDbStore::new(&name);
        first.load().await.expect("the first opens it");
        // Another handle is what another tab would have (the lock is the origin's).
        let second = IndexedDbStore::new(&name);
        assert!(matches!(load_error(&second).await, StoreError::Locked), "the second is refused");
        first.close();
        second.load().await.expect("free again once the first closed");
        second.close();
        first.load().await.expect("a closed store opens again");
        first.close();
    }

    #[wasm_bindgen_test]
    async fn foreign_and_newer_databases_are_refused_untouched() {
        // A database of another application under the same name.
        let name = fresh("foreign").await;
        let req = factory().expect("idb").open_with_u32(&name, 1).expect("open");
        let r2 = req.clone();
        let on_upgrade = Closure::<dyn FnMut(JsValue)>::new(move |_| {
            let db: IdbDatabase = r2.result().expect("db").unchecked_into();
            db.create_object_store("notes").expect("theirs");
        });
        req.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let db: IdbDatabase = request_done(&req).await.expect("opened").unchecked_into();
        db.close();
        let s = IndexedDbStore::new(&name);
        assert!(matches!(load_error(&s).await, StoreError::Foreign));
        let req = factory().expect("idb").open(&name).expect("open");
        let db: IdbDatabase = request_done(&req).await.expect("opened").unchecked_into();
        assert_eq!(db.version(), 1.0, "untouched");
        assert!(db.object_store_names().contains("notes"));
        db.close();

        // A newer SDK's.
        let name = fresh("newer").await;
        let s = IndexedDbStore::new(&name);
        s.load().await.expect("ours");
        s.close();
        let req = factory().expect("idb").open_with_u32(&name, SCHEMA_VERSION + 1).expect("open");
        let db: IdbDatabase = request_done(&req).await.expect("upgraded by a newer SDK").unchecked_into();
        db.close();
        let e = load_error(&s).await;
        assert!(matches!(e, StoreError::NewerSchema { found: 3, supported: 2 }), "{e:?}");

        // A damaged record.
        let name = fresh("bad-row").await;
        let s = IndexedDbStore::new(&name);
        s.load().await.expect("ours");
        s.close();
        let req = factory().expect("idb").open(&name).expect("open");
        let db: IdbDatabase = request_done(&req).await.expect("opened").unchecked_into();
        let tx = db.transaction_with_str_and_mode(OUTBOX, IdbTransactionMode::Readwrite).expect("tx");
        let record = Object::new();
        set(&record, "seq", &1.0.into()).expect("seq");
        set(&record, "custom_id", &"x".into()).expect("id");
        set(&record, "chat", &"A".into()).expect("chat");
        set(&record, "event", &"{not json".into()).expect("event");
        tx.object_store(OUTBOX).expect("outbox").put(&record).expect("put");
        transaction_done(&tx).await.expect("written");
        db.close();
        assert!(matches!(load_error(&s).await, StoreError::Corrupt { .. }));
    }
}
