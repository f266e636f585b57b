//! Azure: Microsoft Entra ID client credentials with a federated JWT assertion.

use keyless_api_types::Cloud;
use keyless_api_types::settings::AzureOidc;
use serde::Deserialize;

use crate::credentials::{Credentials, now, plain, rfc3339, secret};
use crate::endpoints::Endpoint;
use crate::error::{ExchangeError, rejected};
use crate::exchanger::Exchanger;
use crate::token::TokenClaims;

/// The scope of Azure Resource Manager, which the azure-native provider talks to.
const ARM_SCOPE: &str = "https://management.azure.com/.default";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

impl Exchanger {
    /// Redeems `token` as a federated client assertion for app `settings.client_id` in
    /// `settings.tenant_id`.
    ///
    /// The access token Azure returns proves the federation works but is not handed on: the
    /// azure-native provider redeems `ARM_OIDC_TOKEN` itself. So the credentials expire at the
    /// earlier of the access token's expiry and the OIDC token's own `exp`.
    pub async fn azure(
        &self,
        settings: &AzureOidc,
        token: &str,
    ) -> Result<Credentials, ExchangeError> {
        let (client_id, tenant_id, subscription_id) = check(settings)?;
        let url = self.url(
            Endpoint::AzureToken,
            &[tenant_id, "oauth2", "v2.0", "token"],
        )?;
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", token),
            ("scope", ARM_SCOPE),
        ];
        let request = self.http.post(url.clone()).form(&form);
        let answer = self.send(Endpoint::AzureToken, &url, request).await?;
        let claims = TokenClaims::peek(token).unwrap_or_default();
        if answer.status != 200 {
            return Err(error(answer.status, &answer.body, settings, &claims, token));
        }
        let bad = |problem: &str| ExchangeError::BadResponse {
            endpoint: Endpoint::AzureToken,
            status: answer.status,
            problem: problem.into(),
        };
        let response: TokenResponse = serde_json::from_str(&answer.body)
            .map_err(|_| bad("JSON that is not a token response"))?;
        if response.access_token.is_empty() {
            return Err(bad("no access_token"));
        }
        let expires_in = response
            .expires_in
            .seconds()
            .ok_or_else(|| bad("an expires_in that is not a number of seconds"))?;
        let access_expires = now() + expires_in;
        let mut details = vec![(
            "Azure access token expires".to_owned(),
            rfc3339(access_expires),
        )];
        let expires_at = match claims.exp {
            Some(exp) => {
                details.push(("OIDC token expires".to_owned(), rfc3339(exp)));
                access_expires.min(exp)
            }
            None => access_expires,
        };
        Ok(Credentials {
            cloud: Cloud::Azure,
            identity: format!("app {client_id} in tenant {tenant_id}"),
            expires_at,
            env: vec![
                plain("ARM_CLIENT_ID", client_id),
                plain("ARM_TENANT_ID", tenant_id),
                plain("ARM_SUBSCRIPTION_ID", subscription_id),
                plain("ARM_USE_OIDC", "true"),
                secret("ARM_OIDC_TOKEN", token),
            ],
            details,
        })
    }
}

/// The trimmed client, tenant and subscription ids, each present and usable in a URL.
fn check(settings: &AzureOidc) -> Result<(&str, &str, &str), ExchangeError> {
    let invalid = |field, problem: &str| ExchangeError::InvalidSetting {
        cloud: Cloud::Azure,
        field,
        problem: problem.into(),
    };
    let fields = [
        ("Client ID", settings.client_id.trim()),
        ("Tenant ID", settings.tenant_id.trim()),
        ("Subscription ID", settings.subscription_id.trim()),
    ];
    for (field, value) in fields {
        if value.is_empty() {
            return Err(invalid(field, "is empty"));
        }
    }
    let tenant = fields[1].1;
    let tenant_ok = tenant
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !tenant.starts_with('.');
    if !tenant_ok {
        return Err(invalid(
            "Tenant ID",
            "must be a directory id (a GUID) or a domain such as contoso.onmicrosoft.com",
        ));
    }
    Ok((fields[0].1, tenant, fields[2].1))
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: String,
    expires_in: Seconds,
}

/// `expires_in`: a number in v2.0 answers, a string in older ones.
#[derive(Deserialize)]
#[serde(untagged)]
enum Seconds {
    Number(i64),
    Text(String),
}

impl Seconds {
    fn seconds(&self) -> Option<i64> {
        match self {
            Seconds::Number(n) => Some(*n),
            Seconds::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
struct ErrorResponse {
    error: String,
    #[serde(default)]
    error_description: String,
    #[serde(default)]
    error_codes: Vec<u64>,
    trace_id: Option<String>,
    correlation_id: Option<String>,
}

fn error(
    status: u16,
    body: &str,
    settings: &AzureOidc,
    claims: &TokenClaims,
    token: &str,
) -> ExchangeError {
    let Ok(response) = serde_json::from_str::<ErrorResponse>(body) else {
        return ExchangeError::BadResponse {
            endpoint: Endpoint::AzureToken,
            status,
            problem: "a body that is not an OAuth error".into(),
        };
    };
    // "AADSTS70021: No matching … \r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …"
    let first_line = response
        .error_description
        .lines()
        .next()
        .unwrap_or_default();
    let (code, message) = match first_line.split_once(": ") {
        Some((code, rest)) if code.starts_with("AADSTS") => (code.to_owned(), rest),
        _ => match response.error_codes.first() {
            Some(n) => (format!("AADSTS{n}"), first_line),
            None => (response.error.clone(), first_line),
        },
    };
    let ids: Vec<String> = [
        ("trace id", response.trace_id),
        ("correlation id", response.correlation_id),
    ]
    .into_iter()
    .filter_map(|(name, id)| id.map(|id| format!("{name} {id}")))
    .collect();
    let request_id = (!ids.is_empty()).then(|| ids.join(", "));
    let explanation = explain(&code, settings, claims);
    rejected(
        Endpoint::AzureToken,
        status,
        &code,
        message,
        request_id,
        token,
        explanation,
    )
}

fn explain(code: &str, settings: &AzureOidc, claims: &TokenClaims) -> String {
    let (client, tenant) = (settings.client_id.trim(), settings.tenant_id.trim());
    match code {
        "AADSTS70021" | "AADSTS700211" | "AADSTS700212" | "AADSTS700213" => format!(
            "App {client} has no federated identity credential that matches this token. Each \
             credential must match exactly: issuer \"{iss}\", subject \"{sub}\" and audience \
             \"{aud}\". The subject names the stack and the operation, so a stack needs one \
             credential per operation (update, preview, refresh, destroy); an app holds at \
             most 20.",
            iss = claims.iss,
            sub = claims.sub,
            aud = claims.audience(),
        ),
        "AADSTS700016" => format!(
            "No application with client id {client} exists in tenant {tenant}: check the Client \
             ID and the Tenant ID, and that the app registration or managed identity lives in \
             that tenant."
        ),
        "AADSTS90002" | "AADSTS90023" => format!(
            "Tenant {tenant} does not exist: use the directory (tenant) id from the app's \
             overview page."
        ),
        "AADSTS700024" => "The OIDC token was outside its valid time range when Azure checked \
             it: it had expired, or the Keyless server's clock is off. Run the deployment again."
            .into(),
        "AADSTS50027" | "AADSTS700027" | "AADSTS90061" => format!(
            "Azure could not verify the token's signature: {iss}/.well-known/openid-configuration \
             and its JWKS must be reachable from the internet over HTTPS.",
            iss = claims.iss
        ),
        _ => format!(
            "Microsoft Entra ID refused the token for app {client} in tenant {tenant}; see the \
             code and message above."
        ),
    }
}
