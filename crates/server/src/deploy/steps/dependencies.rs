//! `Download dependencies`: by the runtime named in the program's `Pulumi.yaml` — nodejs (npm,
//! yarn or pnpm, chosen by lock file), python (a virtualenv from `requirements.txt`), go
//! (`go mod download`), dotnet (`dotnet restore`); yaml programs have none.

use std::path::{Path, PathBuf};

use super::{StepError, StepResult, checked_out_file, on_path, run_process};
use crate::deploy::job::Job;

/// The virtualenv a python program's dependencies go into, inside the program directory.
const VENV: &str = "venv";

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    let dir = job.program_dir.clone();
    let root = job.checkout_dir.clone();
    let has = |name: &str| checked_out_file(&root, &dir, name).is_some();
    let runtime = read_runtime(&root, &dir)?;
    let say = |text: String| {
        let sink = job.sink.clone();
        async move { sink.line(index, &text).await }
    };
    match runtime.as_str() {
        "yaml" => say("Runtime yaml: YAML programs have no dependencies to install".into()).await,
        "nodejs" => {
            let (tool, args, why) = node_installer(has);
            say(format!("Runtime nodejs: {why}")).await;
            command(job, index, &dir, tool, &args).await?;
        }
        "python" => {
            if !has("requirements.txt") {
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
fn node_installer(has: impl Fn(&str) -> bool) -> (&'static str, Vec<&'static str>, &'static str) {
    if has("yarn.lock") {
        (
            "yarn",
            vec!["install", "--frozen-lockfile"],
            "yarn.lock found, installing with yarn",
        )
    } else if has("pnpm-lock.yaml") {
        (
            "pnpm",
            vec!["install", "--frozen-lockfile"],
            "pnpm-lock.yaml found, installing with pnpm",
        )
    } else if has("package-lock.json") {
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
/// The runtime named by the program's `Pulumi.yaml` (inside the checkout).
fn read_runtime(root: &Path, dir: &Path) -> Result<String, StepError> {
    let file = ["Pulumi.yaml", "Pulumi.yml"]
        .iter()
        .find_map(|name| checked_out_file(root, dir, name))
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
        let has = |name: &str| checked_out_file(dir.path(), dir.path(), name).is_some();
        assert_eq!(node_installer(has).1, ["install"]);
        std::fs::write(dir.path().join("package-lock.json"), "{}").expect("writes");
        assert_eq!(node_installer(has).1, ["ci"]);
        std::fs::write(dir.path().join("yarn.lock"), "").expect("writes");
        assert_eq!(node_installer(has).0, "yarn");
    }

    #[test]
    fn files_linked_out_of_the_checkout_are_not_read() {
        let root = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        let checkout = root.path().join("source");
        std::fs::create_dir_all(checkout.join("infra")).expect("mkdir");
        let secret = outside.path().join("secret.yaml");
        std::fs::write(&secret, "runtime: the-server's-secret\n").expect("writes");
        std::os::unix::fs::symlink(&secret, checkout.join("infra/Pulumi.yaml")).expect("links");
        let dir = checkout.join("infra");
        assert!(read_runtime(&checkout, &dir).is_err());
        std::fs::write(checkout.join("Pulumi.yaml"), "runtime: yaml\n").expect("writes");
        std::fs::remove_file(dir.join("Pulumi.yaml")).expect("unlinks");
        std::os::unix::fs::symlink("../Pulumi.yaml", dir.join("Pulumi.yaml")).expect("links");
        assert_eq!(read_runtime(&checkout, &dir).ok().as_deref(), Some("yaml"));
    }
}
