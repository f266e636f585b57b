//! Demo data for a first start: two organizations, their users and stacks, deployment
//! settings with AWS OIDC on `acme/website/prod`, and access tokens for Alice and Bob.

use std::collections::BTreeMap;
use std::path::Path;

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
            let settings = crate::http::prepare_settings(website_prod_settings(), &record, cipher)
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

/// What to print after seeding: where to sign in, and with which tokens.
pub fn sign_in_instructions(url: &str, tokens: &DemoTokens, data_dir: &Path) -> String {
    format!(
        "Demo data created. Open {url}/ and sign in with an access token:\n\
         \x20 admin  (alice, admin of acme):  {admin}\n\
         \x20 member (bob, member of acme):   {member}\n\
         The tokens are also in {file}",
        admin = tokens.admin,
        member = tokens.member,
        file = data_dir.join(TOKENS_FILE).display(),
    )
}
