//! Every scope × every cloud: the configuration read back from the generated commands accepts
//! every token in scope and rejects every other, judged by the explainer.

use keyless_api_types::{PulumiOperation, StackRef};
use keyless_trust::scope::subject;
use keyless_trust::{Claims, STANDARD_OPERATIONS, Scope, Verdict, aws, azure, gcp};

use crate::commands::{aws_policy, azure_credentials, gcp_config};
use crate::fixtures::{
    NOW, aws_settings, azure_settings, gcp_settings, others, prod, target, token,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cloud {
    Aws,
    Azure,
    Gcp,
}

/// Tokens of every stack the tests know, plus one of the organization the admin did not list
/// and one of another organization, for the standard operations and drift detection.
fn universe() -> Vec<(StackRef, PulumiOperation)> {
    let mut stacks = vec![prod()];
    stacks.extend(others());
    stacks.push(StackRef::new("Acme", "website", "pr-42"));
    stacks.push(StackRef::new("Other", "website", "prod"));
    let mut operations = STANDARD_OPERATIONS.to_vec();
    operations.push(PulumiOperation::DetectDrift);
    stacks
        .into_iter()
        .flat_map(|s| operations.iter().map(move |&op| (s.clone(), op)))
        .collect()
}

/// Whether `cloud`'s configuration for `scope` should admit the token: in scope, and for
/// Azure's exact subjects also one of the listed stacks' listed operations.
fn expected(cloud: Cloud, scope: Scope, stack: &StackRef, op: PulumiOperation) -> bool {
    let in_scope = scope.covers(&prod(), stack, op);
    match cloud {
        Cloud::Aws | Cloud::Gcp => in_scope,
        Cloud::Azure => {
            let sub = subject(stack, op);
            in_scope && target(scope).subjects().iter().any(|(_, _, s)| *s == sub)
        }
    }
}

fn explain(cloud: Cloud, scope: Scope, claims: &Claims) -> Verdict {
    let t = target(scope);
    let verdict = match cloud {
        Cloud::Aws => {
            let policy = aws_policy(&aws::generate(&t, &aws_settings()));
            aws::explain(claims, NOW, &aws_settings(), &policy)
        }
        Cloud::Azure => {
            let credentials = azure_credentials(&azure::generate(&t, &azure_settings()));
            azure::explain(claims, NOW, &credentials)
        }
        Cloud::Gcp => {
            let (provider, policy) = gcp_config(&gcp::generate(&t, &gcp_settings()));
            gcp::explain(claims, NOW, &gcp_settings(), &provider, &policy)
        }
    };
    verdict.expect("generated configurations are within what the explainer evaluates")
}

#[test]
fn generated_trust_admits_exactly_the_scope() {
    let scopes = [
        Scope::StackOperation(PulumiOperation::Destroy),
        Scope::StackOperation(PulumiOperation::Preview),
        Scope::Stack,
        Scope::Project,
        Scope::Org,
    ];
    let mut checked = 0;
    for cloud in [Cloud::Aws, Cloud::Azure, Cloud::Gcp] {
        for scope in scopes {
            let mut accepted = 0;
            for (stack, op) in universe() {
                let verdict = explain(cloud, scope, &token(&stack, op));
                let want = expected(cloud, scope, &stack, op);
                assert_eq!(
                    verdict.is_accepted(),
                    want,
                    "{cloud:?} {scope:?}: {stack} {} → {verdict:?}",
                    op.as_str()
                );
                accepted += usize::from(want);
                checked += 1;
            }
            assert!(accepted > 0, "{cloud:?} {scope:?} accepts nothing");
        }
    }
    assert_eq!(checked, 3 * 5 * 6 * 5);
}

#[test]
fn scope_widens_as_documented() {
    let count = |cloud, scope| {
        universe()
            .iter()
            .filter(|(s, op)| expected(cloud, scope, s, *op))
            .count()
    };
    let destroy = Scope::StackOperation(PulumiOperation::Destroy);
    // AWS and Google match patterns: drift detection and unlisted stacks are covered too.
    assert_eq!(
        [destroy, Scope::Stack, Scope::Project, Scope::Org].map(|s| count(Cloud::Aws, s)),
        [1, 5, 20, 25]
    );
    // Azure matches exact subjects: the listed stacks' standard operations only.
    assert_eq!(
        [destroy, Scope::Stack, Scope::Project, Scope::Org].map(|s| count(Cloud::Azure, s)),
        [1, 4, 12, 16]
    );
}

#[test]
fn another_stacks_token_is_rejected_for_its_stack() {
    let dev = StackRef::new("Acme", "website", "dev");
    let claims = token(&dev, PulumiOperation::Update);
    let reason = |cloud| match explain(cloud, Scope::Stack, &claims) {
        Verdict::Rejected { reason, .. } => reason,
        accepted => panic!("{cloud:?} accepted dev's token: {accepted:?}"),
    };
    assert_eq!(
        reason(Cloud::Aws),
        "`keyless.example.com/oidc:sub` is \
         `pulumi:deploy:org:Acme:project:website:stack:dev:operation:update:scope:write`: the \
         policy allows stack `prod`, the token is for stack `dev`"
    );
    assert_eq!(
        reason(Cloud::Azure),
        "no federated credential has subject \
         `pulumi:deploy:org:Acme:project:website:stack:dev:operation:update:scope:write`; the \
         closest, `keyless-website-prod-update`, allows stack `prod`, the token is for stack `dev`"
    );
    assert_eq!(
        reason(Cloud::Gcp),
        "the attribute condition `assertion.org == 'Acme' && assertion.project == 'website' && \
         assertion.stack == 'prod'` is false: `assertion.stack` is `dev`, not `prod`"
    );
}
