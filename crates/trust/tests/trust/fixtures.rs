//! Fixtures shared by the integration tests: one organization's stacks, settings per cloud,
//! tokens, and a POSIX shell word splitter to read generated commands back.

use keyless_api_types::{AwsOidc, AzureOidc, GcpOidc, PulumiOperation, StackRef};
use keyless_trust::{Claims, Command, Scope, Target};

pub const ISSUER: &str = "https://keyless.example.com/oidc";
pub const PROVIDER: &str = "keyless.example.com/oidc";
pub const NOW: u64 = 1_767_225_600;
pub const ACCOUNT: &str = "123456789012";
pub const POOL: &str = "projects/987654321098/locations/global/workloadIdentityPools/keyless";

/// The stack being configured.
pub fn prod() -> StackRef {
    StackRef::new("Acme", "website", "prod")
}

/// The organization's other stacks, as the console would list them.
pub fn others() -> Vec<StackRef> {
    vec![
        StackRef::new("Acme", "website", "dev"),
        StackRef::new("Acme", "website", "staging"),
        StackRef::new("Acme", "api", "prod"),
    ]
}

pub fn target(scope: Scope) -> Target {
    let mut target = Target::new(prod(), ISSUER, scope);
    target.stacks = others();
    target
}

/// A fresh token for `stack` running `op`, minted 10 s before [`NOW`], valid 15 min.
pub fn token(stack: &StackRef, op: PulumiOperation) -> Claims {
    Claims::for_deployment(ISSUER, stack, op, NOW - 10, 900)
}

pub fn aws_settings() -> AwsOidc {
    AwsOidc {
        role_arn: format!("arn:aws:iam::{ACCOUNT}:role/deploy/keyless-website"),
        session_name: "keyless-${stack.name}".into(),
        duration: Some("2h0m0s".into()),
        policy_arns: None,
    }
}

pub fn azure_settings() -> AzureOidc {
    AzureOidc {
        client_id: "0f3c1f9e-6a55-4d0b-9d2c-3a1f6c1e2b7a".into(),
        tenant_id: "7b1e2c3d-4f50-4a6b-8c7d-9e0f1a2b3c4d".into(),
        subscription_id: "1a2b3c4d-5e6f-4a0b-8c1d-2e3f4a5b6c7d".into(),
    }
}

pub fn gcp_settings() -> GcpOidc {
    GcpOidc {
        project_id: "987654321098".into(),
        region: None,
        workload_pool_id: "keyless".into(),
        provider_id: "keyless-oidc".into(),
        service_account: "deployer@acme-prod.iam.gserviceaccount.com".into(),
        token_lifetime: None,
    }
}

/// Splits a command line into words as a POSIX shell does for '…', "…" and \-escapes.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                for c in chars.by_ref() {
                    if c == '\'' {
                        break;
                    }
                    w.push(c);
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => w.extend(chars.next()),
                        '$' | '`' => panic!("unescaped {c} in double quotes: {line}"),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).extend(chars.next()),
            c => {
                assert!(
                    !"$`;&|<>()*?![]{}#~".contains(c),
                    "unquoted {c:?} in {line}"
                );
                word.get_or_insert_with(String::new).push(c);
            }
        }
    }
    words.extend(word);
    words
}

/// The value after `flag` in `command`'s words.
pub fn arg(command: &Command, flag: &str) -> String {
    let words = shell_words(&command.line);
    let at = words
        .iter()
        .position(|w| w == flag)
        .unwrap_or_else(|| panic!("{flag} missing from {}", command.line));
    words[at + 1].clone()
}
