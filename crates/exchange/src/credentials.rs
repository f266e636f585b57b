//! What an exchange gives the deployment: environment variables, with the secret ones marked.

use std::fmt;

use keyless_api_types::Cloud;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A value that must never be logged; `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for handing to the deployment's process.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// An environment variable's value, marked secret when it must be redacted from logs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SecretOrPlain {
    Plain(String),
    Secret(Secret),
}

impl SecretOrPlain {
    /// The value itself.
    pub fn expose(&self) -> &str {
        match self {
            SecretOrPlain::Plain(value) => value,
            SecretOrPlain::Secret(secret) => secret.expose(),
        }
    }

    /// Whether the value must be redacted from logs.
    pub fn is_secret(&self) -> bool {
        matches!(self, SecretOrPlain::Secret(_))
    }
}

/// Short-lived credentials for one cloud. `Debug` and `Display` never show secret values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub cloud: Cloud,
    /// Who the deployment acts as: an assumed-role ARN, an Azure app in a tenant, or a
    /// service account email.
    pub identity: String,
    /// When the credentials stop working, in seconds since the Unix epoch.
    pub expires_at: i64,
    /// Environment variables for the deployment, in the order they should be set.
    pub env: Vec<(String, SecretOrPlain)>,
    /// Facts worth a line in the step's log (subject, audience, provider, request id…); never secret.
    pub details: Vec<(String, String)>,
}

impl Credentials {
    /// The value of environment variable `name`, if these credentials set it.
    pub fn env_var(&self, name: &str) -> Option<&SecretOrPlain> {
        self.env.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// Every secret value, for the log redactor.
    pub fn secret_values(&self) -> impl Iterator<Item = &str> {
        self.env
            .iter()
            .filter(|(_, v)| v.is_secret())
            .map(|(_, v)| v.expose())
    }

    /// [`Self::expires_at`] as RFC 3339, e.g. `2026-01-02T03:04:05Z`.
    pub fn expires_at_rfc3339(&self) -> String {
        rfc3339(self.expires_at)
    }

    /// Seconds left until expiry, counted from now (negative once expired).
    pub fn seconds_left(&self) -> i64 {
        self.expires_at - now()
    }
}

impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.env.iter().map(|(n, _)| n.as_str()).collect();
        write!(
            f,
            "{} credentials for {}, valid until {} (sets {})",
            self.cloud,
            self.identity,
            self.expires_at_rfc3339(),
            names.join(", ")
        )
    }
}

/// A plain environment variable.
pub(crate) fn plain(name: &str, value: impl Into<String>) -> (String, SecretOrPlain) {
    (name.to_owned(), SecretOrPlain::Plain(value.into()))
}

/// A secret environment variable.
pub(crate) fn secret(name: &str, value: impl Into<String>) -> (String, SecretOrPlain) {
    (name.to_owned(), SecretOrPlain::Secret(Secret::new(value)))
}

/// Now, in seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// Seconds since the Unix epoch as RFC 3339 (UTC).
pub(crate) fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| unix.to_string())
}

/// Parses an RFC 3339 timestamp (`2026-01-02T03:04:05Z`, fractions allowed) to Unix seconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    OffsetDateTime::parse(text.trim(), &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips_and_accepts_fractions() {
        assert_eq!(parse_rfc3339("2014-10-24T23:00:23Z"), Some(1_414_191_623));
        assert_eq!(
            parse_rfc3339("2014-10-24T23:00:23.123456Z"),
            Some(1_414_191_623)
        );
        assert_eq!(rfc3339(1_414_191_623), "2014-10-24T23:00:23Z");
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
