//! Runs one deployment: starts its job (under the queue lock, so that no other holder starts
//! it or its stack's next one meanwhile), runs its steps in order until one fails or it is
//! cancelled, and records every status change. The deployment's final status is written only
//! after all of its lines are stored, so a reader that sees it finished has every line.

use std::sync::Arc;
use std::time::Duration;

use keyless_api_types::{DeploymentSettings, DeploymentStatus, StepStatus};

use super::ExecConfig;
use super::cancel::{Cancel, Canceller, Reason};
use super::control::Control;
use super::job::Job;
use super::logs::LogSink;
use super::protocol::Assignment;
use super::steps::{Step, StepError};
use crate::crypto::Cipher;
use crate::store::{DeploymentRecord, Lease, Store, StoreError};
use crate::timestamp;

/// A deployment whose job has started: `running`, leased, its steps recorded.
pub struct Started {
    /// Who holds its lease: the only one that may end it.
    pub holder: String,
    pub deployment: Assignment,
}

/// What the server allows every deployment.
#[derive(Clone, Copy, Debug)]
pub struct Allowance {
    pub timeout: Duration,
    pub max_log_bytes: u64,
    pub lease: Duration,
}

/// Starts `record`'s job for `lease.holder`, its secrets opened; `None` when it is no longer
/// queued (cancelled or skipped while it was being picked), or can never run (it is failed,
/// saying why).
pub async fn start(
    store: &dyn Store,
    cipher: &Cipher,
    record: DeploymentRecord,
    lease: Lease<'_>,
    allowance: Allowance,
) -> Result<Option<Started>, StoreError> {
    let settings = serde_json::from_value::<DeploymentSettings>(record.settings.clone())
        .map_err(|err| format!("its stored settings do not decode: {err}"))
        .and_then(|mut settings| {
            crate::settings::open_secrets(&mut settings, &record.stack, cipher)?;
            Ok(settings)
        });
    let settings = match settings {
        Ok(settings) => settings,
        Err(why) => {
            // It can never run; failing it keeps it from blocking its stack's queue.
            tracing::error!(deployment = %record.id, %why, "deployment cannot start");
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
                let line = format!("Deployment failed: {why}");
                super::logs::append_note(store, &record.id, 0, &line).await?;
            }
            return Ok(None);
        }
    };
    let operation = record.operation.as_str();
    let names: Vec<String> = Step::plan(&settings)
        .iter()
        .map(|s| s.name(operation))
        .collect();
    if !store
        .start_job(&record.id, &names, &timestamp::now(), lease)
        .await?
    {
        return Ok(None);
    }
    Ok(Some(Started {
        holder: lease.holder.to_owned(),
        deployment: Assignment {
            id: record.id,
            stack: record.stack,
            version: record.version,
            operation: record.operation,
            requested_by: record.requested_by.github_login,
            settings,
            steps: names,
            timeout_secs: allowance.timeout.as_secs(),
            max_log_bytes: allowance.max_log_bytes,
            lease_millis: u64::try_from(allowance.lease.as_millis()).unwrap_or(u64::MAX),
        },
    }))
}

/// [`run`], cancelled through `canceller` once it runs past its timeout.
pub async fn run_timed(
    control: Arc<dyn Control>,
    config: Arc<ExecConfig>,
    deployment: Assignment,
    canceller: Canceller,
    cancel: Cancel,
) -> Result<(), StoreError> {
    let timeout = Duration::from_secs(deployment.timeout_secs.max(1));
    let run = run(control, config, deployment, cancel);
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => result,
        () = tokio::time::sleep(timeout) => {
            super::cancel::request(&canceller, Reason::Timeout(timeout));
            run.await
        }
    }
}

/// Runs a started deployment to its end, reporting to `control`.
pub async fn run(
    control: Arc<dyn Control>,
    config: Arc<ExecConfig>,
    deployment: Assignment,
    cancel: Cancel,
) -> Result<(), StoreError> {
    let operation = deployment.operation.as_str();
    let steps = Step::plan(&deployment.settings);
    let names: Vec<String> = steps.iter().map(|s| s.name(operation)).collect();
    let (sink, writer) = LogSink::start(control.clone(), deployment.max_log_bytes);
    let skewed = names != deployment.steps;
    let mut job = Job::new(deployment, config, sink.clone(), cancel, control.clone());

    let mut outcome = Ok(());
    if skewed {
        // The server recorded other steps: an agent of another version. Running would report
        // lines under the wrong steps.
        let line = format!(
            "Deployment failed: this agent would run the steps {names:?}, but the server \
             planned {:?}; run an agent of the server's version",
            job.deployment.steps
        );
        sink.note(0, &line).await;
        outcome = Err(StepError::Failed(line));
    }
    for (index, (step, name)) in steps.iter().zip(&names).enumerate() {
        if outcome.is_err() {
            break;
        }
        let index = index as i64;
        if let Some(reason) = job.cancel.reason() {
            // Cancelled between steps: the line goes to the step that last ran.
            sink.note((index - 1).max(0), &reason.to_string()).await;
            outcome = Err(StepError::Cancelled(reason));
            break;
        }
        control
            .set_step(index, StepStatus::Running, &timestamp::now())
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
        control.set_step(index, status, &timestamp::now()).await?;
        outcome = result;
    }
    if let Err(err) = super::sandbox::remove(&job.work_dir) {
        tracing::warn!(deployment = %job.deployment.id, %err, "cannot remove the work directory");
    }
    drop(job);
    drop(sink);
    writer.finish().await;
    let status = if outcome.is_ok() {
        DeploymentStatus::Succeeded
    } else {
        DeploymentStatus::Failed
    };
    control.finish(status, &timestamp::now()).await
}
