//! `pulumi <operation>`: the pulumi CLI given by `--pulumi`, or found on PATH or in
//! `~/.pulumi/bin`, run the way Pulumi Deployments runs it: non-interactive, on
//! `--stack org/project/stack`, without a second preview for operations that change things.

use std::path::{Path, PathBuf};

use keyless_api_types::PulumiOperation;

use super::{StepError, StepResult, is_executable, on_path, run_process};
use crate::deploy::job::Job;
use crate::deploy::sandbox;

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    // Looked for as the server sees the machine (its PATH and home), then shown to the
    // sandbox: the CLI's folder alone, read-only.
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let path = std::env::var("PATH").ok();
    let cli = find_cli(
        job.config.pulumi.as_deref(),
        path.as_deref(),
        home.as_deref(),
    )?;
    if let Some(dir) = cli.parent().filter(|d| !d.starts_with("/usr")) {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        sandbox::may_show(&dir, &job.config.guarded()).map_err(|why| {
            StepError::Failed(format!(
                "the pulumi CLI at {} cannot be shown to deployments: {why}; install it in a \
                 folder of its own",
                cli.display()
            ))
        })?;
        if !job.view.read_only.contains(&dir) {
            job.view.read_only.push(dir);
        }
    }
    let delete_after_destroy = job
        .deployment
        .settings
        .operation_context
        .as_ref()
        .and_then(|c| c.options.as_ref())
        .and_then(|o| o.delete_after_destroy)
        .unwrap_or(false);
    let dir = job.program_dir.clone();
    let stack = match job.env.get("PULUMI_BACKEND_URL") {
        Some(url) if url.starts_with("file://") => {
            // A file backend has one organization, named `organization`, and keeps stacks
            // only once made: select the stack, making it on the first deployment.
            let s = &job.deployment.stack.stack;
            let stack = format!("organization/{}/{}", s.project, s.stack);
            let select: Vec<String> = ["stack", "select", "--create", "--non-interactive"]
                .into_iter()
                .map(String::from)
                .chain([stack.clone()])
                .collect();
            let shown = format!("pulumi {}", select.join(" "));
            run_process(job, index, &cli, &select, &dir, &shown).await?;
            stack
        }
        _ => job.stack_name(),
    };
    let args = arguments(job.deployment.operation, &stack, delete_after_destroy);
    let shown = format!("pulumi {}", args.join(" "));
    run_process(job, index, &cli, &args, &dir, &shown).await
}

/// The CLI's arguments for `operation` on `stack`.
fn arguments(operation: PulumiOperation, stack: &str, delete_after_destroy: bool) -> Vec<String> {
    use PulumiOperation::*;
    let words: &[&str] = match operation {
        Update => &["up", "--yes", "--skip-preview"],
        Preview => &["preview"],
        Refresh => &["refresh", "--yes", "--skip-preview"],
        Destroy if delete_after_destroy => &["destroy", "--yes", "--skip-preview", "--remove"],
        Destroy => &["destroy", "--yes", "--skip-preview"],
        DetectDrift => &["refresh", "--preview-only"],
        RemediateDrift => &["up", "--yes", "--skip-preview", "--refresh"],
    };
    let mut args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    args.extend(["--non-interactive".into(), "--stack".into(), stack.into()]);
    args
}

/// The pulumi CLI to run: `explicit` when given, else `pulumi` on `path`, else
/// `~/.pulumi/bin/pulumi`. The error says how to install it or point to it.
pub fn find_cli(
    explicit: Option<&Path>,
    path: Option<&str>,
    home: Option<&Path>,
) -> Result<PathBuf, StepError> {
    if let Some(cli) = explicit {
        return if is_executable(cli) {
            Ok(cli.to_owned())
        } else {
            Err(StepError::Failed(format!(
                "--pulumi names {}, which is not an executable file; point --pulumi \
                 (or KEYLESS_PULUMI) at the pulumi CLI",
                cli.display()
            )))
        };
    }
    on_path("pulumi", path)
        .or_else(|| {
            let installed = home?.join(".pulumi/bin/pulumi");
            is_executable(&installed).then_some(installed)
        })
        .ok_or_else(|| {
            StepError::Failed(
                "the pulumi CLI was not found on PATH or in ~/.pulumi/bin. Install it on the \
                 server (curl -fsSL https://get.pulumi.com | sh, or see \
                 https://www.pulumi.com/docs/install/), or start keyless-server with \
                 --pulumi <path to pulumi> (or KEYLESS_PULUMI)"
                    .into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_run_like_pulumi_deployments_runs_them() {
        let line = |op, delete| arguments(op, "acme/web/prod", delete).join(" ");
        assert_eq!(
            line(PulumiOperation::Update, false),
            "up --yes --skip-preview --non-interactive --stack acme/web/prod"
        );
        assert_eq!(
            line(PulumiOperation::Preview, false),
            "preview --non-interactive --stack acme/web/prod"
        );
        assert_eq!(
            line(PulumiOperation::Destroy, true),
            "destroy --yes --skip-preview --remove --non-interactive --stack acme/web/prod"
        );
        assert_eq!(
            line(PulumiOperation::DetectDrift, false),
            "refresh --preview-only --non-interactive --stack acme/web/prod"
        );
    }

    #[test]
    fn finds_the_cli_or_says_how_to_get_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().display().to_string();
        let Err(StepError::Failed(message)) = find_cli(None, Some(&path), Some(dir.path())) else {
            panic!("nothing to find");
        };
        assert!(message.contains("get.pulumi.com") && message.contains("--pulumi"));

        let cli = dir.path().join("pulumi");
        std::fs::write(&cli, "#!/bin/sh\n").expect("writes");
        std::fs::set_permissions(&cli, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert_eq!(find_cli(None, Some(&path), None).expect("on PATH"), cli);
        assert_eq!(find_cli(Some(&cli), None, None).expect("explicit"), cli);
        assert!(find_cli(Some(&dir.path().join("nope")), None, None).is_err());
    }
}
