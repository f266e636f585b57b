//! Google STS token exchange, then service account impersonation.

use keyless_api_types::Cloud;
use keyless_api_types::settings::GcpOidc;
use keyless_exchange::relying_party::RelyingParty;
use keyless_exchange::relying_party::gcp::{self, GcpConfig, ServiceAccount};
use keyless_exchange::{Endpoints, ExchangeError, Exchanger};
use serde_json::json;

use crate::support::{
    Issuer, ORG, assert_about, assert_hides, closed_port, exchanger, now, subject,
};

const NUMBER: &str = "123456789012";
const SA: &str = "deploy@acme-prod.iam.gserviceaccount.com";
const AUDIENCE: &str = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/keyless/providers/acme";

fn config(issuer: &Issuer) -> GcpConfig {
    let mut config = GcpConfig {
        project_number: NUMBER.into(),
        pool_id: "keyless".into(),
        provider_id: "acme".into(),
        issuer: issuer.url.clone(),
        allowed_audiences: vec![ORG.into()],
        subject_condition: Some("pulumi:deploy:org:acme:*".into()),
        attribute_condition: None,
        service_accounts: Vec::new(),
        max_lifetime: 3600,
    };
    config.service_accounts = vec![ServiceAccount {
        email: SA.into(),
        workload_identity_users: vec![config.principal(&subject("prod", "update"))],
    }];
    config
}

fn settings() -> GcpOidc {
    GcpOidc {
        project_id: NUMBER.into(),
        region: Some("europe-west1".into()),
        workload_pool_id: "keyless".into(),
        provider_id: "acme".into(),
        service_account: SA.into(),
        token_lifetime: Some("30m".into()),
    }
}

async fn rejection(google: &RelyingParty, token: &str) -> ExchangeError {
    exchanger(google.url())
        .gcp(&settings(), token)
        .await
        .expect_err("rejected")
}

#[tokio::test]
async fn federates_then_impersonates_and_sets_the_google_variables() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let token = issuer.token();
    let creds = exchanger(google.url())
        .gcp(&settings(), &token)
        .await
        .expect("credentials");

    assert_eq!(creds.cloud, Cloud::Gcp);
    assert_eq!(creds.identity, SA);
    assert_about(creds.expires_at, now() + 1800);
    let access = creds
        .env_var("GOOGLE_OAUTH_ACCESS_TOKEN")
        .expect("access token");
    assert!(access.is_secret() && access.expose().starts_with("ya29.c."));
    assert_eq!(
        creds
            .env_var("GOOGLE_REGION")
            .map(|v| (v.expose(), v.is_secret())),
        Some(("europe-west1", false))
    );
    assert!(
        creds.env_var("GOOGLE_PROJECT").is_none(),
        "only a project number is known"
    );
    assert_hides(&format!("{creds:?} {creds}"), &[access.expose(), &token]);

    let requests = google.requests();
    assert_eq!(requests.len(), 2);
    let (exchange, impersonate) = (&requests[0], &requests[1]);
    assert_eq!(
        (exchange.method.as_str(), exchange.path.as_str()),
        ("POST", "/v1/token")
    );
    assert_eq!(
        exchange.json(),
        Some(json!({
            "grantType": "urn:ietf:params:oauth:grant-type:token-exchange",
            "audience": AUDIENCE,
            "scope": "https://www.googleapis.com/auth/cloud-platform",
            "requestedTokenType": "urn:ietf:params:oauth:token-type:access_token",
            "subjectTokenType": "urn:ietf:params:oauth:token-type:jwt",
            "subjectToken": token,
        }))
    );
    assert_eq!(impersonate.method, "POST");
    assert_eq!(
        impersonate.path,
        format!("/v1/projects/-/serviceAccounts/{SA}:generateAccessToken")
    );
    let bearer = impersonate.authorization.as_deref().unwrap_or_default();
    assert!(
        bearer.starts_with("Bearer ya29.d."),
        "the federated token: {bearer}"
    );
    assert_eq!(
        impersonate.json(),
        Some(json!({
            "scope": ["https://www.googleapis.com/auth/cloud-platform"],
            "lifetime": "1800s",
        }))
    );
}

#[tokio::test]
async fn a_wrong_audience_is_an_invalid_grant_naming_the_allowed_audiences() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let mut claims = issuer.claims("prod", "update");
    claims["aud"] = "Acme".into();
    let token = issuer.mint(&claims);
    let err = rejection(&google, &token).await;

    let ExchangeError::Rejected(rejection) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (rejection.status, rejection.code.as_str()),
        (400, "invalid_grant")
    );
    assert!(
        rejection
            .message
            .starts_with("The audience in ID Token [Acme] does not match")
    );
    let explanation = err.explain();
    assert!(explanation.contains("allowed audiences") && explanation.contains(AUDIENCE));
    assert_hides(&format!("{err} {err:?} {explanation}"), &[&token]);
    assert_eq!(
        google.requests().len(),
        1,
        "no impersonation after a failed exchange"
    );
}

#[tokio::test]
async fn an_expired_token_is_an_invalid_grant() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let mut claims = issuer.claims("prod", "update");
    claims["exp"] = (now() - 3600).into();
    let err = rejection(&google, &issuer.mint(&claims)).await;
    assert_eq!(err.code(), Some("invalid_grant"));
    assert!(err.explain().contains("expired"), "{}", err.explain());
}

#[tokio::test]
async fn a_subject_outside_the_attribute_condition_is_an_unauthorized_client() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let mut claims = issuer.claims("prod", "update");
    claims["sub"] =
        "pulumi:deploy:org:other:project:web:stack:prod:operation:update:scope:write".into();
    let err = rejection(&google, &issuer.mint(&claims)).await;
    assert_eq!(err.code(), Some("unauthorized_client"));
    assert!(err.explain().contains("org:other"));
}

#[tokio::test]
async fn a_missing_workload_identity_user_binding_is_permission_denied() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let token = issuer.mint(&issuer.claims("prod", "preview"));
    let err = rejection(&google, &token).await;

    let ExchangeError::Rejected(rejection) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (rejection.status, rejection.code.as_str()),
        (403, "PERMISSION_DENIED")
    );
    assert!(
        rejection
            .message
            .contains("iam.serviceAccounts.getAccessToken")
    );
    let principal = config(&issuer).principal(&subject("prod", "preview"));
    let explanation = err.explain();
    assert!(
        explanation.contains("roles/iam.workloadIdentityUser"),
        "{explanation}"
    );
    assert!(explanation.contains(&principal), "{explanation}");
}

#[tokio::test]
async fn a_pool_wide_binding_admits_every_subject_and_lifetimes_are_capped() {
    let issuer = Issuer::start().await;
    let mut config = config(&issuer);
    config.service_accounts[0].workload_identity_users = vec![config.whole_pool()];
    let google = gcp::spawn(config).await.expect("google");
    let token = issuer.mint(&issuer.claims("prod", "preview"));
    let settings = GcpOidc {
        token_lifetime: None,
        region: None,
        ..settings()
    };
    let creds = exchanger(google.url())
        .gcp(&settings, &token)
        .await
        .expect("credentials");
    assert_about(creds.expires_at, now() + 3600);
    assert!(creds.env_var("GOOGLE_REGION").is_none());

    let long = GcpOidc {
        token_lifetime: Some("2h".into()),
        ..settings
    };
    let err = exchanger(google.url())
        .gcp(&long, &token)
        .await
        .expect_err("too long");
    assert_eq!(err.code(), Some("INVALID_ARGUMENT"));
    assert!(
        err.explain()
            .contains("allowServiceAccountCredentialLifetimeExtension")
    );
}

#[tokio::test]
async fn a_project_id_instead_of_the_number_is_refused_before_sending() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let settings = GcpOidc {
        project_id: "acme-prod".into(),
        ..settings()
    };
    let err = exchanger(google.url())
        .gcp(&settings, &issuer.token())
        .await
        .expect_err("id");
    assert!(
        matches!(
            err,
            ExchangeError::InvalidSetting {
                field: "Project Number",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(google.requests().is_empty());
}

#[tokio::test]
async fn an_unreachable_iam_endpoint_is_named_after_a_successful_exchange() {
    let issuer = Issuer::start().await;
    let google = gcp::spawn(config(&issuer)).await.expect("google");
    let closed = closed_port().await;
    let exchanger = Exchanger::new(Endpoints {
        gcp_sts: google.url().into(),
        gcp_iam_credentials: closed.clone(),
        ..Endpoints::default()
    })
    .expect("client");
    let err = exchanger
        .gcp(&settings(), &issuer.token())
        .await
        .expect_err("closed");
    let ExchangeError::Unreachable { url, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(url.starts_with(&closed), "{url}");
    assert!(
        err.to_string()
            .contains("Google IAM Service Account Credentials"),
        "{err}"
    );
    assert!(err.explain().contains("--gcp-iam-credentials-endpoint"));
}
