//! The OIDC setup assistant: generated trust fed to the exchange crate's AWS, Azure and Google
//! Cloud stand-ins admits this stack's token and refuses another stack's (through the real
//! "Test OIDC" endpoint); Test OIDC's failures, access, rate limit and record; the explainer;
//! the lifetime advisor.

use keyless_api_types::trust::{ExplainError, Explained, Verdict};
use keyless_api_types::{Cloud, DeploymentStatus, OidcTestRun, PulumiOperation};
use keyless_console::trust_view;
use keyless_exchange::relying_party::{RelyingParty, aws, azure, gcp};
use keyless_server::Config;
use keyless_server::store::{Lease, NewDeployment};
use keyless_server::tokens;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_on};

const ROLE: &str = "arn:aws:iam::123456789012:role/keyless-deploy";
const TENANT: &str = "8f5c1c7e-3c4b-4d1a-9a7e-2b6f0c9d1e23";
const CLIENT: &str = "0b7d2c61-5a8e-4f3b-b1c9-6e2d4a8f7c10";
const SUBSCRIPTION: &str = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70";
const PROJECT_NUMBER: &str = "123456789012";
const SERVICE_ACCOUNT: &str = "deploy@acme-web.iam.gserviceaccount.com";

fn oidc_block() -> Value {
    json!({
        "aws": {"roleArn": ROLE, "sessionName": "keyless-${stack.name}-${operation}", "duration": "1h"},
        "azure": {"clientId": CLIENT, "tenantId": TENANT, "subscriptionId": SUBSCRIPTION},
        "gcp": {
            "projectId": PROJECT_NUMBER,
            "workloadPoolId": "keyless-pool",
            "providerId": "keyless-provider",
            "serviceAccount": SERVICE_ACCOUNT
        }
    })
}

fn assistant(stack: &str, rest: &str) -> String {
    format!("/api/stacks/acme/website/{stack}/deployments/oidc/{rest}")
}

/// A server whose issuer is `issuer` (on `listener` when given) and whose exchanges go to
/// `clouds`; both `prod` and `dev` get [`oidc_block`] settings.
async fn server(
    listener: Option<tokio::net::TcpListener>,
    issuer: &str,
    clouds: Option<&[&RelyingParty; 3]>,
) -> TestApp {
    server_with(listener, issuer, clouds, |_| {}).await
}

/// [`server`], its configuration changed by `adjust` first.
async fn server_with(
    listener: Option<tokio::net::TcpListener>,
    issuer: &str,
    clouds: Option<&[&RelyingParty; 3]>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    let listener = match listener {
        Some(listener) => listener,
        None => tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binds"),
    };
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.oidc_issuer = Some(issuer.to_owned());
    if let Some([aws, azure, gcp]) = clouds {
        config.deploy.run.aws_sts_endpoint = Some(aws.url().to_owned());
        config.deploy.run.azure_authority_host = Some(azure.url().to_owned());
        config.deploy.run.gcp_sts_endpoint = Some(gcp.url().to_owned());
        config.deploy.run.gcp_iam_credentials_endpoint = Some(gcp.url().to_owned());
    }
    adjust(&mut config);
    let (app, tokens) = spawn_on(listener, config, data_dir).await;
    let app = app.signed_in(tokens.expect("seeded"));
    for stack in ["prod", "dev"] {
        let path = format!("/api/stacks/acme/website/{stack}/deployments/settings");
        let body = json!({"operationContext": {"oidc": oidc_block()}});
        let reply = app.patch(&path, &body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    app
}

/// Stand-ins configured with exactly the trust `generated` (a trust response) describes.
async fn clouds_trusting(generated: &Value, issuer: &str) -> [RelyingParty; 3] {
    let trust = &generated["trust"];
    let aws = aws::spawn(aws::AwsConfig {
        providers: vec![aws::OidcProvider {
            url: issuer.into(),
            client_ids: vec![
                trust["aws"]["provider"]["audience"]
                    .as_str()
                    .expect("aud")
                    .into(),
            ],
        }],
        roles: vec![aws::Role {
            arn: ROLE.into(),
            issuer: String::new(),
            audience: String::new(),
            subject_like: String::new(),
            max_session_duration: 3600,
            trust_policy: Some(trust["aws"]["trustPolicy"].clone()),
        }],
    })
    .await
    .expect("AWS stand-in");
    let credentials = trust["azure"]["credentials"]
        .as_array()
        .expect("credentials");
    let azure = azure::spawn(azure::AzureConfig {
        tenant_id: TENANT.into(),
        apps: vec![azure::App {
            client_id: CLIENT.into(),
            federated_credentials: credentials
                .iter()
                .map(|c| azure::FederatedCredential {
                    issuer: c["issuer"].as_str().expect("issuer").into(),
                    subject: c["subject"].as_str().expect("subject").into(),
                    audience: c["audiences"][0].as_str().expect("audience").into(),
                })
                .collect(),
        }],
    })
    .await
    .expect("Azure stand-in");
    let provider = &trust["gcp"]["provider"];
    let members = trust["gcp"]["policy"]["bindings"][0]["members"]
        .as_array()
        .expect("members");
    let gcp = gcp::spawn(gcp::GcpConfig {
        project_number: PROJECT_NUMBER.into(),
        pool_id: "keyless-pool".into(),
        provider_id: "keyless-provider".into(),
        issuer: provider["oidc"]["issuerUri"]
            .as_str()
            .expect("issuer")
            .into(),
        allowed_audiences: serde_json::from_value(provider["oidc"]["allowedAudiences"].clone())
            .expect("audiences"),
        subject_condition: None,
        attribute_condition: provider["attributeCondition"].as_str().map(str::to_owned),
        service_accounts: vec![gcp::ServiceAccount {
            email: SERVICE_ACCOUNT.into(),
            workload_identity_users: serde_json::from_value(Value::Array(members.clone()))
                .expect("members"),
        }],
        max_lifetime: 3600,
    })
    .await
    .expect("GCP stand-in");
    [aws, azure, gcp]
}

async fn test_oidc(app: &TestApp, stack: &str, body: &Value) -> crate::helpers::Reply {
    app.write(Method::POST, &assistant(stack, "test"), &app.admin, body)
        .await
}

fn outcomes(reply: &crate::helpers::Reply) -> Vec<(String, bool)> {
    reply.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["cloud"].as_str().expect("cloud").to_owned(),
                r["success"] == true,
            )
        })
        .collect()
}

#[tokio::test]
async fn generated_trust_admits_this_stacks_token_and_refuses_another_stacks() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let issuer = format!("http://{}/oidc", listener.local_addr().expect("address"));
    // A first server generates the trust for the second's issuer.
    let generator = server(None, &issuer, None).await;
    let reply = generator
        .get(&assistant("prod", "trust?scope=stack"), &generator.member)
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["target"]["issuer"], issuer.as_str());
    let clouds = clouds_trusting(&reply.body, &issuer).await;
    let app = server(
        Some(listener),
        &issuer,
        Some(&[&clouds[0], &clouds[1], &clouds[2]]),
    )
    .await;

    let mine = test_oidc(&app, "prod", &json!({"operation": "destroy"})).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let all = |ok| vec![("aws".into(), ok), ("azure".into(), ok), ("gcp".into(), ok)];
    // Azure's generated credentials cover the standard operations, destroy among them.
    assert_eq!(outcomes(&mine), all(true), "{}", mine.text);
    assert_eq!(
        mine.body["claims"]["sub"],
        "pulumi:deploy:org:acme:project:website:stack:prod:operation:destroy:scope:write"
    );
    assert_eq!(mine.body["claims"]["deployment"], 0);
    assert!(!mine.text.contains("eyJ"), "no token in {}", mine.text);
    assert!(
        mine.body["results"][0]["identity"]
            .as_str()
            .expect("identity")
            .contains("keyless-prod-destroy")
    );

    let other = test_oidc(&app, "dev", &json!({"operation": "destroy"})).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.text);
    assert_eq!(outcomes(&other), all(false), "{}", other.text);
    for result in other.body["results"].as_array().expect("results") {
        assert!(
            result["code"].is_string() && result["explanation"].is_string(),
            "{result}"
        );
    }
}

#[tokio::test]
async fn a_narrow_scope_admits_only_its_operation() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let issuer = format!("http://{}/oidc", listener.local_addr().expect("address"));
    let generator = server(None, &issuer, None).await;
    let path = assistant("prod", "trust?scope=stack-operation&operation=preview");
    let reply = generator.get(&path, &generator.admin).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let clouds = clouds_trusting(&reply.body, &issuer).await;
    let app = server(
        Some(listener),
        &issuer,
        Some(&[&clouds[0], &clouds[1], &clouds[2]]),
    )
    .await;
    let preview = test_oidc(&app, "prod", &json!({"operation": "preview"})).await;
    assert!(
        outcomes(&preview).iter().all(|(_, ok)| *ok),
        "{}",
        preview.text
    );
    let update = test_oidc(&app, "prod", &json!({"operation": "update"})).await;
    assert!(
        outcomes(&update).iter().all(|(_, ok)| !*ok),
        "{}",
        update.text
    );
}

#[tokio::test]
async fn trust_input_is_validated_like_settings() {
    let app = server(None, "https://keyless.example.com/oidc", None).await;
    let bad = json!({"aws": {"roleArn": "nope", "sessionName": "x-${stack.name}"}});
    let reply = app
        .write(Method::POST, &assistant("prod", "trust"), &app.member, &bad)
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(
        reply.error_attributes(),
        ["operationContext.oidc.aws.roleArn"]
    );
    let reply = app
        .get(&assistant("prod", "trust?scope=galaxy"), &app.member)
        .await;
    assert_eq!(reply.error_attributes(), ["scope"]);
    let reply = app
        .write(
            Method::POST,
            &assistant("prod", "trust?scope=org"),
            &app.member,
            &oidc_block(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let subject = reply.body["trust"]["aws"]["trustPolicy"]["Statement"][0]["Condition"]
        ["StringLike"]["keyless.example.com/oidc:sub"]
        .clone();
    assert_eq!(
        subject,
        "pulumi:deploy:org:acme:project:*:stack:*:operation:*:scope:write"
    );
}

#[tokio::test]
async fn test_oidc_failure_explains_access_rate_limit_and_record() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let issuer = format!("http://{}/oidc", listener.local_addr().expect("address"));
    let generator = server(None, &issuer, None).await;
    let generated = generator
        .get(&assistant("prod", "trust"), &generator.admin)
        .await
        .body;
    let mut wrong = generated.clone();
    wrong["trust"]["aws"]["provider"]["audience"] = json!("sts.amazonaws.com");
    let clouds = clouds_trusting(&wrong, &issuer).await;
    let app = server(
        Some(listener),
        &issuer,
        Some(&[&clouds[0], &clouds[1], &clouds[2]]),
    )
    .await;

    // The pasted trust policy names the audience the token does not carry.
    let mut policy = generated["trust"]["aws"]["trustPolicy"].clone();
    let host = issuer.trim_start_matches("http://");
    policy["Statement"][0]["Condition"]["StringEquals"][format!("{host}:aud")] =
        json!("sts.amazonaws.com");
    let body = json!({"operation": "update", "trust": {"aws": policy}});
    let reply = test_oidc(&app, "prod", &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let aws = &reply.body["results"][0];
    assert_eq!(
        (aws["cloud"].as_str(), aws["success"].as_bool()),
        (Some("aws"), Some(false))
    );
    assert_eq!(aws["code"], "InvalidIdentityToken", "{aws}");
    assert!(
        aws["message"]
            .as_str()
            .expect("message")
            .contains("audience"),
        "{aws}"
    );
    assert!(aws["explanation"].is_string());
    assert!(aws["verdict"]["verdict"].is_string(), "{aws}");
    assert_eq!(reply.body["results"][1]["success"], true, "{}", reply.text);

    let member = app
        .write(
            Method::POST,
            &assistant("prod", "test"),
            &app.member,
            &json!({}),
        )
        .await;
    assert_eq!(member.status, StatusCode::FORBIDDEN, "{}", member.text);

    let listed = app.get(&assistant("prod", "tests"), &app.member).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.text);
    let tests = listed.body["tests"].as_array().expect("tests");
    assert_eq!(tests.len(), 1);
    assert_eq!(tests[0]["requestedBy"], "alice");
    assert_eq!(tests[0]["results"][0]["code"], "InvalidIdentityToken");

    // Nine more pass the limit of ten per minute; the eleventh is refused.
    for _ in 0..9 {
        let reply = test_oidc(&app, "prod", &json!({})).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    }
    let response = app
        .request(Method::POST, &assistant("prod", "test"), Some(&app.admin))
        .json(&json!({}))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&retry), "{retry}");
    let body: Value = response.json().await.expect("error body");
    assert_eq!(body["code"], 429);
    // Another stack has its own budget.
    assert_eq!(
        test_oidc(&app, "dev", &json!({})).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn explain_names_the_condition_that_fails() {
    let app = server(None, "https://keyless.example.com/oidc", None).await;
    let sub = "pulumi:deploy:org:acme:project:website:stack:prod:operation:update:scope:write";
    let policy = json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/keyless.example.com/oidc"},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "keyless.example.com/oidc:aud": "acme",
                    "keyless.example.com/oidc:sub": "pulumi:deploy:org:acme:project:website:stack:prod:*"
                }
            }
        }]
    });
    let claims = json!({
        "iss": "https://keyless.example.com/oidc", "aud": "acme", "sub": sub,
        "exp": 4_000_000_000u64, "nbf": 1_000_000_000u64
    });
    let path = assistant("prod", "explain");
    let body = json!({"cloud": "aws", "claims": claims, "trust": policy});
    let reply = app.write(Method::POST, &path, &app.member, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "rejected", "{}", reply.text);
    assert_eq!(
        reply.body["condition"], "StringEquals keyless.example.com/oidc:sub",
        "{}",
        reply.text
    );

    // Without claims, the stack's own token for the operation is judged.
    let body = json!({"cloud": "aws", "operation": "update", "trust": policy});
    let reply = app.write(Method::POST, &path, &app.member, &body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["verdict"], "rejected");

    let body = json!({"cloud": "aws", "trust": {"Version": "2012-10-17"}});
    let reply = app.write(Method::POST, &path, &app.member, &body).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text);
    assert_eq!(reply.error_attributes(), ["trust"]);
    assert!(
        reply.error().message.contains("has no Statement"),
        "{}",
        reply.text
    );

    let body = json!({"cloud": "gcp", "trust": {"provider": {}}});
    let reply = app.write(Method::POST, &path, &app.member, &body).await;
    assert_eq!(reply.error_attributes(), ["trust"], "{}", reply.text);
}

/// The console reads these answers as the server writes them: the trust sections it shows
/// (each fact, document and command found where the console looks for it) and Test OIDC runs
/// and explanations in the shared types. A field renamed on one side fails here.
#[tokio::test]
async fn the_console_reads_the_trust_and_test_answers_the_server_writes() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let issuer = format!("http://{}/oidc", listener.local_addr().expect("address"));
    let generator = server(None, &issuer, None).await;
    let generated = generator
        .get(&assistant("prod", "trust"), &generator.admin)
        .await;
    assert_eq!(generated.status, StatusCode::OK, "{}", generated.text);
    let sections = trust_view::cloud_sections(&generated.body["trust"]);
    let clouds: Vec<Cloud> = sections.iter().map(|section| section.cloud).collect();
    assert_eq!(clouds, Cloud::ALL);
    for section in &sections {
        let raw = &generated.body["trust"][section.cloud.key()];
        let cloud = section.cloud;
        for (label, value) in &section.facts {
            assert!(!value.is_empty(), "{cloud}: {label} is empty in {raw}");
        }
        for (label, text) in &section.blocks {
            assert!(
                !text.is_empty() && text != "null",
                "{cloud}: {label} in {raw}"
            );
        }
        assert!(!section.commands.is_empty(), "{cloud}: commands in {raw}");
        let notes = raw["notes"].as_array().map_or(0, Vec::len);
        assert_eq!(section.notes.len(), notes, "{cloud}: notes in {raw}");
    }

    let mut wrong = generated.body.clone();
    wrong["trust"]["aws"]["provider"]["audience"] = json!("sts.amazonaws.com");
    wrong["trust"]["gcp"]["provider"]["oidc"]["allowedAudiences"] = json!(["another"]);
    let clouds = clouds_trusting(&wrong, &issuer).await;
    let app = server(
        Some(listener),
        &issuer,
        Some(&[&clouds[0], &clouds[1], &clouds[2]]),
    )
    .await;
    let mut policy = generated.body["trust"]["aws"]["trustPolicy"].clone();
    let host = issuer.trim_start_matches("http://");
    policy["Statement"][0]["Condition"]["StringEquals"][format!("{host}:aud")] =
        json!("sts.amazonaws.com");
    let pasted = json!({"trust": {"aws": policy, "gcp": {"provider": {}}}});
    let reply = test_oidc(&app, "prod", &pasted).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let run: OidcTestRun = serde_json::from_value(reply.body).expect("an OidcTestRun");
    let outcome: Vec<(Cloud, bool)> = run.results.iter().map(|r| (r.cloud, r.success)).collect();
    assert_eq!(
        outcome,
        [
            (Cloud::Aws, false),
            (Cloud::Azure, true),
            (Cloud::Gcp, false)
        ]
    );
    let [aws, _, gcp] = &run.results[..] else {
        unreachable!()
    };
    assert!(
        matches!(&aws.verdict, Some(Explained::Verdict(Verdict::Rejected { condition, .. })) if !condition.is_empty()),
        "{:?}",
        aws.verdict
    );
    assert!(
        matches!(
            &gcp.verdict,
            Some(Explained::Unjudged(ExplainError::Malformed { .. }))
        ),
        "{:?}",
        gcp.verdict
    );

    let body = json!({"cloud": "aws", "trust": policy});
    let reply = app
        .write(
            Method::POST,
            &assistant("prod", "explain"),
            &app.member,
            &body,
        )
        .await;
    let verdict: Verdict = serde_json::from_value(reply.body.clone()).expect("a Verdict");
    assert!(!verdict.is_accepted(), "{}", reply.text);
}

#[tokio::test]
async fn lifetime_advice_reads_recent_successful_runs() {
    // No local agent: the runs are written straight into the store, and an agent could claim
    // a queued one before the test starts it.
    let app = server_with(None, "https://keyless.example.com/oidc", None, |config| {
        config.deploy.agents = 0;
    })
    .await;
    let stack_id = app.stack_id("acme", "website", "prod").await;
    let user = app
        .store
        .account_by_token(&tokens::hash(&app.admin))
        .await
        .expect("store")
        .expect("alice");
    let settings = json!({});
    for (minutes, status) in [
        (70, DeploymentStatus::Succeeded),
        (80, DeploymentStatus::Succeeded),
        (90, DeploymentStatus::Succeeded),
        (300, DeploymentStatus::Failed),
    ] {
        let record = app
            .store
            .create_deployment(NewDeployment {
                stack_id: &stack_id,
                operation: PulumiOperation::Destroy,
                requested_by: &user.id,
                initiator: "api",
                trigger: None,
                settings: &settings,
                now: "2026-12-01T09:00:00.000000Z",
            })
            .await
            .expect("created");
        let started = app
            .store
            .start_job(
                &record.id,
                &["run".into()],
                "2026-12-01T09:00:00.000000Z",
                Lease {
                    holder: "test",
                    millis: i64::MAX / 2,
                },
            )
            .await
            .expect("started");
        assert!(started);
        let finished = format!(
            "2026-12-01T{:02}:{:02}:00.000000Z",
            9 + minutes / 60,
            minutes % 60
        );
        app.store
            .transition(&record.id, &[DeploymentStatus::Running], status, &finished)
            .await
            .expect("finished");
    }
    let reply = app
        .get(
            &assistant("prod", "lifetime?operation=destroy"),
            &app.member,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.body["samples"], 3, "{}", reply.text);
    assert_eq!(reply.body["p95Seconds"], 90 * 60);
    let warnings = reply.body["warnings"].as_array().expect("warnings");
    let clouds: Vec<&str> = warnings
        .iter()
        .map(|w| w["cloud"].as_str().expect("cloud"))
        .collect();
    assert_eq!(clouds, ["aws", "gcp"], "{}", reply.text);
    assert!(
        warnings[0]["text"]
            .as_str()
            .expect("text")
            .contains("destroy runs took up to 1h30m")
    );

    let update = app.get(&assistant("prod", "lifetime"), &app.member).await;
    assert_eq!(
        (
            update.body["samples"].as_u64(),
            update.body["warnings"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
}
