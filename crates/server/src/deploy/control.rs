//! What a running deployment asks of the control plane: to record its steps and lines, to end
//! it, and to mint its OIDC token. In the server's own process that is the store and the issuer
//! ([`Local`]); in an agent, requests to the server (`crate::agent`).

use std::sync::Arc;

use async_trait::async_trait;
use keyless_api_types::{DeploymentStatus, PulumiOperation, StepStatus};

use super::protocol::{Assignment, MintedToken};
use crate::oidc::OidcIssuer;
use crate::store::{NewLogLine, StackRecord, Store, StoreError};

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

/// A deployment the server runs itself: straight to its store and its issuer.
pub struct Local {
    pub store: Arc<dyn Store>,
    pub oidc: Arc<OidcIssuer>,
    /// The lease's holder: this server.
    pub holder: String,
    pub deployment: Assignment,
}

#[async_trait]
impl Control for Local {
    async fn set_step(
        &self,
        position: i64,
        status: StepStatus,
        at: &str,
    ) -> Result<(), StoreError> {
        self.store
            .set_step(&self.deployment.id, position, status, at)
            .await
    }

    async fn append_logs(&self, lines: &[NewLogLine]) -> Result<(), StoreError> {
        self.store.append_logs(&self.deployment.id, lines).await
    }

    async fn finish(&self, status: DeploymentStatus, at: &str) -> Result<(), StoreError> {
        self.store
            .finish_job(&self.deployment.id, &self.holder, status, at)
            .await?;
        Ok(())
    }

    async fn mint(&self) -> Result<MintedToken, String> {
        let d = &self.deployment;
        mint(&self.oidc, &d.stack, d.operation, d.version).await
    }
}

/// Mints the token of version `version` of `stack`, running `operation` (for the server's own
/// deployments and for agents').
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
