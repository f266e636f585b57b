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

/// The longest pattern: far beyond any real path or tag filter, and short enough that checking
/// and matching one stay cheap.
pub const MAX_CHARS: usize = 1024;

/// How deeply braces may nest, which bounds how deeply [`expand`] recurses.
pub const MAX_DEPTH: usize = 64;

/// Checks a pattern's syntax: at most [`MAX_CHARS`] long, not empty, `!` only as its first
/// character, brackets and braces balanced, braces nested at most [`MAX_DEPTH`] deep, no
/// empty `[]`, no trailing `\`, and at most [`MAX_ALTERNATIVES`] alternatives.
pub fn check(pattern: &str) -> Result<(), String> {
    let length = pattern.chars().count();
    if length > MAX_CHARS {
        return Err(format!(
            "is {length} characters long; a pattern may have at most {MAX_CHARS}"
        ));
    }
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
            '{' if depth == MAX_DEPTH => {
                return Err(format!("nests braces more than {MAX_DEPTH} deep"));
            }
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
    expand(&chars)
        .iter()
        .any(|alternative| matches_tokens(&tokens(alternative), &text))
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

/// Every brace-free alternative of a checked pattern, with escapes and classes kept as
/// written. Past [`MAX_ALTERNATIVES`] it stops early with a partial list (one more, so that
/// [`check`] sees there are too many). It recurses only into a group's options, so no deeper
/// than braces nest.
fn expand(chars: &[char]) -> Vec<Vec<char>> {
    let mut out = vec![Vec::new()];
    let mut i = 0;
    while i < chars.len() && out.len() <= MAX_ALTERNATIVES {
        let end = match chars[i] {
            '\\' => (i + 2).min(chars.len()),
            '[' => class_end(chars, i).map_or(chars.len(), |end| end + 1),
            '{' => {
                let (options, end) = brace_options(chars, i);
                let tails: Vec<Vec<char>> = options
                    .into_iter()
                    .flat_map(expand)
                    .take(MAX_ALTERNATIVES + 1)
                    .collect();
                out = append(out, &tails);
                i = end + 1;
                continue;
            }
            _ => i + 1,
        };
        out.iter_mut().for_each(|head| head.extend(&chars[i..end]));
        i = end;
    }
    out
}

/// Each of `heads` followed by each of `tails`, at most one more than [`MAX_ALTERNATIVES`].
fn append(mut heads: Vec<Vec<char>>, tails: &[Vec<char>]) -> Vec<Vec<char>> {
    if let [tail] = tails {
        heads.iter_mut().for_each(|head| head.extend(tail));
        return heads;
    }
    heads
        .iter()
        .flat_map(|head| {
            tails
                .iter()
                .map(move |tail| [head.as_slice(), tail].concat())
        })
        .take(MAX_ALTERNATIVES + 1)
        .collect()
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

/// Whether `tokens` match all of `text`, by dynamic programming from the ends of both: time
/// linear in the product of their lengths, memory in the text's, and no recursion, so that a
/// long path cannot exhaust the stack.
fn matches_tokens(tokens: &[Token], text: &[char]) -> bool {
    let n = text.len();
    // `rest[i]`: whether the tokens after the current one match `text[i..]`.
    let mut rest: Vec<bool> = (0..=n).map(|i| i == n).collect();
    for token in tokens.iter().rev() {
        let mut row = vec![false; n + 1];
        // For `**/`: whether some `/` at or after `i` is followed by a match of the rest.
        let mut slash_then_rest = false;
        for i in (0..=n).rev() {
            let here = text.get(i).copied();
            let one = |ok: bool| ok && rest[i + 1];
            row[i] = match token {
                Token::Literal(c) => one(here == Some(*c)),
                Token::One => one(here.is_some_and(|c| c != '/')),
                Token::Class { negated, ranges } => one(here.is_some_and(|c| {
                    c != '/' && ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
                })),
                Token::Star => rest[i] || (here.is_some_and(|c| c != '/') && row[i + 1]),
                Token::Any => rest[i] || (here.is_some() && row[i + 1]),
                Token::Dirs => {
                    slash_then_rest |= here == Some('/') && rest[i + 1];
                    rest[i] || slash_then_rest
                }
            };
        }
        rest = row;
    }
    rest[0]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

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

    #[test]
    fn long_and_deep_patterns_are_refused() {
        let long = "a".repeat(MAX_CHARS + 1);
        assert_eq!(
            check(&long),
            Err("is 1025 characters long; a pattern may have at most 1024".into())
        );
        assert!(!matches(&long, &long));
        let deepest = format!("{}a{}", "{".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
        assert_eq!(check(&deepest), Ok(()));
        assert!(matches(&deepest, "a"));
        let deeper = format!("{{{deepest}}}");
        assert_eq!(check(&deeper), Err("nests braces more than 64 deep".into()));
    }

    #[test]
    fn long_texts_and_wide_expansions_stay_cheap() {
        let path = format!("{}/README.md", "d/".repeat(20_000));
        assert!(matches("**/*.md", &path) && !matches("**/*.rs", &path));
        assert!(matches("{c,d}**[!x]?*", &path));
        // 256 alternatives, each then joined with hundreds more groups.
        let wide = format!("{}{}", "{a,b}".repeat(8), "{c}".repeat(320));
        assert_eq!(check(&wide), Ok(()));
        assert!(matches(&wide, &format!("abababab{}", "c".repeat(320))));
        let wider = format!("{{a,b}}{wide}");
        assert!(
            check(&wider)
                .expect_err("too many")
                .contains("alternatives")
        );
    }

    proptest! {
        #[test]
        fn any_pattern_is_checked_and_matched(
            pattern in r"[*?{},!\\\[\]^a-c/-]{0,80}",
            text in "[a-c/]{0,40}",
        ) {
            let _ = check(&pattern);
            let _ = matches(&pattern, &text);
        }

        #[test]
        fn any_text_is_checked(pattern in "\\PC{0,200}") {
            let _ = check(&pattern);
        }

        #[test]
        fn nesting_past_the_cap_is_an_error(depth in (MAX_DEPTH + 1)..50_000) {
            let pattern = format!("{}a{}", "{".repeat(depth), "}".repeat(depth));
            prop_assert!(check(&pattern).is_err());
            prop_assert!(!matches(&pattern, "a"));
        }
    }
}
