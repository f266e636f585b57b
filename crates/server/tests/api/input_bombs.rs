//! Input bombs: a megabyte of nesting in every field a parser reads (the explainer's pasted
//! attribute condition and trust policy, glob filters, session name templates) answers 400 in
//! the API's error shape naming the field, and the server keeps serving. Before the caps, each
//! of these overflowed a worker's stack, which aborts the whole process.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{PROD, Reply, TestApp, spawn_app};

/// A bomb's size: just under the server's 1 MiB body limit, leaving room for the JSON around it.
const BOMB: usize = 1_000_000;

const EXPLAIN: &str = "/api/stacks/acme/website/prod/deployments/oidc/explain";
const TRUST: &str = "/api/stacks/acme/website/prod/deployments/oidc/trust";
const ISSUER: &str = "https://keyless.example.com/oidc";

/// `core` inside as many `open`…`close` pairs as fill a bomb.
fn nested(open: &str, core: &str, close: &str) -> String {
    let pairs = (BOMB - core.len()) / (open.len() + close.len());
    format!("{}{core}{}", open.repeat(pairs), close.repeat(pairs))
}

fn explain(cloud: &str, trust: Value) -> Value {
    let claims = json!({
        "iss": ISSUER, "aud": "acme",
        "sub": "pulumi:deploy:org:acme:project:website:stack:prod:operation:update:scope:write",
        "exp": 4_000_000_000u64, "nbf": 1_000_000_000u64
    });
    json!({"cloud": cloud, "claims": claims, "trust": trust})
}

/// A provider that admits the claims of [`explain`] up to its attribute condition.
fn gcp_trust(condition: &str) -> Value {
    json!({
        "provider": {
            "attributeCondition": condition,
            "oidc": {"issuerUri": ISSUER, "allowedAudiences": ["acme"]}
        },
        "policy": {"bindings": []}
    })
}

fn aws_trust(sub: &str) -> Value {
    json!({"Statement": {
        "Effect": "Allow",
        "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/keyless.example.com/oidc"},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringLike": {"keyless.example.com/oidc:sub": sub}}
    }})
}

fn session_name(template: &str) -> Value {
    json!({"aws": {"roleArn": "arn:aws:iam::123456789012:role/deploy", "sessionName": template}})
}

/// Asserts `reply` is a 400 in the API's error shape with an error for `attribute` whose
/// message says `words`, then that the server still answers a normal request.
async fn assert_refused(app: &TestApp, reply: Reply, attribute: &str, words: &str) {
    assert_eq!(
        reply.status,
        StatusCode::BAD_REQUEST,
        "{attribute}: {:.300}",
        reply.text
    );
    let error = reply.error();
    assert_eq!(error.code, 400);
    let detail = error
        .errors
        .iter()
        .find(|e| e.attribute == attribute)
        .unwrap_or_else(|| panic!("no error for {attribute}: {:.300}", reply.text));
    assert!(
        detail.custom_message.contains(words),
        "{attribute}: {}",
        detail.custom_message
    );
    assert!(reply.text.len() < 10_000, "the error echoes the bomb");
    assert_still_serving(app).await;
}

async fn assert_still_serving(app: &TestApp) {
    let body = explain("gcp", gcp_trust("assertion.sub.startsWith('pulumi:')"));
    let reply = app.write(Method::POST, EXPLAIN, &app.member, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
}

#[tokio::test]
async fn the_explainer_refuses_nested_conditions_and_long_policies() {
    let app = spawn_app().await;
    for condition in [
        nested("!", "true", ""),
        nested("(", "true", ")"),
        nested("!(", "true", ")"),
    ] {
        let body = explain("gcp", gcp_trust(&condition));
        let reply = app.write(Method::POST, EXPLAIN, &app.member, &body).await;
        assert_refused(&app, reply, "trust", "Google Cloud accepts at most 4096").await;
    }
    // Nested as deeply as fits in Google's limit: refused for its depth.
    let deep = format!("{}true{}", "(".repeat(2_000), ")".repeat(2_000));
    let reply = app
        .write(
            Method::POST,
            EXPLAIN,
            &app.member,
            &explain("gcp", gcp_trust(&deep)),
        )
        .await;
    assert_refused(&app, reply, "trust", "more than 64 deep").await;

    let body = explain("aws", aws_trust(&nested("{", "*", "}")));
    let reply = app.write(Method::POST, EXPLAIN, &app.member, &body).await;
    assert_refused(&app, reply, "trust", "at most 10240").await;

    let mut body = explain("aws", aws_trust("*"));
    body["settings"] = session_name(&nested("${", "stack.name", "}"));
    let reply = app.write(Method::POST, EXPLAIN, &app.member, &body).await;
    let attribute = "operationContext.oidc.aws.sessionName";
    assert_refused(&app, reply, attribute, "at most 256").await;
}

#[tokio::test]
async fn json_nested_past_the_parsers_limit_is_refused() {
    let app = spawn_app().await;
    let trust = nested("[", "", "]");
    let raw = format!(r#"{{"cloud": "aws", "trust": {trust}}}"#);
    let request = app.request(Method::POST, EXPLAIN, Some(&app.member));
    let reply = app.send(request.body(raw)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{:.300}", reply.text);
    let error = reply.error();
    assert_eq!(error.code, 400);
    assert!(
        error.message.contains("recursion limit"),
        "{}",
        error.message
    );
    assert_still_serving(&app).await;
}

#[tokio::test]
async fn settings_refuse_nested_globs_and_long_session_names() {
    let app = spawn_app().await;
    let before = app.stored_settings("acme", "website", "prod").await;
    let cases = [
        (
            json!({"gitHub": {"paths": ["infra/**", nested("{", "a", "}")]}}),
            "gitHub.paths.1",
            "at most 1024",
        ),
        (
            json!({"gitHub": {"tagFilters": [nested("{a,", "b", "}")]}}),
            "gitHub.tagFilters.0",
            "at most 1024",
        ),
        (
            json!({"operationContext": {"oidc": session_name(&nested("${", "stack.name", "}"))}}),
            "operationContext.oidc.aws.sessionName",
            "at most 256",
        ),
    ];
    for (body, attribute, words) in cases {
        for method in [Method::POST, Method::PUT] {
            let reply = app.write(method, PROD, &app.admin, &body).await;
            assert_refused(&app, reply, attribute, words).await;
            assert_eq!(app.stored_settings("acme", "website", "prod").await, before);
        }
    }
}

#[tokio::test]
async fn the_trust_generator_refuses_long_session_names() {
    let app = spawn_app().await;
    let body = session_name(&nested("${", "stack.name", "}"));
    let reply = app.write(Method::POST, TRUST, &app.member, &body).await;
    let attribute = "operationContext.oidc.aws.sessionName";
    assert_refused(&app, reply, attribute, "at most 256").await;
}
