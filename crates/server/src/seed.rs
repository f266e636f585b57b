//! Demo data for a first start: two organizations, their users and stacks, deployment
//! settings with AWS OIDC on `acme/website/prod`, a deployable demo on `acme/demo/dev` (a local
//! git repository with a Pulumi YAML program, and OIDC for all three clouds), and access tokens
//! for Alice and Bob.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use keyless_api_types::{OrgRole, StackRef};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::BoxError;
use crate::crypto::Cipher;
use crate::store::{NewAccount, Store};
use crate::tokens;

/// Where the demo tokens are written, inside the data directory.
pub const TOKENS_FILE: &str = "demo-tokens.json";

/// The demo access tokens, as written to [`TOKENS_FILE`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DemoTokens {
    /// Alice, admin of `acme`.
    pub admin: String,
    /// Bob, member of `acme`.
    pub member: String,
}

const STACKS: &[(&str, &str, &str)] = &[
    DEMO_STACK,
    ("acme", "website", "dev"),
    ("acme", "website", "staging"),
    ("acme", "website", "prod"),
    ("acme", "payments", "dev"),
    ("acme", "payments", "prod"),
    ("acme", "data-platform", "dev"),
    ("globex", "infra", "prod"),
];

/// Seeds an empty store and writes [`TOKENS_FILE`] (mode 0600) into `data_dir`; returns the
/// tokens, or `None` without touching anything when the store already holds data.
pub async fn seed_if_empty(
    store: &dyn Store,
    cipher: &Cipher,
    data_dir: &Path,
) -> Result<Option<DemoTokens>, BoxError> {
    if !store.is_empty().await? {
        return Ok(None);
    }
    store.create_organization("acme", "Acme Corp").await?;
    store.create_organization("globex", "Globex").await?;

    let demo = DemoTokens {
        admin: tokens::generate(),
        member: tokens::generate(),
    };
    let people = [
        (
            "alice",
            "Alice Admin",
            "acme",
            OrgRole::Admin,
            Some(&demo.admin),
        ),
        (
            "bob",
            "Bob Member",
            "acme",
            OrgRole::Member,
            Some(&demo.member),
        ),
        ("gina", "Gina Globex", "globex", OrgRole::Admin, None),
    ];
    for (login, name, org, role, token) in people {
        let email = format!("{login}@{org}.example.com");
        let account = store
            .create_account(NewAccount {
                login,
                name,
                email: &email,
            })
            .await?;
        store.add_member(org, &account.id, role).await?;
        if let Some(token) = token {
            store
                .add_token(&account.id, &tokens::hash(token), "demo token")
                .await?;
        }
    }

    for &(org, project, stack) in STACKS {
        let tags = BTreeMap::from([("environment".to_owned(), stack.to_owned())]);
        let record = store
            .create_stack(&StackRef::new(org, project, stack), &tags)
            .await?;
        if (org, project, stack) == ("acme", "website", "prod") {
            let settings = crate::settings::prepare(website_prod_settings(), &record, cipher)
                .map_err(|err| format!("demo settings are invalid: {err}"))?;
            store
                .save_settings(&record.id, None, &serde_json::to_value(&settings)?, "api")
                .await?;
        }
        if (org, project, stack) == DEMO_STACK {
            let repo = demo_repo(data_dir);
            let created = tokio::task::spawn_blocking({
                let repo = repo.clone();
                move || create_demo_repo(&repo)
            })
            .await?;
            if let Err(why) = &created {
                tracing::warn!("acme/demo/dev is seeded without a source: {why}");
            }
            let settings = demo_settings(created.is_ok().then_some(repo.as_path()));
            let settings = crate::settings::prepare(settings, &record, cipher)
                .map_err(|err| format!("demo settings are invalid: {err}"))?;
            store
                .save_settings(&record.id, None, &serde_json::to_value(&settings)?, "api")
                .await?;
        }
    }

    crate::files::write_private(
        &data_dir.join(TOKENS_FILE),
        &serde_json::to_vec(&demo)?,
        false,
    )?;
    Ok(Some(demo))
}

/// The settings of `acme/website/prod`: git source, AWS OIDC, one plain and one secret variable.
fn website_prod_settings() -> serde_json::Value {
    json!({
        "sourceContext": {
            "git": {
                "repoUrl": "https://github.com/acme/website",
                "branch": "refs/heads/main",
                "repoDir": "infra"
            }
        },
        "operationContext": {
            "oidc": {
                "aws": {
                    "roleArn": "arn:aws:iam::123456789012:role/pulumi-deploy",
                    "sessionName": "pulumi-${stack.name}-${deployment.version}",
                    "duration": "1h0m0s"
                }
            },
            "environmentVariables": {
                "AWS_REGION": "us-east-1",
                "DATADOG_API_KEY": {"secret": "demo-datadog-key-not-real"}
            }
        }
    })
}

/// The stack that deploys out of the box: its source is [`demo_repo`], and `cargo xtask run`
/// starts local stand-ins for the three clouds that trust exactly its OIDC settings below.
pub const DEMO_STACK: (&str, &str, &str) = ("acme", "demo", "dev");
/// The demo's AWS role (mirrored by `xtask/demo-clouds.json`, what the stand-ins trust).
pub const DEMO_AWS_ROLE: &str = "arn:aws:iam::123456789012:role/keyless-demo";
/// The demo's Entra ID tenant, app (client id) and subscription.
pub const DEMO_AZURE_TENANT: &str = "8f5c1c7e-3c4b-4d1a-9a7e-2b6f0c9d1e23";
pub const DEMO_AZURE_CLIENT: &str = "5e0a7c3d-2b1f-4e8a-9c6d-7f3b2a1e0d94";
const DEMO_AZURE_SUBSCRIPTION: &str = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70";
/// The demo's Google Cloud project number, workload identity pool, provider and service account.
pub const DEMO_GCP_PROJECT: &str = "123456789012";
pub const DEMO_GCP_POOL: &str = "keyless-demo-pool";
pub const DEMO_GCP_PROVIDER: &str = "keyless-demo-provider";
pub const DEMO_GCP_SERVICE_ACCOUNT: &str = "deploy@acme-demo.iam.gserviceaccount.com";

/// The demo program: it declares no resource, so it deploys without any cloud account.
const DEMO_PROGRAM: &str = "\
name: demo
runtime: yaml
description: Keyless's demo program. It creates nothing, so it deploys without a cloud account.
outputs:
  greeting: Deployed by Keyless with short-lived OIDC credentials
";

/// Where the demo repository lives: `<parent of the data dir>/.keyless-demo/website`.
/// Deployments are never shown the data dir or anything holding it (`sandbox::may_show`), so
/// it cannot live inside it; beside it, it is one folder per machine that every data dir in
/// that folder (e.g. every test's temporary one) reuses instead of making its own.
pub fn demo_repo(data_dir: &Path) -> PathBuf {
    let data_dir = std::path::absolute(data_dir).unwrap_or_else(|_| data_dir.to_owned());
    data_dir
        .parent()
        .unwrap_or(&data_dir)
        .join(".keyless-demo/website")
}

/// Makes the demo repository at `repo` with one commit on `main`, or keeps the one already
/// there (possibly with the user's own commits). It is built aside and renamed into place, so
/// that servers seeding at once never see a half-made repository.
fn create_demo_repo(repo: &Path) -> Result<(), String> {
    let existing = || repo.join(".git").is_dir();
    if existing() {
        return Ok(());
    }
    let parent = repo.parent().ok_or("the demo repository has no parent")?;
    std::fs::create_dir_all(parent)
        .map_err(|err| format!("cannot create {}: {err}", parent.display()))?;
    let draft = parent.join(format!(".draft-{}", &tokens::generate()[4..16]));
    let built = build_demo_repo(&draft).and_then(|()| {
        std::fs::rename(&draft, repo).or_else(|err| match existing() {
            // Another server seeding at the same time made it first.
            true => Ok(()),
            false => Err(format!("cannot create {}: {err}", repo.display())),
        })
    });
    let _ = std::fs::remove_dir_all(&draft);
    built
}

/// A fresh repository in `dir` holding [`DEMO_PROGRAM`] and a README, committed on `main`.
fn build_demo_repo(dir: &Path) -> Result<(), String> {
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).map_err(|err| format!("cannot write {name}: {err}"))
    };
    git(
        dir.parent().unwrap_or(dir),
        &[
            "init",
            "--quiet",
            "--initial-branch=main",
            &dir.display().to_string(),
        ],
    )?;
    write("Pulumi.yaml", DEMO_PROGRAM)?;
    write(
        "README.md",
        "Keyless's demo stack acme/demo/dev deploys this repository. Edit Pulumi.yaml, commit, \
         and deploy again.\n",
    )?;
    git(dir, &["add", "Pulumi.yaml", "README.md"])?;
    git(
        dir,
        &[
            "commit",
            "--quiet",
            "-m",
            "A Pulumi YAML program for the demo",
        ],
    )
}

/// Runs git in `dir` with a fixed identity and no configuration but its own, so that the
/// operator's global or system settings (signing, hooks, templates) cannot change the result.
fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_clear()
        .envs(std::env::var_os("PATH").map(|path| ("PATH", path)))
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Keyless demo")
        .env("GIT_AUTHOR_EMAIL", "demo@keyless.invalid")
        .env("GIT_COMMITTER_NAME", "Keyless demo")
        .env("GIT_COMMITTER_EMAIL", "demo@keyless.invalid")
        .output()
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => "git is not installed".to_owned(),
            _ => format!("cannot run git: {err}"),
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

/// The settings of [`DEMO_STACK`]: the demo repository (when git made it), OIDC for all three
/// clouds, and a local file backend so that the pulumi CLI, when installed, needs no Pulumi
/// account. `file://~` is the deployment's `HOME`, a fresh folder in its work dir.
fn demo_settings(repo: Option<&Path>) -> serde_json::Value {
    let mut settings = json!({
        "operationContext": {
            "oidc": {
                "aws": {
                    "roleArn": DEMO_AWS_ROLE,
                    "sessionName": "pulumi-${stack.name}-${deployment.version}",
                    "duration": "1h0m0s"
                },
                "azure": {
                    "clientId": DEMO_AZURE_CLIENT,
                    "tenantId": DEMO_AZURE_TENANT,
                    "subscriptionId": DEMO_AZURE_SUBSCRIPTION
                },
                "gcp": {
                    "projectId": DEMO_GCP_PROJECT,
                    "workloadPoolId": DEMO_GCP_POOL,
                    "providerId": DEMO_GCP_PROVIDER,
                    "serviceAccount": DEMO_GCP_SERVICE_ACCOUNT
                }
            },
            "environmentVariables": {
                "PULUMI_BACKEND_URL": "file://~",
                "PULUMI_CONFIG_PASSPHRASE": ""
            }
        }
    });
    if let Some(repo) = repo {
        settings["sourceContext"] = json!({"git": {
            "repoUrl": repo.display().to_string(),
            "branch": "refs/heads/main"
        }});
    }
    settings
}

/// What to print after seeding: where to sign in, and with which tokens.
pub fn sign_in_instructions(url: &str, tokens: &DemoTokens, data_dir: &Path) -> String {
    format!(
        "Demo data created. Open {url}/ and sign in with an access token:\n\
         \x20 admin  (alice, admin of acme):  {admin}\n\
         \x20 member (bob, member of acme):   {member}\n\
         The tokens are also in {file}\n\
         {demo}",
        admin = tokens.admin,
        member = tokens.member,
        file = data_dir.join(TOKENS_FILE).display(),
        demo = demo_instructions(data_dir),
    )
}

/// Which stack to deploy first, and what it deploys.
fn demo_instructions(data_dir: &Path) -> String {
    let repo = demo_repo(data_dir);
    if repo.join(".git").is_dir() {
        format!(
            "To try a deployment, open acme / demo / dev and click Deploy: it deploys the Pulumi \
             YAML program in {}, with OIDC credentials for AWS, Azure and Google Cloud from the \
             local stand-ins that `cargo xtask run` starts.",
            repo.display()
        )
    } else {
        "acme / demo / dev has no source: its demo repository could not be made (is git \
         installed?). Start again on an empty data dir to make it."
            .to_owned()
    }
}
