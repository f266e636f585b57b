//! Minting: header, every claim, the audience rule, the lifetime cap, forgeries, log output.

use std::collections::BTreeSet;
use std::time::Duration;

use keyless_oidc::{
    DeploymentClaims, Error, Issuer, KeyRing, MAX_TOKEN_LIFETIME, decode_unverified,
    discovery_document, jwks, mint, render_for_log,
};
use serde_json::{Value, json};

use crate::helpers::{AUDIENCE, ISSUER, deployment, issuer, now, verify, verify_for};

fn mint_now(ring: &KeyRing, lifetime: Duration) -> (DeploymentClaims, String) {
    let claims = DeploymentClaims::new(&issuer(), &deployment(), now(), lifetime).expect("claims");
    let token = mint(ring, &claims).expect("mints");
    (claims, token)
}

#[test]
fn a_minted_token_verifies_against_the_jwks_and_carries_exactly_the_documented_claims() {
    let ring = KeyRing::generate(now()).expect("ring");
    let issued_at = now();
    let claims = DeploymentClaims::new(
        &issuer(),
        &deployment(),
        issued_at,
        Duration::from_secs(3_600),
    )
    .expect("claims");
    let token = mint(&ring, &claims).expect("mints");

    let verified = verify(&token, &jwks(&ring, now())).expect("verifies");
    let jti = verified["jti"].as_str().expect("jti").to_owned();
    assert!(uuid::Uuid::parse_str(&jti).is_ok_and(|id| id.get_version_num() == 4));
    assert_eq!(jti, claims.jti());
    assert_eq!(
        verified,
        json!({
            "iss": ISSUER,
            "aud": "acme-corp",
            "sub": "pulumi:deploy:org:Acme-Corp:project:website:stack:prod:operation:update:scope:write",
            "org": "Acme-Corp",
            "project": "website",
            "stack": "prod",
            "stackId": "6f1c2a8e-0d7b-4c55-9a43-0d2f3e1b7c10",
            "operation": "update",
            "deployment": 42,
            "scope": "write",
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + 3_600,
            "jti": jti,
        })
    );
    assert_eq!(claims.subject(), verified["sub"]);
    assert_eq!(claims.audience(), verified["aud"]);
    assert_eq!(claims.expires_at(), issued_at + 3_600);

    let (header, decoded) = decode_unverified(&token).expect("decodes");
    assert_eq!(
        header,
        json!({"alg": "RS256", "typ": "JWT", "kid": ring.active().kid()})
    );
    assert_eq!(decoded, verified);

    // The discovery document advertises exactly the claims a token carries.
    let advertised: BTreeSet<&str> = discovery_document(&issuer())
        .claims_supported
        .iter()
        .copied()
        .collect();
    let carried: BTreeSet<&str> = verified
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(advertised, carried);
}

#[test]
fn the_verifier_rejects_another_issuer_and_a_wrong_case_audience() {
    let ring = KeyRing::generate(now()).expect("ring");
    let (_, token) = mint_now(&ring, MAX_TOKEN_LIFETIME);
    let keys = jwks(&ring, now());
    assert!(verify_for(&token, &keys, ISSUER, AUDIENCE).is_ok());
    assert!(verify_for(&token, &keys, "https://api.pulumi.com/oidc", AUDIENCE).is_err());
    // AWS compares `aud` case-sensitively: the org as spelled does not match.
    let err = verify_for(&token, &keys, ISSUER, "Acme-Corp").expect_err("wrong-case aud");
    assert!(err.contains("Audience"), "{err}");
}

#[test]
fn aud_is_the_lowercased_org_while_sub_and_org_keep_its_spelling() {
    let ring = KeyRing::generate(now()).expect("ring");
    let mut deployment = deployment();
    deployment.org = "MixedCase-ORG_1";
    let claims =
        DeploymentClaims::new(&issuer(), &deployment, now(), MAX_TOKEN_LIFETIME).expect("claims");
    let token = mint(&ring, &claims).expect("mints");
    let verified =
        verify_for(&token, &jwks(&ring, now()), ISSUER, "mixedcase-org_1").expect("verifies");
    assert_eq!(verified["aud"], "mixedcase-org_1");
    assert_eq!(verified["org"], "MixedCase-ORG_1");
    assert!(
        verified["sub"]
            .as_str()
            .expect("sub")
            .starts_with("pulumi:deploy:org:MixedCase-ORG_1:project:"),
        "{verified}"
    );
}

#[test]
fn lifetimes_above_two_hours_are_refused_and_the_maximum_is_honoured() {
    let err = DeploymentClaims::new(
        &issuer(),
        &deployment(),
        now(),
        MAX_TOKEN_LIFETIME + Duration::from_secs(1),
    )
    .expect_err("over the cap");
    assert!(
        matches!(
            err,
            Error::Lifetime {
                requested: 7_201,
                max: 7_200
            }
        ),
        "{err}"
    );
    let ring = KeyRing::generate(now()).expect("ring");
    let (_, token) = mint_now(&ring, MAX_TOKEN_LIFETIME);
    let verified = verify(&token, &jwks(&ring, now())).expect("verifies");
    let lifetime = verified["exp"].as_u64().expect("exp") - verified["iat"].as_u64().expect("iat");
    assert_eq!(lifetime, 7_200);
}

#[test]
fn expired_and_not_yet_valid_tokens_fail() {
    let ring = KeyRing::generate(now()).expect("ring");
    let keys = jwks(&ring, now());
    let lifetime = Duration::from_secs(60);
    let at = |issued_at| {
        let claims =
            DeploymentClaims::new(&issuer(), &deployment(), issued_at, lifetime).expect("claims");
        mint(&ring, &claims).expect("mints")
    };
    let expired = verify(&at(now() - 120), &keys).expect_err("expired");
    assert!(expired.contains("Expired"), "{expired}");
    let early = verify(&at(now() + 600), &keys).expect_err("not yet valid");
    assert!(early.contains("Immature"), "{early}");
}

#[test]
fn a_token_signed_by_a_key_outside_the_jwks_or_altered_fails() {
    let ring = KeyRing::generate(now()).expect("ring");
    let other = KeyRing::generate(now()).expect("other ring");
    let (_, token) = mint_now(&other, MAX_TOKEN_LIFETIME);
    assert!(verify(&token, &jwks(&other, now())).is_ok());
    let err = verify(&token, &jwks(&ring, now())).expect_err("unknown key");
    assert!(err.contains("not in the JWKS"), "{err}");

    // Claiming the trusted kid does not help: the signature does not match that key.
    let (_, trusted) = mint_now(&ring, MAX_TOKEN_LIFETIME);
    let trusted_header = trusted.split('.').next().expect("header");
    let (_, rest) = token.split_once('.').expect("dots");
    let relabelled = format!("{trusted_header}.{rest}");
    let err = verify(&relabelled, &jwks(&ring, now())).expect_err("relabelled");
    assert!(err.contains("InvalidSignature"), "{err}");

    // Nor does editing a claim of a genuine token.
    let parts: Vec<&str> = trusted.split('.').collect();
    let (_, mut claims) = decode_unverified(&trusted).expect("decodes");
    claims["stack"] = Value::from("dev");
    let forged_claims = base64_json(&claims);
    let forged = format!("{}.{forged_claims}.{}", parts[0], parts[2]);
    let err = verify(&forged, &jwks(&ring, now())).expect_err("forged");
    assert!(err.contains("InvalidSignature"), "{err}");
}

fn base64_json(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[test]
fn the_log_rendering_shows_header_and_claims_but_not_the_signature() {
    let ring = KeyRing::generate(now()).expect("ring");
    let (claims, token) = mint_now(&ring, MAX_TOKEN_LIFETIME);
    let signature = token.rsplit('.').next().expect("signature");
    let rendered = render_for_log(&token).expect("renders");
    assert!(rendered.contains(ring.active().kid()), "{rendered}");
    assert!(rendered.contains(claims.subject()), "{rendered}");
    assert!(rendered.contains(claims.jti()), "{rendered}");
    assert!(!rendered.contains(signature), "{rendered}");
    assert!(!rendered.contains(&token), "{rendered}");
    assert!(render_for_log("not.a-token").is_err());
}

#[test]
fn documents_name_the_issuer_and_jwks_uri_exactly() {
    let issuer = Issuer::new("http://127.0.0.1:4000/oidc").expect("issuer");
    let doc = serde_json::to_value(discovery_document(&issuer)).expect("json");
    assert_eq!(doc["issuer"], "http://127.0.0.1:4000/oidc");
    assert_eq!(
        doc["jwks_uri"],
        "http://127.0.0.1:4000/oidc/.well-known/jwks"
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );

    let ring = KeyRing::generate(now()).expect("ring");
    let keys = serde_json::to_value(jwks(&ring, now())).expect("json");
    let jwk = ring.active().jwk();
    assert_eq!(
        keys,
        json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256",
            "kid": ring.active().kid(), "n": jwk.n, "e": "AQAB",
        }]})
    );
    assert!(
        !jwk.n.contains(['=', '+', '/']),
        "base64url without padding"
    );
}
