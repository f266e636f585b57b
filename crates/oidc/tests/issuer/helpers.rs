//! Shared fixtures: an independent verifier, a test sealer, a clock.

use std::cell::RefCell;
use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use keyless_oidc::{Deployment, Issuer, Jwks, Sealer};
use serde_json::Value;

pub const ISSUER: &str = "https://keyless.example.com/oidc";
/// `aud` of tokens for [`deployment`]: its mixed-case org, lowercased.
pub const AUDIENCE: &str = "acme-corp";

/// The real clock: the verifier checks `exp`/`nbf` against it.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

pub fn issuer() -> Issuer {
    Issuer::new(ISSUER).expect("valid issuer")
}

pub fn deployment() -> Deployment<'static> {
    Deployment {
        org: "Acme-Corp",
        project: "website",
        stack: "prod",
        stack_id: "6f1c2a8e-0d7b-4c55-9a43-0d2f3e1b7c10",
        operation: "update",
        version: 42,
    }
}

/// Verifies `token` as a relying party would: the key is built from the `n`/`e` of the JWKS
/// entry whose `kid` matches the header, and `iss`, `aud`, `exp` and `nbf` are checked with no
/// leeway. Returns the claims.
pub fn verify(token: &str, jwks: &Jwks) -> Result<Value, String> {
    verify_for(token, jwks, ISSUER, AUDIENCE)
}

pub fn verify_for(token: &str, jwks: &Jwks, iss: &str, aud: &str) -> Result<Value, String> {
    let jwks = serde_json::to_value(jwks).map_err(|err| err.to_string())?;
    let header = jsonwebtoken::decode_header(token).map_err(|err| err.to_string())?;
    let kid = header.kid.ok_or("no kid in the header")?;
    let jwk = jwks["keys"]
        .as_array()
        .ok_or("no keys array")?
        .iter()
        .find(|jwk| jwk["kid"] == kid.as_str())
        .ok_or_else(|| format!("kid {kid} is not in the JWKS"))?;
    if jwk["kty"] != "RSA" || jwk["alg"] != "RS256" || jwk["use"] != "sig" {
        return Err(format!("unexpected JWK {jwk}"));
    }
    let component = |name: &str| jwk[name].as_str().ok_or(format!("no {name}"));
    let key = DecodingKey::from_rsa_components(component("n")?, component("e")?)
        .map_err(|err| err.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.leeway = 0;
    validation.validate_nbf = true;
    validation.set_issuer(&[iss]);
    validation.set_audience(&[aud]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|err| err.to_string())
}

/// A reversible, context-bound stand-in for the server's AES-GCM cipher that records every
/// plaintext it seals.
pub struct TestSealer {
    mask: u8,
    bind_context: bool,
    pub sealed_plaintexts: RefCell<Vec<String>>,
}

impl TestSealer {
    pub fn new(mask: u8) -> Self {
        Self {
            mask,
            bind_context: true,
            sealed_plaintexts: RefCell::default(),
        }
    }

    /// A sealer that ignores the context, as a careless implementation might.
    pub fn ignoring_context(mask: u8) -> Self {
        Self {
            bind_context: false,
            ..Self::new(mask)
        }
    }

    fn masked(&self, bytes: &[u8]) -> Vec<u8> {
        bytes.iter().map(|b| b ^ self.mask).collect()
    }

    fn context<'a>(&self, context: &'a str) -> &'a str {
        if self.bind_context { context } else { "" }
    }
}

#[derive(Debug)]
pub struct SealError(&'static str);

impl fmt::Display for SealError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for SealError {}

impl Sealer for TestSealer {
    type Error = SealError;

    fn seal(&self, plaintext: &str, context: &str) -> Result<String, SealError> {
        self.sealed_plaintexts
            .borrow_mut()
            .push(plaintext.to_owned());
        let body = format!("{}\n{plaintext}", self.context(context));
        Ok(STANDARD.encode(self.masked(body.as_bytes())))
    }

    fn open(&self, sealed: &str, context: &str) -> Result<String, SealError> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| SealError("not base64"))?;
        let body = String::from_utf8(self.masked(&bytes)).map_err(|_| SealError("wrong key"))?;
        let (sealed_for, plaintext) = body.split_once('\n').ok_or(SealError("wrong key"))?;
        if sealed_for != self.context(context) {
            return Err(SealError("sealed for another context"));
        }
        Ok(plaintext.to_owned())
    }
}

/// Every way the private key in `pem` could show up in `text`: the PEM itself or any of its
/// lines, the DER in base64 (standard or url-safe) or hex. Returns what was found.
pub fn private_key_leaks(text: &str, pem: &str) -> Vec<String> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(&body).expect("PEM body is base64");
    let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
    let mut needles = vec![
        "PRIVATE KEY".to_owned(),
        body.clone(),
        URL_SAFE_NO_PAD.encode(&der),
        hex,
    ];
    needles.extend(
        pem.lines()
            .filter(|line| !line.starts_with("-----") && line.len() >= 32)
            .map(str::to_owned),
    );
    needles
        .into_iter()
        .filter(|needle| text.contains(needle.as_str()))
        .collect()
}
