//! Deployment settings: `GET`, `POST` (JSON merge patch), `PUT` (replace) and `DELETE`
//! `/api/stacks/{org}/{project}/{stack}/deployments/settings`, and `POST …/settings/encrypt`,
//! which seals a value for the stack to send back as `{"ciphertext": …}`.
//!
//! Every write decodes, normalises and validates the whole resulting settings, seals new
//! secrets, and stores them only if the version read is still current; anything invalid
//! answers 400 and leaves the stored settings as they were.

use axum::Json;
use axum::extract::State;
use keyless_api_types::{
    DeploymentSettings, EncryptedSecret, EnvValue, ErrorDetail, ErrorType, input, merge_patch,
};
use serde_json::{Map, Value};

use super::extract::{JsonBody, Origin, StackAccess, StackAdmin};
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::{StackRecord, StoreError, StoredSettings};

const PATH: &str = stack_route!("/deployments/settings");
const ENCRYPT: &str = stack_route!("/deployments/settings/encrypt");

pub fn router() -> Routes {
    Routes::default()
        .get(PATH, get_settings)
        .post(PATH, patch_settings)
        .put(PATH, replace_settings)
        .delete(PATH, delete_settings)
        .post(ENCRYPT, encrypt)
}

async fn get_settings(
    State(state): State<AppState>,
    access: StackAccess,
) -> Result<Json<DeploymentSettings>> {
    let stored = state
        .store
        .settings(&access.stack.id)
        .await?
        .ok_or_else(|| Error::NotFound("No deployment settings for this stack".into()))?;
    Ok(Json(from_store(stored)?))
}

async fn patch_settings(
    State(state): State<AppState>,
    StackAdmin(stack): StackAdmin,
    origin: Origin,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<DeploymentSettings>> {
    let mut patch = request_object(body)?;
    drop_empty_strings(&mut patch);
    let current = state.store.settings(&stack.id).await?;
    let mut document = current
        .as_ref()
        .map_or_else(|| Value::Object(Map::new()), |c| c.document.clone());
    merge_patch::apply(&mut document, &patch);
    save(&state, &stack, current, document, origin.settings_source).await
}

/// Go clients send a field they leave unset as its zero value: `""` (the CLI's
/// `operationContext.operation`). In a merge patch that means "no change"; `null` clears.
fn drop_empty_strings(patch: &mut Value) {
    if let Value::Object(fields) = patch {
        fields.retain(|_, value| value.as_str() != Some(""));
        fields.values_mut().for_each(drop_empty_strings);
    }
}

async fn replace_settings(
    State(state): State<AppState>,
    StackAdmin(stack): StackAdmin,
    origin: Origin,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<DeploymentSettings>> {
    let document = request_object(body)?;
    let current = state.store.settings(&stack.id).await?;
    save(&state, &stack, current, document, origin.settings_source).await
}

async fn delete_settings(
    State(state): State<AppState>,
    StackAdmin(stack): StackAdmin,
) -> Result<Json<bool>> {
    state.store.delete_settings(&stack.id).await?;
    Ok(Json(true))
}

/// Seals a value for the stack. The body is Pulumi's `SecretValue` as its spec writes it
/// (`{"secret": "v"}`) or as the CLI marshals it (a bare JSON string); only admins may, as only
/// they write the settings the ciphertext goes into.
async fn encrypt(
    State(state): State<AppState>,
    StackAdmin(stack): StackAdmin,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<EncryptedSecret>> {
    let refuse = |kind, message: &str| Error::BadRequest {
        message: format!("Invalid value to encrypt: secret {message}"),
        errors: vec![ErrorDetail {
            resource: "SecretValue".into(),
            attribute: "secret".into(),
            error_type: kind,
            custom_message: message.into(),
        }],
    };
    let value = match serde_json::from_value::<EnvValue>(body) {
        Ok(EnvValue::Plain(value)) => value,
        Ok(EnvValue::Secret(secret)) if secret.ciphertext.is_none() => secret.secret,
        Ok(EnvValue::Secret(_)) => return Err(refuse(ErrorType::Invalid, "is already encrypted")),
        Err(_) => {
            let message = "must be a string, or {\"secret\":\"…\"}";
            return Err(refuse(ErrorType::Invalid, message));
        }
    };
    if value.is_empty() {
        return Err(refuse(
            ErrorType::Required,
            "is empty: there is nothing to encrypt",
        ));
    }
    let ciphertext = state.cipher.seal(&value, stack.id.as_str())?;
    Ok(Json(EncryptedSecret { ciphertext }))
}

/// The request body as settings input: an object, keys in the spec's casing, without the
/// read-only `source` and `version`.
fn request_object(mut body: Value) -> Result<Value> {
    input::canonicalize_keys(&mut body);
    let Value::Object(fields) = &mut body else {
        return Err(Error::bad_request("The request body must be a JSON object"));
    };
    fields.remove("source");
    fields.remove("version");
    Ok(body)
}

/// Stores `document` as the stack's settings in place of `current` (the version read, which
/// must still be current).
async fn save(
    state: &AppState,
    stack: &StackRecord,
    current: Option<StoredSettings>,
    document: Value,
    source: &str,
) -> Result<Json<DeploymentSettings>> {
    let mut settings = crate::settings::prepare(document, stack, &state.cipher)?;
    crate::settings::check_agent_pool(state.store.as_ref(), stack, &settings, current.as_ref())
        .await?;
    let expected = current.map(|c| c.version);
    let stored = serde_json::to_value(&settings)
        .map_err(|err| Error::Internal(format!("cannot serialise settings: {err}")))?;
    let version = state
        .store
        .save_settings(&stack.id, expected, &stored, source)
        .await?;
    settings.source = Some(source.into());
    settings.version = Some(version);
    Ok(Json(settings))
}

/// Stored settings as the API returns them.
fn from_store(stored: StoredSettings) -> Result<DeploymentSettings> {
    let mut settings: DeploymentSettings =
        serde_json::from_value(stored.document).map_err(|err| {
            StoreError::Backend(format!("stored settings do not decode: {err}").into())
        })?;
    settings.source = Some(stored.source);
    settings.version = Some(stored.version);
    Ok(settings)
}
