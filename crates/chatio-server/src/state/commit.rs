//! Group commit (see the module documentation of `crate::state`): an RTM request's writes
//! wait, uncommitted, with its answers held by the hub, until the committer task commits
//! once for every request that ran meanwhile and releases their answers.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use chatio_wire::{ErrorObject, ErrorType};
use tokio::sync::Notify;

use super::hub::Hub;
use super::{Inner, State};
use crate::store::{self, Store};

/// The most frames held for a group commit; the request that reaches it commits at once.
pub(crate) const GROUP_MAX_FRAMES: usize = 4096;

/// The most times the committer yields to let more requests join a group before it
/// commits (it stops as soon as one yield brought none).
const GROUP_YIELDS: usize = 32;

impl State {
    /// After a grouped request: leaves the commit to the committer task, or commits at once
    /// when [`GROUP_MAX_FRAMES`] frames are held or no task can run (no runtime).
    pub(super) fn group(self: &Arc<Self>, inner: &mut Inner) {
        let Some((frames, _)) = inner.hub.held() else { return };
        self.counters.grouped_requests.fetch_add(1, Ordering::Relaxed);
        if frames < GROUP_MAX_FRAMES && self.committer_runs() {
            self.commit_wanted.notify_one();
        } else if let Err(e) = self.settle(inner) {
            tracing::error!(error = %e, "a group commit failed: its connections were told to go");
        }
    }

    /// Starts the committer task if it does not run yet; `false` outside a runtime.
    fn committer_runs(self: &Arc<Self>) -> bool {
        if self.committer.load(Ordering::Acquire) {
            return true;
        }
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return false };
        if !self.committer.swap(true, Ordering::AcqRel) {
            rt.spawn(committer(Arc::downgrade(self), self.commit_wanted.clone()));
        }
        true
    }

    /// Commits what the store holds, then releases the held frames (or, when their writes
    /// were lost, discards them and tells their connections to go). Whoever answers by
    /// itself calls it before answering.
    pub(super) fn settle(&self, inner: &mut Inner) -> Result<(), store::StoreError> {
        let committed = inner.store.commit();
        let Some((_, failed_before)) = inner.hub.held() else { return committed };
        if committed.is_ok() && inner.store.failed_commits() == failed_before {
            self.counters.group_commits.fetch_add(1, Ordering::Relaxed);
            inner.hub.release();
            return Ok(());
        }
        let told = inner.hub.discard_held();
        tracing::error!(
            connections = told,
            "writes were not stored: their answers are withheld, their connections told to go"
        );
        committed.and(Err(store::StoreError::new("a commit failed: the writes it held were not stored")))
    }
}

/// Runs a request's work on the store as one unit like [`in_request`], but leaves the
/// commit to the group (see the module documentation): when the store groups commits, the
/// hub holds every frame from here until the commit.
pub(super) fn in_request_grouped<T, E: From<store::StoreError>>(
    store: &mut dyn Store,
    hub: &Hub,
    work: impl FnOnce(&mut dyn Store) -> Result<T, E>,
) -> Result<T, E> {
    store.begin()?;
    let result = work(&mut *store);
    store.end(result.is_ok())?;
    if store.groups_commits() {
        hub.hold(store.failed_commits());
    } else {
        store.commit()?;
    }
    result
}

/// The committer task of group commit: woken after a grouped request, it lets the requests
/// already running join, then commits them all and releases their answers.
async fn committer(state: Weak<State>, wanted: Arc<Notify>) {
    loop {
        wanted.notified().await;
        // The group grows while requests keep joining it (each yield lets the requests
        // already running reach the store), for at most GROUP_YIELDS yields.
        let mut joined = None;
        for _ in 0..GROUP_YIELDS {
            tokio::task::yield_now().await;
            let Some(state) = state.upgrade() else { return };
            let now = state.counters.grouped_requests.load(Ordering::Relaxed);
            if joined == Some(now) {
                break;
            }
            joined = Some(now);
        }
        let Some(state) = state.upgrade() else { return };
        let mut guard = state.lock();
        if let Err(e) = state.settle(&mut guard) {
            tracing::error!(error = %e, "a group commit failed: its connections were told to go");
        }
    }
}

/// A store failure as the `internal` error a request is answered with.
pub(super) fn internal(e: &store::StoreError) -> ErrorObject {
    ErrorObject::new(ErrorType::Internal, format!("the server could not store this request: {e}"))
}

#[cfg(test)]
mod tests {
    use chatio_wire::{Login, Request, Token};
    use tokio::sync::{mpsc, watch};

    use super::*;
    use crate::actions::Caller;
    use crate::config::ServerConfig;
    use crate::sendq::{Out, SendQueue};

    /// The messages stored in the database, read from a connection of its own (what a
    /// crash would leave).
    fn stored_messages(dir: &std::path::Path) -> i64 {
        let conn = rusqlite::Connection::open(dir.join("chatio.db")).unwrap();
        conn.query_row("SELECT count(*) FROM events WHERE type = 'message'", [], |r| r.get(0)).unwrap()
    }

    fn texts(rx: &mut mpsc::UnboundedReceiver<Out>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .filter_map(|o| if let Out::Text(t) = o { Some(t.as_str().to_owned()) } else { None })
            .collect()
    }

    /// Yields to the committer task (single-threaded runtime) until it has had every turn
    /// a group may take.
    async fn let_the_committer_run() {
        for _ in 0..2 * GROUP_YIELDS + 4 {
            tokio::task::yield_now().await;
        }
    }

    /// A server state on SQLite in `dir` (at most `max_db_bytes`), a logged-in session and a
    /// started chat: the state, the session's answers, the session's caller and id, the chat.
    async fn logged_in_with_a_chat(
        dir: &std::path::Path,
        max_db_bytes: u64,
    ) -> (Arc<State>, mpsc::UnboundedReceiver<Out>, Caller, crate::state::ConnId, String, watch::Sender<bool>) {
        let config = ServerConfig {
            licenses: vec![100],
            agent: false,
            data_dir: Some(dir.to_owned()),
            max_db_bytes,
            ..ServerConfig::default()
        };
        let (stop, shutdown) = watch::channel(false);
        let (control, _) = mpsc::unbounded_channel();
        let state = Arc::new(State::new(config, "http://t.invalid".into(), 1, shutdown, control).unwrap());
        state.install_token("tok", 100, "c".into()).unwrap();
        let (queue, mut rx) = SendQueue::new(1 << 20, state.counters.clone());
        let id = state.open_session(100, queue);
        let login = Login::new(Token::new("Bearer tok"));
        assert!(state.login(id, 100, None, &login).is_some());
        let caller = Caller { license: 100, customer: "c".into() };
        let start: Request = serde_json::from_value(serde_json::json!({"action": "start_chat", "payload": {}}))
            .map(|f: chatio_wire::ClientFrame| f.request)
            .unwrap();
        state.act_rtm(id, None, &caller, start);
        let_the_committer_run().await;
        let chat = texts(&mut rx).into_iter().find_map(|t| {
            let v: serde_json::Value = serde_json::from_str(&t).ok()?;
            v["payload"]["chat"]["id"].as_str().map(str::to_owned)
        });
        (state, rx, caller, id, chat.expect("start_chat answered once committed"), stop)
    }

    /// Sends a message as request `request_id`.
    fn send(state: &Arc<State>, id: crate::state::ConnId, caller: &Caller, chat: &str, request_id: &str, text: &str) {
        let frame = serde_json::json!({"action": "send_event", "request_id": request_id,
            "payload": {"chat_id": chat, "event": {"type": "message", "text": text}}});
        let frame = serde_json::from_value::<chatio_wire::ClientFrame>(frame).unwrap();
        state.act_rtm(id, frame.request_id, caller, frame.request);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_request_that_fails_in_a_group_is_answered_alone_and_the_others_are_stored() {
        let dir = tempfile::tempdir().unwrap();
        let (state, mut rx, caller, id, chat, _stop) = logged_in_with_a_chat(dir.path(), 256 * 1024).await;
        let big = "b".repeat(chatio_wire::limits::MAX_TEXT_LEN);
        // Groups of [small, big, small] until a big one no longer fits in the database.
        let (mut small_ok, mut big_ok) = (0, 0);
        for group in 0..200 {
            let ids = [format!("s{group}a"), format!("b{group}"), format!("s{group}c")];
            send(&state, id, &caller, &chat, &ids[0], "small");
            send(&state, id, &caller, &chat, &ids[1], &big);
            send(&state, id, &caller, &chat, &ids[2], "small");
            let_the_committer_run().await;
            let answers: Vec<serde_json::Value> =
                texts(&mut rx).iter().filter_map(|t| serde_json::from_str(t).ok()).collect();
            let answer = |rid: &str| {
                answers.iter().find(|a| a["request_id"] == rid).unwrap_or_else(|| panic!("{rid} answered: {answers:?}"))
            };
            assert!(!answers.iter().any(|a| a["action"] == "customer_disconnected"), "nobody told to go: {answers:?}");
            small_ok += [&ids[0], &ids[2]].iter().filter(|r| answer(r)["success"] == true).count() as i64;
            if answer(&ids[1])["success"] == true {
                big_ok += 1;
                continue;
            }
            // The big one did not fit: it alone failed, typed; the one before it is stored.
            let failed = answer(&ids[1]);
            assert_eq!(failed["payload"]["error"]["type"], "internal", "{failed}");
            assert_eq!(answer(&ids[0])["success"], true, "the request before it keeps its write");
            let conn = rusqlite::Connection::open(dir.path().join("chatio.db")).unwrap();
            let stored = |text: &str| -> i64 {
                let body = format!("%\"text\":\"{text}\"%");
                conn.query_row("SELECT count(*) FROM events WHERE body LIKE ?1", [body], |r| r.get(0)).unwrap()
            };
            assert_eq!(stored("small"), small_ok, "every small message answered is stored, once");
            assert_eq!(stored(&big), big_ok, "only the big ones answered");
            assert!(group > 0);
            return;
        }
        panic!("the database never filled");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn answers_wait_for_the_commit_that_concurrent_requests_share() {
        let dir = tempfile::tempdir().unwrap();
        let (state, mut rx, caller, id, chat, _stop) =
            logged_in_with_a_chat(dir.path(), ServerConfig::default().max_db_bytes).await;
        let before = state.counters.group_commits.load(Ordering::Relaxed);
        for i in 0..5 {
            send(&state, id, &caller, &chat, &format!("r{i}"), &i.to_string());
        }
        // Nothing answered, nothing stored: the writes wait for their commit.
        assert!(texts(&mut rx).is_empty(), "no answer before the commit");
        assert_eq!(stored_messages(dir.path()), 0);
        // The committer runs: one commit for the five, then the five answers.
        let_the_committer_run().await;
        assert_eq!(stored_messages(dir.path()), 5);
        assert_eq!(state.counters.group_commits.load(Ordering::Relaxed), before + 1);
        let answers = texts(&mut rx);
        assert_eq!(answers.iter().filter(|t| t.contains(r#""action":"send_event""#)).count(), 5, "{answers:?}");
    }
}
