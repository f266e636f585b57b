//! The log's plain text, kept in segments of [`SEGMENT`] bytes allocated once each: a log
//! grows by one segment at a time, never by copying itself into a buffer twice its size (the
//! wasm memory a doubling buffer reaches is never given back). A line never spans two
//! segments, so each segment is a run of whole lines, each followed by `\n`, that search can
//! scan on its own.
//!
//! Lines are found by their start: an offset into the text of all segments put end to end
//! (their free tails left out). `u32` is enough: the text lives in the wasm memory, itself
//! at most 4 GiB.

/// The bytes of one segment; a longer line gets a segment of its own size.
pub const SEGMENT: usize = 1 << 20;

/// One segment: whole lines and the position of its first byte and line in the log.
#[derive(Clone, Debug)]
pub struct Segment {
    text: String,
    /// The offset of its first byte in the log's text.
    base: u32,
    /// The index of its first line.
    first_line: u32,
}

impl Segment {
    /// Its lines, each followed by `\n`.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The offset of its first byte in the log's text.
    pub fn base(&self) -> usize {
        self.base as usize
    }

    /// The index of its first line.
    pub fn first_line(&self) -> usize {
        self.first_line as usize
    }
}

/// Every line's text, and where each starts.
#[derive(Clone, Debug, Default)]
pub struct Segments {
    segments: Vec<Segment>,
    /// Where each line starts in the log's text.
    starts: Vec<u32>,
}

impl Segments {
    /// How many lines there are.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The bytes of text held (newlines included).
    pub fn text_len(&self) -> usize {
        self.segments
            .last()
            .map_or(0, |s| s.base as usize + s.text.len())
    }

    /// The segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    /// The segment holding line `index`.
    pub fn segment_of(&self, index: usize) -> usize {
        self.segments
            .partition_point(|s| s.first_line as usize <= index)
            .saturating_sub(1)
    }

    /// Where line `index` starts in the log's text.
    pub fn start(&self, index: usize) -> usize {
        self.starts[index] as usize
    }

    /// The line holding byte `offset` of the log's text.
    pub fn line_at(&self, offset: usize) -> usize {
        self.starts
            .partition_point(|&s| s as usize <= offset)
            .saturating_sub(1)
    }

    /// Line `index`'s text, without its newline.
    pub fn line(&self, index: usize) -> &str {
        let at = self.segment_of(index);
        let segment = &self.segments[at];
        let next_segment = self
            .segments
            .get(at + 1)
            .map_or(self.starts.len(), |s| s.first_line as usize);
        let start = (self.starts[index] - segment.base) as usize;
        let end = if index + 1 < next_segment {
            (self.starts[index + 1] - segment.base) as usize
        } else {
            segment.text.len()
        };
        &segment.text[start..end - 1]
    }

    /// Appends a line that `write` puts at the end of the string it is given (at most
    /// `max_len` bytes: the segment has room for that), and returns its start in the log's
    /// text with what `write` returned.
    pub fn push_with<R>(
        &mut self,
        max_len: usize,
        write: impl FnOnce(&mut String) -> R,
    ) -> (u32, R) {
        let needed = max_len + 1;
        let fits = self
            .segments
            .last()
            .is_some_and(|s| s.text.capacity() - s.text.len() >= needed);
        if !fits {
            let base = self.text_len() as u32;
            self.segments.push(Segment {
                text: String::with_capacity(needed.max(SEGMENT)),
                base,
                first_line: self.starts.len() as u32,
            });
        }
        let segment = self.segments.last_mut().expect("a segment with room");
        let start = segment.base + segment.text.len() as u32;
        let written = write(&mut segment.text);
        segment.text.push('\n');
        self.starts.push(start);
        (start, written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(segments: &mut Segments, line: &str) -> u32 {
        segments.push_with(line.len(), |text| text.push_str(line)).0
    }

    #[test]
    fn lines_fill_a_segment_then_start_the_next_one_whole() {
        let mut segments = Segments::default();
        // Three lines of 400 KiB fit two to a segment.
        let long = "x".repeat(400 * 1024);
        assert_eq!(push(&mut segments, "first"), 0);
        for _ in 0..3 {
            push(&mut segments, &long);
        }
        push(&mut segments, "last");
        assert_eq!(segments.len(), 5);
        assert_eq!(segments.segments().len(), 2);
        let second = &segments.segments()[1];
        assert_eq!(
            (second.first_line(), second.base()),
            (3, 6 + 2 * (long.len() + 1))
        );
        assert!(second.text().starts_with(&long));
        assert_eq!(segments.line(0), "first");
        assert_eq!(segments.line(2), long);
        assert_eq!(segments.line(3), long);
        assert_eq!(segments.line(4), "last");
        assert_eq!(segments.segment_of(2), 0);
        assert_eq!(segments.segment_of(3), 1);
        assert_eq!(segments.line_at(segments.start(3) + 10), 3);
        assert_eq!(segments.text_len(), 6 + 3 * (long.len() + 1) + 5);
        // Every segment but a longer line's is allocated once, at its full size.
        assert!(
            segments
                .segments()
                .iter()
                .all(|s| s.text.capacity() == SEGMENT)
        );
    }

    #[test]
    fn a_line_longer_than_a_segment_gets_one_of_its_own() {
        let mut segments = Segments::default();
        let huge = "y".repeat(SEGMENT + 10);
        push(&mut segments, "a");
        push(&mut segments, &huge);
        push(&mut segments, "b");
        assert_eq!(segments.segments().len(), 3);
        assert_eq!(segments.line(1), huge);
        assert_eq!(segments.line(2), "b");
    }

    #[test]
    fn empty_lines_and_a_cloned_log_keep_their_lines() {
        let mut segments = Segments::default();
        push(&mut segments, "");
        push(&mut segments, "");
        let mut copy = segments.clone();
        push(&mut copy, "after");
        assert_eq!(
            (copy.line(0), copy.line(1), copy.line(2)),
            ("", "", "after")
        );
        assert!(Segments::default().is_empty());
    }
}
