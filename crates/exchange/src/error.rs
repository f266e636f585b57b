//! One error type for every exchange, with a plain-words explanation of what to fix.

use std::fmt;

use crate::endpoints::Endpoint;
use keyless_api_types::Cloud;

/// Why an exchange failed. Neither `Display`, `Debug` nor [`ExchangeError::explain`] ever
/// contains the OIDC token or a credential.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    /// A deployment setting cannot be used as given; nothing was sent.
    #[error("{cloud} setting {field}: {problem}")]
    InvalidSetting {
        cloud: Cloud,
        field: &'static str,
        problem: String,
    },
    /// The endpoint could not be reached: connection refused, name not resolved, TLS failure
    /// or no answer in time.
    #[error("could not reach {endpoint} at {url}: {reason}")]
    Unreachable {
        endpoint: Endpoint,
        url: String,
        reason: String,
    },
    /// The cloud answered with one of its errors.
    #[error("{0}")]
    Rejected(Rejection),
    /// The cloud answered something that is neither its documented success nor its error.
    #[error("{endpoint} answered HTTP {status} with {problem}")]
    BadResponse {
        endpoint: Endpoint,
        status: u16,
        problem: String,
    },
    /// The HTTP client could not be set up (TLS backend).
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
}

/// A cloud's own error, as it sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub endpoint: Endpoint,
    /// The HTTP status.
    pub status: u16,
    /// The cloud's most specific code: `AccessDenied`, `AADSTS70021`, `invalid_grant`, `PERMISSION_DENIED`…
    pub code: String,
    /// The cloud's message (for Azure, without the trailing trace lines).
    pub message: String,
    /// What to quote to the cloud's support: a request id, or Azure's trace and correlation ids.
    pub request_id: Option<String>,
    pub(crate) explanation: String,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} refused (HTTP {}): {}: {}",
            self.endpoint, self.status, self.code, self.message
        )?;
        if let Some(id) = &self.request_id {
            write!(f, " ({id})")?;
        }
        Ok(())
    }
}

impl ExchangeError {
    /// The cloud this error came from, when it came from one.
    pub fn cloud(&self) -> Option<Cloud> {
        let endpoint = match self {
            ExchangeError::InvalidSetting { cloud, .. } => return Some(*cloud),
            ExchangeError::Client(_) => return None,
            ExchangeError::Unreachable { endpoint, .. }
            | ExchangeError::BadResponse { endpoint, .. } => endpoint,
            ExchangeError::Rejected(rejection) => &rejection.endpoint,
        };
        Some(match endpoint {
            Endpoint::AwsSts => Cloud::Aws,
            Endpoint::AzureToken => Cloud::Azure,
            Endpoint::GcpSts | Endpoint::GcpIamCredentials => Cloud::Gcp,
        })
    }

    /// The cloud's error code, when the cloud sent one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ExchangeError::Rejected(rejection) => Some(&rejection.code),
            _ => None,
        }
    }

    /// What went wrong and what to change, in plain words.
    pub fn explain(&self) -> String {
        match self {
            ExchangeError::InvalidSetting { cloud, field, .. } => format!(
                "Fix {field} in the stack's Settings → Deploy → OpenID Connect → {cloud} section; \
                 nothing was sent to {cloud}."
            ),
            ExchangeError::Unreachable { endpoint, url, .. } => format!(
                "The Keyless server could not talk to {endpoint} at {url}. Check that the server \
                 can reach it (DNS, firewall, outbound proxy), or point Keyless at another URL \
                 with the server's {} flag or {} environment variable (default {}).",
                endpoint.flag(),
                endpoint.env_var(),
                endpoint.default_url()
            ),
            ExchangeError::Rejected(rejection) => rejection.explanation.clone(),
            ExchangeError::BadResponse { endpoint, .. } => format!(
                "The server at the configured {endpoint} URL does not speak {endpoint}'s protocol. \
                 Check the server's {} flag or {} environment variable (default {}); a proxy or \
                 captive portal in between can cause this too.",
                endpoint.flag(),
                endpoint.env_var(),
                endpoint.default_url()
            ),
            ExchangeError::Client(_) => {
                "The Keyless server's TLS setup failed; this is a bug or a broken install.".into()
            }
        }
    }
}

/// Builds a [`Rejection`], removing the token from anything the cloud echoed.
pub(crate) fn rejected(
    endpoint: Endpoint,
    status: u16,
    code: &str,
    message: &str,
    request_id: Option<String>,
    token: &str,
    explanation: String,
) -> ExchangeError {
    let scrub = |text: &str| {
        if token.is_empty() {
            text.to_owned()
        } else {
            text.replace(token, "[token]")
        }
    };
    ExchangeError::Rejected(Rejection {
        endpoint,
        status,
        code: scrub(code.trim()),
        message: scrub(message.trim()),
        request_id,
        explanation: scrub(&explanation),
    })
}
