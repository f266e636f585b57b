//! Times in a real browser: relative text, the exact local time in `title`, the machine time in
//! `datetime`.
#![cfg(target_arch = "wasm32")]

use keyless_console::components::{RelativeTime, api_time};
use keyless_console::time::now_ms;
use leptos::mount::mount_to;
use leptos::prelude::*;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use web_sys::Element;

mod dom;

use dom::{all, container, settle, text};

wasm_bindgen_test_configure!(run_in_browser);

fn mount(view: impl FnOnce() -> AnyView + 'static) -> Element {
    let root = container();
    std::mem::forget(mount_to(root.clone(), view));
    root.into()
}

/// The browser's own local reading of `ms`, `YYYY-MM-DD HH:MM:SS`, to check the title against.
fn browser_local(ms: i64) -> String {
    let date = js_sys::Date::new(&(ms as f64).into());
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        date.get_full_year(),
        date.get_month() + 1,
        date.get_date(),
        date.get_hours(),
        date.get_minutes(),
        date.get_seconds()
    )
}

#[wasm_bindgen_test]
async fn a_recent_time_reads_relative_with_the_exact_local_time_on_hover() {
    let at = now_ms() - 3 * 60_000 - 5_000;
    let root = mount(move || view! { <RelativeTime ms=at /> }.into_any());
    settle().await;
    let time = &all(&root, "time")[0];
    assert_eq!(text(time), "3 min ago");
    let title = time.get_attribute("title").expect("a title");
    assert!(
        title.starts_with(&browser_local(at)),
        "{title} vs {}",
        browser_local(at)
    );
    assert!(title.contains(" UTC"), "{title} names its offset");
    let datetime = time.get_attribute("datetime").expect("a datetime");
    assert_eq!(
        js_sys::Date::parse(&datetime) as i64,
        at,
        "{datetime} is the same instant"
    );
}

#[wasm_bindgen_test]
async fn api_times_show_relative_and_unreadable_ones_as_written() {
    let root = mount(|| {
        view! {
            <p>{api_time("2000-02-29T12:34:56.5Z")}</p>
            <p>{api_time("yesterday-ish")}</p>
        }
        .into_any()
    });
    settle().await;
    let times = all(&root, "time");
    assert_eq!(text(&times[0]), browser_local(951_827_696_500)[..10]);
    assert_eq!(
        times[0].get_attribute("datetime").as_deref(),
        Some("2000-02-29T12:34:56.500Z")
    );
    assert!(
        times[0]
            .get_attribute("title")
            .expect("a title")
            .starts_with(&browser_local(951_827_696_500))
    );
    assert_eq!(text(&times[1]), "yesterday-ish");
    assert_eq!(times[1].get_attribute("title"), None);
}
