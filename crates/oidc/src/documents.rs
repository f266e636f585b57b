//! The two documents relying parties fetch: OpenID discovery and the JSON Web Key Set.

use serde::Serialize;

use crate::{Issuer, Jwk, KeyRing};

/// The claims a deployment token carries, as listed in the discovery document.
const CLAIMS: &[&str] = &[
    "iss",
    "aud",
    "sub",
    "iat",
    "nbf",
    "exp",
    "jti",
    "org",
    "project",
    "stack",
    "stackId",
    "operation",
    "deployment",
    "scope",
];

/// The OpenID Provider metadata served at `{issuer}/.well-known/openid-configuration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    pub response_types_supported: &'static [&'static str],
    pub subject_types_supported: &'static [&'static str],
    pub id_token_signing_alg_values_supported: &'static [&'static str],
    pub claims_supported: &'static [&'static str],
    pub scopes_supported: &'static [&'static str],
}

/// The discovery document for `issuer`; its `jwks_uri` is `{issuer}/.well-known/jwks`.
pub fn discovery_document(issuer: &Issuer) -> Discovery {
    Discovery {
        issuer: issuer.as_str().to_owned(),
        jwks_uri: issuer.jwks_uri(),
        response_types_supported: &["id_token"],
        subject_types_supported: &["public"],
        id_token_signing_alg_values_supported: &["RS256"],
        claims_supported: CLAIMS,
        scopes_supported: &["openid"],
    }
}

/// A JSON Web Key Set: `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// The key set served at `{issuer}/.well-known/jwks` at `now`: the active key and the retired
/// keys whose tokens may still be unexpired (see [`KeyRing::published`]).
pub fn jwks(ring: &KeyRing, now: u64) -> Jwks {
    Jwks {
        keys: ring.published(now).map(|key| key.jwk()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn discovery_points_at_the_issuer_jwks() {
        let issuer = Issuer::new("https://keyless.example.com/oidc").expect("issuer");
        let doc = serde_json::to_value(discovery_document(&issuer)).expect("json");
        assert_eq!(
            doc,
            json!({
                "issuer": "https://keyless.example.com/oidc",
                "jwks_uri": "https://keyless.example.com/oidc/.well-known/jwks",
                "response_types_supported": ["id_token"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "claims_supported": CLAIMS,
                "scopes_supported": ["openid"],
            })
        );
    }
}
