//! Reading a JWT's claims without verifying it: only to explain failures and bound expiry,
//! never to decide trust.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

/// The claims an explanation needs. Holds nothing secret: a token's claims are not a credential.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub(crate) struct TokenClaims {
    #[serde(default)]
    pub iss: String,
    #[serde(default)]
    pub sub: String,
    #[serde(default, deserialize_with = "one_or_many")]
    pub aud: Vec<String>,
    #[serde(default)]
    pub exp: Option<i64>,
}

impl TokenClaims {
    /// The payload of a compact JWS, decoded but not verified; `None` when it is not a JWT.
    pub fn peek(token: &str) -> Option<Self> {
        let mut parts = token.trim().split('.');
        let (_header, payload) = (parts.next()?, parts.next()?);
        parts.next()?;
        let json = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
        serde_json::from_slice(&json).ok()
    }

    /// The audiences joined for display.
    pub fn audience(&self) -> String {
        self.aud.join(", ")
    }

    /// `iss` without its scheme: how AWS names an OIDC provider and prefixes condition keys.
    pub fn issuer_host_path(&self) -> &str {
        let iss = self.iss.trim_end_matches('/');
        iss.strip_prefix("https://")
            .or_else(|| iss.strip_prefix("http://"))
            .unwrap_or(iss)
    }
}

/// Deserializes a JWT `aud`: one string or an array of strings.
pub(crate) fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(one) => vec![one],
        OneOrMany::Many(many) => many,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!("e30.{}.sig", URL_SAFE_NO_PAD.encode(payload))
    }

    #[test]
    fn peeks_string_or_array_audiences() {
        let one = TokenClaims::peek(&jwt(r#"{"iss":"https://x/oidc","aud":"acme","exp":5}"#));
        let one = one.expect("claims");
        assert_eq!(one.aud, ["acme"]);
        assert_eq!(one.exp, Some(5));
        assert_eq!(one.issuer_host_path(), "x/oidc");
        let many = TokenClaims::peek(&jwt(r#"{"aud":["a","b"]}"#)).expect("claims");
        assert_eq!(many.audience(), "a, b");
    }

    #[test]
    fn rejects_what_is_not_a_jwt() {
        assert_eq!(TokenClaims::peek("not-a-jwt"), None);
        assert_eq!(TokenClaims::peek("a.b.c.d"), None);
        assert_eq!(TokenClaims::peek("e30.!!!.sig"), None);
    }
}
