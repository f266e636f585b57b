//! Settings payloads shaped like the spec's and Pulumi's documentation examples survive a
//! decode → encode round trip unchanged, in the spec's casing.

use keyless_api_types::input::{canonicalize_keys, decode};
use keyless_api_types::{DeploymentSettings, EnvValue, SecretValue};
use serde_json::{Value, json};

fn roundtrip(mut body: Value) -> Value {
    canonicalize_keys(&mut body);
    let mut settings: DeploymentSettings = decode(body).expect("payload decodes");
    settings.normalize();
    serde_json::to_value(&settings).expect("settings encode")
}

/// The documentation's "update settings" example, every section filled in.
fn docs_example() -> Value {
    json!({
        "sourceContext": {"git": {
            "repoUrl": "https://github.com/example/repo.git",
            "branch": "refs/heads/main",
            "repoDir": "infra",
            "gitAuth": {"sshAuth": {
                "sshPrivateKey": {"secret": "-----BEGIN OPENSSH PRIVATE KEY-----"},
                "password": {"secret": "hunter2"}
            }}
        }},
        "operationContext": {
            "oidc": {
                "aws": {
                    "roleArn": "arn:aws:iam::123456789012:role/pulumi-deployments",
                    "sessionName": "pulumi-${deployment.version}",
                    "duration": "1h0m0s",
                    "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
                },
                "azure": {
                    "clientId": "2f0c6a5e-1b7d-4c1e-9a53-0d6f3a9b8c71",
                    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                    "subscriptionId": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"
                },
                "gcp": {
                    "projectId": "123456789012",
                    "region": "us-central1",
                    "workloadPoolId": "pulumi-pool",
                    "providerId": "pulumi-provider",
                    "serviceAccount": "deployer@acme.iam.gserviceaccount.com",
                    "tokenLifetime": "1h0m0s"
                }
            },
            "environmentVariables": {"TEST_VAR": "foo", "SECRET_VAR": {"secret": "bar"}},
            "preRunCommands": ["yarn", "echo hello"],
            "options": {"skipInstallDependencies": true, "skipIntermediateDeployments": true, "shell": "/bin/bash"}
        },
        "executorContext": {"executorImage": {"reference": "pulumi/pulumi:latest"}},
        "gitHub": {
            "repository": "example/repo",
            "deployCommits": true,
            "previewPullRequests": true,
            "paths": ["infra/**", "!infra/docs/**"]
        },
        "agentPoolID": "a7c5d9a1-0000-4000-8000-000000000001",
        "cacheOptions": {"enable": true},
        "tag": "stable"
    })
}

#[test]
fn docs_example_round_trips_unchanged() {
    assert_eq!(roundtrip(docs_example()), docs_example());
}

#[test]
fn go_decoder_case_variants_are_accepted() {
    let body = json!({
        "SourceContext": {"Git": {"RepoURL": "https://github.com/example/repo.git", "BRANCH": "refs/heads/main"}},
        "operationContext": {"OIDC": {"aws": {
            "roleARN": "arn:aws:iam::123456789012:role/deploy",
            "SessionName": "pulumi",
            "policyARNs": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
        }}},
        "agentPoolId": "pool"
    });
    assert_eq!(
        roundtrip(body),
        json!({
            "sourceContext": {"git": {"repoUrl": "https://github.com/example/repo.git", "branch": "refs/heads/main"}},
            "operationContext": {"oidc": {"aws": {
                "roleArn": "arn:aws:iam::123456789012:role/deploy",
                "sessionName": "pulumi",
                "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess"]
            }}},
            "agentPoolID": "pool"
        })
    );
}

#[test]
fn durations_are_echoed_normalised() {
    let body = json!({"operationContext": {"oidc": {
        "aws": {"roleArn": "arn:aws:iam::123456789012:role/deploy", "sessionName": "s", "duration": "90m"},
        "gcp": {"projectId": "1", "workloadPoolId": "pool", "providerId": "prov", "serviceAccount": "a@b.c", "tokenLifetime": "3600s"}
    }}});
    let out = roundtrip(body);
    assert_eq!(
        out["operationContext"]["oidc"]["aws"]["duration"],
        "1h30m0s"
    );
    assert_eq!(
        out["operationContext"]["oidc"]["gcp"]["tokenLifetime"],
        "1h0m0s"
    );
}

#[test]
fn stored_secrets_read_back_redacted_with_their_ciphertext() {
    let body = json!({"operationContext": {"environmentVariables": {
        "PLAIN": "visible",
        "TOKEN": {"secret": "[secret]", "ciphertext": "AAECAw=="}
    }}});
    let mut settings: DeploymentSettings = decode(body.clone()).expect("decodes");
    let vars = settings
        .operation_context
        .as_ref()
        .and_then(|o| o.environment_variables.as_ref())
        .expect("vars");
    assert_eq!(vars["PLAIN"], EnvValue::Plain("visible".into()));
    let EnvValue::Secret(secret) = &vars["TOKEN"] else {
        panic!("TOKEN is a secret")
    };
    assert!(secret.is_stored());
    assert!(!SecretValue::new("x").is_stored());
    let slots: Vec<String> = settings
        .secrets_mut()
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(slots, ["operationContext.environmentVariables.TOKEN"]);
    assert_eq!(serde_json::to_value(&settings).expect("encodes"), body);
}

#[test]
fn every_secret_slot_is_found() {
    let mut settings: DeploymentSettings = decode(docs_example()).expect("decodes");
    let slots: Vec<String> = settings
        .secrets_mut()
        .into_iter()
        .map(|(path, _)| path)
        .collect();
    assert_eq!(
        slots,
        [
            "operationContext.environmentVariables.SECRET_VAR",
            "sourceContext.git.gitAuth.sshAuth.sshPrivateKey",
            "sourceContext.git.gitAuth.sshAuth.password",
        ]
    );
}

#[test]
fn the_go_clients_zero_values_and_short_forms_read_as_pulumi_means_them() {
    let out = roundtrip(json!({
        "executorContext": {"workingDirectory": "", "executorImage": "pulumi/pulumi:latest"},
        "sourceContext": {"git": {"repoUrl": "", "branch": "", "commit": "abc123"}},
        "operationContext": {
            "operation": "",
            "preRunCommands": null,
            "options": {"shell": "", "skipInstallDependencies": false},
            "oidc": {
                "aws": {"roleArn": "arn:aws:iam::123456789012:role/x", "sessionName": "s", "duration": ""},
                "azure": {"clientId": "2f0c6a5e-1b7d-4c1e-9a53-0d6f3a9b8c71"},
                "gcp": {"projectId": "1", "workloadPoolId": "p", "providerId": "q",
                        "serviceAccount": "a@b.c", "region": "", "tokenLifetime": ""}
            }
        }
    }));
    assert_eq!(
        out,
        json!({
            "executorContext": {"executorImage": {"reference": "pulumi/pulumi:latest"}},
            "sourceContext": {"git": {"commit": "abc123"}},
            "operationContext": {
                "options": {"skipInstallDependencies": false},
                "oidc": {
                    "aws": {"roleArn": "arn:aws:iam::123456789012:role/x", "sessionName": "s"},
                    "azure": {"clientId": "2f0c6a5e-1b7d-4c1e-9a53-0d6f3a9b8c71"},
                    "gcp": {"projectId": "1", "workloadPoolId": "p", "providerId": "q",
                            "serviceAccount": "a@b.c"}
                }
            }
        })
    );
}

#[test]
fn image_errors_keep_their_path() {
    let err = decode::<DeploymentSettings>(json!({"executorContext": {"executorImage": {
        "reference": "r", "credentials": {"username": "u", "password": 5}
    }}}))
    .expect_err("a number is no password");
    assert_eq!(
        err.attribute,
        "executorContext.executorImage.credentials.password"
    );
}
