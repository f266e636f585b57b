//! Which rows the viewer shows: each step's header, then its lines when it is open. With
//! wrapping on, a line takes as many rows as its text needs at the viewer's width.

use super::LogText;

/// What a row shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Item {
    /// Step `n`'s header.
    Header(usize),
    /// Log line `n` (from 0).
    Line(usize),
}

/// The rows of the log as it is shown.
#[derive(Clone, Debug, Default)]
pub struct Layout {
    /// The row of each step's header.
    header_rows: Vec<u64>,
    total: u64,
    /// With wrapping: the columns, and the rows taken by lines `0..i` (one more entry than lines).
    wrap: Option<(u32, Vec<u64>)>,
}

/// How many columns a tab takes (the viewer's `tab-size`).
pub const TAB_COLUMNS: u64 = 4;

fn line_rows(text: &str, columns: u32) -> u64 {
    let width: u64 = text
        .chars()
        .map(|c| if c == '\t' { TAB_COLUMNS } else { 1 })
        .sum();
    width.div_ceil(u64::from(columns.max(1))).max(1)
}

impl Layout {
    /// Lays out `log` with step `i` open when `open[i]` (missing entries are open), wrapping at
    /// `wrap_columns` when given. The wrap counts of an earlier layout are reused.
    pub fn update(&mut self, log: &LogText, open: &[bool], wrap_columns: Option<u32>) {
        match (wrap_columns, &mut self.wrap) {
            (None, _) => self.wrap = None,
            (Some(columns), Some((cols, cumulative))) if *cols == columns => {
                for line in cumulative.len() - 1..log.len() {
                    let next = cumulative[line] + line_rows(log.line(line), columns);
                    cumulative.push(next);
                }
            }
            (Some(columns), _) => {
                let mut cumulative = Vec::with_capacity(log.len() + 1);
                cumulative.push(0);
                let mut total = 0;
                for line in 0..log.len() {
                    total += line_rows(log.line(line), columns);
                    cumulative.push(total);
                }
                self.wrap = Some((columns, cumulative));
            }
        }
        self.header_rows.clear();
        let mut row = 0;
        for (index, step) in log.steps().iter().enumerate() {
            self.header_rows.push(row);
            row += 1;
            if open.get(index).copied().unwrap_or(true) {
                row += self.rows_of_lines(
                    step.first_line as usize,
                    (step.first_line + step.line_count) as usize,
                );
            }
        }
        self.total = row;
    }

    fn rows_of_lines(&self, from: usize, to: usize) -> u64 {
        match &self.wrap {
            None => (to - from) as u64,
            Some((_, cumulative)) => cumulative[to] - cumulative[from],
        }
    }

    /// How many rows there are.
    pub fn total_rows(&self) -> u64 {
        self.total
    }

    /// How many rows line `line` takes.
    pub fn rows_of(&self, line: usize) -> u64 {
        self.rows_of_lines(line, line + 1)
    }

    /// What row `row` shows, and the row where that item starts.
    pub fn item_at(&self, log: &LogText, row: u64) -> Option<(Item, u64)> {
        if row >= self.total {
            return None;
        }
        let step = self.header_rows.partition_point(|&r| r <= row) - 1;
        let header = self.header_rows[step];
        if row == header {
            return Some((Item::Header(step), header));
        }
        let first = log.steps()[step].first_line as usize;
        let within = row - header - 1;
        match &self.wrap {
            None => Some((Item::Line(first + within as usize), row)),
            Some((_, cumulative)) => {
                let target = cumulative[first] + within;
                let line = cumulative.partition_point(|&c| c <= target) - 1;
                Some((
                    Item::Line(line),
                    header + 1 + cumulative[line] - cumulative[first],
                ))
            }
        }
    }

    /// The row of step `step`'s header.
    pub fn header_row(&self, step: usize) -> u64 {
        self.header_rows.get(step).copied().unwrap_or(0)
    }

    /// The first row of line `line`, when its step is open.
    pub fn row_of_line(&self, log: &LogText, open: &[bool], line: usize) -> Option<u64> {
        let step = log.step_of_line(line);
        if !open.get(step).copied().unwrap_or(true) || line >= log.len() {
            return None;
        }
        let first = log.steps()[step].first_line as usize;
        Some(self.header_rows.get(step)? + 1 + self.rows_of_lines(first, line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> LogText {
        let mut log = LogText::new();
        log.push_header("Setup", None);
        log.push_line("a", None);
        log.push_line("b", None);
        log.push_header("Build", None);
        log.push_line("0123456789", None);
        log.push_line("d", None);
        log
    }

    #[test]
    fn open_steps_show_their_lines_and_closed_ones_only_their_header() {
        let log = log();
        let mut layout = Layout::default();
        layout.update(&log, &[true, true], None);
        assert_eq!(layout.total_rows(), 6);
        let items: Vec<Item> = (0..6)
            .map(|r| layout.item_at(&log, r).expect("row").0)
            .collect();
        assert_eq!(
            items,
            [
                Item::Header(0),
                Item::Line(0),
                Item::Line(1),
                Item::Header(1),
                Item::Line(2),
                Item::Line(3)
            ]
        );
        assert_eq!(layout.item_at(&log, 6), None);
        layout.update(&log, &[false, true], None);
        assert_eq!(layout.total_rows(), 4);
        assert_eq!(layout.item_at(&log, 1), Some((Item::Header(1), 1)));
        assert_eq!(layout.row_of_line(&log, &[false, true], 0), None);
        assert_eq!(layout.row_of_line(&log, &[false, true], 3), Some(3));
        assert_eq!(layout.header_row(1), 1);
    }

    #[test]
    fn wrapped_lines_take_several_rows() {
        let mut log = log();
        let mut layout = Layout::default();
        layout.update(&log, &[], Some(4));
        // "0123456789" takes 3 rows at 4 columns.
        assert_eq!(layout.total_rows(), 8);
        assert_eq!(layout.rows_of(2), 3);
        assert_eq!(layout.item_at(&log, 5), Some((Item::Line(2), 4)));
        assert_eq!(layout.item_at(&log, 6), Some((Item::Line(2), 4)));
        assert_eq!(layout.item_at(&log, 7), Some((Item::Line(3), 7)));
        assert_eq!(layout.row_of_line(&log, &[], 3), Some(7));
        // Appending reuses the counts so far.
        log.push_line("\tx", None);
        layout.update(&log, &[], Some(4));
        assert_eq!(layout.rows_of(4), 2);
        assert_eq!(layout.total_rows(), 10);
    }
}
