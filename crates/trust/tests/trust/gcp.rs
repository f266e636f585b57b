//! The Google Cloud explainer walks provider, audience, mapping, condition and bindings.

use keyless_api_types::{PulumiOperation, StackRef};
use keyless_trust::gcp::{self, Binding, IamPolicy, WorkloadIdentityProvider};
use keyless_trust::{Claims, ExplainError, Scope, Verdict};
use serde_json::json;

use crate::commands::gcp_config;
use crate::fixtures::{ISSUER, NOW, POOL, gcp_settings, prod, target, token};

/// The generated configuration for `scope`, changed by `edit`.
fn config(
    scope: Scope,
    edit: impl FnOnce(&mut WorkloadIdentityProvider, &mut IamPolicy),
) -> (WorkloadIdentityProvider, IamPolicy) {
    let (mut provider, mut policy) = gcp_config(&gcp::generate(&target(scope), &gcp_settings()));
    edit(&mut provider, &mut policy);
    (provider, policy)
}

fn explain(claims: &Claims, (provider, policy): &(WorkloadIdentityProvider, IamPolicy)) -> Verdict {
    gcp::explain(claims, NOW, &gcp_settings(), provider, policy).expect("evaluates")
}

/// `(condition, reason)` for prod's update token.
fn rejected(config: &(WorkloadIdentityProvider, IamPolicy)) -> (String, String) {
    match explain(&token(&prod(), PulumiOperation::Update), config) {
        Verdict::Rejected {
            condition, reason, ..
        } => (condition, reason),
        accepted => panic!("accepted: {accepted:?}"),
    }
}

fn stack_member() -> String {
    format!("principalSet://iam.googleapis.com/{POOL}/attribute.stack/prod")
}

#[test]
fn generated_configuration_accepts_this_stack() {
    assert_eq!(
        explain(
            &token(&prod(), PulumiOperation::Refresh),
            &config(Scope::Stack, |_, _| {})
        ),
        Verdict::Accepted {
            matched: format!(
                "`{}` holds roles/iam.workloadIdentityUser on the service account",
                stack_member()
            )
        }
    );
    let described = json!({
        "name": format!("{POOL}/providers/keyless-oidc"),
        "state": "ACTIVE",
        "attributeCondition": "assertion.org == 'Acme'",
        "oidc": {"issuerUri": ISSUER, "allowedAudiences": ["acme"]},
    });
    let provider: WorkloadIdentityProvider = serde_json::from_value(described).expect("describe");
    let policy: IamPolicy = serde_json::from_value(json!({
        "bindings": [{"role": "roles/iam.workloadIdentityUser", "members": [stack_member()]}],
        "etag": "BwYx",
        "version": 1,
    }))
    .expect("get-iam-policy");
    assert!(
        explain(
            &token(&prod(), PulumiOperation::Update),
            &(provider, policy)
        )
        .is_accepted()
    );
}

#[test]
fn provider_other_than_the_settings_or_disabled() {
    let other = config(Scope::Stack, |p, _| {
        p.name = format!("{POOL}/providers/github")
    });
    assert_eq!(
        rejected(&other),
        (
            "provider".into(),
            format!(
                "the settings exchange through `{POOL}/providers/keyless-oidc`, but the pasted \
                 provider is `{POOL}/providers/github`"
            )
        )
    );
    let disabled = config(Scope::Stack, |p, _| p.disabled = true);
    assert_eq!(rejected(&disabled).0, "disabled");
}

#[test]
fn issuer_mismatch() {
    let http = config(Scope::Stack, |p, _| {
        p.oidc.issuer_uri = "http://keyless.example.com/oidc".into();
    });
    assert_eq!(
        rejected(&http),
        (
            "oidc.issuerUri".into(),
            format!(
                "the provider does not accept this token's issuer: \
                 `http://keyless.example.com/oidc` is not `{ISSUER}`: the configured issuer uses \
                 http, the token https"
            )
        )
    );
}

#[test]
fn audience_not_allowed() {
    let default = config(Scope::Stack, |p, _| p.oidc.allowed_audiences.clear());
    assert_eq!(
        rejected(&default),
        (
            "oidc.allowedAudiences".into(),
            format!(
                "no allowed audiences are set, so Google expects \
                 `https://iam.googleapis.com/{POOL}/providers/keyless-oidc`, tokens carry `acme`"
            )
        )
    );
    let case = config(Scope::Stack, |p, _| {
        p.oidc.allowed_audiences = vec!["Acme".into()]
    });
    assert_eq!(
        rejected(&case).1,
        "the provider allows `Acme`, tokens carry `acme` — Google compares audiences \
         case-sensitively"
    );
}

#[test]
fn subject_over_google_limit() {
    let long = StackRef::new("Acme", "website", &"s".repeat(60));
    let claims = token(&long, PulumiOperation::Update);
    let Verdict::Rejected {
        condition, reason, ..
    } = explain(&claims, &config(Scope::Org, |_, _| {}))
    else {
        panic!("over-long subject accepted");
    };
    assert_eq!(condition, "google.subject");
    assert!(
        reason.ends_with("is 134 bytes, and Google accepts at most 127"),
        "{reason}"
    );
    let mut t = target(Scope::Stack);
    t.stack = long;
    let notes = gcp::generate(&t, &gcp_settings()).notes;
    assert!(notes.iter().any(|n| n.text.contains("is 134 bytes")));
}

#[test]
fn condition_false_or_failing() {
    let preview_only = config(Scope::StackOperation(PulumiOperation::Preview), |_, _| {});
    assert!(explain(&token(&prod(), PulumiOperation::Preview), &preview_only).is_accepted());
    assert_eq!(
        rejected(&preview_only),
        (
            "attributeCondition".into(),
            "the attribute condition `assertion.org == 'Acme' && assertion.project == 'website' \
             && assertion.stack == 'prod' && assertion.operation == 'preview'` is false: \
             `assertion.operation` is `update`, not `preview`"
                .into()
        )
    );
    let missing = config(Scope::Stack, |p, _| {
        p.attribute_condition = "assertion.team == 'infra' || assertion.stack == 'dev'".into();
    });
    assert_eq!(
        rejected(&missing).1,
        "the attribute condition `assertion.team == 'infra' || assertion.stack == 'dev'` fails to \
         evaluate, which rejects the token: `assertion.team` is not in the token, so the \
         condition cannot be evaluated"
    );
    let unsupported = config(Scope::Stack, |p, _| {
        p.attribute_condition = "assertion.stack == 'prod' && assertion.sub.matches('^p')".into();
    });
    let err = gcp::explain(
        &token(&prod(), PulumiOperation::Update),
        NOW,
        &gcp_settings(),
        &unsupported.0,
        &unsupported.1,
    )
    .expect_err("unsupported");
    assert!(matches!(err, ExplainError::Unsupported { .. }));
    assert!(
        err.to_string()
            .starts_with("the attribute condition cannot be evaluated here: `assertion.sub.matches('^` (at 29) is outside it"),
        "{err}"
    );
}

#[test]
fn bindings_that_miss() {
    let principal = |op: &str| {
        format!(
            "principal://iam.googleapis.com/{POOL}/subject/pulumi:deploy:org:Acme:project:website:stack:prod:operation:{op}:scope:write"
        )
    };
    let cases = [
        (
            Binding {
                role: "roles/viewer".into(),
                members: vec![stack_member()],
            },
            format!(
                "`{}` holds roles/viewer, which does not let it impersonate the service account",
                stack_member()
            ),
        ),
        (
            Binding {
                role: gcp::WORKLOAD_IDENTITY_USER.into(),
                members: vec![stack_member().replace("987654321098", "111111111111")],
            },
            format!(
                "`{}` belongs to pool \
                 `projects/111111111111/locations/global/workloadIdentityPools/keyless`, but the \
                 settings exchange through `{POOL}`",
                stack_member().replace("987654321098", "111111111111")
            ),
        ),
        (
            Binding {
                role: gcp::WORKLOAD_IDENTITY_USER.into(),
                members: vec![principal("destroy")],
            },
            format!(
                "`{}` allows operation `destroy`, the token is for operation `update`",
                principal("destroy")
            ),
        ),
        (
            Binding {
                role: gcp::WORKLOAD_IDENTITY_USER.into(),
                members: vec![stack_member().replace("/prod", "/dev")],
            },
            format!(
                "`{}` admits attribute.stack `dev`, the token's is `prod`",
                stack_member().replace("/prod", "/dev")
            ),
        ),
    ];
    for (binding, reason) in cases {
        let c = config(Scope::Stack, |_, policy| policy.bindings = vec![binding]);
        assert_eq!(
            rejected(&c),
            ("roles/iam.workloadIdentityUser binding".into(), reason)
        );
    }
    let token_creator = config(Scope::Stack, |_, policy| {
        policy.bindings[0].role = "roles/iam.serviceAccountTokenCreator".into();
    });
    assert!(explain(&token(&prod(), PulumiOperation::Update), &token_creator).is_accepted());
}

#[test]
fn expired_token() {
    let stale =
        Claims::for_deployment(ISSUER, &prod(), PulumiOperation::Update, NOW - 4_000, 3_600);
    let Verdict::Rejected {
        condition, reason, ..
    } = explain(&stale, &config(Scope::Stack, |_, _| {}))
    else {
        panic!("expired token accepted");
    };
    assert_eq!(
        (condition.as_str(), reason.as_str()),
        (
            "exp",
            "the token expired 6m40s before now (exp 1767225200, now 1767225600)"
        )
    );
}
