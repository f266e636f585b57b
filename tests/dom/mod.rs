//! What every browser test needs: a place to mount, a way to wait for the page, and reading
//! the document the way a user does. Each test binary uses a different subset.
#![allow(dead_code)]

use leptos::prelude::{document, window};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Element, HtmlElement, HtmlInputElement};

/// A fresh element in the document to mount into.
pub fn container() -> HtmlElement {
    let element: HtmlElement = document()
        .create_element("div")
        .expect("div")
        .unchecked_into();
    document()
        .body()
        .expect("body")
        .append_child(&element)
        .expect("attached");
    element
}

/// Lets the reactive system and the browser catch up.
pub async fn settle() {
    wait(0).await;
}

/// Waits `millis` milliseconds of the page's own time (timers and fetches go on meanwhile).
pub async fn wait(millis: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, millis)
            .expect("timer");
    });
    JsFuture::from(promise).await.expect("timer fired");
}

/// Every element under `root` matching `selector`.
pub fn all(root: &Element, selector: &str) -> Vec<Element> {
    let nodes = root.query_selector_all(selector).expect("selector");
    (0..nodes.length())
        .filter_map(|i| nodes.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

/// Visible text with whitespace collapsed.
pub fn text(element: &Element) -> String {
    element
        .text_content()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Dispatches a bubbling `name` event (`input`, `change`…) on `target`, as the browser does.
pub fn fire(target: &Element, name: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict(name, &init).expect("event");
    target.dispatch_event(&event).expect("dispatched");
}

/// Presses `key` (a `keydown`, bubbling and cancelable) on `element`.
pub fn press(element: &Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event =
        web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).expect("event");
    element.dispatch_event(&event).expect("dispatched");
}

/// The input whose `<label>` reads `wanted`.
pub fn by_label(root: &Element, wanted: &str) -> Option<HtmlInputElement> {
    let label = all(root, "label").into_iter().find(|l| text(l) == wanted)?;
    let id = label.get_attribute("for")?;
    document()
        .get_element_by_id(&id)
        .map(|e| e.unchecked_into())
}

/// The input labelled `wanted`; fails the test when there is none.
pub fn input(root: &Element, wanted: &str) -> HtmlInputElement {
    by_label(root, wanted).unwrap_or_else(|| panic!("no input labelled {wanted:?}"))
}
