//! Secret values on the wire: written as `{"secret":"v"}`, read back as
//! `{"secret":"[secret]","ciphertext":"…"}`, never in plaintext.

use serde::{Deserialize, Serialize};

/// What the API returns in place of a secret's plaintext.
pub const REDACTED: &str = "[secret]";

/// A secret value as the API carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecretValue {
    /// The plaintext on input; [`REDACTED`] on output.
    pub secret: String,
    /// The encrypted value (base64), opaque to clients. Sent back unchanged to keep a secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciphertext: Option<String>,
}

impl SecretValue {
    /// A new secret to be encrypted by the server.
    pub fn new(plaintext: impl Into<String>) -> Self {
        Self {
            secret: plaintext.into(),
            ciphertext: None,
        }
    }

    /// Whether this is a stored secret echoed back as read (redacted, with its ciphertext).
    pub fn is_stored(&self) -> bool {
        self.secret == REDACTED && self.ciphertext.is_some()
    }
}

/// An environment variable's value: plain text, or a secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EnvValue {
    Plain(String),
    Secret(SecretValue),
}
