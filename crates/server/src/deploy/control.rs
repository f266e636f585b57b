//! What a running deployment asks of the control plane: to record its steps and lines, to end
//! it, and to mint its OIDC token. Agents implement it with requests to their server
//! (`crate::agent::client::Remote`); the server answers with [`mint`] and its store.

use async_trait::async_trait;
use keyless_api_types::{DeploymentStatus, PulumiOperation, StepStatus};

use super::protocol::MintedToken;
use crate::oidc::OidcIssuer;
use crate::store::{NewLogLine, StackRecord, StoreError};

/// The control plane, as one running deployment sees it.
#[async_trait]
pub trait Control: Send + Sync {
    /// Records step `position`'s status.
    async fn set_step(&self, position: i64, status: StepStatus, at: &str)
    -> Result<(), StoreError>;
    /// Stores lines, in order.
    async fn append_logs(&self, lines: &[NewLogLine]) -> Result<(), StoreError>;
    /// Ends the deployment with `status`; called once every line is stored.
    async fn finish(&self, status: DeploymentStatus, at: &str) -> Result<(), StoreError>;
    /// Mints the deployment's OIDC token.
    async fn mint(&self) -> Result<MintedToken, String>;
}

/// Mints the token of version `version` of `stack`, running `operation`, for its agent.
pub async fn mint(
    oidc: &OidcIssuer,
    stack: &StackRecord,
    operation: PulumiOperation,
    version: i64,
) -> Result<MintedToken, String> {
    let version = u64::try_from(version).unwrap_or_default();
    let (token, claims) = oidc
        .mint(stack, operation.as_str(), version)
        .await
        .map_err(|err| err.to_string())?;
    Ok(MintedToken {
        token,
        issuer: oidc.issuer().as_str().to_owned(),
        subject: claims.subject().to_owned(),
        audience: claims.audience().to_owned(),
        expires_at: claims.expires_at(),
    })
}
