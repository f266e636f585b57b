//! Microsoft Entra ID `POST /{tenant}/oauth2/v2.0/token` with a federated client assertion.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::verify::{Problem, Verifier};
use super::{BASE64ISH, Recorded, RelyingParty, random, uuid};
use crate::credentials::{now, rfc3339};

/// The assertion type the token endpoint accepts for federated credentials.
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// One tenant and its app registrations.
#[derive(Clone, Debug, Default)]
pub struct AzureConfig {
    pub tenant_id: String,
    pub apps: Vec<App>,
}

/// An app registration (or user-assigned managed identity).
#[derive(Clone, Debug)]
pub struct App {
    pub client_id: String,
    pub federated_credentials: Vec<FederatedCredential>,
}

/// A federated identity credential: issuer, subject and audience, each matched exactly.
/// Azure suggests the audience `api://AzureADTokenExchange`; Keyless tokens carry the
/// organization name, so the audience is whatever the credential was created with.
#[derive(Clone, Debug)]
pub struct FederatedCredential {
    pub issuer: String,
    pub subject: String,
    pub audience: String,
}

struct Shared {
    config: AzureConfig,
    verifier: Verifier,
}

/// Starts a stand-in for Microsoft Entra ID; point [`crate::Endpoints::azure_authority_host`]
/// at its URL.
pub async fn spawn(config: AzureConfig) -> std::io::Result<RelyingParty> {
    let shared = Arc::new(Shared {
        config,
        verifier: Verifier::new(),
    });
    let router = Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(handle))
        .with_state(shared);
    RelyingParty::start(router).await
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path(tenant): Path<String>,
    Extension(request): Extension<Recorded>,
) -> Response {
    match token(&shared, &tenant, &request).await {
        Ok(access_token) => Json(json!({
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access_token,
        }))
        .into_response(),
        Err(err) => err.into_response(),
    }
}

/// An Entra ID error: HTTP status, OAuth `error`, AADSTS number and description.
struct AadError(StatusCode, &'static str, u32, String);

impl IntoResponse for AadError {
    fn into_response(self) -> Response {
        let AadError(status, error, code, description) = self;
        let (trace_id, correlation_id, timestamp) = (uuid(), uuid(), rfc3339(now()));
        let body = json!({
            "error": error,
            "error_description": format!(
                "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: \
                 {correlation_id}\r\nTimestamp: {timestamp}"
            ),
            "error_codes": [code],
            "timestamp": timestamp,
            "trace_id": trace_id,
            "correlation_id": correlation_id,
            "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
        });
        (status, Json(body)).into_response()
    }
}

fn missing(name: &str) -> AadError {
    AadError(
        StatusCode::BAD_REQUEST,
        "invalid_request",
        900144,
        format!("The request body must contain the following parameter: '{name}'."),
    )
}

async fn token(shared: &Shared, tenant: &str, request: &Recorded) -> Result<String, AadError> {
    let tenant_id = &shared.config.tenant_id;
    if tenant != tenant_id {
        return Err(AadError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            format!(
                "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID \
                 and are signing into the correct cloud."
            ),
        ));
    }
    if !request.is_content_type("application/x-www-form-urlencoded") {
        return Err(missing("grant_type"));
    }
    let param = |name: &'static str| request.param(name).ok_or_else(|| missing(name));
    let grant_type = param("grant_type")?;
    if grant_type != "client_credentials" {
        return Err(AadError(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let client_id = param("client_id")?;
    let scope = param("scope")?;
    if !scope.ends_with("/.default") {
        return Err(AadError(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows \
                 must have a scope value with /.default suffixed to the resource identifier \
                 (application ID URI)."
            ),
        ));
    }
    let assertion_type = param("client_assertion_type")?;
    let assertion = param("client_assertion")?;
    if assertion_type != JWT_BEARER {
        return Err(AadError(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            9002313,
            "Invalid request. Request is malformed or invalid.".into(),
        ));
    }
    let app = shared
        .config
        .apps
        .iter()
        .find(|app| app.client_id == client_id)
        .ok_or_else(|| {
            AadError(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!(
                    "Application with identifier '{client_id}' was not found in the directory \
                     '{tenant_id}'. This can happen if the application has not been installed \
                     by the administrator of the tenant or consented to by any user in the \
                     tenant. You may have sent your authentication request to the wrong tenant."
                ),
            )
        })?;
    let invalid_client =
        |code, text: String| AadError(StatusCode::UNAUTHORIZED, "invalid_client", code, text);
    let claims = shared
        .verifier
        .verify(&assertion)
        .await
        .map_err(|problem| match problem {
            Problem::Malformed => {
                invalid_client(50027, "JWT token is invalid or malformed.".into())
            }
            Problem::KeysUnavailable => {
                invalid_client(90061, "Request to External OIDC endpoint failed.".into())
            }
            Problem::BadSignature => invalid_client(
                700027,
                "Client assertion failed signature validation.".into(),
            ),
            Problem::Expired { exp, now } => invalid_client(
                700024,
                format!(
                    "Client assertion is not within its valid time range. Current time: {}, \
                 expiry time of assertion {}.",
                    rfc3339(now),
                    rfc3339(exp)
                ),
            ),
            Problem::NotYetValid => invalid_client(
                700024,
                "Client assertion is not within its valid time range.".into(),
            ),
        })?;
    let audience = claims.aud.join(",");
    let matched = app.federated_credentials.iter().any(|fic| {
        fic.issuer == claims.iss && fic.subject == claims.sub && claims.aud.contains(&fic.audience)
    });
    if !matched {
        return Err(AadError(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion \
                 Issuer: '{}'. Assertion Subject: '{}'. Assertion Audience: '{audience}'. \
                 https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
                claims.iss, claims.sub
            ),
        ));
    }
    Ok(format!(
        "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.{}",
        random(BASE64ISH, 600)
    ))
}
