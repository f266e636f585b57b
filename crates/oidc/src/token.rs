//! Compact JWS tokens: minting, and decoding for logs (without verifying or showing signatures).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;

use crate::{DeploymentClaims, Error, KeyRing};

#[derive(Serialize)]
struct Header<'a> {
    alg: &'static str,
    typ: &'static str,
    kid: &'a str,
}

/// Signs `claims` with the ring's active key: `base64url(header).base64url(claims).signature`
/// with header `{"alg":"RS256","typ":"JWT","kid":…}`.
pub fn mint(ring: &KeyRing, claims: &DeploymentClaims) -> Result<String, Error> {
    let key = ring.active();
    let header = Header {
        alg: "RS256",
        typ: "JWT",
        kid: key.kid(),
    };
    let mut token = encode_json(&header)?;
    token.push('.');
    token.push_str(&encode_json(claims)?);
    let signature = key.sign_rs256(token.as_bytes())?;
    token.push('.');
    token.push_str(&URL_SAFE_NO_PAD.encode(signature));
    Ok(token)
}

fn encode_json<T: Serialize>(value: &T) -> Result<String, Error> {
    let json = serde_json::to_vec(value).map_err(Error::Encode)?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// The header and claims of a compact JWS, **without verifying it**: for display only, never
/// for a trust decision. The signature is not returned.
pub fn decode_unverified(token: &str) -> Result<(Value, Value), Error> {
    let mut parts = token.split('.');
    let (Some(header), Some(claims), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::MalformedToken("expected three dot-separated parts"));
    };
    Ok((decode_part(header)?, decode_part(claims)?))
}

fn decode_part(part: &str) -> Result<Value, Error> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Error::MalformedToken("a part is not base64url"))?;
    match serde_json::from_slice(&bytes) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(Error::MalformedToken("a part is not a JSON object")),
    }
}

/// The header and claims of `token` as indented JSON for a deployment's log, signature left out
/// (the signed token itself is a credential until it expires).
pub fn render_for_log(token: &str) -> Result<String, Error> {
    let (header, claims) = decode_unverified(token)?;
    let pretty = |value: &Value| serde_json::to_string_pretty(value).map_err(Error::Encode);
    Ok(format!(
        "OIDC token header: {}\nOIDC token claims: {}",
        pretty(&header)?,
        pretty(&claims)?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_tokens_are_rejected() {
        let obj = URL_SAFE_NO_PAD.encode(b"{}");
        let array = URL_SAFE_NO_PAD.encode(b"[1]");
        for bad in [
            String::new(),
            format!("{obj}.{obj}"),
            format!("{obj}.{obj}.sig.extra"),
            format!("{obj}.not base64!.sig"),
            format!("{obj}.{array}.sig"),
            format!("{}.{obj}.sig", URL_SAFE_NO_PAD.encode(b"not json")),
        ] {
            assert!(
                matches!(decode_unverified(&bad), Err(Error::MalformedToken(_))),
                "{bad:?}"
            );
        }
        assert!(decode_unverified(&format!("{obj}.{obj}.")).is_ok());
    }
}
