//! The SDK's end-to-end suite in a real browser: the `web` driver (the page's `WebSocket`,
//! `fetch`, `XMLHttpRequest`, `setTimeout`) against the real reference server, over loopback,
//! in headless Chromium.
//!
//! Run it with `cargo xtask wasm test`: it starts `chatio-server --admin --agent-delay 0` on a
//! free port, then runs
//! `cargo test -p chatio-customer-sdk --target wasm32-unknown-unknown --no-default-features
//! --features web --test browser` with `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=
//! wasm-bindgen-test-runner`, `CHROMEDRIVER` and `CHATIO_TEST_SERVER` (the server's URL, baked
//! in at compile time). The page is served by the runner on another port: every request is
//! cross-origin (the server's CORS). On native targets this file is empty: the native suite
//! is `tests/it`.

#![cfg(all(target_arch = "wasm32", feature = "web"))]

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::error::Error as _;

use chatio_customer_sdk::{
    ChatId, Config, CustomerData, CustomerSdk, Error, ErrorKind, ErrorType, EventKind, Events, File, NewEvent,
    Operation, Pagination, Postback, Properties, PropertyValue, Rating, Scopes, SdkEvent, StartChat, TokenSource,
    chain,
};
use chatio_transport::web::time::sleep;
use futures::StreamExt;
use futures::future::{Either, select};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// How long a test waits for anything.
const WAIT: Duration = Duration::from_secs(15);

fn server_url() -> &'static str {
    match option_env!("CHATIO_TEST_SERVER") {
        Some(url) => url,
        None => {
            panic!("CHATIO_TEST_SERVER is not set at build time: run the browser suite with `cargo xtask wasm test`")
        }
    }
}

fn config() -> Config {
    Config::new(100, "browser-tests").server(server_url())
}

/// Fails the test if `f` does not finish within [`WAIT`].
async fn within<T>(what: &str, f: impl Future<Output = T>) -> T {
    match select(std::pin::pin!(f), sleep(WAIT)).await {
        Either::Left((t, _)) => t,
        Either::Right(_) => panic!("timed out after {WAIT:?} waiting for {what}"),
    }
}

/// Reads events until `f` matches one.
async fn wait<T>(events: &mut Events, what: &str, mut f: impl FnMut(&SdkEvent) -> Option<T>) -> T {
    within(what, async {
        while let Some(e) = events.next().await {
            if let Some(t) = f(&e) {
                return t;
            }
        }
        panic!("the event stream ended while waiting for {what}");
    })
    .await
}

async fn connect_with(config: Config) -> (CustomerSdk, Events) {
    let sdk = CustomerSdk::init(config).expect("init");
    let mut events = sdk.events();
    wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    (sdk, events)
}

async fn connect() -> (CustomerSdk, Events) {
    connect_with(config()).await
}

async fn agent_says(events: &mut Events, text: &str) -> chatio_customer_sdk::Event {
    wait(events, text, |e| match e {
        SdkEvent::NewEvent { event, .. } if event.text().is_some_and(|t| t.contains(text)) => Some(event.clone()),
        _ => None,
    })
    .await
}

/// The admin secret the server was started with (`cargo xtask wasm test` passes both).
fn admin_secret() -> &'static str {
    option_env!("CHATIO_TEST_ADMIN_SECRET").unwrap_or_default()
}

/// A fault-injection route of the server (`--admin`), for this customer. The admin routes
/// send no CORS headers (G37), so the page cannot read the answer: the request goes as a
/// `no-cors` form post carrying the admin secret, and the tests wait for its effect.
async fn admin(op: &str, sdk: &CustomerSdk) {
    use wasm_bindgen::JsCast;
    let me = sdk.customer_id().expect("customer id");
    let url = format!("{}/admin/{op}?license_id=100&customer_id={me}", server_url());
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::NoCors);
    let headers = web_sys::Headers::new().expect("headers");
    headers.set("Content-Type", "application/x-www-form-urlencoded").expect("header");
    init.set_headers(&headers);
    let body = format!("admin_secret={}", admin_secret());
    init.set_body(&wasm_bindgen::JsValue::from_str(&body));
    let request = web_sys::Request::new_with_str_and_init(&url, &init).expect("request");
    let window: web_sys::Window = js_sys::global().unchecked_into();
    // The server acts on the request; its JSON answer to a no-cors request is an opaque
    // response that Chromium's opaque-response blocking turns into a network error, so the
    // outcome is checked by what the SDK sees next, not by this fetch.
    let _ = wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request)).await;
}

#[wasm_bindgen_test]
async fn every_method_and_its_errors() {
    let (sdk, _events) = connect().await;
    let me = sdk.customer_id().expect("customer id");
    assert!(sdk.is_connected());
    let token = sdk.auth().token().await.expect("token");
    assert_eq!(token.customer_id.as_ref(), Some(&me));
    // `auth.invalidate()`: cached until then, a new token (for the same customer) after.
    let cached = sdk.auth().token().await.expect("token");
    assert_eq!(cached.access_token(), token.access_token(), "cached until invalidated");
    sdk.auth().invalidate();
    let fresh = sdk.auth().token().await.expect("token");
    assert_ne!(fresh.access_token(), token.access_token(), "a new token after invalidate");
    assert_eq!(fresh.customer_id.as_ref(), Some(&me));

    let chat = sdk
        .start_chat(StartChat::with_events(vec![NewEvent::message("first").with_custom_id("c-1")]))
        .await
        .expect("start_chat");
    let thread = chat.threads[0].id.clone();
    let sent = sdk.send_message(&chat.id, "hello").await.expect("send_message");
    assert_eq!((sent.text(), sent.thread.as_ref()), (Some("hello"), Some(&thread)));
    let custom = sdk
        .send_event(
            &chat.id,
            NewEvent::new(EventKind::Custom(chatio_customer_sdk::Custom::new(serde_json::json!({"k": 1})))),
        )
        .await
        .expect("send_event");
    assert!(matches!(custom.kind, EventKind::Custom(_)));
    let e = sdk.send_message(&ChatId::new("NOSUCHCHAT"), "hi").await.expect_err("not my chat");
    assert!(matches!(e, Error::Server { kind: ErrorType::Authorization, .. }), "{e}");
    let e = sdk.send_message(&ChatId::new(""), "hi").await.expect_err("empty chat id");
    assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

    let customer = sdk
        .update_customer(CustomerData::new().name("Web Visitor").field("plan", "pro"))
        .await
        .expect("update_customer");
    assert_eq!(customer.name.as_deref(), Some("Web Visitor"));
    sdk.update_chat_properties(&chat.id, Properties::new().with("ns", "flag", true)).await.expect("chat props");
    sdk.update_chat_thread_properties(&chat.id, &thread, Properties::new().with("ns", "n", 3))
        .await
        .expect("thread props");
    sdk.update_chat_scopes(&chat.id, Some(Scopes::groups([1, 2])), Some(Scopes::groups([2]))).await.expect("scopes");
    sdk.send_rating(&chat.id, Rating::Good, Some("nice")).await.expect("rating");
    let seen = sdk.update_last_seen_timestamp(&chat.id, None).await.expect("last seen");
    assert!(seen > std::time::UNIX_EPOCH);
    sdk.set_sneak_peek(&chat.id, "typing...").expect("sneak peek");

    let summary = sdk.chats_summary(Pagination::default()).await.expect("chats summary");
    assert_eq!(summary.total_chats, 1);
    let props = &summary.chats_summary[0].properties;
    assert_eq!(props.get("rating", "score"), Some(&PropertyValue::Int(1)));
    assert_eq!(props.get("ns", "flag"), Some(&PropertyValue::Bool(true)));
    let threads = sdk.chat_threads_summary(&chat.id, Pagination::default()).await.expect("threads summary");
    assert_eq!(threads.total_threads, 1);
    let full = sdk.chat_threads(&chat.id, std::slice::from_ref(&thread)).await.expect("chat threads");
    // The agent answers too: the customer's own messages, in order.
    let mine: Vec<_> =
        full[0].events.iter().filter(|e| e.author.as_ref() == Some(&me)).filter_map(|e| e.text()).collect();
    assert_eq!(mine, ["first", "hello"]);
    let e = sdk.chats_summary(Pagination::new(0, 26)).await.expect_err("limit over 25");
    assert!(matches!(e, Error::InvalidArgs { .. }), "{e}");

    sdk.close_thread(&chat.id).await.expect("close_thread");
    let e = sdk.close_thread(&chat.id).await.expect_err("no active thread");
    assert!(matches!(e, Error::Server { kind: ErrorType::Validation, .. }), "{e}");

    // disconnect / connect, then destroy: later calls fail with `Closed`.
    sdk.disconnect().await;
    assert!(!sdk.is_connected());
    let mut events = sdk.events();
    sdk.connect().await;
    wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(())).await;
    sdk.send_message(&chat.id, "after reconnecting").await.expect("works again (a new thread)");
    sdk.destroy().await;
    let e = sdk.send_message(&chat.id, "x").await.expect_err("destroyed");
    assert!(matches!(e, Error::Closed), "{e}");
}

#[wasm_bindgen_test]
async fn the_agent_pushes_and_rich_message_postbacks() {
    let (sdk, mut events) = connect().await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
    let agent = wait(&mut events, "user_data of the agent", |e| match e {
        SdkEvent::UserData(u) if u.is_agent() => Some(u.id.clone()),
        _ => None,
    })
    .await;
    wait(&mut events, "user_joined_chat", |e| {
        matches!(e, SdkEvent::UserJoinedChat { user, .. } if *user == agent).then_some(())
    })
    .await;
    sdk.send_message(&chat.id, "hello").await.expect("send");
    wait(&mut events, "user_is_typing", |e| {
        matches!(e, SdkEvent::UserIsTyping { user, .. } if *user == agent).then_some(())
    })
    .await;
    agent_says(&mut events, "You said: hello").await;
    wait(&mut events, "user_stopped_typing", |e| matches!(e, SdkEvent::UserStoppedTyping { .. }).then_some(())).await;

    sdk.send_message(&chat.id, "/rich").await.expect("ask for a rich message");
    let rich = wait(&mut events, "a rich message", |e| match e {
        SdkEvent::NewEvent { event, .. } if matches!(event.kind, EventKind::RichMessage(_)) => Some(event.clone()),
        _ => None,
    })
    .await;
    let EventKind::RichMessage(r) = &rich.kind else { unreachable!() };
    let button = r.buttons().next().expect("a button").postback_id.clone();
    let thread = rich.thread.clone().expect("thread");
    sdk.send_rich_message_postback(&chat.id, &thread, &rich.id, Postback::new(button, true)).await.expect("postback");
    let e = sdk
        .send_rich_message_postback(&chat.id, &thread, &rich.id, Postback::new("no_such_button", true))
        .await
        .expect_err("unknown postback id");
    assert!(matches!(e, Error::Server { kind: ErrorType::Validation, .. }), "{e}");

    for (cmd, ty) in [("/form", "filled_form"), ("/system", "system_message"), ("/file", "file")] {
        sdk.send_message(&chat.id, cmd).await.expect("send command");
        wait(&mut events, ty, |e| match e {
            SdkEvent::NewEvent { event, .. } if event.kind.event_type() == ty => Some(()),
            _ => None,
        })
        .await;
    }
    sdk.send_message(&chat.id, "/props").await.expect("props");
    wait(&mut events, "chat_properties_updated", |e| matches!(e, SdkEvent::ChatPropertiesUpdated { .. }).then_some(()))
        .await;
    sdk.send_message(&chat.id, "/leave").await.expect("leave");
    wait(&mut events, "user_left_chat", |e| {
        matches!(e, SdkEvent::UserLeftChat { user, .. } if *user == agent).then_some(())
    })
    .await;
    sdk.send_message(&chat.id, "/close").await.expect("close");
    wait(&mut events, "thread_closed", |e| matches!(e, SdkEvent::ThreadClosed { .. }).then_some(())).await;
    sdk.destroy().await;
}

#[wasm_bindgen_test]
async fn history_pages_back_to_the_first_thread() {
    let (sdk, _events) = connect_with(config().history_page_events(5)).await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("start_chat");
    for t in 0..4 {
        for m in 0..3 {
            sdk.send_message(&chat.id, &format!("t{t} m{m}")).await.expect("send");
        }
        sdk.close_thread(&chat.id).await.expect("close");
    }
    let mut history = sdk.chat_history(&chat.id).await.expect("history");
    let mut pages = Vec::new();
    loop {
        let page = history.next_page().await.expect("page");
        // The agent talks too (this server runs it): keep the customer's messages.
        let texts: Vec<String> =
            page.events.iter().filter_map(|e| e.text().filter(|t| t.starts_with('t')).map(str::to_owned)).collect();
        pages.push(texts);
        if page.done {
            break;
        }
    }
    let all: Vec<String> = pages.iter().rev().flatten().cloned().collect();
    let expected: Vec<String> = (0..4).flat_map(|t| (0..3).map(move |m| format!("t{t} m{m}"))).collect();
    assert_eq!(all, expected, "{pages:?}");
    assert!(pages.len() >= 2, "several pages: {pages:?}");
    assert!(history.is_done());
    sdk.destroy().await;
}

#[wasm_bindgen_test]
async fn upload_with_progress_to_one() {
    let (sdk, mut events) = connect().await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    let bytes: Vec<u8> = (0..(2 * 1024 * 1024 + 17)).map(|i| (i % 253) as u8).collect();
    let seen = Arc::new(Mutex::new(Vec::<f64>::new()));
    let s2 = seen.clone();
    let url = sdk
        .send_file(&chat.id, File::bytes("data.bin", bytes.clone()))
        .custom_id("file-1")
        .on_progress(move |p| s2.lock().expect("lock").push(p))
        .await
        .expect("upload");
    let progress = seen.lock().expect("lock").clone();
    assert!(!progress.is_empty());
    assert!(progress.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {progress:?}");
    assert!(progress.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(progress.last().copied(), Some(1.0));
    let ev = wait(&mut events, "the file event", |e| match e {
        SdkEvent::NewEvent { event, .. } if matches!(event.kind, EventKind::File(_)) => Some(event.clone()),
        _ => None,
    })
    .await;
    assert_eq!(ev.custom_id.as_deref(), Some("file-1"));
    let EventKind::File(f) = &ev.kind else { unreachable!() };
    assert_eq!((f.url.as_str(), f.size), (url.as_str(), bytes.len() as u64));

    // Limits and what a page cannot do: typed errors before any I/O.
    let e = sdk.send_file(&chat.id, File::bytes("big.bin", vec![0u8; 10 * 1024 * 1024 + 1])).await.expect_err("big");
    assert!(matches!(&e, Error::InvalidArgs { reason } if reason.contains("too big")), "{e}");
    // A page has no file system: as native's unreadable file, a permanent transport failure.
    let e = sdk.send_file(&chat.id, File::path("/etc/hostname")).await.expect_err("no file system");
    assert!(matches!(&e, Error::Transport(t) if t.operation() == Operation::ReadFile), "{e}");
    assert!(!e.is_transient() && chain(&e).contains("no file system"), "{}", chain(&e));
    let e = sdk.send_file(&ChatId::new("NOPE"), File::bytes("a.txt", &b"x"[..])).await.expect_err("not my chat");
    assert!(matches!(e, Error::Server { kind: ErrorType::Authorization, .. }), "{e}");
    sdk.destroy().await;
}

#[wasm_bindgen_test]
async fn an_upload_can_be_cancelled() {
    let (sdk, _events) = connect().await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    // Cancelled while the XMLHttpRequest is in flight (at its first progress report or one
    // timer turn after the start, whichever comes first): `abort()`, and the outcome is
    // `Cancelled`. On loopback a 9 MiB upload can finish within one turn of the event loop, so
    // up to 3 tries; an upload that cannot be cancelled fails all three.
    let mut outcomes = Vec::new();
    for attempt in 0..3 {
        let canceller: Arc<Mutex<Option<chatio_customer_sdk::Canceller>>> = Arc::default();
        let c2 = canceller.clone();
        let upload = sdk
            .send_file(&chat.id, File::bytes("big.bin", vec![7u8; 9 * 1024 * 1024]))
            .custom_id(format!("cancelled-{attempt}"))
            .on_progress(move |p| {
                if p < 1.0 {
                    if let Some(c) = c2.lock().expect("lock").as_ref() {
                        c.cancel();
                    }
                }
            })
            .start();
        let c = upload.canceller();
        *canceller.lock().expect("lock") = Some(c.clone());
        let cancel_soon = async move {
            sleep(Duration::ZERO).await;
            c.cancel();
        };
        let (r, ()) = within("the cancelled upload", async { futures::join!(upload, cancel_soon) }).await;
        let cancelled = matches!(r, Err(Error::Cancelled));
        outcomes.push(r);
        if cancelled {
            break;
        }
    }
    assert!(matches!(outcomes.last(), Some(Err(Error::Cancelled))), "{outcomes:?}");
    // A cancel before the start works too.
    let up = sdk.send_file(&chat.id, File::bytes("b.bin", vec![1u8; 10])).start();
    up.cancel();
    assert!(matches!(up.await, Err(Error::Cancelled)));
    sdk.destroy().await;
}

#[wasm_bindgen_test]
async fn reconnects_after_the_server_drops_the_socket() {
    let (sdk, mut events) = connect().await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    admin("drop", &sdk).await;
    wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
    wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(())).await;
    let sent = sdk.send_message(&chat.id, "after the drop").await.expect("works again");
    assert_eq!(sent.text(), Some("after the drop"));
    // Dropped while a message is in flight: it arrives once (the outbox).
    admin("swallow_next_response", &sdk).await;
    let pending = sdk.send_message(&chat.id, "in flight");
    let drop_soon = async {
        sleep(Duration::from_millis(200)).await;
        admin("drop", &sdk).await;
    };
    let (r, ()) = futures::join!(pending, drop_soon);
    assert_eq!(r.expect("resolved after reconnecting").text(), Some("in flight"));
    let threads = sdk.chat_threads_summary(&chat.id, Pagination::default()).await.expect("summary");
    let ids: Vec<_> = threads.threads_summary.iter().map(|t| t.id.clone()).collect();
    let all = sdk.chat_threads(&chat.id, &ids).await.expect("threads");
    let copies = all.iter().flat_map(|t| &t.events).filter(|e| e.text() == Some("in flight")).count();
    assert_eq!(copies, 1, "exactly once");
    sdk.destroy().await;
}

#[wasm_bindgen_test]
async fn the_browsers_offline_event_drops_the_socket_and_it_comes_back() {
    let (sdk, mut events) = connect().await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    // The page's `offline` event (what the browser fires when the network goes): the socket
    // is dropped at once, not left to time out. `navigator.onLine` is still true here, so the
    // reconnect starts at once (offline for real, it would wait for `online`).
    let window = web_sys::window().expect("window");
    let offline = web_sys::Event::new("offline").expect("event");
    window.dispatch_event(&offline).expect("dispatch");
    wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
    let online = web_sys::Event::new("online").expect("event");
    window.dispatch_event(&online).expect("dispatch");
    wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(())).await;
    sdk.send_message(&chat.id, "back online").await.expect("works again");
    sdk.destroy().await;
}

/// Makes `navigator.onLine` say `online` (an own property shadowing the prototype's getter);
/// dropping the guard removes the property again, so later tests see the real value.
struct OnLine;

impl OnLine {
    fn set(online: bool) -> OnLine {
        let define = js_sys::Function::new_with_args(
            "v",
            "Object.defineProperty(navigator, 'onLine', {get: () => v, configurable: true})",
        );
        define.call1(&wasm_bindgen::JsValue::NULL, &wasm_bindgen::JsValue::from_bool(online)).expect("define onLine");
        OnLine
    }
}

impl Drop for OnLine {
    fn drop(&mut self) {
        let _ = js_sys::Function::new_no_args("delete navigator.onLine").call0(&wasm_bindgen::JsValue::NULL);
    }
}

fn fire(name: &str) {
    let window = web_sys::window().expect("window");
    window.dispatch_event(&web_sys::Event::new(name).expect("event")).expect("dispatch");
}

#[wasm_bindgen_test]
async fn offline_for_real_waits_for_online_and_loses_nothing() {
    let (sdk, mut events) = connect().await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    // The browser is offline (`navigator.onLine` false, then the `offline` event): the socket
    // is dropped, and no reconnect is attempted while it stays offline.
    let offline = OnLine::set(false);
    fire("offline");
    wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
    let restored = |e: &SdkEvent| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(());
    match select(
        std::pin::pin!(wait(&mut events, "no reconnect while offline", restored)),
        sleep(Duration::from_secs(2)),
    )
    .await
    {
        Either::Left(((), _)) => panic!("reconnected while the browser said it was offline"),
        Either::Right(_) => {}
    }
    assert!(!sdk.is_connected());
    // A message sent while offline waits in the outbox and goes out once the browser is back.
    let pending = sdk.send_message(&chat.id, "written while offline");
    let back = async {
        sleep(Duration::from_millis(300)).await;
        drop(offline);
        fire("online");
    };
    let (sent, ()) = within("the message after `online`", async { futures::join!(pending, back) }).await;
    assert_eq!(sent.expect("delivered after `online`").text(), Some("written while offline"));
    assert!(sdk.is_connected());
    sdk.destroy().await;
}

/// A spy on `WebSocket.prototype.close`: the first close of each socket the page makes (what
/// reaches the wire: later calls on a closing socket send nothing), as `"1000 reason"` or
/// `"no status"`.
struct CloseSpy;

impl CloseSpy {
    fn install() -> CloseSpy {
        js_sys::Function::new_no_args(
            "const p = WebSocket.prototype;
             if (!p.__chatioClose) {
               p.__chatioClose = p.close;
               p.close = function (...a) {
                 if (!this.__chatioClosed) {
                   this.__chatioClosed = true;
                   globalThis.__chatioCloses.push(a.length ? a[0] + ' ' + a[1] : 'no status');
                 }
                 return p.__chatioClose.apply(this, a);
               };
             }
             globalThis.__chatioCloses = [];",
        )
        .call0(&wasm_bindgen::JsValue::NULL)
        .expect("install the spy");
        CloseSpy
    }

    /// The closes so far.
    fn closes(&self) -> Vec<String> {
        let list = js_sys::Reflect::get(&js_sys::global(), &"__chatioCloses".into()).expect("the list");
        js_sys::Array::from(&list).iter().filter_map(|v| v.as_string()).collect()
    }
}

/// Whenever the driver lets go of an open socket it closes it with 1000 "closed by the client",
/// as the browser driver always did: the page going offline, a frame over the size limit, the
/// session destroyed (never a close without a status code).
#[wasm_bindgen_test]
async fn the_socket_is_closed_with_1000_whatever_the_reason() {
    let spy = CloseSpy::install();
    let by_client = "1000 closed by the client";
    let (sdk, mut events) = connect_with(config().max_frame_len(64 * 1024)).await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    fire("offline");
    wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
    assert_eq!(spy.closes(), [by_client], "offline");
    fire("online");
    wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(())).await;

    // Five messages of 16 000 characters: the thread's answer is over the 64 KiB limit.
    for i in 0..5 {
        sdk.send_message(&chat.id, &format!("{i}{}", "x".repeat(15_999))).await.expect("send");
    }
    let threads = sdk.chat_threads_summary(&chat.id, Pagination::default()).await.expect("summary");
    let ids: Vec<_> = threads.threads_summary.iter().map(|t| t.id.clone()).collect();
    let too_large = sdk.chat_threads(&chat.id, &ids).await;
    assert!(too_large.is_err(), "the answer cannot be read");
    wait(&mut events, "the protocol error", |e| matches!(e, SdkEvent::Error(Error::Protocol(_))).then_some(())).await;
    assert_eq!(spy.closes(), [by_client, by_client], "a frame over the limit");
    wait(&mut events, "connection_restored", |e| matches!(e, SdkEvent::ConnectionRestored { .. }).then_some(())).await;

    sdk.destroy().await;
    assert_eq!(spy.closes(), [by_client, by_client, by_client], "destroyed");
}

#[wasm_bindgen_test]
async fn bad_input_gets_typed_errors_not_panics() {
    // A malformed frame: an error event, and the session goes on.
    let (sdk, mut events) = connect_with(config().request_timeout(Duration::from_secs(2))).await;
    let chat = sdk.start_chat(StartChat::new()).await.expect("chat");
    admin("malformed", &sdk).await;
    let e = wait(&mut events, "an error event", |e| match e {
        SdkEvent::Error(e) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(matches!(e, Error::Protocol(_)), "{e}");
    sdk.send_message(&chat.id, "still here").await.expect("the session goes on");
    // A server that never answers: `Timeout`.
    admin("swallow_next_response", &sdk).await;
    let e = sdk.chats_summary(Pagination::default()).await.expect_err("no answer");
    assert!(matches!(e, Error::Timeout), "{e}");
    sdk.destroy().await;

    // A refused websocket (nothing listens there): a transient transport error while
    // connecting, with the transport's `Connect` as its cause (as native), and calls fail typed.
    let (token_sdk, _ev) = connect().await;
    let token = token_sdk.auth().token().await.expect("a real token");
    token_sdk.destroy().await;
    let refused = CustomerSdk::init(
        Config::new(100, "browser-tests")
            .server("http://127.0.0.1:9")
            .token(TokenSource::Static(token))
            .request_timeout(Duration::from_secs(2)),
    )
    .expect("init does not connect synchronously");
    let mut events = refused.events();
    let e = wait(&mut events, "a connect failure", |e| match e {
        SdkEvent::Error(e @ Error::Transport(_)) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert_eq!((e.kind(), e.is_transient()), (ErrorKind::Transport, true), "{e:?}");
    assert_eq!(e.as_transport().map(|t| t.operation()), Some(Operation::Connect));
    let transport = e.source().and_then(|s| s.downcast_ref::<chatio_transport::Error>()).expect("transport error");
    assert!(matches!(transport, chatio_transport::Error::Connect { .. }), "{transport:?}");
    assert!(chain(&e).starts_with("connecting failed: cannot connect to ws://127.0.0.1:9"), "{}", chain(&e));
    let e = refused.start_chat(StartChat::new()).await.expect_err("never connected");
    assert!(matches!(e, Error::Timeout | Error::ConnectionLost | Error::Transport(_)), "{e:?}");
    refused.destroy().await;

    // A token endpoint that is not there: a transient transport error while fetching the
    // token, from `auth().token()` and as the session's error event.
    let no_accounts = CustomerSdk::init(config().accounts("http://127.0.0.1:9")).expect("init");
    let e = no_accounts.auth().token().await.expect_err("no endpoint");
    assert_eq!(e.as_transport().map(|t| (t.operation(), t.is_transient())), Some((Operation::FetchToken, true)));
    let mut events = no_accounts.events();
    let e = wait(&mut events, "an error event", |e| match e {
        SdkEvent::Error(e) => Some(e.clone()),
        _ => None,
    })
    .await;
    assert!(matches!(&e, Error::Transport(t) if t.operation() == Operation::FetchToken), "{e:?}");
    no_accounts.destroy().await;
}

/// How many message events with `text` the chat's threads hold on the server.
async fn copies(sdk: &CustomerSdk, chat: &ChatId, text: &str) -> usize {
    let threads = sdk.chat_threads_summary(chat, Pagination::default()).await.expect("summary");
    let ids: Vec<_> = threads.threads_summary.iter().map(|t| t.id.clone()).collect();
    let all = sdk.chat_threads(chat, &ids).await.expect("threads");
    all.iter().flat_map(|t| &t.events).filter(|e| e.text() == Some(text)).count()
}

/// The page's IndexedDB store across "reloads" (sessions one after the other on the same
/// database): the customer is resumed from the kept refresh token, a message sent offline
/// and left in the outbox when the session ended is delivered exactly once by the next, the
/// kept chats are shown before `Connected`, and `forget` wipes it all.
#[wasm_bindgen_test]
async fn the_indexeddb_store_keeps_the_customer_the_outbox_and_the_first_screen() {
    use chatio_customer_sdk::IndexedDbStore;
    let name = format!("chatio-sdk-test-{}", js_sys::Math::random());
    IndexedDbStore::delete(&name).await.expect("a fresh database");
    let (first, mut events) = connect_with(config().store(IndexedDbStore::new(&name))).await;
    let customer = first.customer_id().expect("a customer");
    let chat = first.start_chat(StartChat::new()).await.expect("chat").id;
    let offline = OnLine::set(false);
    fire("offline");
    wait(&mut events, "connection_lost", |e| matches!(e, SdkEvent::ConnectionLost).then_some(())).await;
    let send = first.send_message(&chat, "typed offline, then reloaded");
    futures::pin_mut!(send);
    within("the message to be queued", async {
        while first.outbox_len() == 0 {
            let _ = select(send.as_mut(), sleep(Duration::from_millis(10))).await;
        }
    })
    .await;
    // The page goes away with the message unsent.
    first.destroy().await;
    assert!(matches!(send.await, Err(Error::Closed)), "its call ends with the session");
    drop(offline);

    let (second, _events) = connect_with(config().store(IndexedDbStore::new(&name))).await;
    assert_eq!(second.customer_id().as_ref(), Some(&customer), "the same customer, from the kept refresh token");
    within("the kept message to be delivered", async {
        while second.outbox_len() > 0 || copies(&second, &chat, "typed offline, then reloaded").await == 0 {
            sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    second.destroy().await;

    // A third start: its first screen comes from the store (the chats the second login
    // listed, before `Connected`); nothing left to send; still the same customer. Then
    // forgotten.
    let third = CustomerSdk::init(config().store(IndexedDbStore::new(&name))).expect("init");
    let mut events = third.events();
    let cached = wait(&mut events, "the first screen", |e| match e {
        SdkEvent::CachedChats { chats_summary, .. } => Some(chats_summary.clone()),
        SdkEvent::Connected { .. } => panic!("connected before the cached chats were shown"),
        _ => None,
    })
    .await;
    assert_eq!(cached.iter().map(|c| c.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&chat));
    wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    assert_eq!(third.customer_id().as_ref(), Some(&customer), "the rotated refresh token was kept");
    assert_eq!(third.outbox_len(), 0);
    sleep(Duration::from_millis(300)).await;
    assert_eq!(copies(&third, &chat, "typed offline, then reloaded").await, 1, "exactly once");
    third.forget().await;
    let (fourth, _events) = connect_with(config().store(IndexedDbStore::new(&name))).await;
    assert_ne!(fourth.customer_id().as_ref(), Some(&customer), "forgotten: a new customer");
    fourth.destroy().await;
}

/// A second tab on the same database finds it locked: it runs in memory with a warning and
/// still works; nothing of the first tab's outbox is in its hands.
#[wasm_bindgen_test]
async fn a_second_tab_on_the_same_indexeddb_store_runs_in_memory_with_a_warning() {
    use chatio_customer_sdk::IndexedDbStore;
    let name = format!("chatio-sdk-test-{}", js_sys::Math::random());
    IndexedDbStore::delete(&name).await.expect("a fresh database");
    let (first, _events) = connect_with(config().store(IndexedDbStore::new(&name))).await;
    let second = CustomerSdk::init(config().store(IndexedDbStore::new(&name))).expect("init");
    let mut events = second.events();
    let warning = wait(&mut events, "store_unavailable", |e| match e {
        SdkEvent::StoreUnavailable(t) => Some(t.clone()),
        _ => None,
    })
    .await;
    assert_eq!(warning.operation(), Operation::Store);
    assert!(chain(&warning).contains("another process or tab uses the store"), "{warning}");
    wait(&mut events, "connected", |e| matches!(e, SdkEvent::Connected { .. }).then_some(())).await;
    let chat = second.start_chat(StartChat::new()).await.expect("chat");
    second.send_message(&chat.id, "in memory").await.expect("still works");
    second.destroy().await;
    first.destroy().await;
}
