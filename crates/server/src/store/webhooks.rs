//! What the store keeps for GitHub push-to-deploy: webhook secrets (an organization's, and a
//! repository's own), what each handled delivery claimed, and the log of deliveries.

use async_trait::async_trait;
use keyless_api_types::{DeliveryOutcome, GitHubDelivery};

use super::{DeploymentId, StackRecord, StoreError, StoredSettings};

/// A webhook secret, sealed.
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

/// What [`WebhookStore::claim_delivery`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Nothing claimed it before: it is logged as this row, to finish.
    New(i64),
    /// A delivery with the same id was handled before.
    SeenId,
    /// A delivery with the same body, under another id, was handled before.
    SeenBody,
}

/// Webhook secrets and deliveries in the store.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Sets (or replaces) the organization's secret.
    async fn set_webhook_secret(&self, org: &str, secret: &WebhookSecret)
    -> Result<(), StoreError>;
    async fn webhook_secret(&self, org: &str) -> Result<Option<WebhookSecret>, StoreError>;
    /// Sets (or replaces) the secret of `repository` (`owner/name`, lowercase) in `org`.
    async fn set_repository_secret(
        &self,
        org: &str,
        repository: &str,
        secret: &WebhookSecret,
    ) -> Result<(), StoreError>;
    async fn repository_secret(
        &self,
        org: &str,
        repository: &str,
    ) -> Result<Option<WebhookSecret>, StoreError>;
    /// Removes a repository's secret (its deliveries verify against the organization's
    /// again); whether there was one.
    async fn delete_repository_secret(
        &self,
        org: &str,
        repository: &str,
    ) -> Result<bool, StoreError>;
    /// Claims a verified delivery's id and body (by its SHA-256, hex) and logs it `pending`,
    /// unless a handled delivery claimed either before. Claims outlive the log: at least the
    /// newest 10,000 of an organization and every one from the last 30 days are kept, and
    /// nothing else that is logged removes them.
    async fn claim_delivery(
        &self,
        new: NewDelivery<'_>,
        body_sha256: &str,
    ) -> Result<Claim, StoreError>;
    /// Logs a delivery that started nothing because it was rejected or repeated a handled one,
    /// apart from handled ones (which it never pushes out of the log), unless `max_since` of
    /// them were logged for the organization since `since`; whether it was logged.
    async fn add_refused_delivery(
        &self,
        new: NewDelivery<'_>,
        since: &str,
        max_since: u32,
    ) -> Result<bool, StoreError>;
    /// Records how a `pending` delivery ended.
    async fn finish_delivery(
        &self,
        row: i64,
        outcome: DeliveryOutcome,
        message: &str,
        deployment_ids: &[DeploymentId],
    ) -> Result<(), StoreError>;
    /// The organization's newest `limit` handled deliveries and newest `limit` refused ones,
    /// newest first.
    async fn deliveries(&self, org: &str, limit: u32) -> Result<Vec<GitHubDelivery>, StoreError>;
    /// Every stack of the organization that has deployment settings, with them.
    async fn stacks_with_settings(
        &self,
        org: &str,
    ) -> Result<Vec<(StackRecord, StoredSettings)>, StoreError>;
}
