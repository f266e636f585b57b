//! Microsoft Entra ID client credentials with a federated assertion.

use keyless_api_types::Cloud;
use keyless_api_types::settings::AzureOidc;
use keyless_exchange::ExchangeError;
use keyless_exchange::relying_party::RelyingParty;
use keyless_exchange::relying_party::azure::{self, App, AzureConfig, FederatedCredential};

use crate::support::{Issuer, ORG, assert_about, assert_hides, exchanger, now, subject};

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const CLIENT: &str = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
const SUBSCRIPTION: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

/// One federated credential per operation, as Azure's exact matching needs.
async fn entra(issuer: &Issuer) -> RelyingParty {
    let federated_credentials = ["update", "preview", "refresh", "destroy"]
        .into_iter()
        .map(|op| FederatedCredential {
            issuer: issuer.url.clone(),
            subject: subject("prod", op),
            audience: ORG.into(),
        })
        .collect();
    azure::spawn(AzureConfig {
        tenant_id: TENANT.into(),
        apps: vec![App {
            client_id: CLIENT.into(),
            federated_credentials,
        }],
    })
    .await
    .expect("entra")
}

fn settings() -> AzureOidc {
    AzureOidc {
        client_id: CLIENT.into(),
        tenant_id: TENANT.into(),
        subscription_id: SUBSCRIPTION.into(),
    }
}

async fn rejection(issuer: &Issuer, settings: &AzureOidc, token: &str) -> ExchangeError {
    let entra = entra(issuer).await;
    exchanger(entra.url())
        .azure(settings, token)
        .await
        .expect_err("rejected")
}

#[tokio::test]
async fn redeems_the_assertion_and_sets_the_arm_variables() {
    let issuer = Issuer::start().await;
    let entra = entra(&issuer).await;
    let claims = issuer.claims("prod", "destroy");
    let token = issuer.mint(&claims);
    let creds = exchanger(entra.url())
        .azure(&settings(), &token)
        .await
        .expect("credentials");

    assert_eq!(creds.cloud, Cloud::Azure);
    assert_eq!(creds.identity, format!("app {CLIENT} in tenant {TENANT}"));
    // Bounded by the OIDC token (10 minutes), not the hour-long access token: the provider
    // redeems ARM_OIDC_TOKEN itself.
    assert_eq!(Some(creds.expires_at), claims["exp"].as_i64());
    let env: Vec<(&str, &str, bool)> = creds
        .env
        .iter()
        .map(|(n, v)| (n.as_str(), v.expose(), v.is_secret()))
        .collect();
    assert_eq!(
        env,
        [
            ("ARM_CLIENT_ID", CLIENT, false),
            ("ARM_TENANT_ID", TENANT, false),
            ("ARM_SUBSCRIPTION_ID", SUBSCRIPTION, false),
            ("ARM_USE_OIDC", "true", false),
            ("ARM_OIDC_TOKEN", token.as_str(), true),
        ]
    );
    assert_hides(&format!("{creds:?} {creds}"), &[&token]);

    let requests = entra.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, format!("/{TENANT}/oauth2/v2.0/token"));
    assert!(request.is_content_type("application/x-www-form-urlencoded"));
    let expected = [
        ("grant_type", "client_credentials"),
        ("client_id", CLIENT),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", token.as_str()),
        ("scope", "https://management.azure.com/.default"),
    ];
    for (name, value) in expected {
        assert_eq!(request.param(name).as_deref(), Some(value), "{name}");
    }
}

#[tokio::test]
async fn a_long_lived_token_expires_with_the_access_token() {
    let issuer = Issuer::start().await;
    let entra = entra(&issuer).await;
    let mut claims = issuer.claims("prod", "update");
    claims["exp"] = (now() + 7200).into();
    let creds = exchanger(entra.url())
        .azure(&settings(), &issuer.mint(&claims))
        .await
        .expect("credentials");
    assert_about(creds.expires_at, now() + 3599);
}

// Guards the complaint that Azure needs one exact-match federated credential per operation.
#[tokio::test]
async fn a_wrong_audience_finds_no_federated_credential() {
    let issuer = Issuer::start().await;
    let mut claims = issuer.claims("prod", "update");
    claims["aud"] = "api://AzureADTokenExchange".into();
    let token = issuer.mint(&claims);
    let err = rejection(&issuer, &settings(), &token).await;

    let ExchangeError::Rejected(rejection) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(rejection.code, "AADSTS70021");
    assert!(
        rejection
            .message
            .starts_with("No matching federated identity record found")
    );
    assert!(
        rejection
            .message
            .contains("Assertion Audience: 'api://AzureADTokenExchange'")
    );
    assert!(
        !rejection.message.contains("Trace ID"),
        "trace lines are cut: {}",
        rejection.message
    );
    let ids = rejection.request_id.as_deref().unwrap_or_default();
    assert!(
        ids.contains("trace id ") && ids.contains("correlation id "),
        "{ids}"
    );
    let explanation = err.explain();
    for needle in [
        "one credential per operation",
        "api://AzureADTokenExchange",
        &issuer.url,
    ] {
        assert!(
            explanation.contains(needle),
            "{needle} missing in: {explanation}"
        );
    }
    assert_hides(&format!("{err} {err:?} {explanation}"), &[&token]);
}

#[tokio::test]
async fn an_operation_without_its_own_credential_is_refused() {
    let issuer = Issuer::start().await;
    let token = issuer.mint(&issuer.claims("prod", "detect-drift"));
    let err = rejection(&issuer, &settings(), &token).await;
    assert_eq!(err.code(), Some("AADSTS70021"));
    assert!(err.explain().contains(&subject("prod", "detect-drift")));
}

#[tokio::test]
async fn an_unknown_app_or_tenant_is_named() {
    let issuer = Issuer::start().await;
    let unknown_app = AzureOidc {
        client_id: "00000000-0000-0000-0000-000000000000".into(),
        ..settings()
    };
    let err = rejection(&issuer, &unknown_app, &issuer.token()).await;
    assert_eq!(err.code(), Some("AADSTS700016"));
    assert!(
        err.explain()
            .contains("00000000-0000-0000-0000-000000000000")
    );

    let unknown_tenant = AzureOidc {
        tenant_id: "contoso.onmicrosoft.com".into(),
        ..settings()
    };
    let err = rejection(&issuer, &unknown_tenant, &issuer.token()).await;
    assert_eq!(err.code(), Some("AADSTS90002"));
    assert!(err.explain().contains("contoso.onmicrosoft.com"));
}

#[tokio::test]
async fn an_expired_or_forged_assertion_is_refused() {
    let issuer = Issuer::start().await;
    let mut claims = issuer.claims("prod", "update");
    claims["exp"] = (now() - 3600).into();
    let err = rejection(&issuer, &settings(), &issuer.mint(&claims)).await;
    assert_eq!(err.code(), Some("AADSTS700024"));
    assert!(err.explain().contains("expired"));

    let forged = issuer.forge(&issuer.claims("prod", "update"));
    let err = rejection(&issuer, &settings(), &forged).await;
    assert_eq!(err.code(), Some("AADSTS700027"));
    assert!(err.explain().contains("/.well-known/openid-configuration"));
}
