//! The access tokens page in a real browser, against a fake `fetch` that keeps tokens the way
//! the server does: made, listed without their values, deleted.
#![cfg(target_arch = "wasm32")]

use keyless_console::pages::tokens::TokensPage;
use keyless_console::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement, HtmlInputElement};

mod dom;

use dom::{all, container, fire, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

const VALUE: &str = "pul-0123456789abcdef0123456789abcdef01234567";

/// The fake API: `window.__tokens` holds the tokens and every call made. The client calls
/// `fetch` with a `Request`; `new Request(input, init)` reads either form.
const FAKE_FETCH: &str = r#"
return (async () => {
const state = window.__tokens;
const request = new Request(input, init);
const method = request.method;
const path = new URL(request.url).pathname;
const body = await request.text();
state.calls.push(method + ' ' + path + (body ? ' ' + body : ''));
const json = (status, body) => new Response(JSON.stringify(body),
    {status, headers: {'Content-Type': 'application/json'}});
if (path === '/api/user/tokens' && method === 'GET') return json(200, {tokens: state.tokens});
if (path === '/api/user/tokens' && method === 'POST') {
    const wanted = JSON.parse(body);
    if (wanted.description === 'refuse') return json(400, {code: 400, message: 'description is refused'});
    const id = 'id-' + (state.tokens.length + 1);
    state.tokens.unshift({id, description: wanted.description, created: '2026-12-01T09:30:00.000000Z',
        lastUsed: 0, expires: wanted.expires});
    return json(200, {id, tokenValue: state.value});
}
if (method === 'DELETE') {
    const id = path.split('/').pop();
    state.tokens = state.tokens.filter(t => t.id !== id);
    return new Response(null, {status: 204});
}
return json(404, {code: 404, message: 'no such endpoint'});
})();
"#;

/// Installs the fake API holding one token, used once and never expiring.
fn fake_api() {
    let state = js_sys::JSON::parse(&format!(
        r#"{{"calls": [], "value": "{VALUE}", "tokens": [{{"id": "id-0", "description": "laptop",
            "created": "2026-11-25T17:34:00.000000Z", "lastUsed": 1800000000, "expires": 0}}]}}"#
    ))
    .expect("state");
    let window = window();
    js_sys::Reflect::set(&window, &"__tokens".into(), &state).expect("state set");
    let fetch = js_sys::Function::new_with_args("input, init", FAKE_FETCH);
    js_sys::Reflect::set(&window, &"fetch".into(), &fetch).expect("fetch replaced");
}

/// The calls the page made, as `METHOD path [body]`.
fn calls() -> Vec<String> {
    let state = js_sys::Reflect::get(&window(), &"__tokens".into()).expect("state");
    let calls = js_sys::Reflect::get(&state, &"calls".into()).expect("calls");
    js_sys::Array::from(&calls)
        .iter()
        .filter_map(|call| call.as_string())
        .collect()
}

fn mount() -> HtmlElement {
    fake_api();
    let root = container();
    let mounted = mount_to(root.clone(), || {
        provide_context(Session::new(Some("test-token".into()), None));
        view! { <TokensPage /> }
    });
    std::mem::forget(mounted);
    root
}

/// Waits until `ready` holds, failing after a while.
async fn until(what: &str, ready: impl Fn() -> bool) {
    for _ in 0..100 {
        if ready() {
            return;
        }
        settle().await;
    }
    panic!("never: {what}");
}

fn button(root: &Element, name: &str) -> HtmlElement {
    all(root, "button")
        .into_iter()
        .find(|b| b.get_attribute("aria-label").unwrap_or_else(|| text(b)) == name)
        .unwrap_or_else(|| panic!("no button {name:?}"))
        .unchecked_into()
}

fn has_button(root: &Element, name: &str) -> bool {
    all(root, "button")
        .iter()
        .any(|b| b.get_attribute("aria-label").unwrap_or_else(|| text(b)) == name)
}

/// Each row's cells, joined by " | ".
fn rows(root: &Element) -> Vec<String> {
    all(root, "tbody tr")
        .iter()
        .map(|row| {
            all(row, "td")
                .iter()
                .map(text)
                .collect::<Vec<_>>()
                .join(" | ")
        })
        .collect()
}

/// Each row's times, as their `datetime` attributes (the text is relative to now).
fn row_times(root: &Element) -> Vec<Vec<String>> {
    all(root, "tbody tr")
        .iter()
        .map(|row| {
            all(row, "time")
                .iter()
                .filter_map(|time| time.get_attribute("datetime"))
                .collect()
        })
        .collect()
}

fn alerts(root: &Element) -> Vec<String> {
    all(root, "[role=alert]").iter().map(text).collect()
}

/// The element with `id` in this test's page (earlier tests' pages stay in the document).
fn find(root: &Element, id: &str) -> Option<Element> {
    root.query_selector(&format!("#{id}")).expect("selector")
}

fn by_id<T: JsCast>(root: &Element, id: &str) -> T {
    find(root, id)
        .unwrap_or_else(|| panic!("no #{id}"))
        .unchecked_into()
}

fn type_description(root: &Element, value: &str) {
    let input: HtmlInputElement = by_id(root, "token-description");
    input.set_value(value);
    fire(&input, "input");
}

#[wasm_bindgen_test]
async fn lists_tokens_with_never_for_what_has_not_happened() {
    let root = mount();
    until("the list", || rows(&root).len() == 1).await;
    let cells: Vec<String> = rows(&root)[0].split(" | ").map(str::to_owned).collect();
    assert_eq!(
        (cells[0].as_str(), cells[3].as_str(), cells[4].as_str()),
        ("laptop", "never", "Delete")
    );
    assert_eq!(
        row_times(&root),
        [["2026-11-25T17:34:00.000Z", "2027-01-15T08:00:00.000Z"]]
    );
    assert!(!text(&root).contains(VALUE));
}

#[wasm_bindgen_test]
async fn a_new_token_is_shown_once_with_a_copy_button() {
    let root = mount();
    until("the list", || rows(&root).len() == 1).await;
    type_description(&root, "ci pipeline");
    let select: Element = by_id(&root, "token-lifetime");
    js_sys::Reflect::set(&select, &"value".into(), &"0".into()).expect("30 days chosen");
    fire(&select, "change");
    button(&root, "Create token").click();
    until("the new value", || {
        assert!(
            alerts(&root).is_empty(),
            "{:?} {:?}",
            alerts(&root),
            calls()
        );
        find(&root, "new-token-value").is_some()
    })
    .await;
    let value: HtmlInputElement = by_id(&root, "new-token-value");
    assert_eq!(value.value(), VALUE);
    assert!(text(&root).contains("it will not be shown again"));
    assert!(has_button(&root, "Copy the access token"));
    until("the new row", || rows(&root).len() == 2).await;
    assert!(rows(&root)[0].starts_with("ci pipeline | "));
    assert_eq!(row_times(&root)[0][0], "2026-12-01T09:30:00.000Z");
    assert_eq!(rows(&root)[0].split(" | ").nth(2), Some("never"));

    let post = calls()
        .into_iter()
        .find(|c| c.starts_with("POST"))
        .expect("a POST");
    let body: serde_json::Value =
        serde_json::from_str(post.splitn(3, ' ').nth(2).expect("a body")).expect("JSON");
    assert_eq!(body["description"], "ci pipeline");
    let expires = body["expires"].as_i64().expect("expires");
    let in_30_days = js_sys::Date::now() as i64 / 1_000 + 30 * 86_400;
    assert!(
        (expires - in_30_days).abs() < 60,
        "{expires} vs {in_30_days}"
    );
    // The description is cleared for the next token.
    assert_eq!(
        by_id::<HtmlInputElement>(&root, "token-description").value(),
        ""
    );
}

#[wasm_bindgen_test]
async fn a_token_needs_a_description() {
    let root = mount();
    until("the list", || rows(&root).len() == 1).await;
    button(&root, "Create token").click();
    until("the error", || !alerts(&root).is_empty()).await;
    assert_eq!(alerts(&root), ["The description is required."]);
    assert!(calls().iter().all(|c| !c.starts_with("POST")));
}

#[wasm_bindgen_test]
async fn the_servers_refusal_is_shown_in_the_page() {
    let root = mount();
    until("the list", || rows(&root).len() == 1).await;
    type_description(&root, "refuse");
    button(&root, "Create token").click();
    until("the error", || !alerts(&root).is_empty()).await;
    assert_eq!(
        alerts(&root),
        ["The token was not created. description is refused"]
    );
    assert!(find(&root, "new-token-value").is_none());
}

#[wasm_bindgen_test]
async fn deleting_asks_first() {
    let root = mount();
    until("the list", || rows(&root).len() == 1).await;
    button(&root, "Delete laptop").click();
    until("the question", || has_button(&root, "Delete token")).await;
    assert!(text(&root).contains("Requests made with this token will be refused."));
    button(&root, "Cancel").click();
    until("the question to go", || !has_button(&root, "Delete token")).await;
    assert!(calls().iter().all(|c| !c.starts_with("DELETE")));

    button(&root, "Delete laptop").click();
    until("the question", || has_button(&root, "Delete token")).await;
    button(&root, "Delete token").click();
    until("the empty list", || text(&root).contains("No tokens yet.")).await;
    assert!(calls().contains(&"DELETE /api/user/tokens/id-0".to_owned()));
}
