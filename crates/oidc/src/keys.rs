//! One RS256 signing key: RSA 2048, named by its RFC 7638 thumbprint.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::PrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;
use serde::Serialize;

use crate::Error;
use crate::ring::Sealer;

/// The modulus size of generated keys.
const KEY_BITS: usize = 2048;

/// An RSA private key that signs tokens, with its `kid` and creation time.
///
/// `Debug` shows only the `kid` and creation time; the private key never leaves this type except
/// sealed (see [`KeyRing::to_json`](crate::KeyRing::to_json)).
pub struct SigningKey {
    kid: String,
    created_at: u64,
    private: PrivateKey,
}

/// The public half of a [`SigningKey`] as a JSON Web Key (RFC 7517), as listed in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    /// Always `"RSA"`.
    pub kty: &'static str,
    /// Always `"sig"`.
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// Always `"RS256"`.
    pub alg: &'static str,
    /// The key id, as in the `kid` header of the tokens it signs.
    pub kid: String,
    /// The modulus, big-endian, base64url without padding.
    pub n: String,
    /// The public exponent, big-endian, base64url without padding.
    pub e: String,
}

impl SigningKey {
    /// Generates a new 2048-bit key from the operating system's random source.
    pub fn generate(created_at: u64) -> Result<Self, Error> {
        let private = PrivateKey::new(&mut getrandom::SysRng, KEY_BITS)
            .map_err(|err| Error::Key(err.to_string()))?;
        Ok(Self::from_private(private, created_at))
    }

    fn from_private(private: PrivateKey, created_at: u64) -> Self {
        let (n, e) = public_components(&private);
        Self {
            kid: thumbprint(&n, &e),
            created_at,
            private,
        }
    }

    /// The key id: the RFC 7638 SHA-256 thumbprint of the public key, base64url.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// When the key was generated, in Unix seconds.
    pub fn created_at(&self) -> u64 {
        self.created_at
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> Jwk {
        let (n, e) = public_components(&self.private);
        Jwk {
            kty: "RSA",
            use_: "sig",
            alg: "RS256",
            kid: self.kid.clone(),
            n,
            e,
        }
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message` (JWS `RS256`), blinded.
    pub(crate) fn sign_rs256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.private
            .pkcs1v15_sign::<Sha256>(message)
            .map_err(|err| Error::Key(err.to_string()))
    }

    /// The private key as PKCS#8 PEM, sealed by `sealer` for the context [`seal_context`].
    pub(crate) fn seal<S: Sealer>(&self, sealer: &S) -> Result<String, Error> {
        let pem = self
            .private
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|err| Error::Key(err.to_string()))?;
        sealer
            .seal(&pem, &seal_context(&self.kid))
            .map_err(|err| Error::Seal {
                kid: self.kid.clone(),
                source: Box::new(err),
            })
    }

    /// Opens a key that [`SigningKey::seal`] sealed, checking that it still matches `kid`.
    pub(crate) fn open<S: Sealer>(
        kid: &str,
        created_at: u64,
        sealed: &str,
        sealer: &S,
    ) -> Result<Self, Error> {
        let open_error = |source: Box<dyn std::error::Error + Send + Sync>| Error::Open {
            kid: kid.to_owned(),
            source,
        };
        let pem = sealer
            .open(sealed, &seal_context(kid))
            .map_err(|err| open_error(Box::new(err)))?;
        let private =
            PrivateKey::from_pkcs8_pem(&pem).map_err(|err| open_error(err.to_string().into()))?;
        let key = Self::from_private(private, created_at);
        if key.kid != kid {
            return Err(Error::KidMismatch {
                stored: kid.to_owned(),
                actual: key.kid,
            });
        }
        Ok(key)
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

/// The sealing context of a key: binds the ciphertext to this key id and to this use, so that a
/// value the server sealed for anything else cannot be swapped in.
fn seal_context(kid: &str) -> String {
    format!("keyless-oidc-signing-key:{kid}")
}

/// `(n, e)` as base64url without padding.
fn public_components(private: &PrivateKey) -> (String, String) {
    (
        URL_SAFE_NO_PAD.encode(private.n_bytes()),
        URL_SAFE_NO_PAD.encode(private.e_bytes()),
    )
}

/// RFC 7638 JWK thumbprint of an RSA key: SHA-256 over the required members in lexicographic
/// order without whitespace. Base64url values need no JSON escaping.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_the_rfc_7638_example() {
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_\
                 BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_\
                 FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4\
                 vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        assert_eq!(
            thumbprint(n, "AQAB"),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn generated_keys_are_2048_bit_with_exponent_65537_and_named_by_thumbprint() {
        let key = SigningKey::generate(7).expect("generates");
        let jwk = key.jwk();
        let n = URL_SAFE_NO_PAD.decode(&jwk.n).expect("base64url n");
        assert_eq!(n.len() * 8, KEY_BITS);
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(key.kid(), thumbprint(&jwk.n, &jwk.e));
        assert_eq!(jwk.kid, key.kid());
        assert_eq!(key.created_at(), 7);
        assert_ne!(SigningKey::generate(7).expect("generates").kid(), key.kid());
    }

    #[test]
    fn debug_shows_no_key_material() {
        let key = SigningKey::generate(0).expect("generates");
        let shown = format!("{key:?}");
        assert!(shown.contains(key.kid()));
        assert!(!shown.contains(&key.jwk().n), "{shown}");
    }
}
