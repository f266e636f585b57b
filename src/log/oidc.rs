//! The "Fetch credentials via OIDC" step, read back from what the server's executor prints
//! (`crates/server/src/deploy/steps/oidc.rs`): the minted token's subject and issuer, its
//! decoded header and claims (pretty JSON over several lines), its expiry, and for each cloud
//! the identity granted and until when — or the cloud's error code, message and advice.

use serde_json::{Map, Value};

use crate::time::{format_rfc3339_ms, parse_rfc3339_ms};

/// The step's name, as the API writes it.
pub const STEP_NAME: &str = "Fetch credentials via OIDC";

/// The clouds as the executor names them.
const CLOUDS: [&str; 3] = ["AWS", "Azure", "Google Cloud"];

/// What one cloud granted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Grant {
    pub cloud: String,
    /// What was asked for, e.g. "AssumeRoleWithWebIdentity into arn:… as session …".
    pub request: Option<String>,
    /// The identity obtained: a role ARN, an app and tenant, a service account.
    pub identity: String,
    /// When the credentials expire (RFC 3339).
    pub valid_until: String,
    /// The environment variables set for the deployment.
    pub variables: Vec<String>,
    /// More facts the cloud returned (subject, audience, request id…).
    pub details: Vec<(String, String)>,
}

/// Why a cloud refused.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    pub cloud: String,
    pub request: Option<String>,
    pub code: Option<String>,
    /// The cloud's own words.
    pub message: String,
    /// What to change, in plain words.
    pub advice: Option<String>,
}

/// Everything the step told.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcStep {
    pub subject: Option<String>,
    pub issuer: Option<String>,
    /// The token's header and claims, each value as JSON text.
    pub header: Vec<(String, String)>,
    pub claims: Vec<(String, String)>,
    /// When the token expires, as printed.
    pub token_expires: Option<String>,
    pub grants: Vec<Grant>,
    pub failure: Option<Failure>,
}

impl OidcStep {
    /// Whether the lines held anything of the step's own.
    pub fn is_empty(&self) -> bool {
        *self == OidcStep::default()
    }
}

/// A claim's value for people: strings without quotes, times also as dates.
pub fn show_claim(name: &str, json: &str) -> String {
    match (name, json.parse::<i64>()) {
        ("iat" | "nbf" | "exp" | "auth_time", Ok(seconds)) => {
            format!("{seconds} ({})", format_rfc3339_ms(seconds * 1_000))
        }
        _ => serde_json::from_str::<String>(json).unwrap_or_else(|_| json.to_owned()),
    }
}

/// Reads the step from its lines.
pub fn parse<'a>(lines: impl IntoIterator<Item = &'a str>) -> OidcStep {
    let mut step = OidcStep::default();
    let mut json: Option<(bool, String, i32)> = None;
    let mut request: Option<(String, String)> = None;
    for line in lines {
        if let Some((is_claims, text, depth)) = &mut json {
            text.push_str(line);
            text.push('\n');
            *depth += brace_depth(line);
            if *depth <= 0 {
                let fields = fields(text);
                if *is_claims {
                    step.claims = fields;
                } else {
                    step.header = fields;
                }
                json = None;
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("Minted an OIDC token for ") {
            if let Some((subject, rest)) = rest.split_once(" (issuer ") {
                step.subject = Some(subject.to_owned());
                step.issuer = rest.split_once(')').map(|(issuer, _)| issuer.to_owned());
            }
        } else if let Some(rest) = line.strip_prefix("OIDC token header: ") {
            json = start_json(false, rest, &mut step);
        } else if let Some(rest) = line.strip_prefix("OIDC token claims: ") {
            json = start_json(true, rest, &mut step);
        } else if let Some(rest) = line.strip_prefix("The token expires at ") {
            step.token_expires = Some(rest.split(" (").next().unwrap_or(rest).to_owned());
        } else if let Some(advice) = line.strip_prefix("What to do: ") {
            step.failure.get_or_insert_with(Failure::default).advice = Some(advice.to_owned());
        } else if let Some((cloud, rest)) = cloud_line(line) {
            cloud_fact(&mut step, &mut request, cloud, rest);
        }
    }
    step
}

fn start_json(is_claims: bool, first: &str, step: &mut OidcStep) -> Option<(bool, String, i32)> {
    let depth = brace_depth(first);
    if depth <= 0 {
        let fields = fields(first);
        if is_claims {
            step.claims = fields;
        } else {
            step.header = fields;
        }
        return None;
    }
    Some((is_claims, format!("{first}\n"), depth))
}

/// The change in `{` nesting over a line of pretty JSON, braces inside strings aside.
fn brace_depth(line: &str) -> i32 {
    let (mut depth, mut in_string, mut escaped) = (0, false, false);
    for b in line.bytes() {
        match (in_string, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, _, b'"') => in_string = !in_string,
            (false, _, b'{') => depth += 1,
            (false, _, b'}') => depth -= 1,
            _ => {}
        }
    }
    depth
}

fn fields(json: &str) -> Vec<(String, String)> {
    serde_json::from_str::<Map<String, Value>>(json)
        .map(|map| map.into_iter().map(|(k, v)| (k, v.to_string())).collect())
        .unwrap_or_default()
}

/// `AWS: …`, `Google Cloud error code: …`: the cloud and the rest.
fn cloud_line(line: &str) -> Option<(&'static str, &str)> {
    CLOUDS
        .into_iter()
        .find_map(|cloud| line.strip_prefix(cloud).map(|rest| (cloud, rest)))
        .or_else(|| {
            line.strip_prefix("The exchange")
                .map(|rest| ("The exchange", rest))
        })
}

fn cloud_fact(
    step: &mut OidcStep,
    request: &mut Option<(String, String)>,
    cloud: &str,
    rest: &str,
) {
    let asked = || {
        request
            .as_ref()
            .filter(|(c, _)| c == cloud)
            .map(|(_, r)| r.clone())
    };
    if let Some(code) = rest.strip_prefix(" error code: ") {
        let failure = step.failure.get_or_insert_with(Failure::default);
        failure.cloud = cloud.to_owned();
        failure.code = Some(code.to_owned());
        failure.request = asked();
    } else if let Some(message) = rest.strip_prefix(" said: ") {
        let failure = step.failure.get_or_insert_with(Failure::default);
        failure.cloud = cloud.to_owned();
        failure.message = message.to_owned();
        failure.request = asked();
    } else if let Some(detail) = rest.strip_prefix(":   ") {
        if let (Some(grant), Some((name, value))) =
            (step.grants.last_mut(), detail.split_once(": "))
        {
            grant.details.push((name.to_owned(), value.to_owned()));
        }
    } else if let Some(obtained) = rest.strip_prefix(": obtained ") {
        if let Some((identity, rest)) = obtained.rsplit_once(", valid until ") {
            step.grants.push(Grant {
                cloud: cloud.to_owned(),
                request: asked(),
                identity: identity.to_owned(),
                valid_until: rest.split(" (").next().unwrap_or(rest).to_owned(),
                ..Grant::default()
            });
        }
    } else if let Some(names) = rest.strip_prefix(": set ") {
        if let Some(grant) = step.grants.last_mut() {
            grant.variables = names.split(", ").map(str::to_owned).collect();
        }
    } else if let Some(asked) = rest.strip_prefix(": ") {
        *request = Some((cloud.to_owned(), asked.to_owned()));
    }
}

/// Milliseconds until an RFC 3339 time, from `now_ms`.
pub fn millis_left(until: &str, now_ms: i64) -> Option<i64> {
    parse_rfc3339_ms(until).map(|at| at - now_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the executor printed for a deployment granted by AWS, then refused by Azure.
    const LOG: &str = r#"Minted an OIDC token for pulumi:deploy:org:acme:project:website:stack:dev:operation:update:scope:write (issuer http://127.0.0.1:9/oidc), in PULUMI_OIDC_TOKEN and /tmp/w/pulumi.oidc
OIDC token header: {
  "alg": "RS256",
  "kid": "k1",
  "typ": "JWT"
}
OIDC token claims: {
  "aud": "acme",
  "exp": 1795629240,
  "nested": {"a": "}\\\"{"},
  "sub": "pulumi:deploy:org:acme:project:website:stack:dev:operation:update:scope:write"
}
The token expires at 2026-11-25T17:54:00Z (signature not shown)
AWS: AssumeRoleWithWebIdentity into arn:aws:iam::123456789012:role/deploy as session pulumi-dev
AWS: obtained arn:aws:sts::123456789012:assumed-role/deploy/pulumi-dev, valid until 2026-11-25T18:34:00Z (60 minutes from now)
AWS: set AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
AWS:   Audience: acme
Azure: client assertion for app 0b7d in tenant 8f5c
Azure error code: AADSTS70021
Azure said: No matching federated identity record found
What to do: Add a federated credential whose subject is the token's sub."#;

    #[test]
    fn reads_the_token_the_grants_and_the_failure() {
        let step = parse(LOG.lines());
        assert_eq!(step.issuer.as_deref(), Some("http://127.0.0.1:9/oidc"));
        assert!(
            step.subject
                .as_deref()
                .is_some_and(|s| s.ends_with(":scope:write"))
        );
        assert_eq!(step.header.len(), 3);
        assert_eq!(step.header[0], ("alg".into(), "\"RS256\"".into()));
        let claims: Vec<&str> = step.claims.iter().map(|(k, _)| k.as_str()).collect();
        // Braces and quotes inside strings do not end the claims early.
        assert_eq!(claims, ["aud", "exp", "nested", "sub"]);
        assert_eq!(step.token_expires.as_deref(), Some("2026-11-25T17:54:00Z"));
        assert_eq!(step.grants.len(), 1);
        let aws = &step.grants[0];
        assert_eq!(aws.cloud, "AWS");
        assert_eq!(
            aws.identity,
            "arn:aws:sts::123456789012:assumed-role/deploy/pulumi-dev"
        );
        assert_eq!(aws.valid_until, "2026-11-25T18:34:00Z");
        assert_eq!(aws.variables.len(), 3);
        assert_eq!(aws.details, [("Audience".to_owned(), "acme".to_owned())]);
        assert!(
            aws.request
                .as_deref()
                .is_some_and(|r| r.starts_with("AssumeRole"))
        );
        let failure = step.failure.expect("Azure refused");
        assert_eq!(failure.cloud, "Azure");
        assert_eq!(failure.code.as_deref(), Some("AADSTS70021"));
        assert_eq!(
            failure.message,
            "No matching federated identity record found"
        );
        assert!(
            failure
                .advice
                .is_some_and(|a| a.starts_with("Add a federated"))
        );
        assert_eq!(
            failure.request.as_deref(),
            Some("client assertion for app 0b7d in tenant 8f5c")
        );
    }

    #[test]
    fn other_lines_are_ignored_and_claims_read_for_people() {
        assert!(parse(["$ git clone", "done"]).is_empty());
        assert_eq!(show_claim("aud", "\"acme\""), "acme");
        assert_eq!(show_claim("exp", "0"), "0 (1970-01-01T00:00:00.000Z)");
        assert_eq!(show_claim("deployment", "7"), "7");
        assert_eq!(millis_left("1970-01-01T00:01:00Z", 1_000), Some(59_000));
    }
}
