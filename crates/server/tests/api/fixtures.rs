//! What deployment tests run against: a real git repository made here, a stand-in `pulumi`
//! (the real CLI cannot be installed in tests; the server finds it by `--pulumi`), and helpers
//! that follow a deployment through the API.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyless_server::Config;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

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
    /// Holds the repository and the CLI; removed with the fixture.
    _dir: TempDir,
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
        Self {
            _dir: dir,
            repo,
            pulumi,
        }
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
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    config.deploy.max_concurrent_deployments = max;
    let (app, tokens) = spawn_with(config, data_dir).await;
    app.signed_in(tokens.expect("seeded"))
}

/// `/api/stacks/acme/<project>/<stack>/deployments`.
pub fn deployments(project: &str, stack: &str) -> String {
    format!("/api/stacks/acme/{project}/{stack}/deployments")
}

impl TestApp {
    /// Queues a deployment as the admin (a request with settings overrides is an admin's);
    /// returns its id.
    pub async fn deploy(&self, base: &str, body: &Value) -> String {
        let reply = self.write(Method::POST, base, &self.admin, body).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
        reply.body["id"].as_str().expect("an id").to_owned()
    }

    /// Queues a deployment as the admin and waits for its end; returns it and its log.
    pub async fn run(&self, base: &str, body: &Value) -> (Value, String) {
        let id = self.deploy(base, body).await;
        let done = self.finished(base, &id).await;
        let log = self.log_text(base, &id).await;
        (done, log)
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

/// A loopback port a deployment's command reaches from its sandbox (which shares the network
/// but no folder with the tests): what a command sends is kept, in order.
pub struct Outbox {
    port: u16,
    received: Arc<Mutex<Vec<String>>>,
}

impl Outbox {
    pub async fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let port = listener.local_addr().expect("address").port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let kept = received.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut text = String::new();
                    if stream.read_to_string(&mut text).await.is_ok()
                        && let Ok(mut kept) = kept.lock()
                    {
                        kept.push(text);
                    }
                });
            }
        });
        Self { port, received }
    }

    /// A shell command sending the expansion of `value` (shell syntax, e.g. `"$HOME"`) here.
    pub fn send(&self, value: &str) -> String {
        format!("printf '%s' {value} > /dev/tcp/127.0.0.1/{}", self.port)
    }

    /// Everything sent so far; waits a little for a sender that has just finished.
    pub async fn received(&self) -> Vec<String> {
        tokio::time::sleep(Duration::from_millis(200)).await;
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// A gate on a loopback port: a deployment's command waits at it (`read` from the port) until
/// the test opens it.
pub struct Gate {
    port: u16,
    open: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Gate {
    pub async fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
        let port = listener.local_addr().expect("address").port();
        let open = Arc::new(tokio::sync::watch::channel(false).0);
        let signal = open.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut opened = signal.subscribe();
                tokio::spawn(async move {
                    if opened.wait_for(|open| *open).await.is_ok() {
                        let _ = stream.write_all(b"open\n").await;
                    }
                });
            }
        });
        Self { port, open }
    }

    /// The shell command that waits until the gate opens.
    pub fn wait(&self) -> String {
        format!("read -r _ < /dev/tcp/127.0.0.1/{}", self.port)
    }

    /// Lets every waiting command, and every later one, through.
    pub fn open(&self) {
        self.open.send_replace(true);
    }
}

/// Asserts of finished runs (stack's deployments path, started, ended; times as the API writes
/// them, which sort as text) that each stack's runs never overlapped, and that never more than
/// `limit` ran at once.
pub fn assert_one_per_stack_within(runs: &[(String, String, String)], limit: usize) {
    for (stack, ..) in runs {
        let order: Vec<_> = runs.iter().filter(|(base, ..)| base == stack).collect();
        for pair in order.windows(2) {
            assert!(pair[1].1 >= pair[0].2, "{stack} ran two at once: {pair:?}");
        }
    }
    for (_, started, _) in runs {
        let at_once = runs
            .iter()
            .filter(|(_, s, e)| s.as_str() <= started.as_str() && started.as_str() < e.as_str())
            .count();
        assert!(at_once <= limit, "{at_once} ran at once at {started}");
    }
}

/// Waits until no process's command line is `command` (see [`process_alive`]); panics after
/// [`PATIENCE`] saying it `outlived` what should have ended it.
pub async fn wait_until_ended(command: &str, outlived: &str) {
    let start = Instant::now();
    while process_alive(command) {
        assert!(start.elapsed() < PATIENCE, "{command} outlived {outlived}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether a process whose whole command line is `command` (arguments joined by spaces) is
/// alive on this machine, seen from outside any sandbox (zombies aside).
pub fn process_alive(command: &str) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return false;
    };
    entries.flatten().any(|entry| {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        !zombie
            && String::from_utf8_lossy(&cmdline)
                .replace('\0', " ")
                .trim_end()
                == command
    })
}

/// A preview of `acme/website/prod` held in its queue (deployments paused), so that its log
/// stays empty until a test writes it; returns the stack's deployments path and the id.
pub async fn held_preview(app: &TestApp) -> (String, String) {
    let base = deployments("website", "prod");
    let pause = app
        .write(
            Method::POST,
            &format!("{base}/pause"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(pause.status, StatusCode::OK, "{}", pause.text);
    let id = app.deploy(&base, &json!({"operation": "preview"})).await;
    (base, id)
}
