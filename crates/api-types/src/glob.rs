//! Glob patterns for push-to-deploy filters (`gitHub.paths`, `gitHub.tagFilters`), in the
//! dialect of GitHub Actions' path filters:
//!
//! - `*` matches any run of characters except `/`; `?` matches one character except `/`;
//! - `**` matches any run of characters, `/` included; `**/` also matches nothing, so
//!   `docs/**/*.md` matches `docs/a.md` and `docs/x/y/a.md`;
//! - `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) match one character of (not of) a set;
//! - `{a,b}` matches either alternative (alternatives may nest and hold wildcards);
//! - `\` makes the next character literal;
//! - a leading `!` makes the pattern an exclusion (see [`filter_matches`]).

/// The most alternatives one pattern's braces may expand to.
const MAX_ALTERNATIVES: usize = 256;

/// Checks a pattern's syntax: not empty, `!` only as its first character, brackets and braces
/// balanced, no empty `[]`, no trailing `\`, and at most [`MAX_ALTERNATIVES`] alternatives.
pub fn check(pattern: &str) -> Result<(), String> {
    let body = pattern.strip_prefix('!').unwrap_or(pattern);
    if body.is_empty() {
        return Err("is an empty pattern".into());
    }
    let chars: Vec<char> = body.chars().collect();
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 == chars.len() => return Err("ends with a lone \\".into()),
            '\\' => i += 1,
            '!' => return Err("may have ! only as its first character (an exclusion)".into()),
            '[' => i = class_end(&chars, i).ok_or("has a [ without its ]")?,
            ']' => return Err("has a ] without its [".into()),
            '{' => depth += 1,
            '}' if depth == 0 => return Err("has a } without its {".into()),
            '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    if depth > 0 {
        return Err("has a { without its }".into());
    }
    if expand(&chars).len() > MAX_ALTERNATIVES {
        return Err(format!(
            "has more than {MAX_ALTERNATIVES} alternatives in braces"
        ));
    }
    Ok(())
}

/// Whether `text` matches `pattern` (without a leading `!`). A pattern that does not pass
/// [`check`] matches nothing.
pub fn matches(pattern: &str, text: &str) -> bool {
    if check(pattern).is_err() {
        return false;
    }
    let chars: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    expand(&chars).iter().any(|alternative| {
        let tokens = tokens(alternative);
        Matcher::new(&tokens, &text).matches(0, 0)
    })
}

/// Whether `text` passes a filter list: it matches some pattern without `!` (or the list has
/// none: then everything not excluded passes) and no pattern with `!`. An empty list passes
/// everything.
pub fn filter_matches(patterns: &[String], text: &str) -> bool {
    let (exclusions, inclusions): (Vec<&str>, Vec<&str>) = patterns
        .iter()
        .map(String::as_str)
        .partition(|p| p.starts_with('!'));
    let included = inclusions.is_empty() || inclusions.iter().any(|p| matches(p, text));
    included && !exclusions.iter().any(|p| matches(&p[1..], text))
}

/// The index of the `]` closing the class opened at `start`; a `]` right after `[`, `[!` or
/// `[^` is a member, not the end.
fn class_end(chars: &[char], start: usize) -> Option<usize> {
    let mut i = start + 1;
    if matches!(chars.get(i), Some('!' | '^')) {
        i += 1;
    }
    if chars.get(i) == Some(&']') {
        i += 1;
    }
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            ']' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Every brace-free alternative of a checked pattern, with escapes and classes kept as written.
fn expand(chars: &[char]) -> Vec<Vec<char>> {
    let mut i = 0;
    let mut prefix = Vec::new();
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                prefix.extend(&chars[i..(i + 2).min(chars.len())]);
                i += 2;
            }
            '[' => {
                let end = class_end(chars, i).unwrap_or(chars.len() - 1);
                prefix.extend(&chars[i..=end]);
                i = end + 1;
            }
            '{' => {
                let (options, end) = brace_options(chars, i);
                let rest = expand(&chars[end + 1..]);
                let mut out = Vec::new();
                for option in options {
                    for head in expand(option) {
                        for tail in &rest {
                            if out.len() > MAX_ALTERNATIVES {
                                return out;
                            }
                            out.push([prefix.as_slice(), &head, tail].concat());
                        }
                    }
                }
                return out;
            }
            c => {
                prefix.push(c);
                i += 1;
            }
        }
    }
    vec![prefix]
}

/// The comma-separated options of the brace group opened at `start`, and the index of its `}`.
fn brace_options(chars: &[char], start: usize) -> (Vec<&[char]>, usize) {
    let mut options = Vec::new();
    let (mut depth, mut from, mut i) = (0usize, start + 1, start + 1);
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 1,
            '[' => i = class_end(chars, i).unwrap_or(i),
            '{' => depth += 1,
            '}' if depth == 0 => {
                options.push(&chars[from..i]);
                return (options, i);
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                options.push(&chars[from..i]);
                from = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    options.push(&chars[from..]);
    (options, chars.len().saturating_sub(1))
}

/// One element of a brace-free pattern.
#[derive(Debug, PartialEq)]
enum Token {
    Literal(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// `**` not followed by `/`
    Any,
    /// `**/`: nothing, or anything ending in `/`
    Dirs,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

fn tokens(chars: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                out.extend(chars.get(i + 1).map(|&c| Token::Literal(c)));
                i += 2;
            }
            '?' => {
                out.push(Token::One);
                i += 1;
            }
            '*' if chars.get(i + 1) == Some(&'*') => {
                let mut end = i;
                while chars.get(end) == Some(&'*') {
                    end += 1;
                }
                if chars.get(end) == Some(&'/') {
                    out.push(Token::Dirs);
                    end += 1;
                } else {
                    out.push(Token::Any);
                }
                i = end;
            }
            '*' => {
                out.push(Token::Star);
                i += 1;
            }
            '[' => {
                let end = class_end(chars, i).unwrap_or(chars.len() - 1);
                out.push(class(&chars[i + 1..end]));
                i = end + 1;
            }
            c => {
                out.push(Token::Literal(c));
                i += 1;
            }
        }
    }
    out
}

/// The set inside `[…]`.
fn class(inner: &[char]) -> Token {
    let negated = matches!(inner.first(), Some('!' | '^'));
    let mut members = Vec::new();
    let mut i = usize::from(negated);
    while i < inner.len() {
        if inner[i] == '\\' && i + 1 < inner.len() {
            i += 1;
        }
        members.push(inner[i]);
        i += 1;
    }
    let mut ranges = Vec::new();
    let mut j = 0;
    while j < members.len() {
        if j + 2 < members.len() && members[j + 1] == '-' {
            ranges.push((members[j], members[j + 2]));
            j += 3;
        } else {
            ranges.push((members[j], members[j]));
            j += 1;
        }
    }
    Token::Class { negated, ranges }
}

/// Matching by memoised recursion over (token, character) positions: linear in their product.
struct Matcher<'a> {
    tokens: &'a [Token],
    text: &'a [char],
    seen: Vec<Option<bool>>,
}

impl<'a> Matcher<'a> {
    fn new(tokens: &'a [Token], text: &'a [char]) -> Self {
        let seen = vec![None; (tokens.len() + 1) * (text.len() + 1)];
        Self { tokens, text, seen }
    }

    fn matches(&mut self, t: usize, i: usize) -> bool {
        let key = t * (self.text.len() + 1) + i;
        if let Some(known) = self.seen[key] {
            return known;
        }
        let result = self.step(t, i);
        self.seen[key] = Some(result);
        result
    }

    fn step(&mut self, t: usize, i: usize) -> bool {
        let Some(token) = self.tokens.get(t) else {
            return i == self.text.len();
        };
        let here = self.text.get(i).copied();
        match token {
            Token::Literal(c) => here == Some(*c) && self.matches(t + 1, i + 1),
            Token::One => here.is_some_and(|c| c != '/') && self.matches(t + 1, i + 1),
            Token::Class { negated, ranges } => {
                let hit = here.is_some_and(|c| {
                    c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
                });
                hit && self.matches(t + 1, i + 1)
            }
            Token::Star => {
                self.matches(t + 1, i) || (here.is_some_and(|c| c != '/') && self.matches(t, i + 1))
            }
            Token::Any => self.matches(t + 1, i) || (here.is_some() && self.matches(t, i + 1)),
            Token::Dirs => {
                // Nothing, or any run ending in `/`.
                self.matches(t + 1, i)
                    || (i..self.text.len())
                        .any(|j| self.text[j] == '/' && self.matches(t + 1, j + 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_is_checked() {
        for ok in [
            "infra/**",
            "!docs/**",
            "*.{ts,js}",
            "src/{a,{b,c}}/*.rs",
            "[!a-z]*",
            "[]]x",
            r"a\!b",
            "v[0-9].*",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "empty"),
            ("!", "empty"),
            ("a!b", "first character"),
            ("!!a", "first character"),
            ("src/[abc", "[ without"),
            ("src/abc]", "] without"),
            ("{a,b", "{ without"),
            ("a,b}", "} without"),
            (r"a\", "lone"),
            (
                "{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}",
                "alternatives",
            ),
        ] {
            let err = check(bad).expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn stars_stop_at_slashes_and_double_stars_do_not() {
        let cases = [
            ("*.md", "README.md", true),
            ("*.md", "docs/README.md", false),
            ("docs/*", "docs/a.md", true),
            ("docs/*", "docs/x/a.md", false),
            ("docs/**", "docs/x/a.md", true),
            ("docs/**", "docs", false),
            ("**", "a/b/c", true),
            ("**/*.md", "README.md", true),
            ("**/*.md", "a/b/README.md", true),
            ("docs/**/*.md", "docs/a.md", true),
            ("docs/**/*.md", "docs/x/y/a.md", true),
            ("docs/**/*.md", "docsx/a.md", false),
            ("infra/**", "infra/index.ts", true),
            ("infra/**", "infrastructure/index.ts", false),
            ("a**b", "a/x/b", true),
            ("file?.txt", "file1.txt", true),
            ("file?.txt", "file10.txt", false),
            ("a?b", "a/b", false),
            ("", "", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn classes_braces_and_escapes() {
        let cases = [
            ("v[0-9]*", "v1.2.0", true),
            ("v[0-9]*", "vx", false),
            ("[!a-c]x", "dx", true),
            ("[!a-c]x", "bx", false),
            ("[^a-c]x", "bx", false),
            ("[]]x", "]x", true),
            ("[a-]", "-", true),
            ("*.{ts,js}", "index.js", true),
            ("*.{ts,js}", "index.rs", false),
            ("src/{a,{b,c}}/*.rs", "src/c/main.rs", true),
            ("{infra,shared}/**", "shared/lib/x.ts", true),
            ("{,x}y", "y", true),
            (r"\*.md", "*.md", true),
            (r"\*.md", "a.md", false),
            ("release-*", "release-2024", true),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(matches(pattern, text), expected, "{pattern} vs {text}");
        }
    }

    #[test]
    fn pathological_patterns_stay_fast() {
        let pattern = "**a**a**a**a**a**a**a**a**b";
        let text = "a".repeat(200);
        assert!(!matches(pattern, &text));
    }

    #[test]
    fn filters_include_then_exclude() {
        let filters: Vec<String> = ["infra/**", "!infra/docs/**", "!**/*.md"]
            .map(String::from)
            .to_vec();
        assert!(filter_matches(&filters, "infra/index.ts"));
        assert!(!filter_matches(&filters, "infra/docs/setup.ts"));
        assert!(!filter_matches(&filters, "infra/README.md"));
        assert!(!filter_matches(&filters, "app/main.ts"));
        assert!(filter_matches(&[], "anything"));
        let only_exclusions = vec!["!docs/**".to_owned()];
        assert!(filter_matches(&only_exclusions, "src/lib.rs"));
        assert!(!filter_matches(&only_exclusions, "docs/a.md"));
    }
}
