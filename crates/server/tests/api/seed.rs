//! The demo seed: what a first start creates, and that a restart does not seed again.

use std::collections::BTreeMap;

use keyless_exchange::relying_party::{aws, azure, gcp};
use keyless_server::seed::{self, TOKENS_FILE};
use keyless_server::store::StackQuery;
use keyless_server::{Config, start};
use reqwest::StatusCode;
use serde_json::json;

use crate::fixtures::{Fixture, deployments, steps};
use crate::helpers::{PROD, on_test_store, spawn_app, spawn_on};

#[tokio::test]
async fn demo_tokens_are_written_privately_as_admin_and_member() {
    let app = spawn_app().await;
    let path = app.data_dir.path().join(TOKENS_FILE);
    let file: BTreeMap<String, String> =
        serde_json::from_slice(&std::fs::read(&path).expect("tokens file")).expect("JSON");
    assert_eq!(file.keys().collect::<Vec<_>>(), ["admin", "member"]);
    assert_eq!(file["admin"], app.admin);
    assert_eq!(file["member"], app.member);
    for token in file.values() {
        assert!(token.starts_with("pul-") && token.len() == 44, "{token}");
        assert!(token[4..].chars().all(|c| c.is_ascii_hexdigit()));
    }
    #[cfg(unix)]
    for name in [TOKENS_FILE, "secret.key"] {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(app.data_dir.path().join(name))
            .expect("file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    let database: Vec<u8> = std::fs::read_dir(app.data_dir.path())
        .expect("lists")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("keyless.db"))
        })
        .flat_map(|p| crate::helpers::read_elsewhere(&p))
        .collect();
    assert!(
        !crate::helpers::contains(&database, &app.admin),
        "tokens are stored hashed only"
    );
}

#[tokio::test]
async fn globex_is_seeded_with_its_own_stack() {
    let app = spawn_app().await;
    let stacks = app
        .store
        .list_stacks(&StackQuery {
            orgs: vec!["globex".into()],
            ..StackQuery::default()
        })
        .await
        .expect("store answers");
    assert_eq!(stacks.len(), 1);
    assert_eq!(stacks[0].stack.to_string(), "globex/infra/prod");
}

#[tokio::test]
async fn a_restart_keeps_data_and_does_not_seed_again() {
    let app = spawn_app().await;
    let tokens_file = std::fs::read(app.data_dir.path().join(TOKENS_FILE)).expect("tokens");
    let config = Config::new(([127, 0, 0, 1], 0).into(), app.data_dir.path().to_owned());
    let config = on_test_store(config).await;
    let (state, tokens) = start(&config, config.listen).await.expect("restarts");
    assert!(tokens.is_none(), "seeding is skipped when data exists");
    let orgs = vec!["acme".to_owned(), "globex".to_owned()];
    let all = state
        .store
        .list_stacks(&StackQuery {
            orgs,
            ..StackQuery::default()
        })
        .await
        .expect("store answers");
    assert_eq!(all.len(), 8);
    assert_eq!(
        std::fs::read(app.data_dir.path().join(TOKENS_FILE)).expect("tokens"),
        tokens_file
    );
    // The old tokens still work against the first server.
    assert_eq!(
        app.get("/api/user", &app.member).await.status,
        StatusCode::OK
    );
}

/// The newcomer's first deployment: `acme/demo/dev` gets its source from the seeded local
/// repository and credentials from local stand-ins that trust exactly its seeded OIDC settings
/// (as `cargo xtask run` starts them), on a machine with no network and no cloud account.
#[tokio::test]
async fn the_demo_stack_deploys_its_local_repository_with_credentials_from_local_clouds() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let issuer = format!("http://{}/oidc", listener.local_addr().expect("address"));
    let subject = "pulumi:deploy:org:acme:project:demo:stack:dev:operation:update:scope:write";
    let aws = aws::spawn(aws::AwsConfig {
        providers: vec![aws::OidcProvider {
            url: issuer.clone(),
            client_ids: vec!["acme".into()],
        }],
        roles: vec![aws::Role {
            arn: seed::DEMO_AWS_ROLE.into(),
            issuer: issuer.clone(),
            audience: "acme".into(),
            subject_like: "pulumi:deploy:org:acme:project:demo:stack:dev:*".into(),
            max_session_duration: 3600,
            trust_policy: None,
        }],
    })
    .await
    .expect("AWS stand-in");
    let azure = azure::spawn(azure::AzureConfig {
        tenant_id: seed::DEMO_AZURE_TENANT.into(),
        apps: vec![azure::App {
            client_id: seed::DEMO_AZURE_CLIENT.into(),
            federated_credentials: vec![azure::FederatedCredential {
                issuer: issuer.clone(),
                subject: subject.into(),
                audience: "acme".into(),
            }],
        }],
    })
    .await
    .expect("Azure stand-in");
    let mut gcp_config = gcp::GcpConfig {
        project_number: seed::DEMO_GCP_PROJECT.into(),
        pool_id: seed::DEMO_GCP_POOL.into(),
        provider_id: seed::DEMO_GCP_PROVIDER.into(),
        issuer: issuer.clone(),
        allowed_audiences: vec!["acme".into()],
        subject_condition: None,
        attribute_condition: None,
        service_accounts: Vec::new(),
        max_lifetime: 3600,
    };
    gcp_config.service_accounts = vec![gcp::ServiceAccount {
        email: seed::DEMO_GCP_SERVICE_ACCOUNT.into(),
        workload_identity_users: vec![gcp_config.whole_pool()],
    }];
    let gcp = gcp::spawn(gcp_config).await.expect("GCP stand-in");

    // The stand-in pulumi (the real CLI is not installed in tests) ends the deployment quickly.
    let fixture = Fixture::new();
    let data_dir = tempfile::tempdir().expect("temp data dir");
    let mut config = Config::new(([127, 0, 0, 1], 0).into(), data_dir.path().to_owned());
    config.deploy.run.pulumi = Some(fixture.pulumi.clone());
    config.deploy.run.aws_sts_endpoint = Some(aws.url().to_owned());
    config.deploy.run.azure_authority_host = Some(azure.url().to_owned());
    config.deploy.run.gcp_sts_endpoint = Some(gcp.url().to_owned());
    config.deploy.run.gcp_iam_credentials_endpoint = Some(gcp.url().to_owned());
    let (app, tokens) = spawn_on(listener, config, data_dir).await;
    let app = app.signed_in(tokens.expect("seeded"));

    let repo = seed::demo_repo(app.data_dir.path());
    assert!(!repo.starts_with(app.data_dir.path()), "{}", repo.display());
    let program = std::fs::read_to_string(repo.join("Pulumi.yaml")).expect("a program");
    assert!(program.contains("name: demo\nruntime: yaml\n"), "{program}");
    let commit = std::process::Command::new("git")
        .args(["log", "-1", "--format=%an <%ae>"])
        .current_dir(&repo)
        .output()
        .expect("git runs");
    assert_eq!(
        String::from_utf8_lossy(&commit.stdout).trim(),
        "Keyless demo <demo@keyless.invalid>"
    );

    let settings = app
        .get(&PROD.replace("website/prod", "demo/dev"), &app.admin)
        .await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text);
    let context = &settings.body["operationContext"];
    assert_eq!(
        settings.body["sourceContext"]["git"]["repoUrl"],
        repo.display().to_string()
    );
    assert_eq!(context["oidc"]["aws"]["roleArn"], seed::DEMO_AWS_ROLE);
    assert_eq!(
        context["environmentVariables"],
        json!({"PULUMI_BACKEND_URL": "file://~", "PULUMI_CONFIG_PASSPHRASE": ""})
    );

    let base = deployments("demo", "dev");
    let id = app.deploy(&base, &json!({"operation": "update"})).await;
    let done = app.finished(&base, &id).await;
    let log = app.log_text(&base, &id).await;
    assert_eq!(done["status"], "succeeded", "{log}");
    assert_eq!(
        steps(&done)[1..3],
        [
            ("Get source".into(), "succeeded".into()),
            ("Fetch credentials via OIDC".into(), "succeeded".into())
        ]
    );
    for needle in [
        "Checked out ",
        "AWS: obtained arn:aws:sts::123456789012:assumed-role/keyless-demo/",
        "Azure: obtained",
        &format!("Google Cloud: obtained {}", seed::DEMO_GCP_SERVICE_ACCOUNT),
        "found Pulumi.yaml",
        // A file backend's one organization is `organization`, and its stack is made first.
        "fake pulumi: stack select --create --non-interactive organization/demo/dev",
        "fake pulumi: up --yes --skip-preview --non-interactive --stack organization/demo/dev",
    ] {
        assert!(log.contains(needle), "no {needle:?} in:\n{log}");
    }
}
