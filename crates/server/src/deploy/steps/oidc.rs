//! `Fetch credentials via OIDC`.

use super::{StepError, StepResult};
use crate::deploy::job::Job;

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    job.sink.line(index, "OIDC issuer not wired yet").await;
    Err(StepError::Failed("OIDC is not available".into()))
}
