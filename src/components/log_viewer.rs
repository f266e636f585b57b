//! The log viewer: steps as collapsible sections, a virtual list that keeps only the visible
//! rows in the DOM (fixed row height, an absolutely placed window over a spacer, overscan),
//! live follow, search over the whole log as shown, deep links to lines, timestamps, wrapping,
//! download and copy. This module is the component (toolbar, events); [`controller`] holds the
//! state and does the work; the rows themselves are built in [`rows`].
//!
//! The viewer marks `keyless-log-painted` (first paint of a log), `keyless-log-complete` (every
//! line in, and searchable) and `keyless-log-search` / `keyless-log-search-shown` (a search and
//! its match on screen) with the User Timing API, so the times show in the browser's
//! performance tools.

mod controller;
mod rows;

use keyless_api_types::{StepRun, StepStatus};
use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::KeyboardEvent;

use controller::{ViewState, Viewer, mark};

use crate::log::LogText;
pub use crate::log::live::LiveLog;
use crate::log::search::{self, Query};
use crate::log::times::Timestamps;
use crate::time::now_ms;

/// The height of one row, in pixels (the stylesheet's `.log-row`).
pub const ROW_PX: f64 = 20.0;
/// How long typing pauses before the search runs.
const SEARCH_DELAY_MS: i32 = 200;

/// A deployment's log, or a log file's: the toolbar (search, timestamps, wrap, download) and
/// the virtual list of steps and lines.
#[component]
pub fn LogViewer(
    /// The log; it may keep growing.
    log: LiveLog,
    /// The steps' status from the API, by name (none for a log file).
    #[prop(into, optional)]
    steps: Signal<Vec<StepRun>>,
    /// The name the download gets, e.g. `acme-website-prod-7.log`.
    #[prop(into)]
    file_name: Signal<String>,
) -> impl IntoView {
    let viewer = Viewer {
        log,
        state: StoredValue::new(ViewState::default()),
        scroller: NodeRef::new(),
        spacer: NodeRef::new(),
        rows: NodeRef::new(),
        steps,
        timestamps: RwSignal::new(Timestamps::Off),
        wrap: RwSignal::new(false),
        following: RwSignal::new(true),
        now: RwSignal::new(now_ms()),
        found: RwSignal::new((0, None, None)),
        announcement: RwSignal::new(String::new()),
    };
    let query_text = RwSignal::new(String::new());
    let regex = RwSignal::new(false);
    let case_sensitive = RwSignal::new(false);
    let query = move || Query {
        text: query_text.get_untracked(),
        regex: regex.get_untracked(),
        case_sensitive: case_sensitive.get_untracked(),
    };

    // Lines arrived, or the steps' status changed.
    Effect::new(move |_| {
        log.revision.track();
        log.complete.track();
        steps.track();
        if viewer.scroller.get().is_none() {
            return;
        }
        let first = viewer.state.with_value(|s| s.char_px == 0.0);
        if first {
            viewer.measure_char_width();
        }
        viewer.relayout();
        // After the first layout: lines loaded before the viewer mounted are laid out by now.
        if first {
            viewer.read_link_from_address();
        }
        if viewer.following.get_untracked() {
            viewer.follow();
        }
        viewer.render();
        if log.complete.get_untracked() && !viewer.state.with_value(|s| s.completed) {
            viewer.state.update_value(|s| s.completed = true);
            mark("keyless-log-complete");
        }
    });
    // Display options (with times shown or hidden, the search finds its matches again).
    Effect::new(move |first: Option<()>| {
        viewer.timestamps.track();
        viewer.wrap.track();
        if first.is_some() {
            viewer.relayout();
            viewer.render();
        }
    });
    // Running steps' timers.
    crate::load::every(1_000, move || {
        let running =
            steps.with_untracked(|runs| runs.iter().any(|r| r.status == StepStatus::Running));
        if running {
            viewer.now.set(now_ms());
            viewer.render();
        }
    });
    let hash_changes =
        window_event_listener(ev::hashchange, move |_| viewer.read_link_from_address());
    let resizes = window_event_listener(ev::resize, move |_| {
        if viewer.wrap.get_untracked() {
            viewer.relayout_only();
        }
        viewer.render();
    });
    // Nothing may call into the viewer once it is gone.
    on_cleanup(move || {
        hash_changes.remove();
        resizes.remove();
        if let Some(Some(timer)) = viewer.state.try_with_value(|s| s.search_timer) {
            window().clear_timeout_with_handle(timer);
        }
    });

    let on_scroll = move |_| {
        if let Some(scroller) = viewer.scroller() {
            let bottom = scroller.scroll_top() + scroller.client_height();
            let at_end = f64::from(scroller.scroll_height() - bottom) < ROW_PX * 2.0;
            if viewer.following.get_untracked() != at_end {
                viewer.following.set(at_end);
            }
        }
        viewer.render_if_changed(false);
    };
    let schedule_search = move |_| {
        if let Some(timer) = viewer.state.with_value(|s| s.search_timer) {
            window().clear_timeout_with_handle(timer);
        }
        let run = wasm_bindgen::closure::Closure::once_into_js(move || viewer.search(query()));
        let timer = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                run.unchecked_ref(),
                SEARCH_DELAY_MS,
            )
            .ok();
        viewer.state.update_value(|s| s.search_timer = timer);
    };
    let on_search_key = move |event: KeyboardEvent| {
        if event.key() != "Enter" {
            return;
        }
        event.prevent_default();
        let wanted = query();
        let stale = viewer
            .state
            .with_value(|s| s.query != wanted || s.search_timer.is_some());
        if stale {
            viewer.search(wanted);
            if event.shift_key() {
                viewer.step_match(true);
            }
        } else {
            viewer.step_match(event.shift_key());
        }
    };
    let search_status = move || {
        let (count, current, error) = viewer.found.get();
        if let Some(error) = error {
            return error;
        }
        if query_text.read().is_empty() {
            return String::new();
        }
        match (count, current) {
            (0, _) => "No matches".to_owned(),
            (count, Some(i)) => format!(
                "{} of {count}{}",
                i + 1,
                if count >= search::MAX_MATCHES {
                    "+"
                } else {
                    ""
                }
            ),
            (count, None) => format!("{count} matches"),
        }
    };
    let jump_to_latest = move |_| {
        viewer.following.set(true);
        viewer.follow();
        viewer.render();
    };
    let line_count = move || {
        log.revision.track();
        let lines = log.with(LogText::len);
        let state = if log.complete.get() { "" } else { " · live" };
        format!("{lines} line{}{state}", if lines == 1 { "" } else { "s" })
    };

    view! {
        <section class="log-viewer" aria-label="Log">
            <div class="log-toolbar" role="toolbar" aria-label="Log tools">
                <div class="log-search">
                    <input
                        id="log-search"
                        type="search"
                        placeholder="Search the log"
                        aria-label="Search the log"
                        aria-describedby="log-search-status"
                        autocomplete="off"
                        spellcheck="false"
                        prop:value=move || query_text.get()
                        on:input=move |ev| {
                            query_text.set(event_target_value(&ev));
                            schedule_search(());
                        }
                        on:keydown=on_search_key
                    />
                    <button
                        type="button"
                        class="button secondary small"
                        aria-label="Previous match"
                        title="Previous match (Shift+Enter)"
                        on:click=move |_| viewer.step_match(true)
                    >
                        "↑"
                    </button>
                    <button
                        type="button"
                        class="button secondary small"
                        aria-label="Next match"
                        title="Next match (Enter)"
                        on:click=move |_| viewer.step_match(false)
                    >
                        "↓"
                    </button>
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || regex.get()
                            on:change=move |ev| {
                                regex.set(event_target_checked(&ev));
                                schedule_search(());
                            }
                        />
                        "Regex"
                    </label>
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || case_sensitive.get()
                            on:change=move |ev| {
                                case_sensitive.set(event_target_checked(&ev));
                                schedule_search(());
                            }
                        />
                        "Match case"
                    </label>
                    <span id="log-search-status" class="search-status" role="status">{search_status}</span>
                </div>
                <div class="log-options">
                    <label for="log-timestamps">"Timestamps"</label>
                    <select
                        id="log-timestamps"
                        on:change=move |ev| {
                            viewer.timestamps.set(match event_target_value(&ev).as_str() {
                                "absolute" => Timestamps::Absolute,
                                "relative" => Timestamps::Relative,
                                _ => Timestamps::Off,
                            })
                        }
                    >
                        <option value="off">"Off"</option>
                        <option value="absolute">"Time (UTC)"</option>
                        <option value="relative">"Since start"</option>
                    </select>
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || viewer.wrap.get()
                            on:change=move |ev| viewer.wrap.set(event_target_checked(&ev))
                        />
                        "Wrap lines"
                    </label>
                    <button
                        type="button"
                        class="button secondary small"
                        on:click=move |_| viewer.download(&file_name.get_untracked())
                    >
                        "Download"
                    </button>
                </div>
            </div>
            <p class="log-summary">
                <span>{line_count}</span>
                <span class="visually-hidden" role="status">{move || viewer.announcement.get()}</span>
            </p>
            <div
                class="log-scroll"
                class:wrap=move || viewer.wrap.get()
                tabindex="0"
                aria-label="Log lines"
                node_ref=viewer.scroller
                on:scroll=on_scroll
            >
                <div class="log-spacer" node_ref=viewer.spacer>
                    <div
                        class="log-rows"
                        node_ref=viewer.rows
                        on:click=move |ev| viewer.on_click(ev)
                        on:mouseover=move |ev| viewer.offer_copy(ev.into())
                        on:focusin=move |ev| viewer.offer_copy(ev.into())
                    ></div>
                </div>
            </div>
            <Show when=move || !viewer.following.get()>
                <button type="button" class="button primary jump-latest" on:click=jump_to_latest>
                    "Jump to latest"
                </button>
            </Show>
        </section>
    }
}
