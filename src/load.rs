//! Reading from the API into a signal, and what a page shows while it reads or when it fails.
//!
//! `LocalResource` + `<Transition>` + `Suspend` would do the same, but cost about a fifth of the
//! console's wasm; this is the small subset the console needs.

use std::future::Future;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiFailure;

/// The state of one read: `None` while it is under way.
pub type Loaded<T> = ReadSignal<Option<Result<T, ApiFailure>>>;

/// Runs `fetch` now and again whenever a signal it reads before its first `.await` changes;
/// only the latest run's answer is kept.
pub fn load<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> Loaded<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiFailure>> + 'static,
{
    load_keeping(fetch, false)
}

/// Like [`load`], but a rerun keeps the last answer on screen until the new one arrives (for
/// lists that refresh themselves).
pub fn load_live<T, Fut>(fetch: impl Fn() -> Fut + 'static) -> Loaded<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiFailure>> + 'static,
{
    load_keeping(fetch, true)
}

fn load_keeping<T, Fut>(fetch: impl Fn() -> Fut + 'static, keep_last: bool) -> Loaded<T>
where
    T: Send + Sync + 'static,
    Fut: Future<Output = Result<T, ApiFailure>> + 'static,
{
    let (state, set_state) = signal(None);
    let latest = StoredValue::new(0_u64);
    Effect::new(move |_| {
        let answer = fetch();
        let run = latest.try_get_value().unwrap_or_default() + 1;
        latest.set_value(run);
        if !keep_last {
            set_state.set(None);
        }
        spawn_local(async move {
            let result = answer.await;
            if latest.try_get_value() == Some(run) {
                set_state.set(Some(result));
            }
        });
    });
    state
}

/// Shown while `what` loads: "Loading the stacks…".
pub fn loading(what: &str) -> AnyView {
    view! { <p class="loading" role="status">{format!("Loading the {what}…")}</p> }.into_any()
}

/// Shown when `what` could not be loaded, with why.
pub fn load_failed(what: &str, failure: &ApiFailure) -> AnyView {
    view! { <p class="alert" role="alert">{format!("The {what} could not be loaded. {failure}")}</p> }
        .into_any()
}

/// Runs `tick` every `millis` milliseconds while the calling component is mounted.
pub fn every(millis: u64, tick: impl Fn() + 'static) {
    if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_millis(millis)) {
        on_cleanup(move || handle.clear());
    }
}
