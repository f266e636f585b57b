//! A `config.json` the console cannot use, in a real browser: the sign-in page says why, and no
//! API call goes anywhere. Its own test binary, since the console reads its configuration once.
#![cfg(target_arch = "wasm32")]

use keyless_console::api::{self, ApiFailure, Client};
use keyless_console::pages::sign_in::SignInPage;
use keyless_console::router::Router;
use keyless_console::session::Session;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

mod dom;

use dom::{all, container, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn a_malformed_config_is_shown_on_the_sign_in_page() {
    // `/config.json` answers JSON that names no usable URL; any other call is recorded.
    let fetch = js_sys::Function::new_with_args(
        "input, init",
        r#"
        const path = new URL(new Request(input, init).url).pathname;
        if (path === '/config.json') return Promise.resolve(new Response(
            '{"apiBaseUrl": "api.example.com"}',
            {status: 200, headers: {'Content-Type': 'application/json'}}));
        window.__calls = (window.__calls || 0) + 1;
        return Promise.resolve(new Response('{}', {status: 500}));
        "#,
    );
    js_sys::Reflect::set(&window(), &"fetch".into(), &fetch).expect("fetch replaced");
    api::configure().await;

    let why = api::config_error().expect("the configuration is refused");
    assert!(
        why.contains("config.json") && why.contains("api.example.com"),
        "{why}"
    );
    match Client::new("pul-token", None).user().await {
        Err(ApiFailure::Network(reason)) => assert_eq!(reason, why),
        other => panic!("a call went out: {other:?}"),
    }
    let calls = js_sys::Reflect::get(&window(), &"__calls".into()).expect("calls");
    assert!(calls.is_undefined(), "no request may leave");

    let root = container();
    let mounted = mount_to(root.clone(), || {
        provide_context(Session::new(None, None));
        view! { <Router><SignInPage /></Router> }
    });
    settle().await;
    let alerts: Vec<String> = all(&root, "[role=alert]").iter().map(text).collect();
    assert!(
        alerts.iter().any(|alert| alert.contains(&why)),
        "{alerts:?}"
    );
    drop(mounted);
}
