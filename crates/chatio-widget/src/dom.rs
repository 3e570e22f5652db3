//! Small DOM helpers: create elements, set text (never HTML), show and hide. Every failure
//! is a `JsValue` error that the caller reports; nothing here panics.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Document, Element, HtmlElement};

/// A result of DOM work.
pub type Js<T = ()> = Result<T, JsValue>;

/// `<tag class="class">text</tag>`.
pub fn el(doc: &Document, tag: &str, class: &str, text: Option<&str>) -> Js<Element> {
    let e = doc.create_element(tag)?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    if let Some(t) = text {
        e.set_text_content(Some(t));
    }
    Ok(e)
}

/// Appends `child` to `parent`.
pub fn add(parent: &Element, child: &Element) -> Js {
    parent.append_child(child).map(drop)
}

/// The element with this id, or an error naming it.
pub fn by_id(doc: &Document, id: &str) -> Js<Element> {
    doc.get_element_by_id(id).ok_or_else(|| JsValue::from_str(&format!("the page has no element #{id}")))
}

/// The element as an `HtmlElement`-derived type, or an error.
pub fn cast<T: JsCast>(e: Element, what: &str) -> Js<T> {
    e.dyn_into::<T>().map_err(|_| JsValue::from_str(&format!("#{what} is not the expected kind of element")))
}

/// Shows or hides an element (the `hidden` attribute).
pub fn show(e: &Element, visible: bool) {
    if let Some(h) = e.dyn_ref::<HtmlElement>() {
        h.set_hidden(!visible);
    }
}

/// Sets an element's text.
pub fn text(e: &Element, t: &str) {
    e.set_text_content(Some(t));
}

/// A JS error value as text.
pub fn js_text(v: &JsValue) -> String {
    v.as_string()
        .or_else(|| v.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message())))
        .unwrap_or_else(|| format!("{v:?}"))
}
