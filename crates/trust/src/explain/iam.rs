//! An AWS role trust policy evaluated for `sts:AssumeRoleWithWebIdentity`, as IAM does it.
//!
//! An explicit `Deny` that matches wins; otherwise one `Allow` statement must match in full:
//! its `Principal` names the token's OIDC provider, its `Action` covers the call, and every
//! condition holds. Operators are ANDed, keys within an operator are ANDed, the values of one
//! key are ORed. Supported: `String[Not]Equals`, `String[Not]EqualsIgnoreCase`,
//! `String[Not]Like` (`*` any run, `?` one character), each with `ForAnyValue:`/`ForAllValues:`
//! and `…IfExists`, and `Null`. The request context holds the keys AWS sets from an OIDC token:
//! `<provider>:aud` (the token's `azp` when present, else `aud`), `<provider>:sub` and
//! `<provider>:azp`, where `<provider>` is the issuer without `https://`. Keys that depend on
//! the request (`aws:SourceIp`, `sts:RoleSessionName`, …) are reported as unsupported.

use serde_json::Value;

use super::{Claims, ExplainError, Verdict};
use crate::scope::describe_difference;

/// The action the exchange performs.
pub const ACTION: &str = "sts:AssumeRoleWithWebIdentity";

const INPUT: &str = "trust policy";

/// The longest trust policy read, in characters other than white space, which IAM does not
/// count. A role's trust policy holds 2,048 characters unless its quota is raised, and 10,240
/// is the most a role's inline policies may hold together ("IAM and AWS STS quotas" in the IAM
/// User Guide): no policy pasted from a real role is longer.
pub const MAX_POLICY_CHARS: usize = 10_240;

/// Who is asking: the token and the provider it comes through.
pub struct Request<'a> {
    /// The issuer without its scheme, e.g. `keyless.example.com/oidc`.
    pub provider: &'a str,
    /// The role's account, when known: providers of other accounts are not trusted.
    pub account: Option<&'a str>,
    pub claims: &'a Claims,
}

/// Evaluates `policy`, a trust policy document, for `request`.
pub fn evaluate(policy: &Value, request: &Request<'_>) -> Result<Verdict, ExplainError> {
    check_length(policy)?;
    let statements = match policy.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => return Err(ExplainError::malformed(INPUT, "has no Statement")),
    };
    let statements = statements
        .into_iter()
        .enumerate()
        .map(|(index, s)| Statement::parse(s, index))
        .collect::<Result<Vec<_>, _>>()?;
    for deny in statements.iter().filter(|s| !s.allow) {
        if deny.check(request)?.is_ok() {
            return Ok(Verdict::rejected(
                format!("Deny {}", deny.label),
                format!(
                    "{} denies {ACTION} to this token (sub `{}`), and an explicit Deny \
                     overrides every Allow",
                    deny.label,
                    request.claims.sub()
                ),
                "Narrow the Deny's conditions so they do not match this token, or remove it",
            ));
        }
    }
    let mut closest: Option<Miss> = None;
    for allow in statements.iter().filter(|s| s.allow) {
        match allow.check(request)? {
            Ok(()) => {
                return Ok(Verdict::Accepted {
                    matched: allow.summary(),
                });
            }
            Err(miss) if closest.as_ref().is_none_or(|c| miss.progress > c.progress) => {
                closest = Some(miss);
            }
            Err(_) => {}
        }
    }
    Ok(match closest {
        Some(miss) => Verdict::rejected(miss.condition, miss.reason, miss.hint),
        None => Verdict::rejected(
            "Statement",
            format!("the policy has no Allow statement, and IAM denies {ACTION} by default"),
            "Add an Allow statement for the provider, like the generated policy's",
        ),
    })
}

/// Refuses a policy longer than [`MAX_POLICY_CHARS`]. The policy was parsed by serde_json,
/// which refuses 128 levels of nesting or more: serialising it recurses no deeper.
fn check_length(policy: &Value) -> Result<(), ExplainError> {
    let length = policy
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .count();
    if length <= MAX_POLICY_CHARS {
        return Ok(());
    }
    Err(ExplainError::malformed(
        INPUT,
        format!(
            "is {length} characters long without white space; a role trust policy holds 2,048 \
             unless its quota is raised, and the explainer reads at most {MAX_POLICY_CHARS}"
        ),
    ))
}

/// Why a statement does not match, and how far it got (principal 0, action 1, then one per
/// condition passed) so the closest statement is the one explained.
struct Miss {
    progress: usize,
    condition: String,
    reason: String,
    hint: String,
}

struct Statement {
    label: String,
    allow: bool,
    principal: Option<Value>,
    /// `Action` patterns, or `NotAction` ones when `not_action`.
    actions: Vec<String>,
    not_action: bool,
    conditions: Vec<Condition>,
}

impl Statement {
    fn parse(value: &Value, index: usize) -> Result<Self, ExplainError> {
        let n = index + 1;
        let bad = |detail: String| ExplainError::malformed(INPUT, detail);
        let object = value
            .as_object()
            .ok_or_else(|| bad(format!("statement #{n} is not an object")))?;
        let label = match object.get("Sid").and_then(Value::as_str) {
            Some(sid) if !sid.is_empty() => format!("statement `{sid}`"),
            _ => format!("statement #{n}"),
        };
        let allow = match object.get("Effect").and_then(Value::as_str) {
            Some("Allow") => true,
            Some("Deny") => false,
            _ => return Err(bad(format!("{label} has no Effect Allow or Deny"))),
        };
        if object.contains_key("NotPrincipal") {
            return Err(ExplainError::unsupported(
                INPUT,
                format!("{label} uses NotPrincipal; use Principal with the Federated provider"),
            ));
        }
        let (actions, not_action) = match (object.get("Action"), object.get("NotAction")) {
            (Some(a), None) => (strings(a, &label)?, false),
            (None, Some(a)) => (strings(a, &label)?, true),
            _ => return Err(bad(format!("{label} needs one of Action or NotAction"))),
        };
        let mut conditions = Vec::new();
        if let Some(block) = object.get("Condition") {
            let operators = block
                .as_object()
                .ok_or_else(|| bad(format!("{label}: Condition is not an object")))?;
            for (operator, keys) in operators {
                let keys = keys
                    .as_object()
                    .ok_or_else(|| bad(format!("{label}: {operator} is not an object")))?;
                for (key, values) in keys {
                    conditions.push(Condition {
                        operator: Operator::parse(operator)?,
                        label: format!("{operator} {key}"),
                        key: key.clone(),
                        values: strings(values, &label)?,
                    });
                }
            }
        }
        Ok(Self {
            label,
            allow,
            principal: object.get("Principal").cloned(),
            actions,
            not_action,
            conditions,
        })
    }

    /// `Ok(Ok(()))` when the statement applies to the request.
    fn check(&self, request: &Request<'_>) -> Result<Result<(), Miss>, ExplainError> {
        let miss = |progress, condition: &str, (reason, hint): (String, String)| Miss {
            progress,
            condition: condition.to_owned(),
            reason,
            hint,
        };
        if let Err(why) = self.check_principal(request) {
            return Ok(Err(miss(0, "Principal.Federated", why)));
        }
        let named = self
            .actions
            .iter()
            .any(|a| string_like(&a.to_ascii_lowercase(), &ACTION.to_ascii_lowercase()));
        if named == self.not_action {
            let reason = if self.not_action {
                format!("{}'s NotAction excludes `{ACTION}`", self.label)
            } else {
                format!(
                    "{} allows {}, not `{ACTION}`",
                    self.label,
                    list(&self.actions)
                )
            };
            let hint = format!("Set \"Action\": \"{ACTION}\"");
            return Ok(Err(miss(1, "Action", (reason, hint))));
        }
        for (passed, condition) in self.conditions.iter().enumerate() {
            let context = context(&condition.key, request)?;
            if !condition.holds(&context) {
                let why = condition.explain(&context, request);
                return Ok(Err(miss(2 + passed, &condition.label, why)));
            }
        }
        Ok(Ok(()))
    }

    fn check_principal(&self, request: &Request<'_>) -> Result<(), (String, String)> {
        let account = request.account.unwrap_or("<account>");
        let expected = format!("arn:aws:iam::{account}:oidc-provider/{}", request.provider);
        let hint = format!("Set \"Principal\": {{\"Federated\": \"{expected}\"}}");
        let federated = match &self.principal {
            Some(Value::String(any)) if any == "*" => return Ok(()),
            Some(Value::Object(p)) if p.contains_key("Federated") => p["Federated"].clone(),
            Some(Value::Object(p)) => {
                let kinds: Vec<&str> = p.keys().map(String::as_str).collect();
                let reason = format!(
                    "{} trusts {} principals, not the OIDC identity provider",
                    self.label,
                    kinds.join(" and ")
                );
                return Err((reason, hint));
            }
            _ => return Err((format!("{} has no Principal", self.label), hint)),
        };
        let arns = strings(&federated, &self.label).map_err(|e| (e.to_string(), hint.clone()))?;
        let reasons: Vec<Option<String>> = arns
            .iter()
            .map(|arn| {
                let Some((arn_account, path)) = provider_arn(arn) else {
                    return Some(format!(
                        "the Federated principal `{arn}` is not an IAM OIDC provider ARN \
                     (`arn:aws:iam::<account>:oidc-provider/<issuer host and path>`)"
                    ));
                };
                if path != request.provider {
                    let provider = request.provider;
                    let how = if path.trim_end_matches('/') == provider.trim_end_matches('/') {
                        let (with, without) = if path.ends_with('/') {
                            ("the principal", "the token's iss")
                        } else {
                            ("the token's iss", "the principal")
                        };
                        format!("{with} ends with a slash, {without} does not")
                    } else if path.eq_ignore_ascii_case(provider) {
                        "they differ in case, and the provider URL is compared exactly".to_owned()
                    } else {
                        format!("the token's iss is `{}`", request.claims.iss())
                    };
                    return Some(format!(
                        "the Federated principal names provider `{path}`, but the token comes from \
                     `{provider}`: {how}"
                    ));
                }
                match request.account {
                    Some(role_account) if role_account != arn_account => Some(format!(
                        "the Federated principal is a provider of account {arn_account}, but the \
                     role is in account {role_account}, and a role trusts only providers of its \
                     own account"
                    )),
                    _ => None,
                }
            })
            .collect();
        if reasons.iter().any(Option::is_none) {
            return Ok(());
        }
        let reason = reasons.into_iter().flatten().next();
        Err((
            reason.unwrap_or_else(|| format!("{} names no Federated provider", self.label)),
            hint,
        ))
    }

    fn summary(&self) -> String {
        let conditions: Vec<&str> = self.conditions.iter().map(|c| c.label.as_str()).collect();
        if conditions.is_empty() {
            format!(
                "{} allows {ACTION} with no conditions: every token of this provider may assume \
                 the role",
                self.label
            )
        } else {
            format!(
                "{} allows {ACTION} where {}",
                self.label,
                conditions.join(" and ")
            )
        }
    }
}

/// One key of one condition operator.
struct Condition {
    operator: Operator,
    /// `StringLike keyless.example.com/oidc:sub`, as the policy spells it.
    label: String,
    key: String,
    values: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Base {
    Equals,
    EqualsIgnoreCase,
    Like,
    Null,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Set {
    Single,
    AnyValue,
    AllValues,
}

#[derive(Clone, Copy)]
struct Operator {
    base: Base,
    negated: bool,
    set: Set,
    if_exists: bool,
}

impl Operator {
    fn parse(text: &str) -> Result<Self, ExplainError> {
        let (set, rest) = if let Some(rest) = text.strip_prefix("ForAnyValue:") {
            (Set::AnyValue, rest)
        } else if let Some(rest) = text.strip_prefix("ForAllValues:") {
            (Set::AllValues, rest)
        } else {
            (Set::Single, text)
        };
        let (rest, if_exists) = match rest.strip_suffix("IfExists") {
            Some(rest) => (rest, true),
            None => (rest, false),
        };
        let (base, negated) = match rest {
            "StringEquals" => (Base::Equals, false),
            "StringNotEquals" => (Base::Equals, true),
            "StringEqualsIgnoreCase" => (Base::EqualsIgnoreCase, false),
            "StringNotEqualsIgnoreCase" => (Base::EqualsIgnoreCase, true),
            "StringLike" => (Base::Like, false),
            "StringNotLike" => (Base::Like, true),
            "Null" if set == Set::Single && !if_exists => (Base::Null, false),
            _ => {
                return Err(ExplainError::unsupported(
                    INPUT,
                    format!(
                        "condition operator `{text}` is not evaluated here; the explainer reads \
                         the String… operators (with ForAnyValue:, ForAllValues:, IfExists) and Null"
                    ),
                ));
            }
        };
        Ok(Self {
            base,
            negated,
            set,
            if_exists,
        })
    }

    /// Whether one policy value matches one request value, before negation.
    fn compare(self, policy: &str, value: &str) -> bool {
        match self.base {
            Base::Equals => policy == value,
            Base::EqualsIgnoreCase => policy.to_lowercase() == value.to_lowercase(),
            Base::Like => string_like(policy, value),
            Base::Null => false,
        }
    }
}

/// A key's values in the request, or why it has none.
enum Context {
    Values(Vec<String>),
    Missing { reason: String, hint: String },
}

/// The request context's values for `key`.
fn context(key: &str, request: &Request<'_>) -> Result<Context, ExplainError> {
    let provider = request.provider;
    let unsupported = || {
        ExplainError::unsupported(
            INPUT,
            format!(
                "condition key `{key}` depends on the request, not the token; the explainer \
                 evaluates the provider's aud, azp and sub keys"
            ),
        )
    };
    let (prefix, claim) = key.rsplit_once(':').ok_or_else(unsupported)?;
    if !prefix.eq_ignore_ascii_case(provider) {
        if !prefix.contains(['.', '/']) {
            return Err(unsupported());
        }
        return Ok(Context::Missing {
            reason: format!(
                "the request has no `{key}`: that key belongs to provider `{prefix}`, and tokens \
                 from `{provider}` set `{provider}:aud` and `{provider}:sub`"
            ),
            hint: format!("Rename the key to `{provider}:{claim}`"),
        });
    }
    let claims = request.claims;
    let azp = claims.get("azp").and_then(Value::as_str).map(str::to_owned);
    let values = match claim.to_ascii_lowercase().as_str() {
        "aud" => azp.map_or_else(|| claims.aud().to_vec(), |azp| vec![azp]),
        "sub" => vec![claims.sub().to_owned()],
        "azp" => azp.into_iter().collect(),
        _ => {
            return Ok(Context::Missing {
                reason: format!(
                    "the request has no `{key}`: of an OIDC token AWS exposes only aud, azp and \
                     sub as condition keys, not claims like `{claim}`"
                ),
                hint: format!("Match on `{provider}:sub` with StringLike instead"),
            });
        }
    };
    Ok(if values.is_empty() {
        Context::Missing {
            reason: format!("the request has no `{key}`: the token has no `{claim}` claim"),
            hint: format!("Match on `{provider}:aud` and `{provider}:sub` instead"),
        }
    } else {
        Context::Values(values)
    })
}

impl Condition {
    fn holds(&self, context: &Context) -> bool {
        let op = self.operator;
        let values = match context {
            Context::Values(values) => values,
            Context::Missing { .. } if op.base == Base::Null => return self.null_wants_absent(),
            Context::Missing { .. } => {
                return op.if_exists || op.negated || op.set == Set::AllValues;
            }
        };
        if op.base == Base::Null {
            return !self.null_wants_absent();
        }
        let matched = |value: &String| self.values.iter().any(|p| op.compare(p, value));
        match (op.set, op.negated) {
            (Set::AllValues, false) => values.iter().all(matched),
            (Set::AllValues, true) => !values.iter().any(matched),
            (Set::AnyValue, true) => !values.iter().all(matched),
            (_, false) => values.iter().any(matched),
            (Set::Single, true) => !values.iter().any(matched),
        }
    }

    fn null_wants_absent(&self) -> bool {
        self.values.iter().any(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Why the condition does not hold, with the exact values, and what to change.
    fn explain(&self, context: &Context, request: &Request<'_>) -> (String, String) {
        let (op, key, label) = (self.operator, &self.key, &self.label);
        let values = match context {
            Context::Missing { reason, hint } => return (reason.clone(), hint.clone()),
            Context::Values(values) => values,
        };
        let matched = |value: &&String| self.values.iter().any(|p| op.compare(p, value));
        if op.base == Base::Null {
            return (
                format!(
                    "`{label}` requires `{key}` to be absent, but it is `{}`",
                    values[0]
                ),
                "Remove the Null condition".into(),
            );
        }
        if op.negated {
            let value = values.iter().find(matched).unwrap_or(&values[0]);
            let excluded = self.values.iter().find(|p| op.compare(p, value));
            return (
                format!(
                    "`{label}` excludes `{}`, and `{key}` is `{value}`",
                    excluded.map_or("", String::as_str)
                ),
                "Remove that value from the condition if this token should be trusted".into(),
            );
        }
        let value = values.iter().find(|v| !matched(v)).unwrap_or(&values[0]);
        let claim = key
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        let case_hint = if claim == "aud" {
            format!("Write `{value}`: a Keyless token's aud is the organization name in lowercase")
        } else {
            format!(
                "Write it as the token has it, `{value}`, or compare with StringEqualsIgnoreCase"
            )
        };
        if op.base == Base::Equals
            && let Some(pattern) = self
                .values
                .iter()
                .find(|p| p.contains(['*', '?']) && string_like(p, value))
        {
            let wildcard = if pattern.contains('*') { '*' } else { '?' };
            return (
                format!(
                    "`{label}` compares literally, so the `{wildcard}` in `{pattern}` matches only \
                     a `{wildcard}` character, and `{key}` is `{value}`"
                ),
                "Use StringLike for patterns with `*` and `?`".into(),
            );
        }
        if let Some(pattern) = self
            .values
            .iter()
            .find(|p| op.compare(&p.to_lowercase(), &value.to_lowercase()))
        {
            return (
                format!(
                    "the policy expects `{pattern}`, tokens carry `{value}` — AWS compares \
                     case-sensitively"
                ),
                case_hint,
            );
        }
        let difference = self
            .values
            .iter()
            .find_map(|p| describe_difference(p, value, |a, b| op.compare(a, b)));
        if claim == "sub"
            && let Some(difference) = difference
        {
            return (
                format!("`{key}` is `{value}`: the policy {difference}"),
                format!(
                    "Widen the pattern to the scope you mean (the generator writes one for each \
                     scope), or give {} its own role",
                    request.claims.sub()
                ),
            );
        }
        let set = if op.set == Set::AllValues {
            ", and ForAllValues needs every value to match"
        } else {
            ""
        };
        let hint = if claim == "aud" {
            format!(
                "The token is for organization `{value}`: give it its own role, or add `{value}` \
                 if this role should serve it too"
            )
        } else {
            "Change the condition to match the token, as the generated policy does".into()
        };
        (
            format!(
                "`{key}` is `{value}`, which matches none of {}{set}",
                list(&self.values)
            ),
            hint,
        )
    }
}

/// A policy value as strings: one string, or each element of an array (numbers and booleans
/// as written).
fn strings(value: &Value, label: &str) -> Result<Vec<String>, ExplainError> {
    let one = |v: &Value| match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(_) | Value::Number(_) => Ok(v.to_string()),
        _ => Err(ExplainError::malformed(
            INPUT,
            format!("{label} has a value that is not a string: {v}"),
        )),
    };
    match value {
        Value::Array(items) => items.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

/// `` `a`, `b` `` for messages.
fn list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
    quoted.join(", ")
}

/// The account and provider path of `arn:<partition>:iam::<account>:oidc-provider/<path>`.
fn provider_arn(arn: &str) -> Option<(&str, &str)> {
    let mut fields = arn.splitn(6, ':');
    let ok =
        fields.next() == Some("arn") && fields.next().is_some() && fields.next() == Some("iam");
    let (_region, account, resource) = (fields.next()?, fields.next()?, fields.next()?);
    let path = resource.strip_prefix("oidc-provider/")?;
    (ok && !account.is_empty()).then_some((account, path))
}

/// IAM `StringLike`: `*` matches any run of characters (`:` and `/` included), `?` any one.
pub(crate) fn string_like(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi) = (0, 0);
    // Where the last `*` was, and where in `value` its run currently ends.
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, vi));
                pi += 1;
            }
            Some(&c) if c == '?' || c == v[vi] => {
                pi += 1;
                vi += 1;
            }
            _ => match star {
                Some((sp, sv)) => {
                    star = Some((sp, sv + 1));
                    pi = sp + 1;
                    vi = sv + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use keyless_api_types::{PulumiOperation, StackRef};
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const PROVIDER: &str = "keyless.example.com/oidc";

    fn claims() -> Claims {
        let stack = StackRef::new("Acme", "website", "prod");
        Claims::for_deployment(
            "https://keyless.example.com/oidc",
            &stack,
            PulumiOperation::Update,
            0,
            900,
        )
    }

    /// One Allow statement for the provider with `condition`.
    fn verdict(condition: Value) -> Result<Verdict, ExplainError> {
        let policy = json!({"Statement": {
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::123456789012:oidc-provider/{PROVIDER}")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": condition,
        }});
        let claims = claims();
        let request = Request {
            provider: PROVIDER,
            account: Some("123456789012"),
            claims: &claims,
        };
        evaluate(&policy, &request)
    }

    fn holds(condition: Value) -> bool {
        verdict(condition).expect("evaluates").is_accepted()
    }

    #[test]
    fn string_like_wildcards() {
        assert!(string_like(
            "pulumi:*:stack:prod:*",
            "pulumi:deploy:org:a:stack:prod:x"
        ));
        assert!(string_like("a?c", "abc") && !string_like("a?c", "ac"));
        assert!(string_like("*", "") && string_like("a**", "a"));
        assert!(!string_like("a*b", "acbd") && string_like("a*b*", "acbd"));
        assert!(!string_like("*x*x*x*x*x*x*x*x*y", &"x".repeat(200)));
    }

    #[test]
    fn values_are_ored_keys_and_operators_anded() {
        let aud = format!("{PROVIDER}:aud");
        let sub = format!("{PROVIDER}:sub");
        assert!(holds(json!({"StringEquals": {&aud: ["other", "acme"]}})));
        assert!(!holds(json!({"StringEquals": {&aud: "acme", &sub: "x"}})));
        assert!(!holds(
            json!({"StringEquals": {&aud: "acme"}, "StringLike": {&sub: "x*"}})
        ));
        assert!(holds(json!({"StringEqualsIgnoreCase": {&aud: "ACME"}})));
        assert!(holds(json!({"ForAnyValue:StringLike": {&aud: "ac*"}})));
        assert!(holds(
            json!({"ForAllValues:StringEquals": {&aud: ["acme", "x"]}})
        ));
        assert!(holds(json!({"StringNotLike": {&sub: "*:stack:dev:*"}})));
        assert!(!holds(json!({"StringNotEquals": {&aud: "acme"}})));
    }

    #[test]
    fn missing_keys_fail_unless_negated_or_if_exists() {
        let azp = format!("{PROVIDER}:azp");
        assert!(!holds(json!({"StringEquals": {&azp: "x"}})));
        assert!(holds(json!({"StringEqualsIfExists": {&azp: "x"}})));
        assert!(holds(json!({"StringNotEquals": {&azp: "x"}})));
        assert!(holds(json!({"Null": {&azp: "true"}})));
        assert!(!holds(json!({"Null": {format!("{PROVIDER}:sub"): "true"}})));
    }

    #[test]
    fn request_keys_and_other_operators_are_unsupported() {
        let cases = [
            json!({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}),
            json!({"StringEquals": {"aws:SourceIp": "x"}}),
            json!({"ArnLike": {"aws:PrincipalArn": "x"}}),
        ];
        for condition in cases {
            assert!(matches!(
                verdict(condition),
                Err(ExplainError::Unsupported { .. })
            ));
        }
    }

    #[test]
    fn policies_longer_than_iam_allows_are_refused() {
        let sub = format!("{PROVIDER}:sub");
        let long = json!({"StringLike": {&sub: "*".repeat(MAX_POLICY_CHARS)}});
        let err = verdict(long).expect_err("too long");
        assert!(
            matches!(&err, ExplainError::Malformed { .. })
                && err
                    .to_string()
                    .contains("the explainer reads at most 10240"),
            "{err}"
        );
        let spaced = json!({"StringLike": {&sub: format!("*{}", " ".repeat(MAX_POLICY_CHARS))}});
        assert!(verdict(spaced).is_ok());
    }

    /// Policy-shaped JSON: statements whose parts are drawn from what IAM reads, and anything.
    fn policies() -> impl Strategy<Value = Value> {
        let text = prop_oneof![
            prop::sample::select(vec![
                "Allow",
                "Deny",
                "*",
                ACTION,
                "sts:*",
                "StringLike",
                "ForAllValues:StringEqualsIfExists",
                "Null",
                "arn:aws:iam::123456789012:oidc-provider/keyless.example.com/oidc",
                "keyless.example.com/oidc:sub",
                "keyless.example.com/oidc:aud",
            ])
            .prop_map(str::to_owned),
            "[a-z*?:/.]{0,40}",
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            text.clone().prop_map(Value::from),
        ];
        let keys = prop_oneof![
            prop::sample::select(vec![
                "Statement",
                "Effect",
                "Principal",
                "Federated",
                "Action",
                "NotAction",
                "Condition",
                "Sid",
            ])
            .prop_map(str::to_owned),
            text,
        ];
        leaf.prop_recursive(6, 96, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(keys.clone(), inner, 0..6)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn any_policy_is_judged_or_refused(policy in policies()) {
            let claims = claims();
            let request = Request { provider: PROVIDER, account: None, claims: &claims };
            let _ = evaluate(&policy, &request);
        }

        #[test]
        fn string_like_answers_for_any_pattern(pattern in "[*?ab]{0,200}", value in "[ab]{0,200}") {
            prop_assert!(string_like("*", &value));
            let _ = string_like(&pattern, &value);
        }
    }
}
