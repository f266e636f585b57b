//! The persisted key ring: sealed private keys, round trips, tampering.

use keyless_oidc::{
    DeploymentClaims, Error, KeyRing, MAX_TOKEN_LIFETIME, RETIRED_KEY_GRACE, jwks, mint,
};
use serde_json::Value;

use crate::helpers::{TestSealer, deployment, issuer, now, private_key_leaks, verify};

/// A ring with an active and a retired key.
fn rotated_ring() -> KeyRing {
    let mut ring = KeyRing::generate(now() - 60).expect("ring");
    ring.rotate(now()).expect("rotates");
    ring
}

fn token(ring: &KeyRing) -> String {
    let claims =
        DeploymentClaims::new(&issuer(), &deployment(), now(), MAX_TOKEN_LIFETIME).expect("claims");
    mint(ring, &claims).expect("mints")
}

#[test]
fn the_persisted_json_never_holds_a_private_key_in_plaintext() {
    let ring = rotated_ring();
    let sealer = TestSealer::new(0xA5);
    let json = ring.to_json(&sealer).expect("persists");

    let pems = sealer.sealed_plaintexts.borrow();
    assert_eq!(pems.len(), 2, "both private keys were sealed");
    for pem in pems.iter() {
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"), "{pem}");
        assert_eq!(private_key_leaks(&json, pem), Vec::<String>::new());
        // The check itself can fail: unsealed, the key would be found.
        assert!(!private_key_leaks(&format!("{json}{pem}"), pem).is_empty());
    }

    let stored: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(stored["active"]["kid"], ring.active().kid());
    assert!(stored["active"].get("retiredAt").is_none());
    assert!(stored["retired"][0]["retiredAt"].is_u64());
    assert!(stored["active"]["sealedPrivateKey"].is_string());
}

#[test]
fn a_reloaded_ring_has_the_same_keys_and_signs_verifiably() {
    let ring = rotated_ring();
    let sealer = TestSealer::new(0x3C);
    let json = ring.to_json(&sealer).expect("persists");
    let reloaded = KeyRing::from_json(&json, &sealer).expect("reloads");

    assert_eq!(reloaded.active().kid(), ring.active().kid());
    assert_eq!(reloaded.active().created_at(), ring.active().created_at());
    assert_eq!(jwks(&reloaded, now()), jwks(&ring, now()));
    assert_eq!(jwks(&ring, now()).keys.len(), 2);
    // Retirement times survive: both rings withdraw the old key at the same moment.
    let later = now() + MAX_TOKEN_LIFETIME.as_secs() + RETIRED_KEY_GRACE;
    assert_eq!(jwks(&reloaded, later), jwks(&ring, later));
    assert_eq!(jwks(&reloaded, later).keys.len(), 1);
    // The reloaded private key is the same key: its tokens verify against the original JWKS.
    verify(&token(&reloaded), &jwks(&ring, now())).expect("verifies");
    reloaded.to_json(&sealer).expect("persists again");
}

#[test]
fn another_sealing_key_cannot_open_the_ring() {
    let json = rotated_ring()
        .to_json(&TestSealer::new(1))
        .expect("persists");
    let err = KeyRing::from_json(&json, &TestSealer::new(2)).expect_err("wrong key");
    assert!(matches!(err, Error::Open { .. }), "{err}");
}

/// Swaps the active and retired keys' sealed private keys.
fn swap_sealed_keys(json: &str) -> String {
    let mut stored: Value = serde_json::from_str(json).expect("JSON");
    let active = stored["active"]["sealedPrivateKey"].take();
    let retired = stored["retired"][0]["sealedPrivateKey"].take();
    stored["active"]["sealedPrivateKey"] = retired;
    stored["retired"][0]["sealedPrivateKey"] = active;
    stored.to_string()
}

#[test]
fn a_sealed_key_moved_to_another_entry_is_refused() {
    // A context-bound sealer refuses to open it for another kid...
    let sealer = TestSealer::new(7);
    let json = swap_sealed_keys(&rotated_ring().to_json(&sealer).expect("persists"));
    let err = KeyRing::from_json(&json, &sealer).expect_err("swapped");
    assert!(matches!(err, Error::Open { .. }), "{err}");

    // ...and with a sealer that ignores context, the kid check catches it.
    let careless = TestSealer::ignoring_context(7);
    let json = swap_sealed_keys(&rotated_ring().to_json(&careless).expect("persists"));
    let err = KeyRing::from_json(&json, &careless).expect_err("swapped");
    assert!(matches!(err, Error::KidMismatch { .. }), "{err}");
}

#[test]
fn malformed_ring_files_are_refused() {
    let sealer = TestSealer::new(9);
    let json = rotated_ring().to_json(&sealer).expect("persists");
    let mut no_retired_at: Value = serde_json::from_str(&json).expect("JSON");
    no_retired_at["retired"][0]
        .as_object_mut()
        .expect("object")
        .remove("retiredAt");
    let mut active_retired: Value = serde_json::from_str(&json).expect("JSON");
    active_retired["active"]["retiredAt"] = Value::from(1);
    for bad in [
        String::new(),
        "{}".to_owned(),
        no_retired_at.to_string(),
        active_retired.to_string(),
    ] {
        let err = KeyRing::from_json(&bad, &sealer).expect_err("malformed");
        assert!(matches!(err, Error::KeyRingFormat(_)), "{bad}: {err}");
    }
}
