//! The Azure explainer finds the federated credential for a token, or names what is missing.

use keyless_api_types::{PulumiOperation, StackRef};
use keyless_trust::azure::{self, FederatedCredential};
use keyless_trust::{Claims, ExplainError, Level, Scope, Target, Verdict};
use serde_json::json;

use crate::commands::azure_credentials;
use crate::fixtures::{ISSUER, NOW, azure_settings, prod, target, token};

/// The generated Stack-scope credentials, changed by `edit`.
fn credentials(edit: impl FnOnce(&mut Vec<FederatedCredential>)) -> Vec<FederatedCredential> {
    let mut credentials =
        azure_credentials(&azure::generate(&target(Scope::Stack), &azure_settings()));
    edit(&mut credentials);
    credentials
}

fn explain(op: PulumiOperation, credentials: &[FederatedCredential]) -> Verdict {
    azure::explain(&token(&prod(), op), NOW, credentials).expect("evaluates")
}

fn reason(op: PulumiOperation, credentials: &[FederatedCredential]) -> (String, String) {
    match explain(op, credentials) {
        Verdict::Rejected {
            condition, reason, ..
        } => (condition, reason),
        accepted => panic!("accepted: {accepted:?}"),
    }
}

const DESTROY_SUB: &str =
    "pulumi:deploy:org:Acme:project:website:stack:prod:operation:destroy:scope:write";

#[test]
fn one_credential_per_operation_each_accepting_its_own() {
    let all = credentials(|_| {});
    assert_eq!(all.len(), 4);
    for (credential, op) in all.iter().zip(keyless_trust::STANDARD_OPERATIONS) {
        assert_eq!(
            explain(op, &all),
            Verdict::Accepted {
                matched: format!(
                    "federated credential `{}` (subject `{}`)",
                    credential.name, credential.subject
                )
            }
        );
    }
}

#[test]
fn operation_not_covered() {
    let without_destroy = credentials(|c| c.retain(|c| !c.subject.contains(":destroy:")));
    assert_eq!(
        explain(PulumiOperation::Destroy, &without_destroy),
        Verdict::Rejected {
            condition: "subject".into(),
            reason: format!(
                "no federated credential has the subject for `destroy`: the app has subjects for \
                 update, preview, refresh of Acme/website/prod, not `{DESTROY_SUB}`"
            ),
            hint: format!("Add a credential with subject `{DESTROY_SUB}` (the generator lists it)"),
        }
    );
}

#[test]
fn wildcard_subject_is_literal_in_classic_credentials() {
    let pattern = "pulumi:deploy:org:Acme:project:website:stack:prod:operation:*:scope:write";
    let wildcard = credentials(|c| {
        c.truncate(1);
        c[0].subject = pattern.into();
    });
    assert_eq!(
        explain(PulumiOperation::Update, &wildcard),
        Verdict::Rejected {
            condition: "subject".into(),
            reason: format!(
                "credential `keyless-website-prod-update` has subject `{pattern}`, but classic \
                 federated credentials compare the subject exactly: `*` is a literal character \
                 there, not a wildcard"
            ),
            hint: format!(
                "Create one credential per operation (the generator lists them), or a flexible \
                 credential with `claims['sub'] matches '{pattern}'` where Entra ID supports it"
            ),
        }
    );
}

#[test]
fn subject_in_the_wrong_case() {
    let lower = credentials(|c| c[3].subject = c[3].subject.replace("Acme", "acme"));
    assert_eq!(
        reason(PulumiOperation::Destroy, &lower).1,
        format!(
            "credential `keyless-website-prod-destroy` has subject \
             `pulumi:deploy:org:acme:project:website:stack:prod:operation:destroy:scope:write`, \
             tokens carry `{DESTROY_SUB}` — Entra ID compares subjects case-sensitively, and \
             `sub` keeps the organization name as spelled"
        )
    );
}

#[test]
fn issuer_mismatch_on_the_matching_credential() {
    let cases = [
        (
            format!("{ISSUER}/"),
            "the configured issuer ends with a slash and the token's does not",
        ),
        (
            "http://keyless.example.com/oidc".to_owned(),
            "the configured issuer uses http, the token https",
        ),
    ];
    for (issuer, how) in cases {
        let c = credentials(|c| c.iter_mut().for_each(|c| c.issuer = issuer.clone()));
        assert_eq!(
            explain(PulumiOperation::Update, &c),
            Verdict::Rejected {
                condition: "issuer of `keyless-website-prod-update`".into(),
                reason: format!(
                    "credential `keyless-website-prod-update` has the token's subject, but \
                     `{issuer}` is not `{ISSUER}`: {how}"
                ),
                hint: format!("Set the credential's issuer to `{ISSUER}` exactly"),
            }
        );
    }
}

#[test]
fn audience_mismatch() {
    let cases = [
        ("Acme", " — Entra ID compares audiences case-sensitively"),
        ("api://AzureADTokenExchange", ""),
    ];
    for (audience, tail) in cases {
        let c = credentials(|c| {
            c.iter_mut()
                .for_each(|c| c.audiences = vec![audience.into()])
        });
        assert_eq!(
            explain(PulumiOperation::Update, &c),
            Verdict::Rejected {
                condition: "audiences of `keyless-website-prod-update`".into(),
                reason: format!(
                    "credential `keyless-website-prod-update` expects audience `{audience}`, \
                     tokens carry `acme`{tail}"
                ),
                hint: "Set the audience to `acme`: the organization name in lowercase".into(),
            }
        );
    }
}

#[test]
fn expired_token_and_empty_app() {
    let stale = Claims::for_deployment(ISSUER, &prod(), PulumiOperation::Update, NOW - 100, 60);
    let Ok(Verdict::Rejected { condition, .. }) = azure::explain(&stale, NOW, &credentials(|_| {}))
    else {
        panic!("expired token accepted");
    };
    assert_eq!(condition, "exp");
    assert_eq!(
        reason(PulumiOperation::Update, &[]),
        (
            "federated credentials".into(),
            "the app has no federated credentials".into()
        )
    );
}

#[test]
fn az_list_output_pastes_in() {
    let listed = json!([{
        "audiences": ["acme"],
        "claimsMatchingExpression": null,
        "description": null,
        "id": "9a1b2c3d-0000-4000-8000-000000000000",
        "issuer": ISSUER,
        "name": "prod-destroy",
        "subject": DESTROY_SUB,
    }]);
    let listed: Vec<FederatedCredential> = serde_json::from_value(listed).expect("list output");
    assert!(explain(PulumiOperation::Destroy, &listed).is_accepted());
}

#[test]
fn flexible_credential_covers_the_scope_where_supported() {
    let trust = azure::generate(&target(Scope::Stack), &azure_settings());
    let flexible = std::slice::from_ref(&trust.flexible);
    assert!(explain(PulumiOperation::Destroy, flexible).is_accepted());
    let dev = token(
        &StackRef::new("Acme", "website", "dev"),
        PulumiOperation::Update,
    );
    assert!(
        !azure::explain(&dev, NOW, flexible)
            .expect("evaluates")
            .is_accepted()
    );
    let mut other = trust.flexible.clone();
    if let Some(e) = other.claims_matching_expression.as_mut() {
        e.value = "claims['sub'] matches 'x' and claims['aud'] eq 'acme'".into();
    }
    assert!(matches!(
        azure::explain(&dev, NOW, &[other]),
        Err(ExplainError::Unsupported { .. })
    ));
}

#[test]
fn counts_warn_near_and_past_the_app_limit() {
    let project = |stacks: usize| {
        let mut t = Target::new(prod(), ISSUER, Scope::Project);
        t.stacks = (1..stacks)
            .map(|i| StackRef::new("Acme", "website", &format!("s{i}")))
            .collect();
        azure::generate(&t, &azure_settings())
    };
    let levels = |trust: &azure::AzureTrust| -> Vec<(Level, bool)> {
        trust
            .notes
            .iter()
            .filter(|n| n.level != Level::Info)
            .map(|n| (n.level, n.text.contains("20")))
            .collect()
    };
    let three = project(3);
    assert_eq!(three.credentials.len(), 12);
    assert!(levels(&three).is_empty());
    assert!(
        three.notes[0]
            .text
            .ends_with("12 here (3 stack(s) × 4 operation(s))")
    );
    let four = project(4);
    assert_eq!(four.credentials.len(), 16);
    assert_eq!(levels(&four), [(Level::Warning, true)]);
    assert_eq!(
        four.notes
            .iter()
            .find(|n| n.level == Level::Warning)
            .map(|n| n.text.as_str()),
        Some(
            "16 of the 20 federated credentials an app allows, counting none it has already: the \
             next stacks will not fit"
        )
    );
    let six = project(6);
    assert_eq!(six.credentials.len(), 24);
    assert_eq!(
        six.notes
            .iter()
            .find(|n| n.level == Level::Error)
            .map(|n| n.text.as_str()),
        Some(
            "24 credentials exceed the 20 an app allows: narrow the scope, spread the stacks \
             over several apps, or use one flexible credential"
        )
    );
    let names: std::collections::BTreeSet<_> = six.credentials.iter().map(|c| &c.name).collect();
    assert_eq!(names.len(), 24, "names are unique");
}
