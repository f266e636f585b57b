//! `Setup`: the work directory, and the deployment's environment variables (secrets decrypted
//! here, and known to the redactor from here on).

use keyless_api_types::EnvValue;

use super::{StepError, StepResult};
use crate::deploy::job::Job;

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    let record = &job.record;
    let intro = format!(
        "Deployment {} (version {}): pulumi {} of {}, requested by {}",
        record.id,
        record.version,
        record.operation.as_str(),
        record.stack.stack,
        record.requested_by.github_login,
    );
    job.sink.line(index, &intro).await;
    crate::files::create_private_dir(&job.work_dir).map_err(|err| {
        StepError::Failed(format!(
            "cannot create the work directory {}: {err}",
            job.work_dir.display()
        ))
    })?;
    job.sink
        .line(
            index,
            &format!("Work directory: {}", job.work_dir.display()),
        )
        .await;

    let variables = job
        .settings
        .operation_context
        .as_ref()
        .and_then(|c| c.environment_variables.clone())
        .unwrap_or_default();
    for (name, value) in &variables {
        match value {
            EnvValue::Plain(value) => job.set_env(name, value, false),
            EnvValue::Secret(secret) => {
                let value = job.open_secret(secret).map_err(|_| {
                    StepError::Failed(format!(
                        "cannot decrypt the secret environment variable {name}"
                    ))
                })?;
                job.set_env(name, &value, true);
            }
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
