//! Runs one deployment: starts its job (under the queue lock, so that no other holder starts
//! it or its stack's next one meanwhile), runs its steps in order until one fails or it is
//! cancelled, and records every status change. The deployment's final status is written only
//! after all of its lines are stored, so a reader that sees it finished has every line.

use std::sync::Arc;

use keyless_api_types::{DeploymentSettings, DeploymentStatus, StepStatus};

use super::ExecConfig;
use super::cancel::{Cancel, Reason};
use super::job::Job;
use super::logs::LogSink;
use super::steps::{Step, StepError};
use crate::store::{DeploymentRecord, Lease, Store, StoreError};
use crate::timestamp;

/// A deployment whose job has started: `running`, leased, its steps recorded.
pub struct Started {
    /// Who holds its lease: the only one that may end it.
    holder: String,
    record: DeploymentRecord,
    settings: DeploymentSettings,
    steps: Vec<Step>,
    names: Vec<String>,
}

impl Started {
    pub fn record(&self) -> &DeploymentRecord {
        &self.record
    }
}

/// Starts `record`'s job for `lease.holder`; `None` when it is no longer queued (cancelled or
/// skipped while it was being picked).
pub async fn start(
    store: &dyn Store,
    record: DeploymentRecord,
    lease: Lease<'_>,
) -> Result<Option<Started>, StoreError> {
    let settings: DeploymentSettings = match serde_json::from_value(record.settings.clone()) {
        Ok(settings) => settings,
        Err(err) => {
            // It can never run; failing it keeps it from blocking its stack's queue.
            tracing::error!(deployment = %record.id, %err, "stored settings do not decode");
            let queued = [DeploymentStatus::NotStarted, DeploymentStatus::Accepted];
            if store
                .transition(
                    &record.id,
                    &queued,
                    DeploymentStatus::Failed,
                    &timestamp::now(),
                )
                .await?
            {
                let line = format!("Deployment failed: its stored settings do not decode: {err}");
                super::logs::append_note(store, &record.id, 0, &line).await?;
            }
            return Ok(None);
        }
    };
    let steps = Step::plan(&settings);
    let operation = record.operation.as_str();
    let names: Vec<String> = steps.iter().map(|s| s.name(operation)).collect();
    if !store
        .start_job(&record.id, &names, &timestamp::now(), lease)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(Started {
        holder: lease.holder.to_owned(),
        record,
        settings,
        steps,
        names,
    }))
}

/// Runs a started deployment to its end.
pub async fn run(
    store: Arc<dyn Store>,
    config: Arc<ExecConfig>,
    started: Started,
    cancel: Cancel,
) -> Result<(), StoreError> {
    let Started {
        holder,
        record,
        settings,
        steps,
        names,
    } = started;
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
        .finish_job(&id, &holder, status, &timestamp::now())
        .await?;
    Ok(())
}
