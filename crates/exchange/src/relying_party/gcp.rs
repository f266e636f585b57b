//! Google STS `POST /v1/token` (RFC 8693) and IAM Service Account Credentials
//! `POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken`, on one server so the
//! federated tokens the first issues are honoured by the second.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Json;
use axum::Router;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use keyless_trust::ExplainError;
use keyless_trust::explain::cel::{self, Path as CelPath};
use keyless_trust::gcp::MAPPING;
use serde_json::{Value, json};

use super::verify::{Claims, Problem, Verifier};
use super::{BASE64ISH, Recorded, RelyingParty, random, string_like};
use crate::credentials::{now, rfc3339};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const SUBJECT_TOKEN_TYPES: [&str; 2] = [
    "urn:ietf:params:oauth:token-type:jwt",
    "urn:ietf:params:oauth:token-type:id_token",
];

/// One workload identity pool with one OIDC provider, and the service accounts it may use.
#[derive(Clone, Debug)]
pub struct GcpConfig {
    pub project_number: String,
    pub pool_id: String,
    pub provider_id: String,
    /// The provider's issuer URL, matched exactly against `iss`.
    pub issuer: String,
    /// Accepted `aud` values; empty means Google's default, `https://iam.googleapis.com/projects/…/providers/<provider>`.
    pub allowed_audiences: Vec<String>,
    /// The attribute condition, as a `StringLike` pattern on `sub`; `None` accepts every subject.
    pub subject_condition: Option<String>,
    /// An attribute condition in CEL (the subset `keyless-trust` evaluates) over the standard
    /// attribute mapping (`keyless_trust::gcp::MAPPING`); false or failing rejects the token.
    pub attribute_condition: Option<String>,
    pub service_accounts: Vec<ServiceAccount>,
    /// The longest `lifetime` `generateAccessToken` grants (3600 s without the policy exception).
    pub max_lifetime: u64,
}

/// A service account and the members holding `roles/iam.workloadIdentityUser` on it:
/// `principal://…/subject/<sub>`, `principalSet://…/workloadIdentityPools/<pool>/*` or
/// `principalSet://…/attribute.<name>/<value>` (attributes of the standard mapping).
#[derive(Clone, Debug)]
pub struct ServiceAccount {
    pub email: String,
    pub workload_identity_users: Vec<String>,
}

impl GcpConfig {
    /// `iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/<pool>`
    pub fn pool_name(&self) -> String {
        format!(
            "iam.googleapis.com/projects/{}/locations/global/workloadIdentityPools/{}",
            self.project_number, self.pool_id
        )
    }

    /// The member naming one subject of the pool.
    pub fn principal(&self, sub: &str) -> String {
        format!("principal://{}/subject/{sub}", self.pool_name())
    }

    /// The member naming every identity of the pool.
    pub fn whole_pool(&self) -> String {
        format!("principalSet://{}/*", self.pool_name())
    }
}

struct Shared {
    config: GcpConfig,
    verifier: Verifier,
    /// Federated access tokens issued by STS → the identity they stand for.
    federated: Mutex<HashMap<String, Federated>>,
}

/// A federated identity: `google.subject` and its mapped `attribute.<name>` values.
#[derive(Clone)]
struct Federated {
    sub: String,
    attributes: Vec<(String, String)>,
}

/// Starts a stand-in for both Google endpoints; point [`crate::Endpoints::gcp_sts`] and
/// [`crate::Endpoints::gcp_iam_credentials`] at its URL.
pub async fn spawn(config: GcpConfig) -> std::io::Result<RelyingParty> {
    let shared = Arc::new(Shared {
        config,
        verifier: Verifier::new(),
        federated: Mutex::default(),
    });
    let router = Router::new()
        .route("/v1/token", post(sts))
        .route("/v1/projects/{project}/serviceAccounts/{name}", post(iam))
        .with_state(shared);
    RelyingParty::start(router).await
}

/// A Google STS error: `{"error": "...", "error_description": "..."}`.
struct OauthError(StatusCode, &'static str, String);

impl IntoResponse for OauthError {
    fn into_response(self) -> Response {
        let OauthError(status, error, description) = self;
        let body = json!({"error": error, "error_description": description});
        (status, Json(body)).into_response()
    }
}

fn sts_error(
    status: StatusCode,
    error: &'static str,
    description: impl Into<String>,
) -> OauthError {
    OauthError(status, error, description.into())
}

async fn sts(
    State(shared): State<Arc<Shared>>,
    Extension(request): Extension<Recorded>,
) -> Response {
    exchange(&shared, &request)
        .await
        .map_or_else(IntoResponse::into_response, IntoResponse::into_response)
}

async fn exchange(shared: &Shared, request: &Recorded) -> Result<Json<Value>, OauthError> {
    let bad =
        |description: String| sts_error(StatusCode::BAD_REQUEST, "invalid_request", description);
    let body = request
        .json()
        .ok_or_else(|| bad("The request body must be JSON.".into()))?;
    let field = |name: &str| body.get(name).and_then(Value::as_str).map(str::to_owned);
    let invalid_value = |name: &str| bad(format!("Invalid value for \"{name}\"."));
    let grant_type = field("grantType").unwrap_or_default();
    if grant_type != TOKEN_EXCHANGE {
        return Err(sts_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Invalid value for \"grant_type\". Expected \"{TOKEN_EXCHANGE}\"."),
        ));
    }
    if field("requestedTokenType").as_deref() != Some(ACCESS_TOKEN_TYPE) {
        return Err(invalid_value("requested_token_type"));
    }
    if !field("subjectTokenType").is_some_and(|t| SUBJECT_TOKEN_TYPES.contains(&t.as_str())) {
        return Err(invalid_value("subject_token_type"));
    }
    if field("scope").is_none_or(|s| s.is_empty()) {
        return Err(invalid_value("scope"));
    }
    let token = field("subjectToken").ok_or_else(|| invalid_value("subject_token"))?;
    let audience = field("audience").unwrap_or_default();
    let config = &shared.config;
    let expected = format!("//{}/providers/{}", config.pool_name(), config.provider_id);
    if !audience.starts_with("//iam.googleapis.com/projects/") || !audience.contains("/providers/")
    {
        return Err(bad(
            "Invalid value for \"audience\". This value should be the full resource name of the \
             Identity Provider."
                .into(),
        ));
    }
    if audience != expected {
        return Err(sts_error(
            StatusCode::BAD_REQUEST,
            "invalid_target",
            "The target service indicated by the \"audience\" parameters is invalid. This might \
             either be because the pool or provider is disabled or deleted or because it doesn't \
             exist.",
        ));
    }
    let grant =
        |description: String| sts_error(StatusCode::BAD_REQUEST, "invalid_grant", description);
    let issuer = Verifier::issuer(&token).unwrap_or_default();
    if issuer.trim_end_matches('/') != config.issuer.trim_end_matches('/') {
        return Err(grant(format!(
            "The issuer in ID Token {issuer} does not match the expected ones: {}.",
            config.issuer
        )));
    }
    let claims = shared
        .verifier
        .verify(&token)
        .await
        .map_err(|problem| match problem {
            Problem::Malformed => grant("Unable to parse the ID Token.".into()),
            Problem::KeysUnavailable => grant(format!(
                "Failed to fetch the public keys (JWKS) of the issuer {issuer}."
            )),
            Problem::BadSignature => grant("Invalid ID Token signature.".into()),
            Problem::Expired { exp, .. } => grant(format!("ID Token expired at {}.", rfc3339(exp))),
            Problem::NotYetValid => grant("ID Token is not yet valid.".into()),
        })?;
    let allowed = if config.allowed_audiences.is_empty() {
        vec![format!("https:{expected}")]
    } else {
        config.allowed_audiences.clone()
    };
    if !claims.aud.iter().any(|aud| allowed.contains(aud)) {
        return Err(grant(format!(
            "The audience in ID Token [{}] does not match the expected audience {}.",
            claims.aud.join(", "),
            allowed.join(", ")
        )));
    }
    let attributes = attributes(&claims);
    let rejected =
        |message: &str| sts_error(StatusCode::BAD_REQUEST, "unauthorized_client", message);
    if let Some(condition) = &config.attribute_condition
        && !condition_holds(condition, &claims, &attributes)
    {
        return Err(rejected(
            "The given credential is rejected by the attribute condition.",
        ));
    }
    if let Some(condition) = &config.subject_condition
        && !string_like(condition, &claims.sub)
    {
        return Err(sts_error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            "The given credential is rejected by the attribute condition.",
        ));
    }
    let access_token = format!("ya29.d.{}", random(BASE64ISH, 200));
    shared
        .federated
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(
            access_token.clone(),
            Federated {
                sub: claims.sub,
                attributes,
            },
        );
    let expires_in = (claims.exp - now()).clamp(1, 3600);
    Ok(Json(json!({
        "access_token": access_token,
        "issued_token_type": ACCESS_TOKEN_TYPE,
        "token_type": "Bearer",
        "expires_in": expires_in,
    })))
}

/// A Google API error: `{"error": {"code": 403, "message": "...", "status": "PERMISSION_DENIED"}}`.
struct ApiError(StatusCode, &'static str, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let ApiError(status, status_text, message) = self;
        let body = json!({"error": {
            "code": status.as_u16(),
            "message": message,
            "status": status_text,
        }});
        (status, Json(body)).into_response()
    }
}

fn api_error(
    status: StatusCode,
    status_text: &'static str,
    message: impl Into<String>,
) -> ApiError {
    ApiError(status, status_text, message.into())
}

async fn iam(
    State(shared): State<Arc<Shared>>,
    Path((_project, name)): Path<(String, String)>,
    Extension(request): Extension<Recorded>,
) -> Response {
    generate(&shared, &name, &request)
        .map_or_else(IntoResponse::into_response, IntoResponse::into_response)
}

fn generate(shared: &Shared, name: &str, request: &Recorded) -> Result<Json<Value>, ApiError> {
    let Some(email) = name.strip_suffix(":generateAccessToken") else {
        return Err(api_error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            "Method not found.",
        ));
    };
    let bearer = request
        .authorization
        .as_deref()
        .and_then(|h| h.strip_prefix("Bearer "));
    let identity = bearer.and_then(|token| {
        shared
            .federated
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned()
    });
    let Some(Federated { sub, attributes }) = identity else {
        return Err(api_error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials. Expected OAuth 2 access token, \
             login cookie or other valid authentication credential.",
        ));
    };
    let invalid = |message: String| api_error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", message);
    let body = request
        .json()
        .ok_or_else(|| invalid("Invalid JSON payload received.".into()))?;
    let scopes = body.get("scope").and_then(Value::as_array);
    if scopes.is_none_or(|s| s.is_empty() || !s.iter().all(Value::is_string)) {
        return Err(invalid("Scope required.".into()));
    }
    let config = &shared.config;
    let lifetime = match body.get("lifetime") {
        None => 3600,
        Some(value) => value
            .as_str()
            .and_then(|text| text.strip_suffix('s'))
            .and_then(|seconds| seconds.parse::<u64>().ok())
            .ok_or_else(|| {
                invalid(format!(
                    "Invalid value at 'lifetime' (type.googleapis.com/google.protobuf.Duration), {value}"
                ))
            })?,
    };
    if !(1..=config.max_lifetime).contains(&lifetime) {
        return Err(invalid(format!(
            "The lifetime must be between 1s and {}s.",
            config.max_lifetime
        )));
    }
    let mut members = vec![config.principal(&sub), config.whole_pool()];
    members.extend(attributes.iter().map(|(name, value)| {
        format!(
            "principalSet://{}/attribute.{name}/{value}",
            config.pool_name()
        )
    }));
    let allowed = config.service_accounts.iter().any(|sa| {
        sa.email == email
            && sa
                .workload_identity_users
                .iter()
                .any(|m| members.contains(m))
    });
    if !allowed {
        return Err(api_error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
        ));
    }
    Ok(Json(json!({
        "accessToken": format!("ya29.c.{}", random(BASE64ISH, 240)),
        "expireTime": rfc3339(now() + lifetime as i64),
    })))
}

/// The token's `attribute.<name>` values under the standard mapping (absent claims skipped).
fn attributes(claims: &Claims) -> Vec<(String, String)> {
    MAPPING
        .iter()
        .filter_map(|(target, source)| {
            let name = target.strip_prefix("attribute.")?;
            let claim = source.strip_prefix("assertion.")?;
            let value = claims.rest.get(claim)?.as_str()?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// Whether `condition` is true for the token; a condition outside the evaluated subset, or one
/// that fails to evaluate, rejects it, as an erroring condition does at Google.
fn condition_holds(condition: &str, claims: &Claims, attributes: &[(String, String)]) -> bool {
    let Some(trust) = claims.to_trust() else {
        return false;
    };
    let lookup = |path: &CelPath| -> Result<Option<String>, ExplainError> {
        Ok(match path {
            CelPath::Assertion(claim) => {
                trust.get(claim).and_then(|v| v.as_str()).map(str::to_owned)
            }
            CelPath::Attribute(name) => attributes
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone()),
            CelPath::GoogleSubject => Some(claims.sub.clone()),
        })
    };
    cel::Condition::parse(condition)
        .and_then(|c| c.evaluate(&lookup))
        .is_ok_and(|outcome| outcome.value == cel::Value::True)
}
