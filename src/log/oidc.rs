//! The "Fetch credentials via OIDC" step for the OIDC card, read from the executor's marker
//! lines ([`keyless_api_types::oidc_log`]), which [`LogText`](super::LogText) keeps aside —
//! never from the sentences people read.

use keyless_api_types::oidc_log::{FailureEvent, GrantEvent, OidcLogEvent, Presented, TokenEvent};
use serde_json::{Map, Value, json};

use crate::time::{format_rfc3339_ms, parse_rfc3339_ms};

/// The step's name, as the API writes it.
pub const STEP_NAME: &str = "Fetch credentials via OIDC";

/// How long the claims of an explained refusal are valid from now, in seconds.
const EXPLAINED_LIFETIME: u64 = 600;

/// Everything the step's markers told.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OidcStep {
    pub token: Option<TokenEvent>,
    pub grants: Vec<GrantEvent>,
    pub failure: Option<FailureEvent>,
}

impl OidcStep {
    /// The step from its events in order; `None` when there are none.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a OidcLogEvent>) -> Option<Self> {
        let mut step = Self::default();
        for event in events {
            match event.clone() {
                OidcLogEvent::Token(token) => step.token = Some(token),
                OidcLogEvent::Grant(grant) => step.grants.push(grant),
                OidcLogEvent::Failure(failure) => step.failure = Some(failure),
            }
        }
        (step != Self::default()).then_some(step)
    }
}

/// A claim's value for people: strings without quotes, times also as dates.
pub fn show_claim(name: &str, value: &Value) -> String {
    match (name, value) {
        ("iat" | "nbf" | "exp" | "auth_time", Value::Number(n)) if n.is_i64() => {
            let seconds = n.as_i64().unwrap_or_default();
            format!("{seconds} ({})", format_rfc3339_ms(seconds * 1_000))
        }
        (_, Value::String(text)) => text.clone(),
        (_, other) => other.to_string(),
    }
}

/// Milliseconds until an RFC 3339 time, from `now_ms`.
pub fn millis_left(until: &str, now_ms: i64) -> Option<i64> {
    parse_rfc3339_ms(until).map(|at| at - now_ms)
}

/// The claims to explain a refusal with: the token's claims (when its marker was read) with
/// the `iss`, `aud` and `sub` the cloud judged, valid from `now` (seconds) for ten minutes — the
/// cloud judged a freshly minted token, so its old `exp` would only be explained as expired.
pub fn explain_claims(token: Option<&TokenEvent>, presented: &Presented, now: u64) -> Value {
    let mut claims: Map<String, Value> = token.map(|t| t.claims.clone()).unwrap_or_default();
    let Presented { iss, aud, sub } = presented;
    for (name, value) in [
        ("iss", json!(iss)),
        ("aud", json!(aud)),
        ("sub", json!(sub)),
        ("iat", json!(now)),
        ("nbf", json!(now)),
        ("exp", json!(now + EXPLAINED_LIFETIME)),
    ] {
        claims.insert(name.to_owned(), value);
    }
    Value::Object(claims)
}

#[cfg(test)]
mod tests {
    use keyless_api_types::Cloud;
    use keyless_api_types::oidc_log::parse_marker;

    use super::*;

    /// What the executor marked for a deployment granted by AWS, then refused by Azure.
    const LOG: &str = r#"##[keyless:oidc-token] {"issuer":"http://127.0.0.1:9/oidc","subject":"pulumi:deploy:org:acme","audience":"acme","expiresAt":"2026-11-25T17:54:00Z","header":{"alg":"RS256","kid":"k1"},"claims":{"aud":"acme","exp":1795629240,"iss":"http://127.0.0.1:9/oidc","stack":"dev","sub":"pulumi:deploy:org:acme"}}
##[keyless:oidc-grant] {"cloud":"aws","identity":"arn:aws:sts::123456789012:assumed-role/deploy/pulumi-dev","expiresAt":"2026-11-25T18:34:00Z","variables":["AWS_ACCESS_KEY_ID","AWS_SECRET_ACCESS_KEY"],"details":{"Audience":"acme"}}
##[keyless:oidc-failure] {"cloud":"azure","code":"AADSTS70021","message":"No matching federated identity record found","explanation":"Add a federated credential.","presented":{"iss":"http://127.0.0.1:9/oidc","aud":"acme","sub":"pulumi:deploy:org:acme"}}"#;

    fn step() -> OidcStep {
        let events: Vec<OidcLogEvent> = LOG.lines().filter_map(parse_marker).collect();
        assert_eq!(events.len(), 3);
        OidcStep::from_events(&events).expect("events")
    }

    #[test]
    fn reads_the_token_the_grants_and_the_failure() {
        let step = step();
        let token = step.token.as_ref().expect("token");
        assert_eq!(token.issuer, "http://127.0.0.1:9/oidc");
        assert_eq!(token.header["kid"], "k1");
        assert_eq!(step.grants.len(), 1);
        assert_eq!(step.grants[0].cloud, Cloud::Aws);
        assert_eq!(step.grants[0].details["Audience"], "acme");
        let failure = step.failure.expect("Azure refused");
        assert_eq!(failure.cloud, Some(Cloud::Azure));
        assert_eq!(failure.code.as_deref(), Some("AADSTS70021"));
        assert!(OidcStep::from_events(&[]).is_none());
    }

    #[test]
    fn a_refusal_is_explained_with_the_presented_claims_issued_now() {
        let step = step();
        let failure = step.failure.as_ref().expect("failure");
        let claims = explain_claims(step.token.as_ref(), &failure.presented, 1_000);
        assert_eq!(claims["sub"], "pulumi:deploy:org:acme");
        assert_eq!(claims["stack"], "dev", "the token's other claims are kept");
        assert_eq!(
            (claims["nbf"].clone(), claims["exp"].clone()),
            (json!(1_000), json!(1_600))
        );
        let alone = explain_claims(None, &failure.presented, 1_000);
        let mut names: Vec<&String> = alone.as_object().expect("object").keys().collect();
        names.sort();
        assert_eq!(names, ["aud", "exp", "iat", "iss", "nbf", "sub"]);
    }

    #[test]
    fn claims_read_for_people() {
        assert_eq!(show_claim("aud", &json!("acme")), "acme");
        assert_eq!(show_claim("exp", &json!(0)), "0 (1970-01-01T00:00:00.000Z)");
        assert_eq!(show_claim("deployment", &json!(7)), "7");
        assert_eq!(show_claim("aud", &json!(["a", "b"])), r#"["a","b"]"#);
        assert_eq!(millis_left("1970-01-01T00:01:00Z", 1_000), Some(59_000));
    }
}
