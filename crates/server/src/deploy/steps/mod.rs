//! The steps of a deployment's job, in the order Pulumi Deployments runs them: `Setup`,
//! `Get source`, `Fetch credentials via OIDC` (when a cloud is configured), `Download
//! dependencies` (unless skipped), `Pre-run command N`, then `pulumi <operation>`.

mod command;
mod dependencies;
mod oidc;
mod pulumi;
mod setup;
mod source;

use std::path::Path;

use keyless_api_types::DeploymentSettings;

use super::cancel::Reason;
use super::job::Job;
use super::process::{self, Outcome, Spec};

/// One step of a job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Setup,
    GetSource,
    FetchCredentials,
    DownloadDependencies,
    /// The `n`-th (from 1) pre-run command.
    PreRun(usize, String),
    Pulumi,
}

/// Why a step did not succeed.
#[derive(Debug)]
pub enum StepError {
    /// It failed; the message is logged as its last line.
    Failed(String),
    /// The deployment was cancelled.
    Cancelled(Reason),
}

/// A step's result.
pub type StepResult = Result<(), StepError>;

impl Step {
    /// The steps a deployment with `settings` runs.
    pub fn plan(settings: &DeploymentSettings) -> Vec<Step> {
        let ctx = settings.operation_context.as_ref();
        let mut steps = vec![Step::Setup, Step::GetSource];
        if settings.oidc().is_some_and(|oidc| !oidc.is_empty()) {
            steps.push(Step::FetchCredentials);
        }
        let skip_install = ctx
            .and_then(|c| c.options.as_ref())
            .and_then(|o| o.skip_install_dependencies)
            .unwrap_or(false);
        if !skip_install {
            steps.push(Step::DownloadDependencies);
        }
        let commands = ctx.and_then(|c| c.pre_run_commands.as_ref());
        for (i, command) in commands.into_iter().flatten().enumerate() {
            steps.push(Step::PreRun(i + 1, command.clone()));
        }
        steps.push(Step::Pulumi);
        steps
    }

    /// The name the API shows, e.g. `Pre-run command 2` or `pulumi update`.
    pub fn name(&self, job_operation: &str) -> String {
        match self {
            Step::Setup => "Setup".into(),
            Step::GetSource => "Get source".into(),
            Step::FetchCredentials => "Fetch credentials via OIDC".into(),
            Step::DownloadDependencies => "Download dependencies".into(),
            Step::PreRun(n, _) => format!("Pre-run command {n}"),
            Step::Pulumi => format!("pulumi {job_operation}"),
        }
    }

    /// Runs the step as step `index` of `job`.
    pub async fn run(&self, job: &mut Job, index: i64) -> StepResult {
        match self {
            Step::Setup => setup::run(job, index).await,
            Step::GetSource => source::run(job, index).await,
            Step::FetchCredentials => oidc::run(job, index).await,
            Step::DownloadDependencies => dependencies::run(job, index).await,
            Step::PreRun(_, command) => command::run(job, index, command).await,
            Step::Pulumi => pulumi::run(job, index).await,
        }
    }
}

/// Runs a process for step `index` in `cwd` with the job's environment, logging the command
/// line first (`shown`, which must hold no secret); fails unless it exits with 0.
async fn run_process(
    job: &mut Job,
    index: i64,
    program: &Path,
    args: &[String],
    cwd: &Path,
    shown: &str,
) -> StepResult {
    run_process_with(job, index, (program, args), cwd, shown, &[]).await
}

/// [`run_process`] with variables for this process only (`extra`).
async fn run_process_with(
    job: &mut Job,
    index: i64,
    (program, args): (&Path, &[String]),
    cwd: &Path,
    shown: &str,
    extra: &[(String, String)],
) -> StepResult {
    job.sink.line(index, &format!("$ {shown}")).await;
    let mut env = job.env.clone();
    env.extend(extra.iter().cloned());
    let spec = job.sandboxed(Spec {
        program: program.to_owned(),
        args: args.to_vec(),
        cwd: cwd.to_owned(),
        env,
    });
    let grace = job.config.cancel_grace;
    match process::run(&spec, index, &job.sink, &mut job.cancel, grace).await {
        Outcome::Exited(status) if status.success() => Ok(()),
        Outcome::Exited(status) => Err(StepError::Failed(format!(
            "{shown}: {}",
            process::describe(status)
        ))),
        Outcome::Cancelled(reason) => Err(StepError::Cancelled(reason)),
        Outcome::NotStarted(err) => Err(StepError::Failed(format!(
            "cannot run {}: {err}",
            program.display()
        ))),
    }
}

/// `dir/name` when it is a file inside `root` once symlinks are resolved. The server reads files
/// a deployment's source checked out, and must never follow a link out of the checkout (to the
/// data dir, say).
fn checked_out_file(root: &Path, dir: &Path, name: &str) -> Option<std::path::PathBuf> {
    let root = root.canonicalize().ok()?;
    let file = dir.join(name).canonicalize().ok()?;
    (file.starts_with(&root) && file.is_file()).then_some(file)
}

/// Looks for an executable named `name` in the `PATH` of `env`.
fn on_path(name: &str, path: Option<&str>) -> Option<std::path::PathBuf> {
    std::env::split_paths(path?)
        .map(|dir| dir.join(name))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_plan_follows_the_settings() {
        let names = |settings: serde_json::Value| -> Vec<String> {
            let settings: DeploymentSettings = serde_json::from_value(settings).expect("decodes");
            Step::plan(&settings)
                .iter()
                .map(|s| s.name("update"))
                .collect()
        };
        assert_eq!(
            names(json!({})),
            [
                "Setup",
                "Get source",
                "Download dependencies",
                "pulumi update"
            ]
        );
        assert_eq!(
            names(json!({"operationContext": {
                "oidc": {"gcp": {"projectId": "1"}},
                "preRunCommands": ["a", "b"],
                "options": {"skipInstallDependencies": true}
            }})),
            [
                "Setup",
                "Get source",
                "Fetch credentials via OIDC",
                "Pre-run command 1",
                "Pre-run command 2",
                "pulumi update"
            ]
        );
    }
}
