//! The OIDC setup assistant, under `/api/stacks/{org}/{project}/{stack}/deployments/oidc/`:
//! the generated trust configuration ([`trust`]), "Test OIDC" ([`test_oidc`]), the failure
//! explainer ([`explain`]) and the lifetime advisor ([`lifetime`]).

mod explain;
mod lifetime;
mod test_oidc;
mod trust;

use keyless_api_types::{OidcConfig, PulumiOperation};
use serde_json::{Value, json};

use super::Routes;
use crate::error::{Error, Result};
use crate::http::AppState;
use crate::store::StackRecord;

pub use test_oidc::OIDC_TESTS_PER_MINUTE;

const TRUST: &str = stack_route!("/deployments/oidc/trust");
const TEST: &str = stack_route!("/deployments/oidc/test");
const TESTS: &str = stack_route!("/deployments/oidc/tests");
const EXPLAIN: &str = stack_route!("/deployments/oidc/explain");
const LIFETIME: &str = stack_route!("/deployments/oidc/lifetime");

pub fn router() -> Routes {
    Routes::default()
        .get(TRUST, trust::saved)
        .post(TRUST, trust::unsaved)
        .post(TEST, test_oidc::run)
        .get(TESTS, test_oidc::list)
        .post(EXPLAIN, explain::explain)
        .get(LIFETIME, lifetime::advise)
}

/// A 400 naming one request field.
fn field_error(attribute: &str, message: impl Into<String>) -> Error {
    Error::invalid_field("OidcAssistant", attribute, message)
}

/// An operation named by a query parameter or body field; `update` when absent.
fn operation(attribute: &str, name: Option<&str>) -> Result<PulumiOperation> {
    match name {
        None => Ok(PulumiOperation::Update),
        Some(name) => PulumiOperation::parse(name)
            .ok_or_else(|| field_error(attribute, format!("`{name}` is not a pulumi operation"))),
    }
}

/// The stack's saved OIDC settings; 404 when it has none.
async fn saved_oidc(state: &AppState, stack: &StackRecord) -> Result<OidcConfig> {
    let none = || Error::NotFound("This stack has no OIDC settings".into());
    let stored = state.store.settings(&stack.id).await?.ok_or_else(none)?;
    let oidc = stored
        .document
        .pointer("/operationContext/oidc")
        .cloned()
        .ok_or_else(none)?;
    let oidc: OidcConfig = serde_json::from_value(oidc)
        .map_err(|err| Error::Internal(format!("stored OIDC settings do not decode: {err}")))?;
    if oidc.is_empty() {
        return Err(none());
    }
    Ok(oidc)
}

/// An unsaved `operationContext.oidc` block, decoded, normalised and validated exactly as
/// settings are (errors name `operationContext.oidc.…`).
fn unsaved_oidc(state: &AppState, stack: &StackRecord, block: Value) -> Result<OidcConfig> {
    let document = json!({ "operationContext": { "oidc": block } });
    let settings = crate::settings::prepare(document, stack, &state.cipher)?;
    Ok(settings.oidc().cloned().unwrap_or_default())
}

/// The form's unsaved block when given, else the saved settings.
async fn oidc_settings(
    state: &AppState,
    stack: &StackRecord,
    unsaved: Option<Value>,
) -> Result<OidcConfig> {
    match unsaved {
        Some(block) => unsaved_oidc(state, stack, block),
        None => saved_oidc(state, stack).await,
    }
}
