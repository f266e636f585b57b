//! Deployments end to end: a real git repository through every step, logs in both modes,
//! secrets kept out of logs and off disk, and the request rules.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::fixtures::{Fixture, SECRET, deploy_app, deployments, steps};
use crate::helpers::{contains, spawn_app};

#[tokio::test]
async fn a_deployment_runs_every_step_from_a_real_repository() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let base = deployments("website", "dev");
    // The secret printed in two writes with a pause between them, cut apart at run time.
    let split =
        r#"printf '%s' "${SECRET_TOKEN%%-*}"; sleep 0.3; printf '%s\n' "-${SECRET_TOKEN#*-}""#;
    let body = fixture.request(
        "preview",
        &[
            "echo \"pre-run sees PLAIN=$PLAIN\"",
            "echo \"leak: $SECRET_TOKEN\" >&2",
            split,
        ],
    );
    let id = app.deploy(&base, &body).await;
    let done = app.finished(&base, &id).await;
    let log = app.log_text(&base, &id).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    assert_eq!(done["pulumiOperation"], "preview");
    assert_eq!(done["version"], 1);
    assert_eq!(done["requestedBy"]["githubLogin"], "alice");
    assert_eq!(
        steps(&done),
        [
            "Setup",
            "Get source",
            "Download dependencies",
            "Pre-run command 1",
            "Pre-run command 2",
            "Pre-run command 3",
            "pulumi preview"
        ]
        .map(|name| (name.to_owned(), "succeeded".to_owned()))
    );
    for needle in [
        "## Get source",
        "Checked out ",
        ": First program",
        "Runtime yaml: YAML programs have no dependencies to install",
        "pre-run sees PLAIN=plain-value",
        "leak: [secret]",
        "fake pulumi: preview --non-interactive --stack acme/website/dev",
        "program dir: infra",
        "found Pulumi.yaml",
        "SECRET_TOKEN=[secret]",
    ] {
        assert!(log.contains(needle), "no {needle:?} in:\n{log}");
    }
    assert!(
        !log.contains(SECRET) && !log.contains(&SECRET[6..]),
        "{log}"
    );
    let env = &done["configuration"]["environmentVariables"];
    assert_eq!(
        env,
        &json!([
            {"name": "PLAIN", "value": "plain-value", "secret": false},
            {"name": "SECRET_TOKEN", "secret": true}
        ])
    );
    assert!(
        !contains(&app.stored_bytes().await, SECRET),
        "the secret is on disk"
    );
    let work_dir = std::env::temp_dir().join("keyless-work").join(&id);
    assert!(
        log.contains(&format!("Work directory: {}", work_dir.display())) && !work_dir.exists(),
        "the work directory is the default one, and removed: {log}"
    );

    // Step mode: a window of one step, then its end.
    let step = |offset: i64, count: i64| {
        format!("{base}/{id}/logs?job=0&step=1&offset={offset}&count={count}")
    };
    let first = app.get(&step(0, 1), &app.member).await;
    assert_eq!(first.body["__type"], "DeploymentLogsStep");
    assert_eq!(first.body["name"], "Get source");
    assert_eq!(first.body["lines"].as_array().map(Vec::len), Some(1));
    assert_eq!(first.body["nextOffset"], 1);
    let rest = app.get(&step(1, 499), &app.member).await;
    assert!(rest.body.get("nextOffset").is_none(), "{}", rest.text);
    assert!(rest.text.contains("Program directory"), "{}", rest.text);
    for count in [0, 500] {
        let reply = app.get(&step(0, count), &app.member).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "count {count}");
    }
}

#[tokio::test]
async fn a_secret_printed_encoded_or_coloured_stays_out_of_the_log() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let base = deployments("website", "dev");
    let commands = [
        "echo \"b64: $(printf '%s' \"$SECRET_TOKEN\" | base64 -w0)\"",
        "echo \"b64 inside: $(printf 'user:%s' \"$SECRET_TOKEN\" | base64 -w0)\"",
        "echo \"url: $(python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ[\"SPECIAL\"], safe=\"\"))')\"",
        "python3 -c 'import os, json; print(\"json:\", json.dumps({\"token\": os.environ[\"SPECIAL\"]}))'",
        "printf 'coloured: %s\\033[31m%s\\033[0m\\n' \"${SECRET_TOKEN%%-*}\" \"-${SECRET_TOKEN#*-}\"",
    ];
    // Characters that URL and JSON encodings change.
    let special = "p@ss/w0rd+\"quoted\" \u{e9}t\u{e9}&more";
    let mut body = fixture.request("preview", &commands);
    body["operationContext"]["environmentVariables"]["SPECIAL"] = json!({"secret": special});
    let id = app.deploy(&base, &body).await;
    let done = app.finished(&base, &id).await;
    let log = app.log_text(&base, &id).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRET);
    for (label, leaked) in [
        ("b64: ", b64.trim_end_matches('=')),
        ("b64 inside: ", &SECRET[4..]),
        ("url: ", "w0rd"),
        ("json: ", "w0rd"),
        ("coloured: ", &SECRET[6..]),
    ] {
        let line = log
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} line in:\n{log}"));
        assert!(line.contains("[secret]"), "{line}");
        assert!(!line.contains(leaked), "{line}");
    }
    let b64_inside = base64::engine::general_purpose::STANDARD.encode(format!("user:{SECRET}"));
    assert!(!log.contains(&b64_inside[8..20]), "{log}");
}

#[tokio::test]
async fn without_a_pulumi_cli_the_step_says_how_to_get_one() {
    if std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|dir| dir.join("pulumi").exists())
    {
        eprintln!("skipped: a pulumi CLI is installed on this machine");
        return;
    }
    let fixture = Fixture::new();
    let app = spawn_app().await;
    let base = deployments("website", "dev");
    let id = app
        .deploy(&base, &fixture.request("update", &["echo before"]))
        .await;
    let done = app.finished(&base, &id).await;
    let log = app.log_text(&base, &id).await;
    assert_eq!(done["status"], "failed", "{log}");
    let last = steps(&done).pop().expect("steps");
    assert_eq!(last, ("pulumi update".to_owned(), "failed".to_owned()));
    assert!(
        log.contains("the pulumi CLI was not found") && log.contains("--pulumi"),
        "{log}"
    );
}

#[tokio::test]
async fn a_failing_step_stops_the_job() {
    let fixture = Fixture::new();
    let app = deploy_app(&fixture, 4).await;
    let base = deployments("website", "dev");
    let id = app
        .deploy(
            &base,
            &fixture.request("update", &["echo one; exit 3", "echo never"]),
        )
        .await;
    let done = app.finished(&base, &id).await;
    assert_eq!(done["status"], "failed");
    let statuses: Vec<String> = steps(&done).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        statuses,
        [
            "succeeded",
            "succeeded",
            "succeeded",
            "failed",
            "not-started",
            "not-started"
        ]
    );
    let log = app.log_text(&base, &id).await;
    assert!(
        log.contains("exited with code 3") && !log.contains("never\n"),
        "{log}"
    );
}

#[tokio::test]
async fn requests_follow_the_rules() {
    let app = spawn_app().await;
    let prod = deployments("website", "prod");
    let dev = deployments("website", "dev");
    let nested = json!({"operationContext": {"operation": "update"}});
    let cases = [
        (
            &prod,
            json!({}),
            "Missing top level required field 'operation'",
        ),
        (
            &prod,
            json!({"operation": "deploy"}),
            "operation must be one of",
        ),
        (&prod, nested, "must only be set at the top level"),
        (
            &dev,
            json!({"operation": "update"}),
            "no deployment settings",
        ),
        (
            &prod,
            json!({"operation": "update", "inheritSettings": false}),
            "no deployment settings",
        ),
    ];
    for (base, body, message) in cases {
        let reply = app.write(Method::POST, base, &app.admin, &body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert!(reply.error().message.contains(message), "{}", reply.text);
    }
    let unknown = app
        .write(
            Method::POST,
            &prod,
            &app.admin,
            &json!({"operation": "deploy"}),
        )
        .await;
    assert_eq!(
        unknown.error_attributes(),
        ["operation"],
        "{}",
        unknown.text
    );
    // Settings are inherited: prod's seeded settings have a source.
    app.send(app.request(Method::POST, &format!("{prod}/pause"), Some(&app.member)))
        .await;
    let created = app
        .write(
            Method::POST,
            &prod,
            &app.member,
            &json!({"operation": "update"}),
        )
        .await;
    assert_eq!(created.status, StatusCode::ACCEPTED, "{}", created.text);
    assert_eq!(created.body["version"], 1);
    assert!(
        created.body["consoleUrl"]
            .as_str()
            .is_some_and(|u| u.ends_with("/acme/website/prod/deployments/1")),
        "{}",
        created.text
    );
    let by_version = app.get(&format!("{prod}/version/1"), &app.member).await;
    assert_eq!(by_version.body["id"], created.body["id"]);
    assert_eq!(by_version.body["status"], "not-started");
    assert!(by_version.body.get("jobs").is_none(), "not started yet");
    assert_eq!(
        by_version.body["configuration"]["source"]["git"]["repoURL"],
        "https://github.com/acme/website"
    );
    let missing = app.get(&format!("{prod}/version/7"), &app.member).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    // Another stack's path reaches it by no route that takes a deployment id, and cancelling
    // through one leaves it queued.
    let id = created.body["id"].as_str().expect("id");
    for rest in ["", "/updates", "/logs", "/logs/raw"] {
        let elsewhere = app.get(&format!("{dev}/{id}{rest}"), &app.member).await;
        assert_eq!(
            elsewhere.status,
            StatusCode::NOT_FOUND,
            "{rest}: {}",
            elsewhere.text
        );
    }
    let cancel = app
        .write(
            Method::POST,
            &format!("{dev}/{id}/cancel"),
            &app.admin,
            &json!({}),
        )
        .await;
    assert_eq!(cancel.status, StatusCode::NOT_FOUND, "{}", cancel.text);
    let still = app.get(&format!("{prod}/{id}"), &app.member).await;
    assert_eq!(still.body["status"], "not-started");

    let list = app.get(&format!("{prod}?pageSize=1"), &app.member).await;
    assert_eq!(list.body["total"], 1);
    assert_eq!(list.body["itemsPerPage"], 1);
    assert_eq!(list.body["deployments"][0]["paused"], true);
    assert_eq!(list.body["deployments"][0]["stackName"], "prod");
    for bad in ["page=0", "pageSize=101", "sort=colour"] {
        let reply = app.get(&format!("{prod}?{bad}"), &app.member).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let org = app.get("/api/orgs/acme/deployments", &app.member).await;
    assert_eq!(org.body["total"], 1);
    let other = app.get("/api/orgs/globex/deployments", &app.member).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);

    let metadata = app.get(&format!("{prod}/metadata"), &app.member).await;
    assert_eq!(
        metadata.body,
        json!({"paused": true, "stackPaused": true, "organizationPaused": false, "hasSchedules": false})
    );
    let org_pause = app
        .send(app.request(
            Method::POST,
            "/api/orgs/acme/deployments/pause",
            Some(&app.member),
        ))
        .await;
    assert_eq!(org_pause.status, StatusCode::FORBIDDEN);
    let org_pause = app
        .send(app.request(
            Method::POST,
            "/api/orgs/acme/deployments/pause",
            Some(&app.admin),
        ))
        .await;
    assert_eq!(org_pause.status, StatusCode::OK);
    let org_meta = app
        .get("/api/orgs/acme/deployments/metadata", &app.member)
        .await;
    assert_eq!(org_meta.body["paused"], true);
    assert_eq!(org_meta.body["concurrency"], 4);
    assert_eq!(org_meta.body["deploymentCounts"]["notStarted"], 1);
    assert_eq!(org_meta.body["deploymentCounts"]["total"], 1);
    let unconfigured = app
        .send(app.request(Method::POST, &format!("{dev}/pause"), Some(&app.member)))
        .await;
    assert_eq!(unconfigured.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn lists_filter_by_status_and_updates_are_an_empty_list() {
    let app = spawn_app().await;
    let prod = deployments("website", "prod");
    app.send(app.request(Method::POST, &format!("{prod}/pause"), Some(&app.admin)))
        .await;
    let mut ids = Vec::new();
    for _ in 0..2 {
        ids.push(app.deploy(&prod, &json!({"operation": "preview"})).await);
    }
    let cancelled = app
        .send(app.request(
            Method::POST,
            &format!("{prod}/{}/cancel", ids[0]),
            Some(&app.admin),
        ))
        .await;
    assert_eq!(cancelled.status, StatusCode::OK, "{}", cancelled.text);

    for base in [prod.as_str(), "/api/orgs/acme/deployments"] {
        for (query, expected) in [
            ("status=failed", vec![&ids[0]]),
            ("status=not-started", vec![&ids[1]]),
            ("status=succeeded", vec![]),
            ("status=", vec![&ids[1], &ids[0]]),
        ] {
            let reply = app.get(&format!("{base}?{query}"), &app.member).await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
            let listed: Vec<&str> = reply.body["deployments"]
                .as_array()
                .expect("a list")
                .iter()
                .map(|d| d["id"].as_str().expect("an id"))
                .collect();
            assert_eq!(listed, expected, "{base}?{query}");
            assert_eq!(reply.body["total"], expected.len(), "{base}?{query}");
        }
        let unknown = app.get(&format!("{base}?status=done"), &app.member).await;
        assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
        assert!(
            unknown.error().message.contains("not-started"),
            "{}",
            unknown.text
        );
        assert_eq!(unknown.error_attributes(), ["status"], "{}", unknown.text);
    }

    // Keyless hosts no Pulumi state: no updates, in Pulumi's shape, rather than a 404 that
    // would stop the CLI following the deployment.
    let updates = app
        .get(&format!("{prod}/{}/updates", ids[1]), &app.member)
        .await;
    assert_eq!(updates.status, StatusCode::OK, "{}", updates.text);
    assert_eq!(updates.body, json!([]));
    let unknown = app
        .get(&format!("{prod}/no-such-id/updates"), &app.member)
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}
