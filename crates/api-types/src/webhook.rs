//! GitHub push-to-deploy: the organization's webhook secret, the log of deliveries, and the
//! receiver's reply. Keyless extensions; the Pulumi spec has no equivalent.

use serde::{Deserialize, Serialize};

/// The answer to `POST /api/orgs/{org}/webhooks/github/secret`: a new secret, shown only
/// this once, and the payload URL to give GitHub with it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitHubWebhookSecret {
    pub secret: String,
    pub url: String,
}

/// What became of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryOutcome {
    /// Verified; still being handled.
    Pending,
    /// Started one or more deployments.
    Started,
    /// Verified, but concerned no stack (or only stacks that opted out).
    Ignored,
    /// A delivery id, or a signed body, already handled: nothing started again.
    Duplicate,
    /// Not verified (no secret, no or wrong signature, too large): nothing read.
    Rejected,
}

/// One webhook delivery, as the log lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitHubDelivery {
    /// GitHub's `X-GitHub-Delivery` id (empty when it sent none).
    pub id: String,
    /// `X-GitHub-Event`: `push`, `pull_request`, `ping`, …
    pub event: String,
    pub received: String,
    pub outcome: DeliveryOutcome,
    /// What happened, e.g. `started 1 deployment: acme/website/prod (update)` or
    /// `ignored because …`.
    pub message: String,
    #[serde(default)]
    pub deployment_ids: Vec<String>,
}

/// The answer to `GET /api/orgs/{org}/webhooks/github/deliveries`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitHubWebhookDeliveries {
    /// The payload URL GitHub posts to.
    pub url: String,
    /// When the current secret was made; absent while there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_created: Option<String>,
    /// Newest first.
    pub deliveries: Vec<GitHubDelivery>,
}

/// What the receiver answers GitHub for a verified delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GitHubWebhookReply {
    pub outcome: DeliveryOutcome,
    pub message: String,
    #[serde(default)]
    pub deployment_ids: Vec<String>,
}
