//! Rotation and pruning as a relying party sees them through the JWKS.

use keyless_oidc::{DeploymentClaims, KeyRing, MAX_TOKEN_LIFETIME, RETIRED_KEY_GRACE, jwks, mint};

use crate::helpers::{deployment, issuer, now, verify};

const RETENTION: u64 = MAX_TOKEN_LIFETIME.as_secs() + RETIRED_KEY_GRACE;

fn mint_at(ring: &KeyRing, issued_at: u64) -> String {
    let claims = DeploymentClaims::new(&issuer(), &deployment(), issued_at, MAX_TOKEN_LIFETIME)
        .expect("claims");
    mint(ring, &claims).expect("mints")
}

fn header_kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("header")
        .kid
        .expect("kid")
}

#[test]
fn after_rotation_new_tokens_use_the_new_key_and_old_tokens_stay_verifiable() {
    let start = now();
    let mut ring = KeyRing::generate(start).expect("ring");
    let old_kid = ring.active().kid().to_owned();
    let old_token = mint_at(&ring, start);

    let rotated_at = now();
    let new_kid = ring.rotate(rotated_at).expect("rotates").kid().to_owned();
    assert_ne!(new_kid, old_kid);
    let new_token = mint_at(&ring, rotated_at);
    assert_eq!(header_kid(&old_token), old_kid);
    assert_eq!(header_kid(&new_token), new_kid);

    let keys = jwks(&ring, rotated_at);
    let kids: Vec<&str> = keys.keys.iter().map(|jwk| jwk.kid.as_str()).collect();
    assert_eq!(kids, [new_kid.as_str(), old_kid.as_str()]);
    verify(&old_token, &keys).expect("the old token still verifies");
    verify(&new_token, &keys).expect("the new token verifies");

    // The old key outlives every token it can have signed, grace included...
    let old_exp = verify(&old_token, &keys).expect("verifies")["exp"]
        .as_u64()
        .expect("exp");
    assert!(old_exp + RETIRED_KEY_GRACE <= rotated_at + RETENTION);
    let last_moment = jwks(&ring, rotated_at + RETENTION - 1);
    verify(&old_token, &last_moment).expect("still published");
    // ...and is withdrawn after that, while the active key stays.
    let later = jwks(&ring, rotated_at + RETENTION);
    assert_eq!(later.keys.len(), 1);
    assert!(verify(&old_token, &later).is_err());
    verify(&new_token, &later).expect("the active key is always published");
}

#[test]
fn prune_removes_a_retired_key_only_once_its_tokens_have_expired() {
    let start = now();
    let mut ring = KeyRing::generate(start).expect("ring");
    let old_token = mint_at(&ring, start);
    ring.rotate(start).expect("rotates");
    let new_token = mint_at(&ring, start);

    // While a token it signed may be live, pruning keeps the key.
    assert_eq!(ring.prune(start + MAX_TOKEN_LIFETIME.as_secs()), 0);
    assert_eq!(ring.prune(start + RETENTION - 1), 0);
    verify(&old_token, &jwks(&ring, start)).expect("kept");

    assert_eq!(ring.prune(start + RETENTION), 1);
    // Gone for good, even from a JWKS asked for an earlier time.
    let keys = jwks(&ring, start);
    assert_eq!(keys.keys.len(), 1);
    let err = verify(&old_token, &keys).expect_err("pruned key");
    assert!(err.contains("not in the JWKS"), "{err}");
    verify(&new_token, &keys).expect("the active key signs on");
    assert_eq!(ring.prune(u64::MAX), 0, "the active key is never pruned");
}
