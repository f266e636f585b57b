//! AWS STS `AssumeRoleWithWebIdentity` (Query API, XML answers).

use std::sync::Arc;

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use keyless_trust::explain::iam::{self, Request};
use quick_xml::escape::escape;

use super::verify::{Claims, Problem, Verifier};
use super::{BASE64ISH, Recorded, RelyingParty, UPPER_DIGITS, random, string_like, uuid};
use crate::credentials::{now, rfc3339};

/// What the account trusts.
#[derive(Clone, Debug, Default)]
pub struct AwsConfig {
    /// IAM OIDC identity providers registered in the account.
    pub providers: Vec<OidcProvider>,
    /// Roles that can be assumed.
    pub roles: Vec<Role>,
}

/// An IAM OIDC identity provider: the issuer URL and its audiences ("client IDs").
#[derive(Clone, Debug)]
pub struct OidcProvider {
    pub url: String,
    pub client_ids: Vec<String>,
}

/// A role with a web identity trust policy: `StringEquals <provider>:aud` and
/// `StringLike <provider>:sub`, or a whole policy document in `trust_policy`.
#[derive(Clone, Debug)]
pub struct Role {
    /// `arn:aws:iam::<account>:role/<name>`.
    pub arn: String,
    /// The Federated principal: the provider's issuer URL.
    pub issuer: String,
    pub audience: String,
    pub subject_like: String,
    /// The role's maximum session duration in seconds (AWS's default is 3600).
    pub max_session_duration: u64,
    /// A trust policy document (e.g. `keyless-trust`'s generated one); when set it decides
    /// instead of `issuer`, `audience` and `subject_like`, evaluated as IAM does.
    pub trust_policy: Option<serde_json::Value>,
}

struct Shared {
    config: AwsConfig,
    verifier: Verifier,
}

/// Starts a stand-in for AWS STS; point [`crate::Endpoints::aws_sts`] at its URL.
pub async fn spawn(config: AwsConfig) -> std::io::Result<RelyingParty> {
    let shared = Arc::new(Shared {
        config,
        verifier: Verifier::new(),
    });
    let router = Router::new().route("/", post(handle)).with_state(shared);
    RelyingParty::start(router).await
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Extension(request): Extension<Recorded>,
) -> Response {
    match assume(&shared, &request).await {
        Ok(xml) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], xml).into_response(),
        Err(err) => err.into_response(),
    }
}

/// An STS error: HTTP status, `Code` and `Message`.
struct StsError(StatusCode, &'static str, String);

impl IntoResponse for StsError {
    fn into_response(self) -> Response {
        let StsError(status, code, message) = self;
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        let xml = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <Error>\n    \
             <Type>{kind}</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  \
             </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            escape(&message),
            uuid()
        );
        (status, [(header::CONTENT_TYPE, "text/xml")], xml).into_response()
    }
}

fn validation(field: &str, constraint: &str, value: Option<&str>) -> StsError {
    let value = value.map_or_else(|| "null".to_owned(), |v| format!("'{v}'"));
    StsError(
        StatusCode::BAD_REQUEST,
        "ValidationError",
        format!(
            "1 validation error detected: Value {value} at '{field}' failed to satisfy \
             constraint: {constraint}"
        ),
    )
}

async fn assume(shared: &Shared, request: &Recorded) -> Result<String, StsError> {
    let param = |name: &str| request.param(name);
    let action = param("Action").unwrap_or_default();
    if action != "AssumeRoleWithWebIdentity" {
        return Err(StsError(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            format!("Could not find operation {action} for version 2011-06-15"),
        ));
    }
    if param("Version").as_deref() != Some("2011-06-15") {
        return Err(StsError(
            StatusCode::BAD_REQUEST,
            "InvalidAction",
            "Could not find operation AssumeRoleWithWebIdentity for version NO_VERSION_SPECIFIED"
                .into(),
        ));
    }
    let not_null = "Member must not be null";
    let role_arn = param("RoleArn").ok_or_else(|| validation("roleArn", not_null, None))?;
    let session =
        param("RoleSessionName").ok_or_else(|| validation("roleSessionName", not_null, None))?;
    let token =
        param("WebIdentityToken").ok_or_else(|| validation("webIdentityToken", not_null, None))?;
    let session_ok = (2..=64).contains(&session.len())
        && session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !session_ok {
        return Err(validation(
            "roleSessionName",
            "Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64",
            Some(&session),
        ));
    }
    let duration = match param("DurationSeconds") {
        None => 3600,
        Some(text) => match text.parse::<u64>() {
            Ok(seconds) if (900..=43_200).contains(&seconds) => seconds,
            _ => {
                return Err(validation(
                    "durationSeconds",
                    "Member must have value between 900 and 43200",
                    Some(&text),
                ));
            }
        },
    };
    for (name, arn) in request.form() {
        if name.starts_with("PolicyArns.member.") && !arn.starts_with("arn:") {
            return Err(validation(
                "policyArns",
                "Member must be a policy ARN",
                Some(&arn),
            ));
        }
    }
    let claims = verify(shared, &token).await?;
    let role = shared
        .config
        .roles
        .iter()
        .find(|role| role.arn == role_arn && trusts(role, &claims))
        .ok_or_else(|| {
            StsError(
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
            )
        })?;
    if duration > role.max_session_duration {
        return Err(StsError(
            StatusCode::BAD_REQUEST,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                .into(),
        ));
    }
    Ok(success(role, &session, &claims, duration))
}

/// The provider checks, then the signature and times, as STS orders them.
async fn verify(shared: &Shared, token: &str) -> Result<Claims, StsError> {
    let invalid = |message: &str| {
        StsError(
            StatusCode::BAD_REQUEST,
            "InvalidIdentityToken",
            message.into(),
        )
    };
    let issuer = Verifier::issuer(token)
        .ok_or_else(|| invalid("The ID Token provided is not a valid JWT"))?;
    let provider = shared
        .config
        .providers
        .iter()
        .find(|p| same_issuer(&p.url, &issuer))
        .ok_or_else(|| {
            invalid(&format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        })?;
    let claims = shared.verifier.verify(token).await.map_err(|problem| match problem {
        Problem::Malformed => invalid("The ID Token provided is not a valid JWT"),
        Problem::KeysUnavailable => invalid(
            "Couldn't retrieve verification key from your identity provider,  please reference \
             AssumeRoleWithWebIdentity documentation for requirements",
        ),
        Problem::BadSignature => invalid("The web identity token signature could not be verified"),
        Problem::Expired { exp, now } => StsError(
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            format!(
                "Token expired: current date/time {now} must be before the expiration date/time {exp}"
            ),
        ),
        Problem::NotYetValid => invalid("Token is not yet valid"),
    })?;
    if !claims
        .aud
        .iter()
        .any(|aud| provider.client_ids.contains(aud))
    {
        return Err(invalid("Incorrect token audience"));
    }
    Ok(claims)
}

/// IAM compares the issuer exactly: a trailing slash on one side only is another provider.
fn same_issuer(a: &str, b: &str) -> bool {
    a == b
}

fn trusts(role: &Role, claims: &Claims) -> bool {
    if let Some(policy) = &role.trust_policy {
        let provider = claims
            .iss
            .split_once("://")
            .map_or(claims.iss.as_str(), |(_, rest)| rest);
        let Some(claims) = claims.to_trust() else {
            return false;
        };
        let request = Request {
            provider,
            account: role.arn.split(':').nth(4),
            claims: &claims,
        };
        return iam::evaluate(policy, &request).is_ok_and(|verdict| verdict.is_accepted());
    }
    same_issuer(&role.issuer, &claims.iss)
        && claims.aud.contains(&role.audience)
        && string_like(&role.subject_like, &claims.sub)
}

fn success(role: &Role, session: &str, claims: &Claims, duration: u64) -> String {
    let account = role.arn.split(':').nth(4).unwrap_or_default();
    let name = role.arn.rsplit('/').next().unwrap_or_default();
    let provider = claims
        .iss
        .split_once("://")
        .map_or(claims.iss.as_str(), |(_, rest)| rest);
    let expires = rfc3339(now() + duration as i64);
    let key_id = format!("ASIA{}", random(UPPER_DIGITS, 16));
    let secret = random(BASE64ISH, 40);
    let session_token = format!("IQoJb3JpZ2luX2VjE{}", random(BASE64ISH, 300));
    let role_id = format!("AROA{}", random(UPPER_DIGITS, 17));
    format!(
        "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>
    <Audience>{aud}</Audience>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::{account}:assumed-role/{name}/{session}</Arn>
      <AssumedRoleId>{role_id}:{session}</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <SessionToken>{session_token}</SessionToken>
      <SecretAccessKey>{secret}</SecretAccessKey>
      <Expiration>{expires}</Expiration>
      <AccessKeyId>{key_id}</AccessKeyId>
    </Credentials>
    <Provider>arn:aws:iam::{account}:oidc-provider/{provider}</Provider>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata>
    <RequestId>{request_id}</RequestId>
  </ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>
",
        sub = escape(&claims.sub),
        aud = escape(&role.audience),
        name = escape(name),
        session = escape(session),
        provider = escape(provider),
        request_id = uuid(),
    )
}
