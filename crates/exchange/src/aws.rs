//! AWS: STS `AssumeRoleWithWebIdentity` over the Query API (an unsigned POST form, XML answer).

use keyless_api_types::Cloud;
use keyless_api_types::duration;
use keyless_api_types::settings::AwsOidc;
use serde::Deserialize;

use crate::credentials::{Credentials, parse_rfc3339, plain, secret};
use crate::endpoints::Endpoint;
use crate::error::{ExchangeError, rejected};
use crate::exchanger::Exchanger;
use crate::token::TokenClaims;

/// STS accepts session durations from 15 minutes to 12 hours (and up to the role's maximum).
const DURATION_RANGE: std::ops::RangeInclusive<u64> = 900..=43_200;
/// STS accepts at most 10 managed session policies.
const MAX_POLICY_ARNS: usize = 10;

impl Exchanger {
    /// Assumes `settings.role_arn` with `token`. `session_name` is the already expanded
    /// `RoleSessionName` (2–64 characters of letters, digits and `+=,.@-`).
    pub async fn aws(
        &self,
        settings: &AwsOidc,
        session_name: &str,
        token: &str,
    ) -> Result<Credentials, ExchangeError> {
        let params = form(settings, session_name, token)?;
        let url = self.url(Endpoint::AwsSts, &[""])?;
        let request = self.http.post(url.clone()).form(&params);
        let answer = self.send(Endpoint::AwsSts, &url, request).await?;
        if answer.status != 200 {
            return Err(error(answer.status, &answer.body, settings, token));
        }
        let bad = |problem: &str| ExchangeError::BadResponse {
            endpoint: Endpoint::AwsSts,
            status: answer.status,
            problem: problem.into(),
        };
        let response: Response = quick_xml::de::from_str(&answer.body)
            .map_err(|_| bad("XML that is not an AssumeRoleWithWebIdentityResponse"))?;
        let result = response.result;
        let expires_at = parse_rfc3339(&result.credentials.expiration)
            .ok_or_else(|| bad("an Expiration that is not an RFC 3339 time"))?;
        let mut details = Vec::new();
        let facts = [
            ("Subject", result.subject_from_web_identity_token),
            ("Audience", result.audience),
            ("Provider", result.provider),
            ("Request id", response.metadata.and_then(|m| m.request_id)),
        ];
        for (name, value) in facts {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                details.push((name.to_owned(), value));
            }
        }
        let creds = result.credentials;
        Ok(Credentials {
            cloud: Cloud::Aws,
            identity: result
                .assumed_role_user
                .map(|u| u.arn)
                .unwrap_or_else(|| settings.role_arn.clone()),
            expires_at,
            env: vec![
                plain("AWS_ACCESS_KEY_ID", creds.access_key_id),
                secret("AWS_SECRET_ACCESS_KEY", creds.secret_access_key),
                secret("AWS_SESSION_TOKEN", creds.session_token),
            ],
            details,
        })
    }
}

/// The Query API form, after checking the settings STS would reject anyway.
fn form(
    settings: &AwsOidc,
    session_name: &str,
    token: &str,
) -> Result<Vec<(String, String)>, ExchangeError> {
    let invalid = |field, problem: String| ExchangeError::InvalidSetting {
        cloud: Cloud::Aws,
        field,
        problem,
    };
    let role_arn = settings.role_arn.trim();
    if !(role_arn.starts_with("arn:") && role_arn.contains(":role/")) {
        return Err(invalid(
            "Role ARN",
            format!("\"{role_arn}\" is not a role ARN like arn:aws:iam::123456789012:role/deploy"),
        ));
    }
    let name_ok = session_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !(2..=64).contains(&session_name.len()) || !name_ok {
        return Err(invalid(
            "Session Name",
            format!(
                "\"{session_name}\" must be 2–64 characters of letters, digits and _+=,.@- \
                 once its templates are expanded"
            ),
        ));
    }
    let mut params = vec![
        ("Action".to_owned(), "AssumeRoleWithWebIdentity".to_owned()),
        ("Version".to_owned(), "2011-06-15".to_owned()),
        ("RoleArn".to_owned(), role_arn.to_owned()),
        ("RoleSessionName".to_owned(), session_name.to_owned()),
        ("WebIdentityToken".to_owned(), token.to_owned()),
    ];
    if let Some(text) = settings
        .duration
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        let seconds = duration::parse(text).map_err(|e| invalid("Session Duration", e))?;
        if !DURATION_RANGE.contains(&seconds) {
            return Err(invalid(
                "Session Duration",
                format!(
                    "{} is outside AWS's range of 15m0s to 12h0m0s",
                    duration::format(seconds)
                ),
            ));
        }
        params.push(("DurationSeconds".to_owned(), seconds.to_string()));
    }
    let policies = settings.policy_arns.as_deref().unwrap_or_default();
    if policies.len() > MAX_POLICY_ARNS {
        return Err(invalid(
            "Policy ARNs",
            format!(
                "{} given; AWS accepts at most {MAX_POLICY_ARNS}",
                policies.len()
            ),
        ));
    }
    for (i, arn) in policies.iter().enumerate() {
        params.push((
            format!("PolicyArns.member.{}.arn", i + 1),
            arn.trim().to_owned(),
        ));
    }
    Ok(params)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    #[serde(rename = "AssumeRoleWithWebIdentityResult")]
    result: ResultXml,
    #[serde(rename = "ResponseMetadata")]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResultXml {
    credentials: CredentialsXml,
    assumed_role_user: Option<AssumedRoleUser>,
    subject_from_web_identity_token: Option<String>,
    audience: Option<String>,
    provider: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsXml {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AssumedRoleUser {
    arn: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Metadata {
    request_id: Option<String>,
}

/// `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorResponse {
    error: ErrorXml,
    request_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorXml {
    #[serde(rename = "Type")]
    kind: Option<String>,
    code: String,
    #[serde(default)]
    message: String,
}

fn error(status: u16, body: &str, settings: &AwsOidc, token: &str) -> ExchangeError {
    let Ok(response) = quick_xml::de::from_str::<ErrorResponse>(body) else {
        return ExchangeError::BadResponse {
            endpoint: Endpoint::AwsSts,
            status,
            problem: "a body that is not an STS ErrorResponse".into(),
        };
    };
    let err = response.error;
    let claims = TokenClaims::peek(token).unwrap_or_default();
    let mut explanation = explain(&err.code, &settings.role_arn, &claims);
    if err.kind.as_deref() == Some("Receiver") {
        explanation.push_str(" AWS marked this as its own fault (Receiver): retrying may help.");
    }
    rejected(
        Endpoint::AwsSts,
        status,
        &err.code,
        &err.message,
        response.request_id.map(|id| format!("request id {id}")),
        token,
        explanation,
    )
}

fn explain(code: &str, role_arn: &str, claims: &TokenClaims) -> String {
    let provider = claims.issuer_host_path();
    match code {
        "AccessDenied" => format!(
            "The trust policy of role {role_arn} did not accept this token. It must allow \
             sts:AssumeRoleWithWebIdentity for the Federated principal \
             arn:aws:iam::<account>:oidc-provider/{provider}, with the condition \
             StringEquals \"{provider}:aud\" = \"{aud}\" (the organization name in lowercase; \
             AWS compares case-sensitively) and StringLike \"{provider}:sub\" matching \
             \"{sub}\" (use StringLike, not StringEquals, when the pattern has * wildcards). \
             Also check the role ARN.",
            aud = claims.audience(),
            sub = claims.sub,
        ),
        "InvalidIdentityToken" => format!(
            "AWS did not accept the token itself. Check that the account has an IAM OpenID \
             Connect identity provider with URL {iss} whose audiences include \"{aud}\", and \
             that AWS can fetch {iss}/.well-known/openid-configuration and its JWKS from the \
             internet.",
            iss = claims.iss,
            aud = claims.audience(),
        ),
        "IDPCommunicationError" | "IDPRejectedClaim" => format!(
            "AWS could not get the signing keys from the issuer {iss}: its \
             /.well-known/openid-configuration and JWKS must be reachable from the internet \
             over HTTPS.",
            iss = claims.iss
        ),
        "ExpiredTokenException" | "ExpiredToken" => "The OIDC token had expired when AWS \
             checked it: the deployment reached this step too late, or the Keyless server's \
             clock is off. Run the deployment again."
            .into(),
        "ValidationError" | "InvalidParameterValue" | "MissingParameter" => "AWS rejected a \
             parameter: check the Role ARN, the Session Name (2–64 characters of letters, \
             digits and _+=,.@-), the Session Duration (15m–12h, and no longer than the role's \
             maximum session duration) and the Policy ARNs."
            .into(),
        "MalformedPolicyDocument" | "PackedPolicyTooLarge" => "AWS rejected the session \
             policies: check that every Policy ARN names an existing managed policy, and use \
             fewer or smaller ones."
            .into(),
        "RegionDisabledException" => "STS is not activated in the region of the configured \
             STS endpoint: activate it in IAM → Account settings, or use another endpoint."
            .into(),
        _ => format!("AWS STS refused to assume role {role_arn}; see the code and message above."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> AwsOidc {
        AwsOidc {
            role_arn: "arn:aws:iam::123456789012:role/deploy".into(),
            session_name: "ignored-here".into(),
            duration: Some("1h30m".into()),
            policy_arns: Some(vec!["arn:aws:iam::aws:policy/ReadOnlyAccess".into()]),
        }
    }

    #[test]
    fn form_carries_every_documented_parameter() {
        let params = form(&settings(), "acme-web-prod", "tok").expect("form");
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("Action"), Some("AssumeRoleWithWebIdentity"));
        assert_eq!(get("Version"), Some("2011-06-15"));
        assert_eq!(get("DurationSeconds"), Some("5400"));
        assert_eq!(
            get("PolicyArns.member.1.arn"),
            Some("arn:aws:iam::aws:policy/ReadOnlyAccess")
        );
    }

    #[test]
    fn settings_sts_would_reject_are_caught_before_sending() {
        let cases: [(AwsOidc, &str, &str); 4] = [
            (
                AwsOidc {
                    role_arn: "deploy".into(),
                    ..settings()
                },
                "ok-name",
                "Role ARN",
            ),
            (settings(), "x", "Session Name"),
            (settings(), "has space", "Session Name"),
            (
                AwsOidc {
                    duration: Some("5m".into()),
                    ..settings()
                },
                "ok-name",
                "Session Duration",
            ),
        ];
        for (settings, name, field) in cases {
            match form(&settings, name, "tok") {
                Err(ExchangeError::InvalidSetting { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }
}
