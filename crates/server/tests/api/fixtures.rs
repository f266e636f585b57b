//! What deployment tests run against: a real git repository made here, a stand-in `pulumi`
//! (the real CLI cannot be installed in tests; the server finds it by `--pulumi`), and helpers
//! that follow a deployment through the API.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use keyless_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::helpers::{TestApp, spawn_with};

/// How long a deployment may take to reach a state on a loaded machine.
pub const PATIENCE: Duration = Duration::from_secs(90);

/// The stand-in for the pulumi CLI: prints its arguments and what it sees.
const FAKE_PULUMI: &str = r#"#!/bin/sh
echo "fake pulumi: $*"
echo "program dir: $(basename "$PWD")"
[ -f Pulumi.yaml ] && echo "found Pulumi.yaml"
echo "PLAIN=$PLAIN"
echo "SECRET_TOKEN=$SECRET_TOKEN"
"#;

/// A git repository with a YAML Pulumi program in `infra/`, and the fake CLI.
pub struct Fixture {
    pub dir: TempDir,
    pub repo: PathBuf,
    pub pulumi: PathBuf,
}

fn git(repo: &Path, args: &[&str]) {
    let status = Command::new("git")
        .args(args)
        .current_dir(repo)
        .env("GIT_AUTHOR_NAME", "Test")
        .env("GIT_AUTHOR_EMAIL", "test@example.com")
        .env("GIT_COMMITTER_NAME", "Test")
        .env("GIT_COMMITTER_EMAIL", "test@example.com")
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join("infra")).expect("mkdir");
        git(&repo, &["init", "--quiet", "--initial-branch=main"]);
        std::fs::write(
            repo.join("infra/Pulumi.yaml"),
            "name: website\nruntime: yaml\nresources: {}\n",
        )
        .expect("writes");
        std::fs::write(repo.join("README.md"), "The website's infrastructure.\n").expect("writes");
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "--quiet", "-m", "First program"]);
        let pulumi = dir.path().join("bin/pulumi");
        std::fs::create_dir_all(pulumi.parent().expect("bin")).expect("mkdir");
        std::fs::write(&pulumi, FAKE_PULUMI).expect("writes");
        std::fs::set_permissions(&pulumi, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        Self { dir, repo, pulumi }
    }

    /// A deployment request from this repository, with these pre-run commands.
    pub fn request(&self, operation: &str, commands: &[&str]) -> Value {
        json!({
            "operation": operation,
            "sourceContext": {"git": {
                "repoUrl": self.repo.display().to_string(),
                "branch": "refs/heads/main",
                "repoDir": "infra"
            }},
            "operationContext": {
                "preRunCommands": commands,
                "environmentVariables": {
                    "PLAIN": "plain-value",
                    "SECRET_TOKEN": {"secret": SECRET}
                }
            }
        })
    }
}

/// The secret environment variable's value in [`Fixture::request`].
pub const SECRET: &str = "s3cr3t-v4lue-0f-the-token";

/// A seeded server whose deployments run the fake pulumi, `max` at a time per organization.
pub async fn deploy_app(fixture: &Fixture, max: usize) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.pulumi = Some(fixture.pulumi.clone());
    config.deploy.max_concurrent_deployments = max;
    let (app, tokens) = spawn_with(config, data_dir).await;
    app.signed_in(tokens.expect("seeded"))
}

/// `/api/stacks/acme/<project>/<stack>/deployments`.
pub fn deployments(project: &str, stack: &str) -> String {
    format!("/api/stacks/acme/{project}/{stack}/deployments")
}

impl TestApp {
    /// Queues a deployment as the member; returns its id.
    pub async fn deploy(&self, base: &str, body: &Value) -> String {
        let reply = self.write(Method::POST, base, &self.member, body).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        reply.body["id"].as_str().expect("an id").to_owned()
    }

    /// The deployment, as `GET …/deployments/{id}` returns it.
    pub async fn deployment(&self, base: &str, id: &str) -> Value {
        let reply = self.get(&format!("{base}/{id}"), &self.member).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.body
    }

    /// Polls the deployment until `done` holds; panics after [`PATIENCE`].
    pub async fn wait_for(
        &self,
        base: &str,
        id: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let start = Instant::now();
        loop {
            let deployment = self.deployment(base, id).await;
            if done(&deployment) {
                return deployment;
            }
            if start.elapsed() > PATIENCE {
                let logs = self.log_text(base, id).await;
                panic!("deployment never {what}: {deployment}\n{logs}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the deployment has finished.
    pub async fn finished(&self, base: &str, id: &str) -> Value {
        self.wait_for(base, id, "finished", |d| {
            ["failed", "succeeded", "skipped"].contains(&d["status"].as_str().unwrap_or(""))
        })
        .await
    }

    /// Every log line so far, following continuation tokens until none is given or the
    /// deployment is still running and nothing new came.
    pub async fn log_lines(&self, base: &str, id: &str) -> Vec<Value> {
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let path = match &token {
                Some(t) => format!("{base}/{id}/logs?continuationToken={t}"),
                None => format!("{base}/{id}/logs"),
            };
            let reply = self.get(&path, &self.member).await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            assert_eq!(reply.body["__type"], "DeploymentLogs");
            let page = reply.body["lines"].as_array().cloned().unwrap_or_default();
            let empty = page.is_empty();
            lines.extend(page);
            match reply.body["nextToken"].as_str() {
                Some(next) if !next.is_empty() && !empty => token = Some(next.to_owned()),
                _ => return lines,
            }
        }
    }

    /// The log as text: headers as `## name`, then lines.
    pub async fn log_text(&self, base: &str, id: &str) -> String {
        self.log_lines(base, id)
            .await
            .iter()
            .map(|l| match l["header"].as_str() {
                Some(header) => format!("## {header}\n"),
                None => l["line"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    }

    /// Waits until the log contains `needle`; returns the log.
    pub async fn wait_for_log(&self, base: &str, id: &str, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.log_text(base, id).await;
            if text.contains(needle) {
                return text;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "never logged {needle:?}:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// The steps' names and statuses.
pub fn steps(deployment: &Value) -> Vec<(String, String)> {
    deployment["jobs"][0]["steps"]
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap_or_default().to_owned(),
                        s["status"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}
