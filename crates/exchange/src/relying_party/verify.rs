//! Token verification as a cloud does it: keys from the issuer's discovery document.

use std::time::Duration;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use serde::Deserialize;

use crate::credentials::now;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY: i64 = 60;

/// The verified claims a relying party decides on.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Claims {
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default, deserialize_with = "crate::token::one_or_many")]
    pub aud: Vec<String>,
    pub exp: i64,
    #[serde(default)]
    pub nbf: Option<i64>,
    /// Every other claim (`org`, `project`, `stack`, …), for conditions that name them.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}

impl Claims {
    /// The whole payload as the trust evaluators read it; `None` when it lacks what they need.
    pub fn to_trust(&self) -> Option<keyless_trust::Claims> {
        let mut payload = self.rest.clone();
        payload.insert("iss".into(), self.iss.clone().into());
        payload.insert("sub".into(), self.sub.clone().into());
        payload.insert("aud".into(), self.aud.clone().into());
        payload.insert("exp".into(), self.exp.into());
        if let Some(nbf) = self.nbf {
            payload.insert("nbf".into(), nbf.into());
        }
        keyless_trust::Claims::from_json(payload.into()).ok()
    }
}

/// Why a token was not accepted.
#[derive(Debug)]
pub(crate) enum Problem {
    /// Not a signed JWT with `iss` and `exp`.
    Malformed,
    /// The issuer's discovery document or JWKS could not be fetched or read.
    KeysUnavailable,
    /// The signature does not verify with any of the issuer's keys.
    BadSignature,
    /// `exp` is in the past.
    Expired { exp: i64, now: i64 },
    /// `nbf` is in the future.
    NotYetValid,
}

/// Fetches discovery documents and JWKS.
#[derive(Clone, Debug)]
pub(crate) struct Verifier {
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
}

impl Verifier {
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// The issuer a token names, before anything is verified.
    pub fn issuer(token: &str) -> Option<String> {
        crate::token::TokenClaims::peek(token)
            .map(|c| c.iss)
            .filter(|iss| !iss.is_empty())
    }

    /// Verifies `token`'s signature with its issuer's published keys, then its times.
    pub async fn verify(&self, token: &str) -> Result<Claims, Problem> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| Problem::Malformed)?;
        if !matches!(
            header.alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::ES256
                | Algorithm::ES384
                | Algorithm::PS256
        ) {
            return Err(Problem::Malformed);
        }
        let issuer = Self::issuer(token).ok_or(Problem::Malformed)?;
        let keys = self.keys(&issuer).await?;
        let candidates: Vec<_> = match &header.kid {
            Some(kid) => keys
                .keys
                .iter()
                .filter(|k| k.common.key_id.as_ref() == Some(kid))
                .collect(),
            None => keys.keys.iter().collect(),
        };
        let mut validation = Validation::new(header.alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        for jwk in candidates {
            let Ok(key) = DecodingKey::from_jwk(jwk) else {
                continue;
            };
            match jsonwebtoken::decode::<Claims>(token, &key, &validation) {
                Ok(data) => return check_times(data.claims),
                Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => {}
                Err(_) => return Err(Problem::Malformed),
            }
        }
        Err(Problem::BadSignature)
    }

    async fn keys(&self, issuer: &str) -> Result<JwkSet, Problem> {
        let discovery_url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&discovery_url).await?;
        if discovery.issuer.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(Problem::KeysUnavailable);
        }
        self.get_json(&discovery.jwks_uri).await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, Problem> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|_| Problem::KeysUnavailable)?;
        if !response.status().is_success() {
            return Err(Problem::KeysUnavailable);
        }
        response.json().await.map_err(|_| Problem::KeysUnavailable)
    }
}

fn check_times(claims: Claims) -> Result<Claims, Problem> {
    let now = now();
    if claims.exp + LEEWAY < now {
        return Err(Problem::Expired {
            exp: claims.exp,
            now,
        });
    }
    if claims.nbf.is_some_and(|nbf| nbf - LEEWAY > now) {
        return Err(Problem::NotYetValid);
    }
    Ok(claims)
}
