//! The one error type of the crate.

/// Why a key, a key ring, a set of claims or a token could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Generating, encoding, decoding or using an RSA key failed.
    #[error("RSA signing key: {0}")]
    Key(String),
    /// The caller's [`Sealer`](crate::Sealer) could not seal a private key.
    #[error("cannot seal the signing key {kid}")]
    Seal {
        kid: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The caller's [`Sealer`](crate::Sealer) could not open a sealed private key.
    #[error("cannot open the sealed signing key {kid}")]
    Open {
        kid: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A stored key id is not the thumbprint of the stored key: the file was altered or mixed up.
    #[error("the stored key id {stored} does not match its key (thumbprint {actual})")]
    KidMismatch { stored: String, actual: String },
    /// The persisted key ring is not JSON of the expected shape.
    #[error("the key ring is not valid: {0}")]
    KeyRingFormat(#[source] serde_json::Error),
    /// JSON encoding failed.
    #[error("cannot encode JSON: {0}")]
    Encode(#[source] serde_json::Error),
    /// The issuer URL is unusable as an `iss` claim.
    #[error("the issuer must be an http(s) URL without a trailing slash, query or fragment: {0:?}")]
    InvalidIssuer(String),
    /// A name that goes into the colon-separated `sub` claim is empty or has other characters.
    #[error("{claim} must be 1-256 ASCII letters, digits, '-', '_' or '.', got {value:?}")]
    InvalidClaim { claim: &'static str, value: String },
    /// The requested token lifetime is zero or above [`MAX_TOKEN_LIFETIME`](crate::MAX_TOKEN_LIFETIME).
    #[error("a token lifetime must be between 1 and {max} seconds, got {requested}")]
    Lifetime { requested: u64, max: u64 },
    /// The issue time plus the lifetime does not fit in a `u64`.
    #[error("the token's expiry overflows")]
    ExpiryOverflow,
    /// The text is not a compact JWS with JSON-object header and claims.
    #[error("not a JWT: {0}")]
    MalformedToken(&'static str),
}
