//! The OIDC issuer and the `Fetch credentials via OIDC` step, against the exchange crate's local
//! AWS, Azure and Google Cloud stand-ins. Tokens are checked by an independent verifier
//! (jsonwebtoken) with the discovery document and JWKS fetched from the running server.

use std::time::{Duration, Instant};

use keyless_api_types::Cloud;
use keyless_api_types::oidc_log::{OidcLogEvent, parse_marker};
use keyless_exchange::relying_party::{aws, azure, gcp};
use keyless_exchange::{Endpoints, Exchanger};
use keyless_server::Config;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::{Fixture, Outbox, PATIENCE, deployments, steps};
use crate::helpers::{TestApp, spawn_app, spawn_on, verify_jwt};

const ROLE: &str = "arn:aws:iam::123456789012:role/keyless-deploy";
const TENANT: &str = "8f5c1c7e-3c4b-4d1a-9a7e-2b6f0c9d1e23";
const CLIENT: &str = "0b7d2c61-5a8e-4f3b-b1c9-6e2d4a8f7c10";
const SUBSCRIPTION: &str = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70";
const PROJECT_NUMBER: &str = "123456789012";
const SERVICE_ACCOUNT: &str = "deploy@acme-web.iam.gserviceaccount.com";
const SUB_DEV: &str =
    "pulumi:deploy:org:acme:project:website:stack:dev:operation:update:scope:write";

/// The OIDC step's marker lines in `log`, in order.
fn markers(log: &str) -> Vec<OidcLogEvent> {
    log.lines().filter_map(parse_marker).collect()
}

/// The three stand-ins, trusting `issuer` for `acme/website/dev`.
struct Clouds {
    aws: keyless_exchange::relying_party::RelyingParty,
    azure: keyless_exchange::relying_party::RelyingParty,
    gcp: keyless_exchange::relying_party::RelyingParty,
}

impl Clouds {
    async fn start(issuer: &str, aws_audience: &str) -> Self {
        let aws = aws::spawn(aws::AwsConfig {
            providers: vec![aws::OidcProvider {
                url: issuer.into(),
                client_ids: vec![aws_audience.into()],
            }],
            roles: vec![aws::Role {
                arn: ROLE.into(),
                issuer: issuer.into(),
                audience: aws_audience.into(),
                subject_like: "pulumi:deploy:org:acme:project:website:stack:dev:*".into(),
                max_session_duration: 3600,
                trust_policy: None,
            }],
        })
        .await
        .expect("AWS stand-in");
        let azure = azure::spawn(azure::AzureConfig {
            tenant_id: TENANT.into(),
            apps: vec![azure::App {
                client_id: CLIENT.into(),
                federated_credentials: vec![azure::FederatedCredential {
                    issuer: issuer.into(),
                    subject: SUB_DEV.into(),
                    audience: "acme".into(),
                }],
            }],
        })
        .await
        .expect("Azure stand-in");
        let mut gcp_config = gcp::GcpConfig {
            project_number: PROJECT_NUMBER.into(),
            pool_id: "keyless-pool".into(),
            provider_id: "keyless-provider".into(),
            issuer: issuer.into(),
            allowed_audiences: vec!["acme".into()],
            subject_condition: None,
            attribute_condition: None,
            service_accounts: Vec::new(),
            max_lifetime: 3600,
        };
        gcp_config.service_accounts = vec![gcp::ServiceAccount {
            email: SERVICE_ACCOUNT.into(),
            workload_identity_users: vec![gcp_config.whole_pool()],
        }];
        let gcp = gcp::spawn(gcp_config).await.expect("GCP stand-in");
        Self { aws, azure, gcp }
    }
}

/// A server whose issuer the clouds trust; `endpoints` points its exchanges (defaults to the
/// stand-ins).
async fn oidc_app(
    fixture: &Fixture,
    aws_audience: &str,
    aws_sts: Option<&str>,
) -> (TestApp, Clouds) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let issuer = format!("http://{}/oidc", listener.local_addr().expect("address"));
    let clouds = Clouds::start(&issuer, aws_audience).await;
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    config.deploy.oidc_token_lifetime = "20m".into();
    config.deploy.run.aws_sts_endpoint = Some(aws_sts.unwrap_or(clouds.aws.url()).to_owned());
    config.deploy.run.azure_authority_host = Some(clouds.azure.url().to_owned());
    config.deploy.run.gcp_sts_endpoint = Some(clouds.gcp.url().to_owned());
    config.deploy.run.gcp_iam_credentials_endpoint = Some(clouds.gcp.url().to_owned());
    let (app, tokens) = spawn_on(listener, config, data_dir).await;
    (app.signed_in(tokens.expect("seeded")), clouds)
}

/// A deployment of `acme/website/dev` with all three clouds, whose pre-run command prints what
/// it was given and sends the token to `outbox`.
fn request(fixture: &Fixture, outbox: &Outbox) -> Value {
    let print = format!(
        "echo \"AWS_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID\"; \
         echo \"AWS_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY\"; \
         echo \"AWS_SESSION_TOKEN=$AWS_SESSION_TOKEN\"; \
         echo \"ARM_CLIENT_ID=$ARM_CLIENT_ID ARM_TENANT_ID=$ARM_TENANT_ID\"; \
         echo \"ARM_SUBSCRIPTION_ID=$ARM_SUBSCRIPTION_ID ARM_USE_OIDC=$ARM_USE_OIDC\"; \
         echo \"ARM_OIDC_TOKEN=$ARM_OIDC_TOKEN\"; \
         echo \"GOOGLE_OAUTH_ACCESS_TOKEN=$GOOGLE_OAUTH_ACCESS_TOKEN\"; \
         echo \"GOOGLE_REGION=$GOOGLE_REGION\"; \
         echo \"PULUMI_OIDC_TOKEN=$PULUMI_OIDC_TOKEN\"; \
         [ \"$(cat ../../pulumi.oidc)\" = \"$PULUMI_OIDC_TOKEN\" ] && echo 'pulumi.oidc matches'; \
         {}",
        outbox.send("\"$PULUMI_OIDC_TOKEN\"")
    );
    let mut body = fixture.request("update", &[&print]);
    body["operationContext"]["oidc"] = json!({
        "aws": {
            "roleArn": ROLE,
            "sessionName": "pulumi-${stack.name}-${operation}-${deployment.version}",
            "duration": "1h"
        },
        "azure": {"clientId": CLIENT, "tenantId": TENANT, "subscriptionId": SUBSCRIPTION},
        "gcp": {
            "projectId": PROJECT_NUMBER,
            "workloadPoolId": "keyless-pool",
            "providerId": "keyless-provider",
            "serviceAccount": SERVICE_ACCOUNT,
            "region": "europe-west1",
            "tokenLifetime": "30m"
        }
    });
    body
}

/// Verifies `token` with the keys the server serves, as a relying party would.
async fn verify(app: &TestApp, token: &str) -> Value {
    let discovery = app
        .send(app.bare_get("/oidc/.well-known/openid-configuration"))
        .await
        .body;
    let issuer = discovery["issuer"].as_str().expect("issuer");
    let jwks: Value = reqwest::get(discovery["jwks_uri"].as_str().expect("jwks_uri"))
        .await
        .expect("JWKS answers")
        .json()
        .await
        .expect("JWKS is JSON");
    verify_jwt(&jwks, token, issuer, Some("acme")).1
}

#[tokio::test]
async fn discovery_and_keys_are_served_under_the_issuer_path() {
    let app = spawn_app().await;
    let discovery = app
        .send(app.bare_get("/oidc/.well-known/openid-configuration"))
        .await;
    assert_eq!(discovery.status, StatusCode::OK);
    let issuer = format!("{}/oidc", app.base_url);
    assert_eq!(discovery.body["issuer"], issuer.as_str());
    assert_eq!(
        discovery.body["jwks_uri"],
        format!("{issuer}/.well-known/jwks").as_str()
    );
    assert_eq!(
        discovery.body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    for field in [
        "response_types_supported",
        "subject_types_supported",
        "claims_supported",
    ] {
        assert!(discovery.body[field].is_array(), "{field}");
    }
    let jwks = app.send(app.bare_get("/oidc/.well-known/jwks")).await;
    let key = &jwks.body["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str()),
        (Some("RSA"), Some("RS256"))
    );
    assert!(key["kid"].as_str().is_some_and(|kid| !kid.is_empty()));
    let stored = app
        .store
        .key_ring()
        .await
        .expect("the store answers")
        .expect("the key ring is in the store")
        .ring;
    assert!(stored.contains(key["kid"].as_str().expect("kid")));
    assert!(!stored.contains("PRIVATE"), "private keys are sealed");
    assert!(
        !app.data_dir
            .path()
            .join(keyless_server::oidc::KEY_FILE)
            .exists(),
        "no key file is written"
    );
}

#[tokio::test]
async fn a_deployment_gets_credentials_from_every_cloud_and_tokens_survive_rotation() {
    let fixture = Fixture::new();
    let (app, clouds) = oidc_app(&fixture, "acme", None).await;
    let base = deployments("website", "dev");
    let outbox = Outbox::new().await;
    let id = app.deploy(&base, &request(&fixture, &outbox)).await;
    let done = app.finished(&base, &id).await;
    let log = app.log_text(&base, &id).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    assert_eq!(
        steps(&done)[2],
        ("Fetch credentials via OIDC".into(), "succeeded".into())
    );
    for needle in [
        "OIDC token header:",
        "\"kid\":",
        &format!("\"sub\": \"{SUB_DEV}\""),
        "\"aud\": \"acme\"",
        "\"stackId\":",
        "The token expires at",
        "AWS: obtained arn:aws:sts::123456789012:assumed-role/keyless-deploy/pulumi-dev-update-1",
        "Azure: obtained",
        &format!("Google Cloud: obtained {SERVICE_ACCOUNT}"),
        "AWS_ACCESS_KEY_ID=ASIA",
        "AWS_SECRET_ACCESS_KEY=[secret]",
        "AWS_SESSION_TOKEN=[secret]",
        &format!("ARM_CLIENT_ID={CLIENT} ARM_TENANT_ID={TENANT}"),
        &format!("ARM_SUBSCRIPTION_ID={SUBSCRIPTION} ARM_USE_OIDC=true"),
        "ARM_OIDC_TOKEN=[secret]",
        "GOOGLE_OAUTH_ACCESS_TOKEN=[secret]",
        "GOOGLE_REGION=europe-west1",
        "PULUMI_OIDC_TOKEN=[secret]",
        "pulumi.oidc matches",
    ] {
        assert!(log.contains(needle), "no {needle:?} in:\n{log}");
    }
    let token = outbox
        .received()
        .await
        .pop()
        .expect("the pre-run command sent it");
    let signature = token.rsplit('.').next().expect("three parts");
    assert!(!log.contains(&token) && !log.contains(signature), "{log}");
    // The same events for the console: the token, then one grant per cloud, in order.
    let events = markers(&log);
    let [
        OidcLogEvent::Token(minted),
        OidcLogEvent::Grant(aws),
        OidcLogEvent::Grant(azure),
        OidcLogEvent::Grant(gcp),
    ] = events.as_slice()
    else {
        panic!("not a token and three grants:\n{log}");
    };
    assert_eq!(minted.subject, SUB_DEV);
    assert_eq!(minted.audience, "acme");
    assert_eq!(minted.issuer, format!("{}/oidc", app.base_url));
    assert_eq!(minted.claims["sub"], SUB_DEV);
    assert_eq!(minted.header["alg"], "RS256");
    assert!(log.contains(&format!("The token expires at {}", minted.expires_at)));
    assert_eq!(
        (aws.cloud, azure.cloud, gcp.cloud),
        (Cloud::Aws, Cloud::Azure, Cloud::Gcp)
    );
    assert!(aws.identity.ends_with("/pulumi-dev-update-1"), "{aws:?}");
    // The stand-ins are not the clouds, and the log and the card say so.
    for (grant, flag) in [
        (aws, "--aws-sts-endpoint"),
        (azure, "--azure-authority-host"),
        (gcp, "--gcp-sts-endpoint"),
    ] {
        let note = format!("(set by {flag}; not the cloud's own endpoint)");
        assert!(
            log.contains(", at http://127.0.0.1:") && log.contains(&note),
            "{log}"
        );
        let endpoint = grant.details.get("Endpoint");
        assert!(
            endpoint.is_some_and(|url| url.ends_with(&note)),
            "{grant:?}"
        );
    }
    assert_eq!(
        aws.variables,
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN"
        ]
    );
    assert_eq!(gcp.identity, SERVICE_ACCOUNT);
    assert!(
        gcp.variables
            .iter()
            .any(|v| v == "GOOGLE_OAUTH_ACCESS_TOKEN")
    );
    assert!(!gcp.expires_at.is_empty());
    // Names only: no credential reaches a marker, not even redacted.
    let marked: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("##[keyless:"))
        .collect();
    assert_eq!(marked.len(), 4, "{log}");
    assert!(marked.iter().all(|l| !l.contains("[secret]")), "{marked:?}");
    let disk = app.stored_bytes().await;
    assert!(
        !crate::helpers::contains(&disk, signature),
        "the token is on disk"
    );
    assert_eq!(clouds.aws.requests().len(), 1);

    let claims = verify(&app, &token).await;
    let stack_id = app.stack_id("acme", "website", "dev").await;
    for (claim, value) in [
        ("sub", json!(SUB_DEV)),
        ("aud", json!("acme")),
        ("org", json!("acme")),
        ("project", json!("website")),
        ("stack", json!("dev")),
        ("stackId", json!(stack_id.as_str())),
        ("operation", json!("update")),
        ("deployment", json!(1)),
        ("scope", json!("write")),
    ] {
        assert_eq!(claims[claim], value, "{claim}: {claims}");
    }
    let (iat, nbf, exp) = (
        claims["iat"].as_u64().expect("iat"),
        claims["nbf"].as_u64().expect("nbf"),
        claims["exp"].as_u64().expect("exp"),
    );
    assert_eq!((nbf, exp - iat), (iat, 20 * 60), "the configured lifetime");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));

    // Rotation by the real command; the running server picks the new ring up.
    let old_kid = jsonwebtoken::decode_header(&token)
        .expect("jwt")
        .kid
        .expect("kid");
    let mut args = vec![
        "--data-dir".into(),
        app.data_dir.path().display().to_string(),
    ];
    args.extend(app.database_args());
    crate::helpers::rotate_oidc_key(args);
    let start = Instant::now();
    let kids = loop {
        let jwks = app.send(app.bare_get("/oidc/.well-known/jwks")).await.body;
        let kids: Vec<String> = jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .filter_map(|k| k["kid"].as_str().map(str::to_owned))
            .collect();
        if kids.len() == 2 {
            break kids;
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the rotated ring was never served: {kids:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(
        kids[1], old_kid,
        "the old key stays published, after the new one"
    );
    verify(&app, &token).await;
    let outbox = Outbox::new().await;
    let second = app.deploy(&base, &request(&fixture, &outbox)).await;
    let done = app.finished(&base, &second).await;
    assert_eq!(
        done["status"],
        "succeeded",
        "{}",
        app.log_text(&base, &second).await
    );
    let new_token = outbox.received().await.pop().expect("sent");
    let new_kid = jsonwebtoken::decode_header(&new_token)
        .expect("jwt")
        .kid
        .expect("kid");
    assert_eq!(new_kid, kids[0]);
    assert_eq!(verify(&app, &new_token).await["deployment"], 2);
}

/// Runs a deployment that must fail in the OIDC step; returns its log.
async fn failing(app: &TestApp, fixture: &Fixture) -> String {
    let base = deployments("website", "dev");
    let outbox = Outbox::new().await;
    let id = app.deploy(&base, &request(fixture, &outbox)).await;
    let done = app.finished(&base, &id).await;
    let log = app.log_text(&base, &id).await;
    assert_eq!(done["status"], "failed", "{log}");
    let statuses: Vec<String> = steps(&done).into_iter().map(|(_, s)| s).collect();
    assert_eq!(
        statuses,
        [
            "succeeded",
            "succeeded",
            "failed",
            "not-started",
            "not-started",
            "not-started"
        ],
        "{log}"
    );
    assert!(log.contains("What to do: "), "{log}");
    // The claim values the cloud judged, for the failure explainer.
    assert!(
        log.contains(&format!(
            "Presented: iss http://{}/oidc, aud acme, sub {SUB_DEV}",
            app.base_url.trim_start_matches("http://")
        )),
        "{log}"
    );
    assert!(
        outbox.received().await.is_empty(),
        "the pre-run command never ran"
    );
    log
}

/// The failure marker of a log whose OIDC step failed, after the token's marker.
fn failure_marker(log: &str) -> keyless_api_types::oidc_log::FailureEvent {
    match markers(log).as_slice() {
        [OidcLogEvent::Token(_), .., OidcLogEvent::Failure(failure)] => failure.clone(),
        _ => panic!("no token then failure marker:\n{log}"),
    }
}

#[tokio::test]
async fn a_wrong_audience_fails_fast_with_the_explanation() {
    let fixture = Fixture::new();
    let (app, clouds) = oidc_app(&fixture, "someone-else", None).await;
    let log = failing(&app, &fixture).await;
    assert!(log.contains("AWS error code: "), "{log}");
    assert!(log.contains("AWS did not grant credentials"), "{log}");
    let failure = failure_marker(&log);
    assert_eq!(failure.cloud, Some(Cloud::Aws));
    assert!(failure.code.as_deref().is_some_and(|c| !c.is_empty()));
    assert!(log.contains(&format!("AWS said: {}", failure.message)));
    assert!(log.contains(&format!("What to do: {}", failure.explanation)));
    assert_eq!(
        (
            failure.presented.aud.as_str(),
            failure.presented.sub.as_str()
        ),
        ("acme", SUB_DEV)
    );
    assert_eq!(failure.presented.iss, format!("{}/oidc", app.base_url));
    assert!(
        clouds.azure.requests().is_empty(),
        "stops at the first failure"
    );
}

#[tokio::test]
async fn a_cloud_error_fails_fast_with_its_code() {
    let fixture = Fixture::new();
    let (app, clouds) = oidc_app(&fixture, "acme", None).await;
    // Another stack: its subject matches no trust rule.
    let staging = deployments("website", "staging");
    let mut body = request(&fixture, &Outbox::new().await);
    body["operationContext"]["oidc"]
        .as_object_mut()
        .expect("oidc")
        .remove("aws");
    let id = app.deploy(&staging, &body).await;
    let done = app.finished(&staging, &id).await;
    let log = app.log_text(&staging, &id).await;
    assert_eq!(done["status"], "failed", "{log}");
    assert!(log.contains("Azure error code: AADSTS"), "{log}");
    assert!(log.contains("What to do: "), "{log}");
    let failure = failure_marker(&log);
    assert_eq!(failure.cloud, Some(Cloud::Azure));
    assert!(
        failure
            .code
            .as_deref()
            .is_some_and(|c| c.starts_with("AADSTS")),
        "{failure:?}"
    );
    assert!(
        failure
            .presented
            .sub
            .ends_with(":stack:staging:operation:update:scope:write")
    );
    assert_eq!(steps(&done)[3].1, "not-started");
    assert!(clouds.gcp.requests().is_empty());
}

#[tokio::test]
async fn an_unreachable_endpoint_fails_fast() {
    let fixture = Fixture::new();
    let (app, _clouds) = oidc_app(&fixture, "acme", Some("http://127.0.0.1:9")).await;
    let log = failing(&app, &fixture).await;
    assert!(log.contains("could not reach"), "{log}");
    let failure = failure_marker(&log);
    assert_eq!(
        (failure.cloud, failure.code.as_deref()),
        (Some(Cloud::Aws), None)
    );
    assert!(
        failure.explanation.contains("could not talk to"),
        "{failure:?}"
    );
}

#[tokio::test]
async fn an_expired_token_is_refused_with_the_explanation() {
    // The executor always mints a fresh token, so an expired one is made here with the
    // server's own key ring and issuer, and traded through the same exchanger.
    let fixture = Fixture::new();
    let (app, clouds) = oidc_app(&fixture, "acme", None).await;
    let cipher = keyless_server::crypto::Cipher::load_or_create(app.data_dir.path()).expect("key");
    let json = app
        .store
        .key_ring()
        .await
        .expect("the store answers")
        .expect("ring")
        .ring;
    let ring = keyless_oidc::KeyRing::from_json(&json, &cipher).expect("opens");
    let issuer = keyless_oidc::Issuer::new(format!("{}/oidc", app.base_url)).expect("issuer");
    let stack_id = app.stack_id("acme", "website", "dev").await;
    let deployment = keyless_oidc::Deployment {
        org: "acme",
        project: "website",
        stack: "dev",
        stack_id: stack_id.as_str(),
        operation: "update",
        version: 1,
    };
    let issued = keyless_server::oidc::unix_now() - 3 * 3600;
    let claims =
        keyless_oidc::DeploymentClaims::new(&issuer, &deployment, issued, Duration::from_secs(600))
            .expect("claims");
    let token = keyless_oidc::mint(&ring, &claims).expect("mints");
    let exchanger = Exchanger::new(Endpoints {
        aws_sts: clouds.aws.url().to_owned(),
        ..Endpoints::default()
    })
    .expect("client");
    let settings = keyless_api_types::AwsOidc {
        role_arn: ROLE.into(),
        session_name: "expired".into(),
        ..Default::default()
    };
    let err = exchanger
        .aws(&settings, "expired", &token)
        .await
        .expect_err("an expired token is refused");
    assert_eq!(err.code(), Some("ExpiredTokenException"), "{err}");
    assert!(!err.explain().is_empty());
}

#[tokio::test]
async fn rotating_keys_without_a_server_creates_nothing() {
    let empty = tempfile::tempdir().expect("temp dir");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_keyless-server"))
        .args(["rotate-oidc-key", "--data-dir"])
        .arg(empty.path())
        .output()
        .expect("the command runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("start the server once"), "{stderr}");
    let made: Vec<_> = std::fs::read_dir(empty.path()).expect("lists").collect();
    assert!(made.is_empty(), "it made {made:?}");

    // With a store but no key of its own, it makes no key either.
    let app = spawn_app().await;
    let data_dir = app.data_dir.path();
    std::fs::rename(data_dir.join("secret.key"), data_dir.join("moved.key")).expect("moves");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_keyless-server"))
        .args(["rotate-oidc-key", "--data-dir"])
        .arg(data_dir)
        .args(app.database_args())
        .output()
        .expect("the command runs");
    assert!(!output.status.success());
    assert!(!data_dir.join("secret.key").exists(), "a new key was made");
}
