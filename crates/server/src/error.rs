//! The one error type of request handlers. Its response is the API's error body
//! ([`ApiError`]); internal errors are logged and answered with a generic message.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use keyless_api_types::{ApiError, ErrorDetail, ErrorType};

use crate::crypto::CryptoError;
use crate::store::StoreError;

/// What can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("missing or invalid access token")]
    Unauthorized,
    #[error("forbidden: {message}")]
    Forbidden {
        message: String,
        errors: Vec<ErrorDetail>,
    },
    #[error("not found: {0}")]
    NotFound(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: the request contradicts what is stored (a name taken, a resource in use).
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("bad request: {message}")]
    BadRequest {
        message: String,
        errors: Vec<ErrorDetail>,
    },
    #[error("request body too large")]
    PayloadTooLarge,
    /// 429 with `Retry-After: retry_after` (seconds).
    #[error("too many requests: {message}")]
    TooManyRequests { message: String, retry_after: u64 },
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Shorthand for handler results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A 400 without field details.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::BadRequest {
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// A 400 naming the one request field (`attribute`, of a `resource`) that is invalid;
    /// the message reads "{attribute} {message}".
    pub fn invalid_field(resource: &str, attribute: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::BadRequest {
            message: format!("{attribute} {message}"),
            errors: vec![ErrorDetail {
                resource: resource.into(),
                attribute: attribute.into(),
                error_type: ErrorType::Invalid,
                custom_message: message,
            }],
        }
    }

    /// The 403 of an action only the organization's admins may take.
    pub fn admins_only(org: &str) -> Self {
        Self::Forbidden {
            message: format!("Only admins of organization '{org}' may do this"),
            errors: Vec::new(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Store(StoreError::Conflict) => StatusCode::CONFLICT,
            Self::Internal(_) | Self::Store(_) | Self::Crypto(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Self::TooManyRequests { retry_after, .. } => Some(retry_after.to_string()),
            _ => None,
        };
        let (message, errors) = match self {
            Self::Unauthorized => (
                "Unauthorized: No credentials provided or are invalid.".to_owned(),
                Vec::new(),
            ),
            Self::NotFound(message) | Self::Conflict(message) => (message, Vec::new()),
            Self::MethodNotAllowed => ("Method not allowed".to_owned(), Vec::new()),
            Self::BadRequest { message, errors } | Self::Forbidden { message, errors } => {
                (message, errors)
            }
            Self::PayloadTooLarge => ("Request body too large".to_owned(), Vec::new()),
            Self::TooManyRequests { message, .. } => (message, Vec::new()),
            Self::Store(StoreError::Conflict) => (
                "The resource was changed by another request; reload and try again".to_owned(),
                Vec::new(),
            ),
            internal @ (Self::Internal(_) | Self::Store(_) | Self::Crypto(_)) => {
                tracing::error!(error = %internal, "internal error");
                ("Internal server error".to_owned(), Vec::new())
            }
        };
        let body = ApiError {
            code: status.as_u16(),
            message,
            errors,
        };
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = retry_after.and_then(|s| HeaderValue::from_str(&s).ok()) {
            response.headers_mut().insert(RETRY_AFTER, seconds);
        }
        response
    }
}
