//! The viewer's rows, built with DOM calls (`createElement`, text nodes), never from HTML: a
//! log line's `<script>` is text. A line is three elements (the row, its number's link and its
//! text) and its time when shown, besides spans for colours and matches; the one Copy button
//! of the viewer moves into the row under the pointer or holding keyboard focus
//! ([`place_copy`]), rather than every row carrying one. The header of the step in view is
//! pinned over the rows at the top of the view ([`pin`]), so that it is always clear which step
//! a line is in, and the step can be closed from there.

use keyless_api_types::{StepRun, StepStatus};
use web_sys::{Document, Element};

use crate::components::status_label;
use crate::log::LogText;
use crate::log::ansi::{Color, Style};
use crate::log::link::LineRange;
use crate::log::search::{self, Match};
use crate::log::times::Timestamps;
use crate::time::{format_duration, parse_rfc3339_ms};

pub(super) fn element(document: &Document, tag: &str, class: &str) -> Element {
    let element = document.create_element(tag).expect("an element");
    if !class.is_empty() {
        element.set_class_name(class);
    }
    element
}

pub(super) fn append_text(document: &Document, parent: &Element, text: &str) {
    let _ = parent.append_child(&document.create_text_node(text));
}

/// A step's status from the API, looked up by name.
pub(super) fn step_run<'a>(runs: &'a [StepRun], name: &str) -> Option<&'a StepRun> {
    runs.iter().find(|run| run.name == name)
}

/// The step's time: how long it took, or has been running.
fn step_time(run: &StepRun, now: i64) -> Option<String> {
    let started = parse_rfc3339_ms(run.started.as_deref()?)?;
    let end = match run.status {
        StepStatus::Running => now,
        StepStatus::NotStarted => return None,
        _ => parse_rfc3339_ms(run.last_updated.as_deref()?)?,
    };
    Some(format_duration(end - started))
}

/// The width of the line numbers' column, in `ch`: the last line's digits and a space.
pub(super) fn gutter_ch(lines: usize) -> u32 {
    lines.max(1).ilog10() + 2
}

/// Step `step`'s header: its toggle, status, time and line count.
pub(super) fn header_row(
    document: &Document,
    log: &LogText,
    open: bool,
    runs: &[StepRun],
    now: i64,
    step: usize,
) -> Element {
    let info = &log.steps()[step];
    let run = step_run(runs, &info.name);
    let row = element(document, "div", "log-row log-step");
    let toggle = element(document, "button", "step-toggle");
    let _ = toggle.set_attribute("type", "button");
    let _ = toggle.set_attribute("aria-expanded", if open { "true" } else { "false" });
    let _ = toggle.set_attribute("data-step", &step.to_string());
    let chevron = element(document, "span", "chevron");
    let _ = chevron.set_attribute("aria-hidden", "true");
    let _ = toggle.append_child(&chevron);
    let name = if info.name.is_empty() {
        "Log"
    } else {
        info.name.as_str()
    };
    append_text(document, &toggle, name);
    let _ = row.append_child(&toggle);
    if let Some(status) = run.map(|r| r.status.as_str()) {
        let badge = element(document, "span", &format!("badge status-{status}"));
        append_text(document, &badge, status_label(status));
        let _ = row.append_child(&badge);
    }
    let count = element(document, "span", "step-meta");
    let lines = info.line_count;
    let mut meta = format!("{lines} line{}", if lines == 1 { "" } else { "s" });
    if let Some(time) = run.and_then(|r| step_time(r, now)) {
        meta = format!("{time} · {meta}");
    }
    append_text(document, &count, &meta);
    let _ = row.append_child(&count);
    row
}

/// Pins a step's header `top_px` below the top of the rows, over them: at the top of the view.
pub(super) fn pin(header: &Element, top_px: f64) {
    let style = format!(
        "position:absolute;left:0;right:0;z-index:1;top:{}px",
        top_px.round() as i64
    );
    let _ = header.set_attribute("style", &style);
}

/// How lines are shown: what the rows of one render share.
pub(super) struct LineLook<'a> {
    pub timestamps: Timestamps,
    /// The `style` of the line numbers' links (their width).
    pub gutter: &'a str,
    pub selection: Option<LineRange>,
    pub matches: &'a [Match],
    pub current: Option<Match>,
    /// Where the Copy button is: the line number, and the button.
    pub copy: Option<(u32, &'a Element)>,
}

/// Line `line`'s row. `time` is a reused buffer.
pub(super) fn line_row(
    document: &Document,
    log: &LogText,
    look: &LineLook,
    line: usize,
    time: &mut String,
) -> Element {
    let number = line as u32 + 1;
    let matches = search::in_line(look.matches, line as u32);
    let current = look.current.filter(|m| m.line == line as u32);
    let mut class = String::from("log-row log-line");
    if look.selection.is_some_and(|s| s.contains(number)) {
        class.push_str(" selected");
    }
    if current.is_some() {
        class.push_str(" current");
    }
    let row = element(document, "div", &class);
    let link = element(document, "a", "ln");
    let _ = link.set_attribute("href", &format!("#L{number}"));
    let _ = link.set_attribute("data-line", &number.to_string());
    let _ = link.set_attribute("style", look.gutter);
    append_text(document, &link, &number.to_string());
    let _ = row.append_child(&link);
    // Matches are offsets into the line as shown: its time and a space, then its text.
    let marks = |from: usize, to: usize| -> Vec<(usize, usize, bool)> {
        matches
            .iter()
            .filter(|m| (m.start as usize) < to && (m.end as usize) > from)
            .map(|m| {
                let start = (m.start as usize).max(from) - from;
                let end = (m.end as usize).min(to) - from;
                (start, end, current == Some(*m))
            })
            .collect()
    };
    let mut prefix = 0;
    if look.timestamps.write(log, line, time) {
        let span = element(document, "span", "ts");
        append_runs(document, &span, time, &[], &marks(0, time.len()));
        let _ = row.append_child(&span);
        prefix = time.len() + 1;
    }
    let text = log.line(line);
    let span = element(document, "span", "lt");
    append_runs(
        document,
        &span,
        text,
        &log.line_styles(line),
        &marks(prefix, prefix + text.len()),
    );
    let _ = row.append_child(&span);
    if let Some((at, copy)) = look.copy
        && at == number
    {
        let _ = row.append_child(copy);
    }
    row
}

/// Moves the viewer's Copy button into line `number`'s row.
pub(super) fn place_copy(copy: &Element, row: &Element, number: u32) {
    if copy.parent_element().as_ref() == Some(row) {
        return;
    }
    let _ = copy.set_attribute("data-copy", &number.to_string());
    let _ = copy.set_attribute("aria-label", &format!("Copy line {number}"));
    let _ = row.append_child(copy);
}

/// The viewer's Copy button, not yet in a row.
pub(super) fn copy_button(document: &Document) -> Element {
    let copy = element(document, "button", "copy");
    let _ = copy.set_attribute("type", "button");
    append_text(document, &copy, "Copy");
    copy
}

/// `text` as styled runs, with `marks` (byte ranges, and whether each is the current match)
/// as `<mark>`s.
fn append_runs(
    document: &Document,
    parent: &Element,
    text: &str,
    styles: &[(usize, Style)],
    marks: &[(usize, usize, bool)],
) {
    if styles.is_empty() && marks.is_empty() {
        append_text(document, parent, text);
        return;
    }
    let mut cuts: Vec<usize> = vec![0];
    cuts.extend(styles.iter().map(|(at, _)| *at));
    for &(start, end, _) in marks {
        cuts.push(start);
        cuts.push(end);
    }
    cuts.push(text.len());
    cuts.retain(|&c| c <= text.len() && text.is_char_boundary(c));
    sort_runs(&mut cuts);
    cuts.dedup();
    for pair in cuts.windows(2) {
        let (from, to) = (pair[0], pair[1]);
        let style = styles
            .iter()
            .rev()
            .find(|(at, _)| *at <= from)
            .map(|(_, s)| *s);
        let hit = marks
            .iter()
            .find(|&&(start, end, _)| start <= from && from < end);
        let container = match hit {
            Some(&(_, _, current)) => {
                let mark = element(document, "mark", if current { "current" } else { "" });
                let _ = parent.append_child(&mark);
                mark
            }
            None => parent.clone(),
        };
        match style.filter(|s| !s.is_plain()) {
            Some(style) => {
                let span = element(document, "span", &style_classes(&style));
                let mut inline = String::new();
                if let Some(css) = style.fg.css() {
                    inline.push_str(&format!("color:{css};"));
                }
                if let Some(css) = style.bg.css() {
                    inline.push_str(&format!("background:{css};"));
                }
                if !inline.is_empty() {
                    let _ = span.set_attribute("style", &inline);
                }
                append_text(document, &span, &text[from..to]);
                let _ = container.append_child(&span);
            }
            None => append_text(document, &container, &text[from..to]),
        }
    }
}

/// The classes of a style's palette colours and weights.
fn style_classes(style: &Style) -> String {
    let mut classes = Vec::new();
    if let Color::Index(n) = style.fg
        && n < 16
    {
        classes.push(format!("fg{n}"));
    }
    if let Color::Index(n) = style.bg
        && n < 16
    {
        classes.push(format!("bg{n}"));
    }
    for (on, class) in [
        (style.bold, "sb"),
        (style.dim, "sd"),
        (style.italic, "si"),
        (style.underline, "su"),
    ] {
        if on {
            classes.push(class.to_owned());
        }
    }
    classes.join(" ")
}

/// Sorts `cuts`, made of runs each already in order (style changes, then match bounds): an
/// insertion sort moves only what is out of place, and costs the viewer's module 3 KB less
/// wasm than `sort_unstable`.
fn sort_runs(cuts: &mut [usize]) {
    for i in 1..cuts.len() {
        let mut j = i;
        while j > 0 && cuts[j - 1] > cuts[j] {
            cuts.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_come_out_sorted_whatever_their_order() {
        let cases: [&[usize]; 5] = [
            &[],
            &[3],
            &[0, 2, 9, 1, 4, 4, 12],
            &[9, 8, 7, 1, 0],
            &[0, 5, 5, 0],
        ];
        for case in cases {
            let mut sorted = case.to_vec();
            sort_runs(&mut sorted);
            let mut expected = case.to_vec();
            expected.sort();
            assert_eq!(sorted, expected, "{case:?}");
        }
    }

    #[test]
    fn the_gutter_fits_the_last_line_number() {
        assert_eq!(gutter_ch(0), 2);
        assert_eq!(gutter_ch(9), 2);
        assert_eq!(gutter_ch(999_999), 7);
        assert_eq!(gutter_ch(1_000_000), 8);
    }
}
