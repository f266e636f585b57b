//! Personal access tokens, in Pulumi's shapes: `GET|POST /api/user/tokens` and
//! `DELETE /api/user/tokens/{tokenId}`, with the rules the server enforces and the console
//! checks as the user types.

use serde::{Deserialize, Serialize};

/// The longest description a token may have, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// One of the user's tokens as listed: never its value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    pub id: String,
    pub description: String,
    /// When it was made, RFC 3339 in UTC.
    pub created: String,
    /// When it last authenticated a request, in Unix seconds; 0 if never.
    pub last_used: i64,
    /// When it stops working, in Unix seconds; 0 if never.
    pub expires: i64,
}

/// `GET /api/user/tokens`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListAccessTokensResponse {
    pub tokens: Vec<AccessToken>,
}

/// `POST /api/user/tokens`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateAccessTokenRequest {
    /// Required; absent reads as empty, so that the answer names the field.
    #[serde(default)]
    pub description: String,
    /// When the token stops working, in Unix seconds; 0 (or absent) for never.
    #[serde(default)]
    pub expires: i64,
}

/// The answer to `POST /api/user/tokens`: the only time the token's value is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAccessTokenResponse {
    pub id: String,
    pub token_value: String,
}

/// A token's description: what it is for, so that it can be told apart when listed.
pub fn description(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        Err("is required".into())
    } else if text.chars().count() > MAX_DESCRIPTION_CHARS {
        Err(format!(
            "must be at most {MAX_DESCRIPTION_CHARS} characters"
        ))
    } else {
        Ok(())
    }
}

/// A token's expiry, in Unix seconds, checked at `now`: 0 for never, else a time to come.
pub fn expires(expires: i64, now: i64) -> Result<(), String> {
    if expires == 0 || expires > now {
        Ok(())
    } else {
        Err("must be in the future, or 0 for a token that never expires".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_required_and_bounded() {
        assert!(description("ci").is_ok());
        assert!(description("").is_err());
        assert!(description("  \t").is_err());
        assert!(description(&"é".repeat(MAX_DESCRIPTION_CHARS)).is_ok());
        assert!(description(&"a".repeat(MAX_DESCRIPTION_CHARS + 1)).is_err());
    }

    #[test]
    fn expiry_is_never_or_later() {
        assert!(expires(0, 1_000).is_ok());
        assert!(expires(1_001, 1_000).is_ok());
        assert!(expires(1_000, 1_000).is_err());
        assert!(expires(-5, 1_000).is_err());
    }

    #[test]
    fn wire_shapes_match_pulumi() {
        let token = AccessToken {
            id: "t1".into(),
            description: "ci".into(),
            created: "2026-12-01T09:30:00.000000Z".into(),
            last_used: 0,
            expires: 1_800_000_000,
        };
        assert_eq!(
            serde_json::to_value(&token).expect("serializes"),
            serde_json::json!({"id": "t1", "description": "ci",
                "created": "2026-12-01T09:30:00.000000Z", "lastUsed": 0, "expires": 1_800_000_000})
        );
        let created = CreateAccessTokenResponse {
            id: "t1".into(),
            token_value: "pul-x".into(),
        };
        assert_eq!(
            serde_json::to_value(&created).expect("serializes"),
            serde_json::json!({"id": "t1", "tokenValue": "pul-x"})
        );
        let request: CreateAccessTokenRequest =
            serde_json::from_str(r#"{"description":"ci"}"#).expect("parses");
        assert_eq!(request.expires, 0);
    }
}
