//! Runs one deployment: starts its job, runs its steps in order until one fails or it is
//! cancelled, and records every status change. The deployment's final status is written only
//! after all of its lines are stored, so a reader that sees it finished has every line.

use std::sync::Arc;

use keyless_api_types::{DeploymentSettings, DeploymentStatus, StepStatus};

use super::ExecConfig;
use super::cancel::{Cancel, Reason};
use super::job::Job;
use super::logs::LogSink;
use super::steps::{Step, StepError};
use crate::store::{DeploymentRecord, Store, StoreError};
use crate::timestamp;

/// Runs `record` to its end.
pub async fn run(
    store: Arc<dyn Store>,
    config: Arc<ExecConfig>,
    record: DeploymentRecord,
    cancel: Cancel,
) -> Result<(), StoreError> {
    let settings: DeploymentSettings = match serde_json::from_value(record.settings.clone()) {
        Ok(settings) => settings,
        Err(err) => {
            return Err(StoreError::Backend(
                format!(
                    "deployment {} has settings that do not decode: {err}",
                    record.id
                )
                .into(),
            ));
        }
    };
    let steps = Step::plan(&settings);
    let operation = record.operation.as_str();
    let names: Vec<String> = steps.iter().map(|s| s.name(operation)).collect();
    if !store
        .start_job(&record.id, &names, &timestamp::now())
        .await?
    {
        // Cancelled or skipped while it was being picked.
        return Ok(());
    }
    let id = record.id.clone();
    let (sink, writer) = LogSink::start(store.clone(), id.clone(), config.max_log_bytes);
    let mut job = Job::new(record, settings, config, sink.clone(), cancel);

    let mut outcome = Ok(());
    for (index, (step, name)) in steps.iter().zip(&names).enumerate() {
        let index = index as i64;
        if let Some(reason) = job.cancel.reason() {
            // Cancelled between steps: the line goes to the step that last ran.
            sink.note((index - 1).max(0), &reason.to_string()).await;
            outcome = Err(StepError::Cancelled(reason));
            break;
        }
        store
            .set_step(&id, index, StepStatus::Running, &timestamp::now())
            .await?;
        sink.header(index, name).await;
        let result = step.run(&mut job, index).await;
        let status = match &result {
            Ok(()) => StepStatus::Succeeded,
            Err(StepError::Failed(message)) => {
                sink.note(index, &format!("Error: {message}")).await;
                StepStatus::Failed
            }
            Err(StepError::Cancelled(reason)) => {
                sink.note(index, &Reason::to_string(reason)).await;
                StepStatus::Failed
            }
        };
        sink.flush().await;
        store
            .set_step(&id, index, status, &timestamp::now())
            .await?;
        if result.is_err() {
            outcome = result;
            break;
        }
    }
    if let Err(err) = super::sandbox::remove(&job.work_dir) {
        tracing::warn!(deployment = %id, %err, "cannot remove the work directory");
    }
    drop(job);
    drop(sink);
    writer.finish().await;
    let status = if outcome.is_ok() {
        DeploymentStatus::Succeeded
    } else {
        DeploymentStatus::Failed
    };
    store
        .transition(&id, &[DeploymentStatus::Running], status, &timestamp::now())
        .await?;
    Ok(())
}
