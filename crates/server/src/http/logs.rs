//! `GET S/deployments/{id}/logs`, in two modes.
//!
//! - Streaming (no `job`/`step`/`offset`/`count`): the lines after `continuationToken`, headers
//!   included, and a `nextToken` to pass back; `nextToken` is absent once the deployment has
//!   finished and every line was returned.
//! - Step (`job`, `step`, `offset`, `count` 1–499): a window of one step's lines, with
//!   `nextOffset` absent at the end of a finished step.
//!
//! The status is read before the lines: the executor stores every line before it marks a step
//! or the deployment finished, so "finished and nothing more" is never said too early.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use keyless_api_types::{
    DeploymentLogLine, DeploymentLogs, DeploymentLogsBase, DeploymentLogsStep,
    DeploymentStepLogLine, StepStatus,
};
use serde::Deserialize;

use super::extract::DeploymentAccess;
use super::{AppState, Routes};
use crate::error::{Error, Result};
use crate::store::DeploymentRecord;

/// The most lines one streaming answer carries.
const PAGE: u32 = 2000;
/// Step mode's default `count`.
const DEFAULT_COUNT: i64 = 100;

pub fn router() -> Routes {
    Routes::default().get(stack_route!("/deployments/{id}/logs"), get_logs)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogParams {
    continuation_token: Option<String>,
    job: Option<i64>,
    step: Option<i64>,
    offset: Option<i64>,
    count: Option<i64>,
}

async fn get_logs(
    State(state): State<AppState>,
    DeploymentAccess { record, .. }: DeploymentAccess,
    params: Result<Query<LogParams>, QueryRejection>,
) -> Result<Json<DeploymentLogsBase>> {
    let Query(params) = params.map_err(|r| Error::bad_request(r.body_text()))?;
    let step_mode = params.job.is_some()
        || params.step.is_some()
        || params.offset.is_some()
        || params.count.is_some();
    let logs = if step_mode {
        DeploymentLogsBase::DeploymentLogsStep(step_logs(&state, &record, &params).await?)
    } else {
        let token = params.continuation_token.as_deref();
        DeploymentLogsBase::DeploymentLogs(streaming_logs(&state, &record, token).await?)
    };
    Ok(Json(logs))
}

async fn streaming_logs(
    state: &AppState,
    record: &DeploymentRecord,
    token: Option<&str>,
) -> Result<DeploymentLogs> {
    let after = token.map(decode_token).transpose()?.unwrap_or(0);
    // `record` was read before the lines below.
    let rows = state.store.logs_after(&record.id, after, PAGE).await?;
    let last = rows.last().map_or(after, |row| row.id);
    let complete = record.status.is_finished() && rows.len() < PAGE as usize;
    let lines = rows
        .into_iter()
        .map(|row| DeploymentLogLine {
            header: row.header,
            timestamp: row.timestamp,
            line: row.line,
        })
        .collect();
    Ok(DeploymentLogs {
        lines,
        next_token: (!complete).then(|| encode_token(last)),
    })
}

async fn step_logs(
    state: &AppState,
    record: &DeploymentRecord,
    params: &LogParams,
) -> Result<DeploymentLogsStep> {
    if params.job.unwrap_or(0) != 0 {
        return Err(Error::NotFound("A deployment has one job, job 0".into()));
    }
    let count = params.count.unwrap_or(DEFAULT_COUNT);
    if !(1..500).contains(&count) {
        return Err(Error::bad_request(
            "Count must be less than 500 and more than 0",
        ));
    }
    let offset = params.offset.unwrap_or(0);
    if offset < 0 {
        return Err(Error::bad_request("offset must not be negative"));
    }
    let index = params
        .step
        .ok_or_else(|| Error::bad_request("step is required with job, offset or count"))?;
    let steps = state.store.steps(&record.id).await?;
    let step = usize::try_from(index)
        .ok()
        .and_then(|i| steps.get(i))
        .ok_or_else(|| Error::NotFound(format!("Step {index} not found")))?;
    let finished = matches!(step.status, StepStatus::Failed | StepStatus::Succeeded)
        || record.status.is_finished();
    // One more than asked for tells whether more follow.
    let mut rows = state
        .store
        .step_logs(&record.id, index, offset, count as u32 + 1)
        .await?;
    let more = rows.len() > count as usize;
    rows.truncate(count as usize);
    let next_offset = if more || !finished {
        Some(offset + rows.len() as i64)
    } else {
        None
    };
    Ok(DeploymentLogsStep {
        name: step.name.clone(),
        lines: rows
            .into_iter()
            .map(|row| DeploymentStepLogLine {
                timestamp: row.timestamp,
                line: row.line.unwrap_or_default(),
            })
            .collect(),
        next_offset,
    })
}

/// The opaque continuation token: the id of the last line returned.
pub(super) fn encode_token(last: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("line:{last}"))
}

pub(super) fn decode_token(token: &str) -> Result<i64> {
    let invalid = || Error::bad_request("Invalid continuation token");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("line:")
        .and_then(|n| n.parse().ok())
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_token(&encode_token(42)).expect("decodes"), 42);
        assert!(decode_token("!!").is_err());
        assert!(decode_token(&URL_SAFE_NO_PAD.encode("line:-1")).is_err());
    }
}
