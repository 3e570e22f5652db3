//! The widget itself: finds the page's elements, starts one SDK session, turns SDK events
//! into DOM updates and the customer's clicks and keys into SDK calls.
//!
//! Single-threaded (the browser's event loop): state is an `Rc<App>` with a `RefCell`,
//! never borrowed across an `.await`. Every failure ends as readable text in the error bar
//! (or the page's fallback text when the widget cannot start); nothing here panics.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::time::{SystemTime, UNIX_EPOCH};

use chatio_customer_sdk::{
    Canceller, ChatHistory, ChatId, ChatSummary, Config, CustomerSdk, Error, Event, EventId, Events, File, Postback,
    Rating, SdkEvent, StartChat, ThreadId, Token, TokenSource, User, UserId,
};
use futures::StreamExt;
use futures::channel::mpsc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Document, Element, HtmlInputElement, HtmlProgressElement, HtmlTextAreaElement};

use crate::dom::{self, Js, by_id, cast, el, show, text};
use crate::embed::{self, HostLink, HostMessage};
use crate::settings::Settings;
use crate::view::{self, Body, Item, Who};

/// How many author names the page remembers (for history after a reload).
const REMEMBERED_NAMES: usize = 64;

/// The page's elements the widget uses (see `assets/index.html`).
struct Ui {
    widget: Element,
    status: Element,
    banner: Element,
    error: Element,
    error_text: Element,
    agents: Element,
    messages: Element,
    older: Element,
    live: Element,
    history_top: Element,
    typing: Element,
    upload: Element,
    upload_name: Element,
    upload_bar: HtmlProgressElement,
    upload_pct: Element,
    upload_state: Element,
    upload_cancel: Element,
    rating_state: Element,
    rate_good: Element,
    rate_bad: Element,
    confirm_end: Element,
    close_thread: Element,
    minimize: Element,
    composer: Element,
    input: HtmlTextAreaElement,
    file: HtmlInputElement,
}

impl Ui {
    fn find(doc: &Document) -> Js<Self> {
        Ok(Self {
            widget: by_id(doc, "widget")?,
            status: by_id(doc, "status")?,
            banner: by_id(doc, "banner")?,
            error: by_id(doc, "error")?,
            error_text: by_id(doc, "error-text")?,
            agents: by_id(doc, "agents")?,
            messages: by_id(doc, "messages")?,
            older: by_id(doc, "older")?,
            live: by_id(doc, "live")?,
            history_top: by_id(doc, "history-top")?,
            typing: by_id(doc, "typing")?,
            upload: by_id(doc, "upload")?,
            upload_name: by_id(doc, "upload-name")?,
            upload_bar: cast(by_id(doc, "upload-progress")?, "upload-progress")?,
            upload_pct: by_id(doc, "upload-pct")?,
            upload_state: by_id(doc, "upload-state")?,
            upload_cancel: by_id(doc, "upload-cancel")?,
            rating_state: by_id(doc, "rating-state")?,
            rate_good: by_id(doc, "rate-good")?,
            rate_bad: by_id(doc, "rate-bad")?,
            confirm_end: by_id(doc, "confirm-end")?,
            close_thread: by_id(doc, "close-thread")?,
            minimize: by_id(doc, "minimize")?,
            composer: by_id(doc, "composer")?,
            input: cast(by_id(doc, "input")?, "input")?,
            file: cast(by_id(doc, "file")?, "file")?,
        })
    }
}

/// Why a history page is loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Load {
    /// The chat's newest page, at connection.
    Initial,
    /// The customer scrolled to the top.
    Scroll,
    /// The list does not fill its box yet.
    Fill,
}

#[derive(Default)]
struct State {
    me: Option<UserId>,
    chat: Option<ChatId>,
    names: HashMap<UserId, String>,
    agents: Vec<UserId>,
    shown: HashSet<EventId>,
    history: Option<ChatHistory>,
    history_loading: bool,
    history_done: bool,
    thread_closed: bool,
    last_thread: Option<ThreadId>,
    upload: Option<Canceller>,
    /// URLs of the files this page sent: their `new_event` echo is not shown twice.
    sent_files: HashSet<String>,
    /// The connection is up (after `Connected` / `ConnectionRestored`).
    online: bool,
    /// The error bar shows connection trouble (cleared when the connection is back).
    error_is_connection: bool,
    /// What the host page told about the customer, sent once connected.
    customer: Option<chatio_wire::CustomerData>,
    /// Messages from someone else that arrived while the visitor was not looking.
    unread: u32,
    /// The rows shown are the store's cached first screen (replaced at `Connected`).
    cached: bool,
}

/// The running widget.
struct App {
    doc: Document,
    sdk: CustomerSdk,
    ui: Ui,
    settings: Settings,
    st: RefCell<State>,
    chat_lock: futures::lock::Mutex<()>,
    /// The loader's page, when embedded.
    host: Option<HostLink>,
    /// The window is shown (always, as a page of its own; as the loader says, embedded).
    visible: Cell<bool>,
    /// The list is scrolled to its end: new rows and late images keep it there.
    stuck: Cell<bool>,
    title: String,
}

/// Starts the widget on the current page. Errors that prevent it from starting are written
/// into the page.
pub fn start() {
    install_panic_note();
    let Some(window) = web_sys::window() else { return };
    let Some(doc) = window.document() else { return };
    if let Err(e) = run(&window, doc.clone()) {
        fatal(&doc, &format!("The chat could not start: {}", dom::js_text(&e)));
    }
}

/// A panic is a bug: it is logged and told to the customer (the session is gone with it).
fn install_panic_note() {
    std::panic::set_hook(Box::new(|info| {
        web_sys::console::error_1(&JsValue::from_str(&format!("chatio: the widget stopped because of a bug: {info}")));
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            fatal(&doc, "The chat stopped because of an error. Please reload the page.");
        }
    }));
}

fn fatal(doc: &Document, msg: &str) {
    web_sys::console::error_1(&JsValue::from_str(msg));
    match (doc.get_element_by_id("error"), doc.get_element_by_id("error-text")) {
        (Some(bar), Some(t)) => {
            text(&t, msg);
            show(&bar, true);
        }
        _ => {
            if let Some(body) = doc.body() {
                body.set_text_content(Some(msg));
            }
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

fn run(window: &web_sys::Window, doc: Document) -> Js {
    let ui = Ui::find(&doc)?;
    let location = window.location();
    let meta = doc.query_selector("meta[name=chatio-server]").ok().flatten().and_then(|m| m.get_attribute("content"));
    let settings = Settings::parse(&location.origin()?, &location.search()?, &location.hash()?, meta.as_deref());
    let prefix = settings.storage_prefix();
    // The customer is resumed by its refresh token (G11), kept under a key naming this
    // server and license; each use rotates it, so the listener keeps the latest.
    let key = format!("{prefix}.refresh_token");
    let known = if settings.fresh { None } else { storage().and_then(|s| s.get_item(&key).ok().flatten()) };
    let mut config = Config::new(settings.license, "chatio-widget")
        .server(settings.server.clone())
        .redirect_uri(format!("{}/widget/", settings.server))
        .history_page_events(settings.history)
        .on_refresh_token(move |t| {
            if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                let _ = s.set_item(&key, t.expose());
            }
        });
    if let Some(secret) = known {
        config = config.token(TokenSource::AccountsResume(Token::new(secret)));
    }
    config = with_store(config, &prefix, settings.fresh);
    let sdk = CustomerSdk::init(config).map_err(|e| JsValue::from_str(&view::error_text(&e)))?;
    let events = sdk.events();
    let host = embed::link(window, settings.embed_origin.as_deref());
    let names = remembered_names(&prefix);
    let app = Rc::new(App {
        title: doc.title(),
        doc,
        sdk,
        ui,
        settings,
        st: RefCell::new(State { names, ..State::default() }),
        chat_lock: futures::lock::Mutex::new(()),
        visible: Cell::new(host.is_none()),
        host,
        stuck: Cell::new(true),
    });
    app.set_status("connecting", "Connecting…");
    app.bind()?;
    spawn_local(app.clone().event_loop(events));
    app.take_over_early_messages();
    if let Some(host) = &app.host {
        show(&app.ui.minimize, true);
        let a = app.clone();
        host.listen(move |m| a.from_host(m))?;
        host.post(&embed::ready());
    }
    Ok(())
}

/// The SDK's store in this origin's IndexedDB, one database per server and license (the
/// `localStorage` prefix): the outbox (a message typed offline survives a reload or a closed
/// tab and is delivered once on the next visit), the refresh token, the chats of the last
/// visit (painted before the connection is up). One tab at a time holds it (the Web Locks
/// API, see `chatio_transport::web::indexeddb`); a second tab of the same site runs in memory,
/// which is why the refresh token is also kept in `localStorage` (that tab resumes the same
/// customer from it). `?new` starts from an empty store.
#[cfg(target_arch = "wasm32")]
fn with_store(config: Config, prefix: &str, fresh: bool) -> Config {
    let store = chatio_customer_sdk::IndexedDbStore::new(prefix);
    if fresh { config.store(FreshStore(store)) } else { config.store(store) }
}

/// Natively the widget is only compiled, never run: no store.
#[cfg(not(target_arch = "wasm32"))]
fn with_store(config: Config, _prefix: &str, _fresh: bool) -> Config {
    config
}

/// A store wiped when it is opened (`?new`: a new customer, nothing of the previous one).
#[cfg(target_arch = "wasm32")]
struct FreshStore(chatio_customer_sdk::IndexedDbStore);

#[cfg(target_arch = "wasm32")]
impl chatio_customer_sdk::Store for FreshStore {
    fn load(
        &self,
    ) -> chatio_customer_sdk::StoreFuture<'_, Result<chatio_customer_sdk::StoredState, chatio_customer_sdk::StoreError>>
    {
        Box::pin(async move {
            self.0.load().await?;
            self.0.apply(vec![chatio_customer_sdk::StoreChange::Forget]).await?;
            Ok(chatio_customer_sdk::StoredState::default())
        })
    }

    fn apply(
        &self,
        changes: Vec<chatio_customer_sdk::StoreChange>,
    ) -> chatio_customer_sdk::StoreFuture<'_, Result<(), chatio_customer_sdk::StoreError>> {
        self.0.apply(changes)
    }

    fn close(&self) {
        self.0.close();
    }
}

/// Author names learnt earlier (`id\tname` lines): an agent who left still has a name in
/// the history after a reload.
fn remembered_names(prefix: &str) -> HashMap<UserId, String> {
    let stored = storage().and_then(|s| s.get_item(&format!("{prefix}.names")).ok().flatten()).unwrap_or_default();
    stored
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(id, name)| (UserId::new(id.to_owned()), name.to_owned()))
        .collect()
}

/// Adds an event listener for the page's lifetime.
fn on(target: &web_sys::EventTarget, kind: &str, f: impl FnMut(web_sys::Event) + 'static) -> Js {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    target.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

/// Waits `ms` milliseconds (the browser's `setTimeout`).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}

/// `HH:MM` in the visitor's time zone, and the ISO form for `<time datetime>`.
fn clock(at: SystemTime) -> (String, String) {
    #[allow(clippy::cast_precision_loss)] // milliseconds since 1970 fit an f64 exactly
    let ms = at.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as f64).unwrap_or(0.0);
    let date = js_sys::Date::new(&JsValue::from_f64(ms));
    (view::clock_text(date.get_hours(), date.get_minutes()), String::from(date.to_iso_string()))
}

fn now() -> SystemTime {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // Date.now() is positive
    let ms = js_sys::Date::now() as u64;
    UNIX_EPOCH + std::time::Duration::from_millis(ms)
}

impl App {
    fn bind(self: &Rc<Self>) -> Js {
        let app = self.clone();
        on(&self.ui.composer, "submit", move |e| {
            e.prevent_default();
            app.send();
        })?;
        // The boot script's early listener is no longer needed.
        if let Some(w) = web_sys::window() {
            if let Ok(early) = js_sys::Reflect::get(&w, &JsValue::from_str("__chatioEarlySubmit")) {
                if let Some(f) = early.dyn_ref::<js_sys::Function>() {
                    let _ = self.ui.composer.remove_event_listener_with_callback("submit", f);
                }
            }
        }
        let app = self.clone();
        on(&self.ui.input, "input", move |_| app.sneak_peek())?;
        let app = self.clone();
        on(&self.ui.input, "paste", move |e| app.pasted(&e))?;
        let app = self.clone();
        on(&by_id(&self.doc, "attach")?.into(), "click", move |_| app.ui.file.click())?;
        let app = self.clone();
        on(&self.ui.file, "change", move |_| {
            let file = app.ui.file.files().and_then(|l| l.get(0));
            app.ui.file.set_value("");
            if let Some(f) = file {
                app.pick_file(f);
            }
        })?;
        for kind in ["dragenter", "dragover"] {
            let app = self.clone();
            on(&self.ui.widget, kind, move |e| {
                e.prevent_default();
                let _ = app.ui.composer.class_list().add_1("dragging");
            })?;
        }
        let app = self.clone();
        on(&self.ui.widget, "dragleave", move |_| {
            let _ = app.ui.composer.class_list().remove_1("dragging");
        })?;
        let app = self.clone();
        on(&self.ui.widget, "drop", move |e| {
            e.prevent_default();
            let _ = app.ui.composer.class_list().remove_1("dragging");
            let file = e
                .dyn_ref::<web_sys::DragEvent>()
                .and_then(web_sys::DragEvent::data_transfer)
                .and_then(|d| d.files())
                .and_then(|l| l.get(0));
            if let Some(f) = file {
                app.pick_file(f);
            }
        })?;
        let app = self.clone();
        on(&self.ui.upload_cancel, "click", move |_| {
            let c = app.st.borrow().upload.clone();
            if let Some(c) = c {
                c.cancel();
                text(&app.ui.upload_state, "Cancelling…");
            }
        })?;
        let app = self.clone();
        on(&self.ui.messages, "scroll", move |_| {
            app.stuck.set(app.near_bottom());
            if app.ui.messages.scroll_top() < 40 {
                spawn_local(app.clone().load_history(Load::Scroll));
            }
        })?;
        let app = self.clone();
        on(&self.ui.messages, "click", move |e| app.clicked_in_messages(&e))?;
        // Images that load after their row keep a stuck list at its end.
        let app = self.clone();
        let restick = Closure::<dyn FnMut(web_sys::Event)>::new(move |e: web_sys::Event| {
            let is_img = e.target().and_then(|t| t.dyn_into::<web_sys::HtmlImageElement>().ok()).is_some();
            if is_img && app.stuck.get() {
                app.scroll_to_bottom();
            }
        });
        self.ui.messages.add_event_listener_with_callback_and_bool("load", restick.as_ref().unchecked_ref(), true)?;
        restick.forget();
        let app = self.clone();
        on(&self.ui.rate_good, "click", move |_| spawn_local(app.clone().rate(Rating::Good)))?;
        let app = self.clone();
        on(&self.ui.rate_bad, "click", move |_| spawn_local(app.clone().rate(Rating::Bad)))?;
        let app = self.clone();
        on(&self.ui.close_thread, "click", move |_| app.ask_end())?;
        let app = self.clone();
        on(&by_id(&self.doc, "confirm-end-yes")?.into(), "click", move |_| spawn_local(app.clone().close_thread()))?;
        let app = self.clone();
        on(&by_id(&self.doc, "confirm-end-no")?.into(), "click", move |_| {
            show(&app.ui.confirm_end, false);
            show(&app.ui.close_thread, true);
            let _ = app.ui.close_thread.dyn_ref::<web_sys::HtmlElement>().map(web_sys::HtmlElement::focus);
        })?;
        let app = self.clone();
        on(&by_id(&self.doc, "error-close")?.into(), "click", move |_| {
            show(&app.ui.error, false);
            let _ = app.ui.input.focus();
        })?;
        let app = self.clone();
        on(&self.ui.minimize, "click", move |_| app.ask_minimize())?;
        let app = self.clone();
        on(&self.doc, "keydown", move |e| {
            let escape = e.dyn_ref::<web_sys::KeyboardEvent>().is_some_and(|k| k.key() == "Escape");
            if escape {
                app.ask_minimize();
            }
        })?;
        let app = self.clone();
        on(&self.doc, "visibilitychange", move |_| app.seen_check())?;
        Ok(())
    }

    /// Messages the visitor sent while the wasm was loading (rows the boot script made):
    /// sent now, in order.
    fn take_over_early_messages(self: &Rc<Self>) {
        let Ok(rows) = self.ui.live.query_selector_all(".row.queued") else { return };
        for i in 0..rows.length() {
            let Some(row) = rows.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
            let message = row.query_selector(".text").ok().flatten().and_then(|t| t.text_content()).unwrap_or_default();
            let _ = row.class_list().remove_1("queued");
            if let Ok(Some(meta)) = row.query_selector(".meta") {
                text(&meta, "Sending…");
            }
            if !message.is_empty() {
                spawn_local(self.clone().deliver(message, row));
            }
        }
    }

    async fn event_loop(self: Rc<Self>, mut events: Events) {
        while let Some(ev) = events.next().await {
            self.on_event(ev);
        }
        self.set_status("ended", "Ended");
        self.banner(Some("The chat session has ended. Reload the page to chat again."));
    }

    fn on_event(self: &Rc<Self>, ev: SdkEvent) {
        // The widget shows one chat: events of others are left out.
        if let Some(chat) = chat_of(&ev) {
            if !self.adopt_chat(chat) {
                return;
            }
        }
        match ev {
            SdkEvent::CachedChats { chats_summary, .. } => self.show_cached(chats_summary),
            SdkEvent::Connected { chats_summary, .. } => {
                // The server's list wins over the cached first screen.
                self.drop_cached();
                self.connection_back();
                let first = chats_summary.into_iter().next();
                let load = {
                    let mut st = self.st.borrow_mut();
                    match first {
                        Some(summary) if st.chat.is_none() => {
                            learn_users(&mut st, &summary.users);
                            st.chat = Some(summary.id);
                            true
                        }
                        _ => false,
                    }
                };
                self.remember_names();
                self.show_agents();
                self.set_active(load);
                if load {
                    spawn_local(self.clone().initial_history());
                } else {
                    text(&self.ui.history_top, "");
                }
                spawn_local(self.clone().send_customer());
            }
            SdkEvent::ConnectionLost | SdkEvent::Reconnecting { .. } => {
                self.st.borrow_mut().online = false;
                self.set_status("reconnecting", "Reconnecting…");
                let offline = web_sys::window().is_some_and(|w| !w.navigator().on_line());
                let msg = match (&ev, offline) {
                    (_, true) => "You are offline. The chat reconnects when your connection is back.".to_owned(),
                    (SdkEvent::Reconnecting { attempt, delay }, false) => view::reconnecting_text(*attempt, *delay),
                    _ => "Connection lost. Reconnecting…".to_owned(),
                };
                self.banner(Some(&msg));
            }
            SdkEvent::ConnectionRestored { .. } => self.connection_back(),
            SdkEvent::CustomerId(id) => {
                self.st.borrow_mut().me = Some(id);
            }
            SdkEvent::Disconnected { reason } => {
                self.st.borrow_mut().online = false;
                self.set_status("disconnected", "Disconnected");
                web_sys::console::warn_1(&JsValue::from_str(&format!("chatio: disconnected: {reason}")));
                self.banner(Some("The chat server ended this session. Reload the page to chat again."));
            }
            SdkEvent::UserData(user) => {
                self.st.borrow_mut().names.insert(user.id.clone(), display_name(&user));
                self.remember_names();
                self.show_agents();
            }
            SdkEvent::CustomerUpdated { customer, .. } => {
                self.st.borrow_mut().names.insert(customer.id.clone(), display_name(&customer));
            }
            SdkEvent::NewEvent { event, .. } => self.live_event(&event),
            // Joins and leaves show in the header; the server's system messages
            // ("... joined the chat") tell them in the list.
            SdkEvent::UserJoinedChat { user, .. } => {
                let is_me = self.st.borrow().me.as_ref() == Some(&user);
                if !is_me && !self.st.borrow().agents.contains(&user) {
                    self.st.borrow_mut().agents.push(user);
                }
                self.show_agents();
            }
            SdkEvent::UserLeftChat { user, .. } => {
                self.st.borrow_mut().agents.retain(|a| a != &user);
                self.show_agents();
                show(&self.ui.typing, false);
            }
            SdkEvent::UserIsTyping { user, .. } if self.st.borrow().me.as_ref() != Some(&user) => {
                text(&self.ui.typing, &format!("{} is typing…", self.name(&user)));
                show(&self.ui.typing, true);
            }
            SdkEvent::UserStoppedTyping { .. } => show(&self.ui.typing, false),
            SdkEvent::ThreadClosed { user, .. } => {
                let mine = user.is_some() && self.st.borrow().me == user;
                let by = match &user {
                    Some(_) if mine => "You".to_owned(),
                    Some(u) => self.name(u),
                    None => "The server".to_owned(),
                };
                self.thread_closed(&by);
            }
            SdkEvent::RichMessagePostback { event, postback, .. } => self.mark_postback(&event, &postback),
            SdkEvent::Error(e) => {
                if view::is_unknown_chat(&e) {
                    // A request with no caller (a sneak peek) about a chat the server forgot:
                    // the next message finds out and starts a new chat; nothing for the
                    // visitor to do (the event does not say which chat, so none is dropped here).
                    web_sys::console::warn_1(&JsValue::from_str(&format!("chatio: {}", view::error_detail(&e))));
                } else if view::is_connection_error(&e) {
                    // The banner tells it; the console keeps the detail.
                    web_sys::console::warn_1(&JsValue::from_str(&format!("chatio: {}", view::error_detail(&e))));
                } else {
                    self.show_error_of(&e);
                }
            }
            _ => {}
        }
    }

    /// The chat of the last visit as the store kept it, painted before the connection is up:
    /// its participants and latest events, marked `.cached` (replaced by the server's history
    /// at `Connected`). The widget's element gets `data-cached-at` (ms since 1970) and
    /// `data-cached` (the rows painted).
    fn show_cached(&self, chats: Vec<ChatSummary>) {
        let Some(summary) = chats.into_iter().next() else { return };
        {
            let mut st = self.st.borrow_mut();
            if st.chat.is_some() || st.online {
                return;
            }
            learn_users(&mut st, &summary.users);
            st.chat = Some(summary.id.clone());
            st.cached = true;
            // No history request for a cached chat: it waits for the connection's answer.
            st.history_loading = true;
        }
        let mut events: Vec<Event> = summary.last_events_per_type.into_values().collect();
        events.sort_by_key(|e| e.timestamp);
        events.dedup_by(|a, b| a.id == b.id);
        let mut painted = 0;
        for event in &events {
            if !self.st.borrow_mut().shown.insert(event.id.clone()) {
                continue;
            }
            let shown = self.render(event).and_then(|(row, _)| {
                row.class_list().add_1("cached")?;
                self.ui.older.append_child(&row)
            });
            if shown.is_ok() {
                painted += 1;
            }
        }
        self.show_agents();
        self.scroll_to_bottom();
        let _ = self.ui.widget.set_attribute("data-cached-at", &format!("{}", js_sys::Date::now()));
        let _ = self.ui.widget.set_attribute("data-cached", &painted.to_string());
    }

    /// Removes the cached first screen (the server's answer replaces it).
    fn drop_cached(&self) {
        if !std::mem::take(&mut self.st.borrow_mut().cached) {
            return;
        }
        if let Ok(rows) = self.ui.older.query_selector_all(".cached") {
            for i in 0..rows.length() {
                let Some(row) = rows.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
                if let Some(id) = row.get_attribute("data-event") {
                    self.st.borrow_mut().shown.remove(&EventId::new(id));
                }
                row.remove();
            }
        }
        let mut st = self.st.borrow_mut();
        st.chat = None;
        st.agents.clear();
        st.history_loading = false;
    }

    /// The chat's newest history page, once the messages a previous visit left in the store's
    /// outbox were delivered (so they are in it; at most a few seconds).
    async fn initial_history(self: Rc<Self>) {
        for _ in 0..50 {
            if self.sdk.outbox_len() == 0 {
                break;
            }
            sleep(100).await;
        }
        self.load_history(Load::Initial).await;
    }

    fn connection_back(&self) {
        if !self.st.borrow().online && self.ui.widget.get_attribute("data-connected-at").is_none() {
            // When the first connection was up (ms since 1970): the open → Connected benchmark reads it.
            let _ = self.ui.widget.set_attribute("data-connected-at", &format!("{}", js_sys::Date::now()));
        }
        self.st.borrow_mut().online = true;
        self.set_status("connected", "Connected");
        self.banner(None);
        let was_connection = std::mem::take(&mut self.st.borrow_mut().error_is_connection);
        if was_connection {
            show(&self.ui.error, false);
        }
    }

    /// Whether `chat` is the widget's chat (adopting it if the widget has none yet).
    fn adopt_chat(&self, chat: &ChatId) -> bool {
        let mut st = self.st.borrow_mut();
        match &st.chat {
            Some(c) => c == chat,
            None => {
                st.chat = Some(chat.clone());
                true
            }
        }
    }

    fn name(&self, id: &UserId) -> String {
        let st = self.st.borrow();
        if st.me.as_ref() == Some(id) {
            return "You".into();
        }
        st.names.get(id).cloned().unwrap_or_else(|| "Agent".into())
    }

    /// Keeps the names known (for the history after a reload), the newest few.
    fn remember_names(&self) {
        let st = self.st.borrow();
        let lines: Vec<String> = st
            .names
            .iter()
            .filter(|(id, _)| st.me.as_ref() != Some(*id))
            .take(REMEMBERED_NAMES)
            .map(|(id, n)| format!("{}\t{}", id.as_str().replace(['\t', '\n'], " "), n.replace(['\t', '\n'], " ")))
            .collect();
        if let Some(s) = storage() {
            let _ = s.set_item(&format!("{}.names", self.settings.storage_prefix()), &lines.join("\n"));
        }
    }

    fn set_status(&self, class: &str, label: &str) {
        self.ui.status.set_class_name(&format!("status {class}"));
        text(&self.ui.status, label);
    }

    fn banner(&self, msg: Option<&str>) {
        text(&self.ui.banner, msg.unwrap_or(""));
        show(&self.ui.banner, msg.is_some());
    }

    fn show_error(&self, msg: &str) {
        web_sys::console::warn_1(&JsValue::from_str(&format!("chatio: {msg}")));
        self.st.borrow_mut().error_is_connection = false;
        text(&self.ui.error_text, msg);
        show(&self.ui.error, true);
    }

    /// An SDK error in the error bar: the sentence there, the detail in the console.
    fn show_error_of(&self, e: &Error) {
        web_sys::console::warn_1(&JsValue::from_str(&format!("chatio: {}", view::error_detail(e))));
        text(&self.ui.error_text, &view::error_text(e));
        show(&self.ui.error, true);
        self.st.borrow_mut().error_is_connection = view::is_connection_error(e);
    }

    fn show_agents(&self) {
        let names: Vec<String> = {
            let agents = self.st.borrow().agents.clone();
            agents.iter().map(|a| self.name(a)).collect()
        };
        let label = match names.as_slice() {
            [] => "No agent in the chat".to_owned(),
            [one] => format!("{one} is here"),
            many => format!("{} are here", many.join(", ")),
        };
        text(&self.ui.agents, &label);
    }

    fn near_bottom(&self) -> bool {
        let m = &self.ui.messages;
        m.scroll_height() - m.scroll_top() - m.client_height() < 80
    }

    fn scroll_to_bottom(&self) {
        self.ui.messages.set_scroll_top(self.ui.messages.scroll_height());
        self.stuck.set(true);
    }

    fn append(&self, row: &Element) -> Js {
        let stick = self.stuck.get() || self.near_bottom();
        self.ui.live.append_child(row)?;
        if stick {
            self.scroll_to_bottom();
        }
        Ok(())
    }

    fn append_line(&self, msg: &str, class: &str) -> Js<Element> {
        let row = el(&self.doc, "div", &format!("line {class}"), Some(msg))?;
        self.append(&row)?;
        Ok(row)
    }

    /// An event from someone else, or from another tab of this customer.
    fn live_event(&self, event: &Event) {
        if !self.st.borrow_mut().shown.insert(event.id.clone()) {
            return;
        }
        if let chatio_wire::EventKind::File(f) = &event.kind {
            if !self.st.borrow_mut().sent_files.insert(f.url.clone()) {
                return; // this page sent it and shows it already
            }
        }
        let new_thread = {
            let mut st = self.st.borrow_mut();
            let changed = event.thread.is_some() && st.last_thread.is_some() && event.thread != st.last_thread;
            if event.thread.is_some() {
                st.last_thread.clone_from(&event.thread);
            }
            if changed {
                st.thread_closed = false;
            }
            changed
        };
        let result = (|| {
            if new_thread {
                self.append_line("A new thread started", "divider")?;
            }
            let (row, item) = self.render(event)?;
            self.append(&row)?;
            Ok::<_, JsValue>(item)
        })();
        match result {
            Ok(item) if view::counts_as_unread(&item) && !self.looking() => {
                let n = {
                    let mut st = self.st.borrow_mut();
                    st.unread += 1;
                    st.unread
                };
                self.publish_unread(n);
            }
            Ok(_) => {}
            Err(e) => self.show_error(&format!("A message could not be shown ({}).", dom::js_text(&e))),
        }
    }

    /// The visitor can see the conversation: the window is open and the tab is shown.
    fn looking(&self) -> bool {
        self.visible.get() && !self.doc.hidden()
    }

    /// The window became visible or the tab was shown: what arrived is read.
    fn seen_check(&self) {
        if self.looking() && self.st.borrow().unread > 0 {
            self.st.borrow_mut().unread = 0;
            self.publish_unread(0);
        }
    }

    /// The unread count: to the loader's bubble when embedded, else in the tab title.
    fn publish_unread(&self, n: u32) {
        match &self.host {
            Some(host) => host.post(&embed::unread(n)),
            None => self.doc.set_title(&view::unread_title(&self.title, n)),
        }
        let _ = self.ui.widget.set_attribute("data-unread", &n.to_string());
    }

    /// Whether the visitor has a chat going (the loader then loads the window early on the
    /// next page).
    fn set_active(&self, active: bool) {
        if let Some(host) = &self.host {
            host.post(&embed::active(active));
        }
    }

    fn ask_minimize(&self) {
        if let Some(host) = &self.host {
            host.post(&embed::minimize());
        }
    }

    fn from_host(self: &Rc<Self>, m: HostMessage) {
        match m {
            HostMessage::Init { visible, customer } => {
                self.set_visible(visible);
                self.merge_customer(customer);
            }
            HostMessage::Visible(v) => self.set_visible(v),
            HostMessage::Customer(c) => self.merge_customer(c),
        }
    }

    fn set_visible(&self, visible: bool) {
        self.visible.set(visible);
        if visible {
            self.seen_check();
            if self.stuck.get() {
                self.scroll_to_bottom();
            }
            let _ = self.ui.input.focus();
        }
    }

    fn merge_customer(self: &Rc<Self>, data: chatio_wire::CustomerData) {
        {
            let mut st = self.st.borrow_mut();
            let merged = match st.customer.take() {
                Some(mut old) => {
                    if data.name.is_some() {
                        old.name = data.name;
                    }
                    if data.email.is_some() {
                        old.email = data.email;
                    }
                    if let Some(f) = data.fields {
                        old.fields.get_or_insert_with(Default::default).extend(f);
                    }
                    if data.monitoring.is_some() {
                        old.monitoring = data.monitoring;
                    }
                    old
                }
                None => data,
            };
            st.customer = Some(merged);
        }
        if self.st.borrow().online {
            spawn_local(self.clone().send_customer());
        }
    }

    /// Sends what the host page said about the customer (name, e-mail, fields, the page).
    async fn send_customer(self: Rc<Self>) {
        let data = self.st.borrow_mut().customer.take();
        let Some(data) = data else { return };
        if let Err(e) = self.sdk.update_customer(data.clone()).await {
            web_sys::console::warn_1(&JsValue::from_str(&format!(
                "chatio: the visitor's details were not sent: {}",
                view::error_detail(&e)
            )));
            // Kept for the next connection.
            let mut st = self.st.borrow_mut();
            if st.customer.is_none() {
                st.customer = Some(data);
            }
        }
    }

    /// The row of an SDK event, and what it shows.
    fn render(&self, event: &Event) -> Js<(Element, Item)> {
        let item = {
            let st = self.st.borrow();
            let name = |id: &UserId| st.names.get(id).cloned().unwrap_or_else(|| "Agent".into());
            view::item(event, st.me.as_ref(), &name)
        };
        let row = self.row(&item, Some(event.timestamp))?;
        row.set_attribute("data-event", event.id.as_str())?;
        if let Some(t) = &event.thread {
            row.set_attribute("data-thread", t.as_str())?;
        }
        Ok((row, item))
    }

    /// Sets the `.meta` line of a row: the time, or a state (`Sending…`).
    fn set_meta(&self, row: &Element, at: Option<SystemTime>, state: Option<&str>) -> Js {
        let bubble = row.query_selector(".bubble")?.ok_or_else(|| JsValue::from_str("a row without a bubble"))?;
        let meta = match bubble.query_selector(".meta")? {
            Some(m) => m,
            None => {
                let m = el(&self.doc, "div", "meta", None)?;
                bubble.append_child(&m)?;
                m
            }
        };
        meta.set_text_content(None);
        if let Some(at) = at {
            let (hm, iso) = clock(at);
            let t = el(&self.doc, "time", "", Some(&hm))?;
            t.set_attribute("datetime", &iso)?;
            meta.append_child(&t)?;
        }
        if let Some(s) = state {
            let sep = if at.is_some() { " · " } else { "" };
            meta.append_child(&self.doc.create_text_node(&format!("{sep}{s}")))?;
        }
        Ok(())
    }

    /// The row of an item: `div.row.me|other|system > div.bubble > (author, body, meta)`.
    fn row(&self, item: &Item, at: Option<SystemTime>) -> Js<Element> {
        let who = match item.who {
            Who::Me => "me",
            Who::Other => "other",
            Who::System => "system",
        };
        let row = el(&self.doc, "div", &format!("row {who}"), None)?;
        let bubble = el(&self.doc, "div", "bubble", None)?;
        row.append_child(&bubble)?;
        if item.who == Who::Other {
            dom::add(&bubble, &el(&self.doc, "div", "author", Some(&item.author))?)?;
        }
        match &item.body {
            Body::Text(t) => {
                let body = el(&self.doc, "div", "text", Some(t))?;
                body.set_attribute("dir", "auto")?;
                bubble.append_child(&body)?;
            }
            Body::System(t) | Body::Note(t) => {
                let body = el(&self.doc, "div", "text note", Some(t))?;
                body.set_attribute("dir", "auto")?;
                bubble.append_child(&body)?;
            }
            Body::File { name, url, size, image } => {
                let file = el(&self.doc, "div", "file", None)?;
                if let (true, Some(u)) = (image, url) {
                    let img = el(&self.doc, "img", "thumb", None)?;
                    img.set_attribute("src", u)?;
                    img.set_attribute("alt", name)?;
                    img.set_attribute("loading", "lazy")?;
                    file.append_child(&img)?;
                }
                let link = el(&self.doc, if url.is_some() { "a" } else { "span" }, "file-link", Some(name))?;
                link.set_attribute("dir", "auto")?;
                if let Some(u) = url {
                    link.set_attribute("href", u)?;
                    link.set_attribute("target", "_blank")?;
                    link.set_attribute("rel", "noopener noreferrer")?;
                }
                file.append_child(&link)?;
                dom::add(&file, &el(&self.doc, "span", "file-size", Some(size))?)?;
                bubble.append_child(&file)?;
            }
            Body::Rich(cards) => {
                let list = el(&self.doc, "div", "cards", None)?;
                for card in cards {
                    let c = el(&self.doc, "div", "card", None)?;
                    if let Some(src) = &card.image {
                        let img = el(&self.doc, "img", "card-image", None)?;
                        img.set_attribute("src", src)?;
                        img.set_attribute("alt", "")?;
                        c.append_child(&img)?;
                    }
                    if let Some(t) = &card.title {
                        let e = el(&self.doc, "div", "card-title", Some(t))?;
                        e.set_attribute("dir", "auto")?;
                        c.append_child(&e)?;
                    }
                    if let Some(t) = &card.subtitle {
                        let e = el(&self.doc, "div", "card-subtitle", Some(t))?;
                        e.set_attribute("dir", "auto")?;
                        c.append_child(&e)?;
                    }
                    let buttons = el(&self.doc, "div", "card-buttons", None)?;
                    for b in &card.buttons {
                        let btn = el(&self.doc, "button", "postback", Some(&b.text))?;
                        btn.set_attribute("type", "button")?;
                        btn.set_attribute("dir", "auto")?;
                        btn.set_attribute("data-postback", &b.postback_id)?;
                        btn.set_attribute("aria-pressed", if b.chosen { "true" } else { "false" })?;
                        buttons.append_child(&btn)?;
                    }
                    c.append_child(&buttons)?;
                    list.append_child(&c)?;
                }
                bubble.append_child(&list)?;
            }
            Body::Form(fields) => {
                let form = el(&self.doc, "dl", "form", None)?;
                for (label, value) in fields {
                    dom::add(&form, &el(&self.doc, "dt", "", Some(label))?)?;
                    let dd = el(&self.doc, "dd", "", Some(value))?;
                    dd.set_attribute("dir", "auto")?;
                    form.append_child(&dd)?;
                }
                dom::add(&bubble, &el(&self.doc, "div", "text note", Some("Form"))?)?;
                bubble.append_child(&form)?;
            }
        }
        if item.who != Who::System {
            self.set_meta(&row, at, None)?;
        }
        Ok(row)
    }

    /// The chat to write to, started on first use.
    async fn ensure_chat(self: &Rc<Self>) -> Result<ChatId, Error> {
        let _one_at_a_time = self.chat_lock.lock().await;
        let known = self.st.borrow().chat.clone();
        if let Some(c) = known {
            return Ok(c);
        }
        let chat = self.sdk.start_chat(StartChat::new()).await?;
        {
            let mut st = self.st.borrow_mut();
            for u in &chat.users {
                st.names.insert(u.id.clone(), display_name(u));
            }
            if let Some(t) = chat.threads.last() {
                st.last_thread = Some(t.id.clone());
            }
            st.history_done = true;
            st.thread_closed = false;
            st.chat = Some(chat.id.clone());
        }
        self.set_active(true);
        text(&self.ui.history_top, "");
        Ok(chat.id)
    }

    /// The server no longer knows the widget's chat: forget it (the next message starts a
    /// new one).
    fn forget_chat(&self, chat: &ChatId) {
        let mut st = self.st.borrow_mut();
        if st.chat.as_ref() == Some(chat) {
            st.chat = None;
            st.history = None;
            st.history_done = true;
            st.last_thread = None;
            st.agents.clear();
            st.thread_closed = false;
        }
        drop(st);
        self.show_agents();
    }

    fn send(self: &Rc<Self>) {
        let message = self.ui.input.value().trim().to_owned();
        if message.is_empty() {
            return;
        }
        self.ui.input.set_value("");
        let closed = std::mem::take(&mut self.st.borrow_mut().thread_closed);
        let row = (|| {
            if closed {
                self.append_line("A new thread started", "divider")?;
            }
            let row =
                self.row(&Item { who: Who::Me, author: "You".into(), body: Body::Text(message.clone()) }, None)?;
            row.class_list().add_1("pending")?;
            self.set_meta(&row, None, Some("Sending…"))?;
            self.append(&row)?;
            self.scroll_to_bottom();
            Ok::<_, JsValue>(row)
        })();
        match row {
            Ok(row) => spawn_local(self.clone().deliver(message, row)),
            Err(e) => {
                self.ui.input.set_value(&message);
                self.show_error(&format!("The message could not be shown ({}); it was not sent.", dom::js_text(&e)));
            }
        }
    }

    async fn send_once(self: &Rc<Self>, message: &str) -> Result<Event, Error> {
        let chat = self.ensure_chat().await?;
        match self.sdk.send_message(&chat, message.to_owned()).await {
            Err(e) if view::is_unknown_chat(&e) => {
                // The server forgot the chat (a restart without its data): a new chat
                // takes the message.
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "chatio: the chat is unknown to the server, starting a new one ({})",
                    view::error_detail(&e)
                )));
                self.forget_chat(&chat);
                let _ = self.append_line("A new chat started", "divider");
                let chat = self.ensure_chat().await?;
                self.sdk.send_message(&chat, message.to_owned()).await
            }
            other => other,
        }
    }

    /// Sends `message`, shown as `row`; on failure the row keeps its text and offers a retry.
    async fn deliver(self: Rc<Self>, message: String, row: Element) {
        let _ = row.class_list().remove_1("failed");
        let _ = row.class_list().add_1("pending");
        if let Ok(Some(note)) = row.query_selector(".failed-note") {
            note.remove();
        }
        let _ = self.set_meta(&row, None, Some("Sending…"));
        let sent = self.send_once(&message).await;
        let _ = row.class_list().remove_1("pending");
        match sent {
            Ok(ev) => {
                let _ = row.set_attribute("data-event", ev.id.as_str());
                let _ = self.set_meta(&row, Some(ev.timestamp), None);
                let mut st = self.st.borrow_mut();
                st.shown.insert(ev.id.clone());
                if ev.thread.is_some() {
                    st.last_thread = ev.thread;
                }
            }
            Err(e) => {
                if let Err(js) = self.mark_failed(&row, &message, &e) {
                    self.show_error(&format!("{} ({})", view::error_text(&e), dom::js_text(&js)));
                }
            }
        }
    }

    /// A message that was not sent: its text stays, with the reason and a retry button.
    fn mark_failed(self: &Rc<Self>, row: &Element, message: &str, e: &Error) -> Js {
        web_sys::console::warn_1(&JsValue::from_str(&format!(
            "chatio: a message was not sent: {}",
            view::error_detail(e)
        )));
        row.class_list().add_1("failed")?;
        self.set_meta(row, Some(now()), Some("Not sent"))?;
        let note = el(&self.doc, "div", "failed-note", None)?;
        note.set_attribute("role", "alert")?;
        dom::add(&note, &el(&self.doc, "span", "", Some(&view::error_text(e)))?)?;
        let retry = el(&self.doc, "button", "retry", Some("Retry"))?;
        retry.set_attribute("type", "button")?;
        note.append_child(&retry)?;
        row.append_child(&note)?;
        let app = self.clone();
        let (row, message) = (row.clone(), message.to_owned());
        let cb = Closure::once_into_js(move |_: web_sys::Event| {
            spawn_local(app.deliver(message, row));
        });
        retry.add_event_listener_with_callback("click", cb.unchecked_ref())?;
        if self.stuck.get() {
            self.scroll_to_bottom();
        }
        Ok(())
    }

    /// What the customer types reaches the agent before it is sent (sneak peek); the core
    /// throttles it.
    fn sneak_peek(&self) {
        let chat = self.st.borrow().chat.clone();
        let Some(chat) = chat else { return };
        let typed = self.ui.input.value();
        if typed.trim().is_empty() || typed.starts_with('/') {
            return;
        }
        if let Err(e) = self.sdk.set_sneak_peek(&chat, &typed) {
            web_sys::console::warn_1(&JsValue::from_str(&view::error_detail(&e)));
        }
    }

    /// A pasted file (an image from the clipboard) is sent like a chosen one.
    fn pasted(self: &Rc<Self>, e: &web_sys::Event) {
        let file = e
            .dyn_ref::<web_sys::ClipboardEvent>()
            .and_then(web_sys::ClipboardEvent::clipboard_data)
            .and_then(|d| d.files())
            .and_then(|l| l.get(0));
        if let Some(f) = file {
            e.prevent_default();
            self.pick_file(f);
        }
    }

    fn pick_file(self: &Rc<Self>, file: web_sys::File) {
        if self.st.borrow().upload.is_some() {
            return self.show_error("Another file is being sent; wait for it or cancel it first.");
        }
        // `size()` is a non-negative whole number of bytes.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let size = file.size() as u64;
        if size > view::MAX_FILE_SIZE {
            return self.show_error(&view::too_big(&file.name(), size));
        }
        spawn_local(self.clone().upload(file));
    }

    fn set_progress(&self, fraction: f64) {
        let pct = view::percent(fraction);
        self.ui.upload_bar.set_value(f64::from(pct));
        text(&self.ui.upload_pct, &format!("{pct} %"));
    }

    async fn upload(self: Rc<Self>, file: web_sys::File) {
        let name = file.name();
        text(&self.ui.upload_name, &name);
        text(&self.ui.upload_state, "Reading…");
        self.set_progress(0.0);
        show(&self.ui.upload_cancel, true);
        show(&self.ui.upload, true);
        let outcome = self.upload_inner(&file, &name).await;
        self.st.borrow_mut().upload = None;
        show(&self.ui.upload_cancel, false);
        match outcome {
            Ok(url) => {
                self.set_progress(1.0);
                text(&self.ui.upload_state, "Sent");
                let first = self.st.borrow_mut().sent_files.insert(url.clone());
                if first {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let size = file.size() as u64;
                    let item = Item {
                        who: Who::Me,
                        author: "You".into(),
                        body: Body::File {
                            name,
                            url: view::safe_url(&url),
                            size: view::bytes_text(size),
                            image: file.type_().starts_with("image/"),
                        },
                    };
                    if let Err(e) = self.row(&item, Some(now())).and_then(|row| self.append(&row)) {
                        self.show_error(&format!("The sent file could not be shown ({}).", dom::js_text(&e)));
                    }
                }
                // The bar goes once the visitor has seen it finish.
                sleep(1500).await;
                if self.st.borrow().upload.is_none() {
                    show(&self.ui.upload, false);
                }
            }
            Err(Error::Cancelled) => text(&self.ui.upload_state, "Cancelled"),
            Err(e) => {
                text(&self.ui.upload_state, "Failed");
                self.show_error_of(&e);
            }
        }
    }

    async fn upload_inner(self: &Rc<Self>, file: &web_sys::File, name: &str) -> Result<String, Error> {
        let chat = self.ensure_chat().await?;
        let buffer = JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| Error::InvalidArgs { reason: format!("the file could not be read: {}", dom::js_text(&e)) })?;
        let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
        let mut f = File::bytes(name.to_owned(), bytes);
        let content_type = file.type_();
        if !content_type.is_empty() {
            f = f.content_type(content_type);
        }
        let (tx, mut rx) = mpsc::unbounded::<f64>();
        let upload = self
            .sdk
            .send_file(&chat, f)
            .on_progress(move |p| {
                let _ = tx.unbounded_send(p);
            })
            .start();
        self.st.borrow_mut().upload = Some(upload.canceller());
        text(&self.ui.upload_state, "Sending…");
        let app = self.clone();
        spawn_local(async move {
            while let Some(p) = rx.next().await {
                app.set_progress(p);
            }
        });
        upload.await
    }

    async fn load_history(self: Rc<Self>, why: Load) {
        let initial = why == Load::Initial;
        let chat = {
            let mut st = self.st.borrow_mut();
            if st.history_loading || st.history_done {
                return;
            }
            let Some(chat) = st.chat.clone() else { return };
            st.history_loading = true;
            chat
        };
        text(&self.ui.history_top, "Loading older messages…");
        let cursor = self.st.borrow_mut().history.take();
        let cursor = match cursor {
            Some(c) => Ok(c),
            None => self.sdk.chat_history(&chat).await,
        };
        let page = match cursor {
            Ok(mut c) => {
                let page = c.next_page().await;
                self.st.borrow_mut().history = Some(c);
                page
            }
            Err(e) => Err(e),
        };
        let loaded = page.is_ok();
        // What loaded the pages so far, for tests and curious readers: `initial fill scroll...`.
        let log = self.ui.history_top.get_attribute("data-loads").unwrap_or_default();
        let _ = self.ui.history_top.set_attribute("data-loads", format!("{log} {why:?}").trim());
        match page {
            Ok(page) => {
                let before = self.ui.messages.scroll_height() - self.ui.messages.scroll_top();
                if let Err(e) = self.prepend(&page.events) {
                    self.show_error(&format!("Older messages could not be shown ({}).", dom::js_text(&e)));
                }
                if initial {
                    self.scroll_to_bottom();
                } else {
                    self.ui.messages.set_scroll_top(self.ui.messages.scroll_height() - before);
                }
                self.st.borrow_mut().history_done = page.done;
                text(
                    &self.ui.history_top,
                    if page.done {
                        "This is the beginning of the conversation."
                    } else {
                        "Scroll up for older messages."
                    },
                );
            }
            Err(e) if view::is_unknown_chat(&e) => {
                self.forget_chat(&chat);
                text(&self.ui.history_top, "");
            }
            Err(e) => {
                text(&self.ui.history_top, "Older messages could not be loaded; scroll up to try again.");
                if !view::is_connection_error(&e) {
                    self.show_error_of(&e);
                }
            }
        }
        self.st.borrow_mut().history_loading = false;
        // Until the list can scroll, there is no scroll-up to ask for more: fill it.
        let m = &self.ui.messages;
        if loaded && !self.st.borrow().history_done && m.scroll_height() <= m.client_height() + 40 {
            spawn_local(self.clone().load_history(Load::Fill));
        }
    }

    /// Older events, ascending, above the rows shown (outside the live region, so that
    /// screen readers do not read history out); a divider where the thread changes.
    fn prepend(&self, events: &[Event]) -> Js {
        let anchor = self.ui.older.first_child();
        {
            // The first page ends with the current thread.
            let mut st = self.st.borrow_mut();
            if st.last_thread.is_none() {
                st.last_thread = events.last().and_then(|e| e.thread.clone());
            }
        }
        let mut prev: Option<ThreadId> = None;
        for event in events {
            if !self.st.borrow_mut().shown.insert(event.id.clone()) {
                continue;
            }
            if prev.is_some() && event.thread.is_some() && event.thread != prev {
                let divider = el(&self.doc, "div", "line divider", Some("A new thread started"))?;
                self.ui.older.insert_before(&divider, anchor.as_ref())?;
            }
            prev.clone_from(&event.thread);
            let (row, _) = self.render(event)?;
            self.ui.older.insert_before(&row, anchor.as_ref())?;
        }
        // Between this page and the rows below it.
        if let (Some(p), Some(next)) = (prev, anchor.and_then(|a| a.dyn_into::<Element>().ok())) {
            if next.get_attribute("data-thread").is_some_and(|t| t != p.as_str()) {
                let divider = el(&self.doc, "div", "line divider", Some("A new thread started"))?;
                self.ui.older.insert_before(&divider, Some(&next))?;
            }
        }
        Ok(())
    }

    fn clicked_in_messages(self: &Rc<Self>, e: &web_sys::Event) {
        let Some(target) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else { return };
        let Ok(Some(button)) = target.closest("button[data-postback]") else { return };
        let Ok(Some(row)) = button.closest("[data-event]") else { return };
        let (Some(postback), Some(event)) = (button.get_attribute("data-postback"), row.get_attribute("data-event"))
        else {
            return;
        };
        let thread =
            row.get_attribute("data-thread").map(ThreadId::new).or_else(|| self.st.borrow().last_thread.clone());
        let chat = self.st.borrow().chat.clone();
        let (Some(chat), Some(thread)) = (chat, thread) else {
            return self.show_error("This card cannot be answered any more.");
        };
        let toggled = button.get_attribute("aria-pressed").as_deref() != Some("true");
        let app = self.clone();
        spawn_local(async move {
            let event = EventId::new(event);
            let pb = Postback::new(postback, toggled);
            match app.sdk.send_rich_message_postback(&chat, &thread, &event, pb.clone()).await {
                Ok(()) => app.mark_postback(&event, &pb),
                Err(e) => app.show_error_of(&e),
            }
        });
    }

    fn mark_postback(&self, event: &EventId, postback: &Postback) {
        let Ok(buttons) = self.ui.messages.query_selector_all("[data-event] button[data-postback]") else { return };
        for i in 0..buttons.length() {
            let Some(b) = buttons.item(i).and_then(|n| n.dyn_into::<Element>().ok()) else { continue };
            let same_event = b
                .closest("[data-event]")
                .ok()
                .flatten()
                .and_then(|r| r.get_attribute("data-event"))
                .is_some_and(|id| id == event.as_str());
            if same_event && b.get_attribute("data-postback").as_deref() == Some(postback.id.as_str()) {
                let _ = b.set_attribute("aria-pressed", if postback.toggled { "true" } else { "false" });
            }
        }
    }

    async fn rate(self: Rc<Self>, rating: Rating) {
        let chat = self.st.borrow().chat.clone();
        let Some(chat) = chat else {
            return text(&self.ui.rating_state, "Write a message first.");
        };
        text(&self.ui.rating_state, "Sending…");
        let good = matches!(rating, Rating::Good);
        match self.sdk.send_rating(&chat, rating, None).await {
            Ok(()) => {
                let _ = self.ui.rate_good.set_attribute("aria-pressed", if good { "true" } else { "false" });
                let _ = self.ui.rate_bad.set_attribute("aria-pressed", if good { "false" } else { "true" });
                text(&self.ui.rating_state, "Thanks for rating");
            }
            Err(e) => {
                text(&self.ui.rating_state, "");
                self.show_error_of(&e);
            }
        }
    }

    /// End chat asks first (a bar with the two choices); focus goes to its first button.
    fn ask_end(&self) {
        if self.st.borrow().chat.is_none() || self.st.borrow().thread_closed {
            return text(&self.ui.rating_state, "There is no chat going on.");
        }
        show(&self.ui.close_thread, false);
        show(&self.ui.confirm_end, true);
        if let Some(b) =
            self.doc.get_element_by_id("confirm-end-yes").and_then(|b| b.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = b.focus();
        }
    }

    async fn close_thread(self: Rc<Self>) {
        show(&self.ui.confirm_end, false);
        show(&self.ui.close_thread, true);
        let chat = self.st.borrow().chat.clone();
        let Some(chat) = chat else { return };
        match self.sdk.close_thread(&chat).await {
            Ok(()) => self.thread_closed("You"),
            Err(e) => self.show_error_of(&e),
        }
        let _ = self.ui.input.focus();
    }

    /// The thread is closed (by `by`): said once in the list; the next message opens a new one.
    fn thread_closed(&self, by: &str) {
        let already = std::mem::replace(&mut self.st.borrow_mut().thread_closed, true);
        show(&self.ui.typing, false);
        self.set_active(false);
        if already {
            return;
        }
        let msg = if by == "You" {
            "You ended the chat. Rate it below, or write a message to start a new one.".to_owned()
        } else {
            format!("The chat was closed by {by}. Rate it below, or write a message to start a new one.")
        };
        let _ = self.append_line(&msg, "closed");
    }
}

/// The chat an event is about, for the events the widget shows per chat.
fn chat_of(ev: &SdkEvent) -> Option<&ChatId> {
    match ev {
        SdkEvent::NewEvent { chat, .. }
        | SdkEvent::UserJoinedChat { chat, .. }
        | SdkEvent::UserLeftChat { chat, .. }
        | SdkEvent::UserIsTyping { chat, .. }
        | SdkEvent::UserStoppedTyping { chat, .. }
        | SdkEvent::ThreadClosed { chat, .. } => Some(chat),
        _ => None,
    }
}

/// Names and present agents from a chat's users.
fn learn_users(st: &mut State, users: &[User]) {
    for u in users {
        if u.name.is_some() || !st.names.contains_key(&u.id) {
            st.names.insert(u.id.clone(), display_name(u));
        }
        if u.is_agent() && u.present != Some(false) && !st.agents.contains(&u.id) {
            st.agents.push(u.id.clone());
        }
    }
}

fn display_name(u: &User) -> String {
    match &u.name {
        Some(n) if !n.trim().is_empty() => n.clone(),
        _ if u.is_agent() => "Agent".into(),
        _ => "Customer".into(),
    }
}
