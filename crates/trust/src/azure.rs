//! Azure: federated identity credentials on the app registration (Microsoft Entra ID).
//!
//! A classic credential matches `iss`, `sub` and one audience exactly — no wildcards — so every
//! operation of every stack in scope needs its own, and an app holds at most
//! [`MAX_CREDENTIALS`]. A flexible credential (preview) matches `sub` with an expression
//! instead, where Entra ID supports it for the issuer.

use keyless_api_types::AzureOidc;
use serde::{Deserialize, Serialize};

use crate::explain::iam::string_like;
use crate::explain::{Claims, ExplainError, Verdict, check_time, issuer_difference};
use crate::scope::{describe_difference, shared_parts, stack_and_operation};
use crate::{Command, Level, Note, Scope, Target, shell};

/// Federated identity credentials one app registration (or managed identity) may have.
pub const MAX_CREDENTIALS: usize = 20;

/// From this many credentials on, the generator warns that the app is near its limit.
pub const WARN_AT: usize = 16;

/// Longest credential name Entra ID accepts.
const MAX_NAME: usize = 120;

/// A federated identity credential, as `az ad app federated-credential create --parameters`
/// takes it and `… list` prints it (unknown fields such as `id` are ignored).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FederatedCredential {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub issuer: String,
    /// Empty for a flexible credential.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "String::is_empty"
    )]
    pub subject: String,
    #[serde(default, deserialize_with = "nullable")]
    pub audiences: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    pub description: String,
    /// A flexible credential's expression over the claims, instead of `subject`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims_matching_expression: Option<ClaimsMatchingExpression>,
}

/// `null` (as `az … list` prints absent fields) reads as the default.
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `{"value": "claims['sub'] matches '…'", "languageVersion": 1}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsMatchingExpression {
    pub value: String,
    pub language_version: u32,
}

/// The credentials to create on the app, and the alternative.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AzureTrust {
    /// One per stack in scope and operation, in that order.
    pub credentials: Vec<FederatedCredential>,
    /// One flexible credential covering the whole scope, for issuers Entra ID supports it for.
    pub flexible: FederatedCredential,
    /// One `az ad app federated-credential create` per credential, then the flexible one's.
    pub commands: Vec<Command>,
    pub notes: Vec<Note>,
}

/// The credentials that let `target`'s tokens sign in as the app `settings.client_id`.
pub fn generate(target: &Target, settings: &AzureOidc) -> AzureTrust {
    let audience = target.audience();
    let mut notes = Vec::new();
    let client_id = if settings.client_id.trim().is_empty() {
        notes.push(Note::new(
            Level::Error,
            "The Client ID is empty: the commands use `<client-id>` until it is set",
        ));
        "<client-id>"
    } else {
        settings.client_id.trim()
    };
    let subjects = target.subjects();
    let credentials: Vec<FederatedCredential> = subjects
        .iter()
        .enumerate()
        .map(|(index, (stack, op, subject))| FederatedCredential {
            name: credential_name(&[&stack.project, &stack.stack, op.as_str()], index),
            issuer: target.issuer.clone(),
            subject: subject.clone(),
            audiences: vec![audience.clone()],
            description: format!("Keyless: {} deployments of {stack}", op.as_str()),
            claims_matching_expression: None,
        })
        .collect();
    let pattern = target.subject_pattern();
    let flexible = FederatedCredential {
        name: credential_name(&[&target.stack.project, &target.stack.stack, "all"], 0),
        issuer: target.issuer.clone(),
        subject: String::new(),
        audiences: vec![audience.clone()],
        description: format!("Keyless: deployments matching {pattern}"),
        claims_matching_expression: Some(ClaimsMatchingExpression {
            value: format!("claims['sub'] matches '{pattern}'"),
            language_version: 1,
        }),
    };
    let mut commands: Vec<Command> = credentials
        .iter()
        .map(|credential| {
            shell::command(
                format!("Trust `{}`", credential.subject),
                "az ad app federated-credential create",
                &["--id", client_id, "--parameters", &to_json(credential)],
            )
        })
        .collect();
    commands.push(shell::command(
        "Or, where Entra ID supports flexible credentials for this issuer, one for the whole scope",
        "az rest",
        &[
            "--method",
            "post",
            "--uri",
            &format!(
                "https://graph.microsoft.com/beta/applications(appId='{client_id}')/federatedIdentityCredentials"
            ),
            "--body",
            &to_json(&flexible),
        ],
    ));
    count_notes(target, credentials.len(), &mut notes);
    if !target.issuer.starts_with("https://") {
        notes.push(Note::new(
            Level::Error,
            format!(
                "Entra ID fetches keys only from https:// issuers, and the issuer is `{}`",
                target.issuer
            ),
        ));
    }
    notes.push(Note::new(
        Level::Info,
        format!(
            "The audience is `{audience}`, not Azure's suggested `api://AzureADTokenExchange`: \
             Keyless tokens carry the organization name in lowercase"
        ),
    ));
    notes.push(Note::new(
        Level::Info,
        format!(
            "Flexible federated identity credentials (preview) take the expression \
             `claims['sub'] matches '{pattern}'` instead of a subject, covering the scope in one \
             credential, but Entra ID accepts them only for some issuers; the classic credentials \
             work with any"
        ),
    ));
    AzureTrust {
        credentials,
        flexible,
        commands,
        notes,
    }
}

/// Says how many credentials the scope takes, and warns near and past the app's limit.
fn count_notes(target: &Target, count: usize, notes: &mut Vec<Note>) {
    let (stacks, operations) = (
        target.stacks_in_scope().len(),
        target.operations_in_scope().len(),
    );
    notes.push(Note::new(
        Level::Info,
        format!(
            "Entra ID matches the subject exactly, so each operation of each stack needs its own \
             credential: {count} here ({stacks} stack(s) × {operations} operation(s))"
        ),
    ));
    if matches!(target.scope, Scope::Project | Scope::Org) {
        notes.push(Note::new(
            Level::Info,
            format!(
                "The scope covers only the stacks listed: each stack added later needs \
                 {operations} more credentials"
            ),
        ));
    }
    if count > MAX_CREDENTIALS {
        notes.push(Note::new(
            Level::Error,
            format!(
                "{count} credentials exceed the {MAX_CREDENTIALS} an app allows: narrow the \
                 scope, spread the stacks over several apps, or use one flexible credential"
            ),
        ));
    } else if count >= WARN_AT {
        notes.push(Note::new(
            Level::Warning,
            format!(
                "{count} of the {MAX_CREDENTIALS} federated credentials an app allows, counting \
                 none it has already: the next stacks will not fit"
            ),
        ));
    }
}

/// `keyless-<parts>` with what Entra ID rejects replaced by `-`; over-long names are cut and
/// numbered so they stay unique.
fn credential_name(parts: &[&str], index: usize) -> String {
    let name: String = std::iter::once("keyless")
        .chain(parts.iter().copied())
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.len() <= MAX_NAME {
        return name;
    }
    let suffix = format!("-{}", index + 1);
    format!("{}{suffix}", &name[..MAX_NAME - suffix.len()])
}

fn to_json(credential: &FederatedCredential) -> String {
    serde_json::to_string(credential).unwrap_or_default()
}

/// Finds the credential that admits the token, or explains why none does: the credential
/// with the token's subject but another issuer or audience, a subject that differs in case or
/// holds a wildcard, an operation the app has no subject for, or the closest other subject.
pub fn explain(
    claims: &Claims,
    now: u64,
    credentials: &[FederatedCredential],
) -> Result<Verdict, ExplainError> {
    if let Some(expired) = check_time(claims, now) {
        return Ok(expired);
    }
    let sub = claims.sub();
    let mut same_subject = Vec::new();
    for credential in credentials {
        if subject_matches(credential, sub)? {
            if credential.issuer == claims.iss() && audience(credential, claims).is_ok() {
                return Ok(Verdict::Accepted {
                    matched: format!(
                        "federated credential `{}` ({})",
                        credential.name,
                        matcher(credential)
                    ),
                });
            }
            same_subject.push(credential);
        }
    }
    if credentials.is_empty() {
        return Ok(Verdict::rejected(
            "federated credentials",
            "the app has no federated credentials",
            "Create the generated credentials on the app",
        ));
    }
    if let Some(credential) = same_subject.first() {
        let name = &credential.name;
        if let Some(difference) = issuer_difference(&credential.issuer, claims.iss()) {
            return Ok(Verdict::rejected(
                format!("issuer of `{name}`"),
                format!("credential `{name}` has the token's subject, but {difference}"),
                format!("Set the credential's issuer to `{}` exactly", claims.iss()),
            ));
        }
        if let Err((reason, hint)) = audience(credential, claims) {
            return Ok(Verdict::rejected(
                format!("audiences of `{name}`"),
                reason,
                hint,
            ));
        }
    }
    Ok(subject_miss(sub, credentials))
}

/// Why no credential has `sub`: case, wildcard, missing operation or another stack.
fn subject_miss(sub: &str, credentials: &[FederatedCredential]) -> Verdict {
    let classic = || credentials.iter().filter(|c| !c.subject.is_empty());
    let add = format!("Add a credential with subject `{sub}` (the generator lists it)");
    if let Some(c) = classic().find(|c| c.subject.eq_ignore_ascii_case(sub)) {
        return Verdict::rejected(
            "subject",
            format!(
                "credential `{}` has subject `{}`, tokens carry `{sub}` — Entra ID compares \
                 subjects case-sensitively, and `sub` keeps the organization name as spelled",
                c.name, c.subject
            ),
            format!("Set the subject to `{sub}`"),
        );
    }
    if let Some(c) =
        classic().find(|c| c.subject.contains(['*', '?']) && string_like(&c.subject, sub))
    {
        return Verdict::rejected(
            "subject",
            format!(
                "credential `{}` has subject `{}`, but classic federated credentials compare the \
                 subject exactly: `*` is a literal character there, not a wildcard",
                c.name, c.subject
            ),
            format!(
                "Create one credential per operation (the generator lists them), or a flexible \
                 credential with `claims['sub'] matches '{}'` where Entra ID supports it",
                c.subject
            ),
        );
    }
    if let Some((stack, operation)) = stack_and_operation(sub) {
        let covered: Vec<&str> = classic()
            .filter_map(|c| stack_and_operation(&c.subject))
            .filter(|(s, _)| *s == stack)
            .map(|(_, op)| op)
            .collect();
        if !covered.is_empty() {
            return Verdict::rejected(
                "subject",
                format!(
                    "no federated credential has the subject for `{operation}`: the app has \
                     subjects for {} of {stack}, not `{sub}`",
                    covered.join(", ")
                ),
                add,
            );
        }
    }
    // The most alike: most parts in common, then the longest common prefix, then the first.
    let closest = classic().rev().max_by_key(|c| {
        (
            shared_parts(&c.subject, sub),
            common_prefix(&c.subject, sub),
        )
    });
    let reason = match closest {
        Some(c) => {
            let how = describe_difference(&c.subject, sub, |a, b| a == b)
                .unwrap_or_else(|| format!("has subject `{}`", c.subject));
            format!(
                "no federated credential has subject `{sub}`; the closest, `{}`, {how}",
                c.name
            )
        }
        None => format!("no federated credential has subject `{sub}`"),
    };
    Verdict::rejected("subject", reason, add)
}

/// Whether the credential lists one of the token's audiences, or why not.
fn audience(credential: &FederatedCredential, claims: &Claims) -> Result<(), (String, String)> {
    let aud = claims.aud();
    if credential.audiences.iter().any(|a| aud.contains(a)) {
        return Ok(());
    }
    let listed = credential.audiences.join("`, `");
    let token = aud.join("`, `");
    let case = credential
        .audiences
        .iter()
        .any(|a| aud.iter().any(|t| t.eq_ignore_ascii_case(a)));
    let reason = if case {
        format!(
            "credential `{}` expects audience `{listed}`, tokens carry `{token}` — Entra ID \
             compares audiences case-sensitively",
            credential.name
        )
    } else {
        format!(
            "credential `{}` expects audience `{listed}`, tokens carry `{token}`",
            credential.name
        )
    };
    Err((
        reason,
        format!("Set the audience to `{token}`: the organization name in lowercase"),
    ))
}

/// Classic: the subject exactly. Flexible: `claims['sub'] matches '<pattern>'` (`*` and `?`
/// wildcards) or `claims['sub'] eq '<value>'`; other expressions are not guessed at.
fn subject_matches(credential: &FederatedCredential, sub: &str) -> Result<bool, ExplainError> {
    let Some(expression) = &credential.claims_matching_expression else {
        return Ok(credential.subject == sub);
    };
    let unsupported = || {
        ExplainError::unsupported(
            "federated credentials",
            format!(
                "credential `{}` has the expression `{}`; the explainer reads only \
                 `claims['sub'] matches '…'` and `claims['sub'] eq '…'`",
                credential.name, expression.value
            ),
        )
    };
    let rest = expression
        .value
        .trim()
        .strip_prefix("claims['sub']")
        .ok_or_else(unsupported)?
        .trim_start();
    let (like, rest) = if let Some(rest) = rest.strip_prefix("matches ") {
        (true, rest)
    } else {
        (false, rest.strip_prefix("eq ").ok_or_else(unsupported)?)
    };
    let value = rest
        .trim()
        .strip_prefix('\'')
        .and_then(|r| r.strip_suffix('\''))
        .filter(|v| !v.contains('\''))
        .ok_or_else(unsupported)?;
    Ok(if like {
        string_like(value, sub)
    } else {
        value == sub
    })
}

/// `subject `…`` or `expression `…``, for messages.
fn matcher(credential: &FederatedCredential) -> String {
    match &credential.claims_matching_expression {
        Some(expression) => format!("expression `{}`", expression.value),
        None => format!("subject `{}`", credential.subject),
    }
}

fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_for_entra_id() {
        assert_eq!(
            credential_name(&["web.site", "prod", "destroy"], 0),
            "keyless-web-site-prod-destroy"
        );
        let long = "s".repeat(200);
        let (a, b) = (
            credential_name(&["p", &long, "update"], 0),
            credential_name(&["p", &long, "preview"], 1),
        );
        assert_eq!((a.len(), b.len()), (MAX_NAME, MAX_NAME));
        assert!(a.ends_with("-1") && b.ends_with("-2"));
    }
}
