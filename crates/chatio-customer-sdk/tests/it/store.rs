//! The outbox kept in a store across processes: a real child process (this test binary run
//! again as `sdk_child_process`) sends messages on an SQLite store and is killed with SIGKILL
//! — once before anything reached the server, once after the server stored the message but
//! before its answer came back — and restarted on the same store; the reference server (in
//! this process, over real sockets) then holds each message exactly once, in order. Also: the
//! memory store across sessions, a store that cannot be used (in memory + a warning), and the
//! outbox bound, and many calls in flight sharing one store write.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};

use chatio_customer_sdk::{
    ChatId, Config, Credentials, CustomerSdk, Error, EventKind, MemoryStore, Operation, SdkEvent, StartChat, Store,
    StoreChange, StoreError, StoreFuture, StoredState, TokenSource,
};
use chatio_server::{Server, ServerHandle};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, StreamExt};

use crate::child::ChildProcess;
use crate::support::{WAIT, config, connect_with, run, wait, within};

const CHILD_ENV: &str = "CHATIO_STORE_CHILD";

/// The message events of a chat with this text, in order of the server's history.
pub(crate) fn texts(server: &ServerHandle, chat: &ChatId) -> Vec<String> {
    server
        .chat_events(100, chat.as_str())
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Message(m) => Some(m.text),
            _ => None,
        })
        .collect()
}

pub(crate) fn temp_store(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("chatio-sdk-store-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir.join("store.db")
}

/// The child process: this binary, running only `sdk_child_process`.
struct ChildSdk(ChildProcess);

impl ChildSdk {
    fn start(mode: &str, url: &str, token: &str, chat: &ChatId, store: &Path) -> Self {
        let store = store.to_str().expect("a UTF-8 temp path");
        Self(ChildProcess::start(
            "store::sdk_child_process",
            &[
                (CHILD_ENV, mode),
                ("CHATIO_CHILD_URL", url),
                ("CHATIO_CHILD_TOKEN", token),
                ("CHATIO_CHILD_CHAT", chat.as_str()),
                ("CHATIO_CHILD_STORE", store),
            ],
        ))
    }

    /// Waits for the child to say `what` (generous: CI shares two loaded cores).
    fn expect(&mut self, what: &str) {
        let line = self.0.lines.recv_timeout(WAIT * 4).unwrap_or_else(|e| panic!("the child never said {what}: {e}"));
        assert_eq!(line, what);
    }

    fn tell(&mut self, line: &str) {
        self.0.tell(line);
    }

    fn kill9(mut self) {
        self.0.kill9();
    }

    fn finish(mut self) {
        let exit = self.0.wait();
        assert!(exit.success(), "the child failed: {exit:?}");
    }
}

/// An address nothing listens on: the child's session cannot connect there.
fn dead_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn a_message_is_delivered_once_after_sigkill_and_restart_on_the_same_store() {
    run(async {
        let server = Server::builder().ephemeral().seed(31).agent(false).start().await.expect("server");
        let (token, customer) = server.create_token(100, Some("kill-9-customer")).expect("token");
        let static_token = TokenSource::Static(Credentials::bearer(token.clone()));
        let (sdk, _events) = connect_with(config(&server).token(static_token)).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat").id;
        sdk.destroy().await;
        let store = temp_store("kill9");

        // 1. Offline: the message is accepted and stored, never sent; then SIGKILL.
        let mut c = ChildSdk::start("send-offline", &dead_url(), &token, &chat, &store);
        c.tell("m-offline");
        c.expect("queued");
        c.kill9();
        assert_eq!(texts(&server, &chat), Vec::<String>::new(), "nothing reached the server");

        // 2. Restart on the store: the kept message is delivered first. Then a second one is
        //    stored by the server but its answer swallowed; SIGKILL before the answer.
        let mut c = ChildSdk::start("send", &server.http_url(), &token, &chat, &store);
        c.expect("ready");
        assert_eq!(texts(&server, &chat), ["m-offline"], "the kept message was delivered at start");
        server.swallow_next_response(100, customer.as_str());
        c.tell("m-mid");
        c.expect("queued");
        within("the server to store m-mid", async {
            let rt = chatio_customer_sdk::runtime::default_runtime().expect("runtime");
            while !texts(&server, &chat).contains(&"m-mid".to_owned()) {
                rt.sleep_until(rt.now() + std::time::Duration::from_millis(20)).await;
            }
        })
        .await;
        c.kill9();

        // 3. Restart: m-mid is found in the history by its custom id and not sent again.
        let mut c = ChildSdk::start("drain", &server.http_url(), &token, &chat, &store);
        c.expect("ready");
        c.finish();
        assert_eq!(texts(&server, &chat), ["m-offline", "m-mid"], "each exactly once, in order");
        let _ = std::fs::remove_dir_all(store.parent().expect("dir"));
        server.shutdown().await;
    });
}

/// The child's side of the test above (run only as its child process).
#[test]
#[ignore = "the child process of a_message_is_delivered_once_after_sigkill_and_restart_on_the_same_store"]
fn sdk_child_process() {
    let Ok(mode) = std::env::var(CHILD_ENV) else { return };
    let var = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k}"));
    let (url, token, chat, store) =
        (var("CHATIO_CHILD_URL"), var("CHATIO_CHILD_TOKEN"), var("CHATIO_CHILD_CHAT"), var("CHATIO_CHILD_STORE"));
    let chat = ChatId::new(chat);
    let (tx, stdin) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    run(async move {
        let rt = chatio_customer_sdk::runtime::default_runtime().expect("runtime");
        let pause = || rt.sleep_until(rt.now() + std::time::Duration::from_millis(10));
        let cfg = Config::new(100, "sdk-tests")
            .server(url)
            .token(TokenSource::Static(Credentials::bearer(token)))
            .store_path(store);
        let sdk = CustomerSdk::init(cfg).expect("init");
        let mut events = sdk.events();
        if mode != "send-offline" {
            wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
            // Whatever the store gave back is delivered (or found delivered) first.
            while sdk.outbox_len() > 0 {
                pause().await;
            }
            println!("child: ready");
        }
        if mode == "drain" {
            sdk.destroy().await;
            return;
        }
        let text = loop {
            match stdin.try_recv() {
                Ok(t) => break t,
                Err(_) => pause().await,
            }
        };
        let send = sdk.send_message(&chat, text);
        futures::pin_mut!(send);
        // Queued means in the store: the snapshot is published after the store write.
        while sdk.outbox_len() == 0 {
            if let futures::future::Either::Left((r, _)) = futures::future::select(send.as_mut(), pause()).await {
                panic!("answered before it was killed: {r:?}");
            }
        }
        println!("child: queued");
        let r = send.await;
        panic!("answered before it was killed: {r:?}");
    });
}

#[test]
fn a_memory_store_hands_what_a_destroyed_session_left_to_the_next() {
    run(async {
        let server = Server::builder().ephemeral().seed(32).agent(false).start().await.expect("server");
        let (token, _) = server.create_token(100, Some("memory-customer")).expect("token");
        let cfg = || config(&server).token(TokenSource::Static(Credentials::bearer(token.clone())));
        let (sdk, _events) = connect_with(cfg()).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat").id;
        sdk.destroy().await;

        let store = MemoryStore::new();
        let offline = Config::new(100, "sdk-tests")
            .server(dead_url())
            .token(TokenSource::Static(Credentials::bearer(token.clone())))
            .store(store.clone());
        let first = CustomerSdk::init(offline).expect("init");
        let send = first.send_message(&chat, "kept in memory");
        futures::pin_mut!(send);
        let rt = chatio_customer_sdk::runtime::default_runtime().expect("runtime");
        within("the message to be queued", async {
            while first.outbox_len() == 0 {
                let _ = futures::future::select(send.as_mut(), rt.sleep_until(rt.now() + WAIT / 1000)).await;
            }
        })
        .await;
        first.destroy().await;
        assert!(matches!(send.await, Err(Error::Closed)), "its call ends with the session");
        assert_eq!(texts(&server, &chat), Vec::<String>::new());

        let (second, _events) = connect_with(cfg().store(store)).await;
        within("the kept message to be delivered", async {
            while second.outbox_len() > 0 || texts(&server, &chat).is_empty() {
                rt.sleep_until(rt.now() + WAIT / 1000).await;
            }
        })
        .await;
        assert_eq!(texts(&server, &chat), ["kept in memory"]);
        second.destroy().await;
        server.shutdown().await;
    });
}

#[test]
fn a_store_another_process_holds_leaves_the_session_in_memory_with_a_warning() {
    run(async {
        let server = Server::builder().ephemeral().seed(33).agent(false).start().await.expect("server");
        let path = temp_store("held");
        let holder = chatio_customer_sdk::SqliteStore::new(&path);
        chatio_customer_sdk::Store::load(&holder).await.expect("the first holds it");
        let sdk = CustomerSdk::init(config(&server).store_path(&path)).expect("init");
        let mut events = sdk.events();
        let warning = wait(&mut events, "store_unavailable", |e| match e {
            SdkEvent::StoreUnavailable(t) => Some(t.clone()),
            _ => None,
        })
        .await;
        assert_eq!(warning.operation(), Operation::Store);
        assert!(chatio_customer_sdk::chain(&warning).contains("another process or tab uses the store"), "{warning}");
        wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat").id;
        sdk.send_message(&chat, "in memory").await.expect("still works");
        assert_eq!(texts(&server, &chat), ["in memory"]);
        sdk.destroy().await;
        drop(holder);
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
        server.shutdown().await;
    });
}

#[test]
fn the_outbox_is_bounded_with_a_typed_error() {
    run(async {
        let cfg = Config::new(100, "sdk-tests")
            .server(dead_url())
            .token(TokenSource::Static(Credentials::bearer("t")))
            .max_outbox(2);
        let sdk = CustomerSdk::init(cfg).expect("init");
        let chat = ChatId::new("C");
        let (a, b) = (sdk.send_message(&chat, "1"), sdk.send_message(&chat, "2"));
        futures::pin_mut!(a, b);
        let rt = chatio_customer_sdk::runtime::default_runtime().expect("runtime");
        within("two queued", async {
            while sdk.outbox_len() < 2 {
                let _ = futures::future::select(
                    futures::future::select(a.as_mut(), b.as_mut()),
                    rt.sleep_until(rt.now() + WAIT / 1000),
                )
                .await;
            }
        })
        .await;
        let e = sdk.send_message(&chat, "3").await.expect_err("full");
        assert!(matches!(e, Error::OutboxFull { limit: 2 }), "{e}");
        assert!(e.is_transient());
        sdk.destroy().await;
    });
}

#[test]
fn the_store_keeps_the_customer_and_the_first_screen_across_sessions_and_forget_wipes_it() {
    run(async {
        let server = Server::builder().ephemeral().seed(34).agent(false).start().await.expect("server");
        let path = temp_store("identity");
        // The default token source: a new customer, then resumed by its refresh token.
        let (first, _events) = connect_with(config(&server).store_path(&path)).await;
        let customer = first.customer_id().expect("a customer");
        let chat = first.start_chat(StartChat::new()).await.expect("start_chat").id;
        first.destroy().await;
        // The refresh token the store holds (read directly: the server would also resume the
        // customer from the previous one while its successor is unused, G39).
        let kept = || async {
            let store = chatio_customer_sdk::SqliteStore::new(&path);
            let state = chatio_customer_sdk::Store::load(&store).await.expect("the store loads");
            chatio_customer_sdk::Store::close(&store);
            state.refresh_token.expect("a refresh token kept").expose().to_owned()
        };
        let first_secret = kept().await;

        let (second, _events) = connect_with(config(&server).store_path(&path)).await;
        assert_eq!(second.customer_id().as_ref(), Some(&customer), "the same customer, from the kept refresh token");
        second.send_message(&chat, "still me").await.expect("the chat is still this customer's");
        second.destroy().await;
        assert_ne!(kept().await, first_secret, "the rotated refresh token was kept");

        // Rotated by the second session's refresh, and kept again: a third start is still them.
        // Its first screen comes from the store: the chats the second login listed, before
        // `Connected`.
        let third = CustomerSdk::init(config(&server).store_path(&path)).expect("init");
        let mut events = third.events();
        let cached = wait(&mut events, "the first screen", |e| match e {
            SdkEvent::CachedChats { chats_summary, .. } => Some(chats_summary.clone()),
            SdkEvent::Connected { .. } => panic!("connected before the cached chats were shown"),
            _ => None,
        })
        .await;
        assert_eq!(cached.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&chat));
        // And the chat's latest events from the history cache, still before `Connected`.
        let (cached_chat, history) = wait(&mut events, "the cached history", |e| match e {
            SdkEvent::CachedHistory { chat, events } => Some((chat.clone(), events.clone())),
            SdkEvent::Connected { .. } => panic!("connected before the cached history was shown"),
            _ => None,
        })
        .await;
        assert_eq!(cached_chat, chat);
        let texts: Vec<_> = history
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Message(m) => Some(m.text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["still me"], "the message the second session sent, as the server stored it");
        assert!(history.iter().all(|e| !e.id.as_str().is_empty()), "with the server's ids");
        wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
        assert_eq!(third.customer_id().as_ref(), Some(&customer), "the rotated refresh token was kept");
        third.forget().await;

        let (fourth, _events) = connect_with(config(&server).store_path(&path)).await;
        assert_ne!(fourth.customer_id().as_ref(), Some(&customer), "forgotten: a new customer");
        fourth.destroy().await;
        let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
        server.shutdown().await;
    });
}

/// A memory store that records the changes of each `apply` and holds the first write of an
/// outbox entry until the test opens its gate.
#[derive(Clone)]
struct GatedStore {
    inner: MemoryStore,
    batches: Arc<Mutex<Vec<Vec<StoreChange>>>>,
    gate: Arc<Mutex<Option<Gate>>>,
}

/// Told when the held write starts; opened by the test.
type Gate = (futures::channel::oneshot::Sender<()>, futures::channel::oneshot::Receiver<()>);

impl Store for GatedStore {
    fn load(&self) -> StoreFuture<'_, Result<StoredState, StoreError>> {
        self.inner.load()
    }

    fn apply(&self, changes: Vec<StoreChange>) -> StoreFuture<'_, Result<(), StoreError>> {
        let gate = if changes.iter().any(|c| matches!(c, StoreChange::OutboxAdded(_))) {
            self.gate.lock().expect("gate").take()
        } else {
            None
        };
        Box::pin(async move {
            if let Some((entered, open)) = gate {
                let _ = entered.send(());
                let _ = open.await;
            }
            self.batches.lock().expect("batches").push(changes.clone());
            self.inner.apply(changes).await
        })
    }
}

#[test]
fn calls_in_flight_share_one_store_write_and_none_is_on_the_wire_before_it() {
    run(async {
        let server = Server::builder().ephemeral().seed(35).agent(false).start().await.expect("server");
        let (entered_tx, entered) = futures::channel::oneshot::channel();
        let (open, open_rx) = futures::channel::oneshot::channel();
        let store = GatedStore {
            inner: MemoryStore::new(),
            batches: Arc::default(),
            gate: Arc::new(Mutex::new(Some((entered_tx, open_rx)))),
        };
        let (sdk, _events) = connect_with(config(&server).store(store.clone())).await;
        let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat").id;

        // 64 sends; the first store write of an entry is held until every call is in the
        // driver's channel.
        let mut sends: FuturesUnordered<_> =
            (0..64).map(|i| sdk.send_message_with_custom_id(&chat, format!("m{i}"), format!("c{i:02}"))).collect();
        assert!(sends.next().now_or_never().is_none(), "none answered yet");
        within("the first store write", entered).await.expect("entered");
        assert!(sends.next().now_or_never().is_none(), "none answered while the store writes");
        assert_eq!(sdk.outbox_len(), 0, "queued only once stored");
        assert_eq!(texts(&server, &chat), Vec::<String>::new(), "nothing on the wire before the store has it");
        open.send(()).expect("open the gate");
        within("every answer", async {
            for _ in 0..64 {
                sends.next().await.expect("a send").expect("stored");
            }
        })
        .await;
        assert_eq!(texts(&server, &chat).len(), 64);

        let batches = store.batches.lock().expect("batches").clone();
        let adds: Vec<usize> = batches
            .iter()
            .map(|b| b.iter().filter(|c| matches!(c, StoreChange::OutboxAdded(_))).count())
            .filter(|&n| n > 0)
            .collect();
        assert_eq!(adds.iter().sum::<usize>(), 64, "{adds:?}");
        // The step the gate held, then one for every call that waited behind it.
        assert!(adds.len() <= 2, "the calls that waited were written together: {adds:?}");
        let removals = batches.iter().flatten().filter(|c| matches!(c, StoreChange::OutboxRemoved { .. })).count();
        assert_eq!(removals, 64);
        assert_eq!(store.inner.load().await.expect("load").outbox, vec![], "every entry done");
        sdk.destroy().await;
        server.shutdown().await;
    });
}
