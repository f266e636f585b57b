//! Deployment settings: merge-patch semantics, replace, delete, input casing and normalisation.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PROD, TestApp, spawn_app};

const DEV: &str = "/api/stacks/acme/website/dev/deployments/settings";

const AZURE: &str = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

async fn ok_patch(app: &TestApp, path: &str, body: Value) -> Value {
    let reply = app.patch(path, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{body}: {}", reply.text);
    reply.body
}

#[tokio::test]
async fn get_returns_the_seeded_settings() {
    let app = spawn_app().await;
    let reply = app.get(PROD, &app.member).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let s = reply.body;
    assert_eq!(s["version"], 1);
    assert_eq!(s["source"], "api");
    assert_eq!(
        s["sourceContext"]["git"]["repoUrl"],
        "https://github.com/acme/website"
    );
    assert_eq!(s["sourceContext"]["git"]["branch"], "refs/heads/main");
    assert_eq!(s["sourceContext"]["git"]["repoDir"], "infra");
    let aws = &s["operationContext"]["oidc"]["aws"];
    assert_eq!(
        aws["roleArn"],
        "arn:aws:iam::123456789012:role/pulumi-deploy"
    );
    assert_eq!(
        aws["sessionName"],
        "pulumi-${stack.name}-${deployment.version}"
    );
    assert_eq!(aws["duration"], "1h0m0s");
    let env = &s["operationContext"]["environmentVariables"];
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["DATADOG_API_KEY"]["secret"], "[secret]");
    assert!(env["DATADOG_API_KEY"]["ciphertext"].is_string());
}

#[tokio::test]
async fn get_without_settings_is_404() {
    let app = spawn_app().await;
    let reply = app.get(DEV, &app.admin).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(
        reply.error().message,
        "No deployment settings for this stack"
    );
}

#[tokio::test]
async fn post_merges_nested_objects_and_counts_versions() {
    let app = spawn_app().await;
    let s = ok_patch(
        &app,
        PROD,
        json!({"operationContext": {"oidc": {"aws": {"duration": "2h"}}}}),
    )
    .await;
    let aws = &s["operationContext"]["oidc"]["aws"];
    assert_eq!(aws["duration"], "2h0m0s");
    assert_eq!(
        aws["roleArn"], "arn:aws:iam::123456789012:role/pulumi-deploy",
        "siblings stay"
    );
    assert_eq!(
        s["sourceContext"]["git"]["repoDir"], "infra",
        "other branches stay"
    );
    assert_eq!(
        s["operationContext"]["environmentVariables"]["AWS_REGION"],
        "us-east-1"
    );
    assert_eq!(s["version"], 2);
    let s = ok_patch(&app, PROD, json!({"tag": "blue"})).await;
    assert_eq!(s["version"], 3);
    assert_eq!(s["tag"], "blue");
    assert_eq!(
        app.get(PROD, &app.admin).await.body,
        s,
        "GET returns what POST returned"
    );
}

#[tokio::test]
async fn post_null_removes_a_cloud_and_arrays_and_scalars_replace() {
    let app = spawn_app().await;
    let azure = json!({"clientId": AZURE, "tenantId": AZURE, "subscriptionId": AZURE});
    let s = ok_patch(&app, PROD, json!({"operationContext": {"oidc": {"azure": azure}, "preRunCommands": ["make", "make test"]}})).await;
    assert_eq!(s["operationContext"]["oidc"]["azure"]["tenantId"], AZURE);
    assert!(s["operationContext"]["oidc"]["aws"].is_object());

    let s = ok_patch(
        &app,
        PROD,
        json!({"operationContext": {"oidc": {"aws": null}, "preRunCommands": ["npm ci"]}}),
    )
    .await;
    assert!(
        s["operationContext"]["oidc"].get("aws").is_none(),
        "null removes: {s}"
    );
    assert!(s["operationContext"]["oidc"]["azure"].is_object());
    assert_eq!(
        s["operationContext"]["preRunCommands"],
        json!(["npm ci"]),
        "arrays replace"
    );

    let s = ok_patch(
        &app,
        PROD,
        json!({"sourceContext": {"git": {"branch": "refs/heads/release"}}}),
    )
    .await;
    assert_eq!(
        s["sourceContext"]["git"]["branch"], "refs/heads/release",
        "scalars replace"
    );
    assert_eq!(
        s["sourceContext"]["git"]["repoUrl"],
        "https://github.com/acme/website"
    );
}

/// Go clients (the CLI) send fields they leave unset as `""`: in a merge patch that changes
/// nothing, where `null` clears.
#[tokio::test]
async fn post_empty_strings_change_nothing() {
    let app = spawn_app().await;
    let s = ok_patch(
        &app,
        PROD,
        json!({"operationContext": {"operation": "preview"}, "sourceContext": {"git": {"branch": "refs/heads/main"}}}),
    )
    .await;
    assert_eq!(s["operationContext"]["operation"], "preview");

    let s = ok_patch(
        &app,
        PROD,
        json!({"operationContext": {"operation": ""}, "sourceContext": {"git": {"branch": "", "repoDir": "infra"}}}),
    )
    .await;
    assert_eq!(s["operationContext"]["operation"], "preview", "{s}");
    assert_eq!(
        s["sourceContext"]["git"]["branch"], "refs/heads/main",
        "{s}"
    );
    assert_eq!(s["sourceContext"]["git"]["repoDir"], "infra", "{s}");

    let s = ok_patch(&app, PROD, json!({"operationContext": {"operation": null}})).await;
    assert!(s["operationContext"].get("operation").is_none(), "{s}");
}

#[tokio::test]
async fn source_records_the_client_and_read_only_fields_are_ignored() {
    let app = spawn_app().await;
    let reply = app
        .send(
            app.request(Method::POST, PROD, Some(&app.admin))
                .header("X-Keyless-Client", "console")
                .json(&json!({"tag": "from-console"})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["source"], "console");
    assert_eq!(reply.body["version"], 2);
    let s = ok_patch(
        &app,
        PROD,
        json!({"tag": "x", "version": 99, "Source": "forged"}),
    )
    .await;
    assert_eq!(s["source"], "api");
    assert_eq!(s["version"], 3);
}

#[tokio::test]
async fn post_creates_settings_at_version_one() {
    let app = spawn_app().await;
    let s = ok_patch(&app, DEV, json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/website", "branch": "refs/heads/dev"}}})).await;
    assert_eq!(s["version"], 1);
    assert_eq!(s["source"], "api");
    assert_eq!(app.get(DEV, &app.member).await.status, StatusCode::OK);
}

#[tokio::test]
async fn put_replaces_everything() {
    let app = spawn_app().await;
    let body = json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/other", "branch": "refs/heads/main"}}});
    let reply = app.write(Method::PUT, PROD, &app.admin, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let s = reply.body;
    assert_eq!(
        s["sourceContext"]["git"]["repoUrl"],
        "https://github.com/acme/other"
    );
    assert!(s["sourceContext"]["git"].get("repoDir").is_none());
    assert!(
        s.get("operationContext").is_none(),
        "replaced, not merged: {s}"
    );
    assert_eq!(s["version"], 2);
    assert_eq!(app.get(PROD, &app.admin).await.body, s);
}

#[tokio::test]
async fn delete_then_get_is_404_and_deleting_again_is_fine() {
    let app = spawn_app().await;
    for _ in 0..2 {
        let reply = app
            .send(app.request(Method::DELETE, PROD, Some(&app.admin)))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body, json!(true));
        assert_eq!(
            app.get(PROD, &app.admin).await.status,
            StatusCode::NOT_FOUND
        );
    }
    let s = ok_patch(&app, PROD, json!({"tag": "fresh"})).await;
    assert_eq!(
        s["version"], 1,
        "settings written after a delete start over"
    );
    let reply = app
        .send(app.request(
            Method::DELETE,
            "/api/stacks/acme/website/nope/deployments/settings",
            Some(&app.admin),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn input_keys_are_case_insensitive_and_output_uses_spec_casing() {
    let app = spawn_app().await;
    let pool = app
        .write(
            Method::POST,
            "/api/orgs/acme/agent-pools",
            &app.admin,
            &json!({"name": "pool-1"}),
        )
        .await;
    let pool = pool.body["id"].as_str().expect("a pool id").to_owned();
    let s = ok_patch(
        &app,
        DEV,
        json!({
            "SourceContext": {"git": {"repoURL": "https://github.com/acme/website", "BRANCH": "refs/heads/main"}},
            "operationContext": {"oidc": {"aws": {"roleARN": "arn:aws:iam::123456789012:role/deploy", "SessionName": "deploy-${stack.name}"}}},
            "agentPoolId": pool
        }),
    )
    .await;
    assert_eq!(
        s["sourceContext"]["git"]["repoUrl"],
        "https://github.com/acme/website"
    );
    assert_eq!(s["sourceContext"]["git"]["branch"], "refs/heads/main");
    assert_eq!(
        s["operationContext"]["oidc"]["aws"]["roleArn"],
        "arn:aws:iam::123456789012:role/deploy"
    );
    assert_eq!(
        s["operationContext"]["oidc"]["aws"]["sessionName"],
        "deploy-${stack.name}"
    );
    assert_eq!(s["agentPoolID"], pool.as_str());
    let text = serde_json::to_string(&s).expect("serialises");
    for variant in [
        "repoURL",
        "roleARN",
        "SourceContext",
        "BRANCH",
        "agentPoolId",
    ] {
        assert!(!text.contains(variant), "{variant} in {text}");
    }
    // A later patch in another casing merges into the same field.
    let s = ok_patch(&app, DEV, json!({"operationContext": {"OIDC": {"AWS": {"RoleArn": "arn:aws:iam::123456789012:role/other"}}}})).await;
    assert_eq!(
        s["operationContext"]["oidc"]["aws"]["roleArn"],
        "arn:aws:iam::123456789012:role/other"
    );
    assert_eq!(
        s["operationContext"]["oidc"]["aws"]["sessionName"],
        "deploy-${stack.name}"
    );
}

#[tokio::test]
async fn durations_are_echoed_normalised() {
    let app = spawn_app().await;
    let gcp = json!({
        "projectId": "123456789012",
        "workloadPoolId": "pulumi-pool",
        "providerId": "pulumi-provider",
        "serviceAccount": "deployer@acme.iam.gserviceaccount.com",
        "tokenLifetime": "30m"
    });
    let s = ok_patch(
        &app,
        PROD,
        json!({"operationContext": {"oidc": {"aws": {"duration": "90m"}, "gcp": gcp}}}),
    )
    .await;
    assert_eq!(s["operationContext"]["oidc"]["aws"]["duration"], "1h30m0s");
    assert_eq!(
        s["operationContext"]["oidc"]["gcp"]["tokenLifetime"],
        "30m0s"
    );
    assert_eq!(
        app.get(PROD, &app.admin).await.body["operationContext"]["oidc"]["aws"]["duration"],
        "1h30m0s"
    );
}

#[tokio::test]
async fn a_write_based_on_a_stale_version_is_refused() {
    use keyless_server::store::StoreError;
    let app = spawn_app().await;
    let stack_id = app.stack_id("acme", "website", "prod").await;
    let stored = app
        .stored_settings("acme", "website", "prod")
        .await
        .expect("seeded");
    let next = app
        .store
        .save_settings(&stack_id, Some(stored.version), &stored.document, "api")
        .await
        .expect("current version writes");
    assert_eq!(next, stored.version + 1);
    for stale in [Some(stored.version), None] {
        let result = app
            .store
            .save_settings(&stack_id, stale, &json!({}), "api")
            .await;
        assert!(
            matches!(result, Err(StoreError::Conflict)),
            "{stale:?}: {result:?}"
        );
    }
    assert_eq!(app.get(PROD, &app.admin).await.body["version"], next);
}
