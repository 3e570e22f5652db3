//! The widget itself: finds the page's elements, starts one SDK session, turns SDK events
//! into DOM updates and the customer's clicks and keys into SDK calls.
//!
//! Single-threaded (the browser's event loop): state is an `Rc<App>` with a `RefCell`,
//! never borrowed across an `.await`. Every failure ends as readable text in the error bar
//! (or the page's fallback text when the widget cannot start); nothing here panics.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use chatio_customer_sdk::{
    Canceller, ChatHistory, ChatId, Config, CustomerSdk, Error, Event, EventId, Events, File, Postback, Rating,
    SdkEvent, StartChat, ThreadId, TokenSource, User, UserId,
};
use futures::StreamExt;
use futures::channel::mpsc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{JsFuture, spawn_local};
use web_sys::{Document, Element, HtmlInputElement, HtmlProgressElement, UrlSearchParams};

use crate::dom::{self, Js, by_id, cast, el, show, text};
use crate::view::{self, Body, Item, Who};

/// The page's elements the widget uses (see `assets/index.html`).
struct Ui {
    status: Element,
    banner: Element,
    error: Element,
    error_text: Element,
    agents: Element,
    messages: Element,
    history_top: Element,
    typing: Element,
    upload: Element,
    upload_name: Element,
    upload_bar: HtmlProgressElement,
    upload_pct: Element,
    upload_state: Element,
    upload_cancel: Element,
    rating_state: Element,
    input: HtmlInputElement,
    file: HtmlInputElement,
}

impl Ui {
    fn find(doc: &Document) -> Js<Self> {
        Ok(Self {
            status: by_id(doc, "status")?,
            banner: by_id(doc, "banner")?,
            error: by_id(doc, "error")?,
            error_text: by_id(doc, "error-text")?,
            agents: by_id(doc, "agents")?,
            messages: by_id(doc, "messages")?,
            history_top: by_id(doc, "history-top")?,
            typing: by_id(doc, "typing")?,
            upload: by_id(doc, "upload")?,
            upload_name: by_id(doc, "upload-name")?,
            upload_bar: cast(by_id(doc, "upload-progress")?, "upload-progress")?,
            upload_pct: by_id(doc, "upload-pct")?,
            upload_state: by_id(doc, "upload-state")?,
            upload_cancel: by_id(doc, "upload-cancel")?,
            rating_state: by_id(doc, "rating-state")?,
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
    storage_key: String,
}

/// The running widget.
struct App {
    doc: Document,
    sdk: CustomerSdk,
    ui: Ui,
    st: RefCell<State>,
    chat_lock: futures::lock::Mutex<()>,
}

/// Starts the widget on the current page. Errors that prevent it from starting are written
/// into the page.
pub fn start() {
    install_panic_note();
    let Some(window) = web_sys::window() else { return };
    let Some(doc) = window.document() else { return };
    if let Err(e) = run(&window, doc.clone()) {
        fatal(&doc, &format!("The chat widget could not start: {}", dom::js_text(&e)));
    }
}

/// A panic is a bug: it is logged and told to the customer (the session is gone with it).
fn install_panic_note() {
    std::panic::set_hook(Box::new(|info| {
        let msg = format!("The chat widget stopped because of a bug: {info}");
        web_sys::console::error_1(&JsValue::from_str(&msg));
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            fatal(&doc, &msg);
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

fn run(window: &web_sys::Window, doc: Document) -> Js {
    let ui = Ui::find(&doc)?;
    let location = window.location();
    let origin = location.origin()?;
    let params = UrlSearchParams::new_with_str(&location.search()?)?;
    let license: u64 = params.get("license").and_then(|s| s.parse().ok()).unwrap_or(100);
    let history: u64 = params.get("history").and_then(|s| s.parse().ok()).unwrap_or(50);
    let server = params.get("server").unwrap_or_else(|| origin.clone());
    let storage_key = format!("chatio-widget.{license}.customer_id");
    let storage = window.local_storage().ok().flatten();
    let known =
        if params.has("new") { None } else { storage.as_ref().and_then(|s| s.get_item(&storage_key).ok().flatten()) };
    let mut config = Config::new(license, "chatio-widget")
        .server(server)
        .redirect_uri(format!("{origin}/widget/"))
        .history_page_events(history);
    if let Some(id) = known {
        config = config.token(TokenSource::AccountsFor(UserId::new(id)));
    }
    let sdk = CustomerSdk::init(config).map_err(|e| JsValue::from_str(&view::error_text(&e)))?;
    let events = sdk.events();
    let app = Rc::new(App {
        doc,
        sdk,
        ui,
        st: RefCell::new(State { storage_key, ..State::default() }),
        chat_lock: futures::lock::Mutex::new(()),
    });
    app.set_status("connecting", "Connecting…");
    app.bind()?;
    spawn_local(app.clone().event_loop(events));
    Ok(())
}

/// Adds an event listener for the page's lifetime.
fn on(target: &Element, kind: &str, f: impl FnMut(web_sys::Event) + 'static) -> Js {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    target.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref())?;
    cb.forget();
    Ok(())
}

impl App {
    fn bind(self: &Rc<Self>) -> Js {
        let app = self.clone();
        on(&by_id(&self.doc, "composer")?, "submit", move |e| {
            e.prevent_default();
            app.send();
        })?;
        let app = self.clone();
        on(&by_id(&self.doc, "input")?, "input", move |_| app.sneak_peek())?;
        let app = self.clone();
        on(&by_id(&self.doc, "file")?, "change", move |_| app.pick_file())?;
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
            if app.ui.messages.scroll_top() < 40 {
                spawn_local(app.clone().load_history(Load::Scroll));
            }
        })?;
        let app = self.clone();
        on(&self.ui.messages, "click", move |e| app.clicked_in_messages(&e))?;
        let app = self.clone();
        on(&by_id(&self.doc, "rate-good")?, "click", move |_| spawn_local(app.clone().rate(Rating::Good)))?;
        let app = self.clone();
        on(&by_id(&self.doc, "rate-bad")?, "click", move |_| spawn_local(app.clone().rate(Rating::Bad)))?;
        let app = self.clone();
        on(&by_id(&self.doc, "close-thread")?, "click", move |_| spawn_local(app.clone().close_thread()))?;
        let app = self.clone();
        on(&by_id(&self.doc, "error-close")?, "click", move |_| show(&app.ui.error, false))?;
        Ok(())
    }

    async fn event_loop(self: Rc<Self>, mut events: Events) {
        while let Some(ev) = events.next().await {
            self.on_event(ev);
        }
        self.set_status("ended", "Session ended");
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
            SdkEvent::Connected { chats_summary, .. } => {
                self.set_status("connected", "Connected");
                self.banner(None);
                let first = chats_summary.into_iter().next();
                let load = {
                    let mut st = self.st.borrow_mut();
                    match first {
                        Some(summary) if st.chat.is_none() => {
                            for u in &summary.users {
                                st.names.insert(u.id.clone(), display_name(u));
                                if u.is_agent() && u.present != Some(false) && !st.agents.contains(&u.id) {
                                    st.agents.push(u.id.clone());
                                }
                            }
                            st.chat = Some(summary.id);
                            true
                        }
                        _ => false,
                    }
                };
                self.show_agents();
                if load {
                    spawn_local(self.clone().load_history(Load::Initial));
                } else {
                    text(&self.ui.history_top, "");
                }
            }
            SdkEvent::ConnectionLost => {
                self.set_status("reconnecting", "Reconnecting…");
                self.banner(Some("Connection lost. Reconnecting…"));
            }
            SdkEvent::Reconnecting { attempt, delay } => {
                self.set_status("reconnecting", "Reconnecting…");
                self.banner(Some(&view::reconnecting_text(attempt, delay)));
            }
            SdkEvent::ConnectionRestored { .. } => {
                self.set_status("connected", "Connected");
                self.banner(None);
            }
            SdkEvent::CustomerId(id) => {
                let key = self.st.borrow().storage_key.clone();
                if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
                    let _ = s.set_item(&key, id.as_str());
                }
                self.st.borrow_mut().me = Some(id);
            }
            SdkEvent::Disconnected { reason } => {
                self.set_status("disconnected", "Disconnected");
                self.banner(Some(&format!("The server closed the connection: {reason}.")));
            }
            SdkEvent::UserData(user) => {
                self.st.borrow_mut().names.insert(user.id.clone(), display_name(&user));
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
                let by = match &user {
                    Some(u) if self.st.borrow().me.as_ref() == Some(u) => "you".to_owned(),
                    Some(u) => self.name(u),
                    None => "the server".to_owned(),
                };
                self.st.borrow_mut().thread_closed = true;
                show(&self.ui.typing, false);
                let _ = self.append_line(
                    &format!("The chat was closed by {by}. Rate it below, or write a message to start a new one."),
                    "closed",
                );
            }
            SdkEvent::RichMessagePostback { event, postback, .. } => self.mark_postback(&event, &postback),
            SdkEvent::Error(e) => self.show_error(&view::error_text(&e)),
            _ => {}
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

    fn set_status(&self, class: &str, label: &str) {
        self.ui.status.set_class_name(&format!("status {class}"));
        text(&self.ui.status, label);
    }

    fn banner(&self, msg: Option<&str>) {
        text(&self.ui.banner, msg.unwrap_or(""));
        show(&self.ui.banner, msg.is_some());
    }

    fn show_error(&self, msg: &str) {
        web_sys::console::warn_1(&JsValue::from_str(msg));
        text(&self.ui.error_text, msg);
        show(&self.ui.error, true);
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
    }

    fn append(&self, row: &Element) -> Js {
        let stick = self.near_bottom();
        self.ui.messages.append_child(row)?;
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
            let row = self.render(event)?;
            self.append(&row)
        })();
        if let Err(e) = result {
            self.show_error(&format!("An event could not be shown: {}", dom::js_text(&e)));
        }
    }

    /// The row of an SDK event.
    fn render(&self, event: &Event) -> Js<Element> {
        let item = {
            let st = self.st.borrow();
            let name = |id: &UserId| st.names.get(id).cloned().unwrap_or_else(|| "Agent".into());
            view::item(event, st.me.as_ref(), &name)
        };
        let row = self.row(&item)?;
        row.set_attribute("data-event", event.id.as_str())?;
        if let Some(t) = &event.thread {
            row.set_attribute("data-thread", t.as_str())?;
        }
        Ok(row)
    }

    /// The row of an item: `div.row.me|other|system > div.bubble > (author, body)`.
    fn row(&self, item: &Item) -> Js<Element> {
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
                dom::add(&bubble, &el(&self.doc, "div", "text", Some(t))?)?;
            }
            Body::System(t) | Body::Note(t) => {
                dom::add(&bubble, &el(&self.doc, "div", "text note", Some(t))?)?;
            }
            Body::File { name, url, size, image } => {
                let file = el(&self.doc, "div", "file", None)?;
                if let (true, Some(u)) = (image, url) {
                    let img = el(&self.doc, "img", "thumb", None)?;
                    img.set_attribute("src", u)?;
                    img.set_attribute("alt", name)?;
                    file.append_child(&img)?;
                }
                let link = el(&self.doc, if url.is_some() { "a" } else { "span" }, "file-link", Some(name))?;
                if let Some(u) = url {
                    link.set_attribute("href", u)?;
                    link.set_attribute("target", "_blank")?;
                    link.set_attribute("rel", "noopener")?;
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
                        dom::add(&c, &el(&self.doc, "div", "card-title", Some(t))?)?;
                    }
                    if let Some(t) = &card.subtitle {
                        dom::add(&c, &el(&self.doc, "div", "card-subtitle", Some(t))?)?;
                    }
                    let buttons = el(&self.doc, "div", "card-buttons", None)?;
                    for b in &card.buttons {
                        let btn = el(
                            &self.doc,
                            "button",
                            if b.chosen { "postback chosen" } else { "postback" },
                            Some(&b.text),
                        )?;
                        btn.set_attribute("type", "button")?;
                        btn.set_attribute("data-postback", &b.postback_id)?;
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
                    dom::add(&form, &el(&self.doc, "dd", "", Some(value))?)?;
                }
                dom::add(&bubble, &el(&self.doc, "div", "text note", Some("Form"))?)?;
                bubble.append_child(&form)?;
            }
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
            st.chat = Some(chat.id.clone());
        }
        text(&self.ui.history_top, "");
        Ok(chat.id)
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
            let row = self.row(&Item { who: Who::Me, author: "You".into(), body: Body::Text(message.clone()) })?;
            row.class_list().add_1("pending")?;
            self.append(&row)?;
            self.scroll_to_bottom();
            Ok::<_, JsValue>(row)
        })();
        let row = match row {
            Ok(r) => r,
            Err(e) => return self.show_error(&dom::js_text(&e)),
        };
        let app = self.clone();
        spawn_local(async move {
            let sent = match app.ensure_chat().await {
                Ok(chat) => app.sdk.send_message(&chat, message).await,
                Err(e) => Err(e),
            };
            let _ = row.class_list().remove_1("pending");
            match sent {
                Ok(ev) => {
                    let _ = row.set_attribute("data-event", ev.id.as_str());
                    let mut st = app.st.borrow_mut();
                    st.shown.insert(ev.id.clone());
                    if ev.thread.is_some() {
                        st.last_thread = ev.thread;
                    }
                }
                Err(e) => {
                    let msg = view::error_text(&e);
                    let _ = row.class_list().add_1("failed");
                    if let Ok(note) = el(&app.doc, "div", "failed-note", Some(&format!("Not sent. {msg}"))) {
                        let _ = row.append_child(&note);
                    }
                    app.show_error(&msg);
                }
            }
        });
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
            web_sys::console::warn_1(&JsValue::from_str(&view::error_text(&e)));
        }
    }

    fn pick_file(self: &Rc<Self>) {
        let Some(file) = self.ui.file.files().and_then(|l| l.get(0)) else { return };
        self.ui.file.set_value("");
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
                if !self.st.borrow_mut().sent_files.insert(url.clone()) {
                    return; // its `new_event` came first and is shown
                }
                let item = Item {
                    who: Who::Me,
                    author: "You".into(),
                    body: Body::File {
                        name,
                        url: view::safe_url(&url),
                        size: view::bytes_text(file.size() as u64),
                        image: file.type_().starts_with("image/"),
                    },
                };
                if let Err(e) = self.row(&item).and_then(|row| self.append(&row)) {
                    self.show_error(&dom::js_text(&e));
                }
            }
            Err(Error::Cancelled) => text(&self.ui.upload_state, "Cancelled"),
            Err(e) => {
                let msg = view::error_text(&e);
                text(&self.ui.upload_state, "Failed");
                self.show_error(&msg);
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
                    self.show_error(&dom::js_text(&e));
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
            Err(e) => {
                text(&self.ui.history_top, "Older messages could not be loaded; scroll up to try again.");
                self.show_error(&view::error_text(&e));
            }
        }
        self.st.borrow_mut().history_loading = false;
        // Until the list can scroll, there is no scroll-up to ask for more: fill it.
        let m = &self.ui.messages;
        if loaded && !self.st.borrow().history_done && m.scroll_height() <= m.client_height() + 40 {
            spawn_local(self.clone().load_history(Load::Fill));
        }
    }

    /// Older events, ascending, above the rows shown; a divider where the thread changes.
    fn prepend(&self, events: &[Event]) -> Js {
        let anchor = self.ui.history_top.next_sibling();
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
                self.ui.messages.insert_before(&divider, anchor.as_ref())?;
            }
            prev.clone_from(&event.thread);
            let row = self.render(event)?;
            self.ui.messages.insert_before(&row, anchor.as_ref())?;
        }
        // Between this page and the rows below it.
        if let (Some(p), Some(next)) = (prev, anchor.and_then(|a| a.dyn_into::<Element>().ok())) {
            if next.get_attribute("data-thread").is_some_and(|t| t != p.as_str()) {
                let divider = el(&self.doc, "div", "line divider", Some("A new thread started"))?;
                self.ui.messages.insert_before(&divider, Some(&next))?;
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
            return self.show_error("This card cannot be answered: its chat is unknown.");
        };
        let toggled = !button.class_list().contains("chosen");
        let app = self.clone();
        spawn_local(async move {
            let event = EventId::new(event);
            let pb = Postback::new(postback, toggled);
            match app.sdk.send_rich_message_postback(&chat, &thread, &event, pb.clone()).await {
                Ok(()) => app.mark_postback(&event, &pb),
                Err(e) => app.show_error(&view::error_text(&e)),
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
                let _ = b.class_list().toggle_with_force("chosen", postback.toggled);
            }
        }
    }

    async fn rate(self: Rc<Self>, rating: Rating) {
        let chat = self.st.borrow().chat.clone();
        let Some(chat) = chat else {
            return text(&self.ui.rating_state, "Start a chat first.");
        };
        text(&self.ui.rating_state, "Sending…");
        let thanks = if matches!(rating, Rating::Good) { "Thanks for rating: good" } else { "Thanks for rating: bad" };
        match self.sdk.send_rating(&chat, rating, None).await {
            Ok(()) => text(&self.ui.rating_state, thanks),
            Err(e) => {
                text(&self.ui.rating_state, "");
                self.show_error(&view::error_text(&e));
            }
        }
    }

    async fn close_thread(self: Rc<Self>) {
        let chat = self.st.borrow().chat.clone();
        let Some(chat) = chat else { return };
        if let Err(e) = self.sdk.close_thread(&chat).await {
            self.show_error(&view::error_text(&e));
        }
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

fn display_name(u: &User) -> String {
    match &u.name {
        Some(n) if !n.trim().is_empty() => n.clone(),
        _ if u.is_agent() => "Agent".into(),
        _ => "Customer".into(),
    }
}
