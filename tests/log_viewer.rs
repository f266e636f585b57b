//! The log viewer in a real browser: a large log keeps a bounded number of rows in the DOM,
//! three elements a line, HTML in a line is text, search opens the collapsed step holding its
//! match and finds shown times, steps toggle from the keyboard's buttons, line numbers link to
//! lines and ranges and have room for a millionth line, and the toolbar's timestamps, wrapping
//! and download, and the Copy button of the line under the pointer, do what they say; a live log
//! follows its end until scrolled up, a failed step opens by itself, and a log file streamed in
//! pieces reads as the whole file.
#![cfg(target_arch = "wasm32")]

use keyless_api_types::{StepRun, StepStatus};
use keyless_console::components::{LiveLog, LogViewer};
use keyless_console::log::LogText;
use keyless_console::log::stream;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, Event, HtmlElement, HtmlInputElement};

mod dom;

wasm_bindgen_test_configure!(run_in_browser);

// What the tests cannot do from Rust alone: a Shift+click, and standing in for the browser's
// download and clipboard so that what they are given can be read back.
#[wasm_bindgen(inline_js = r#"
export function shift_click(element) {
    element.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, shiftKey: true }));
}
export async function download_by(button) {
    const create = URL.createObjectURL, click = HTMLAnchorElement.prototype.click;
    let blob, url, name, href;
    URL.createObjectURL = (b) => { blob = b; url = create(b); return url; };
    HTMLAnchorElement.prototype.click = function () { name = this.download; href = this.href; };
    try { button.click(); } finally { URL.createObjectURL = create; HTMLAnchorElement.prototype.click = click; }
    if (!blob) return null;
    return [name, String(href === url), blob.type, await blob.text()];
}
export function fake_clipboard() {
    const written = [];
    Object.defineProperty(navigator, "clipboard", {
        configurable: true,
        value: { writeText: async (text) => { written.push(text); } },
    });
    return written;
}
export function refusing_clipboard() {
    Object.defineProperty(navigator, "clipboard", {
        configurable: true,
        value: { writeText: async () => { throw new DOMException("Write permission denied.", "NotAllowedError"); } },
    });
}
export function no_clipboard() {
    Object.defineProperty(navigator, "clipboard", { configurable: true, value: undefined });
}
export function real_clipboard() { delete navigator.clipboard; }
export function text_right(element) {
    const range = document.createRange();
    range.selectNodeContents(element);
    return range.getBoundingClientRect().right;
}
"#)]
extern "C" {
    fn shift_click(element: &Element);
    /// Clicks `button` and resolves with what it downloaded: `[file name, whether the link is
    /// the blob's URL, the blob's type, its text]`, or `null` when nothing was downloaded.
    fn download_by(button: &Element) -> js_sys::Promise;
    /// Puts a clipboard in place that keeps what is written to it, in the returned array.
    fn fake_clipboard() -> js_sys::Array;
    /// A clipboard that refuses every write, as a browser denying the permission.
    fn refusing_clipboard();
    /// No clipboard at all, as on a page served over plain http.
    fn no_clipboard();
    fn real_clipboard();
    /// Where the text inside `element` ends on screen, in pixels.
    fn text_right(element: &Element) -> f64;
}

/// 2026-11-25T17:34:00Z, in milliseconds since the Unix epoch.
const T0: i64 = 1_795_628_040_000;

/// The stylesheet rules the virtual list and the line numbers depend on (the console's
/// `style/main.css`).
const VIEWER_CSS: &str = ".log-scroll{height:400px;overflow:auto;position:relative}\
    .log-spacer{position:relative}.log-rows{position:absolute;top:0;left:0}\
    .log-row{height:20px;white-space:pre;display:flex}\
    .ln{flex:none;width:7ch;padding-right:1ch;text-align:right;box-sizing:border-box}";

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

fn mount_viewer(
    root: &HtmlElement,
    log: LiveLog,
    steps: impl Into<Signal<Vec<StepRun>>>,
) -> impl Sized {
    let steps = steps.into();
    mount_to(root.clone(), move || {
        view! { <LogViewer log steps file_name="test.log" /> }
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
    dom::fire(&search, "input");
    dom::press(&search, "Enter");
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
    dom::fire(&regex, "change");
    for (pattern, expected) in [
        ("ne+dle$", "1 of 1"),
        ("(", "Not a valid regular expression"),
    ] {
        search.set_value(pattern);
        dom::fire(&search, "input");
        dom::press(&search, "Enter");
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

/// The header of the step whose lines are in view stays at the top of the view, once: it can
/// be read and closed from there; scrolled back to a header, only the header itself shows.
#[wasm_bindgen_test]
async fn the_header_of_the_step_in_view_stays_at_the_top() {
    let root = container();
    let _mounted = mount_viewer(&root, big_log(2_000), Vec::new());
    settle().await;
    // At the end of the log, far below the header of "pulumi update".
    let top = one(&root, ".log-scroll").get_bounding_client_rect().top();
    assert_eq!(count(&root, "[data-step]"), 1);
    let header = one(&root, "[data-step=\"1\"]");
    assert_eq!(dom::text(&header), "pulumi update");
    assert!((header.get_bounding_client_rect().top() - top).abs() < 1.0);
    // It stays there as the lines scroll under it.
    let scroller = one(&root, ".log-scroll");
    scroller.set_scroll_top(scroller.scroll_top() - 90);
    scroller
        .dispatch_event(&Event::new("scroll").expect("event"))
        .expect("dispatched");
    settle().await;
    let header = one(&root, "[data-step=\"1\"]");
    assert!((header.get_bounding_client_rect().top() - top).abs() < 1.0);
    // It closes the step from there.
    header.click();
    settle().await;
    assert_eq!(
        one(&root, "[data-step=\"1\"]")
            .get_attribute("aria-expanded")
            .as_deref(),
        Some("false")
    );
    // At the top, the first header is in its place, and no other is pinned.
    scroll_to_top(&root).await;
    assert_eq!(count(&root, "[data-step]"), 1);
    let first = one(&root, "[data-step=\"0\"]");
    assert!((first.get_bounding_client_rect().top() - top).abs() < 1.0);
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

/// A log of one step, `Build`, written from [`T0`]: each line with its milliseconds after it.
fn timed_log(lines: &[(&str, i64)]) -> LiveLog {
    let log = LiveLog::new();
    log.update(|text| {
        text.push_header("Build", Some(T0));
        for (line, after) in lines {
            text.push_line(line, Some(T0 + after));
        }
    });
    log.complete.set(true);
    log
}

/// The numbers of the highlighted lines on screen.
fn selected(root: &Element) -> Vec<u32> {
    dom::all(root, ".log-line.selected a[data-line]")
        .iter()
        .map(|link| dom::text(link).parse().expect("a line number"))
        .collect()
}

fn hash() -> String {
    window().location().hash().expect("hash")
}

/// Puts `fragment` in the address without a navigation (`""` removes it), as the viewer does.
fn set_hash(fragment: &str) {
    let location = window().location();
    let url = format!(
        "{}{}{fragment}",
        location.pathname().expect("path"),
        location.search().expect("query")
    );
    window()
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url))
        .expect("replaced");
}

fn choose_timestamps(root: &Element, value: &str) {
    let select = one(root, "#log-timestamps");
    js_sys::Reflect::set(&select, &"value".into(), &value.into()).expect("set");
    dom::fire(&select, "change");
}

/// Clicking a line number links the address to the line and highlights it; Shift+click makes
/// the link a range from the line clicked before, highlighting every line in it.
#[wasm_bindgen_test]
async fn line_numbers_link_to_a_line_and_shift_extends_it_to_a_range() {
    let root = container();
    let _mounted = mount_viewer(&root, big_log(30), Vec::new());
    settle().await;
    scroll_to_top(&root).await;
    let number = |n: u32| one(&root, &format!("a[data-line=\"{n}\"]"));
    number(3).click();
    settle().await;
    assert_eq!((hash(), selected(&root)), ("#L3".into(), vec![3]));
    // Shift extends from the line last clicked, downwards or upwards.
    shift_click(&number(6));
    settle().await;
    assert_eq!(
        (hash(), selected(&root)),
        ("#L3-L6".into(), vec![3, 4, 5, 6])
    );
    shift_click(&number(1));
    settle().await;
    assert_eq!((hash(), selected(&root)), ("#L1-L3".into(), vec![1, 2, 3]));
    // A plain click starts again.
    number(20).click();
    settle().await;
    assert_eq!((hash(), selected(&root)), ("#L20".into(), vec![20]));
    set_hash("");
}

/// Mounts a viewer with `#L1500-L1502` in the address over a log whose line 1500 is in a step
/// that starts closed, the lines there before the viewer (a log file's first piece) or arriving
/// after it (a deployment's); checks the lines are highlighted and in view.
async fn opens_at_the_link_in_the_address(lines_first: bool) {
    set_hash("#L1500-L1502");
    let root = container();
    let (log, full) = (LiveLog::new(), big_log(2_000));
    let fill = move || {
        log.update(|text| *text = full.with(Clone::clone));
        log.complete.set(true);
    };
    if lines_first {
        fill();
    }
    let steps = vec![succeeded("Setup"), succeeded("pulumi update")];
    let _mounted = mount_viewer(&root, log, steps);
    settle().await;
    fill();
    settle().await;
    set_hash("");
    assert_eq!(selected(&root), vec![1500, 1501, 1502]);
    let (row, view) = (
        one(&root, "a[data-line=\"1501\"]").get_bounding_client_rect(),
        one(&root, ".log-scroll").get_bounding_client_rect(),
    );
    assert!(
        row.top() >= view.top() && row.bottom() <= view.bottom(),
        "line 1501 is in view"
    );
}

#[wasm_bindgen_test]
async fn a_link_in_the_address_opens_its_closed_step_at_the_lines() {
    opens_at_the_link_in_the_address(false).await;
}

#[wasm_bindgen_test]
async fn a_link_in_the_address_opens_lines_there_before_the_viewer() {
    opens_at_the_link_in_the_address(true).await;
}

/// The timestamps control shows beside each line its time of day (UTC), its time since the
/// log's start, or nothing; the line's text stays as it is.
#[wasm_bindgen_test]
async fn timestamps_show_the_time_of_day_the_time_since_the_start_or_nothing() {
    let root = container();
    let log = timed_log(&[("first", 250), ("a minute later", 61_500)]);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let shown = || {
        dom::all(&root, ".log-line")
            .iter()
            .map(|row| {
                row.query_selector(".ts")
                    .expect("selector")
                    .map(|ts| dom::text(&ts))
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(), [None, None], "off at first");
    for (choice, expected) in [
        ("absolute", [Some("17:34:00.250"), Some("17:35:01.500")]),
        ("relative", [Some("+0:00.250"), Some("+1:01.500")]),
        ("off", [None, None]),
    ] {
        choose_timestamps(&root, choice);
        settle().await;
        assert_eq!(shown(), expected.map(|t| t.map(String::from)), "{choice}");
    }
    assert_eq!(dom::text(&one(&root, ".log-line .lt")), "first");
}

/// With times shown, search reads each line as shown: `17:35:01` finds the line written then,
/// marked in its time; with times off it is not on screen, so it is not found.
#[wasm_bindgen_test]
async fn search_finds_a_shown_timestamp() {
    let root = container();
    let log = timed_log(&[("first", 250), ("a minute later", 61_500), ("last", 61_900)]);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let search: HtmlInputElement = one(&root, "input[type=search]").unchecked_into();
    let status = || dom::text(&one(&root, "#log-search-status"));
    search.set_value("17:35:01");
    dom::fire(&search, "input");
    dom::press(&search, "Enter");
    settle().await;
    assert_eq!(status(), "No matches", "times are off");

    choose_timestamps(&root, "absolute");
    settle().await;
    dom::press(&search, "Enter");
    settle().await;
    assert_eq!(status(), "1 of 2");
    let current = one(&root, "mark.current");
    assert_eq!(dom::text(&current), "17:35:01");
    let row = current
        .closest(".log-line")
        .expect("selector")
        .expect("row");
    assert_eq!(dom::text(&one(&row, "a[data-line]")), "2");
    assert!(
        current.closest(".ts").expect("selector").is_some(),
        "marked in the time"
    );
    // Hiding the times again finds the matches again, in the text only.
    choose_timestamps(&root, "off");
    settle().await;
    assert_eq!(status(), "No matches");
}

/// Past 999,999 lines the line numbers' column widens: the millionth line's number stays
/// clear of its text.
#[wasm_bindgen_test]
async fn the_line_numbers_have_room_for_a_millionth_line() {
    let root = container();
    let log = LiveLog::new();
    log.update(|text| {
        for _ in 0..1_000_000 {
            text.push_line("x", None);
        }
    });
    log.complete.set(true);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let number = one(&root, "a[data-line=\"1000000\"]");
    let text = number.next_element_sibling().expect("the line's text");
    let (digits_end, text_start) = (text_right(&number), text.get_bounding_client_rect().left());
    assert!(
        digits_end + 4.0 <= text_start,
        "the number ends at {digits_end}px, its text starts at {text_start}px"
    );
}

/// A log file read from a stream, in the browser's pieces (a partial line, even a partial
/// character, at the end of one), is the same log as the file read whole; the file is read
/// whole, and the viewer told as lines arrive.
#[wasm_bindgen_test]
async fn a_streamed_file_is_the_same_log_as_the_file_read_whole() {
    let mut raw = String::from("2026-11-25T17:34:00.000Z ##[group]Build\n");
    for n in 0..20_000 {
        raw.push_str(&format!(
            "2026-11-25T17:34:01.{:03}Z line {n} é ü \x1b[1mbold\x1b[0m\n",
            n % 1000
        ));
    }
    raw.push_str("no newline at the end");
    let parts = js_sys::Array::of1(&raw.as_str().into());
    let blob = web_sys::Blob::new_with_str_sequence(&parts).expect("a blob");
    let log = LiveLog::new();
    let revision = log.revision.get_untracked();
    let read = stream::read_into(&blob.stream(), log, || true).await;
    assert_eq!(read, Ok(true));
    let whole = LogText::from_raw(raw.as_bytes());
    log.with(|streamed| {
        assert_eq!(streamed.len(), 20_001);
        assert_eq!(streamed.steps(), whole.steps());
        for line in [0, 1, 9_999, 19_999, 20_000] {
            assert_eq!(streamed.line(line), whole.line(line));
            assert_eq!(streamed.line_styles(line), whole.line_styles(line));
            assert_eq!(streamed.time_ms(line), whole.time_ms(line));
        }
    });
    assert!(
        log.revision.get_untracked() > revision,
        "the viewer was told"
    );
    // A read no longer wanted stops, and says so.
    let again = LiveLog::new();
    let read = stream::read_into(&blob.stream(), again, || false).await;
    assert_eq!(read, Ok(false));
}

/// Wrapping gives a long line the rows it takes at the viewer's width (and marks the viewer
/// for the stylesheet's `pre-wrap`), the next line placed below them; unwrapped, every line is
/// one row again.
#[wasm_bindgen_test]
async fn wrapping_gives_a_long_line_the_rows_it_takes() {
    let root = container();
    let long = "word ".repeat(200);
    let log = timed_log(&[("short", 0), (&long, 0), ("after", 0)]);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let rows = || {
        dom::all(&root, ".log-line")
            .into_iter()
            .map(|row| row.unchecked_into::<HtmlElement>())
            .map(|row| (row.offset_top(), row.offset_height()))
            .collect::<Vec<_>>()
    };
    let wraps = || one(&root, ".log-scroll").class_list().contains("wrap");
    let top = rows()[0].0;
    let unwrapped = vec![(top, 20), (top + 20, 20), (top + 40, 20)];
    assert_eq!((wraps(), rows()), (false, unwrapped.clone()));

    let wrap: HtmlInputElement = one(&root, ".log-options input[type=checkbox]").unchecked_into();
    wrap.set_checked(true);
    dom::fire(&wrap, "change");
    settle().await;
    let wrapped = rows();
    assert!(wraps());
    let long_px = wrapped[1].1;
    assert!(long_px >= 60 && long_px % 20 == 0, "{long_px}px");
    assert_eq!(
        wrapped,
        [(top, 20), (top + 20, long_px), (top + 20 + long_px, 20)]
    );

    wrap.set_checked(false);
    dom::fire(&wrap, "change");
    settle().await;
    assert_eq!((wraps(), rows()), (false, unwrapped));
}

/// Download saves the raw log under the viewer's file name: every line, on screen or not,
/// with its time, its step's `##[group]` header and its colours, as the file it was read from.
#[wasm_bindgen_test]
async fn download_saves_the_raw_log() {
    let mut raw = String::from("2026-11-25T17:34:00.000Z ##[group]Build\n");
    raw.push_str("2026-11-25T17:34:00.250Z \x1b[0;1;38;5;2mgreen\x1b[0m then plain\x1b[0m\n");
    for n in 0..500 {
        raw.push_str(&format!("2026-11-25T17:34:01.{:03}Z line {n}\n", n * 2));
    }
    raw.push_str("2026-11-25T17:35:00.000Z ##[group]Deploy\n2026-11-25T17:35:00.500Z done\n");
    let log = LiveLog::new();
    log.update(|text| *text = LogText::from_raw(raw.as_bytes()));
    log.complete.set(true);
    let root = container();
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let download = JsFuture::from(download_by(&one(&root, ".log-options button")))
        .await
        .expect("downloaded");
    assert!(!download.is_null(), "nothing was downloaded");
    let download: Vec<String> = js_sys::Array::from(&download)
        .iter()
        .map(|part| part.as_string().expect("text"))
        .collect();
    assert_eq!(
        download[..3],
        ["test.log", "true", "text/plain;charset=utf-8"]
    );
    assert!(download[3] == raw, "downloaded:\n{}", download[3]);
}

/// Moves the pointer over line `number`'s text, as a user reaching for its Copy button.
fn hover_line(root: &Element, number: u32) {
    let row = one(root, &format!("a[data-line=\"{number}\"]"))
        .closest(".log-line")
        .expect("selector")
        .expect("the line's row");
    let text = row.query_selector(".lt").expect("selector").expect("text");
    dom::fire(&text, "mouseover");
}

/// A line is three elements (its row, number and text) with no colours or matches; the viewer
/// has one Copy button, which goes to the row under the pointer or holding keyboard focus.
#[wasm_bindgen_test]
async fn a_line_is_three_elements_and_the_copy_button_follows_the_pointer() {
    let root = container();
    let log = timed_log(&[("first", 250), ("second", 500), ("third", 750)]);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let row = |n: u32| {
        one(&root, &format!("a[data-line=\"{n}\"]"))
            .closest(".log-line")
            .expect("selector")
            .expect("row")
    };
    let elements = |n: u32| row(n).query_selector_all("*").expect("selector").length() + 1;
    assert_eq!((elements(1), elements(2), elements(3)), (3, 3, 3));
    assert_eq!(count(&root, "button.copy"), 0);

    hover_line(&root, 2);
    assert_eq!(count(&root, "button.copy"), 1);
    assert_eq!(
        row(2)
            .query_selector("button.copy")
            .expect("selector")
            .map(|b| dom::text(&b)),
        Some("Copy".into())
    );
    let copy = one(&root, "button.copy");
    assert_eq!(
        copy.get_attribute("aria-label").as_deref(),
        Some("Copy line 2")
    );
    // Keyboard focus on a line's number brings the button to that line, next in tab order.
    one(&root, "a[data-line=\"3\"]").focus().expect("focused");
    assert_eq!(count(&root, "button.copy"), 1);
    assert_eq!(copy.get_attribute("data-copy").as_deref(), Some("3"));
    assert!(
        row(3)
            .last_element_child()
            .is_some_and(|last| last == *copy)
    );
    // A render keeps it where it is.
    choose_timestamps(&root, "absolute");
    settle().await;
    assert_eq!(count(&root, "button.copy"), 1);
    assert!(
        row(3)
            .query_selector("button.copy")
            .expect("selector")
            .is_some()
    );
}

/// A line's Copy puts the line's text on the clipboard, without its colours' escape codes or
/// the time beside it, and says so.
#[wasm_bindgen_test]
async fn copy_puts_the_line_text_on_the_clipboard() {
    let root = container();
    let log = timed_log(&[("\x1b[1;32mgreen\x1b[0m then plain", 250), ("second", 500)]);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    choose_timestamps(&root, "absolute");
    settle().await;
    let written = fake_clipboard();
    hover_line(&root, 1);
    one(&root, "[data-copy=\"1\"]").click();
    settle().await;
    real_clipboard();
    assert_eq!(written.to_vec(), ["green then plain"]);
    assert_eq!(
        dom::text(&one(&root, ".log-summary [role=status]")),
        "Line 1 copied"
    );
}

/// Where the browser refuses the write, or the page has no clipboard (plain http), Copy says
/// the line was not copied, and the log's clicks keep working afterwards.
#[wasm_bindgen_test]
async fn copy_says_when_the_line_could_not_be_copied() {
    let root = container();
    let log = timed_log(&[("first", 250), ("second", 500)]);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let status = || dom::text(&one(&root, ".log-summary [role=status]"));
    for (without, line) in [(refusing_clipboard as fn(), 1), (no_clipboard, 2)] {
        without();
        hover_line(&root, line);
        one(&root, &format!("[data-copy=\"{line}\"]")).click();
        settle().await;
        real_clipboard();
        assert_eq!(
            status(),
            format!("Line {line} could not be copied: select it and copy it instead.")
        );
    }
    let written = fake_clipboard();
    hover_line(&root, 2);
    one(&root, "[data-copy=\"2\"]").click();
    settle().await;
    real_clipboard();
    assert_eq!(written.to_vec(), ["second"]);
    assert_eq!(status(), "Line 2 copied");
}

/// Appends `lines` lines to a live log's last step, each saying its line number.
fn grow(log: LiveLog, lines: usize) {
    log.update(|text| {
        for n in text.len()..text.len() + lines {
            text.push_line(&format!("line {}", n + 1), None);
        }
    });
}

/// Whether line `number`'s row is in the DOM and inside the scroller's visible area.
fn in_view(root: &Element, number: u32) -> bool {
    let selector = format!("a[data-line=\"{number}\"]");
    let Some(row) = root.query_selector(&selector).expect("selector") else {
        return false;
    };
    let (row, view) = (
        row.get_bounding_client_rect(),
        one(root, ".log-scroll").get_bounding_client_rect(),
    );
    row.top() >= view.top() && row.bottom() <= view.bottom()
}

/// A live log keeps its newest line in view until the user scrolls up; then new lines leave
/// the view where it is and "Jump to latest" brings it back to the end (and goes away).
#[wasm_bindgen_test]
async fn a_live_log_follows_its_end_until_scrolled_up_then_jumps_to_latest() {
    let root = container();
    let log = LiveLog::new();
    log.update(|text| text.push_header("Build", None));
    grow(log, 100);
    let _mounted = mount_viewer(&root, log, Vec::new());
    settle().await;
    let jump = || count(&root, "button.jump-latest");
    assert!(in_view(&root, 100), "the newest line is in view");
    grow(log, 100);
    settle().await;
    assert!(in_view(&root, 200), "the view followed the new lines");
    assert_eq!(jump(), 0);

    scroll_to_top(&root).await;
    grow(log, 100);
    settle().await;
    assert!(in_view(&root, 1), "the view stayed at the top");
    assert!(!in_view(&root, 300));
    assert_eq!(jump(), 1, "Jump to latest is offered");

    one(&root, "button.jump-latest").click();
    settle().await;
    assert!(in_view(&root, 300), "the view is at the newest line");
    assert_eq!(jump(), 0);
    // Following again: the next lines are shown as they come.
    grow(log, 10);
    settle().await;
    assert!(in_view(&root, 310));
}

/// A failed step is open from the start, a succeeded one closed; a step that fails while the
/// user has it closed opens again.
#[wasm_bindgen_test]
async fn a_failed_step_opens_by_itself() {
    let root = container();
    let log = LiveLog::new();
    log.update(|text| {
        for step in ["Setup", "pulumi update", "Cleanup"] {
            text.push_header(step, None);
            for n in 1..=2 {
                text.push_line(&format!("{step} {n}"), None);
            }
        }
    });
    let steps = RwSignal::new(vec![
        succeeded("Setup"),
        StepRun {
            status: StepStatus::Failed,
            ..succeeded("pulumi update")
        },
        StepRun {
            status: StepStatus::Running,
            ..succeeded("Cleanup")
        },
    ]);
    let _mounted = mount_viewer(&root, log, steps);
    settle().await;
    let expanded = || {
        dom::all(&root, ".step-toggle")
            .iter()
            .map(|toggle| toggle.get_attribute("aria-expanded").as_deref() == Some("true"))
            .collect::<Vec<_>>()
    };
    let lines = || {
        dom::all(&root, ".log-line .lt")
            .iter()
            .map(dom::text)
            .collect::<Vec<_>>()
    };
    let open = [
        "pulumi update 1",
        "pulumi update 2",
        "Cleanup 1",
        "Cleanup 2",
    ];
    assert_eq!(expanded(), [false, true, true]);
    assert_eq!(lines(), open);
    // Closed by the user while running, the step opens again when it fails.
    one(&root, "[data-step=\"2\"]").click();
    settle().await;
    assert_eq!(expanded(), [false, true, false]);
    assert_eq!(lines(), open[..2]);
    steps.update(|runs| runs[2].status = StepStatus::Failed);
    settle().await;
    assert_eq!(expanded(), [false, true, true]);
    assert_eq!(lines(), open);
}
