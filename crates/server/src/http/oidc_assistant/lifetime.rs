//! `GET …/oidc/lifetime?operation=`: warns when the configured AWS session or Google token
//! lifetime is shorter than this stack's recent successful runs of `operation` (p95 of the
//! last 20). Admins and members.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use keyless_api_types::{Cloud, LifetimeAdvice, LifetimeWarning, duration};
use keyless_trust::lifetime;
use serde::Deserialize;

use super::{operation, saved_oidc};
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::http::extract::StackAccess;

/// How many recent runs the advice is drawn from.
const SAMPLES: u32 = 20;
/// AWS's and Google's lifetime when none is configured.
const DEFAULT_LIFETIME: u64 = 3600;

#[derive(Deserialize)]
pub struct LifetimeParams {
    operation: Option<String>,
}

pub async fn advise(
    State(state): State<AppState>,
    access: StackAccess,
    params: Result<Query<LifetimeParams>, QueryRejection>,
) -> Result<Json<LifetimeAdvice>> {
    let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
    let operation = operation("operation", params.operation.as_deref())?;
    let oidc = saved_oidc(&state, &access.stack).await?;
    let durations = state
        .store
        .succeeded_durations(&access.stack.id, operation, SAMPLES)
        .await?;
    let configured = |value: Option<&String>| {
        value
            .and_then(|v| duration::parse(v).ok())
            .unwrap_or(DEFAULT_LIFETIME)
    };
    let lifetimes = [
        (
            Cloud::Aws,
            oidc.aws.as_ref().map(|a| configured(a.duration.as_ref())),
        ),
        (
            Cloud::Gcp,
            oidc.gcp
                .as_ref()
                .map(|g| configured(g.token_lifetime.as_ref())),
        ),
    ];
    let warnings = lifetimes
        .into_iter()
        .filter_map(|(cloud, seconds)| {
            let text = lifetime::advise(seconds?, operation, &durations)?;
            Some(LifetimeWarning { cloud, text })
        })
        .collect();
    Ok(Json(LifetimeAdvice {
        operation,
        p95_seconds: lifetime::p95(&durations),
        samples: durations.len(),
        warnings,
    }))
}
