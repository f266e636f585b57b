//! The queue and the lifecycle around it: one deployment per stack at a time in order, the
//! organization's concurrency limit, skipping superseded deployments, cancelling (the whole
//! process group ends), and recovery after a crash.

use std::time::Duration;

use keyless_server::Config;
use keyless_server::deploy::{AGENT_LOST_LINE, INTERRUPTED_LINE};
use keyless_server::seed::DemoTokens;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::fixtures::{
    Fixture, Gate, deploy_app, deployments, process_alive, steps, wait_until_ended,
};
use crate::helpers::spawn_with;

fn status(deployment: &Value) -> &str {
    deployment["status"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn one_per_stack_in_order_and_the_organization_limit() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 2).await;
    let gate = Gate::new().await;
    let hold = gate.wait();
    let dev = deployments("website", "dev");
    let staging = deployments("website", "staging");
    let payments = deployments("payments", "dev");
    let first = app.deploy(&dev, &fixture.request("update", &[&hold])).await;
    let second = app.deploy(&dev, &fixture.request("update", &[&hold])).await;
    let third = app
        .deploy(&staging, &fixture.request("update", &[&hold]))
        .await;
    let fourth = app
        .deploy(&payments, &fixture.request("update", &[&hold]))
        .await;

    let running = |d: &Value| status(d) == "running";
    app.wait_for(&dev, &first, "ran", running).await;
    app.wait_for(&staging, &third, "ran", running).await;
    // Give the scheduler every chance to break the rules before looking.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(status(&app.deployment(&dev, &second).await), "not-started");
    assert_eq!(
        status(&app.deployment(&payments, &fourth).await),
        "not-started"
    );
    let meta = app
        .get("/api/orgs/acme/deployments/metadata", &app.member)
        .await;
    assert_eq!(meta.body["deploymentCounts"]["running"], 2);

    gate.open();
    let mut started = Vec::new();
    for (base, id) in [
        (&dev, &first),
        (&dev, &second),
        (&staging, &third),
        (&payments, &fourth),
    ] {
        let done = app.finished(base, id).await;
        assert_eq!(status(&done), "succeeded");
        started.push((
            done["jobs"][0]["started"]
                .as_str()
                .expect("started")
                .to_owned(),
            id.clone(),
        ));
    }
    let second_started = &started[1].0;
    let first_finished = app.deployment(&dev, &first).await["modified"]
        .as_str()
        .expect("modified")
        .to_owned();
    assert!(
        second_started >= &first_finished,
        "the stack ran two at once"
    );
    assert!(started[0].0 < started[1].0, "FIFO within the stack");
}

#[tokio::test]
async fn superseded_deployments_are_skipped() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let dev = deployments("website", "dev");
    let body = |n: &str| {
        let mut body = fixture.request("update", &[&format!("echo run {n}")]);
        body["operationContext"]["options"] = json!({"skipIntermediateDeployments": true});
        body
    };
    // Settings make the stack pausable; then hold its queue.
    let settings = app
        .write(
            Method::POST,
            &format!("{dev}/settings"),
            &app.admin,
            &json!({"tag": "x"}),
        )
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
    let pause = app
        .send(app.request(Method::POST, &format!("{dev}/pause"), Some(&app.member)))
        .await;
    assert_eq!(pause.status, StatusCode::OK);
    let ids = [
        app.deploy(&dev, &body("1")).await,
        app.deploy(&dev, &body("2")).await,
        app.deploy(&dev, &body("3")).await,
    ];
    for id in &ids[..2] {
        let skipped = app.finished(&dev, id).await;
        assert_eq!(status(&skipped), "skipped");
        let log = app.log_text(&dev, id).await;
        assert!(log.contains("Skipped: superseded by version"), "{log}");
    }
    assert_eq!(status(&app.deployment(&dev, &ids[2]).await), "not-started");
    let resume = app
        .send(app.request(Method::POST, &format!("{dev}/resume"), Some(&app.member)))
        .await;
    assert_eq!(resume.status, StatusCode::OK);
    assert_eq!(status(&app.finished(&dev, &ids[2]).await), "succeeded");
}

#[tokio::test]
async fn cancel_ends_every_process_of_the_deployment() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let dev = deployments("website", "dev");
    // Marked sleeps: one in the background, one in the foreground, one in a session of its own.
    let command = "sleep 60.0101 & setsid sleep 60.0102 & echo started; sleep 60.0103; echo after";
    let id = app
        .deploy(&dev, &fixture.request("update", &[command]))
        .await;
    app.wait_for_log(&dev, &id, "\nstarted\n").await;
    let markers = ["60.0101", "60.0102", "60.0103"];
    for marker in markers {
        assert!(process_alive(&format!("sleep {marker}")), "{marker} runs");
    }

    let reply = app
        .send(app.request(
            Method::POST,
            &format!("{dev}/{id}/cancel"),
            Some(&app.member),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = app.finished(&dev, &id).await;
    assert_eq!(status(&done), "failed");
    assert_eq!(done["jobs"][0]["status"], "failed");
    let statuses = steps(&done);
    assert_eq!(statuses[3], ("Pre-run command 1".into(), "failed".into()));
    assert_eq!(statuses[4].1, "not-started");
    let log = app.log_text(&dev, &id).await;
    assert!(log.contains("Deployment cancelled by bob"), "{log}");
    assert!(!log.contains("\nafter\n"), "{log}");
    for marker in markers {
        wait_until_ended(&format!("sleep {marker}"), "the cancel").await;
    }
    // A finished deployment cannot be cancelled again.
    let again = app
        .send(app.request(
            Method::POST,
            &format!("{dev}/{id}/cancel"),
            Some(&app.member),
        ))
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_queued_deployment_cancels_at_once() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let dev = deployments("website", "dev");
    let gate = Gate::new().await;
    let running = app
        .deploy(&dev, &fixture.request("update", &[&gate.wait()]))
        .await;
    let queued = app
        .deploy(&dev, &fixture.request("update", &["echo never"]))
        .await;
    let reply = app
        .send(app.request(
            Method::POST,
            &format!("{dev}/{queued}/cancel"),
            Some(&app.admin),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let done = app.finished(&dev, &queued).await;
    assert_eq!(status(&done), "failed");
    assert!(done.get("jobs").is_none(), "it never started: {done}");
    assert!(
        app.log_text(&dev, &queued)
            .await
            .contains("Deployment cancelled by alice")
    );
    gate.open();
    assert_eq!(status(&app.finished(&dev, &running).await), "succeeded");
}

#[tokio::test]
async fn a_restart_fails_what_was_running_and_runs_what_was_queued() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let tokens = DemoTokens {
        admin: app.admin.clone(),
        member: app.member.clone(),
    };
    let dev = deployments("website", "dev");
    let running = app
        .deploy(
            &dev,
            &fixture.request("update", &["echo started; sleep 60"]),
        )
        .await;
    let queued = app
        .deploy(&dev, &fixture.request("update", &["echo second run"]))
        .await;
    app.wait_for_log(&dev, &running, "started\n").await;
    let data_dir = app.crash();

    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    let (app, fresh) = spawn_with(config, data_dir).await;
    assert!(fresh.is_none(), "not seeded again");
    let app = app.signed_in(tokens);
    let failed = app.finished(&dev, &running).await;
    assert_eq!(status(&failed), "failed");
    assert_eq!(
        steps(&failed)[3],
        ("Pre-run command 1".into(), "failed".into())
    );
    let log = app.log_text(&dev, &running).await;
    // Alone on SQLite, the server knows at start that its local agent died with it; on a
    // shared store, the agent's lease lapses as any agent's would.
    let line = match app.database_args().is_empty() {
        true => INTERRUPTED_LINE,
        false => AGENT_LOST_LINE,
    };
    assert!(log.contains(line), "{log}");
    let done = app.finished(&dev, &queued).await;
    assert_eq!(
        status(&done),
        "succeeded",
        "{}",
        app.log_text(&dev, &queued).await
    );
    assert!(app.log_text(&dev, &queued).await.contains("second run"));
}
