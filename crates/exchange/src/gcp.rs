//! Google Cloud: workload identity federation (RFC 8693 token exchange at Google STS), then
//! service account impersonation (`generateAccessToken`).
//!
//! `GOOGLE_PROJECT` is not set: the settings hold the project NUMBER, and the Google provider
//! wants a project id, which Keyless cannot know without another API call and permission. Set
//! the project in the stack's config (`gcp:project`) or as an environment variable.

use keyless_api_types::Cloud;
use keyless_api_types::duration;
use keyless_api_types::settings::GcpOidc;
use serde::Deserialize;
use serde_json::json;

use crate::credentials::{Credentials, parse_rfc3339, plain, secret};
use crate::endpoints::Endpoint;
use crate::error::{ExchangeError, rejected};
use crate::exchanger::Exchanger;
use crate::token::TokenClaims;

const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's default and, without an organization policy exception, maximum token lifetime.
const DEFAULT_LIFETIME: u64 = 3600;
/// The longest lifetime `generateAccessToken` grants with the policy exception.
const MAX_LIFETIME: u64 = 43_200;

/// The checked settings.
struct Target<'a> {
    /// `//iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`
    audience: String,
    /// `principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>/subject/`
    principal_prefix: String,
    service_account: &'a str,
    lifetime: u64,
}

impl Exchanger {
    /// Exchanges `token` at Google STS for a federated token, then impersonates
    /// `settings.service_account` with it.
    pub async fn gcp(&self, settings: &GcpOidc, token: &str) -> Result<Credentials, ExchangeError> {
        let target = check(settings)?;
        let claims = TokenClaims::peek(token).unwrap_or_default();
        let federated = self.federate(&target, &claims, token).await?;
        let url = self.url(
            Endpoint::GcpIamCredentials,
            &[
                "v1",
                "projects",
                "-",
                "serviceAccounts",
                &format!("{}:generateAccessToken", target.service_account),
            ],
        )?;
        let body = json!({
            "scope": [CLOUD_PLATFORM],
            "lifetime": format!("{}s", target.lifetime),
        });
        let request = self
            .http
            .post(url.clone())
            .bearer_auth(&federated)
            .json(&body);
        let answer = self
            .send(Endpoint::GcpIamCredentials, &url, request)
            .await?;
        if answer.status != 200 {
            return Err(iam_error(
                answer.status,
                &answer.body,
                &target,
                &claims,
                token,
            ));
        }
        let bad = |problem: &str| ExchangeError::BadResponse {
            endpoint: Endpoint::GcpIamCredentials,
            status: answer.status,
            problem: problem.into(),
        };
        let response: AccessToken = serde_json::from_str(&answer.body)
            .map_err(|_| bad("JSON that is not a GenerateAccessTokenResponse"))?;
        let expires_at = parse_rfc3339(&response.expire_time)
            .ok_or_else(|| bad("an expireTime that is not an RFC 3339 time"))?;
        if response.access_token.is_empty() {
            return Err(bad("no accessToken"));
        }
        let mut env = vec![secret("GOOGLE_OAUTH_ACCESS_TOKEN", response.access_token)];
        if let Some(region) = settings
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
        {
            env.push(plain("GOOGLE_REGION", region));
        }
        Ok(Credentials {
            cloud: Cloud::Gcp,
            identity: target.service_account.to_owned(),
            expires_at,
            env,
            details: vec![
                ("Workload identity provider".to_owned(), target.audience),
                (
                    "Federated principal".to_owned(),
                    format!("{}{}", target.principal_prefix, claims.sub),
                ),
            ],
        })
    }

    /// Step 1: the RFC 8693 exchange; returns the federated access token.
    async fn federate(
        &self,
        target: &Target<'_>,
        claims: &TokenClaims,
        token: &str,
    ) -> Result<String, ExchangeError> {
        let url = self.url(Endpoint::GcpSts, &["v1", "token"])?;
        let body = json!({
            "grantType": "urn:ietf:params:oauth:grant-type:token-exchange",
            "audience": target.audience,
            "scope": CLOUD_PLATFORM,
            "requestedTokenType": "urn:ietf:params:oauth:token-type:access_token",
            "subjectTokenType": "urn:ietf:params:oauth:token-type:jwt",
            "subjectToken": token,
        });
        let request = self.http.post(url.clone()).json(&body);
        let answer = self.send(Endpoint::GcpSts, &url, request).await?;
        if answer.status != 200 {
            return Err(sts_error(
                answer.status,
                &answer.body,
                target,
                claims,
                token,
            ));
        }
        let response: FederatedToken =
            serde_json::from_str(&answer.body).map_err(|_| ExchangeError::BadResponse {
                endpoint: Endpoint::GcpSts,
                status: answer.status,
                problem: "JSON without an access_token".into(),
            })?;
        Ok(response.access_token)
    }
}

fn check(settings: &GcpOidc) -> Result<Target<'_>, ExchangeError> {
    let invalid = |field, problem: String| ExchangeError::InvalidSetting {
        cloud: Cloud::Gcp,
        field,
        problem,
    };
    let number = settings.project_id.trim();
    if number.is_empty() || !number.chars().all(|c| c.is_ascii_digit()) {
        return Err(invalid(
            "Project Number",
            format!(
                "\"{number}\" is not a project number: use the numeric project number from the \
                 project's dashboard, not the project id"
            ),
        ));
    }
    let segment_ok =
        |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let pool = settings.workload_pool_id.trim();
    let provider = settings.provider_id.trim();
    for (field, value) in [
        ("Workload Pool ID", pool),
        ("Identity Provider ID", provider),
    ] {
        if !segment_ok(value) {
            return Err(invalid(
                field,
                format!("\"{value}\" must be an id of lowercase letters, digits and dashes"),
            ));
        }
    }
    let service_account = settings.service_account.trim();
    let email_ok = service_account.contains('@')
        && !service_account.contains(|c: char| c == '/' || c.is_whitespace());
    if !email_ok {
        return Err(invalid(
            "Service Account Email Address",
            format!("\"{service_account}\" is not a service account email"),
        ));
    }
    let lifetime = match settings.token_lifetime.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => {
            let seconds = duration::parse(text).map_err(|e| invalid("Session Duration", e))?;
            if !(1..=MAX_LIFETIME).contains(&seconds) {
                return Err(invalid(
                    "Session Duration",
                    format!(
                        "{} is outside Google's range of 1s to 12h0m0s",
                        duration::format(seconds)
                    ),
                ));
            }
            seconds
        }
        _ => DEFAULT_LIFETIME,
    };
    let pool_path = format!(
        "iam.googleapis.com/projects/{number}/locations/global/workloadIdentityPools/{pool}"
    );
    Ok(Target {
        audience: format!("//{pool_path}/providers/{provider}"),
        principal_prefix: format!("principal://{pool_path}/subject/"),
        service_account,
        lifetime,
    })
}

#[derive(Deserialize)]
struct FederatedToken {
    access_token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccessToken {
    #[serde(default)]
    access_token: String,
    expire_time: String,
}

/// Google STS errors are OAuth-style: `{"error": "invalid_grant", "error_description": "…"}`.
#[derive(Deserialize)]
struct StsError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Google API errors: `{"error": {"code": 403, "message": "…", "status": "PERMISSION_DENIED"}}`.
#[derive(Deserialize)]
struct ApiError {
    error: ApiErrorBody,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
}

fn sts_error(
    status: u16,
    body: &str,
    target: &Target<'_>,
    claims: &TokenClaims,
    token: &str,
) -> ExchangeError {
    let Ok(err) = serde_json::from_str::<StsError>(body) else {
        return ExchangeError::BadResponse {
            endpoint: Endpoint::GcpSts,
            status,
            problem: "a body that is not an OAuth error".into(),
        };
    };
    let description = err.error_description.to_lowercase();
    let provider = &target.audience;
    let explanation = match err.error.as_str() {
        "invalid_grant" if description.contains("audience") => format!(
            "The workload identity provider {provider} does not accept the token's audience \
             \"{aud}\": add it to the provider's allowed audiences (the organization name in \
             lowercase). Without allowed audiences, Google only accepts \
             \"https:{provider}\".",
            aud = claims.audience()
        ),
        "invalid_grant" if description.contains("expired") || description.contains("stale") => {
            "The OIDC token had expired when Google checked it: the deployment reached this step \
             too late, or the Keyless server's clock is off. Run the deployment again."
                .into()
        }
        "invalid_grant" => format!(
            "Google did not accept the token: the provider's issuer URL must be exactly \
             \"{iss}\", and Google must be able to fetch its /.well-known/openid-configuration \
             and JWKS from the internet (or the provider must hold the JWKS).",
            iss = claims.iss
        ),
        "unauthorized_client" => format!(
            "The provider's attribute condition rejected the token. The token's subject is \
             \"{sub}\": make the condition (for example on assertion.sub) accept it.",
            sub = claims.sub
        ),
        "invalid_target" => format!(
            "Google has no enabled workload identity provider {provider}: check the Project \
             Number (the number, not the project id), the Workload Pool ID and the Identity \
             Provider ID, and that neither the pool nor the provider is disabled."
        ),
        _ => format!(
            "Google STS refused the exchange for provider {provider}; see the code and message \
             above."
        ),
    };
    rejected(
        Endpoint::GcpSts,
        status,
        &err.error,
        &err.error_description,
        None,
        token,
        explanation,
    )
}

fn iam_error(
    status: u16,
    body: &str,
    target: &Target<'_>,
    claims: &TokenClaims,
    token: &str,
) -> ExchangeError {
    let Ok(err) = serde_json::from_str::<ApiError>(body) else {
        return ExchangeError::BadResponse {
            endpoint: Endpoint::GcpIamCredentials,
            status,
            problem: "a body that is not a Google API error".into(),
        };
    };
    let err = err.error;
    let sa = target.service_account;
    let explanation = match err.status.as_str() {
        "PERMISSION_DENIED" => format!(
            "The federated identity may not impersonate {sa}. Grant \
             roles/iam.workloadIdentityUser on that service account to \
             \"{prefix}{sub}\" (or a principalSet:// for the pool, narrowed by attribute), and \
             check that the service account exists and the IAM Service Account Credentials API \
             is enabled in its project.",
            prefix = target.principal_prefix,
            sub = claims.sub
        ),
        "NOT_FOUND" => {
            format!("Service account {sa} does not exist: check the Service Account Email Address.")
        }
        "INVALID_ARGUMENT" => format!(
            "Google rejected the request for a {}s token: lifetimes above 1h need the \
             organization policy constraints/iam.allowServiceAccountCredentialLifetimeExtension \
             to list {sa}.",
            target.lifetime
        ),
        "UNAUTHENTICATED" => "Google did not accept the federated token from its own STS: check \
             that both Google endpoints belong to the same environment."
            .into(),
        _ => format!("Google refused to impersonate {sa}; see the code and message above."),
    };
    let code = if err.status.is_empty() {
        status.to_string()
    } else {
        err.status
    };
    rejected(
        Endpoint::GcpIamCredentials,
        status,
        &code,
        &err.message,
        None,
        token,
        explanation,
    )
}
