//! The page's DOM side: one `Rc<App>` holding the elements and a `RefCell` state that is
//! never borrowed across an `.await`; the SDK (cheap to clone) is cloned out of it for each
//! call. Text goes into the page only as text (`textContent`), never as HTML.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use chatio_agent_sdk::model::{ChatView, Event, User};
use chatio_agent_sdk::{
    AgentEvent, AgentSdk, AgentToken, ChatId, Config, Error, EventId, ImageFile, RoutingStatus, UserId,
};
use futures::StreamExt;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::spawn_local;
use web_sys::{
    Document, Element, HtmlButtonElement, HtmlElement, HtmlFieldSetElement, HtmlFormElement, HtmlInputElement,
    HtmlTextAreaElement,
};

use crate::typing::{Signal, Typing};
use crate::view::{self, Side};

/// A result of DOM work; failures are reported to the console, never panics.
type Js<T = ()> = Result<T, JsValue>;

/// Starts the page: enables the sign-in form (disabled until the wasm runs, so a token can
/// never be submitted the browser's way) and wires the controls.
pub fn start() {
    if let Err(e) = App::new().and_then(App::wire) {
        web_sys::console::error_2(&JsValue::from_str("chatio agent page: could not start:"), &e);
    }
}

/// The elements the page works with (ids of `assets/index.html`).
struct Ui {
    status: Element,
    sign_out: HtmlButtonElement,
    signin_view: Element,
    signin: HtmlFormElement,
    signin_fields: HtmlFieldSetElement,
    token: HtmlInputElement,
    signin_error: Element,
    console: Element,
    accepting: HtmlInputElement,
    waiting: Element,
    waiting_count: Element,
    waiting_empty: Element,
    mine: Element,
    mine_empty: Element,
    chat_title: Element,
    typing: Element,
    log: Element,
    composer: HtmlFormElement,
    reply: HtmlTextAreaElement,
    picture: HtmlInputElement,
    chat_actions: Element,
    close_chat: HtmlButtonElement,
    to_queue: HtmlButtonElement,
    ban: HtmlButtonElement,
    ban_days: web_sys::HtmlSelectElement,
    error: Element,
    visitor: Element,
    visitor_facts: Element,
    visitor_pages: Element,
    visitor_pages_empty: Element,
}

/// What the page knows besides the SDK's own state.
#[derive(Default)]
struct State {
    sdk: Option<AgentSdk>,
    /// The session's access token, in memory only, to revoke it at Sign out.
    token: Option<String>,
    /// Counts sign-ins: an event loop of an older session stops touching the page.
    generation: u64,
    me: Option<UserId>,
    current: Option<ChatId>,
    /// Whether the current chat's thread is open, as last drawn.
    current_active: bool,
    names: HashMap<UserId, String>,
    /// The last thing a person said in each chat, for the lists' previews.
    said: HashMap<ChatId, Event>,
    /// Events already on the log of the current chat (an event comes as the answer to a
    /// send and may come as a push too).
    shown: HashSet<EventId>,
    /// Whether the visitor was told the agent is typing.
    typing: Typing,
    /// Whether a task checks for the end of the agent's typing.
    typing_watched: bool,
}

struct App {
    doc: Document,
    ui: Ui,
    state: RefCell<State>,
}

fn by_id<T: JsCast>(doc: &Document, id: &str) -> Js<T> {
    doc.get_element_by_id(id)
        .ok_or_else(|| JsValue::from_str(&format!("the page has no element #{id}")))?
        .dyn_into::<T>()
        .map_err(|_| JsValue::from_str(&format!("#{id} is not the expected kind of element")))
}

fn show(e: &Element, visible: bool) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        h.set_hidden(!visible);
    }
}

fn el(doc: &Document, tag: &str, class: &str, text: Option<&str>) -> Js<Element> {
    let e = doc.create_element(tag)?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if let Some(t) = text {
        e.set_text_content(Some(t));
    }
    Ok(e)
}

fn add(parent: &Element, child: &Element) -> Js {
    parent.append_child(child).map(drop)
}

/// Listens for `kind` on `target` for the page's lifetime.
fn on(target: &web_sys::EventTarget, kind: &str, f: impl FnMut(web_sys::Event) + 'static) -> Js {
    let cb = Closure::<dyn FnMut(web_sys::Event)>::new(f);
    target.add_event_listener_with_callback(kind, cb.as_ref().unchecked_ref())?;
    cb.forget(); // ok: the page's controls live as long as the page
    Ok(())
}

/// The server this page talks to: its `chatio-server` meta tag (set at build time for a
/// copy on another host), else its own origin. Never from the URL: a link cannot send a
/// token elsewhere.
fn server_url(doc: &Document) -> Js<String> {
    let meta = doc
        .query_selector("meta[name=chatio-server]")?
        .and_then(|m| m.get_attribute("content"))
        .map(|s| s.trim().trim_end_matches('/').to_owned())
        .filter(|s| !s.is_empty());
    match meta {
        Some(url) => Ok(url),
        None => doc.location().ok_or_else(|| JsValue::from_str("the page has no location"))?.origin(),
    }
}

/// The code of the sign-in link this page was opened with (`#code=…`), taken out of the
/// address bar and the history entry at once, so that it is not reused from there.
fn take_link_code() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let hash = location.hash().ok()?;
    let code = view::sign_in_code(&hash)?;
    let code = js_sys::decode_uri_component(code).ok().map(String::from)?;
    if let (Ok(history), Ok(path)) = (window.history(), location.pathname()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&path));
    }
    Some(code)
}

/// A `POST` to the page's server (`path` under it) with `headers` and a `body`: the status
/// and a reader of the JSON answer's string fields; `Err` when the request itself failed.
async fn post(
    server: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Js<(u16, impl Fn(&str) -> Option<String>)> {
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&JsValue::from_str(body));
    let h = web_sys::Headers::new()?;
    for (k, v) in headers {
        h.set(k, v)?;
    }
    init.set_headers(&h);
    let answer = JsFuture::from(window.fetch_with_str_and_init(&format!("{server}{path}"), &init)).await?;
    let response: web_sys::Response = answer.dyn_into()?;
    let json = JsFuture::from(response.json()?).await.unwrap_or(JsValue::NULL);
    let field = move |k: &str| js_sys::Reflect::get(&json, &JsValue::from_str(k)).ok().and_then(|v| v.as_string());
    Ok((response.status(), field))
}

/// `POST {server}/agent/sign-in` with the code: the access token, or the sentence to show
/// when the server refused the code; `Err` when the request itself failed.
async fn exchange_code(server: &str, code: &str) -> Js<Result<String, String>> {
    let body = format!("code={}", String::from(js_sys::encode_uri_component(code)));
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let (status, field) = post(server, "/agent/sign-in", &form, &body).await?;
    if (200..300).contains(&status) {
        if let Some(token) = field("access_token") {
            return Ok(Ok(token));
        }
    }
    Ok(Err(view::link_refused_text(status, field("error").as_deref())))
}

/// `POST {server}/agent/sign-out` with the token (H51): the server revokes it. What to tell
/// the person afterwards, if anything.
async fn revoke(server: &str, token: &str) -> Option<String> {
    let auth = format!("Bearer {token}");
    match post(server, "/agent/sign-out", &[("authorization", &auth)], "").await {
        Ok((status, field)) => view::sign_out_note(Some(status), field("error").as_deref()),
        Err(e) => {
            report("chatio agent page: revoking the token:", &e);
            view::sign_out_note(None, None)
        }
    }
}

/// Waits `ms` milliseconds (the browser's `setTimeout`).
async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn report(what: &str, e: &JsValue) {
    web_sys::console::error_2(&JsValue::from_str(what), e);
}

impl App {
    fn new() -> Js<Rc<App>> {
        let doc = web_sys::window().and_then(|w| w.document()).ok_or_else(|| JsValue::from_str("no document"))?;
        let ui = Ui {
            status: by_id(&doc, "status")?,
            sign_out: by_id(&doc, "sign-out")?,
            signin_view: by_id(&doc, "signin-view")?,
            signin: by_id(&doc, "signin")?,
            signin_fields: by_id(&doc, "signin-fields")?,
            token: by_id(&doc, "token")?,
            signin_error: by_id(&doc, "signin-error")?,
            console: by_id(&doc, "console")?,
            accepting: by_id(&doc, "accepting")?,
            waiting: by_id(&doc, "waiting")?,
            waiting_count: by_id(&doc, "waiting-count")?,
            waiting_empty: by_id(&doc, "waiting-empty")?,
            mine: by_id(&doc, "mine")?,
            mine_empty: by_id(&doc, "mine-empty")?,
            chat_title: by_id(&doc, "chat-title")?,
            typing: by_id(&doc, "typing")?,
            log: by_id(&doc, "log")?,
            composer: by_id(&doc, "composer")?,
            reply: by_id(&doc, "reply")?,
            picture: by_id(&doc, "picture")?,
            chat_actions: by_id(&doc, "chat-actions")?,
            close_chat: by_id(&doc, "close-chat")?,
            to_queue: by_id(&doc, "to-queue")?,
            ban: by_id(&doc, "ban")?,
            ban_days: by_id(&doc, "ban-days")?,
            error: by_id(&doc, "error")?,
            visitor: by_id(&doc, "visitor")?,
            visitor_facts: by_id(&doc, "visitor-facts")?,
            visitor_pages: by_id(&doc, "visitor-pages")?,
            visitor_pages_empty: by_id(&doc, "visitor-pages-empty")?,
        };
        Ok(Rc::new(App { doc, ui, state: RefCell::new(State::default()) }))
    }

    fn wire(self: Rc<Self>) -> Js {
        let app = self.clone();
        on(&self.ui.signin, "submit", move |e| {
            e.prevent_default();
            app.clone().sign_in();
        })?;
        let app = self.clone();
        on(&self.ui.sign_out, "click", move |_| spawn_local(app.clone().sign_out(None)))?;
        let app = self.clone();
        on(&self.ui.composer, "submit", move |e| {
            e.prevent_default();
            app.clone().send_reply();
        })?;
        let form = self.ui.composer.clone();
        let app = self.clone();
        on(&self.ui.reply, "input", move |_| app.clone().typed())?;
        on(&self.ui.reply, "keydown", move |e| {
            if let Some(k) = e.dyn_ref::<web_sys::KeyboardEvent>() {
                if k.key() == "Enter" && !k.shift_key() && !k.is_composing() {
                    e.prevent_default();
                    let _ = form.request_submit();
                }
            }
        })?;
        let app = self.clone();
        on(&self.ui.picture, "change", move |_| spawn_local(app.clone().send_picture()))?;
        let app = self.clone();
        on(&self.ui.close_chat, "click", move |_| spawn_local(app.clone().close_chat()))?;
        let app = self.clone();
        on(&self.ui.to_queue, "click", move |_| spawn_local(app.clone().back_to_queue()))?;
        let app = self.clone();
        on(&self.ui.ban, "click", move |_| spawn_local(app.clone().ban()))?;
        let app = self.clone();
        on(&self.ui.accepting, "change", move |_| spawn_local(app.clone().set_accepting()))?;
        // One listener per list: the buttons carry their chat's id.
        for list in [&self.ui.waiting, &self.ui.mine] {
            let app = self.clone();
            on(list, "click", move |e| {
                let button = e
                    .target()
                    .and_then(|t| t.dyn_into::<Element>().ok())
                    .and_then(|t| t.closest("button[data-chat]").ok().flatten());
                if let Some(b) = button {
                    let chat = b.get_attribute("data-chat").unwrap_or_default();
                    let take = b.class_list().contains("take");
                    spawn_local(app.clone().open_chat(ChatId::new(chat), take));
                }
            })?;
        }
        self.ui.signin_fields.set_disabled(false);
        self.set_status("Sign in with your agent token");
        self.mark("data-ready-at");
        if let Some(code) = take_link_code() {
            spawn_local(self.clone().sign_in_with_code(code));
        }
        Ok(())
    }

    /// Signs in with a sign-in link's code (H9): exchanged at the server for an access
    /// token, which goes straight to the session (never into the field, the URL or storage).
    async fn sign_in_with_code(self: Rc<Self>, code: String) {
        self.ui.signin_fields.set_disabled(true);
        self.set_status("Signing in with your link…");
        let server = match server_url(&self.doc) {
            Ok(s) => s,
            Err(e) => {
                report("chatio agent page: no server URL:", &e);
                return self.signin_failed("This page does not know its server. Reload it.");
            }
        };
        match exchange_code(&server, &code).await {
            Ok(Ok(token)) => self.start_session(token),
            Ok(Err(sentence)) => {
                self.set_status("Sign in with your agent token");
                self.signin_failed(&sentence);
            }
            Err(e) => {
                report("chatio agent page: the sign-in link failed:", &e);
                self.set_status("Sign in with your agent token");
                self.signin_failed(
                    "Could not reach the server to sign in with the link. Open it again, or sign in with your token.",
                );
            }
        }
    }

    /// Notes when the page reached a point, as epoch milliseconds on `<html>` (what the
    /// page's benchmark, `benches/open.rs`, measures).
    fn mark(&self, attribute: &str) {
        if let Some(root) = self.doc.document_element() {
            let _ = root.set_attribute(attribute, &js_sys::Date::now().to_string());
        }
    }

    fn set_status(&self, text: &str) {
        self.ui.status.set_text_content(Some(text));
    }

    fn show_error(&self, text: Option<&str>) {
        self.ui.error.set_text_content(text);
        show(&self.ui.error, text.is_some());
    }

    fn sdk(&self) -> Option<AgentSdk> {
        self.state.borrow().sdk.clone()
    }

    /// The form's token, read once and cleared from the field; the session keeps it in
    /// memory only (not in storage, the URL or a log).
    fn sign_in(self: Rc<Self>) {
        let token = self.ui.token.value().trim().to_owned();
        self.ui.token.set_value("");
        if token.is_empty() {
            self.signin_failed("Enter your agent token.");
            return;
        }
        self.start_session(token);
    }

    /// Starts the session with an access token (from the form or a sign-in link).
    fn start_session(self: Rc<Self>, token: String) {
        if self.state.borrow().sdk.is_some() {
            return;
        }
        let server = match server_url(&self.doc) {
            Ok(s) => s,
            Err(e) => {
                report("chatio agent page: no server URL:", &e);
                return self.signin_failed("This page does not know its server. Reload it.");
            }
        };
        self.state.borrow_mut().token = Some(token.clone());
        let config = Config::new(server, AgentToken::bearer(token))
            .application("chatio-agent-web", env!("CARGO_PKG_VERSION"))
            .resume_routing_status(false);
        let sdk = match AgentSdk::init(config) {
            Ok(s) => s,
            Err(e) => {
                report("chatio agent page: could not start the session:", &JsValue::from_str(&e.to_string()));
                return self.signin_failed(&view::error_text(&e));
            }
        };
        let events = sdk.events();
        let generation = {
            let mut st = self.state.borrow_mut();
            st.generation += 1;
            st.sdk = Some(sdk);
            st.generation
        };
        show(&self.ui.signin_error, false);
        self.ui.signin_fields.set_disabled(true);
        self.set_status("Signing in…");
        spawn_local(self.event_loop(events, generation));
    }

    fn signin_failed(&self, text: &str) {
        self.ui.signin_error.set_text_content(Some(text));
        show(&self.ui.signin_error, true);
        self.ui.signin_fields.set_disabled(false);
        let _ = self.ui.token.focus();
    }

    /// Ends the session and goes back to the sign-in form (with why, if it was not asked
    /// for). Asked for, it first has the server revoke the token (H51); either way the page
    /// forgets it.
    async fn sign_out(self: Rc<Self>, why: Option<String>) {
        let (sdk, typing, token) = {
            let mut st = self.state.borrow_mut();
            let token = st.token.take();
            let sdk = st.sdk.take();
            st.generation += 1;
            st.me = None;
            st.current = None;
            st.shown.clear();
            st.said.clear();
            st.names.clear();
            (sdk, st.typing.stop(), token)
        };
        if let (Some(sdk), Some(stop)) = (&sdk, typing) {
            let _ = sdk.send_typing_indicator(&stop.chat, false, false).await;
        }
        let mut why = why;
        if let (None, Some(token)) = (&why, token) {
            match server_url(&self.doc) {
                Ok(server) => why = revoke(&server, &token).await,
                Err(e) => report("chatio agent page: no server URL:", &e),
            }
        }
        if let Some(sdk) = sdk {
            sdk.destroy().await;
        }
        for list in [&self.ui.waiting, &self.ui.mine, &self.ui.log] {
            list.set_text_content(None);
        }
        self.close_view();
        show(&self.ui.console, false);
        show(&self.ui.sign_out, false);
        show(&self.ui.signin_view, true);
        match why {
            Some(text) => self.signin_failed(&text),
            None => {
                show(&self.ui.signin_error, false);
                self.ui.signin_fields.set_disabled(false);
                let _ = self.ui.token.focus();
            }
        }
        self.set_status("Signed out");
    }

    async fn event_loop(self: Rc<Self>, mut events: chatio_agent_sdk::AgentEvents, generation: u64) {
        while let Some(event) = events.next().await {
            if self.state.borrow().generation != generation {
                return;
            }
            if let Err(e) = self.clone().handle(&event).await {
                report("chatio agent page:", &e);
            }
        }
    }

    /// Remembers `e` as its chat's preview if a person said it.
    fn note_said(&self, e: &Event) {
        if view::is_said(e) {
            self.state.borrow_mut().said.insert(e.chat.clone(), e.clone());
        }
    }

    fn learn(&self, users: &[User]) {
        let mut st = self.state.borrow_mut();
        for u in users {
            st.names.insert(u.id.clone(), view::display_name(u));
        }
    }

    async fn handle(self: Rc<Self>, event: &AgentEvent) -> Js {
        if let Some(text) = view::status_text(event) {
            self.set_status(&text);
        }
        match event {
            AgentEvent::Connected { me, chats, .. } => {
                self.learn(std::slice::from_ref(me));
                for c in chats {
                    self.learn(&c.users);
                    if let Some(e) = &c.last_event {
                        self.note_said(e);
                    }
                }
                self.state.borrow_mut().me = Some(me.id.clone());
                self.ui.accepting.set_checked(me.routing_status == Some(RoutingStatus::AcceptingChats));
                self.mark("data-signed-in-at");
                show(&self.ui.signin_view, false);
                show(&self.ui.console, true);
                show(&self.ui.sign_out, true);
                self.ui.signin_fields.set_disabled(false);
                self.refresh().await?;
                let first = chats.iter().find(|c| c.is_active() && c.has_user(&me.id)).map(|c| c.id.clone());
                if let Some(chat) = first {
                    self.clone().open_chat(chat, false).await;
                }
            }
            AgentEvent::ConnectionRestored { chats, .. } => {
                for c in chats {
                    self.learn(&c.users);
                }
                self.show_error(None);
                self.refresh().await?;
            }
            AgentEvent::Disconnected { reason } => {
                self.clone().sign_out(Some(view::disconnect_text(reason))).await;
            }
            AgentEvent::Error(e) if view::is_sign_in_error(e) => {
                self.clone().sign_out(Some(view::error_text(e))).await;
            }
            AgentEvent::Error(e) => {
                report("chatio agent page:", &JsValue::from_str(&chatio_agent_sdk::chain(e)));
                self.show_error(Some(&view::error_text(e)));
            }
            AgentEvent::IncomingChat(chat) => {
                self.learn(&chat.users);
                for e in chat.threads.iter().flat_map(|t| t.events.iter()) {
                    self.note_said(e);
                }
                self.refresh().await?;
            }
            AgentEvent::UserJoined { chat, user } => {
                self.learn(std::slice::from_ref(user));
                let (me, current) = {
                    let st = self.state.borrow();
                    (st.me.clone(), st.current.clone())
                };
                self.refresh().await?;
                if me.as_ref() == Some(&user.id) && current.is_none() {
                    self.clone().open_chat(chat.clone(), false).await;
                }
            }
            AgentEvent::NewEvent(ev) => {
                self.note_said(ev);
                if self.is_current(&ev.chat) {
                    self.append(ev)?;
                    self.mark_seen(&ev.chat).await;
                    self.ui.typing.set_text_content(None);
                }
                self.refresh().await?;
            }
            AgentEvent::Typing { chat, user, is_typing, .. } if self.is_current(chat) => {
                let text = is_typing.then(|| format!("{} is typing…", self.name(user)));
                self.ui.typing.set_text_content(text.as_deref());
            }
            AgentEvent::SneakPeek { chat, user, text, .. } if self.is_current(chat) => {
                let text = (!text.trim().is_empty()).then(|| format!("{} is typing: {text}", self.name(user)));
                self.ui.typing.set_text_content(text.as_deref());
            }
            AgentEvent::ThreadClosed { .. } => self.refresh().await?,
            AgentEvent::UserLeft { chat, user } => {
                let me = self.state.borrow().me.clone();
                if me.as_ref() == Some(user) && self.is_current(chat) {
                    self.system_line("You left this chat.")?;
                    self.state.borrow_mut().current_active = false;
                    self.set_chat_open(false);
                }
                self.refresh().await?;
            }
            AgentEvent::AgentUpdated { agent, routing_status } if self.state.borrow().me.as_ref() == Some(agent) => {
                self.ui.accepting.set_checked(routing_status.as_ref() == Some(&RoutingStatus::AcceptingChats));
            }
            AgentEvent::CustomerUpdated { chat, customer } => {
                self.learn(std::slice::from_ref(customer));
                if self.is_current(chat) {
                    self.show_visitor(Some(customer))?;
                }
                self.refresh().await?;
            }
            AgentEvent::ChatUpdated { .. }
            | AgentEvent::Lagged { .. }
            | AgentEvent::LastSeenTimestampUpdated { .. } => {
                self.refresh().await?;
            }
            _ => {}
        }
        Ok(())
    }

    fn is_current(&self, chat: &ChatId) -> bool {
        self.state.borrow().current.as_ref() == Some(chat)
    }

    fn name(&self, user: &UserId) -> String {
        self.state.borrow().names.get(user).cloned().unwrap_or_else(|| "The visitor".to_owned())
    }

    /// Redraws the two lists from the session's chats, keeping the keyboard focus on the
    /// same chat's button.
    async fn refresh(&self) -> Js {
        let Some(sdk) = self.sdk() else { return Ok(()) };
        let chats = match sdk.chats().await {
            Ok(c) => c,
            Err(_) => return Ok(()), // the session ended: the event loop says why
        };
        let (me, current, said) = {
            let st = self.state.borrow();
            (st.me.clone(), st.current.clone(), st.said.clone())
        };
        self.follow_current(&chats)?;
        let focused = self
            .doc
            .active_element()
            .and_then(|e| e.get_attribute("data-chat").map(|c| (c, e.class_list().contains("take"))));
        let waiting: Vec<&ChatView> = chats.iter().filter(|c| c.is_waiting()).collect();
        let mine: Vec<&ChatView> = chats
            .iter()
            .filter(|c| {
                me.as_ref().is_some_and(|m| c.has_user(m)) && (c.is_active() || current.as_ref() == Some(&c.id))
            })
            .collect();
        self.ui.waiting.set_text_content(None);
        for chat in &waiting {
            let row = view::chat_row(chat, said.get(&chat.id));
            let li = el(&self.doc, "li", "chat", None)?;
            let text = el(&self.doc, "div", "chat-text", None)?;
            add(&text, &el(&self.doc, "span", "who", Some(&row.title))?)?;
            add(&text, &el(&self.doc, "span", "preview", Some(&row.preview))?)?;
            add(&li, &text)?;
            let take = el(&self.doc, "button", "take", Some("Take"))?;
            take.set_attribute("type", "button")?;
            take.set_attribute("data-chat", chat.id.as_str())?;
            take.set_attribute("aria-label", &format!("Take the chat with {}", row.title))?;
            add(&li, &take)?;
            add(&self.ui.waiting, &li)?;
        }
        self.ui.waiting_count.set_text_content(Some(&waiting.len().to_string()));
        show(&self.ui.waiting_empty, waiting.is_empty());
        self.ui.mine.set_text_content(None);
        for chat in &mine {
            let row = view::chat_row(chat, said.get(&chat.id));
            let li = el(&self.doc, "li", "chat", None)?;
            let b = el(&self.doc, "button", "open", None)?;
            b.set_attribute("type", "button")?;
            b.set_attribute("data-chat", chat.id.as_str())?;
            if current.as_ref() == Some(&chat.id) {
                b.set_attribute("aria-current", "true")?;
            }
            add(&b, &el(&self.doc, "span", "who", Some(&row.title))?)?;
            if row.unread > 0 {
                let badge = el(&self.doc, "span", "badge", Some(&row.unread.to_string()))?;
                add(&badge, &el(&self.doc, "span", "sr-only", Some(view::unread_words(row.unread)))?)?;
                add(&b, &badge)?;
            }
            if !chat.is_active() {
                add(&b, &el(&self.doc, "span", "closed", Some("closed"))?)?;
            }
            add(&b, &el(&self.doc, "span", "preview", Some(&row.preview))?)?;
            add(&li, &b)?;
            add(&self.ui.mine, &li)?;
        }
        show(&self.ui.mine_empty, mine.is_empty());
        if let Some((chat, take)) = focused {
            let list = if take { &self.ui.waiting } else { &self.ui.mine };
            let selector = format!("button[data-chat=\"{}\"]", chat.replace(['"', '\\'], ""));
            if let Some(b) = list.query_selector(&selector)?.and_then(|b| b.dyn_into::<HtmlElement>().ok()) {
                b.focus()?;
            }
        }
        Ok(())
    }

    /// Shows the current chat's thread closing (whoever closed it: this agent's own close
    /// comes as `ChatUpdated`) or a new thread opening.
    fn follow_current(&self, chats: &[ChatView]) -> Js {
        let change = {
            let mut st = self.state.borrow_mut();
            let now = st.current.as_ref().and_then(|id| chats.iter().find(|c| &c.id == id)).map(ChatView::is_active);
            match now {
                Some(active) if active != st.current_active => {
                    st.current_active = active;
                    Some(active)
                }
                _ => None,
            }
        };
        match change {
            Some(false) => {
                self.system_line("The chat is closed.")?;
                self.set_chat_open(false);
            }
            Some(true) => self.set_chat_open(true),
            None => {}
        }
        Ok(())
    }

    /// Opens a chat (taking it from the queue first when `take`): its title, its last
    /// thread's events, the composer.
    async fn open_chat(self: Rc<Self>, chat: ChatId, take: bool) {
        let Some(sdk) = self.sdk() else { return };
        self.show_error(None);
        if !self.is_current(&chat) {
            self.stop_typing();
        }
        if take {
            if let Err(e) = sdk.take_chat(&chat).await {
                return self.failed(&e);
            }
        }
        let view = match sdk.chat(&chat).await {
            Ok(Some(v)) => v,
            Ok(None) => return self.show_error(Some("That chat is gone.")),
            Err(e) => return self.failed(&e),
        };
        self.learn(&view.users);
        if let Err(e) = self.show_visitor(view.customer()) {
            report("chatio agent page:", &e);
        }
        {
            let mut st = self.state.borrow_mut();
            st.current = Some(chat.clone());
            st.current_active = view.is_active();
            st.shown.clear();
        }
        let title =
            format!("Chat with {}", view.customer().map_or_else(|| "no visitor".to_owned(), view::display_name));
        self.ui.chat_title.set_text_content(Some(&title));
        self.ui.log.set_text_content(None);
        self.ui.typing.set_text_content(None);
        show(&self.ui.log, true);
        show(&self.ui.chat_actions, true);
        self.set_chat_open(view.is_active());
        if let Some(thread) = &view.thread {
            match sdk.chat_threads(&chat, std::slice::from_ref(&thread.id)).await {
                Ok(t) => {
                    self.learn(&t.chat.users);
                    if self.is_current(&chat) {
                        for ev in t.chat.threads.iter().flat_map(|t| t.events.iter()) {
                            self.note_said(ev);
                            if let Err(e) = self.append(ev) {
                                report("chatio agent page:", &e);
                            }
                        }
                    }
                }
                Err(e) => self.failed(&e),
            }
        }
        self.mark_seen(&chat).await;
        if let Err(e) = self.refresh().await {
            report("chatio agent page:", &e);
        }
        if view.is_active() {
            let _ = self.ui.reply.focus();
        }
    }

    /// The visitor's details beside the conversation (hidden without a visitor).
    fn show_visitor(&self, visitor: Option<&User>) -> Js {
        self.ui.visitor_facts.set_text_content(None);
        self.ui.visitor_pages.set_text_content(None);
        let Some(visitor) = visitor else {
            show(&self.ui.visitor, false);
            return Ok(());
        };
        let details = view::visitor_details(visitor);
        for (label, value) in &details.facts {
            add(&self.ui.visitor_facts, &el(&self.doc, "dt", "", Some(label))?)?;
            let dd = el(&self.doc, "dd", "", Some(value))?;
            dd.set_attribute("dir", "auto")?;
            add(&self.ui.visitor_facts, &dd)?;
        }
        for (shown, url) in &details.pages {
            let li = el(&self.doc, "li", "", None)?;
            let item = match url {
                Some(url) => {
                    let a = el(&self.doc, "a", "", Some(shown))?;
                    a.set_attribute("href", url)?;
                    a.set_attribute("target", "_blank")?;
                    a.set_attribute("rel", "noopener noreferrer")?;
                    a
                }
                None => el(&self.doc, "span", "", Some(shown))?,
            };
            item.set_attribute("dir", "auto")?;
            add(&li, &item)?;
            add(&self.ui.visitor_pages, &li)?;
        }
        show(&self.ui.visitor_pages_empty, details.pages.is_empty());
        show(&self.ui.visitor, true);
        Ok(())
    }

    fn close_view(&self) {
        let _ = self.show_visitor(None);
        self.ui.chat_title.set_text_content(Some("No chat open"));
        self.ui.typing.set_text_content(None);
        self.set_chat_open(false);
        show(&self.ui.chat_actions, false);
        self.show_error(None);
    }

    /// Shows or hides what only an open chat has: the composer, Close, Back to the queue
    /// and Ban.
    fn set_chat_open(&self, open: bool) {
        show(&self.ui.composer, open);
        for b in [&self.ui.close_chat, &self.ui.to_queue, &self.ui.ban] {
            b.set_disabled(!open);
        }
        self.ui.ban_days.set_disabled(!open);
    }

    fn failed(&self, e: &Error) {
        report("chatio agent page:", &JsValue::from_str(&chatio_agent_sdk::chain(e)));
        self.show_error(Some(&view::error_text(e)));
    }

    async fn mark_seen(&self, chat: &ChatId) {
        if let Some(sdk) = self.sdk() {
            if let Err(e) = sdk.update_last_seen_timestamp(chat, None).await {
                report("chatio agent page: marking the chat seen:", &JsValue::from_str(&chatio_agent_sdk::chain(&e)));
            }
        }
    }

    /// Appends an event of the current chat to the log (once).
    fn append(&self, ev: &Event) -> Js {
        let line = {
            let mut st = self.state.borrow_mut();
            if !st.shown.insert(ev.id.clone()) {
                return Ok(());
            }
            view::line(ev, &st.names, st.me.as_ref())
        };
        let class = match line.side {
            Side::Me => "line me",
            Side::Other => "line other",
            Side::System => "line system",
        };
        let row = el(&self.doc, "div", class, None)?;
        if line.side != Side::System {
            let who = if line.whisper { format!("{} (to agents)", line.who) } else { line.who.clone() };
            add(&row, &el(&self.doc, "span", "who", Some(&who))?)?;
        }
        let attachments = view::attachments(ev);
        if attachments.is_empty() {
            let text = el(&self.doc, "span", "text", Some(&line.text))?;
            text.set_attribute("dir", "auto")?;
            add(&row, &text)?;
        }
        for a in &attachments {
            add(&row, &self.attachment(a)?)?;
        }
        add(&self.ui.log, &row)?;
        self.scroll_log();
        Ok(())
    }

    /// A file or picture as a link (a new tab, no referrer) with its name and size; a
    /// picture with its thumbnail inside the link.
    fn attachment(&self, a: &view::Attachment) -> Js<Element> {
        let link = el(&self.doc, "a", "file", None)?;
        link.set_attribute("href", &a.url)?;
        link.set_attribute("target", "_blank")?;
        link.set_attribute("rel", "noopener noreferrer")?;
        if a.image {
            let img = el(&self.doc, "img", "thumb", None)?;
            img.set_attribute("src", &a.url)?;
            img.set_attribute("alt", "")?;
            img.set_attribute("referrerpolicy", "no-referrer")?;
            add(&link, &img)?;
        }
        let label = match &a.size {
            Some(size) => format!("{} ({size})", a.name),
            None => a.name.clone(),
        };
        let name = el(&self.doc, "span", "file-name", Some(&label))?;
        name.set_attribute("dir", "auto")?;
        add(&link, &name)?;
        Ok(link)
    }

    fn system_line(&self, text: &str) -> Js {
        add(&self.ui.log, &el(&self.doc, "div", "line system", Some(text))?)?;
        self.scroll_log();
        Ok(())
    }

    fn scroll_log(&self) {
        self.ui.log.set_scroll_top(self.ui.log.scroll_height());
    }

    /// Sends the composer's text to the current chat; on failure the text comes back.
    fn send_reply(self: Rc<Self>) {
        let text = self.ui.reply.value();
        if text.trim().is_empty() {
            return;
        }
        let (Some(sdk), Some(chat)) = (self.sdk(), self.state.borrow().current.clone()) else { return };
        self.ui.reply.set_value("");
        // The visitor hears "stopped typing" before the message (queued in this order).
        self.stop_typing();
        spawn_local(async move {
            match sdk.send_message(&chat, text.clone()).await {
                Ok(ev) => {
                    self.show_error(None);
                    self.note_said(&ev);
                    if self.is_current(&chat) {
                        if let Err(e) = self.append(&ev) {
                            report("chatio agent page:", &e);
                        }
                    }
                }
                Err(e) => {
                    if self.ui.reply.value().is_empty() {
                        self.ui.reply.set_value(&text);
                    }
                    self.failed(&e);
                }
            }
        });
    }

    /// The reply box changed: tells the visitor the agent is typing (once, not per key) or
    /// stopped (the box emptied); a task watches for the agent going idle.
    fn typed(self: Rc<Self>) {
        let Some(chat) = self.state.borrow().current.clone() else { return };
        let has_text = !self.ui.reply.value().trim().is_empty();
        let signals = self.state.borrow_mut().typing.input(&chat, has_text, js_sys::Date::now());
        self.send_typing(signals);
        let watch = {
            let mut st = self.state.borrow_mut();
            let watch = st.typing.is_on() && !st.typing_watched;
            st.typing_watched |= watch;
            watch
        };
        if watch {
            spawn_local(self.watch_typing());
        }
    }

    /// Once a second while the visitor is told the agent types: says "stopped" when idle.
    async fn watch_typing(self: Rc<Self>) {
        loop {
            sleep(1_000).await;
            let (signal, on) = {
                let mut st = self.state.borrow_mut();
                let signal = st.typing.tick(js_sys::Date::now());
                (signal, st.typing.is_on())
            };
            self.send_typing(signal.into_iter().collect());
            if !on {
                self.state.borrow_mut().typing_watched = false;
                return;
            }
        }
    }

    /// Tells the visitor the agent stopped typing, if they were told it started.
    fn stop_typing(&self) {
        let stop = self.state.borrow_mut().typing.stop();
        self.send_typing(stop.into_iter().collect());
    }

    /// Sends typing indicators in order (queued to the session at once, before anything
    /// the caller sends next); a failure only goes to the console.
    fn send_typing(&self, signals: Vec<Signal>) {
        let Some(sdk) = self.sdk() else { return };
        for Signal { chat, is_typing } in signals {
            let sdk = sdk.clone();
            spawn_local(async move {
                if let Err(e) = sdk.send_typing_indicator(&chat, is_typing, false).await {
                    report("chatio agent page: typing indicator:", &JsValue::from_str(&chatio_agent_sdk::chain(&e)));
                }
            });
        }
    }

    /// Sends the chosen picture to the current chat (`upload_image`, then a card showing
    /// it); one over the limit is refused on the page before anything is sent.
    async fn send_picture(self: Rc<Self>) {
        let file = self.ui.picture.files().and_then(|l| l.get(0));
        self.ui.picture.set_value("");
        let (Some(file), Some(sdk), Some(chat)) = (file, self.sdk(), self.state.borrow().current.clone()) else {
            return;
        };
        let name = file.name();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a file's size: a whole, positive number
        let size = file.size() as u64;
        if let Some(why) = view::picture_refusal(&name, size) {
            return self.show_error(Some(&why));
        }
        self.show_error(None);
        let bytes = match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
            Ok(buffer) => js_sys::Uint8Array::new(&buffer).to_vec(),
            Err(e) => {
                report("chatio agent page: reading the picture:", &e);
                return self.show_error(Some(&format!("“{name}” could not be read. Choose it again.")));
            }
        };
        let mut image = ImageFile::bytes(name.clone(), bytes);
        if !file.type_().is_empty() {
            image = image.content_type(file.type_());
        }
        match sdk.send_image(&chat, &image).await {
            Ok(ev) => {
                self.note_said(&ev);
                if self.is_current(&chat) {
                    if let Err(e) = self.append(&ev) {
                        report("chatio agent page:", &e);
                    }
                }
            }
            Err(e) => {
                report("chatio agent page: sending a picture:", &JsValue::from_str(&chatio_agent_sdk::chain(&e)));
                self.show_error(Some(&view::picture_failed_text(&name, &e)));
            }
        }
    }

    async fn close_chat(self: Rc<Self>) {
        let (Some(sdk), Some(chat)) = (self.sdk(), self.state.borrow().current.clone()) else { return };
        self.stop_typing();
        if let Err(e) = sdk.close_thread(&chat).await {
            self.failed(&e);
        }
    }

    /// Asks the person (the browser's own dialog, keyboard-usable); `false` when they
    /// declined or the page cannot ask.
    fn confirm(&self, question: &str) -> bool {
        web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
    }

    /// The open chat and its visitor's name.
    async fn current_visitor(&self) -> Option<(AgentSdk, ChatId, Option<User>)> {
        let (sdk, chat) = (self.sdk()?, self.state.borrow().current.clone()?);
        let visitor = sdk.chat(&chat).await.ok().flatten().and_then(|v| v.customer().cloned());
        Some((sdk, chat, visitor))
    }

    /// Leaves the open chat after asking: it goes back to the queue for another agent
    /// (`remove_from_chat` of oneself; the router gives it out again).
    async fn back_to_queue(self: Rc<Self>) {
        let Some((sdk, chat, visitor)) = self.current_visitor().await else { return };
        let name = visitor.as_ref().map_or_else(|| "the visitor".to_owned(), view::display_name);
        if !self.confirm(&view::to_queue_question(&name)) {
            return;
        }
        self.stop_typing();
        if let Err(e) = sdk.leave_chat(&chat).await {
            self.failed(&e);
        }
    }

    /// Bans the open chat's visitor after asking, for the days chosen beside the button
    /// (`ban_customer`: their chats end, they cannot come back until it ends).
    async fn ban(self: Rc<Self>) {
        let Some((sdk, chat, visitor)) = self.current_visitor().await else { return };
        let Some(visitor) = visitor else { return self.show_error(Some("This chat has no visitor to ban.")) };
        let days = self.ui.ban_days.value().parse::<u32>().unwrap_or(1);
        let name = view::display_name(&visitor);
        if !self.confirm(&view::ban_question(&name, days)) {
            return;
        }
        self.stop_typing();
        match sdk.ban_customer(&visitor.id, days).await {
            Ok(()) if self.is_current(&chat) => {
                if let Err(e) = self.system_line(&view::banned_text(&name, days)) {
                    report("chatio agent page:", &e);
                }
            }
            Ok(()) => {}
            Err(e) => self.failed(&e),
        }
    }

    async fn set_accepting(self: Rc<Self>) {
        let Some(sdk) = self.sdk() else { return };
        let status =
            if self.ui.accepting.checked() { RoutingStatus::AcceptingChats } else { RoutingStatus::NotAcceptingChats };
        if let Err(e) = sdk.set_routing_status(status).await {
            self.failed(&e);
        }
    }
}
