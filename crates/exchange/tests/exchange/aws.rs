//! AWS STS AssumeRoleWithWebIdentity.

use keyless_api_types::Cloud;
use keyless_api_types::settings::AwsOidc;
use keyless_exchange::ExchangeError;
use keyless_exchange::relying_party::RelyingParty;
use keyless_exchange::relying_party::aws::{self, AwsConfig, OidcProvider, Role};

use crate::support::{Issuer, ORG, assert_about, assert_hides, exchanger, now, subject};

const ROLE: &str = "arn:aws:iam::123456789012:role/deploy";
const SESSION: &str = "acme-web-prod-update-7";

async fn sts(issuer: &Issuer) -> RelyingParty {
    aws::spawn(AwsConfig {
        providers: vec![OidcProvider {
            url: issuer.url.clone(),
            client_ids: vec![ORG.into()],
        }],
        roles: vec![Role {
            arn: ROLE.into(),
            issuer: issuer.url.clone(),
            audience: ORG.into(),
            subject_like: "pulumi:deploy:org:acme:project:web:stack:prod:*".into(),
            max_session_duration: 7200,
            trust_policy: None,
        }],
    })
    .await
    .expect("sts")
}

fn settings() -> AwsOidc {
    AwsOidc {
        role_arn: ROLE.into(),
        session_name: "${organization.name}-…".into(),
        duration: Some("1h30m".into()),
        policy_arns: Some(vec![
            "arn:aws:iam::aws:policy/ReadOnlyAccess".into(),
            "arn:aws:iam::123456789012:policy/deploy-extra".into(),
        ]),
    }
}

async fn rejection(issuer: &Issuer, token: &str) -> ExchangeError {
    let sts = sts(issuer).await;
    exchanger(sts.url())
        .aws(&settings(), SESSION, token)
        .await
        .expect_err("rejected")
}

#[tokio::test]
async fn assumes_the_role_and_sets_the_aws_variables() {
    let issuer = Issuer::start().await;
    let sts = sts(&issuer).await;
    let token = issuer.token();
    let creds = exchanger(sts.url())
        .aws(&settings(), SESSION, &token)
        .await
        .expect("credentials");

    assert_eq!(creds.cloud, Cloud::Aws);
    assert_eq!(
        creds.identity,
        format!("arn:aws:sts::123456789012:assumed-role/deploy/{SESSION}")
    );
    assert_about(creds.expires_at, now() + 5400);
    assert!((5300..=5400).contains(&creds.seconds_left()));
    let names: Vec<&str> = creds.env.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN"
        ]
    );
    let key_id = creds.env_var("AWS_ACCESS_KEY_ID").expect("key id");
    assert!(!key_id.is_secret() && key_id.expose().starts_with("ASIA"));
    let secret_key = creds.env_var("AWS_SECRET_ACCESS_KEY").expect("secret");
    let session_token = creds.env_var("AWS_SESSION_TOKEN").expect("session token");
    assert!(secret_key.is_secret() && session_token.is_secret());
    assert_eq!(secret_key.expose().len(), 40);
    assert_eq!(creds.secret_values().count(), 2);
    let detail = |name: &str| {
        creds
            .details
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(detail("Subject"), Some(subject("prod", "update").as_str()));
    assert_eq!(detail("Audience"), Some(ORG));

    let shown = format!("{creds:?} {creds}");
    assert_hides(
        &shown,
        &[secret_key.expose(), session_token.expose(), &token],
    );
    assert!(shown.contains("AWS_SESSION_TOKEN"), "{shown}");

    let requests = sts.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("POST", "/")
    );
    assert!(request.is_content_type("application/x-www-form-urlencoded"));
    assert_eq!(request.authorization, None, "the call is unsigned");
    let expected = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", ROLE),
        ("RoleSessionName", SESSION),
        ("WebIdentityToken", token.as_str()),
        ("DurationSeconds", "5400"),
        (
            "PolicyArns.member.1.arn",
            "arn:aws:iam::aws:policy/ReadOnlyAccess",
        ),
        (
            "PolicyArns.member.2.arn",
            "arn:aws:iam::123456789012:policy/deploy-extra",
        ),
    ];
    for (name, value) in expected {
        assert_eq!(request.param(name).as_deref(), Some(value), "{name}");
    }
}

#[tokio::test]
async fn without_a_duration_aws_picks_its_default() {
    let issuer = Issuer::start().await;
    let sts = sts(&issuer).await;
    let settings = AwsOidc {
        duration: None,
        policy_arns: None,
        ..settings()
    };
    let creds = exchanger(sts.url())
        .aws(&settings, SESSION, &issuer.token())
        .await
        .expect("credentials");
    assert_about(creds.expires_at, now() + 3600);
    let form = sts.requests()[0].form();
    assert!(
        form.iter()
            .all(|(n, _)| n != "DurationSeconds" && !n.starts_with("PolicyArns"))
    );
}

// Guards the complaint "opaque Not authorized to perform sts:AssumeRoleWithWebIdentity".
#[tokio::test]
async fn a_token_for_another_stack_is_access_denied_with_the_trust_policy_explained() {
    let issuer = Issuer::start().await;
    let token = issuer.mint(&issuer.claims("dev", "update"));
    let err = rejection(&issuer, &token).await;

    let ExchangeError::Rejected(rejection) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (rejection.status, rejection.code.as_str()),
        (403, "AccessDenied")
    );
    assert_eq!(
        rejection.message,
        "Not authorized to perform sts:AssumeRoleWithWebIdentity"
    );
    assert!(
        rejection
            .request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("request id "))
    );
    let explanation = err.explain();
    let host = issuer.url.trim_start_matches("http://");
    for needle in [
        ROLE,
        "StringLike",
        "lowercase",
        &format!("\"{host}:aud\" = \"acme\""),
        &subject("dev", "update"),
    ] {
        assert!(
            explanation.contains(needle),
            "{needle} missing in: {explanation}"
        );
    }
    assert_hides(&format!("{err} {err:?} {explanation}"), &[&token]);
}

#[tokio::test]
async fn a_wrong_case_audience_is_an_invalid_identity_token() {
    let issuer = Issuer::start().await;
    let mut claims = issuer.claims("prod", "update");
    claims["aud"] = "Acme".into();
    let err = rejection(&issuer, &issuer.mint(&claims)).await;
    assert_eq!(err.code(), Some("InvalidIdentityToken"));
    assert!(
        err.to_string().contains("Incorrect token audience"),
        "{err}"
    );
    assert!(err.explain().contains("\"Acme\""), "{}", err.explain());
}

#[tokio::test]
async fn an_expired_token_is_reported_as_expired() {
    let issuer = Issuer::start().await;
    let mut claims = issuer.claims("prod", "update");
    claims["exp"] = (now() - 3600).into();
    let err = rejection(&issuer, &issuer.mint(&claims)).await;
    assert_eq!(err.code(), Some("ExpiredTokenException"));
    assert!(err.to_string().contains("Token expired"), "{err}");
    assert!(err.explain().contains("expired"));
}

#[tokio::test]
async fn a_forged_signature_or_unregistered_issuer_is_an_invalid_identity_token() {
    let issuer = Issuer::start().await;
    let forged = issuer.forge(&issuer.claims("prod", "update"));
    let err = rejection(&issuer, &forged).await;
    assert_eq!(err.code(), Some("InvalidIdentityToken"));
    assert!(
        err.to_string().contains("signature could not be verified"),
        "{err}"
    );

    let mut claims = issuer.claims("prod", "update");
    claims["iss"] = "https://elsewhere.example/oidc".into();
    let err = rejection(&issuer, &issuer.mint(&claims)).await;
    assert_eq!(err.code(), Some("InvalidIdentityToken"));
    assert!(
        err.to_string().contains("No OpenIDConnect provider found"),
        "{err}"
    );
    assert!(err.explain().contains("https://elsewhere.example/oidc"));
}

#[tokio::test]
async fn a_duration_above_the_role_maximum_is_a_validation_error() {
    let issuer = Issuer::start().await;
    let sts = sts(&issuer).await;
    let settings = AwsOidc {
        duration: Some("3h".into()),
        ..settings()
    };
    let err = exchanger(sts.url())
        .aws(&settings, SESSION, &issuer.token())
        .await
        .expect_err("too long");
    assert_eq!(err.code(), Some("ValidationError"));
    assert!(err.explain().contains("maximum session duration"));
}

#[tokio::test]
async fn bad_settings_are_refused_before_anything_is_sent() {
    let issuer = Issuer::start().await;
    let sts = sts(&issuer).await;
    let err = exchanger(sts.url())
        .aws(&settings(), "x", &issuer.token())
        .await
        .expect_err("short session name");
    assert!(
        matches!(
            err,
            ExchangeError::InvalidSetting {
                field: "Session Name",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.explain().contains("nothing was sent"));
    assert!(sts.requests().is_empty());
}
