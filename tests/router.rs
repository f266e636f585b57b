//! The console's router in a real browser: links change the page without a reload, a layout
//! stays while the pages under it change, the back button works, and pages can be left and
//! visited again.
#![cfg(target_arch = "wasm32")]

use std::sync::atomic::{AtomicUsize, Ordering};

use keyless_console::router::{A, Outlet, Redirect, Route, Router, Routes, in_app_link, use_param};
use leptos::mount::{UnmountHandle, mount_to};
use leptos::prelude::*;
use leptos::tachys::view::Mountable;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::{Element, HtmlElement};

mod dom;

use dom::{all, container, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

/// How often the stack layout was built.
static LAYOUTS: AtomicUsize = AtomicUsize::new(0);

/// How often the page below `/waiting` was preloaded.
static PRELOADS: AtomicUsize = AtomicUsize::new(0);

/// A stack layout: its name from the address, links to its pages and the page below.
#[component]
fn Layout() -> impl IntoView {
    LAYOUTS.fetch_add(1, Ordering::SeqCst);
    let stack = use_param("stack");
    // An effect that reads the address, as the pages' loaders do.
    let seen = RwSignal::new(String::new());
    Effect::new(move |_| seen.set(stack.get().unwrap_or_default()));
    view! {
        <h1 id="layout">{move || seen.get()}</h1>
        <nav>
            <A href="/acme/dev" exact=true>"Overview"</A>
            <A href="/acme/dev/deployments/1">"One"</A>
            <A href="/acme/dev/deployments/2">"Two"</A>
            <A href="/acme/prod">"Prod"</A>
            <A href="/elsewhere">"Elsewhere"</A>
        </nav>
        <Outlet />
    }
}

#[component]
fn Deployment() -> impl IntoView {
    let version = use_param("version");
    view! { <p id="page">{move || format!("deployment {}", version.get().unwrap_or_default())}</p> }
}

static ROUTES: &[Route] = &[
    Route::leaf("/", || view! { <Redirect path="/acme/dev" /> }.into_any()),
    Route::leaf("/elsewhere", || {
        view! { <p id="page">"elsewhere"</p><A href="/acme/dev">"Back in"</A> }.into_any()
    }),
    // A layout that never shows what is below it, as a stack's page before its module arrives.
    Route {
        path: "/waiting",
        view: || {
            view! { <Suspense>{Suspend::new(std::future::pending::<()>())}</Suspense> }.into_any()
        },
        children: &[
            Route::leaf("below", || view! { <p id="page">"below"</p> }.into_any()).preloaded(
                || {
                    PRELOADS.fetch_add(1, Ordering::SeqCst);
                },
            ),
        ],
        preload: None,
    },
    Route {
        path: "/:org/:stack",
        view: || view! { <Layout /> }.into_any(),
        children: &[
            Route::leaf("", || view! { <p id="page">"overview"</p> }.into_any()),
            Route {
                path: "deployments/:version",
                // As the console's pages are: behind a `Suspense`, as their module loads.
                view: || {
                    let page = async { view! { <Deployment /> }.into_any() };
                    view! { <Suspense>{Suspend::new(page)}</Suspense> }.into_any()
                },
                children: &[],
                preload: None,
            },
        ],
        preload: None,
    },
];

fn go(path: &str) {
    window()
        .history()
        .expect("history")
        .replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path))
        .expect("address set");
}

/// Mounts the routes; each test unmounts them at its end (dropping the handle), so that one
/// router at a time listens to the window.
fn mount() -> (Element, UnmountHandle<impl Mountable>) {
    let root = container();
    let mounted = mount_to(root.clone(), || {
        view! {
            <Router>
                <Routes routes=ROUTES fallback=|| view! { <p id="page">"not found"</p> }.into_any() />
            </Router>
        }
    });
    (root.into(), mounted)
}

fn shown(root: &Element, id: &str) -> String {
    all(root, &format!("#{id}"))
        .first()
        .map(text)
        .unwrap_or_default()
}

/// Waits up to a second for the page to show `wanted` in `#page` (a navigation changes the
/// page in a task of its own).
async fn page_shows(root: &Element, wanted: &str) {
    for _ in 0..100 {
        if shown(root, "page") == wanted {
            return;
        }
        dom::wait(10).await;
    }
    assert_eq!(shown(root, "page"), wanted);
}

async fn click(root: &Element, label: &str) {
    let link = all(root, "a")
        .into_iter()
        .find(|a| text(a) == label)
        .unwrap_or_else(|| panic!("no link {label:?}"));
    link.unchecked_into::<HtmlElement>().click();
    settle().await;
}

fn current_links(root: &Element) -> Vec<String> {
    all(root, "a[aria-current=page]").iter().map(text).collect()
}

fn path() -> String {
    window().location().pathname().expect("path")
}

#[wasm_bindgen_test]
async fn links_change_pages_in_place_and_the_layout_stays() {
    go("/");
    let (root, _mounted) = mount();
    page_shows(&root, "overview").await;
    assert_eq!(path(), "/acme/dev", "/ redirects");
    assert_eq!(shown(&root, "layout"), "dev");
    assert_eq!(current_links(&root), ["Overview"]);
    let built = LAYOUTS.load(Ordering::SeqCst);

    click(&root, "One").await;
    assert_eq!(path(), "/acme/dev/deployments/1");
    page_shows(&root, "deployment 1").await;
    assert_eq!(current_links(&root), ["One"], "Overview is exact");
    click(&root, "Two").await;
    page_shows(&root, "deployment 2").await;
    click(&root, "Prod").await;
    page_shows(&root, "overview").await;
    assert_eq!(
        shown(&root, "layout"),
        "prod",
        "the layout reads its new stack"
    );
    assert_eq!(
        LAYOUTS.load(Ordering::SeqCst),
        built,
        "moving under one layout does not build it again"
    );

    window().history().expect("history").back().expect("back");
    page_shows(&root, "deployment 2").await;
    assert_eq!(path(), "/acme/dev/deployments/2");
    assert_eq!(shown(&root, "layout"), "dev");
}

#[wasm_bindgen_test]
async fn leaving_a_page_and_coming_back_keeps_working() {
    go("/acme/dev/deployments/1");
    let (root, _mounted) = mount();
    settle().await;
    // The layout's links, its effect and the page's parameter go with it each time it is left;
    // a panic on the way would stop the app.
    for _ in 0..3 {
        click(&root, "Elsewhere").await;
        page_shows(&root, "elsewhere").await;
        assert!(all(&root, "#layout").is_empty());
        click(&root, "Back in").await;
        page_shows(&root, "overview").await;
        click(&root, "Two").await;
        page_shows(&root, "deployment 2").await;
    }
}

#[wasm_bindgen_test]
async fn an_unknown_address_shows_the_fallback() {
    go("/acme/dev/deployments/1/more");
    let (root, _mounted) = mount();
    settle().await;
    page_shows(&root, "not found").await;
    assert!(all(&root, "#layout").is_empty());
}

/// Whether the router would take over `init`'s click on a link made from `html`. The click is
/// looked at on the link itself and then cancelled, so the browser follows nothing.
fn taken_over(html: &str, init: &web_sys::MouseEventInit) -> bool {
    let root = container();
    root.set_inner_html(html);
    let link = root.first_element_child().expect("a link");
    let taken = std::rc::Rc::new(std::cell::Cell::new(false));
    let seen = taken.clone();
    let listener = wasm_bindgen::closure::Closure::<dyn Fn(web_sys::MouseEvent)>::new(
        move |event: web_sys::MouseEvent| {
            seen.set(in_app_link(&event).is_some());
            event.prevent_default();
        },
    );
    link.add_event_listener_with_callback("click", listener.as_ref().unchecked_ref())
        .expect("listener");
    init.set_bubbles(true);
    init.set_cancelable(true);
    let event = web_sys::MouseEvent::new_with_mouse_event_init_dict("click", init).expect("event");
    link.dispatch_event(&event).expect("dispatched");
    root.remove();
    taken.get()
}

#[wasm_bindgen_test]
fn only_plain_clicks_on_same_origin_links_in_this_tab_are_taken_over() {
    let plain = web_sys::MouseEventInit::new();
    assert!(taken_over(r#"<a href="/stacks">x</a>"#, &plain));
    assert!(taken_over(
        r#"<a href="/stacks"><span>inside</span></a>"#,
        &plain
    ));
    for other in [
        r#"<a href="https://example.com/stacks">x</a>"#,
        r#"<a href="/stacks" target="_blank">x</a>"#,
        r#"<a href="/stacks" download>x</a>"#,
        r#"<a href="/api/stacks" rel="noopener external">x</a>"#,
        r#"<a>no href</a>"#,
    ] {
        assert!(!taken_over(other, &plain), "{other}");
    }
    for modified in [
        |i: &web_sys::MouseEventInit| i.set_ctrl_key(true),
        |i: &web_sys::MouseEventInit| i.set_meta_key(true),
        |i: &web_sys::MouseEventInit| i.set_shift_key(true),
        |i: &web_sys::MouseEventInit| i.set_alt_key(true),
        |i: &web_sys::MouseEventInit| i.set_button(1),
    ] {
        let init = web_sys::MouseEventInit::new();
        modified(&init);
        assert!(!taken_over(r#"<a href="/stacks">x</a>"#, &init));
    }
}

#[wasm_bindgen_test]
async fn a_page_is_preloaded_before_the_page_above_it_shows() {
    go("/waiting/below");
    let (root, _mounted) = mount();
    settle().await;
    dom::wait(20).await;
    assert_eq!(PRELOADS.load(Ordering::SeqCst), 1, "preloaded once");
    assert_eq!(
        shown(&root, "page"),
        "",
        "not shown: the layout above is still waiting"
    );
}
