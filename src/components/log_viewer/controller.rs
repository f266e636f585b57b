//! The viewer's controller: its state outside the reactive system ([`ViewState`]) and the
//! [`Viewer`] handle whose methods lay out, render, search, follow, link and copy; the
//! component in `log_viewer.rs` wires them to the DOM's events.

use keyless_api_types::{StepRun, StepStatus};
use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{Element, Event, HtmlElement, MouseEvent};

use super::{ROW_PX, rows};
use crate::clipboard;
use crate::log::LogText;
use crate::log::layout::{Item, Layout};
use crate::log::link::LineRange;
use crate::log::live::LiveLog;
use crate::log::search::{self, Match, Query};
use crate::log::times::Timestamps;
use crate::log::window::{self, Align};

/// Rows rendered above and below the visible ones: enough for a wheel step, few enough to keep
/// the DOM small.
const OVERSCAN: u64 = 10;
/// The narrowest line numbers' column, in `ch` (six digits).
const MIN_GUTTER_CH: u32 = 7;
/// The bytes of each piece of a download (the file is never one string).
const DOWNLOAD_PIECE: usize = 1 << 20;

/// The viewer's own state, kept out of the reactive system.
#[derive(Default)]
pub(super) struct ViewState {
    pub(super) layout: Layout,
    pub(super) open: Vec<bool>,
    /// Steps already opened because they failed (the user may close them again).
    pub(super) opened_failed: Vec<bool>,
    pub(super) query: Query,
    pub(super) matches: Vec<Match>,
    pub(super) searched_to: usize,
    /// The times shown when the matches were found (search reads the lines as shown).
    pub(super) searched_with: Timestamps,
    pub(super) current: Option<usize>,
    pub(super) selection: Option<LineRange>,
    pub(super) anchor: Option<u32>,
    pub(super) pending_link: Option<LineRange>,
    pub(super) char_px: f64,
    pub(super) painted: bool,
    /// Whether `keyless-log-complete` was marked.
    pub(super) completed: bool,
    pub(super) mark_search_shown: bool,
    pub(super) search_timer: Option<i32>,
    /// What the DOM shows: (first row, end row, render generation, pinned step).
    pub(super) shown: Option<(u64, u64, u64, Option<usize>)>,
    /// Where the rows are (their `translateY`), and the step header pinned over them.
    pub(super) rows_top: f64,
    pub(super) pinned: Option<Element>,
    pub(super) generation: u64,
    /// The viewer's one Copy button, once made, and the line whose row holds it.
    pub(super) copy: Option<Element>,
    pub(super) copy_line: Option<u32>,
}

/// Whole pixels for CSS (formatting floats would add their formatter to the download).
fn px(value: f64) -> String {
    format!("{}px", value.round() as i64)
}

/// The width of the line numbers' column for a log of `lines` lines, in `ch`.
fn gutter(lines: usize) -> u32 {
    rows::gutter_ch(lines).max(MIN_GUTTER_CH)
}

/// The height rows are rendered for: the scroller's, but never more than the window's (a
/// scroller left unstyled grows to its content, which must not put every line in the DOM).
fn viewport_px(scroller: &HtmlElement) -> f64 {
    let screen = window()
        .inner_height()
        .ok()
        .and_then(|h| h.as_f64())
        .unwrap_or(1_000.0);
    f64::from(scroller.client_height()).min(screen).max(ROW_PX)
}

/// Marks a User Timing entry.
pub(super) fn mark(name: &'static str) {
    if let Some(performance) = window().performance() {
        let _ = performance.mark(name);
    }
}

/// Everything the viewer's closures share; every field is a cheap handle.
#[derive(Clone, Copy)]
pub(super) struct Viewer {
    pub(super) log: LiveLog,
    pub(super) state: StoredValue<ViewState>,
    pub(super) scroller: NodeRef<Div>,
    pub(super) spacer: NodeRef<Div>,
    pub(super) rows: NodeRef<Div>,
    pub(super) steps: Signal<Vec<StepRun>>,
    pub(super) timestamps: RwSignal<Timestamps>,
    pub(super) wrap: RwSignal<bool>,
    pub(super) following: RwSignal<bool>,
    pub(super) now: RwSignal<i64>,
    /// (matches, current match, error) for the search's status line.
    pub(super) found: RwSignal<(usize, Option<usize>, Option<String>)>,
    pub(super) announcement: RwSignal<String>,
}

impl Viewer {
    pub(super) fn scroller(&self) -> Option<HtmlElement> {
        self.scroller.get_untracked().map(|e| e.unchecked_into())
    }

    /// The columns a line has when wrapping, from the viewer's width.
    pub(super) fn wrap_columns(&self) -> Option<u32> {
        if !self.wrap.get_untracked() {
            return None;
        }
        let scroller = self.scroller()?;
        let char_px = self.state.with_value(|s| s.char_px);
        if char_px <= 0.0 {
            return Some(80);
        }
        // The line numbers, the time 13ch, room for Copy 5ch (the stylesheet's widths).
        let numbers = f64::from(self.log.with(|log| gutter(log.len())));
        let gutter = match self.timestamps.get_untracked() {
            Timestamps::Off => numbers + 5.0,
            _ => numbers + 18.0,
        };
        let columns = (f64::from(scroller.client_width()) / char_px - gutter).floor();
        Some(columns.max(20.0) as u32)
    }

    /// Lays the rows out again after the log, the steps' state or the options changed.
    pub(super) fn relayout(&self) {
        let columns = self.wrap_columns();
        let runs = self.steps.get_untracked();
        let timestamps = self.timestamps.get_untracked();
        self.log.with(|log| {
            self.state.update_value(|state| {
                for (index, step) in log.steps().iter().enumerate() {
                    let run = rows::step_run(&runs, &step.name);
                    let failed = run.is_some_and(|r| r.status == StepStatus::Failed);
                    if index >= state.open.len() {
                        let succeeded = run.is_some_and(|r| r.status == StepStatus::Succeeded);
                        state.open.push(!succeeded);
                        state.opened_failed.push(false);
                    }
                    if failed && !state.opened_failed[index] {
                        state.opened_failed[index] = true;
                        state.open[index] = true;
                    }
                }
                if !state.query.text.is_empty() && state.searched_with != timestamps {
                    // The lines as shown changed: every match is found again.
                    state.matches.clear();
                    state.searched_to = 0;
                    state.current = None;
                    state.searched_with = timestamps;
                }
                if !state.query.text.is_empty() && state.searched_to < log.len() {
                    let _ = search::find(
                        log,
                        &state.query,
                        timestamps,
                        state.searched_to,
                        &mut state.matches,
                    );
                    state.searched_to = log.len();
                }
                state.layout.update(log, &state.open, columns);
            });
        });
        let (count, current) = self.state.with_value(|s| (s.matches.len(), s.current));
        self.found.update(|f| (f.0, f.1) = (count, current));
        self.apply_pending_link();
    }

    /// Opens the viewer at a deep link once its lines have arrived.
    pub(super) fn apply_pending_link(&self) {
        let Some(range) = self.state.with_value(|s| s.pending_link) else {
            return;
        };
        let (lines, complete) = (
            self.log.with(LogText::len),
            self.log.complete.get_untracked(),
        );
        if (range.last as usize) > lines && !complete {
            return;
        }
        self.state.update_value(|s| s.pending_link = None);
        if range.first as usize > lines {
            return;
        }
        self.state.update_value(|s| {
            s.selection = Some(range);
            s.anchor = Some(range.first);
        });
        self.reveal_line(range.first as usize - 1, Align::Center);
    }

    /// Opens the step holding `line` (from 0) and scrolls to it.
    pub(super) fn reveal_line(&self, line: usize, align: Align) {
        let step = self.log.with(|log| log.step_of_line(line));
        let closed = self
            .state
            .with_value(|s| !s.open.get(step).copied().unwrap_or(true));
        if closed {
            self.state.update_value(|s| s.open[step] = true);
            self.relayout_only();
        }
        let row = self.log.with(|log| {
            self.state
                .with_value(|s| s.layout.row_of_line(log, &s.open, line))
        });
        if let Some(row) = row {
            self.following.set(false);
            self.scroll_to_row(row, align);
        }
    }

    pub(super) fn relayout_only(&self) {
        let columns = self.wrap_columns();
        self.log.with(|log| {
            self.state
                .update_value(|s| s.layout.update(log, &s.open, columns));
        });
    }

    pub(super) fn scroll_to_row(&self, row: u64, align: Align) {
        let Some(scroller) = self.scroller() else {
            return;
        };
        self.size_spacer();
        let total = self.state.with_value(|s| s.layout.total_rows());
        let viewport = viewport_px(&scroller);
        let top = window::scroll_top_for_row(total, ROW_PX, viewport, row, align);
        scroller.set_scroll_top(top.round() as i32);
        self.render();
    }

    pub(super) fn size_spacer(&self) {
        let total = self.state.with_value(|s| s.layout.total_rows());
        if let Some(spacer) = self.spacer.get_untracked() {
            let spacer: HtmlElement = spacer.unchecked_into();
            let _ = spacer
                .style()
                .set_property("height", &px(window::spacer_px(total, ROW_PX)));
        }
    }

    /// Follows the end of a growing log.
    pub(super) fn follow(&self) {
        if let Some(scroller) = self.scroller() {
            self.size_spacer();
            scroller.set_scroll_top(scroller.scroll_height());
        }
    }

    /// Puts the rows in view into the DOM (only when they changed, unless `force`).
    pub(super) fn render_if_changed(&self, force: bool) {
        let Some(scroller) = self.scroller() else {
            return;
        };
        let Some(rows_el) = self.rows.get_untracked() else {
            return;
        };
        self.size_spacer();
        let total = self.state.with_value(|s| s.layout.total_rows());
        let viewport = viewport_px(&scroller);
        let scroll_top = f64::from(scroller.scroll_top());
        let view = window::window(total, ROW_PX, viewport, scroll_top, OVERSCAN);
        let pinned = self.pinned_step(total, viewport, scroll_top);
        let generation = self.state.with_value(|s| s.generation);
        let key = (view.first, view.end, generation, pinned);
        if !force && self.state.with_value(|s| s.shown.as_ref() == Some(&key)) {
            self.place_pinned(scroll_top);
            return;
        }
        self.state.update_value(|s| s.shown = Some(key));
        let document = document();
        // Keep keyboard focus on the same control across the rebuild.
        let focused = document.active_element().and_then(|active| {
            ["data-step", "data-line", "data-copy"]
                .into_iter()
                .find_map(|name| {
                    active
                        .get_attribute(name)
                        .map(|value| format!("[{name}=\"{value}\"]"))
                })
        });
        let rows_el: HtmlElement = rows_el.unchecked_into();
        let runs = self.steps.get_untracked();
        let now = self.now.get_untracked();
        let timestamps = self.timestamps.get_untracked();
        let fragment = document.create_document_fragment();
        let mut top = view.top_px;
        let mut time = String::new();
        let mut pinned_header = None;
        self.log.with(|log| {
            self.state.with_value(|state| {
                let gutter = format!("width:{}ch", gutter(log.len()));
                let look = rows::LineLook {
                    timestamps,
                    gutter: &gutter,
                    selection: state.selection,
                    matches: &state.matches,
                    current: state.current.and_then(|i| state.matches.get(i).copied()),
                    copy: state
                        .copy
                        .as_ref()
                        .zip(state.copy_line)
                        .map(|(b, n)| (n, b)),
                };
                let mut row = view.first;
                if let Some((_, item_row)) = state.layout.item_at(log, row) {
                    top -= (row - item_row) as f64 * ROW_PX;
                    row = item_row;
                }
                // The header of the step in view stays at the top of the view.
                if let Some(step) = pinned {
                    let open = state.open.get(step).copied().unwrap_or(true);
                    let header = rows::header_row(&document, log, open, &runs, now, step);
                    rows::pin(&header, scroll_top - top);
                    let _ = fragment.append_child(&header);
                    pinned_header = Some(header);
                }
                while row < view.end {
                    let Some((item, _)) = state.layout.item_at(log, row) else {
                        break;
                    };
                    let (node, rows) = match item {
                        // Pinned at the top instead: its place stays, empty.
                        Item::Header(step) if pinned == Some(step) => {
                            (rows::element(&document, "div", "log-row"), 1)
                        }
                        Item::Header(step) => {
                            let open = state.open.get(step).copied().unwrap_or(true);
                            let header = rows::header_row(&document, log, open, &runs, now, step);
                            (header, 1)
                        }
                        Item::Line(line) => (
                            rows::line_row(&document, log, &look, line, &mut time),
                            state.layout.rows_of(line),
                        ),
                    };
                    if rows > 1 {
                        let _ = node.set_attribute(
                            "style",
                            &format!("height:{}", px(rows as f64 * ROW_PX)),
                        );
                    }
                    let _ = fragment.append_child(&node);
                    row += rows;
                }
            });
        });
        let _ = rows_el
            .style()
            .set_property("transform", &format!("translateY({})", px(top)));
        self.state.update_value(|s| {
            s.rows_top = top;
            s.pinned = pinned_header;
        });
        rows_el.replace_children_with_node_1(&fragment);
        if let Some(selector) = focused
            && let Ok(Some(again)) = rows_el.query_selector(&selector)
            && let Ok(again) = again.dyn_into::<HtmlElement>()
        {
            let _ = again.focus();
        }
        let (first_paint, search_shown) = self
            .state
            .with_value(|s| (!s.painted && total > 0, s.mark_search_shown));
        if first_paint || search_shown {
            self.state.update_value(|s| {
                s.painted |= first_paint;
                s.mark_search_shown = false;
            });
            request_animation_frame(move || {
                if first_paint {
                    mark("keyless-log-painted");
                }
                if search_shown {
                    mark("keyless-log-search-shown");
                }
            });
        }
    }

    /// The step whose header is pinned at the top of the view: that of the first line in view,
    /// when its header is above it.
    pub(super) fn pinned_step(&self, total: u64, viewport: f64, scroll_top: f64) -> Option<usize> {
        let first = window::window(total, ROW_PX, viewport, scroll_top, 0).first;
        self.log.with(|log| {
            self.state
                .with_value(|s| match s.layout.item_at(log, first) {
                    Some((Item::Line(line), _)) => {
                        let step = log.step_of_line(line);
                        (s.layout.header_row(step) < first).then_some(step)
                    }
                    _ => None,
                })
        })
    }

    /// Keeps the pinned header at the top of the view as it scrolls.
    pub(super) fn place_pinned(&self, scroll_top: f64) {
        self.state.with_value(|s| {
            if let Some(header) = &s.pinned {
                rows::pin(header, scroll_top - s.rows_top);
            }
        });
    }

    pub(super) fn render(&self) {
        self.state.update_value(|s| s.generation += 1);
        self.render_if_changed(true);
    }

    /// Runs the search now over the whole log and shows the first match from the top of view.
    pub(super) fn search(&self, query: Query) {
        mark("keyless-log-search");
        if let Some(timer) = self.state.with_value(|s| s.search_timer) {
            window().clear_timeout_with_handle(timer);
        }
        let top_line = self.top_line();
        let timestamps = self.timestamps.get_untracked();
        let result = self.log.with(|log| {
            let mut matches = Vec::new();
            let result = search::find(log, &query, timestamps, 0, &mut matches);
            self.state.update_value(|s| {
                s.matches = matches;
                s.searched_to = log.len();
                s.searched_with = timestamps;
                s.query = query;
                s.search_timer = None;
                s.current = None;
            });
            result
        });
        let error = result.err();
        let first = self
            .state
            .with_value(|s| search::first_from(&s.matches, top_line as u32));
        let count = self.state.with_value(|s| s.matches.len());
        self.found.set((count, None, error));
        match first {
            Some(index) => self.go_to_match(index),
            None => self.render(),
        }
    }

    /// The first line in view (from 0).
    pub(super) fn top_line(&self) -> usize {
        let Some(scroller) = self.scroller() else {
            return 0;
        };
        let total = self.state.with_value(|s| s.layout.total_rows());
        let viewport = viewport_px(&scroller);
        let view = window::window(total, ROW_PX, viewport, f64::from(scroller.scroll_top()), 0);
        self.log.with(|log| {
            self.state
                .with_value(|s| match s.layout.item_at(log, view.first) {
                    Some((Item::Line(line), _)) => line,
                    Some((Item::Header(step), _)) => log.steps()[step].first_line as usize,
                    None => 0,
                })
        })
    }

    pub(super) fn go_to_match(&self, index: usize) {
        let Some(found) = self.state.with_value(|s| s.matches.get(index).copied()) else {
            return;
        };
        self.state.update_value(|s| {
            s.current = Some(index);
            s.mark_search_shown = true;
        });
        self.found.update(|f| f.1 = Some(index));
        self.reveal_line(found.line as usize, Align::Center);
        self.render();
    }

    /// Moves to the next (or previous) match, wrapping round.
    pub(super) fn step_match(&self, backwards: bool) {
        let (count, current) = self.state.with_value(|s| (s.matches.len(), s.current));
        if count == 0 {
            return;
        }
        let next = match (current, backwards) {
            (None, false) => 0,
            (None, true) => count - 1,
            (Some(i), false) => (i + 1) % count,
            (Some(i), true) => (i + count - 1) % count,
        };
        self.state.update_value(|s| s.mark_search_shown = true);
        mark("keyless-log-search");
        self.go_to_match(next);
    }

    /// The user clicked line number `number` (with Shift: extends from the last one).
    pub(super) fn select_line(&self, number: u32, extend: bool) {
        let range = self.state.with_value(|s| match (extend, s.anchor) {
            (true, Some(anchor)) => LineRange::between(anchor, number),
            _ => LineRange::line(number),
        });
        self.state.update_value(|s| {
            s.selection = Some(range);
            if !extend {
                s.anchor = Some(number);
            }
        });
        let location = window().location();
        let url = format!(
            "{}{}{}",
            location.pathname().unwrap_or_default(),
            location.search().unwrap_or_default(),
            range.fragment()
        );
        if let Ok(history) = window().history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&url));
        }
        self.render();
    }

    pub(super) fn toggle_step(&self, step: usize) {
        self.state.update_value(|s| {
            if let Some(open) = s.open.get_mut(step) {
                *open = !*open;
            }
        });
        self.relayout_only();
        self.render();
    }

    pub(super) fn copy_line(&self, number: u32) {
        let text = self.log.with(|log| {
            let index = number as usize - 1;
            (index < log.len()).then(|| log.line(index).to_owned())
        });
        let Some(text) = text else {
            return;
        };
        let announcement = self.announcement;
        leptos::task::spawn_local(async move {
            announcement.set(if clipboard::copy(&text).await {
                format!("Line {number} copied")
            } else {
                format!("Line {number} could not be copied: select it and copy it instead.")
            });
        });
    }

    /// Clicks inside the rows: step headers, line numbers and Copy buttons.
    pub(super) fn on_click(&self, event: MouseEvent) {
        let Some(target) = event.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
            return;
        };
        let find = |selector: &str| target.closest(selector).ok().flatten();
        if let Some(toggle) = find("[data-step]") {
            if let Some(step) = toggle
                .get_attribute("data-step")
                .and_then(|s| s.parse().ok())
            {
                self.toggle_step(step);
            }
        } else if let Some(link) = find("[data-line]") {
            event.prevent_default();
            if let Some(number) = link.get_attribute("data-line").and_then(|s| s.parse().ok()) {
                self.select_line(number, event.shift_key());
            }
        } else if let Some(copy) = find("[data-copy]")
            && let Some(number) = copy.get_attribute("data-copy").and_then(|s| s.parse().ok())
        {
            self.copy_line(number);
        }
    }

    /// Puts the viewer's Copy button into the row under the pointer or holding focus.
    pub(super) fn offer_copy(&self, event: Event) {
        let Some(row) = event
            .target()
            .and_then(|t| t.dyn_into::<Element>().ok())
            .and_then(|target| target.closest(".log-line").ok().flatten())
        else {
            return;
        };
        let Some(number) = row
            .query_selector("[data-line]")
            .ok()
            .flatten()
            .and_then(|link| link.get_attribute("data-line"))
            .and_then(|n| n.parse().ok())
        else {
            return;
        };
        let copy = self.state.with_value(|s| s.copy.clone());
        let copy = copy.unwrap_or_else(|| {
            let copy = rows::copy_button(&document());
            self.state.update_value(|s| s.copy = Some(copy.clone()));
            copy
        });
        rows::place_copy(&copy, &row, number);
        self.state.update_value(|s| s.copy_line = Some(number));
    }

    pub(super) fn download(&self, file_name: &str) {
        let parts = js_sys::Array::new();
        self.log.with(|log| {
            log.write_raw(DOWNLOAD_PIECE, |piece| {
                parts.push(&JsValue::from_str(piece));
            });
        });
        let options = web_sys::BlobPropertyBag::new();
        options.set_type("text/plain;charset=utf-8");
        let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
            return;
        };
        let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
            return;
        };
        let anchor: web_sys::HtmlAnchorElement =
            rows::element(&document(), "a", "").unchecked_into();
        anchor.set_href(&url);
        anchor.set_download(file_name);
        anchor.click();
        let _ = web_sys::Url::revoke_object_url(&url);
    }

    pub(super) fn read_link_from_address(&self) {
        let hash = window().location().hash().unwrap_or_default();
        if let Some(range) = LineRange::parse(&hash) {
            self.state.update_value(|s| s.pending_link = Some(range));
            self.apply_pending_link();
        }
    }

    pub(super) fn measure_char_width(&self) {
        let Some(scroller) = self.scroller() else {
            return;
        };
        let probe = rows::element(&document(), "span", "log-measure");
        rows::append_text(&document(), &probe, &"0".repeat(100));
        let _ = scroller.append_child(&probe);
        let width = probe.get_bounding_client_rect().width() / 100.0;
        probe.remove();
        self.state.update_value(|s| s.char_px = width);
    }
}
