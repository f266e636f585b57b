//! What `keyless-trust` tells people, on the wire: the scope trust is generated for, notes on
//! generated trust configuration, the commands that create it, and the explainer's verdicts. Defined here so the server and the
//! console read the same types; the policy documents themselves stay JSON for display.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{PulumiOperation, StackRef};

/// How widely a cloud identity is shared, narrowest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", content = "operation")]
pub enum Scope {
    /// One operation of this stack, e.g. only `preview` gets a read-only role.
    StackOperation(PulumiOperation),
    /// Every operation of this stack.
    Stack,
    /// Every stack of this stack's project.
    Project,
    /// Every stack of the organization.
    Org,
}

impl Scope {
    /// The scope without its operation.
    pub fn kind(self) -> ScopeKind {
        match self {
            Self::StackOperation(_) => ScopeKind::StackOperation,
            Self::Stack => ScopeKind::Stack,
            Self::Project => ScopeKind::Project,
            Self::Org => ScopeKind::Org,
        }
    }

    /// The operation it is narrowed to, if any.
    pub fn operation(self) -> Option<PulumiOperation> {
        match self {
            Self::StackOperation(operation) => Some(operation),
            _ => None,
        }
    }

    /// Whether a token of `other`'s deployment running `operation` falls inside this scope
    /// around `this`.
    pub fn covers(self, this: &StackRef, other: &StackRef, operation: PulumiOperation) -> bool {
        let (org, project, stack) = (
            this.org == other.org,
            this.project == other.project,
            this.stack == other.stack,
        );
        match self {
            Self::StackOperation(op) => org && project && stack && op == operation,
            Self::Stack => org && project && stack,
            Self::Project => org && project,
            Self::Org => org,
        }
    }
}

/// A [`Scope`] without its operation: one choice of the console's scope picker, and what the
/// `scope` query parameter of `…/oidc/trust` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScopeKind {
    StackOperation,
    Stack,
    Project,
    Org,
}

impl ScopeKind {
    /// Every kind, narrowest first.
    pub const ALL: [Self; 4] = [Self::StackOperation, Self::Stack, Self::Project, Self::Org];

    /// The kind's name on the wire (`Scope`'s `kind`, the `scope` query parameter).
    pub fn key(self) -> &'static str {
        match self {
            Self::StackOperation => "stack-operation",
            Self::Stack => "stack",
            Self::Project => "project",
            Self::Org => "org",
        }
    }

    /// The kind named `key`, if any.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.key() == key)
    }

    /// The scope of this kind; `operation` counts only for [`ScopeKind::StackOperation`].
    pub fn with(self, operation: PulumiOperation) -> Scope {
        match self {
            Self::StackOperation => Scope::StackOperation(operation),
            Self::Stack => Scope::Stack,
            Self::Project => Scope::Project,
            Self::Org => Scope::Org,
        }
    }
}

/// How much a [`Note`] matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Background the admin should know.
    Info,
    /// Works, but close to a limit or easy to get wrong.
    Warning,
    /// The generated configuration will not work as it stands.
    Error,
}

impl Level {
    /// The level's name on the wire, also the console's CSS class modifier.
    pub fn name(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A remark about a generated configuration, shown beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub level: Level,
    pub text: String,
}

impl Note {
    pub fn new(level: Level, text: impl Into<String>) -> Self {
        Self {
            level,
            text: text.into(),
        }
    }
}

/// One command to copy into a terminal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    /// What it does, e.g. "Create the role".
    pub summary: String,
    /// The command line, ready to paste.
    pub line: String,
}

/// Whether a cloud would trust a token, and if not, the first condition that fails.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "camelCase")]
pub enum Verdict {
    /// Every condition holds; `matched` names what admitted the token (statement, credential,
    /// binding).
    Accepted { matched: String },
    /// `condition` names the failing check (e.g. `StringEquals keyless.example.com/oidc:aud`),
    /// `reason` says why with the exact values, `hint` what to change.
    Rejected {
        condition: String,
        reason: String,
        hint: String,
    },
}

impl Verdict {
    pub fn is_accepted(&self) -> bool {
        matches!(self, Self::Accepted { .. })
    }

    pub fn rejected(
        condition: impl Into<String>,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Rejected {
            condition: condition.into(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}

/// The pasted configuration could not be judged.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "camelCase")]
pub enum ExplainError {
    /// `input` is not in the expected shape (not JSON, missing fields).
    Malformed { input: String, detail: String },
    /// `input` uses something the explainer does not evaluate; it says so rather than guess.
    Unsupported { input: String, detail: String },
}

impl ExplainError {
    pub fn malformed(input: &str, detail: impl Into<String>) -> Self {
        Self::Malformed {
            input: input.into(),
            detail: detail.into(),
        }
    }

    pub fn unsupported(input: &str, detail: impl Into<String>) -> Self {
        Self::Unsupported {
            input: input.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for ExplainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { input, detail } => write!(f, "the {input} {detail}"),
            Self::Unsupported { input, detail } => {
                write!(f, "the {input} cannot be evaluated here: {detail}")
            }
        }
    }
}

impl std::error::Error for ExplainError {}

/// What the explainer made of pasted trust in a "Test OIDC" run: a verdict, or why it could
/// not judge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Explained {
    Verdict(Verdict),
    Unjudged(ExplainError),
}

impl From<Result<Verdict, ExplainError>> for Explained {
    fn from(result: Result<Verdict, ExplainError>) -> Self {
        match result {
            Ok(verdict) => Self::Verdict(verdict),
            Err(err) => Self::Unjudged(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn verdicts_and_errors_are_told_apart_by_their_tags() {
        let rejected: Explained = serde_json::from_value(json!({
            "verdict": "rejected", "condition": "aud", "reason": "r", "hint": "h"
        }))
        .unwrap();
        assert_eq!(
            rejected,
            Explained::Verdict(Verdict::rejected("aud", "r", "h"))
        );
        let unjudged: Explained = serde_json::from_value(json!({
            "error": "malformed", "input": "AWS trust policy", "detail": "is not JSON"
        }))
        .unwrap();
        assert_eq!(
            unjudged,
            Explained::Unjudged(ExplainError::malformed("AWS trust policy", "is not JSON"))
        );
        assert_eq!(
            serde_json::to_value(Note::new(Level::Warning, "t")).unwrap(),
            json!({"level": "warning", "text": "t"})
        );
    }
}
