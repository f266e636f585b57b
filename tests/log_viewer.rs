//! The log viewer in a real browser: a large log keeps a bounded number of rows in the DOM,
//! HTML in a line is text, search opens the collapsed step holding its match, and steps toggle
//! from the keyboard's buttons.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::{StepRun, StepStatus};
use keyless_console::components::{LiveLog, LogViewer};
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{
    Element, Event, EventInit, HtmlElement, HtmlInputElement, KeyboardEvent, KeyboardEventInit,
};

mod dom;

wasm_bindgen_test_configure!(run_in_browser);

/// The stylesheet rules the virtual list depends on (the console's `style/main.css`).
const VIEWER_CSS: &str = ".log-scroll{height:400px;overflow:auto;position:relative}\
    .log-spacer{position:relative}.log-rows{position:absolute;top:0;left:0}\
    .log-row{height:20px;white-space:pre;display:flex}";

/// A container, with the stylesheet rules the virtual list's arithmetic relies on.
fn container() -> HtmlElement {
    let style = document().create_element("style").expect("style");
    style.set_text_content(Some(VIEWER_CSS));
    document()
        .head()
        .expect("head")
        .append_child(&style)
        .expect("attached");
    dom::container()
}

/// Two rounds of [`dom::settle`]: the viewer measures, then renders its window.
async fn settle() {
    dom::settle().await;
    dom::settle().await;
}

async fn scroll_to_top(root: &Element) {
    let scroller = one(root, ".log-scroll");
    scroller.set_scroll_top(0);
    scroller
        .dispatch_event(&Event::new("scroll").expect("event"))
        .expect("dispatched");
    settle().await;
}

fn count(root: &Element, selector: &str) -> u32 {
    root.query_selector_all(selector)
        .expect("selector")
        .length()
}

fn one(root: &Element, selector: &str) -> HtmlElement {
    root.query_selector(selector)
        .expect("selector")
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
        .unchecked_into()
}

/// A log of `lines` lines in two steps, the second holding a `<script>` and a needle.
fn big_log(lines: usize) -> LiveLog {
    let log = LiveLog::new();
    log.update(|text| {
        text.push_header("Setup", None);
        for n in 0..lines / 2 {
            text.push_line(&format!("\x1b[32msetup line {n}\x1b[0m"), None);
        }
        text.push_header("pulumi update", None);
        for n in lines / 2..lines {
            if n == lines - 5 {
                text.push_line("<script>window.__pwned = 1</script> the needle", None);
            } else {
                text.push_line(&format!("update line {n}"), None);
            }
        }
    });
    log.complete.set(true);
    log
}

fn mount_viewer(root: &HtmlElement, log: LiveLog, steps: Vec<StepRun>) -> impl Sized {
    mount_to(root.clone(), move || {
        view! { <LogViewer log steps=Signal::derive(move || steps.clone()) file_name="test.log" /> }
    })
}

fn succeeded(name: &str) -> StepRun {
    StepRun {
        name: name.into(),
        status: StepStatus::Succeeded,
        started: Some("2026-11-25T17:34:00Z".into()),
        last_updated: Some("2026-11-25T17:34:05Z".into()),
    }
}

#[wasm_bindgen_test]
async fn a_large_log_keeps_few_rows_in_the_dom_and_html_stays_text() {
    let root = container();
    let _mounted = mount_viewer(&root, big_log(20_000), Vec::new());
    settle().await;
    // Steps without a status are open; the viewer follows the end of the log.
    let lines = count(&root, ".log-line");
    assert!(lines > 10 && lines < 200, "{lines} line rows in the DOM");
    assert_eq!(count(&root, ".log-rows script"), 0);
    let text = root.text_content().unwrap_or_default();
    assert!(
        text.contains("<script>window.__pwned = 1</script> the needle"),
        "the HTML is shown as text"
    );
    assert!(
        js_sys::Reflect::get(&window(), &"__pwned".into())
            .expect("read")
            .is_undefined()
    );
    // Colours become classes; the escape codes are gone.
    scroll_to_top(&root).await;
    assert!(count(&root, ".log-rows .fg2") > 0);
    assert!(!root.text_content().unwrap_or_default().contains("[32m"));
}

#[wasm_bindgen_test]
async fn search_opens_the_collapsed_step_of_its_match() {
    let root = container();
    let steps = vec![succeeded("Setup"), succeeded("pulumi update")];
    let _mounted = mount_viewer(&root, big_log(2_000), steps);
    settle().await;
    let toggles = root.query_selector_all(".step-toggle").expect("toggles");
    assert_eq!(toggles.length(), 2, "succeeded steps start closed");
    assert_eq!(count(&root, ".log-line"), 0);

    let search: HtmlInputElement = one(&root, "input[type=search]").unchecked_into();
    search.set_value("NEEDLE");
    let init = EventInit::new();
    init.set_bubbles(true);
    search
        .dispatch_event(&Event::new_with_event_init_dict("input", &init).expect("event"))
        .expect("dispatched");
    let key = KeyboardEventInit::new();
    key.set_key("Enter");
    key.set_bubbles(true);
    search
        .dispatch_event(
            &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &key).expect("event"),
        )
        .expect("dispatched");
    settle().await;
    let current = one(&root, "mark.current");
    assert_eq!(current.text_content().as_deref(), Some("needle"));
    assert_eq!(
        one(&root, "#log-search-status").text_content().as_deref(),
        Some("1 of 1")
    );
    scroll_to_top(&root).await;
    let update = one(&root, "[data-step=\"1\"]");
    assert_eq!(
        update.get_attribute("aria-expanded").as_deref(),
        Some("true")
    );

    // A regular expression runs in the browser's RegExp; a bad one says why.
    let regex: HtmlInputElement = one(&root, "input[type=checkbox]").unchecked_into();
    regex.set_checked(true);
    regex
        .dispatch_event(&Event::new_with_event_init_dict("change", &init).expect("event"))
        .expect("dispatched");
    for (pattern, expected) in [
        ("ne+dle$", "1 of 1"),
        ("(", "Not a valid regular expression"),
    ] {
        search.set_value(pattern);
        search
            .dispatch_event(&Event::new_with_event_init_dict("input", &init).expect("event"))
            .expect("dispatched");
        search
            .dispatch_event(
                &KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &key).expect("event"),
            )
            .expect("dispatched");
        settle().await;
        let status = one(&root, "#log-search-status")
            .text_content()
            .unwrap_or_default();
        assert!(status.starts_with(expected), "{pattern}: {status}");
    }

    // Closing the step again from its header button removes its lines.
    scroll_to_top(&root).await;
    let update = one(&root, "[data-step=\"1\"]");
    update.click();
    settle().await;
    assert_eq!(count(&root, ".log-line"), 0);
}

/// Guards against window listeners outliving the viewer: after it is unmounted, a resize or a
/// new `#L…` in the address must not reach its disposed state (which would abort the app).
#[wasm_bindgen_test]
async fn an_unmounted_viewer_ignores_window_events() {
    let root = container();
    let mounted = mount_viewer(&root, big_log(100), Vec::new());
    settle().await;
    drop(mounted);
    settle().await;
    // An exception in a listener is reported to the window's `error` event, not to the test.
    let errors = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = errors.clone();
    let on_error = wasm_bindgen::closure::Closure::<dyn Fn(Event)>::new(move |event: Event| {
        event.prevent_default();
        seen.set(seen.get() + 1);
    });
    window()
        .add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .expect("listens");
    for name in ["resize", "hashchange"] {
        window()
            .dispatch_event(&Event::new(name).expect("event"))
            .expect("dispatched");
    }
    settle().await;
    window()
        .remove_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .expect("stops listening");
    assert_eq!(
        errors.get(),
        0,
        "a window listener reached the unmounted viewer"
    );
}
