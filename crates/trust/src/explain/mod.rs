//! What the failure explainer works on and answers: a token's [`Claims`], a [`Verdict`], or an
//! [`ExplainError`] when the pasted configuration cannot be read or evaluated faithfully.
//!
//! The per-cloud entry points are [`crate::aws::explain`], [`crate::azure::explain`] and
//! [`crate::gcp::explain`]; [`iam`] evaluates AWS policy conditions and [`cel`] the subset of
//! CEL Google Cloud attribute conditions are written in.

pub mod cel;
pub mod iam;

use keyless_api_types::{PulumiOperation, StackRef};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use keyless_api_types::trust::{ExplainError, Verdict};

use crate::lifetime::compact;
use crate::scope::subject;

/// The decoded payload of a token: `iss`, `aud`, `sub`, `exp` and `nbf` read out, every claim
/// kept for conditions that name others (`assertion.stack`). Serialises as the payload itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Map<String, Value>", into = "Map<String, Value>")]
pub struct Claims {
    iss: String,
    aud: Vec<String>,
    sub: String,
    exp: u64,
    nbf: Option<u64>,
    payload: Map<String, Value>,
}

impl Claims {
    /// Reads a token payload; `iss`, `sub` and `exp` are required, `aud` may be a string or a list.
    pub fn from_json(payload: Value) -> Result<Self, ExplainError> {
        match payload {
            Value::Object(map) => Self::try_from(map),
            _ => Err(ExplainError::malformed(
                "token claims",
                "are not a JSON object",
            )),
        }
    }

    /// The claims a Keyless token for `stack`'s deployment running `operation` carries (less
    /// `stackId`, `deployment` and `jti`, which no trust condition should name), issued at
    /// `issued_at` and valid for `lifetime` seconds.
    pub fn for_deployment(
        issuer: &str,
        stack: &StackRef,
        operation: PulumiOperation,
        issued_at: u64,
        lifetime: u64,
    ) -> Self {
        let (aud, sub, exp) = (
            stack.org.to_lowercase(),
            subject(stack, operation),
            issued_at + lifetime,
        );
        let payload = [
            ("iss", json!(issuer)),
            ("aud", json!(aud)),
            ("sub", json!(sub)),
            ("org", json!(stack.org)),
            ("project", json!(stack.project)),
            ("stack", json!(stack.stack)),
            ("operation", json!(operation.as_str())),
            ("scope", json!("write")),
            ("iat", json!(issued_at)),
            ("nbf", json!(issued_at)),
            ("exp", json!(exp)),
        ];
        Self {
            iss: issuer.to_owned(),
            aud: vec![aud],
            sub,
            exp,
            nbf: Some(issued_at),
            payload: payload
                .into_iter()
                .map(|(name, value)| (name.to_owned(), value))
                .collect(),
        }
    }

    pub fn iss(&self) -> &str {
        &self.iss
    }

    /// Every audience, whether `aud` was a string or a list.
    pub fn aud(&self) -> &[String] {
        &self.aud
    }

    pub fn sub(&self) -> &str {
        &self.sub
    }

    /// Expiry, Unix seconds.
    pub fn exp(&self) -> u64 {
        self.exp
    }

    /// Any claim by name.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.payload.get(name)
    }
}

impl TryFrom<Map<String, Value>> for Claims {
    type Error = ExplainError;

    fn try_from(payload: Map<String, Value>) -> Result<Self, ExplainError> {
        let text = |name: &str| match payload.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(ExplainError::malformed(
                "token claims",
                format!("have no `{name}` string"),
            )),
        };
        let seconds = |name: &str| match payload.get(name) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                ExplainError::malformed("token claims", format!("`{name}` is not Unix seconds"))
            }),
        };
        let aud = match payload.get("aud") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            iss: text("iss")?,
            sub: text("sub")?,
            exp: seconds("exp")?
                .ok_or_else(|| ExplainError::malformed("token claims", "have no `exp`"))?,
            nbf: seconds("nbf")?,
            aud,
            payload,
        })
    }
}

impl From<Claims> for Map<String, Value> {
    fn from(claims: Claims) -> Self {
        claims.payload
    }
}

/// Rejects a token outside its validity window, as every cloud does before any other check
/// that needs the token's content. No clock-skew leeway is applied.
pub(crate) fn check_time(claims: &Claims, now: u64) -> Option<Verdict> {
    let hint = "Tokens are exchanged as soon as they are minted: compare the clocks of the \
                Keyless server and of the cloud, and explain a token from the failing run with \
                `now` set to when it ran";
    if claims.exp <= now {
        let ago = compact(now - claims.exp);
        return Some(Verdict::rejected(
            "exp",
            format!(
                "the token expired {ago} before now (exp {}, now {now})",
                claims.exp
            ),
            hint,
        ));
    }
    match claims.nbf {
        Some(nbf) if nbf > now => Some(Verdict::rejected(
            "nbf",
            format!(
                "the token is not valid until {} from now (nbf {nbf}, now {now})",
                compact(nbf - now)
            ),
            hint,
        )),
        _ => None,
    }
}

/// How a configured issuer URL differs from the token's `iss`, which every cloud compares
/// exactly; `None` when they are equal.
pub(crate) fn issuer_difference(configured: &str, iss: &str) -> Option<String> {
    if configured == iss {
        return None;
    }
    let scheme = |url: &str| {
        url.split_once("://")
            .map(|(s, rest)| (s.to_owned(), rest.to_owned()))
    };
    let (trim_c, trim_i) = (configured.trim_end_matches('/'), iss.trim_end_matches('/'));
    Some(if trim_c == trim_i {
        let (with, without) = if configured.ends_with('/') {
            ("the configured issuer", "the token's")
        } else {
            ("the token's issuer", "the configured one")
        };
        format!("`{configured}` is not `{iss}`: {with} ends with a slash and {without} does not")
    } else if let (Some((sc, rc)), Some((si, ri))) = (scheme(configured), scheme(iss))
        && rc == ri
    {
        format!("`{configured}` is not `{iss}`: the configured issuer uses {sc}, the token {si}")
    } else if configured.eq_ignore_ascii_case(iss) {
        format!("`{configured}` is not `{iss}`: they differ in case")
    } else {
        format!("the configured issuer is `{configured}`, the token's iss is `{iss}`")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_read_aud_as_string_or_list_and_require_the_basics() {
        let claims = Claims::from_json(json!({
            "iss": "https://i", "sub": "s", "exp": 10, "aud": ["a", "b"], "stack": "prod"
        }))
        .expect("claims");
        assert_eq!(claims.aud(), ["a", "b"]);
        assert_eq!(claims.get("stack"), Some(&json!("prod")));
        let err = Claims::from_json(json!({"iss": "https://i", "exp": 10})).expect_err("no sub");
        assert_eq!(err.to_string(), "the token claims have no `sub` string");
        let round: Claims =
            serde_json::from_value(serde_json::to_value(&claims).expect("ser")).expect("de");
        assert_eq!(round, claims);
    }

    #[test]
    fn deployment_claims_look_like_keyless_tokens() {
        let stack = StackRef::new("Acme", "website", "prod");
        let claims =
            Claims::for_deployment("https://k/oidc", &stack, PulumiOperation::Destroy, 100, 60);
        assert_eq!(claims.aud(), ["acme"]);
        assert_eq!(
            claims.sub(),
            "pulumi:deploy:org:Acme:project:website:stack:prod:operation:destroy:scope:write"
        );
        assert_eq!(
            (claims.exp(), claims.get("operation")),
            (160, Some(&json!("destroy")))
        );
        assert_eq!(
            Claims::from_json(serde_json::to_value(&claims).expect("ser")),
            Ok(claims)
        );
    }

    #[test]
    fn time_window_is_checked_without_leeway() {
        let stack = StackRef::new("acme", "p", "s");
        let claims =
            Claims::for_deployment("https://k", &stack, PulumiOperation::Update, 1_000, 900);
        assert_eq!(check_time(&claims, 1_899), None);
        let Some(Verdict::Rejected {
            condition, reason, ..
        }) = check_time(&claims, 2_200)
        else {
            panic!("expired token accepted");
        };
        assert_eq!(condition, "exp");
        assert_eq!(
            reason,
            "the token expired 5m before now (exp 1900, now 2200)"
        );
        assert!(
            matches!(check_time(&claims, 990), Some(Verdict::Rejected { condition, .. }) if condition == "nbf")
        );
    }

    #[test]
    fn issuer_differences_are_named() {
        let iss = "https://keyless.example.com/oidc";
        assert_eq!(issuer_difference(iss, iss), None);
        let cases = [
            (
                "https://keyless.example.com/oidc/",
                "the configured issuer ends with a slash",
            ),
            (
                "http://keyless.example.com/oidc",
                "the configured issuer uses http, the token https",
            ),
            ("https://Keyless.example.com/oidc", "they differ in case"),
            (
                "https://api.pulumi.com/oidc",
                "the configured issuer is `https://api.pulumi.com/oidc`",
            ),
        ];
        for (configured, expected) in cases {
            let text = issuer_difference(configured, iss).expect("differs");
            assert!(text.contains(expected), "{text}");
        }
    }
}
