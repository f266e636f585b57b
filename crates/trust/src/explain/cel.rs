//! The part of CEL that Google Cloud attribute conditions are usually written in, parsed and
//! evaluated with CEL's rules (`false && error` is false, `true || error` is true, otherwise an
//! error — a missing claim — rejects the token). Anything else is reported as unsupported.
//!
//! Supported: `==`, `!=`, `&&`, `||`, `!`, parentheses, `true`/`false`, `x in ['a', 'b']`,
//! `x.startsWith('a')`, `x.endsWith('a')`, `x.contains('a')`, over `assertion.<claim>`,
//! `assertion['<claim>']`, `attribute.<name>`, `google.subject` and string literals.

use std::fmt;

use super::ExplainError;

const INPUT: &str = "attribute condition";
const SUBSET: &str = "the explainer evaluates only ==, !=, &&, ||, !, `in [...]` and \
    .startsWith()/.endsWith()/.contains() over assertion.<claim>, attribute.<name>, \
    google.subject and string literals";

/// Google refuses a longer attribute condition ("The maximum length of the attribute condition
/// expression is 4096 characters", `WorkloadIdentityPoolProvider.attributeCondition`).
pub const MAX_CONDITION_CHARS: usize = 4096;

/// How deeply `!` and parentheses may nest: far beyond any real condition, and shallow enough
/// that parsing, evaluating and dropping a condition cannot exhaust a thread's stack.
pub const MAX_DEPTH: usize = 64;

/// A value the condition reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// `assertion.<claim>`: a claim of the token.
    Assertion(String),
    /// `attribute.<name>`: a mapped attribute.
    Attribute(String),
    /// `google.subject`.
    GoogleSubject,
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Assertion(claim) => write!(f, "assertion.{claim}"),
            Self::Attribute(name) => write!(f, "attribute.{name}"),
            Self::GoogleSubject => f.write_str("google.subject"),
        }
    }
}

/// Looks a path up: `Ok(None)` when the token does not have it.
pub type Lookup<'a> = dyn Fn(&Path) -> Result<Option<String>, ExplainError> + 'a;

/// A parsed condition.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition(Expr);

/// The result of a condition, with why, in words and exact values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub value: Value,
    pub why: String,
}

/// CEL's three outcomes for a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    True,
    False,
    /// Evaluation failed (a claim is missing): Google rejects the token.
    Error,
}

impl Condition {
    pub fn parse(source: &str) -> Result<Self, ExplainError> {
        check_length(source)?;
        let mut parser = Parser::new(source)?;
        let expr = parser.or()?;
        match parser.tokens.get(parser.at) {
            None => Ok(Self(expr)),
            Some(token) => Err(parser.unsupported(token.start)),
        }
    }

    pub fn evaluate(&self, lookup: &Lookup<'_>) -> Result<Outcome, ExplainError> {
        self.0.evaluate(lookup)
    }
}

/// Refuses a condition longer than Google accepts ([`MAX_CONDITION_CHARS`]).
pub fn check_length(source: &str) -> Result<(), ExplainError> {
    let length = source.chars().count();
    if length <= MAX_CONDITION_CHARS {
        return Ok(());
    }
    Err(ExplainError::malformed(
        INPUT,
        format!(
            "is {length} characters long, and Google Cloud accepts at most {MAX_CONDITION_CHARS}"
        ),
    ))
}

/// Parses an attribute mapping's expression, which the subset allows to be one path only
/// (`assertion.sub`).
pub fn path(source: &str) -> Result<Path, ExplainError> {
    let mut parser = Parser::new(source)?;
    match parser.operand()? {
        (Operand::Path(path), None) if parser.at == parser.tokens.len() => Ok(path),
        _ => Err(ExplainError::unsupported(
            "attribute mapping",
            format!("`{source}` is not a single claim such as `assertion.sub`"),
        )),
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Operand {
    Path(Path),
    Literal(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Test {
    Equal,
    NotEqual,
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Clone, Debug, PartialEq)]
enum Expr {
    Or(Vec<Expr>),
    And(Vec<Expr>),
    Not(Box<Expr>),
    Bool(bool),
    /// `left <test> right`, with its source text.
    Compare {
        left: Operand,
        test: Test,
        right: Operand,
        text: String,
    },
    In {
        value: Operand,
        list: Vec<String>,
        text: String,
    },
}

impl Expr {
    fn evaluate(&self, lookup: &Lookup<'_>) -> Result<Outcome, ExplainError> {
        let outcome = |value, why: String| Ok(Outcome { value, why });
        match self {
            Self::Bool(b) => outcome(
                if *b { Value::True } else { Value::False },
                format!("`{b}`"),
            ),
            Self::Not(inner) => {
                let inner = inner.evaluate(lookup)?;
                let value = match inner.value {
                    Value::True => Value::False,
                    Value::False => Value::True,
                    Value::Error => Value::Error,
                };
                outcome(value, inner.why)
            }
            Self::And(items) | Self::Or(items) => {
                let and = matches!(self, Self::And(_));
                let (absorbing, other) = if and {
                    (Value::False, Value::True)
                } else {
                    (Value::True, Value::False)
                };
                let outcomes = items
                    .iter()
                    .map(|item| item.evaluate(lookup))
                    .collect::<Result<Vec<_>, _>>()?;
                if let Some(decisive) = outcomes.iter().find(|o| o.value == absorbing) {
                    return Ok(decisive.clone());
                }
                if let Some(error) = outcomes.iter().find(|o| o.value == Value::Error) {
                    return Ok(error.clone());
                }
                let whys: Vec<String> = outcomes.into_iter().map(|o| o.why).collect();
                outcome(other, whys.join("; "))
            }
            Self::Compare {
                left,
                test,
                right,
                text,
            } => {
                let (l, r) = match (resolve(left, lookup)?, resolve(right, lookup)?) {
                    (Ok(l), Ok(r)) => (l, r),
                    (Err(why), _) | (_, Err(why)) => return outcome(Value::Error, why),
                };
                let holds = match test {
                    Test::Equal => l == r,
                    Test::NotEqual => l != r,
                    Test::StartsWith => l.starts_with(&r),
                    Test::EndsWith => l.ends_with(&r),
                    Test::Contains => l.contains(&r),
                };
                let subject = describe(left, &l);
                let why = match (holds, test) {
                    (true, _) => format!("`{text}` holds: {subject}"),
                    (false, Test::Equal) => format!("{subject}, not `{r}`"),
                    (false, Test::NotEqual) => format!("`{text}` fails: {subject}"),
                    (false, Test::StartsWith) => {
                        format!("{subject}, which does not start with `{r}`")
                    }
                    (false, Test::EndsWith) => format!("{subject}, which does not end with `{r}`"),
                    (false, Test::Contains) => format!("{subject}, which does not contain `{r}`"),
                };
                outcome(if holds { Value::True } else { Value::False }, why)
            }
            Self::In { value, list, text } => {
                let v = match resolve(value, lookup)? {
                    Ok(v) => v,
                    Err(why) => return outcome(Value::Error, why),
                };
                let subject = describe(value, &v);
                if list.contains(&v) {
                    outcome(Value::True, format!("`{text}` holds: {subject}"))
                } else {
                    let quoted: Vec<String> = list.iter().map(|i| format!("'{i}'")).collect();
                    outcome(
                        Value::False,
                        format!("{subject}, which is not in [{}]", quoted.join(", ")),
                    )
                }
            }
        }
    }
}

/// An operand's value, or (inner `Err`) why it has none: the token lacks the claim.
fn resolve(operand: &Operand, lookup: &Lookup<'_>) -> Result<Result<String, String>, ExplainError> {
    Ok(match operand {
        Operand::Literal(s) => Ok(s.clone()),
        Operand::Path(path) => lookup(path)?.ok_or_else(|| {
            format!("`{path}` is not in the token, so the condition cannot be evaluated")
        }),
    })
}

/// "`assertion.stack` is `dev`", or the literal itself.
fn describe(operand: &Operand, value: &str) -> String {
    match operand {
        Operand::Path(path) => format!("`{path}` is `{value}`"),
        Operand::Literal(_) => format!("`'{value}'`"),
    }
}

/// Names the path of the two that the token lacks.
#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Ident(String),
    Str(String),
    Symbol(&'static str),
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

fn tokenize(source: &str) -> Result<Vec<Token>, ExplainError> {
    const SYMBOLS: [&str; 11] = ["==", "!=", "&&", "||", "!", "(", ")", "[", "]", ".", ","];
    let mut tokens = Vec::new();
    let mut chars = source.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c.is_ascii_alphabetic() || c == '_' {
            let mut end = start;
            while let Some(&(i, c)) = chars.peek() {
                if !(c.is_ascii_alphanumeric() || c == '_') {
                    break;
                }
                end = i + c.len_utf8();
                chars.next();
            }
            let kind = Kind::Ident(source[start..end].to_owned());
            tokens.push(Token { kind, start, end });
        } else if c == '\'' || c == '"' {
            chars.next();
            let mut text = String::new();
            let end = loop {
                match chars.next() {
                    Some((i, q)) if q == c => break i + 1,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, e @ ('\\' | '\'' | '"'))) => text.push(e),
                        Some((_, 'n')) => text.push('\n'),
                        _ => return Err(unsupported_at(source, start)),
                    },
                    Some((_, ch)) => text.push(ch),
                    None => return Err(unsupported_at(source, start)),
                }
            };
            tokens.push(Token {
                kind: Kind::Str(text),
                start,
                end,
            });
        } else {
            let symbol = SYMBOLS
                .iter()
                .find(|s| source[start..].starts_with(**s))
                .ok_or_else(|| unsupported_at(source, start))?;
            for _ in 0..symbol.len() {
                chars.next();
            }
            let end = start + symbol.len();
            tokens.push(Token {
                kind: Kind::Symbol(symbol),
                start,
                end,
            });
        }
    }
    Ok(tokens)
}

fn unsupported_at(source: &str, at: usize) -> ExplainError {
    let snippet: String = source[at..].chars().take(24).collect();
    ExplainError::unsupported(
        INPUT,
        format!("`{snippet}` (at {at}) is outside it: {SUBSET}"),
    )
}

struct Parser<'a> {
    source: &'a str,
    tokens: Vec<Token>,
    at: usize,
    /// How many `!` and `(` enclose the token at `at`.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn new(source: &'a str) -> Result<Self, ExplainError> {
        Ok(Self {
            source,
            tokens: tokenize(source)?,
            at: 0,
            depth: 0,
        })
    }

    fn unsupported(&self, at: usize) -> ExplainError {
        unsupported_at(self.source, at)
    }

    /// The next token is not what the subset allows here (or the condition ends early).
    fn unexpected(&self) -> ExplainError {
        match self.tokens.get(self.at) {
            Some(token) => self.unsupported(token.start),
            None => ExplainError::unsupported(
                INPUT,
                format!("it ends where more was expected; {SUBSET}"),
            ),
        }
    }

    fn peek(&self) -> Option<&Kind> {
        self.tokens.get(self.at).map(|t| &t.kind)
    }

    /// Where the next token starts (the end of the source when there is none).
    fn position(&self) -> usize {
        self.tokens
            .get(self.at)
            .map_or(self.source.len(), |t| t.start)
    }

    fn eat(&mut self, symbol: &str) -> bool {
        let found = matches!(self.peek(), Some(Kind::Symbol(s)) if *s == symbol);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, symbol: &str) -> Result<(), ExplainError> {
        if self.eat(symbol) {
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn string(&mut self) -> Result<String, ExplainError> {
        match self.peek().cloned() {
            Some(Kind::Str(s)) => {
                self.at += 1;
                Ok(s)
            }
            _ => Err(self.unexpected()),
        }
    }

    fn or(&mut self) -> Result<Expr, ExplainError> {
        let mut items = vec![self.and()?];
        while self.eat("||") {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::Or(items)
        })
    }

    fn and(&mut self) -> Result<Expr, ExplainError> {
        let mut items = vec![self.unary()?];
        while self.eat("&&") {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 {
            items.remove(0)
        } else {
            Expr::And(items)
        })
    }

    fn unary(&mut self) -> Result<Expr, ExplainError> {
        if self.eat("!") {
            return Ok(Expr::Not(Box::new(self.nested(Self::unary)?)));
        }
        if self.eat("(") {
            let inner = self.nested(Self::or)?;
            self.expect(")")?;
            return Ok(inner);
        }
        match self.peek() {
            Some(Kind::Ident(word)) if word == "true" || word == "false" => {
                let value = word == "true";
                self.at += 1;
                Ok(Expr::Bool(value))
            }
            _ => self.comparison(),
        }
    }

    /// Parses what a `!` or `(` just read encloses, one level deeper; refuses to go deeper
    /// than [`MAX_DEPTH`], so that no input recurses without bound.
    fn nested(
        &mut self,
        parse: fn(&mut Self) -> Result<Expr, ExplainError>,
    ) -> Result<Expr, ExplainError> {
        if self.depth == MAX_DEPTH {
            return Err(ExplainError::unsupported(
                INPUT,
                format!(
                    "it nests `!` and parentheses more than {MAX_DEPTH} deep (at {})",
                    self.position()
                ),
            ));
        }
        self.depth += 1;
        let expr = parse(self);
        self.depth -= 1;
        expr
    }

    fn comparison(&mut self) -> Result<Expr, ExplainError> {
        let start = self.position();
        let (left, method) = self.operand()?;
        if let Some(test) = method {
            let right = Operand::Literal(self.string()?);
            self.expect(")")?;
            return Ok(self.compare(start, left, test, right));
        }
        if self.eat("==") {
            let (right, _) = self.operand()?;
            return Ok(self.compare(start, left, Test::Equal, right));
        }
        if self.eat("!=") {
            let (right, _) = self.operand()?;
            return Ok(self.compare(start, left, Test::NotEqual, right));
        }
        if matches!(self.peek(), Some(Kind::Ident(w)) if w == "in") {
            self.at += 1;
            self.expect("[")?;
            let mut list = vec![self.string()?];
            while self.eat(",") {
                list.push(self.string()?);
            }
            self.expect("]")?;
            let text = self.text_since(start);
            return Ok(Expr::In {
                value: left,
                list,
                text,
            });
        }
        Err(self.unexpected())
    }

    fn compare(&self, start: usize, left: Operand, test: Test, right: Operand) -> Expr {
        Expr::Compare {
            left,
            test,
            right,
            text: self.text_since(start),
        }
    }

    /// The source from `start` to the end of the last token read.
    fn text_since(&self, start: usize) -> String {
        let end = self.tokens[self.at - 1].end;
        self.source[start..end].to_owned()
    }

    /// A path or string literal, and the string method called on it, if any (its `(` read).
    fn operand(&mut self) -> Result<(Operand, Option<Test>), ExplainError> {
        let start = self.position();
        let root = match self.peek().cloned() {
            Some(Kind::Str(s)) => {
                self.at += 1;
                return Ok((Operand::Literal(s), None));
            }
            Some(Kind::Ident(root)) => root,
            _ => return Err(self.unexpected()),
        };
        self.at += 1;
        let field = if self.eat(".") {
            match self.peek().cloned() {
                Some(Kind::Ident(name)) => {
                    self.at += 1;
                    name
                }
                _ => return Err(self.unsupported(start)),
            }
        } else if self.eat("[") {
            let name = self.string()?;
            self.expect("]")?;
            name
        } else {
            return Err(self.unsupported(start));
        };
        let path = match (root.as_str(), field.as_str()) {
            ("assertion", _) => Path::Assertion(field),
            ("attribute", _) => Path::Attribute(field),
            ("google", "subject") => Path::GoogleSubject,
            _ => return Err(self.unsupported(start)),
        };
        if !self.eat(".") {
            return Ok((Operand::Path(path), None));
        }
        let test = match self.peek() {
            Some(Kind::Ident(m)) if m == "startsWith" => Test::StartsWith,
            Some(Kind::Ident(m)) if m == "endsWith" => Test::EndsWith,
            Some(Kind::Ident(m)) if m == "contains" => Test::Contains,
            _ => return Err(self.unsupported(start)),
        };
        self.at += 1;
        self.expect("(")?;
        Ok((Operand::Path(path), Some(test)))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A token with org `Acme`, stack `prod`, sub `p:x`.
    fn lookup(path: &Path) -> Result<Option<String>, ExplainError> {
        Ok(match path {
            Path::Assertion(c) | Path::Attribute(c) => match c.as_str() {
                "org" => Some("Acme".into()),
                "stack" => Some("prod".into()),
                _ => None,
            },
            Path::GoogleSubject => Some("p:x".into()),
        })
    }

    /// Evaluates `source` against [`lookup`]'s token.
    fn eval(source: &str) -> Outcome {
        Condition::parse(source)
            .and_then(|c| c.evaluate(&lookup))
            .unwrap_or_else(|e| panic!("{source}: {e}"))
    }

    fn value(source: &str) -> Value {
        eval(source).value
    }

    #[test]
    fn the_subset_evaluates_like_cel() {
        let cases = [
            ("assertion.org == 'Acme'", Value::True),
            ("assertion['org'] == \"Acme\"", Value::True),
            ("'Acme' == assertion.org", Value::True),
            ("assertion.org != 'Acme'", Value::False),
            ("assertion.stack in ['dev', 'prod']", Value::True),
            (
                "attribute.stack.startsWith('pr') && google.subject.endsWith(':x')",
                Value::True,
            ),
            (
                "google.subject.contains('y') || !(assertion.org == 'Other')",
                Value::True,
            ),
            (
                "(assertion.org == 'Acme' || false) && assertion.stack == 'dev'",
                Value::False,
            ),
            ("true && !true", Value::False),
            // CEL's error rules: a missing claim is absorbed only by a decisive operand.
            ("assertion.team == 'x'", Value::Error),
            (
                "assertion.team == 'x' || assertion.org == 'Acme'",
                Value::True,
            ),
            (
                "assertion.team == 'x' && assertion.org == 'Other'",
                Value::False,
            ),
            (
                "assertion.team == 'x' || assertion.org == 'Other'",
                Value::Error,
            ),
            ("!(assertion.team in ['x'])", Value::Error),
        ];
        for (source, want) in cases {
            assert_eq!(value(source), want, "{source}");
        }
    }

    #[test]
    fn reasons_name_the_failing_comparison() {
        assert_eq!(
            eval("assertion.org == 'Acme' && assertion.stack == 'dev'").why,
            "`assertion.stack` is `prod`, not `dev`"
        );
        assert_eq!(
            eval("assertion.stack in ['dev', 'qa'] || assertion.stack.startsWith('x')").why,
            "`assertion.stack` is `prod`, which is not in ['dev', 'qa']; `assertion.stack` is \
             `prod`, which does not start with `x`"
        );
        assert_eq!(
            eval("!(assertion.stack == 'prod')").why,
            "`assertion.stack == 'prod'` holds: `assertion.stack` is `prod`"
        );
    }

    #[test]
    fn everything_else_is_unsupported_not_guessed() {
        for source in [
            "size(assertion.sub) > 3",
            "assertion.sub.matches('^p')",
            "assertion.groups.exists(g, g == 'x')",
            "assertion.a.b == 'x'",
            "request.time < timestamp('2030-01-01T00:00:00Z')",
            "assertion.org == 1",
            "assertion.org ==",
            "(assertion.org == 'x'",
            "assertion.org == 'unterminated",
            "",
        ] {
            let err = Condition::parse(source).expect_err(source);
            assert!(matches!(err, ExplainError::Unsupported { .. }), "{source}");
            assert!(
                err.to_string().contains("the explainer evaluates only"),
                "{source}: {err}"
            );
        }
    }

    #[test]
    fn mappings_are_single_claims() {
        assert_eq!(path("assertion.sub"), Ok(Path::Assertion("sub".into())));
        assert!(path("assertion.sub + 'x'").is_err());
        assert!(path("'literal'").is_err());
    }

    #[test]
    fn conditions_longer_than_googles_limit_are_refused() {
        let long = format!("{}true", "!".repeat(100_000));
        assert_eq!(
            Condition::parse(&long).map(drop).map_err(|e| e.to_string()),
            Err(
                "the attribute condition is 100004 characters long, and Google Cloud accepts \
                 at most 4096"
                    .into()
            )
        );
        let longest = format!("{}true", " ".repeat(MAX_CONDITION_CHARS - 4));
        assert_eq!(value(&longest), Value::True);
    }

    #[test]
    fn nesting_is_capped() {
        let deepest = format!("{}true{}", "!(".repeat(32), ")".repeat(32));
        assert_eq!(value(&deepest), Value::True);
        for deeper in [
            format!("{}true", "!".repeat(MAX_DEPTH + 1)),
            format!("{}true{}", "(".repeat(2_000), ")".repeat(2_000)),
            format!("!{deepest}"),
        ] {
            let err = Condition::parse(&deeper).expect_err(&deeper);
            assert!(
                err.to_string()
                    .contains("nests `!` and parentheses more than 64 deep"),
                "{err}"
            );
        }
    }

    /// `!` or `(` nested `depth` times around `true`.
    fn nested(depth: usize, open: bool) -> String {
        if open {
            format!("{}true{}", "(".repeat(depth), ")".repeat(depth))
        } else {
            format!("{}true", "!".repeat(depth))
        }
    }

    /// Conditions of the subset, nested up to 8 levels.
    fn conditions() -> impl Strategy<Value = String> {
        let leaf = prop::sample::select(vec![
            "true",
            "assertion.org == 'Acme'",
            "assertion.team in ['x', 'y']",
            "attribute.stack.startsWith('p')",
            "google.subject != 'p:y'",
        ])
        .prop_map(str::to_owned);
        leaf.prop_recursive(8, 64, 2, |inner| {
            prop_oneof![
                inner.clone().prop_map(|c| format!("!{c}")),
                inner.clone().prop_map(|c| format!("({c})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} && {b}")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("{a} || {b}")),
            ]
        })
    }

    proptest! {
        #[test]
        fn the_subset_always_evaluates(source in conditions()) {
            let condition = Condition::parse(&source).map_err(|e| e.to_string());
            prop_assert!(condition.as_ref().is_ok_and(|c| c.evaluate(&lookup).is_ok()), "{source}");
        }

        #[test]
        fn any_text_is_parsed_or_refused(source in "\\PC{0,400}") {
            if let Ok(condition) = Condition::parse(&source) {
                let _ = condition.evaluate(&lookup);
            }
        }

        #[test]
        fn condition_like_text_is_parsed_or_refused(
            source in "[!()&|=' \\[\\],.a-z\"]{0,3000}",
        ) {
            if let Ok(condition) = Condition::parse(&source) {
                let _ = condition.evaluate(&lookup);
            }
        }

        /// The depth cap holds on its own, below the length cap and past it.
        #[test]
        fn deep_nesting_is_an_error_not_an_overflow(
            depth in (MAX_DEPTH + 1)..100_000,
            open in any::<bool>(),
        ) {
            let source = nested(depth, open);
            prop_assert!(Parser::new(&source).and_then(|mut p| p.or()).is_err());
            prop_assert!(Condition::parse(&source).is_err());
        }
    }
}
