//! `POST …/oidc/explain`: the failure explainer — why a cloud would refuse a token under pasted
//! trust configuration, as a `keyless_trust::Verdict`. Admins and members; a malformed paste
//! answers 400 naming `trust` (or `claims`) with the explainer's message.

use axum::Json;
use axum::extract::State;
use keyless_api_types::{Cloud, ExplainRequest, OidcConfig, StackRef};
use keyless_trust::azure::FederatedCredential;
use keyless_trust::gcp::{IamPolicy, WorkloadIdentityProvider};
use keyless_trust::{Claims, ExplainError, Verdict, aws, azure, gcp};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{field_error, saved_oidc, unsaved_oidc};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{JsonBody, StackAccess};
use crate::oidc::unix_now;

/// The lifetime of the claims explained when none are given: long enough not to expire.
const DEFAULT_CLAIMS_LIFETIME: u64 = 600;

pub async fn explain(
    State(state): State<AppState>,
    access: StackAccess,
    JsonBody(request): JsonBody<ExplainRequest>,
) -> Result<Json<Verdict>> {
    let stack = &access.stack;
    let oidc = match request.settings {
        Some(block) => unsaved_oidc(
            &state,
            stack,
            serde_json::to_value(block).unwrap_or_default(),
        )?,
        None => match saved_oidc(&state, stack).await {
            Ok(oidc) => oidc,
            Err(Error::NotFound(_)) => OidcConfig::default(),
            Err(err) => return Err(err),
        },
    };
    let now = unix_now();
    let claims = match request.claims {
        Some(payload) => {
            Claims::from_json(payload).map_err(|e| field_error("claims", e.to_string()))?
        }
        None => default_claims(&state, &stack.stack, request.operation, now),
    };
    judge(request.cloud, &claims, now, &oidc, &request.trust)
        .map(Json)
        .map_err(|err| match &err {
            ExplainError::Malformed { input, .. } if input == "token claims" => {
                field_error("claims", err.to_string())
            }
            _ => field_error("trust", err.to_string()),
        })
}

/// The claims this stack's token for `operation` carries when issued at `now`.
fn default_claims(
    state: &AppState,
    stack: &StackRef,
    operation: Option<keyless_api_types::PulumiOperation>,
    now: u64,
) -> Claims {
    let operation = operation.unwrap_or(keyless_api_types::PulumiOperation::Update);
    Claims::for_deployment(
        state.oidc.issuer().as_str(),
        stack,
        operation,
        now,
        DEFAULT_CLAIMS_LIFETIME,
    )
}

/// Judges `trust`, pasted for `cloud`, for `claims` at `now`.
pub(super) fn judge(
    cloud: Cloud,
    claims: &Claims,
    now: u64,
    oidc: &OidcConfig,
    trust: &Value,
) -> Result<Verdict, ExplainError> {
    match cloud {
        Cloud::Aws => aws::explain(claims, now, &oidc.aws.clone().unwrap_or_default(), trust),
        Cloud::Azure => {
            let list = trust.get("value").unwrap_or(trust);
            let credentials: Vec<FederatedCredential> =
                decode(list, "Azure federated credential list")?;
            azure::explain(claims, now, &credentials)
        }
        Cloud::Gcp => {
            let part = |name: &str| {
                trust.get(name).ok_or_else(|| ExplainError::Malformed {
                    input: "Google Cloud trust".into(),
                    detail: format!("has no `{name}`: paste {{ \"provider\": …, \"policy\": … }}"),
                })
            };
            let provider: WorkloadIdentityProvider =
                decode(part("provider")?, "workload identity provider")?;
            let policy: IamPolicy = decode(part("policy")?, "service account policy")?;
            let settings = oidc.gcp.clone().unwrap_or_default();
            gcp::explain(claims, now, &settings, &provider, &policy)
        }
    }
}

fn decode<T: DeserializeOwned>(value: &Value, input: &str) -> Result<T, ExplainError> {
    serde_json::from_value(value.clone()).map_err(|err| ExplainError::Malformed {
        input: input.into(),
        detail: format!("is not in the expected shape: {err}"),
    })
}
