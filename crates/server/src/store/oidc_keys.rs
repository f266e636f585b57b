//! The OIDC signing key ring in the store: one document (private keys sealed), versioned so
//! that servers sharing the store notice a rotation and two rotations never overwrite each
//! other.

use async_trait::async_trait;

use super::StoreError;

/// The stored ring and its version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredKeyRing {
    /// `keyless_oidc::KeyRing` as JSON, private keys sealed.
    pub ring: String,
    pub version: i64,
}

#[async_trait]
pub trait OidcKeyStore: Send + Sync {
    async fn key_ring(&self) -> Result<Option<StoredKeyRing>, StoreError>;
    /// The stored ring's version, to tell whether a copy is current.
    async fn key_ring_version(&self) -> Result<Option<i64>, StoreError>;
    /// Stores `ring` as the next version after `read` (`None`: there was none); returns the
    /// new version, or [`StoreError::Conflict`] when another write came first.
    async fn save_key_ring(&self, ring: &str, read: Option<i64>) -> Result<i64, StoreError>;
}
