//! Validation findings and API errors mapped onto the panel's fields.

use keyless_api_types::{ApiError, ErrorType, FieldError};

use super::{Field, NO_REPO_URL};

/// Messages for the panel: one per field it shows, and the rest for a summary.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors {
    /// Messages shown under their field, e.g. "Tenant ID must be a GUID like …".
    pub fields: FieldMessages,
    /// Messages about things the panel does not show.
    pub other: Vec<String>,
}

/// One message per field, in the order the panel shows the fields (the order of [`Field`]'s
/// variants). A list kept in order, as a panel has a handful: a `BTreeMap` of them cost
/// Settings → Deploy kilobytes of wasm.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldMessages(Vec<(Field, String)>);

impl FieldMessages {
    fn find(&self, field: Field) -> Result<usize, usize> {
        let at = self.0.partition_point(|(f, _)| *f < field);
        match self.0.get(at) {
            Some((f, _)) if *f == field => Ok(at),
            _ => Err(at),
        }
    }

    pub fn get(&self, field: Field) -> Option<&str> {
        let at = self.find(field).ok()?;
        Some(&self.0[at].1)
    }

    /// Sets `field`'s message, replacing the one it had.
    pub fn insert(&mut self, field: Field, message: String) {
        match self.find(field) {
            Ok(at) => self.0[at].1 = message,
            Err(at) => self.0.insert(at, (field, message)),
        }
    }

    /// Sets `field`'s message unless it has one.
    fn insert_first(&mut self, field: Field, message: impl FnOnce() -> String) {
        if let Err(at) = self.find(field) {
            self.0.insert(at, (field, message()));
        }
    }

    pub fn remove(&mut self, field: Field) {
        if let Ok(at) = self.find(field) {
            self.0.remove(at);
        }
    }

    pub fn retain(&mut self, keep: impl FnMut(&(Field, String)) -> bool) {
        self.0.retain(keep);
    }

    /// Adds `other`'s messages, which replace those of the same fields.
    pub fn extend(&mut self, other: FieldMessages) {
        for (field, message) in other.0 {
            self.insert(field, message);
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().map(|(field, _)| *field)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for FieldMessages {
    type Item = (Field, String);
    type IntoIter = std::vec::IntoIter<(Field, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl FieldErrors {
    /// The message for one field.
    pub fn get(&self, field: Field) -> Option<&str> {
        self.fields.get(field)
    }

    /// The first field with a problem, in the order the panel shows them (the order of
    /// [`Field`]'s variants).
    pub fn first_field(&self) -> Option<Field> {
        self.fields.keys().next()
    }

    pub(super) fn push(&mut self, attribute: &str, message: &str) {
        // A source without a URL cannot take the branch the panel sets; what else is wrong
        // with the URL (which the panel does not show) goes to the summary.
        if attribute == "sourceContext.git.repoUrl"
            && message == default_message(ErrorType::Required)
        {
            self.fields
                .insert_first(Field::Branch, || NO_REPO_URL.to_owned());
            return;
        }
        match Field::from_attribute(attribute) {
            Some(field) => {
                self.fields
                    .insert_first(field, || sentence(&field.label(), message));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_stay_in_the_panels_order_one_per_field() {
        let mut messages = FieldMessages::default();
        messages.insert(Field::GitHubRepository, "repository".into());
        messages.insert(Field::AwsPolicyArn(2), "third ARN".into());
        messages.insert(Field::AgentPool, "pool".into());
        messages.insert(Field::AwsPolicyArn(0), "first ARN".into());
        messages.insert_first(Field::AgentPool, || unreachable!("the field has a message"));
        messages.insert_first(Field::AzureTenantId, || "tenant".into());
        let order = [
            Field::AgentPool,
            Field::AwsPolicyArn(0),
            Field::AwsPolicyArn(2),
            Field::AzureTenantId,
            Field::GitHubRepository,
        ];
        let mut sorted = order;
        sorted.sort();
        assert_eq!(order, sorted, "the variants' order");
        assert_eq!(messages.keys().collect::<Vec<_>>(), order);
        assert_eq!(messages.get(Field::AgentPool), Some("pool"));
        assert_eq!(messages.get(Field::Branch), None);

        let mut later = FieldMessages::default();
        later.insert(Field::AgentPool, "pool, again".into());
        later.insert(Field::Branch, "branch".into());
        messages.extend(later);
        messages.remove(Field::AwsPolicyArn(0));
        messages.remove(Field::AwsRoleArn);
        messages.retain(|(field, _)| *field != Field::AzureTenantId);
        let left: Vec<(Field, String)> = messages.into_iter().collect();
        let expected = [
            (Field::AgentPool, "pool, again"),
            (Field::AwsPolicyArn(2), "third ARN"),
            (Field::GitHubRepository, "repository"),
            (Field::Branch, "branch"),
        ];
        assert_eq!(
            left,
            expected.map(|(field, message)| (field, message.to_owned()))
        );
    }
}
