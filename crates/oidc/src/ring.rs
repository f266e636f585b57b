//! The issuer's keys over time: one active key that signs, and retired keys that stay published
//! until every token they signed has expired.

use serde::{Deserialize, Serialize};

use crate::keys::SigningKey;
use crate::{Error, MAX_TOKEN_LIFETIME};

/// How long past [`MAX_TOKEN_LIFETIME`] a retired key stays in the JWKS, in seconds: relying
/// parties accept tokens a little past `exp` to allow for clock skew (commonly up to 5 minutes).
pub const RETIRED_KEY_GRACE: u64 = 300;

/// Encrypts private keys at rest with the server's own key.
///
/// `context` names what is sealed (it includes the key id); an implementation should bind the
/// ciphertext to it (as AEAD associated data) so one sealed value cannot stand in for another.
/// The server's AES-GCM `Cipher` (`seal(&str, &str)` / `open(&str, &str)`) fits as is.
pub trait Sealer {
    /// Why sealing or opening failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Encrypts `plaintext` for `context`.
    fn seal(&self, plaintext: &str, context: &str) -> Result<String, Self::Error>;

    /// Decrypts what [`Sealer::seal`] made for the same `context`.
    fn open(&self, sealed: &str, context: &str) -> Result<String, Self::Error>;
}

/// The issuer's signing keys: exactly one active key and the retired keys still published.
#[derive(Debug)]
pub struct KeyRing {
    active: SigningKey,
    /// Oldest first.
    retired: Vec<Retired>,
}

#[derive(Debug)]
struct Retired {
    key: SigningKey,
    retired_at: u64,
}

impl Retired {
    /// Whether tokens this key signed may still be accepted somewhere at `now`.
    fn published_at(&self, now: u64) -> bool {
        let lifetime = MAX_TOKEN_LIFETIME.as_secs() + RETIRED_KEY_GRACE;
        now < self.retired_at.saturating_add(lifetime)
    }
}

impl KeyRing {
    /// A ring with one freshly generated active key.
    pub fn generate(now: u64) -> Result<Self, Error> {
        Ok(Self {
            active: SigningKey::generate(now)?,
            retired: Vec::new(),
        })
    }

    /// The key that signs new tokens.
    pub fn active(&self) -> &SigningKey {
        &self.active
    }

    /// Generates a new active key and retires the previous one at `now`; returns the new key.
    ///
    /// The retired key stays in the JWKS until `now + MAX_TOKEN_LIFETIME + RETIRED_KEY_GRACE`.
    pub fn rotate(&mut self, now: u64) -> Result<&SigningKey, Error> {
        let previous = std::mem::replace(&mut self.active, SigningKey::generate(now)?);
        self.retired.push(Retired {
            key: previous,
            retired_at: now,
        });
        Ok(&self.active)
    }

    /// The keys to publish at `now`: the active key first, then the retired keys whose tokens may
    /// still be unexpired.
    pub fn published(&self, now: u64) -> impl Iterator<Item = &SigningKey> {
        let retired = self.retired.iter().rev();
        std::iter::once(&self.active).chain(
            retired
                .filter(move |retired| retired.published_at(now))
                .map(|retired| &retired.key),
        )
    }

    /// Drops the retired keys no longer published at `now`; returns how many were dropped.
    pub fn prune(&mut self, now: u64) -> usize {
        let before = self.retired.len();
        self.retired.retain(|retired| retired.published_at(now));
        before - self.retired.len()
    }

    /// The ring as JSON for the caller to store, every private key sealed by `sealer`.
    pub fn to_json<S: Sealer>(&self, sealer: &S) -> Result<String, Error> {
        let stored = |key: &SigningKey, retired_at| -> Result<StoredKey, Error> {
            Ok(StoredKey {
                kid: key.kid().to_owned(),
                created_at: key.created_at(),
                retired_at,
                sealed_private_key: key.seal(sealer)?,
            })
        };
        let file = StoredRing {
            active: stored(&self.active, None)?,
            retired: self
                .retired
                .iter()
                .map(|retired| stored(&retired.key, Some(retired.retired_at)))
                .collect::<Result<_, _>>()?,
        };
        serde_json::to_string_pretty(&file).map_err(Error::Encode)
    }

    /// Reads what [`KeyRing::to_json`] wrote, opening each private key with `sealer`.
    pub fn from_json<S: Sealer>(json: &str, sealer: &S) -> Result<Self, Error> {
        let file: StoredRing = serde_json::from_str(json).map_err(Error::KeyRingFormat)?;
        let open = |stored: &StoredKey| {
            SigningKey::open(
                &stored.kid,
                stored.created_at,
                &stored.sealed_private_key,
                sealer,
            )
        };
        if file.active.retired_at.is_some() {
            return Err(format_error("the active key has a retiredAt"));
        }
        let mut retired = Vec::with_capacity(file.retired.len());
        for stored in &file.retired {
            let retired_at = stored
                .retired_at
                .ok_or_else(|| format_error("a retired key has no retiredAt"))?;
            retired.push(Retired {
                key: open(stored)?,
                retired_at,
            });
        }
        Ok(Self {
            active: open(&file.active)?,
            retired,
        })
    }
}

fn format_error(message: &str) -> Error {
    Error::KeyRingFormat(serde::de::Error::custom(message))
}

/// The persisted form of a [`KeyRing`].
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredRing {
    active: StoredKey,
    retired: Vec<StoredKey>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct StoredKey {
    kid: String,
    created_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<u64>,
    sealed_private_key: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETENTION: u64 = MAX_TOKEN_LIFETIME.as_secs() + RETIRED_KEY_GRACE;

    fn kids(ring: &KeyRing, now: u64) -> Vec<String> {
        ring.published(now)
            .map(|key| key.kid().to_owned())
            .collect()
    }

    #[test]
    fn rotation_publishes_the_new_key_first_and_keeps_the_old_one_for_the_retention() {
        let mut ring = KeyRing::generate(1_000).expect("ring");
        let first = ring.active().kid().to_owned();
        let second = ring.rotate(2_000).expect("rotates").kid().to_owned();
        assert_ne!(first, second);
        assert_eq!(ring.active().kid(), second);
        assert_eq!(ring.active().created_at(), 2_000);
        assert_eq!(kids(&ring, 2_000), [second.clone(), first.clone()]);
        assert_eq!(kids(&ring, 2_000 + RETENTION - 1), [second.clone(), first]);
        assert_eq!(kids(&ring, 2_000 + RETENTION), [second]);
    }

    #[test]
    fn prune_drops_only_keys_past_their_retention() {
        let mut ring = KeyRing::generate(0).expect("ring");
        ring.rotate(100).expect("rotates");
        ring.rotate(200).expect("rotates");
        assert_eq!(ring.prune(100 + RETENTION - 1), 0);
        assert_eq!(ring.retired.len(), 2);
        assert_eq!(ring.prune(100 + RETENTION), 1);
        assert_eq!(ring.retired.len(), 1);
        assert_eq!(ring.retired[0].retired_at, 200);
        assert_eq!(ring.prune(u64::MAX), 1);
        assert!(ring.retired.is_empty());
        assert_eq!(ring.published(u64::MAX).count(), 1, "the active key stays");
    }
}
