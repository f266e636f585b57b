//! Agents: real `keyless-server agent` processes claim their pool's deployments from a test
//! server, run them in their own sandboxes and report back; the server runs none of them. An
//! agent killed mid-deployment is lost within the lease and its stack moves on to another
//! agent; a pool's token reaches only what its agents hold; a deployment sees nothing of its
//! agent.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keyless_server::Config;
use keyless_server::deploy::AGENT_LOST_LINE;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::fixtures::{
    Fixture, Gate, PATIENCE, SECRET, assert_one_per_stack_within, deployments, wait_until_ended,
};
use crate::helpers::{TEST_LEASE, TestApp, spawn_with};

/// A `keyless-server agent` process, killed when dropped.
struct Agent {
    child: Child,
    work: TempDir,
}

impl Agent {
    /// Starts an agent of the pool whose token is `token`, running deployments with the
    /// fixture's pulumi.
    fn start(app: &TestApp, token: &str, fixture: &Fixture) -> Self {
        let work = tempfile::tempdir().expect("a work dir");
        let child = Command::new(env!("CARGO_BIN_EXE_keyless-server"))
            .args(["agent", "--server", &app.base_url, "--pulumi"])
            .arg(&fixture.pulumi)
            .arg("--work-dir")
            .arg(work.path())
            .env("KEYLESS_AGENT_TOKEN", token)
            .env("RUST_LOG", "keyless_server=warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the agent starts");
        Self { child, work }
    }

    /// Kills it as `kill -9` would.
    fn kill(&mut self) {
        self.child.kill().expect("killed");
        self.child.wait().expect("reaped");
    }

    /// Waits for it to exit by itself; its status.
    async fn exited(&mut self) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("waits") {
                return status;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the agent runs on"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A seeded server with short leases, `max` deployments at a time per organization.
async fn server(fixture: &Fixture, max: usize) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    config.deploy.max_concurrent_deployments = max;
    config.deploy.deployment_lease = TEST_LEASE.into();
    let (app, tokens) = spawn_with(config, data_dir).await;
    app.signed_in(tokens.expect("seeded"))
}

/// Makes a pool named `name`; its id and token.
async fn pool(app: &TestApp, name: &str) -> (String, String) {
    let reply = app
        .write(
            Method::POST,
            "/api/orgs/acme/agent-pools",
            &app.admin,
            &json!({ "name": name }),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let text = |field: &str| reply.body[field].as_str().expect(field).to_owned();
    (text("id"), text("tokenValue"))
}

/// Routes the stack of deployments path `base` to pool `pool`.
async fn route(app: &TestApp, base: &str, pool: &str) {
    let reply = app
        .patch(&format!("{base}/settings"), &json!({ "agentPoolID": pool }))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

/// A server whose `website/dev` runs on agents of pool `builders`, no agent started yet.
struct Routed {
    app: TestApp,
    pool_id: String,
    token: String,
    /// `website/dev`'s deployments path.
    dev: String,
}

async fn routed(fixture: &Fixture) -> Routed {
    let app = server(fixture, 4).await;
    let (pool_id, token) = pool(&app, "builders").await;
    let dev = deployments("website", "dev");
    route(&app, &dev, &pool_id).await;
    Routed {
        app,
        pool_id,
        token,
        dev,
    }
}

fn status(deployment: &Value) -> &str {
    deployment["status"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_pools_agent_runs_its_deployments_and_the_server_runs_none() {
    let fixture = Fixture::new();
    let Routed {
        app,
        pool_id,
        token,
        dev,
    } = routed(&fixture).await;

    // No agent yet: the server does not run it itself.
    let id = app
        .deploy(&dev, &fixture.request("update", &["echo ran on an agent"]))
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(status(&app.deployment(&dev, &id).await), "not-started");

    let agent = Agent::start(&app, &token, &fixture);
    let done = app.finished(&dev, &id).await;
    let log = app.log_text(&dev, &id).await;
    assert_eq!(status(&done), "succeeded", "{log}");
    assert!(log.contains("\nran on an agent\n"), "{log}");
    assert!(log.contains("fake pulumi: up"), "{log}");
    // The secret reached the deployment, and its log shows it redacted.
    assert!(!log.contains(SECRET), "{log}");
    assert!(log.contains("SECRET_TOKEN=[secret]"), "{log}");
    // It ran in the agent's work dir, not the server's.
    let work = agent.work.path().canonicalize().expect("resolves");
    assert!(
        log.contains(&format!("Work directory: {}/{id}", work.display())),
        "{log}"
    );
    let steps: Vec<&str> = done["jobs"][0]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["status"].as_str().unwrap_or_default())
        .collect();
    assert!(steps.iter().all(|s| *s == "succeeded"), "{steps:?}");

    // The pool lists its agent, online.
    let detail = app
        .get(&format!("/api/orgs/acme/agent-pools/{pool_id}"), &app.admin)
        .await;
    assert_eq!(detail.status, StatusCode::OK, "{}", detail.text);
    let agents = detail.body["agents"].as_array().expect("agents");
    assert_eq!(agents.len(), 1, "{}", detail.text);
    assert_eq!(agents[0]["status"], "online");
    assert_eq!(agents[0]["pid"], agent.child.id().to_string());
    assert_eq!(agents[0]["version"], env!("CARGO_PKG_VERSION"));
    // The list says so too, beside a pool no agent has reached.
    pool(&app, "idle").await;
    let list = app.get("/api/orgs/acme/agent-pools", &app.admin).await;
    let state: Vec<(&str, &str, bool)> = list.body["agentPools"]
        .as_array()
        .expect("pools")
        .iter()
        .map(|p| {
            let name = p["name"].as_str().unwrap_or_default();
            let status = p["status"].as_str().unwrap_or_default();
            (name, status, p["lastSeen"].as_i64().unwrap_or_default() > 0)
        })
        .collect();
    assert_eq!(
        state,
        [("builders", "online", true), ("idle", "offline", false)]
    );

    // A stack of no pool still runs on the server.
    let staging = deployments("website", "staging");
    let (done, log) = app
        .run(
            &staging,
            &fixture.request("update", &["echo on the server"]),
        )
        .await;
    assert_eq!(status(&done), "succeeded", "{log}");
    assert!(!log.contains(&work.display().to_string()), "{log}");
}

#[tokio::test]
async fn an_agent_killed_mid_deployment_is_lost_and_the_stack_moves_on_to_another() {
    let fixture = Fixture::new();
    let Routed {
        app,
        pool_id,
        token,
        dev,
    } = routed(&fixture).await;
    let gate = Gate::new().await;
    let command = format!("echo started; {}; sleep 60.0401", gate.wait());

    let mut first = Agent::start(&app, &token, &fixture);
    let running = app
        .deploy(&dev, &fixture.request("update", &[&command]))
        .await;
    app.wait_for_log(&dev, &running, "\nstarted\n").await;
    // The pool lists what its agent runs.
    let detail = app
        .get(&format!("/api/orgs/acme/agent-pools/{pool_id}"), &app.admin)
        .await;
    assert_eq!(
        detail.body["agents"][0]["running"],
        json!([{"project": "website", "stack": "dev", "version": 1}]),
        "{}",
        detail.text
    );
    let queued = app
        .deploy(&dev, &fixture.request("update", &["echo second run"]))
        .await;

    let killed = Instant::now();
    first.kill();
    // Its sandbox died with it.
    wait_until_ended(&gate.wait(), "its agent").await;
    let failed = app.finished(&dev, &running).await;
    let waited = killed.elapsed();
    assert_eq!(status(&failed), "failed");
    // Within the lease (3 s) and the next claim or scheduling pass.
    assert!(waited < Duration::from_secs(15), "failed after {waited:?}");
    let log = app.log_text(&dev, &running).await;
    assert!(
        log.contains("\nstarted\n"),
        "lines before the kill stay: {log}"
    );
    assert_eq!(log.matches(AGENT_LOST_LINE).count(), 1, "{log}");

    // The stack's next deployment waits for an agent, then runs on the new one.
    assert_eq!(status(&app.deployment(&dev, &queued).await), "not-started");
    let second = Agent::start(&app, &token, &fixture);
    let done = app.finished(&dev, &queued).await;
    let log = app.log_text(&dev, &queued).await;
    assert_eq!(status(&done), "succeeded", "{log}");
    let work = second.work.path().canonicalize().expect("resolves");
    assert!(log.contains(&work.display().to_string()), "{log}");
}

#[tokio::test]
async fn two_agents_run_twenty_deployments_in_stack_order_within_the_limit_each_line_once() {
    let fixture = Fixture::new();
    let app = server(&fixture, 2).await;
    let (pool_id, token) = pool(&app, "builders").await;
    let stacks = [
        deployments("website", "dev"),
        deployments("website", "staging"),
        deployments("payments", "dev"),
        deployments("payments", "prod"),
        deployments("data-platform", "dev"),
    ];
    for stack in &stacks {
        route(&app, stack, &pool_id).await;
    }
    let _agents = [
        Agent::start(&app, &token, &fixture),
        Agent::start(&app, &token, &fixture),
    ];
    let mut queued = Vec::new();
    for n in 0..20 {
        let base = &stacks[n % stacks.len()];
        let command = format!("for i in $(seq 1 300); do echo \"run {n} line $i\"; done");
        let id = app
            .deploy(base, &fixture.request("update", &[&command]))
            .await;
        queued.push((base.clone(), id, n));
    }

    let mut runs = Vec::new();
    for (base, id, n) in &queued {
        let done = app.finished(base, id).await;
        let log = app.log_text(base, id).await;
        assert_eq!(status(&done), "succeeded", "{log}");
        for i in 1..=300 {
            let line = format!("\nrun {n} line {i}\n");
            assert_eq!(log.matches(&line).count(), 1, "{line:?} once: {log}");
        }
        assert_eq!(log.matches("fake pulumi: up").count(), 1, "ran once: {log}");
        let started = done["jobs"][0]["started"].as_str().expect("started");
        let ended = done["modified"].as_str().expect("modified");
        runs.push((base.clone(), started.to_owned(), ended.to_owned()));
    }
    assert_one_per_stack_within(&runs, 2);
}

/// A request to the agents' API as agent `agent` of the pool whose token is `token`.
async fn as_agent(
    app: &TestApp,
    token: &str,
    agent: &str,
    path: &str,
    body: &Value,
) -> (u16, Value) {
    let reply = app
        .send(
            app.request(Method::POST, path, Some(token))
                .header("keyless-agent", agent)
                .json(body),
        )
        .await;
    (reply.status.as_u16(), reply.body)
}

#[tokio::test]
async fn a_pools_token_reaches_only_what_its_agents_hold_and_a_deleted_pools_nothing() {
    let fixture = Fixture::new();
    let app = server(&fixture, 4).await;
    let (_, other_token) = pool(&app, "others").await;
    let (pool_id, token) = pool(&app, "builders").await;
    let dev = deployments("website", "dev");
    route(&app, &dev, &pool_id).await;
    let id = app
        .deploy(&dev, &fixture.request("update", &["echo hello"]))
        .await;
    let claim = "/api/agent/claim";

    // Another pool's agent finds nothing to claim; a user's token, none, or no agent id, fail.
    assert_eq!(
        as_agent(&app, &other_token, "a1", claim, &json!({}))
            .await
            .0,
        204
    );
    assert_eq!(
        as_agent(&app, &app.admin, "a1", claim, &json!({})).await.0,
        401
    );
    let bare = app.send(
        app.request(Method::POST, claim, None)
            .header("keyless-agent", "a1"),
    );
    assert_eq!(bare.await.status, StatusCode::UNAUTHORIZED);
    let anonymous = app
        .send(
            app.request(Method::POST, claim, Some(&token))
                .json(&json!({})),
        )
        .await;
    assert_eq!(
        anonymous.status,
        StatusCode::BAD_REQUEST,
        "{}",
        anonymous.text
    );

    // The pool's agent claims it, with its secret opened: the one plaintext an agent gets.
    let (code, assignment) = as_agent(&app, &token, "b1", claim, &json!({})).await;
    assert_eq!(code, 200, "{assignment}");
    assert_eq!(assignment["id"], id.as_str());
    let env = &assignment["settings"]["operationContext"]["environmentVariables"];
    assert_eq!(env["SECRET_TOKEN"]["secret"], SECRET);

    // Nobody else may report, mint or renew for it: not another pool, nor another agent of
    // the same pool.
    let report = format!("/api/agent/deployments/{id}/reports");
    let line = json!({"seq": 1, "lines": [{"step": 0, "stepOffset": 0,
        "timestamp": "2026-12-06T00:00:00Z", "line": "forged\n"}]});
    let token_path = format!("/api/agent/deployments/{id}/token");
    for (who, agent) in [(&other_token, "b1"), (&token, "b2")] {
        assert_eq!(as_agent(&app, who, agent, &report, &line).await.0, 409);
        assert_eq!(
            as_agent(&app, who, agent, &token_path, &json!({})).await.0,
            409
        );
        let renew = json!({"agent": {}, "deployments": [id]});
        let (code, held) = as_agent(&app, who, agent, "/api/agent/leases", &renew).await;
        assert_eq!((code, held["held"].clone()), (200, json!([])));
    }
    assert!(!app.log_text(&dev, &id).await.contains("forged"));

    // Its holder's report is stored once, however often it is sent.
    for _ in 0..3 {
        assert_eq!(as_agent(&app, &token, "b1", &report, &line).await.0, 204);
    }
    assert_eq!(app.log_text(&dev, &id).await.matches("forged").count(), 1);
    // Out of order, or ending it as anything but succeeded or failed: refused.
    let skipped = json!({"seq": 3, "lines": []});
    assert_eq!(as_agent(&app, &token, "b1", &report, &skipped).await.0, 409);
    let odd = json!({"seq": 2, "finish": {"status": "running", "at": "2026-12-06T00:00:00Z"}});
    assert_eq!(as_agent(&app, &token, "b1", &report, &odd).await.0, 400);

    // Deleted, the pool's token is refused at once, and a running agent of it stops.
    let delete = app
        .send(app.request(
            Method::DELETE,
            &format!("/api/orgs/acme/agent-pools/{pool_id}?force=true"),
            Some(&app.admin),
        ))
        .await;
    assert_eq!(delete.status, StatusCode::NO_CONTENT, "{}", delete.text);
    assert_eq!(as_agent(&app, &token, "b1", claim, &json!({})).await.0, 401);
    assert_eq!(as_agent(&app, &token, "b1", &report, &line).await.0, 401);
    let mut agent = Agent::start(&app, &token, &fixture);
    assert!(!agent.exited().await.success());
}

#[tokio::test]
async fn a_deployment_sees_nothing_of_its_agent() {
    let fixture = Fixture::new();
    let Routed {
        app,
        pool_id: _,
        token,
        dev,
    } = routed(&fixture).await;
    let _agent = Agent::start(&app, &token, &fixture);
    let probe = "env; for f in /proc/[0-9]*/environ /proc/[0-9]*/cmdline; do \
                 tr '\\0' ' ' < $f; echo; done; echo probed";
    let (done, log) = app.run(&dev, &fixture.request("update", &[probe])).await;
    assert_eq!(status(&done), "succeeded", "{log}");
    assert!(log.contains("\nprobed\n"), "{log}");
    assert!(!log.contains(&token), "the pool's token leaked: {log}");
    assert!(!log.contains("KEYLESS_AGENT_TOKEN"), "{log}");
    assert!(
        !log.contains("agent --server"),
        "the agent's command line: {log}"
    );
}

/// The parent of process `pid`, from `/proc/<pid>/stat`.
fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn command_line(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    String::from_utf8_lossy(&raw).replace('\0', " ")
}

#[tokio::test]
async fn the_server_runs_no_step_itself_its_local_agent_does() {
    let fixture = Fixture::new();
    let app = server(&fixture, 4).await;
    let dev = deployments("website", "dev");
    let id = app
        .deploy(
            &dev,
            &fixture.request("update", &["echo started; sleep 60.0501"]),
        )
        .await;
    app.wait_for_log(&dev, &id, "\nstarted\n").await;
    let step = std::fs::read_dir("/proc")
        .expect("lists processes")
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .find(|&pid| command_line(pid).trim_end() == "sleep 60.0501")
        .expect("the step's process");
    // Up from the step: the sandbox, then the agent, then this process (the server).
    let mut ancestors = Vec::new();
    let mut pid = step;
    while let Some(up) = parent(pid).filter(|&up| up > 1) {
        ancestors.push(up);
        pid = up;
    }
    let server = std::process::id();
    let below_server = ancestors
        .iter()
        .position(|&pid| pid == server)
        .map(|at| ancestors[at - 1])
        .expect("the step runs under the server's process tree");
    assert!(
        command_line(below_server).contains(" agent --server http://127.0.0.1:"),
        "the server's child that runs the step is its local agent: {}",
        command_line(below_server)
    );
    let cancel = app
        .send(app.request(
            Method::POST,
            &format!("{dev}/{id}/cancel"),
            Some(&app.admin),
        ))
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    wait_until_ended("sleep 60.0501", "the cancel").await;
}

#[tokio::test]
async fn malformed_agent_requests_get_clear_errors_and_store_nothing() {
    let fixture = Fixture::new();
    let Routed {
        app,
        pool_id: _,
        token,
        dev,
    } = routed(&fixture).await;
    let id = app
        .deploy(&dev, &fixture.request("update", &["echo hello"]))
        .await;
    let (code, _) = as_agent(&app, &token, "b1", "/api/agent/claim", &json!({})).await;
    assert_eq!(code, 200);
    let report = format!("/api/agent/deployments/{id}/reports");
    let at = "2026-12-06T00:00:00Z";
    for (body, why) in [
        (json!({"seq": 0}), "seq"),
        (json!({"seq": "one"}), "not valid JSON"),
        (
            json!({"seq": 1, "lines": [{"step": 0, "timestamp": at}]}),
            "lines[0]",
        ),
        (
            json!({"seq": 1, "lines": [{"step": 0, "timestamp": at, "header": "h", "line": "l"}]}),
            "lines[0]",
        ),
        (
            json!({"seq": 1, "lines": [{"step": -1, "stepOffset": 0, "timestamp": at, "line": "l"}]}),
            "lines[0]",
        ),
        (
            json!({"seq": 1, "step": {"position": 0, "status": "not-started", "at": at}}),
            "step",
        ),
    ] {
        let reply = app
            .send(
                app.request(Method::POST, &report, Some(&token))
                    .header("keyless-agent", "b1")
                    .json(&body),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            reply.text
        );
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(why), "{body}: {message}");
    }
    // Larger than any report: refused before it is read whole.
    let huge = "x".repeat(17 * 1024 * 1024);
    let reply = app
        .send(
            app.request(Method::POST, &report, Some(&token))
                .header("keyless-agent", "b1")
                .header("content-type", "application/json")
                .body(huge),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.text
    );
    // Nothing was stored, and a good report still is.
    let good = json!({"seq": 1, "lines": [{"step": 0, "stepOffset": 0, "timestamp": at,
        "line": "kept\n"}]});
    assert_eq!(as_agent(&app, &token, "b1", &report, &good).await.0, 204);
    let log = app.log_text(&dev, &id).await;
    assert_eq!(log, "kept\n");
}

#[tokio::test]
async fn a_stopping_server_answers_waiting_claims_at_once() {
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let work = tempfile::tempdir().expect("temp work dir");
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_keyless-server"))
        .args(["--listen", "127.0.0.1:0", "--agents", "0", "--data-dir"])
        .arg(data_dir.path())
        .arg("--work-dir")
        .arg(work.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the server starts");
    let stdout = server.stdout.take().expect("stdout");
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let base = loop {
        let line = lines
            .next_line()
            .await
            .expect("reads")
            .expect("a listening line");
        if let Some(url) = line.strip_prefix("Keyless listening on ") {
            break url.to_owned();
        }
    };
    let tokens: Value = serde_json::from_slice(
        &std::fs::read(data_dir.path().join("demo-tokens.json")).expect("demo tokens"),
    )
    .expect("JSON");
    let admin = tokens["admin"].as_str().expect("admin token");
    let client = reqwest::Client::new();
    let made: Value = client
        .post(format!("{base}/api/orgs/acme/agent-pools"))
        .header("authorization", format!("token {admin}"))
        .json(&json!({"name": "builders"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let token = made["tokenValue"].as_str().expect("token").to_owned();

    // An agent waits for work; the server is told to stop.
    let claim = tokio::spawn(
        client
            .post(format!("{base}/api/agent/claim"))
            .header("authorization", format!("token {token}"))
            .header("keyless-agent", "a1")
            .json(&json!({"waitMillis": 20_000}))
            .send(),
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stopping = Instant::now();
    let pid = nix::unistd::Pid::from_raw(server.id().expect("running") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("signalled");
    let answer = claim.await.expect("joins").expect("answered");
    assert_eq!(answer.status(), StatusCode::NO_CONTENT);
    let status = server.wait().await.expect("exits");
    assert!(status.success(), "{status}");
    let took = stopping.elapsed();
    assert!(took < Duration::from_secs(5), "stopping took {took:?}");
}

/// This test server's local agent: its pid, its token (from its environment, as only a process
/// of the same user can read it) and the loopback URL it reaches the server at.
/// Waits for it to run (it is started beside the server, and again when it exits).
async fn local_agent(app: &TestApp) -> (u32, String, String) {
    let data_dir = app.data_dir.path().display().to_string();
    let start = Instant::now();
    let pid = loop {
        let found = std::fs::read_dir("/proc")
            .expect("lists processes")
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .find(|&pid| {
                let line = command_line(pid);
                line.contains(" agent --server ") && line.contains(&format!(" {data_dir} "))
            });
        if let Some(pid) = found {
            break pid;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the server's local agent never ran"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("its environment");
    let token = String::from_utf8_lossy(&environ)
        .split('\0')
        .find_map(|var| var.strip_prefix("KEYLESS_AGENT_TOKEN=").map(str::to_owned))
        .expect("its token");
    let line = command_line(pid);
    let url = line
        .split(' ')
        .skip_while(|arg| *arg != "--server")
        .nth(1)
        .expect("its server URL")
        .to_owned();
    (pid, token, url)
}

#[tokio::test]
async fn the_local_agents_token_works_only_on_their_loopback_listener() {
    let fixture = Fixture::new();
    let app = server(&fixture, 4).await;
    let (_, token, loopback) = local_agent(&app).await;
    // Through the listener every client reaches, the token is no pool's: refused.
    let public = as_agent(&app, &token, "intruder", "/api/agent/claim", &json!({})).await;
    assert_eq!(public.0, 401, "{}", public.1);
    // Through the loopback listener it is the local agents' (nothing is queued: 204).
    let reply = reqwest::Client::new()
        .post(format!("{loopback}/api/agent/claim"))
        .header("authorization", format!("token {token}"))
        .header("keyless-agent", "intruder")
        .json(&json!({}))
        .send()
        .await
        .expect("answers");
    assert_eq!(reply.status(), StatusCode::NO_CONTENT);
    // And the loopback listener serves the agents' API alone.
    let user = reqwest::Client::new()
        .get(format!("{loopback}/api/user"))
        .header("authorization", format!("token {}", app.admin))
        .send()
        .await
        .expect("answers");
    assert_eq!(user.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_local_agent_that_dies_is_started_again() {
    let fixture = Fixture::new();
    let app = server(&fixture, 4).await;
    let (pid, ..) = local_agent(&app).await;
    let pid = nix::unistd::Pid::from_raw(pid as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL).expect("killed");
    let dev = deployments("website", "dev");
    let (done, log) = app
        .run(
            &dev,
            &fixture.request("update", &["echo after the restart"]),
        )
        .await;
    assert_eq!(status(&done), "succeeded", "{log}");
    let (again, ..) = local_agent(&app).await;
    assert_ne!(again as i32, pid.as_raw(), "a new agent runs it");
}
