//! `X-Hub-Signature-256`: `sha256=<hex>` of the HMAC-SHA256 of the raw body under the
//! webhook secret, compared in constant time; and the body's digest, by which a signed body
//! is handled once whatever delivery id (which the signature does not cover) comes with it.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Why a delivery's signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not sha256=<64 hex digits>")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body and the webhook secret")]
    Mismatch,
}

/// Checks `header` (the `X-Hub-Signature-256` value, if sent) against `body`.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&str>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let digest = header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|hex_digits| hex::decode(hex_digits).ok())
        .filter(|d| d.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    // HMAC takes keys of any length, so this never fails.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&digest)
        .map_err(|_| SignatureError::Mismatch)
}

/// The SHA-256 of a body, hex.
pub fn digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GitHub's documented example ("Validating webhook deliveries").
    #[test]
    fn matches_githubs_documented_example() {
        let header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(
            verify(
                b"It's a Secret to Everybody",
                b"Hello, World!",
                Some(header)
            ),
            Ok(())
        );
    }

    #[test]
    fn refuses_missing_malformed_and_wrong_signatures() {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(b"secret").expect("any key");
        mac.update(b"{}");
        let good = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
        assert_eq!(verify(b"secret", b"{}", Some(&good)), Ok(()));
        assert_eq!(verify(b"secret", b"{}", None), Err(SignatureError::Missing));
        for bad in ["", "sha1=abc", "sha256=zz", "sha256=abcd"] {
            assert_eq!(
                verify(b"secret", b"{}", Some(bad)),
                Err(SignatureError::Malformed),
                "{bad}"
            );
        }
        assert_eq!(
            verify(b"other", b"{}", Some(&good)),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", b"{ }", Some(&good)),
            Err(SignatureError::Mismatch)
        );
    }
}
