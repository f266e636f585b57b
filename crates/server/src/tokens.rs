//! Access tokens: `pul-` and 40 hex digits, kept only as SHA-256 hashes.

use sha2::{Digest, Sha256};

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
}
