//! Access tokens: `pul-` and 40 hex digits, kept only as SHA-256 hashes, each with an
//! optional expiry and the time it was last used.

use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

/// How stale a token's `lastUsed` may get, in seconds. Recording every use would make every
/// request a write to SQLite's single writer, beside deployments' log lines; "last used" is
/// read by people, to whom a minute's precision is plenty.
pub const LAST_USED_GRANULARITY: i64 = 60;

/// A fresh random access token.
pub fn generate() -> String {
    let bytes: [u8; 20] = rand::random();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("pul-{hex}")
}

/// The SHA-256 of a token, in lowercase hex: what the store keeps and looks up.
pub fn hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// The current time in Unix seconds, the unit of `expires` and `lastUsed`.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Whether a token that expires at `expires` (`None`: never) still works at `now`.
pub fn is_live(expires: Option<i64>, now: i64) -> bool {
    expires.is_none_or(|expires| now < expires)
}

/// Whether a use at `now` should be recorded over `last_used`.
pub fn use_is_news(last_used: Option<i64>, now: i64) -> bool {
    last_used.is_none_or(|last| now - last >= LAST_USED_GRANULARITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_look_like_pulumi_tokens_and_hash_to_hex() {
        let token = generate();
        assert_eq!(token.len(), 44);
        assert!(token.starts_with("pul-"));
        assert_ne!(generate(), token);
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_token_dies_at_its_expiry() {
        assert!(is_live(None, 1_000));
        assert!(is_live(Some(1_001), 1_000));
        assert!(!is_live(Some(1_000), 1_000));
    }

    #[test]
    fn uses_are_recorded_at_most_once_a_minute() {
        assert!(use_is_news(None, 1_000));
        assert!(!use_is_news(Some(1_000), 1_059));
        assert!(use_is_news(Some(1_000), 1_060));
    }
}
