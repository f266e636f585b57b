//! Invalid input: 400 naming the field, and the stored settings left untouched.

use keyless_api_types::ErrorType;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PROD, spawn_app};

const GUID: &str = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";

fn aws(field: &str, value: &str) -> Value {
    json!({"operationContext": {"oidc": {"aws": {field: value}}}})
}

fn azure(field: &str, value: &str) -> Value {
    let mut cloud = json!({"clientId": GUID, "tenantId": GUID, "subscriptionId": GUID});
    cloud[field] = json!(value);
    json!({"operationContext": {"oidc": {"azure": cloud}}})
}

fn gcp(field: &str, value: &str) -> Value {
    let mut cloud = json!({
        "projectId": "123456789012",
        "workloadPoolId": "pulumi-pool",
        "providerId": "pulumi-provider",
        "serviceAccount": "deployer@acme.iam.gserviceaccount.com"
    });
    cloud[field] = json!(value);
    json!({"operationContext": {"oidc": {"gcp": cloud}}})
}

#[tokio::test]
async fn invalid_settings_name_the_field_and_change_nothing() {
    let app = spawn_app().await;
    let oidc = "operationContext.oidc";
    let cases: Vec<(&str, Value, String)> = vec![
        (
            "repository URL with a token in it",
            json!({"sourceContext": {"git": {"repoUrl": "https://x-access-token:ghp_abc@github.com/acme/infra"}}}),
            "sourceContext.git.repoUrl".to_owned(),
        ),
        (
            "role ARN with a short account",
            aws("roleArn", "arn:aws:iam::1234:role/deploy"),
            format!("{oidc}.aws.roleArn"),
        ),
        (
            "role ARN of a user",
            aws("roleArn", "arn:aws:iam::123456789012:user/deploy"),
            format!("{oidc}.aws.roleArn"),
        ),
        (
            "session name too long",
            aws("sessionName", &"x".repeat(70)),
            format!("{oidc}.aws.sessionName"),
        ),
        (
            "session name with a space",
            aws("sessionName", "pulumi deploy"),
            format!("{oidc}.aws.sessionName"),
        ),
        (
            "session name with an unknown placeholder",
            aws("sessionName", "pulumi-${stack}"),
            format!("{oidc}.aws.sessionName"),
        ),
        (
            "AWS duration 5m",
            aws("duration", "5m"),
            format!("{oidc}.aws.duration"),
        ),
        (
            "AWS duration 13h",
            aws("duration", "13h"),
            format!("{oidc}.aws.duration"),
        ),
        (
            "AWS duration without unit",
            aws("duration", "3600"),
            format!("{oidc}.aws.duration"),
        ),
        (
            "policy ARN",
            json!({"operationContext": {"oidc": {"aws": {"policyArns": ["arn:aws:iam::aws:role/x"]}}}}),
            format!("{oidc}.aws.policyArns.0"),
        ),
        (
            "Azure client id",
            azure("clientId", "client"),
            format!("{oidc}.azure.clientId"),
        ),
        (
            "Azure tenant id",
            azure("tenantId", "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9fg"),
            format!("{oidc}.azure.tenantId"),
        ),
        (
            "Azure subscription id",
            azure("subscriptionId", "not-a-guid"),
            format!("{oidc}.azure.subscriptionId"),
        ),
        (
            "GCP project id, not number",
            gcp("projectId", "my-project"),
            format!("{oidc}.gcp.projectId"),
        ),
        (
            "GCP pool id reserved prefix",
            gcp("workloadPoolId", "gcp-pool"),
            format!("{oidc}.gcp.workloadPoolId"),
        ),
        (
            "GCP pool id too short",
            gcp("workloadPoolId", "abc"),
            format!("{oidc}.gcp.workloadPoolId"),
        ),
        (
            "GCP provider id uppercase",
            gcp("providerId", "Pulumi-Provider"),
            format!("{oidc}.gcp.providerId"),
        ),
        (
            "GCP service account",
            gcp("serviceAccount", "deployer"),
            format!("{oidc}.gcp.serviceAccount"),
        ),
        (
            "GCP token lifetime",
            gcp("tokenLifetime", "13h"),
            format!("{oidc}.gcp.tokenLifetime"),
        ),
        (
            "GCP region",
            gcp("region", "Europe"),
            format!("{oidc}.gcp.region"),
        ),
        (
            "env var name",
            json!({"operationContext": {"environmentVariables": {"1BAD": "x"}}}),
            "operationContext.environmentVariables.1BAD".into(),
        ),
        (
            "preRunCommands not a list",
            json!({"operationContext": {"preRunCommands": "make"}}),
            "operationContext.preRunCommands".into(),
        ),
        (
            "empty pre-run command",
            json!({"operationContext": {"preRunCommands": ["make", " "]}}),
            "operationContext.preRunCommands.1".into(),
        ),
        (
            "commit and branch together",
            json!({"sourceContext": {"git": {"repoUrl": "https://github.com/acme/website", "branch": "refs/heads/main", "commit": "abc123"}}}),
            "sourceContext.git.commit".into(),
        ),
        ("tag not a string", json!({"tag": 42}), "tag".into()),
        (
            "VCS provider left empty",
            json!({"vcs": {"provider": "", "repository": "acme/website"}}),
            "vcs.provider".into(),
        ),
        (
            "VCS provider not one of Pulumi's",
            json!({"vcs": {"provider": "GitHub"}}),
            "vcs.provider".into(),
        ),
        (
            "executor image neither a reference nor an object",
            json!({"executorContext": {"executorImage": 5}}),
            "executorContext.executorImage".into(),
        ),
        (
            "secret without a value",
            json!({"operationContext": {"environmentVariables": {"TOKEN": {"isSecret": true}}}}),
            "operationContext.environmentVariables.TOKEN".into(),
        ),
    ];
    let before = app.stored_settings("acme", "website", "prod").await;
    assert!(before.is_some());
    for (name, body, attribute) in cases {
        for method in [Method::POST, Method::PUT] {
            let reply = app.write(method.clone(), PROD, &app.admin, &body).await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{name} ({method}): {}",
                reply.text
            );
            let error = reply.error();
            assert_eq!(error.code, 400);
            assert!(
                error.message.starts_with("Invalid deployment settings: "),
                "{name}: {}",
                error.message
            );
            assert!(
                error.message.contains(&attribute),
                "{name}: {}",
                error.message
            );
            let detail = error
                .errors
                .iter()
                .find(|e| e.attribute == attribute)
                .unwrap_or_else(|| {
                    panic!(
                        "{name} ({method}): no error for {attribute} in {}",
                        reply.text
                    )
                });
            assert_eq!(detail.resource, "DeploymentSettings");
            assert!(!detail.custom_message.is_empty());
            assert_eq!(
                app.stored_settings("acme", "website", "prod").await,
                before,
                "{name} ({method}) changed the stored settings"
            );
        }
    }
}

#[tokio::test]
async fn removing_a_required_field_is_a_required_error() {
    let app = spawn_app().await;
    let reply = app
        .patch(
            PROD,
            &json!({"operationContext": {"oidc": {"aws": {"roleArn": null}}}}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    let error = reply.error();
    let detail = &error.errors[0];
    assert_eq!(detail.attribute, "operationContext.oidc.aws.roleArn");
    assert_eq!(detail.error_type, ErrorType::Required);
    assert_eq!(
        error.message,
        "Invalid deployment settings: operationContext.oidc.aws.roleArn is required"
    );
}

#[tokio::test]
async fn every_invalid_field_is_reported_at_once() {
    let app = spawn_app().await;
    let body = json!({"operationContext": {"oidc": {
        "aws": {"duration": "5m", "sessionName": "a b"},
        "azure": {"clientId": "x", "tenantId": GUID, "subscriptionId": GUID}
    }}});
    let reply = app.patch(PROD, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        reply.error_attributes(),
        [
            "operationContext.oidc.aws.sessionName",
            "operationContext.oidc.aws.duration",
            "operationContext.oidc.azure.clientId",
        ]
    );
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_400() {
    let app = spawn_app().await;
    let before = app.stored_settings("acme", "website", "prod").await;
    for body in [
        "[]",
        "\"settings\"",
        "42",
        "null",
        "true",
        "{\"tag\":",
        "{tag: 1}",
        "",
    ] {
        for method in [Method::POST, Method::PUT] {
            let reply = app
                .send(
                    app.request(method.clone(), PROD, Some(&app.admin))
                        .body(body),
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::BAD_REQUEST,
                "{method} {body:?}: {}",
                reply.text
            );
            assert_eq!(reply.error().code, 400);
        }
    }
    assert_eq!(app.stored_settings("acme", "website", "prod").await, before);
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = spawn_app().await;
    let body = json!({"tag": "x".repeat(2 * 1024 * 1024)});
    let reply = app.patch(PROD, &body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.error().code, 413);
}
