//! The API's error body: `{"code":400,"message":"…","errors":[…]}`.

use serde::{Deserialize, Serialize};

/// Error body returned by every failing API call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// The HTTP status code, repeated in the body.
    pub code: u16,
    /// A human-readable summary, safe to show to users.
    pub message: String,
    /// Per-field details; empty when the error is not about a field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ErrorDetail>,
}

/// One field-level problem inside an [`ApiError`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    /// The kind of resource, e.g. `DeploymentSettings`.
    #[serde(default)]
    pub resource: String,
    /// The offending field as a dotted path, e.g. `operationContext.oidc.azure.tenantId`;
    /// empty when the problem is not about one field (Pulumi may omit it).
    #[serde(default)]
    pub attribute: String,
    /// What is wrong with it.
    #[serde(default)]
    pub error_type: ErrorType,
    /// The message to show next to the field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub custom_message: String,
}

/// The error categories of the API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorType {
    NotFound,
    Required,
    Invalid,
    AlreadyExists,
    /// Also what an absent or unknown category reads as: the detail's message says it all.
    #[default]
    #[serde(other)]
    Custom,
}

impl ApiError {
    /// An error without field details.
    pub fn new(code: u16, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// The message for `attribute`, when the error names that field.
    pub fn message_for(&self, attribute: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|e| e.attribute == attribute)
            .map(|e| e.custom_message.as_str())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}
