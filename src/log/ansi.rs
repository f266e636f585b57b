//! ANSI escape sequences in log lines: SGR (colours, bold, dim, italic, underline) become
//! [`Style`] runs over the plain text; every other escape sequence and control character
//! (cursor moves, OSC titles and links, backspaces…) is removed.

/// A colour of the 16-colour palette, the 256-colour palette, or 24-bit RGB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Color {
    /// The terminal's default.
    #[default]
    Default,
    /// An entry of the 256-colour palette (0–15 are the named colours).
    Index(u8),
    /// A 24-bit colour.
    Rgb(u8, u8, u8),
}

impl Color {
    /// The CSS colour of a palette entry above 15, or of an RGB colour.
    pub fn css(self) -> Option<String> {
        let (r, g, b) = match self {
            Color::Default => return None,
            Color::Index(n) if n < 16 => return None,
            Color::Index(n) if n >= 232 => {
                let level = 8 + 10 * (n - 232);
                (level, level, level)
            }
            Color::Index(n) => {
                let n = n - 16;
                let level = |v: u8| if v == 0 { 0 } else { 55 + 40 * v };
                (level(n / 36), level(n / 6 % 6), level(n % 6))
            }
            Color::Rgb(r, g, b) => (r, g, b),
        };
        Some(format!("rgb({r},{g},{b})"))
    }
}

/// How a run of text looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Style {
    pub fg: Color,
    pub bg: Color,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
}

impl Style {
    /// Whether this is the default look.
    pub fn is_plain(&self) -> bool {
        *self == Style::default()
    }

    /// Applies the parameters of one SGR sequence (`ESC [ … m`).
    fn apply(&mut self, params: &str) {
        let mut codes = params.split([';', ':']).map(|p| {
            if p.is_empty() {
                0
            } else {
                p.parse::<u16>().unwrap_or(u16::MAX)
            }
        });
        while let Some(code) = codes.next() {
            match code {
                0 => *self = Style::default(),
                1 => self.bold = true,
                2 => self.dim = true,
                3 => self.italic = true,
                4 => self.underline = true,
                22 => (self.bold, self.dim) = (false, false),
                23 => self.italic = false,
                24 => self.underline = false,
                30..=37 => self.fg = Color::Index((code - 30) as u8),
                39 => self.fg = Color::Default,
                40..=47 => self.bg = Color::Index((code - 40) as u8),
                49 => self.bg = Color::Default,
                90..=97 => self.fg = Color::Index((code - 90 + 8) as u8),
                100..=107 => self.bg = Color::Index((code - 100 + 8) as u8),
                38 | 48 => {
                    let color = match codes.next() {
                        Some(5) => codes.next().map(|n| Color::Index(n.min(255) as u8)),
                        Some(2) => {
                            let mut part = || codes.next().map(|v| v.min(255) as u8);
                            match (part(), part(), part()) {
                                (Some(r), Some(g), Some(b)) => Some(Color::Rgb(r, g, b)),
                                _ => None,
                            }
                        }
                        _ => None,
                    };
                    if let Some(color) = color {
                        if code == 38 {
                            self.fg = color;
                        } else {
                            self.bg = color;
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// Whether `byte` is a control character (C0 or DEL) other than a tab.
fn is_control(byte: u8) -> bool {
    (byte < 0x20 && byte != b'\t') || byte == 0x7f
}

/// Whether `bytes` hold a control character other than a tab. Every byte of every log line is
/// checked, so eight at a time: a word with no byte below 0x20 and none equal to 0x7f has none
/// (the classic `hasless` and `haszero` tests), and only a word that has one is looked at byte
/// by byte (it may be a tab).
fn has_control(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut words = bytes.chunks_exact(8);
    for word in &mut words {
        let x = u64::from_le_bytes(word.try_into().expect("eight bytes"));
        let below_space = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let y = x ^ (ONES * 0x7f);
        let del = y.wrapping_sub(ONES) & !y & HIGH;
        if below_space | del != 0 && word.iter().copied().any(is_control) {
            return true;
        }
    }
    words.remainder().iter().copied().any(is_control)
}

/// Interprets the escape sequences of `line`, starting from `style`: appends its plain text to
/// `out` and sets `changes` to where the style changes (byte offsets into the appended text,
/// ascending; text before the first change is plain). Returns the style in force at its end.
/// The plain text is never longer than `line`.
pub fn parse(
    line: &str,
    mut style: Style,
    out: &mut String,
    changes: &mut Vec<(usize, Style)>,
) -> Style {
    changes.clear();
    if !style.is_plain() {
        changes.push((0, style));
    }
    if !has_control(line.as_bytes()) {
        out.push_str(line);
        return style;
    }
    let origin = out.len();
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut plain_from = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !is_control(b) {
            i += 1;
            continue;
        }
        out.push_str(&line[plain_from..i]);
        if b == 0x1b {
            i += 1;
            match bytes.get(i) {
                Some(b'[') => {
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len() && !(0x40..=0x7e).contains(&bytes[end]) {
                        end += 1;
                    }
                    if end < bytes.len() && bytes[end] == b'm' {
                        let before = style;
                        style.apply(&line[start..end]);
                        if style != before {
                            let at = out.len() - origin;
                            match changes.last_mut() {
                                Some(last) if last.0 == at => last.1 = style,
                                _ => changes.push((at, style)),
                            }
                        }
                    }
                    i = (end + 1).min(bytes.len());
                }
                Some(b']') => {
                    // OSC: up to BEL or ST (ESC \).
                    i += 1;
                    while i < bytes.len() {
                        if bytes[i] == 0x07 {
                            i += 1;
                            break;
                        }
                        if bytes[i] == 0x1b && bytes.get(i + 1) == Some(&b'\\') {
                            i += 2;
                            break;
                        }
                        i += 1;
                    }
                }
                Some(&next) if next.is_ascii() => i += 1,
                _ => {}
            }
        } else {
            i += 1;
        }
        plain_from = i;
    }
    out.push_str(&line[plain_from.min(line.len())..]);
    // A change at the very end styles nothing.
    let len = out.len() - origin;
    while changes.last().is_some_and(|(at, _)| *at == len) {
        changes.pop();
    }
    style
}

/// Writes `text` with `changes` back as SGR sequences (for the raw download).
pub fn encode(text: &str, changes: &[(usize, Style)], out: &mut String) {
    let mut from = 0;
    for (at, style) in changes {
        out.push_str(&text[from..*at]);
        out.push_str(&sgr(style));
        from = *at;
    }
    out.push_str(&text[from..]);
    if !changes.is_empty() {
        out.push_str("\x1b[0m");
    }
}

fn sgr(style: &Style) -> String {
    let mut codes = vec!["0".to_owned()];
    for (on, code) in [
        (style.bold, "1"),
        (style.dim, "2"),
        (style.italic, "3"),
        (style.underline, "4"),
    ] {
        if on {
            codes.push(code.to_owned());
        }
    }
    for (color, base) in [(style.fg, 38), (style.bg, 48)] {
        match color {
            Color::Default => {}
            Color::Index(n) => codes.push(format!("{base};5;{n}")),
            Color::Rgb(r, g, b) => codes.push(format!("{base};2;{r};{g};{b}")),
        }
    }
    format!("\x1b[{}m", codes.join(";"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_a_word_at_a_time_as_byte_by_byte() {
        // Every byte value at every place of lines of 1 to 20 bytes, among plain text and
        // among high bytes (UTF-8), which the word test must not mistake for controls.
        for filler in [b'a', 0xc3, b'\t', 0x7e, 0x80, 0xff] {
            for len in 1..=20 {
                for at in 0..len {
                    for byte in 0..=255u8 {
                        let mut line = vec![filler; len];
                        line[at] = byte;
                        let expected = line.iter().copied().any(is_control);
                        assert_eq!(has_control(&line), expected, "{line:?}");
                    }
                }
            }
        }
    }

    /// The plain text, the changes and the style at the end.
    fn parsed(line: &str, style: Style) -> (String, Vec<(usize, Style)>, Style) {
        let (mut text, mut changes) = (String::new(), Vec::new());
        let end = parse(line, style, &mut text, &mut changes);
        (text, changes, end)
    }

    fn plain(line: &str) -> String {
        parsed(line, Style::default()).0
    }

    #[test]
    fn plain_text_passes_through() {
        let (text, changes, end) = parsed("hello <b>world</b>\ttab", Style::default());
        assert_eq!(text, "hello <b>world</b>\ttab");
        assert!(changes.is_empty());
        assert!(end.is_plain());
    }

    #[test]
    fn colours_and_bold_become_style_runs() {
        let (text, changes, end) = parsed("a\x1b[1;31mred\x1b[0m b", Style::default());
        assert_eq!(text, "ared b");
        let red_bold = Style {
            fg: Color::Index(1),
            bold: true,
            ..Style::default()
        };
        assert_eq!(changes, [(1, red_bold), (4, Style::default())]);
        assert!(end.is_plain());
    }

    #[test]
    fn offsets_count_from_the_start_of_the_line_appended() {
        let (mut out, mut changes) = (String::from("earlier\n"), vec![(9, Style::default())]);
        parse("x\x1b[1my", Style::default(), &mut out, &mut changes);
        assert_eq!(out, "earlier\nxy");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0, 1);
    }

    #[test]
    fn extended_colours_and_resets() {
        let (text, changes, _) = parsed(
            "\x1b[38;5;208mo\x1b[48;2;1;2;3mx\x1b[39;49;22m.",
            Style::default(),
        );
        assert_eq!(text, "ox.");
        assert_eq!(changes[0].1.fg, Color::Index(208));
        assert_eq!(changes[1].1.bg, Color::Rgb(1, 2, 3));
        assert!(changes[2].1.is_plain());
        assert_eq!(Color::Index(208).css().as_deref(), Some("rgb(255,135,0)"));
        assert_eq!(Color::Index(232).css().as_deref(), Some("rgb(8,8,8)"));
        assert_eq!(Color::Index(3).css(), None);
    }

    #[test]
    fn other_sequences_and_controls_are_removed() {
        assert_eq!(plain("\x1b[2K\x1b[1Gprogress"), "progress");
        assert_eq!(plain("\x1b]0;title\x07text"), "text");
        assert_eq!(plain("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"), "link");
        assert_eq!(plain("a\x08b\x00c\x7f"), "abc");
        assert_eq!(plain("cut\x1b["), "cut");
        assert_eq!(plain("é\x1b[1mü"), "éü");
    }

    #[test]
    fn style_carries_over_and_trailing_changes_are_dropped() {
        let (_, first, end) = parsed("\x1b[32mgreen", Style::default());
        assert_eq!(first.len(), 1);
        let (_, second, _) = parsed("still\x1b[0m", end);
        assert_eq!(second, [(0, end)]);
    }

    #[test]
    fn encoding_round_trips_the_styles() {
        let (text, changes, _) = parsed("a\x1b[1;31mred\x1b[0m b", Style::default());
        let mut raw = String::new();
        encode(&text, &changes, &mut raw);
        assert_eq!(
            parsed(&raw, Style::default()),
            (text, changes, Style::default())
        );
    }
}
