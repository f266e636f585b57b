//! The virtual list's arithmetic: which rows of a fixed row height to put in the DOM for a
//! scroll position, and where. Past [`MAX_SPACER_PX`] the scrollable height is capped and the
//! scroll position maps proportionally onto the rows (browsers cannot lay out taller boxes).

/// The tallest spacer used (Firefox caps boxes near 17.9 million pixels).
pub const MAX_SPACER_PX: f64 = 15_000_000.0;

/// The rows to render.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    /// The first row rendered.
    pub first: u64,
    /// One past the last row rendered.
    pub end: u64,
    /// Where row `first` goes, in pixels from the top of the spacer.
    pub top_px: f64,
}

/// The height of the scrollable spacer for `rows` rows of `row_px`.
pub fn spacer_px(rows: u64, row_px: f64) -> f64 {
    (rows as f64 * row_px).min(MAX_SPACER_PX)
}

/// `value` kept within `low..=high`. Not `f64::clamp`: its panic message formats floats, which
/// would bring the float formatter (12 KB of wasm) into every page with a log.
fn within(value: f64, low: f64, high: f64) -> f64 {
    value.max(low).min(high)
}

/// The content's scroll position (as if nothing were capped) for a scroll position.
fn virtual_top(rows: u64, row_px: f64, viewport_px: f64, scroll_top: f64) -> f64 {
    let content = rows as f64 * row_px;
    let spacer = spacer_px(rows, row_px);
    let (content_max, spacer_max) = (
        (content - viewport_px).max(0.0),
        (spacer - viewport_px).max(0.0),
    );
    let scroll_top = within(scroll_top, 0.0, spacer_max);
    if content <= MAX_SPACER_PX || spacer_max == 0.0 {
        scroll_top
    } else {
        scroll_top / spacer_max * content_max
    }
}

/// The rows to render at `scroll_top` in a viewport `viewport_px` tall, with `overscan` rows
/// more above and below.
pub fn window(rows: u64, row_px: f64, viewport_px: f64, scroll_top: f64, overscan: u64) -> Window {
    if rows == 0 {
        return Window {
            first: 0,
            end: 0,
            top_px: 0.0,
        };
    }
    let spacer_max = (spacer_px(rows, row_px) - viewport_px).max(0.0);
    let scroll_top = within(scroll_top, 0.0, spacer_max);
    let top = virtual_top(rows, row_px, viewport_px, scroll_top);
    let visible_first = ((top / row_px).floor() as u64).min(rows - 1);
    let within = top - visible_first as f64 * row_px;
    let visible = (viewport_px / row_px).ceil() as u64 + 1;
    let first = visible_first.saturating_sub(overscan);
    let end = (visible_first + visible + overscan).min(rows);
    Window {
        first,
        end,
        top_px: scroll_top - within - (visible_first - first) as f64 * row_px,
    }
}

/// Where a row should sit in the viewport when scrolled to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// At the top.
    Start,
    /// In the middle.
    Center,
    /// At the bottom.
    End,
}

/// The scroll position that shows row `row` as `align` says.
pub fn scroll_top_for_row(rows: u64, row_px: f64, viewport_px: f64, row: u64, align: Align) -> f64 {
    let content_max = (rows as f64 * row_px - viewport_px).max(0.0);
    let row_top = row as f64 * row_px;
    let wanted = match align {
        Align::Start => row_top,
        Align::Center => row_top - (viewport_px - row_px) / 2.0,
        Align::End => row_top + row_px - viewport_px,
    };
    let wanted = within(wanted, 0.0, content_max);
    let spacer_max = (spacer_px(rows, row_px) - viewport_px).max(0.0);
    if content_max == 0.0 || spacer_max == content_max {
        wanted
    } else {
        wanted / content_max * spacer_max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_log_renders_whole() {
        let w = window(10, 20.0, 600.0, 0.0, 5);
        assert_eq!((w.first, w.end, w.top_px), (0, 10, 0.0));
        assert_eq!(window(0, 20.0, 600.0, 0.0, 5).end, 0);
    }

    #[test]
    fn the_window_follows_the_scroll_position_with_overscan() {
        let w = window(1_000, 20.0, 400.0, 2_010.0, 10);
        // Row 100 is at the top, 10px scrolled out; 21 rows fill the viewport.
        assert_eq!((w.first, w.end), (90, 131));
        assert_eq!(w.top_px, 1_800.0);
    }

    #[test]
    fn a_million_rows_fit_a_capped_spacer_and_reach_the_end() {
        let rows = 1_000_000;
        assert_eq!(spacer_px(rows, 20.0), MAX_SPACER_PX);
        let bottom = MAX_SPACER_PX - 600.0;
        let w = window(rows, 20.0, 600.0, bottom, 5);
        assert_eq!(w.end, rows);
        assert!(w.end - w.first <= 30 + 2 * 5 + 1, "{w:?}");
        // The last row's bottom is the viewport's bottom.
        let last_top = w.top_px + (rows - 1 - w.first) as f64 * 20.0;
        assert!(
            (last_top + 20.0 - (bottom + 600.0)).abs() < 1e-6,
            "{last_top}"
        );
        let middle = window(rows, 20.0, 600.0, bottom / 2.0, 0);
        assert!(middle.first.abs_diff(rows / 2) < 30, "{middle:?}");
    }

    #[test]
    fn scrolling_to_a_row_puts_it_in_view() {
        for rows in [50, 1_000, 1_000_000] {
            for row in [0, rows / 3, rows - 1] {
                for align in [Align::Start, Align::Center, Align::End] {
                    let top = scroll_top_for_row(rows, 20.0, 400.0, row, align);
                    let w = window(rows, 20.0, 400.0, top, 0);
                    let row_top = w.top_px + (row as f64 - w.first as f64) * 20.0;
                    assert!(
                        row >= w.first && row < w.end,
                        "{rows} {row} {align:?} {w:?}"
                    );
                    assert!(row_top >= top - 1e-6 && row_top + 20.0 <= top + 400.0 + 1e-6);
                }
            }
        }
    }
}
