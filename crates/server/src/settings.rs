//! Deployment settings as the server keeps them: a document decoded, normalised and validated
//! for its stack, every secret sealed. Used by the API, by webhooks and deployment requests
//! (settings merged with a request) and by the seed.

use keyless_api_types::secret::REDACTED;
use keyless_api_types::{DeploymentSettings, ErrorDetail, ErrorType, FieldError, input, validate};
use serde_json::Value;

use crate::crypto::Cipher;
use crate::error::{Error, Result};
use crate::store::{StackRecord, Store, StoreError, StoredSettings};

/// Turns a settings document into valid settings for `stack` with every secret sealed:
/// decode, normalise, validate, then encrypt new secrets and check kept ones.
pub fn prepare(
    document: Value,
    stack: &StackRecord,
    cipher: &Cipher,
) -> Result<DeploymentSettings> {
    let mut settings: DeploymentSettings = input::decode(document).map_err(|err| {
        let err = FieldError {
            message: without_input(&err.message),
            ..err
        };
        invalid(vec![err])
    })?;
    settings.normalize();
    let errors = validate::settings(&settings, &stack.stack);
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    seal_secrets(&mut settings, stack, cipher)?;
    Ok(settings)
}

/// Refuses settings that name a new agent pool (`agentPoolID`) the stack's organization does
/// not have: unknown or another organization's. The pool the stack's saved settings name
/// already is kept as it is, so that a change to anything else never fails on it.
pub async fn check_agent_pool(
    store: &dyn Store,
    stack: &StackRecord,
    settings: &DeploymentSettings,
    saved: Option<&StoredSettings>,
) -> Result<()> {
    let Some(pool) = settings.agent_pool_id.as_deref() else {
        return Ok(());
    };
    if saved.and_then(pool_of) == Some(pool)
        || store.agent_pool(&stack.stack.org, pool).await?.is_some()
    {
        return Ok(());
    }
    Err(invalid(vec![FieldError {
        attribute: "agentPoolID".into(),
        kind: ErrorType::Invalid,
        message: format!(
            "names agent pool '{pool}', which organization '{}' does not have",
            stack.stack.org
        ),
    }]))
}

/// The agent pool saved settings name.
fn pool_of(saved: &StoredSettings) -> Option<&str> {
    saved.document.get("agentPoolID").and_then(Value::as_str)
}

/// The stacks of `org` whose saved settings name agent pool `pool`, as `project/stack`.
pub async fn stacks_using_pool(
    store: &dyn Store,
    org: &str,
    pool: &str,
) -> Result<Vec<String>, StoreError> {
    Ok(store
        .stacks_with_settings(org)
        .await?
        .into_iter()
        .filter(|(_, settings)| pool_of(settings) == Some(pool))
        .map(|(stack, _)| format!("{}/{}", stack.stack.project, stack.stack.stack))
        .collect())
}

/// Encrypts every plaintext secret; a secret sent back as read keeps its value only when its
/// ciphertext is one this server made for this stack.
fn seal_secrets(
    settings: &mut DeploymentSettings,
    stack: &StackRecord,
    cipher: &Cipher,
) -> Result<()> {
    let mut errors = Vec::new();
    for (attribute, slot) in settings.secrets_mut() {
        match slot.ciphertext.as_deref() {
            Some(ciphertext) if slot.is_stored() => {
                if cipher.open(ciphertext, stack.id.as_str()).is_err() {
                    errors.push(FieldError {
                        attribute,
                        kind: ErrorType::Invalid,
                        message: "has a ciphertext this server did not issue for this stack; \
                                  send the secret's value instead"
                            .into(),
                    });
                }
            }
            _ if slot.secret == REDACTED => errors.push(FieldError {
                attribute,
                kind: ErrorType::Required,
                message: "is \"[secret]\" without its ciphertext; send the secret's value, \
                          or the ciphertext as it was read"
                    .into(),
            }),
            _ => {
                slot.ciphertext = Some(cipher.seal(&slot.secret, stack.id.as_str())?);
                slot.secret = REDACTED.into();
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(invalid(errors))
    }
}

/// Opens every secret of `settings`, stored sealed for `stack`, for a deployment to use;
/// `Err` names the first that does not open.
pub fn open_secrets(
    settings: &mut DeploymentSettings,
    stack: &StackRecord,
    cipher: &Cipher,
) -> std::result::Result<(), String> {
    for (attribute, slot) in settings.secrets_mut() {
        let ciphertext = slot.ciphertext.take().unwrap_or_default();
        slot.secret = cipher
            .open(&ciphertext, stack.id.as_str())
            .map_err(|_| format!("cannot decrypt the secret {attribute}"))?;
    }
    Ok(())
}

/// A decoder message without the offending input value, which may be a secret:
/// `invalid type: string "x", expected a sequence` → `invalid type: expected a sequence`.
fn without_input(message: &str) -> String {
    match message.split_once(": ") {
        Some((kind, rest)) => match rest.rsplit_once(", expected ") {
            Some((_, expected)) => format!("{kind}: expected {expected}"),
            None => kind.to_owned(),
        },
        None => message.to_owned(),
    }
}

/// A 400 naming every failing field.
fn invalid(errors: Vec<FieldError>) -> Error {
    let summary: Vec<String> = errors
        .iter()
        .map(|e| match e.attribute.as_str() {
            "" => e.message.clone(),
            attribute => format!("{attribute} {}", e.message),
        })
        .collect();
    Error::BadRequest {
        message: format!("Invalid deployment settings: {}", summary.join("; ")),
        errors: errors
            .into_iter()
            .map(|e| ErrorDetail {
                resource: "DeploymentSettings".into(),
                attribute: e.attribute,
                error_type: e.kind,
                custom_message: e.message,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoder_messages_drop_the_input_value() {
        assert_eq!(
            without_input("invalid type: string \"hunter2\", expected a sequence"),
            "invalid type: expected a sequence"
        );
        // A secret slot's own message names no input, and is kept whole.
        let err = input::decode::<DeploymentSettings>(serde_json::json!({"operationContext": {
            "environmentVariables": {"TOKEN": {"isSecret": true}}
        }}))
        .expect_err("a secret without a value");
        assert!(err.message.contains("ciphertext"), "{}", err.message);
        assert_eq!(without_input(&err.message), err.message);
    }
}
