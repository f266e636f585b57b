//! What the OIDC setup assistant keeps and reads: recorded "Test OIDC" runs, and the
//! durations of a stack's recent successful deployments.

use async_trait::async_trait;
use keyless_api_types::PulumiOperation;
use serde_json::Value;

use super::{StackId, StoreError};

/// A "Test OIDC" run to record.
#[derive(Clone, Debug)]
pub struct NewOidcTest<'a> {
    pub id: &'a str,
    pub stack_id: &'a StackId,
    pub requested_by: &'a str,
    pub operation: PulumiOperation,
    pub created: &'a str,
    pub jti: &'a str,
    pub claims: &'a Value,
    /// The per-cloud outcomes, a JSON array.
    pub results: &'a Value,
}

/// A recorded run, with the requester's login.
#[derive(Clone, Debug, PartialEq)]
pub struct OidcTestRecord {
    pub id: String,
    pub requested_by: String,
    pub operation: PulumiOperation,
    pub created: String,
    pub claims: Value,
    pub results: Value,
}

#[async_trait]
pub trait OidcTestStore: Send + Sync {
    async fn record_oidc_test(&self, test: NewOidcTest<'_>) -> Result<(), StoreError>;
    /// The stack's latest `limit` runs, newest first.
    async fn oidc_tests(
        &self,
        stack_id: &StackId,
        limit: u32,
    ) -> Result<Vec<OidcTestRecord>, StoreError>;
    /// Seconds from start to finish of the stack's latest `limit` succeeded runs of
    /// `operation`, newest first.
    async fn succeeded_durations(
        &self,
        stack_id: &StackId,
        operation: PulumiOperation,
        limit: u32,
    ) -> Result<Vec<u64>, StoreError>;
}
