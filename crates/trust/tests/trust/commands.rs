//! Generated commands are well-quoted shell and carry exactly the generated configuration, so
//! the round trip can read each cloud's configuration back from them.

use std::collections::BTreeMap;

use keyless_api_types::PulumiOperation;
use keyless_trust::azure::FederatedCredential;
use keyless_trust::gcp::{Binding, IamPolicy, OidcSettings, WorkloadIdentityProvider};
use keyless_trust::{Scope, aws, azure, gcp};
use serde_json::Value;

use crate::fixtures::{
    ACCOUNT, ISSUER, POOL, arg, aws_settings, azure_settings, gcp_settings, shell_words, target,
};

const SCOPES: [Scope; 4] = [
    Scope::StackOperation(PulumiOperation::Destroy),
    Scope::Stack,
    Scope::Project,
    Scope::Org,
];

/// The trust policy document as `aws iam create-role` receives it.
pub fn aws_policy(trust: &aws::AwsTrust) -> Value {
    let create = &trust.commands[1];
    assert!(create.line.starts_with("aws iam create-role "));
    serde_json::from_str(&arg(create, "--assume-role-policy-document")).expect("policy JSON")
}

/// The credentials as `az ad app federated-credential create` receives them.
pub fn azure_credentials(trust: &azure::AzureTrust) -> Vec<FederatedCredential> {
    trust
        .commands
        .iter()
        .filter(|c| c.line.starts_with("az ad app federated-credential create "))
        .map(|c| serde_json::from_str(&arg(c, "--parameters")).expect("credential JSON"))
        .collect()
}

/// The provider as `gcloud … providers create-oidc` creates it, and the bindings as
/// `add-iam-policy-binding` adds them.
pub fn gcp_config(trust: &gcp::GcpTrust) -> (WorkloadIdentityProvider, IamPolicy) {
    let create = trust
        .commands
        .iter()
        .find(|c| c.line.contains(" providers create-oidc "))
        .expect("create-oidc");
    let words = shell_words(&create.line);
    let project = words
        .iter()
        .find_map(|w| w.strip_prefix("--project="))
        .expect("--project");
    let pool = arg(create, "--workload-identity-pool");
    let provider = WorkloadIdentityProvider {
        name: format!(
            "projects/{project}/locations/global/workloadIdentityPools/{pool}/providers/{}",
            words[5]
        ),
        disabled: false,
        attribute_mapping: arg(create, "--attribute-mapping")
            .split(',')
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("k=v");
                (k.to_owned(), v.to_owned())
            })
            .collect::<BTreeMap<_, _>>(),
        attribute_condition: arg(create, "--attribute-condition"),
        oidc: OidcSettings {
            issuer_uri: arg(create, "--issuer-uri"),
            allowed_audiences: arg(create, "--allowed-audiences")
                .split(',')
                .map(str::to_owned)
                .collect(),
        },
    };
    let bindings = trust
        .commands
        .iter()
        .filter(|c| c.line.contains(" add-iam-policy-binding "))
        .map(|c| Binding {
            role: arg(c, "--role"),
            members: vec![arg(c, "--member")],
        })
        .collect();
    (provider, IamPolicy { bindings })
}

#[test]
fn aws_commands_carry_the_policy_and_provider() {
    for scope in SCOPES {
        let trust = aws::generate(&target(scope), &aws_settings());
        assert_eq!(
            aws_policy(&trust),
            serde_json::to_value(&trust.trust_policy).expect("policy")
        );
        let provider = &trust.commands[0];
        assert_eq!(
            shell_words(&provider.line),
            [
                "aws",
                "iam",
                "create-open-id-connect-provider",
                "--url",
                ISSUER,
                "--client-id-list",
                "acme"
            ]
        );
        assert_eq!(arg(&trust.commands[1], "--role-name"), "keyless-website");
        assert_eq!(arg(&trust.commands[1], "--path"), "/deploy/");
        let update = &trust.commands[2];
        assert_eq!(
            serde_json::from_str::<Value>(&arg(update, "--policy-document")).expect("JSON"),
            aws_policy(&trust)
        );
        // The 2h Session Duration needs the role's maximum raised.
        assert_eq!(arg(&trust.commands[3], "--max-session-duration"), "7200");
    }
}

#[test]
fn aws_policy_is_the_documented_shape() {
    let trust = aws::generate(&target(Scope::Stack), &aws_settings());
    let expected = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "KeylessDeployments",
            "Effect": "Allow",
            "Principal": {"Federated": format!("arn:aws:iam::{ACCOUNT}:oidc-provider/keyless.example.com/oidc")},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {"keyless.example.com/oidc:aud": "acme"},
                "StringLike": {"keyless.example.com/oidc:sub":
                    "pulumi:deploy:org:Acme:project:website:stack:prod:operation:*:scope:write"},
            },
        }],
    });
    assert_eq!(aws_policy(&trust), expected);
    let text = trust.trust_policy_json();
    assert!(text.starts_with("{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": ["));
    assert_eq!(trust.provider.host_path, "keyless.example.com/oidc");
    assert_eq!(trust.provider.audience, "acme");
}

#[test]
fn azure_commands_carry_each_credential() {
    for scope in SCOPES {
        let trust = azure::generate(&target(scope), &azure_settings());
        assert_eq!(azure_credentials(&trust), trust.credentials);
        for command in &trust.commands[..trust.credentials.len()] {
            assert_eq!(arg(command, "--id"), azure_settings().client_id);
        }
        let flexible = trust.commands.last().expect("flexible");
        assert_eq!(
            arg(flexible, "--uri"),
            format!(
                "https://graph.microsoft.com/beta/applications(appId='{}')/federatedIdentityCredentials",
                azure_settings().client_id
            )
        );
        let body: FederatedCredential =
            serde_json::from_str(&arg(flexible, "--body")).expect("flexible JSON");
        assert_eq!(body, trust.flexible);
    }
}

#[test]
fn azure_credential_json_has_the_documented_fields() {
    let trust = azure::generate(
        &target(Scope::StackOperation(PulumiOperation::Destroy)),
        &azure_settings(),
    );
    let json = arg(&trust.commands[0], "--parameters");
    assert_eq!(
        json,
        format!(
            r#"{{"name":"keyless-website-prod-destroy","issuer":"{ISSUER}","subject":"pulumi:deploy:org:Acme:project:website:stack:prod:operation:destroy:scope:write","audiences":["acme"],"description":"Keyless: destroy deployments of Acme/website/prod"}}"#
        )
    );
    let flexible = serde_json::to_value(&trust.flexible).expect("JSON");
    assert_eq!(flexible.get("subject"), None);
    assert_eq!(
        flexible["claimsMatchingExpression"]["value"],
        "claims['sub'] matches 'pulumi:deploy:org:Acme:project:website:stack:prod:operation:destroy:scope:write'"
    );
}

#[test]
fn gcp_commands_carry_the_provider_and_bindings() {
    for scope in SCOPES {
        let trust = gcp::generate(&target(scope), &gcp_settings());
        let (mut provider, policy) = gcp_config(&trust);
        assert_eq!(policy, trust.policy);
        assert_eq!(provider.name, format!("{POOL}/providers/keyless-oidc"));
        provider.name.clear();
        assert_eq!(provider, trust.provider);
    }
    let trust = gcp::generate(&target(Scope::Stack), &gcp_settings());
    assert_eq!(
        trust.provider.attribute_condition,
        "assertion.org == 'Acme' && assertion.project == 'website' && assertion.stack == 'prod'"
    );
    assert!(trust.commands[1].line.ends_with(
        "--attribute-condition \"assertion.org == 'Acme' && assertion.project == 'website' && assertion.stack == 'prod'\""
    ));
    assert_eq!(
        trust.policy.bindings[0].members,
        [format!(
            "principalSet://iam.googleapis.com/{POOL}/attribute.stack/prod"
        )]
    );
}

#[test]
fn placeholders_stand_in_for_missing_settings_and_are_flagged() {
    let t = target(Scope::Stack);
    let aws = aws::generate(&t, &Default::default());
    assert!(aws.provider.arn.contains("<account-id>"));
    assert_eq!(arg(&aws.commands[1], "--role-name"), "<role-name>");
    let azure = azure::generate(&t, &Default::default());
    assert_eq!(arg(&azure.commands[0], "--id"), "<client-id>");
    let gcp = gcp::generate(&t, &Default::default());
    assert!(gcp.policy.bindings[0].members[0].contains("projects/<project-number>/"));
    for notes in [&aws.notes, &azure.notes, &gcp.notes] {
        assert!(notes.iter().any(|n| n.level == keyless_trust::Level::Error));
    }
}
