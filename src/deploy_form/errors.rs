//! Validation findings and API errors mapped onto the panel's fields.

use std::collections::BTreeMap;

use keyless_api_types::{ApiError, ErrorType, FieldError};

use super::{Field, NO_REPO_URL};

/// Messages for the panel: one per field it shows, and the rest for a summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors {
    /// Messages shown under their field, e.g. "Tenant ID must be a GUID like …".
    pub fields: BTreeMap<Field, String>,
    /// Messages about things the panel does not show.
    pub other: Vec<String>,
}

impl FieldErrors {
    /// The message for one field.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields.get(&field).map(String::as_str)
    }

    /// The first field with a problem, in the order the panel shows them (the order of
    /// [`Field`]'s variants).
    pub fn first_field(&self) -> Option<Field> {
        self.fields.keys().next().copied()
    }

    pub(super) fn push(&mut self, attribute: &str, message: &str) {
        if attribute == "sourceContext.git.repoUrl" {
            self.fields
                .entry(Field::Branch)
                .or_insert_with(|| NO_REPO_URL.to_owned());
            return;
        }
        match Field::from_attribute(attribute) {
            Some(field) => {
                self.fields
                    .entry(field)
                    .or_insert_with(|| sentence(&field.label(), message));
            }
            None => self.other.push(sentence(attribute, message)),
        }
    }

    /// Maps the shared validators' findings.
    pub fn from_validation(errors: &[FieldError]) -> Self {
        let mut out = Self::default();
        for error in errors {
            out.push(&error.attribute, &error.message);
        }
        out
    }

    /// Maps an API error: field details land on their field; details about fields the panel
    /// does not show, or the error's message when there are no details, go to the summary.
    pub fn from_api(error: &ApiError) -> Self {
        let mut out = Self::default();
        for detail in &error.errors {
            let message = if detail.custom_message.is_empty() {
                default_message(detail.error_type)
            } else {
                detail.custom_message.as_str()
            };
            out.push(&detail.attribute, message);
        }
        if error.errors.is_empty() {
            out.other.push(error.message.clone());
        }
        out
    }
}

pub(super) fn default_message(kind: ErrorType) -> &'static str {
    match kind {
        ErrorType::Required => "is required",
        ErrorType::NotFound => "was not found",
        ErrorType::AlreadyExists => "already exists",
        ErrorType::Invalid | ErrorType::Custom => "is not valid",
    }
}

/// Joins a subject and a validator's message ("is required") into a sentence; messages that
/// are already sentences are kept as they are.
fn sentence(subject: &str, message: &str) -> String {
    if message.starts_with(|c: char| c.is_lowercase()) {
        format!("{subject} {message}")
    } else {
        message.to_owned()
    }
}
