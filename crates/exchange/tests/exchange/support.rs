//! A tiny OIDC issuer (fixed test keys), token minting and assertion helpers.

use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use keyless_exchange::{Endpoints, Exchanger};
use serde_json::{Value, json};

/// RSA test keys made for these tests only; they protect nothing.
const ISSUER_KEY: &str = include_str!("keys/issuer.pem");
const IMPOSTOR_KEY: &str = include_str!("keys/impostor.pem");
/// The modulus of `ISSUER_KEY`, base64url (`openssl rsa -in keys/issuer.pem -noout -modulus`).
const ISSUER_N: &str = "kNC4qOjAfceaIke9LWgimuO5j0IHC-ETvdLDZpcdLbJeg9vqD-o2XaQcJHVEvbq0BhG4dvjUEIY24c8m8dzajZ8Lq_dxZXhKbtfpWBAtkMhnWMsoJkTy_HdUFTHi1VHUblSBo1yuhcamH6-XuQDo_klwEHi4kijfwD2dLwIZvRMe7ES0d5Oqd1HC1ROVbwKDo6pPRDXDITVq9HTuasFbxErmRItSCV-ONp8CAt1Z7oN0sM_d4oKhvTF3PWOvUDUWsP2NA6zt3JLrXKuYJbgiVTBeE7qqSJHSvsjsHH-dnqi6wzQutH80PacgjTa-kxUFvb_fC28pNouC_RajPGm50Q";
const KID: &str = "test-key-1";

pub const ORG: &str = "acme";

/// An OIDC issuer at `http://127.0.0.1:<port>/oidc` serving discovery and JWKS.
pub struct Issuer {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Issuer {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/oidc", listener.local_addr().expect("addr"));
        let discovery = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/.well-known/jwks"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        });
        let jwks = json!({"keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID, "n": ISSUER_N, "e": "AQAB",
        }]});
        let router = Router::new()
            .route(
                "/oidc/.well-known/openid-configuration",
                get(move || async move { Json(discovery) }),
            )
            .route(
                "/oidc/.well-known/jwks",
                get(move || async move { Json(jwks) }),
            );
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("issuer");
        });
        Self { url, task }
    }

    /// The claims Keyless puts in a deployment token, valid for ten minutes.
    pub fn claims(&self, stack: &str, operation: &str) -> Value {
        let now = now();
        json!({
            "iss": self.url,
            "aud": ORG,
            "sub": subject(stack, operation),
            "org": ORG, "project": "web", "stack": stack, "operation": operation,
            "deployment": 7, "scope": "write",
            "iat": now, "nbf": now, "exp": now + 600, "jti": "test-jti",
        })
    }

    /// `claims` signed with the issuer's key.
    pub fn mint(&self, claims: &Value) -> String {
        sign(claims, ISSUER_KEY)
    }

    /// `claims` signed with a key the issuer does not publish, under the issuer's `kid`.
    pub fn forge(&self, claims: &Value) -> String {
        sign(claims, IMPOSTOR_KEY)
    }

    /// A valid token for stack `prod`, operation `update`.
    pub fn token(&self) -> String {
        self.mint(&self.claims("prod", "update"))
    }
}

pub fn subject(stack: &str, operation: &str) -> String {
    format!("pulumi:deploy:org:{ORG}:project:web:stack:{stack}:operation:{operation}:scope:write")
}

fn sign(claims: &Value, pem: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(KID.into());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("test key");
    jsonwebtoken::encode(&header, claims, &key).expect("sign")
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// An exchanger whose every endpoint is `url`.
pub fn exchanger(url: &str) -> Exchanger {
    Exchanger::new(Endpoints {
        aws_sts: url.into(),
        azure_authority_host: url.into(),
        gcp_sts: url.into(),
        gcp_iam_credentials: url.into(),
    })
    .expect("client")
}

/// A loopback URL nothing listens on.
pub async fn closed_port() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    drop(listener);
    url
}

/// Fails when any of `secrets` appears in `text`.
pub fn assert_hides(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!secret.is_empty());
        assert!(!text.contains(secret), "secret leaked into: {text}");
    }
}

/// `expires_at` is `expected` give or take a minute.
pub fn assert_about(expires_at: i64, expected: i64) {
    assert!(
        (expires_at - expected).abs() <= 60,
        "expires_at {expires_at}, expected about {expected}"
    );
}
