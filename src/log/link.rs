//! Deep links to log lines: `#L120` and ranges `#L120-L140` (numbered from 1).

/// An inclusive range of line numbers, from 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineRange {
    pub first: u32,
    pub last: u32,
}

impl LineRange {
    /// One line.
    pub fn line(number: u32) -> Self {
        Self {
            first: number,
            last: number,
        }
    }

    /// From `a` to `b`, in either order.
    pub fn between(a: u32, b: u32) -> Self {
        Self {
            first: a.min(b),
            last: a.max(b),
        }
    }

    /// Whether line `number` is in the range.
    pub fn contains(&self, number: u32) -> bool {
        (self.first..=self.last).contains(&number)
    }

    /// The URL fragment, with its `#`.
    pub fn fragment(&self) -> String {
        if self.first == self.last {
            format!("#L{}", self.first)
        } else {
            format!("#L{}-L{}", self.first, self.last)
        }
    }

    /// Reads a fragment (`#L5`, `#L5-L9`, `L9-L5`); `None` for anything else.
    pub fn parse(fragment: &str) -> Option<Self> {
        let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
        let number = |part: &str| -> Option<u32> {
            let digits = part.strip_prefix('L')?;
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            digits.parse().ok().filter(|&n| n > 0)
        };
        match fragment.split_once('-') {
            Some((a, b)) => Some(Self::between(number(a)?, number(b)?)),
            None => number(fragment).map(Self::line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lines_and_ranges() {
        assert_eq!(LineRange::parse("#L120"), Some(LineRange::line(120)));
        assert_eq!(
            LineRange::parse("#L120-L140"),
            Some(LineRange {
                first: 120,
                last: 140
            })
        );
        assert_eq!(
            LineRange::parse("L140-L120"),
            LineRange::parse("#L120-L140")
        );
        for bad in [
            "",
            "#",
            "#L",
            "#L0",
            "#120",
            "#L1-",
            "#L1-L",
            "#Lx",
            "#L1-L2-L3",
            "#L+1",
            "#L99999999999",
        ] {
            assert_eq!(LineRange::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn writes_fragments_that_read_back() {
        for range in [LineRange::line(7), LineRange::between(9, 3)] {
            assert_eq!(LineRange::parse(&range.fragment()), Some(range));
        }
        assert_eq!(LineRange::between(9, 3).fragment(), "#L3-L9");
        assert!(LineRange::between(3, 9).contains(9));
        assert!(!LineRange::line(3).contains(4));
    }
}
