//! `Download dependencies`: by the runtime named in the program's `Pulumi.yaml` — nodejs (npm,
//! yarn or pnpm, chosen by lock file), python (a virtualenv from `requirements.txt`), go
//! (`go mod download`), dotnet (`dotnet restore`); yaml programs have none.

use std::path::{Path, PathBuf};

use super::{StepError, StepResult, on_path, run_process};
use crate::deploy::job::Job;

/// The virtualenv a python program's dependencies go into, inside the program directory.
const VENV: &str = "venv";

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    let dir = job.program_dir.clone();
    let runtime = read_runtime(&dir)?;
    let say = |text: String| {
        let sink = job.sink.clone();
        async move { sink.line(index, &text).await }
    };
    match runtime.as_str() {
        "yaml" => say("Runtime yaml: YAML programs have no dependencies to install".into()).await,
        "nodejs" => {
            let (tool, args, why) = node_installer(&dir);
            say(format!("Runtime nodejs: {why}")).await;
            command(job, index, &dir, tool, &args).await?;
        }
        "python" => {
            if !dir.join("requirements.txt").is_file() {
                say("Runtime python: no requirements.txt, nothing to install".into()).await;
                return Ok(());
            }
            say(format!(
                "Runtime python: installing requirements.txt into the virtualenv {VENV}/"
            ))
            .await;
            command(job, index, &dir, "python3", &["-m", "venv", VENV]).await?;
            let pip = dir.join(VENV).join("bin").join("pip");
            let args = ["install", "-r", "requirements.txt"].map(String::from);
            let shown = format!("{VENV}/bin/pip install -r requirements.txt");
            run_process(job, index, &pip, &args, &dir, &shown).await?;
            let venv = dir.join(VENV);
            let path = job.env.get("PATH").cloned().unwrap_or_default();
            job.set_env("VIRTUAL_ENV", &venv.display().to_string(), false);
            job.set_env(
                "PATH",
                &format!("{}:{path}", venv.join("bin").display()),
                false,
            );
        }
        "go" => {
            say("Runtime go: downloading the modules go.mod names".into()).await;
            command(job, index, &dir, "go", &["mod", "download"]).await?;
        }
        "dotnet" => {
            say("Runtime dotnet: restoring NuGet packages".into()).await;
            command(job, index, &dir, "dotnet", &["restore"]).await?;
        }
        other => {
            say(format!(
                "Runtime {other}: this server does not install its dependencies; \
                 install them in a pre-run command"
            ))
            .await;
        }
    }
    Ok(())
}

/// Runs a tool found on the job's PATH.
async fn command(job: &mut Job, index: i64, dir: &Path, tool: &str, args: &[&str]) -> StepResult {
    let program: PathBuf = on_path(tool, job.env.get("PATH").map(String::as_str))
        .ok_or_else(|| StepError::Failed(format!("{tool} is not installed on this server")))?;
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let shown = format!("{tool} {}", args.join(" "));
    run_process(job, index, &program, &args, dir, &shown).await
}

/// The package manager a node program uses, by its lock file.
fn node_installer(dir: &Path) -> (&'static str, Vec<&'static str>, &'static str) {
    if dir.join("yarn.lock").is_file() {
        (
            "yarn",
            vec!["install", "--frozen-lockfile"],
            "yarn.lock found, installing with yarn",
        )
    } else if dir.join("pnpm-lock.yaml").is_file() {
        (
            "pnpm",
            vec!["install", "--frozen-lockfile"],
            "pnpm-lock.yaml found, installing with pnpm",
        )
    } else if dir.join("package-lock.json").is_file() {
        (
            "npm",
            vec!["ci"],
            "package-lock.json found, installing with npm ci",
        )
    } else {
        (
            "npm",
            vec!["install"],
            "no lock file, installing with npm install",
        )
    }
}

/// The runtime `Pulumi.yaml` names: `runtime: nodejs`, or `runtime:` with a nested `name:`.
fn read_runtime(dir: &Path) -> Result<String, StepError> {
    let file = ["Pulumi.yaml", "Pulumi.yml"]
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            StepError::Failed(format!(
                "no Pulumi.yaml in {}; set repoDir to the program's directory",
                dir.display()
            ))
        })?;
    let text = std::fs::read_to_string(&file)
        .map_err(|err| StepError::Failed(format!("cannot read {}: {err}", file.display())))?;
    runtime_of(&text).ok_or_else(|| StepError::Failed("Pulumi.yaml names no runtime".into()))
}

fn runtime_of(text: &str) -> Option<String> {
    let unquote = |v: &str| v.trim().trim_matches(['"', '\'']).to_owned();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(value) = line.strip_prefix("runtime:") else {
            continue;
        };
        let value = value.split('#').next().unwrap_or_default().trim();
        if !value.is_empty() {
            return Some(unquote(value));
        }
        // The nested form: the first indented `name:` below.
        for nested in lines.by_ref() {
            if !nested.starts_with([' ', '\t']) {
                break;
            }
            if let Some(name) = nested.trim_start().strip_prefix("name:") {
                return Some(unquote(name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_runtime_forms() {
        assert_eq!(
            runtime_of("name: web\nruntime: nodejs\n").as_deref(),
            Some("nodejs")
        );
        assert_eq!(
            runtime_of("name: web\nruntime: \"yaml\" # comment\n").as_deref(),
            Some("yaml")
        );
        assert_eq!(
            runtime_of("name: api\nruntime:\n  name: python\n  options:\n    virtualenv: venv\n")
                .as_deref(),
            Some("python")
        );
        assert_eq!(runtime_of("name: x\n"), None);
    }

    #[test]
    fn node_installer_follows_the_lock_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(node_installer(dir.path()).1, ["install"]);
        std::fs::write(dir.path().join("package-lock.json"), "{}").expect("writes");
        assert_eq!(node_installer(dir.path()).1, ["ci"]);
        std::fs::write(dir.path().join("yarn.lock"), "").expect("writes");
        assert_eq!(node_installer(dir.path()).0, "yarn");
    }
}
