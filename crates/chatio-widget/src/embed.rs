//! The chat window's side of the `postMessage` API with the loader (`assets/loader.js`);
//! the whole API is documented in the crate docs ("Embedding a site").
//!
//! Origin checks, both ways: the window accepts a message only when it comes from its
//! parent window *and* from the origin the loader named in the fragment (`#embed=ORIGIN`,
//! which Chromium also confirms with `location.ancestorOrigins`), and posts only to that
//! origin, never to `*`. The server's `frame-ancestors` decides which origins may embed the
//! window at all. Nothing secret crosses: the window tells the page an unread count,
//! whether a chat is going on, and asks to be minimized; the page tells the window whether
//! it is shown, the page's URL and title, and the visitor's name, e-mail and fields.

use std::collections::BTreeMap;

use chatio_wire::{CustomerData, Monitoring, Page};
use js_sys::{Object, Reflect};
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, Window};

use crate::dom::Js;

// What a host page sends is cut to the protocol's limits (G23): at most
// `MAX_CUSTOMER_FIELDS` fields, every string at most `MAX_CUSTOMER_FIELD_LEN` characters.
use chatio_wire::limits::{MAX_CUSTOMER_FIELD_LEN as MAX_LEN, MAX_CUSTOMER_FIELDS as MAX_FIELDS};

/// A message from the host page, checked and typed.
#[derive(Debug, PartialEq, Eq)]
pub enum HostMessage {
    /// The first message: whether the window is shown, and the customer data (with the
    /// page as `monitoring.page`).
    Init {
        /// The window is shown.
        visible: bool,
        /// Name, e-mail, fields, page.
        customer: CustomerData,
    },
    /// The window was opened (`true`) or minimized.
    Visible(bool),
    /// New customer data (or a new page, as `monitoring.page`).
    Customer(CustomerData),
}

/// The link to the host page: its origin and window.
pub struct HostLink {
    origin: String,
    parent: Window,
}

/// The link when this page runs in the loader's iframe: a parent window exists and the
/// fragment names its origin (confirmed by `location.ancestorOrigins` where the browser has
/// it). `None` as a page of its own, or when the claim does not hold.
pub fn link(window: &Window, origin: Option<&str>) -> Option<HostLink> {
    let origin = origin?;
    let parent = window.parent().ok().flatten()?;
    if Object::is(&parent, window) {
        return None; // not framed
    }
    if let Ok(list) = Reflect::get(&window.location(), &JsValue::from_str("ancestorOrigins")) {
        if let Some(list) = list.dyn_ref::<web_sys::DomStringList>() {
            if list.get(0).is_some_and(|first| first != origin) {
                web_sys::console::error_1(&JsValue::from_str(&format!(
                    "chatio: the embedding page is not {origin}; ignoring its messages"
                )));
                return None;
            }
        }
    }
    Some(HostLink { origin: origin.to_owned(), parent })
}

impl HostLink {
    /// Posts `msg` to the host page (to its origin only).
    pub fn post(&self, msg: &JsValue) {
        let _ = self.parent.post_message(msg, &self.origin);
    }

    /// Calls `f` with each message from the host page that passes the origin checks and
    /// parses; everything else is dropped (and said in the console when it claimed to be ours).
    pub fn listen(&self, mut f: impl FnMut(HostMessage) + 'static) -> Js {
        let origin = self.origin.clone();
        let parent: JsValue = self.parent.clone().into();
        let cb = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            let from_parent = e.source().is_some_and(|s| Object::is(&s, &parent));
            if !from_parent || e.origin() != origin {
                return;
            }
            match parse(&e.data()) {
                Some(m) => f(m),
                None if get(&e.data(), "chatio").as_string().as_deref() == Some("host") => {
                    web_sys::console::warn_1(&JsValue::from_str(
                        "chatio: a malformed message from the page was ignored",
                    ));
                }
                None => {}
            }
        });
        let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
        window.add_event_listener_with_callback("message", cb.as_ref().unchecked_ref())?;
        cb.forget();
        Ok(())
    }
}

fn get(v: &JsValue, key: &str) -> JsValue {
    if v.is_object() {
        Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

fn string(v: &JsValue, key: &str, max: usize) -> Option<String> {
    get(v, key).as_string().map(|s| s.chars().take(max).collect())
}

/// A message of the loader, or `None`.
fn parse(data: &JsValue) -> Option<HostMessage> {
    if get(data, "chatio").as_string()? != "host" {
        return None;
    }
    match get(data, "type").as_string()?.as_str() {
        "init" => {
            let mut customer = customer(&get(data, "customer"));
            customer.monitoring = page(&get(data, "page"));
            Some(HostMessage::Init { visible: get(data, "visible").as_bool().unwrap_or(false), customer })
        }
        "visible" => Some(HostMessage::Visible(get(data, "value").as_bool()?)),
        "customer" => Some(HostMessage::Customer(customer(&get(data, "customer")))),
        "page" => {
            let mut c = CustomerData::new();
            c.monitoring = Some(page(&get(data, "page"))?);
            Some(HostMessage::Customer(c))
        }
        _ => None,
    }
}

fn customer(v: &JsValue) -> CustomerData {
    let mut c = CustomerData::new();
    c.name = string(v, "name", MAX_LEN);
    c.email = string(v, "email", MAX_LEN);
    let fields = get(v, "fields");
    if fields.is_object() {
        let mut map = BTreeMap::new();
        for key in Object::keys(fields.unchecked_ref::<Object>()).iter().take(MAX_FIELDS) {
            if let (Some(k), Some(val)) =
                (key.as_string(), get(&fields, &key.as_string().unwrap_or_default()).as_string())
            {
                map.insert(k.chars().take(MAX_LEN).collect(), val.chars().take(MAX_LEN).collect());
            }
        }
        if !map.is_empty() {
            c.fields = Some(map);
        }
    }
    c
}

fn page(v: &JsValue) -> Option<Monitoring> {
    if !v.is_object() {
        return None;
    }
    let mut p = Page::default();
    p.url = string(v, "url", MAX_LEN).filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    p.title = string(v, "title", MAX_LEN);
    p.referrer = string(v, "referrer", MAX_LEN).filter(|u| !u.is_empty());
    let mut m = Monitoring::default();
    m.page = Some(p);
    Some(m)
}

fn message(kind: &str, fill: impl FnOnce(&Object)) -> JsValue {
    let o = Object::new();
    let _ = Reflect::set(&o, &"chatio".into(), &"frame".into());
    let _ = Reflect::set(&o, &"type".into(), &kind.into());
    fill(&o);
    o.into()
}

/// `{chatio: "frame", type: "ready"}`: the window runs; the loader sends `init` and what it queued.
pub fn ready() -> JsValue {
    message("ready", |_| {})
}

/// `{type: "unread", count}`: messages from the agent the visitor has not seen.
pub fn unread(count: u32) -> JsValue {
    message("unread", |o| {
        let _ = Reflect::set(o, &"count".into(), &count.into());
    })
}

/// `{type: "minimize"}`: the visitor pressed minimize (or Escape) in the window.
pub fn minimize() -> JsValue {
    message("minimize", |_| {})
}

/// `{type: "active", value}`: the visitor has a chat going (the loader then loads the
/// window when the browser is idle on the next page).
pub fn active(value: bool) -> JsValue {
    message("active", |o| {
        let _ = Reflect::set(o, &"value".into(), &value.into());
    })
}
