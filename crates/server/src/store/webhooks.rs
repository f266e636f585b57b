//! What the store keeps for GitHub push-to-deploy: each organization's webhook secret and the
//! log of deliveries.

use async_trait::async_trait;
use keyless_api_types::{DeliveryOutcome, GitHubDelivery};

use super::{StackRecord, StoreError, StoredSettings};

/// An organization's webhook secret, sealed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookSecret {
    pub ciphertext: String,
    /// The admin who made it: deployments it starts are requested by them.
    pub created_by: String,
    pub created: String,
}

/// A delivery to log.
#[derive(Clone, Debug)]
pub struct NewDelivery<'a> {
    pub org: &'a str,
    pub delivery_id: &'a str,
    pub event: &'a str,
    pub received: &'a str,
    pub outcome: DeliveryOutcome,
    pub message: &'a str,
}

/// Webhook secrets and deliveries in the store.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Sets (or replaces) the organization's secret.
    async fn set_webhook_secret(&self, org: &str, secret: &WebhookSecret)
    -> Result<(), StoreError>;
    async fn webhook_secret(&self, org: &str) -> Result<Option<WebhookSecret>, StoreError>;
    /// Logs a delivery and returns its row; [`StoreError::Conflict`] when a verified delivery
    /// with the same id is already logged (`pending`, `started` and `ignored` ones claim it).
    /// Only the newest deliveries of an organization are kept.
    async fn add_delivery(&self, new: NewDelivery<'_>) -> Result<i64, StoreError>;
    /// Records how a `pending` delivery ended.
    async fn finish_delivery(
        &self,
        row: i64,
        outcome: DeliveryOutcome,
        message: &str,
        deployment_ids: &[String],
    ) -> Result<(), StoreError>;
    /// The organization's newest `limit` deliveries, newest first.
    async fn deliveries(&self, org: &str, limit: u32) -> Result<Vec<GitHubDelivery>, StoreError>;
    /// Every stack of the organization that has deployment settings, with them.
    async fn stacks_with_settings(
        &self,
        org: &str,
    ) -> Result<Vec<(StackRecord, StoredSettings)>, StoreError>;
}
