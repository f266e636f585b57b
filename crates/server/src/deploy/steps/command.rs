//! `Pre-run command N`: one command in its own shell (`options.shell`, default `bash`, run as
//! `<shell> -c <command>`) in the program directory, with the deployment's environment.

use std::path::PathBuf;

use super::{StepError, StepResult, on_path, run_process};
use crate::deploy::job::Job;

pub async fn run(job: &mut Job, index: i64, command: &str) -> StepResult {
    let shell = job
        .deployment
        .settings
        .operation_context
        .as_ref()
        .and_then(|c| c.options.as_ref())
        .and_then(|o| o.shell.clone())
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "bash".into());
    let mut words = shell.split_whitespace().map(str::to_owned);
    let name = words.next().unwrap_or_else(|| "bash".into());
    let mut args: Vec<String> = words.collect();
    if args.last().map(String::as_str) != Some("-c") {
        args.push("-c".into());
    }
    args.push(command.to_owned());
    let program = if name.contains('/') {
        PathBuf::from(&name)
    } else {
        on_path(&name, job.env.get("PATH").map(String::as_str)).ok_or_else(|| {
            StepError::Failed(format!("the shell {name} is not installed on this server"))
        })?
    };
    let dir = job.program_dir.clone();
    run_process(job, index, &program, &args, &dir, command).await
}
