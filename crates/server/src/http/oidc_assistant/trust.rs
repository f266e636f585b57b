//! `GET …/oidc/trust?scope=&operation=`: the trust configuration each cloud needs for the
//! stack's saved OIDC settings; `POST` with an unsaved `operationContext.oidc` block generates
//! it from the form's values. Admins and members.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use keyless_api_types::StackRef;
use keyless_api_types::trust::{Scope, ScopeKind};
use keyless_trust::{Target, TrustConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{field_error, oidc_settings, operation};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::{JsonBody, StackAccess};
use crate::store::{StackQuery, StackRecord};

#[derive(Deserialize)]
pub struct TrustParams {
    /// `stack-operation`, `stack` (default), `project` or `org`.
    scope: Option<String>,
    /// The operation of `stack-operation`; `update` by default.
    operation: Option<String>,
}

/// What was generated, and for what.
#[derive(Serialize)]
pub struct TrustResponse {
    target: Target,
    trust: TrustConfig,
}

pub async fn saved(
    State(state): State<AppState>,
    access: StackAccess,
    params: Result<Query<TrustParams>, QueryRejection>,
) -> Result<Json<TrustResponse>> {
    generate(&state, &access.stack, params, None).await
}

pub async fn unsaved(
    State(state): State<AppState>,
    access: StackAccess,
    params: Result<Query<TrustParams>, QueryRejection>,
    JsonBody(block): JsonBody<Value>,
) -> Result<Json<TrustResponse>> {
    generate(&state, &access.stack, params, Some(block)).await
}

async fn generate(
    state: &AppState,
    stack: &StackRecord,
    params: Result<Query<TrustParams>, QueryRejection>,
    unsaved: Option<Value>,
) -> Result<Json<TrustResponse>> {
    let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
    let scope = scope(&params)?;
    let oidc = oidc_settings(state, stack, unsaved).await?;
    let mut target = Target::new(stack.stack.clone(), state.oidc.issuer().as_str(), scope);
    target.stacks = org_stacks(state, &stack.stack).await?;
    let trust = keyless_trust::generate(&target, &oidc);
    Ok(Json(TrustResponse { target, trust }))
}

fn scope(params: &TrustParams) -> Result<Scope> {
    let operation = operation("operation", params.operation.as_deref())?;
    let key = params.scope.as_deref().unwrap_or(ScopeKind::Stack.key());
    let kind = ScopeKind::from_key(key).ok_or_else(|| {
        let keys: Vec<&str> = ScopeKind::ALL.iter().map(|k| k.key()).collect();
        field_error(
            "scope",
            format!("`{key}` is not one of {}", keys.join(", ")),
        )
    })?;
    Ok(kind.with(operation))
}

/// Every other stack of the organization.
async fn org_stacks(state: &AppState, this: &StackRef) -> Result<Vec<StackRef>> {
    let query = StackQuery {
        orgs: vec![this.org.clone()],
        ..StackQuery::default()
    };
    let stacks = state.store.list_stacks(&query).await?;
    Ok(stacks
        .into_iter()
        .map(|record| record.stack)
        .filter(|stack| stack != this)
        .collect())
}
