//! `Setup`: the sandbox (or the warning that there is none), the work directory, and the
//! deployment's environment variables (secrets decrypted here, and known to the redactor from
//! here on).

use keyless_api_types::EnvValue;

use super::{StepError, StepResult};
use crate::deploy::job::Job;
use crate::deploy::sandbox::{NO_SANDBOX_WARNING, Sandbox};

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    match &job.config.sandbox {
        Sandbox::Unavailable(why) => {
            return Err(StepError::Failed(format!(
                "cannot start the deployment: {why}"
            )));
        }
        Sandbox::Off => job.sink.note(index, NO_SANDBOX_WARNING).await,
        Sandbox::Bubblewrap(_) => {}
    }
    let record = &job.deployment;
    let intro = format!(
        "Deployment {} (version {}): pulumi {} of {}, requested by {}",
        record.id,
        record.version,
        record.operation.as_str(),
        record.stack.stack,
        record.requested_by,
    );
    job.sink.line(index, &intro).await;
    job.config.sandbox.prepare(&job.work_dir).map_err(|err| {
        StepError::Failed(format!(
            "cannot create the work directory {}: {err}",
            job.work_dir.display()
        ))
    })?;
    let isolation = match job.config.sandbox {
        Sandbox::Bubblewrap(_) => "in a sandbox that shows nothing else of the server",
        _ => "without a sandbox",
    };
    job.sink
        .line(
            index,
            &format!("Work directory: {} ({isolation})", job.work_dir.display()),
        )
        .await;

    let variables = job
        .deployment
        .settings
        .operation_context
        .as_ref()
        .and_then(|c| c.environment_variables.clone())
        .unwrap_or_default();
    for (name, value) in &variables {
        match value {
            EnvValue::Plain(value) => job.set_env(name, value, false),
            // Opened when the deployment started.
            EnvValue::Secret(secret) => job.set_env(name, &secret.secret, true),
        }
    }
    if !variables.is_empty() {
        let names: Vec<&str> = variables.keys().map(String::as_str).collect();
        job.sink
            .line(
                index,
                &format!("Environment variables: {}", names.join(", ")),
            )
            .await;
    }
    Ok(())
}
