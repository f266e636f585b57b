//! The AWS explainer names the first failing condition of a trust policy, with exact values.

use keyless_api_types::{PulumiOperation, StackRef};
use keyless_trust::{Claims, ExplainError, Scope, Verdict, aws};
use serde_json::{Value, json};

use crate::commands::aws_policy;
use crate::fixtures::{ACCOUNT, NOW, PROVIDER, aws_settings, prod, target, token};

/// The generated Stack-scope policy, changed by `edit`.
fn policy(edit: impl FnOnce(&mut Value)) -> Value {
    let mut policy = aws_policy(&aws::generate(&target(Scope::Stack), &aws_settings()));
    edit(&mut policy);
    policy
}

fn statement(policy: &mut Value) -> &mut Value {
    &mut policy["Statement"][0]
}

fn verdict(claims: &Claims, policy: &Value) -> Verdict {
    aws::explain(claims, NOW, &aws_settings(), policy).expect("evaluates")
}

/// `(condition, reason, hint)` of a rejection of prod's update token.
fn rejected(policy: &Value) -> (String, String, String) {
    match verdict(&token(&prod(), PulumiOperation::Update), policy) {
        Verdict::Rejected {
            condition,
            reason,
            hint,
        } => (condition, reason, hint),
        accepted => panic!("accepted: {accepted:?}"),
    }
}

#[test]
fn the_generated_policy_accepts_this_stack_and_names_the_statement() {
    let verdict = verdict(&token(&prod(), PulumiOperation::Destroy), &policy(|_| {}));
    assert_eq!(
        verdict,
        Verdict::Accepted {
            matched: format!(
                "statement `KeylessDeployments` allows sts:AssumeRoleWithWebIdentity where \
                 StringEquals {PROVIDER}:aud and StringLike {PROVIDER}:sub"
            )
        }
    );
    // `aws iam get-role` output pastes as well.
    let wrapped = json!({"Role": {"RoleName": "x", "AssumeRolePolicyDocument": policy(|_| {})}});
    assert!(self::verdict(&token(&prod(), PulumiOperation::Update), &wrapped).is_accepted());
}

#[test]
fn aud_in_the_wrong_case() {
    let p = policy(|p| {
        statement(p)["Condition"]["StringEquals"][format!("{PROVIDER}:aud")] = json!("Acme")
    });
    assert_eq!(
        rejected(&p),
        (
            format!("StringEquals {PROVIDER}:aud"),
            "the policy expects `Acme`, tokens carry `acme` — AWS compares case-sensitively".into(),
            "Write `acme`: a Keyless token's aud is the organization name in lowercase".into(),
        )
    );
}

#[test]
fn string_equals_where_string_like_was_meant() {
    let p = policy(|p| {
        let condition = &mut statement(p)["Condition"];
        let sub = condition["StringLike"][format!("{PROVIDER}:sub")].take();
        condition["StringEquals"][format!("{PROVIDER}:sub")] = sub;
        condition
            .as_object_mut()
            .expect("object")
            .remove("StringLike");
    });
    let (condition, reason, hint) = rejected(&p);
    assert_eq!(condition, format!("StringEquals {PROVIDER}:sub"));
    assert_eq!(
        reason,
        format!(
            "`StringEquals {PROVIDER}:sub` compares literally, so the `*` in \
             `pulumi:deploy:org:Acme:project:website:stack:prod:operation:*:scope:write` matches \
             only a `*` character, and `{PROVIDER}:sub` is \
             `pulumi:deploy:org:Acme:project:website:stack:prod:operation:update:scope:write`"
        )
    );
    assert_eq!(hint, "Use StringLike for patterns with `*` and `?`");
}

#[test]
fn federated_principal_for_another_issuer() {
    let cases = [
        (
            "keyless.example.com/oidc/",
            "the principal ends with a slash, the token's iss does not",
        ),
        (
            "Keyless.example.com/oidc",
            "they differ in case, and the provider URL is compared exactly",
        ),
        (
            "api.pulumi.com/oidc",
            "the token's iss is `https://keyless.example.com/oidc`",
        ),
    ];
    for (path, how) in cases {
        let arn = format!("arn:aws:iam::{ACCOUNT}:oidc-provider/{path}");
        let p = policy(|p| statement(p)["Principal"]["Federated"] = json!(arn));
        let (condition, reason, hint) = rejected(&p);
        assert_eq!(condition, "Principal.Federated");
        assert_eq!(
            reason,
            format!(
                "the Federated principal names provider `{path}`, but the token comes from \
                 `{PROVIDER}`: {how}"
            )
        );
        assert_eq!(
            hint,
            format!(
                "Set \"Principal\": {{\"Federated\": \"arn:aws:iam::{ACCOUNT}:oidc-provider/{PROVIDER}\"}}"
            )
        );
    }
}

#[test]
fn provider_of_another_account() {
    let arn = format!("arn:aws:iam::210987654321:oidc-provider/{PROVIDER}");
    let p = policy(|p| statement(p)["Principal"]["Federated"] = json!(arn));
    assert_eq!(
        rejected(&p).1,
        format!(
            "the Federated principal is a provider of account 210987654321, but the role is in \
             account {ACCOUNT}, and a role trusts only providers of its own account"
        )
    );
}

#[test]
fn http_issuer_is_refused_before_anything_else() {
    let mut claims = serde_json::to_value(token(&prod(), PulumiOperation::Update)).expect("JSON");
    claims["iss"] = json!("http://keyless.example.com/oidc");
    let claims = Claims::from_json(claims).expect("claims");
    let Verdict::Rejected {
        condition, reason, ..
    } = verdict(&claims, &policy(|_| {}))
    else {
        panic!("http issuer accepted");
    };
    assert_eq!(condition, "iss");
    assert_eq!(
        reason,
        "the token's issuer `http://keyless.example.com/oidc` is not an https:// URL, and AWS \
         registers OIDC providers only for https issuers"
    );
}

#[test]
fn expired_token() {
    let stale = Claims::for_deployment(
        crate::fixtures::ISSUER,
        &prod(),
        PulumiOperation::Update,
        NOW - 1_800,
        900,
    );
    assert_eq!(
        aws::explain(&stale, NOW, &aws_settings(), &policy(|_| {})),
        Ok(Verdict::Rejected {
            condition: "exp".into(),
            reason: format!(
                "the token expired 15m before now (exp {}, now {NOW})",
                NOW - 900
            ),
            hint: "Tokens are exchanged as soon as they are minted: compare the clocks of the \
                   Keyless server and of the cloud, and explain a token from the failing run \
                   with `now` set to when it ran"
                .into(),
        })
    );
}

#[test]
fn wrong_action() {
    let p = policy(|p| statement(p)["Action"] = json!("sts:AssumeRole"));
    assert_eq!(
        rejected(&p),
        (
            "Action".into(),
            "statement `KeylessDeployments` allows `sts:AssumeRole`, not \
             `sts:AssumeRoleWithWebIdentity`"
                .into(),
            "Set \"Action\": \"sts:AssumeRoleWithWebIdentity\"".into(),
        )
    );
    for covering in [
        json!("sts:*"),
        json!(["sts:TagSession", "STS:AssumeRoleWith*"]),
    ] {
        let p = policy(|p| statement(p)["Action"] = covering);
        assert!(verdict(&token(&prod(), PulumiOperation::Update), &p).is_accepted());
    }
}

#[test]
fn deny_statement_overrides_the_allow() {
    let p = policy(|p| {
        let deny = json!({
            "Sid": "NeverDestroy",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {format!("{PROVIDER}:sub"): "*:operation:destroy:*"}},
        });
        p["Statement"].as_array_mut().expect("array").push(deny);
    });
    assert!(verdict(&token(&prod(), PulumiOperation::Update), &p).is_accepted());
    assert_eq!(
        verdict(&token(&prod(), PulumiOperation::Destroy), &p),
        Verdict::Rejected {
            condition: "Deny statement `NeverDestroy`".into(),
            reason: "statement `NeverDestroy` denies sts:AssumeRoleWithWebIdentity to this token \
                     (sub `pulumi:deploy:org:Acme:project:website:stack:prod:operation:destroy:scope:write`), \
                     and an explicit Deny overrides every Allow"
                .into(),
            hint: "Narrow the Deny's conditions so they do not match this token, or remove it"
                .into(),
        }
    );
}

#[test]
fn condition_keys_the_request_does_not_have() {
    let github = policy(|p| {
        let condition = &mut statement(p)["Condition"]["StringLike"];
        let pattern = condition[format!("{PROVIDER}:sub")].take();
        *condition = json!({"token.actions.githubusercontent.com:sub": pattern});
    });
    assert_eq!(
        rejected(&github),
        (
            "StringLike token.actions.githubusercontent.com:sub".into(),
            format!(
                "the request has no `token.actions.githubusercontent.com:sub`: that key belongs \
                 to provider `token.actions.githubusercontent.com`, and tokens from `{PROVIDER}` \
                 set `{PROVIDER}:aud` and `{PROVIDER}:sub`"
            ),
            format!("Rename the key to `{PROVIDER}:sub`"),
        )
    );
    let custom = policy(|p| {
        statement(p)["Condition"]["StringEquals"][format!("{PROVIDER}:stack")] = json!("prod");
    });
    assert_eq!(
        rejected(&custom).1,
        format!(
            "the request has no `{PROVIDER}:stack`: of an OIDC token AWS exposes only aud, azp \
             and sub as condition keys, not claims like `stack`"
        )
    );
}

#[test]
fn another_operation_for_an_operation_scope() {
    let t = target(Scope::StackOperation(PulumiOperation::Preview));
    let p = aws_policy(&aws::generate(&t, &aws_settings()));
    assert!(verdict(&token(&prod(), PulumiOperation::Preview), &p).is_accepted());
    let Verdict::Rejected { reason, .. } = verdict(&token(&prod(), PulumiOperation::Update), &p)
    else {
        panic!("update accepted by a preview-only role");
    };
    assert!(
        reason.ends_with(
            "the policy allows operation `preview`, the token is for operation `update`"
        ),
        "{reason}"
    );
    let other_org = StackRef::new("Other", "website", "prod");
    let Verdict::Rejected { condition, .. } =
        verdict(&token(&other_org, PulumiOperation::Preview), &p)
    else {
        panic!("another organization's token accepted");
    };
    assert_eq!(condition, format!("StringEquals {PROVIDER}:aud"));
}

#[test]
fn what_the_explainer_cannot_judge_is_said_not_guessed() {
    let p = policy(|p| {
        statement(p)["Condition"]["IpAddress"] = json!({"aws:SourceIp": "203.0.113.0/24"});
    });
    let err = aws::explain(
        &token(&prod(), PulumiOperation::Update),
        NOW,
        &aws_settings(),
        &p,
    )
    .expect_err("unsupported");
    assert!(matches!(err, ExplainError::Unsupported { .. }));
    assert!(
        err.to_string()
            .contains("condition operator `IpAddress` is not evaluated here")
    );
    let not_a_policy = aws::explain(
        &token(&prod(), PulumiOperation::Update),
        NOW,
        &aws_settings(),
        &json!([1]),
    );
    assert_eq!(
        not_a_policy.expect_err("malformed").to_string(),
        "the trust policy has no Statement"
    );
}
