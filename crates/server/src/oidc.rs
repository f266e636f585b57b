//! The server's OIDC issuer: the signing key ring, kept in the store (private keys sealed by the
//! server's [`Cipher`]) so that every server sharing the store signs with the same active key
//! and publishes the same JWKS; its discovery document and JWKS (served by `http::issuer`); and
//! one token per deployment.
//!
//! `keyless-server rotate-oidc-key` writes a new version of the ring; each server checks the
//! stored version before answering or minting and reloads the ring when it changed, so the new
//! key signs everywhere at once and the old one stays published until its tokens expire.
//! Servers that kept the ring in `<data-dir>/oidc-keys.json` import that file at start.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyless_oidc::{
    Deployment, DeploymentClaims, Discovery, Issuer, Jwks, KeyRing, MAX_TOKEN_LIFETIME, Sealer,
};

use crate::BoxError;
use crate::crypto::{Cipher, CryptoError};
use crate::store::{StackRecord, Store, StoreError};

/// Where servers before the ring moved into the store kept it, in the data directory.
pub const KEY_FILE: &str = "oidc-keys.json";

impl Sealer for Cipher {
    type Error = CryptoError;

    fn seal(&self, plaintext: &str, context: &str) -> Result<String, CryptoError> {
        Cipher::seal(self, plaintext, context)
    }

    fn open(&self, sealed: &str, context: &str) -> Result<String, CryptoError> {
        Cipher::open(self, sealed, context)
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The issuer of deployment tokens.
pub struct OidcIssuer {
    issuer: Issuer,
    lifetime: Duration,
    store: Arc<dyn Store>,
    cipher: Arc<Cipher>,
    /// The ring as last read, and its stored version.
    ring: RwLock<(Arc<KeyRing>, i64)>,
}

impl OidcIssuer {
    /// Loads the key ring from the store; on first start imports it from `data_dir`'s key file
    /// when there is one, else generates it. `lifetime` is how long each deployment token is
    /// valid (at most [`MAX_TOKEN_LIFETIME`]).
    pub async fn load_or_create(
        store: Arc<dyn Store>,
        data_dir: &Path,
        issuer: &str,
        lifetime: Duration,
        cipher: Arc<Cipher>,
    ) -> Result<Self, BoxError> {
        let issuer = Issuer::new(issuer)?;
        if lifetime.is_zero() || lifetime > MAX_TOKEN_LIFETIME {
            return Err(format!(
                "--oidc-token-lifetime must be between 1s and {}",
                keyless_api_types::duration::format(MAX_TOKEN_LIFETIME.as_secs())
            )
            .into());
        }
        if store.key_ring_version().await?.is_none() {
            let file = data_dir.join(KEY_FILE);
            let json = if file.exists() {
                let json = std::fs::read_to_string(&file)?;
                // Opened before it is stored, so that a file sealed by another key stops here.
                open(&json, &cipher)?;
                tracing::info!(file = %file.display(), "imported the OIDC key ring into the store; the file is no longer read");
                json
            } else {
                KeyRing::generate(unix_now())?.to_json(cipher.as_ref())?
            };
            match store.save_key_ring(&json, None).await {
                // Another server stored one first: use theirs.
                Ok(_) | Err(StoreError::Conflict) => {}
                Err(err) => return Err(err.into()),
            }
        }
        let loaded = read(store.as_ref(), &cipher).await?;
        Ok(Self {
            issuer,
            lifetime,
            store,
            cipher,
            ring: RwLock::new(loaded),
        })
    }

    /// The issuer URL.
    pub fn issuer(&self) -> &Issuer {
        &self.issuer
    }

    /// The path the issuer URL has on this server ("" for an issuer at the root).
    pub fn path(&self) -> String {
        let rest = self
            .issuer
            .as_str()
            .split_once("://")
            .map_or("", |(_, r)| r);
        rest.find('/')
            .map_or(String::new(), |i| rest[i..].to_owned())
    }

    /// The discovery document.
    pub fn discovery(&self) -> Discovery {
        keyless_oidc::discovery_document(&self.issuer)
    }

    /// The keys to publish now.
    pub async fn jwks(&self) -> Result<Jwks, BoxError> {
        let ring = self.current().await?;
        Ok(keyless_oidc::jwks(&ring, unix_now()))
    }

    /// A token for `operation` version `version` (0 for a test) of `stack`, signed by the
    /// active key, and its claims.
    pub async fn mint(
        &self,
        stack: &StackRecord,
        operation: &str,
        version: u64,
    ) -> Result<(String, DeploymentClaims), BoxError> {
        let deployment = Deployment {
            org: &stack.stack.org,
            project: &stack.stack.project,
            stack: &stack.stack.stack,
            stack_id: stack.id.as_str(),
            operation,
            version,
        };
        let claims = DeploymentClaims::new(&self.issuer, &deployment, unix_now(), self.lifetime)?;
        let ring = self.current().await?;
        let token = keyless_oidc::mint(&ring, &claims)?;
        Ok((token, claims))
    }

    /// The current ring: the one last read while the store's version is the same, else read
    /// again.
    async fn current(&self) -> Result<Arc<KeyRing>, BoxError> {
        let stored = self.store.key_ring_version().await?;
        {
            let held = self
                .ring
                .read()
                .map_err(|_| "the key ring lock is poisoned")?;
            if Some(held.1) == stored {
                return Ok(held.0.clone());
            }
        }
        let loaded = read(self.store.as_ref(), &self.cipher).await?;
        tracing::info!(version = loaded.1, "reloaded the OIDC key ring");
        let ring = loaded.0.clone();
        *self
            .ring
            .write()
            .map_err(|_| "the key ring lock is poisoned")? = loaded;
        Ok(ring)
    }
}

const NO_RING: &str = "the store holds no OIDC key ring; start the server once to create it";

async fn read(store: &dyn Store, cipher: &Cipher) -> Result<(Arc<KeyRing>, i64), BoxError> {
    let stored = store.key_ring().await?.ok_or(NO_RING)?;
    let ring = open(&stored.ring, cipher)?;
    Ok((Arc::new(ring), stored.version))
}

fn open(json: &str, cipher: &Cipher) -> Result<KeyRing, BoxError> {
    KeyRing::from_json(json, cipher).map_err(|err| {
        format!(
            "the OIDC signing keys do not open with this server's secret key ({err}); every \
             server sharing a store must be given the same key (--secret-key-file)"
        )
        .into()
    })
}

/// Adds a new signing key to the ring in `store` and drops retired keys whose tokens have all
/// expired; returns the new key's id. Every server signs with it from its next token on.
pub async fn rotate(store: &dyn Store, cipher: &Cipher) -> Result<String, BoxError> {
    loop {
        let stored = store.key_ring().await?.ok_or(NO_RING)?;
        let mut ring = open(&stored.ring, cipher)?;
        let now = unix_now();
        let kid = ring.rotate(now)?.kid().to_owned();
        ring.prune(now);
        match store
            .save_key_ring(&ring.to_json(cipher)?, Some(stored.version))
            .await
        {
            Ok(_) => return Ok(kid),
            // Rotated meanwhile by someone else: rotate what they stored.
            Err(StoreError::Conflict) => continue,
            Err(err) => return Err(err.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SqliteStore;

    async fn store(dir: &Path) -> Arc<dyn Store> {
        let url = format!("sqlite://{}", dir.join("keyless.db").display());
        let store = SqliteStore::connect(&url).await.expect("opens");
        store.migrate().await.expect("migrates");
        Arc::new(store)
    }

    async fn issuer(store: &Arc<dyn Store>, dir: &Path, url: &str) -> OidcIssuer {
        let cipher = Arc::new(Cipher::load_or_create(dir).expect("key"));
        OidcIssuer::load_or_create(store.clone(), dir, url, Duration::from_secs(600), cipher)
            .await
            .expect("issuer")
    }

    #[tokio::test]
    async fn the_ring_persists_sealed_and_rotation_is_picked_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store(dir.path()).await;
        let first = issuer(&store, dir.path(), "http://127.0.0.1:1/oidc").await;
        let kid = first.jwks().await.expect("keys").keys[0].kid.clone();
        let stored = store.key_ring().await.expect("reads").expect("stored").ring;
        assert!(
            stored.contains(&kid) && !stored.contains("PRIVATE KEY"),
            "{stored}"
        );
        // A restart keeps the key.
        let again = issuer(&store, dir.path(), "http://127.0.0.1:1/oidc").await;
        assert_eq!(again.jwks().await.expect("keys").keys[0].kid, kid);

        let cipher = Cipher::load_or_create(dir.path()).expect("key");
        let new_kid = rotate(store.as_ref(), &cipher).await.expect("rotates");
        let keys: Vec<String> = first
            .jwks()
            .await
            .expect("keys")
            .keys
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(keys, [new_kid, kid]);
    }

    #[tokio::test]
    async fn a_key_file_of_an_earlier_server_is_imported_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cipher = Cipher::load_or_create(dir.path()).expect("key");
        let ring = KeyRing::generate(unix_now()).expect("generates");
        let kid = ring.active().kid().to_owned();
        let json = ring.to_json(&cipher).expect("seals");
        std::fs::write(dir.path().join(KEY_FILE), &json).expect("writes");
        let store = store(dir.path()).await;
        let imported = issuer(&store, dir.path(), "http://127.0.0.1:1/oidc").await;
        assert_eq!(imported.jwks().await.expect("keys").keys[0].kid, kid);
        // The store's ring wins from then on, whatever the file says.
        let other = KeyRing::generate(unix_now()).expect("generates");
        std::fs::write(
            dir.path().join(KEY_FILE),
            other.to_json(&cipher).expect("seals"),
        )
        .expect("writes");
        let again = issuer(&store, dir.path(), "http://127.0.0.1:1/oidc").await;
        assert_eq!(again.jwks().await.expect("keys").keys[0].kid, kid);
    }

    #[tokio::test]
    async fn the_issuer_path_and_lifetime_are_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = store(dir.path()).await;
        assert_eq!(
            issuer(&store, dir.path(), "http://127.0.0.1:1/oidc")
                .await
                .path(),
            "/oidc"
        );
        assert_eq!(
            issuer(&store, dir.path(), "https://id.example.com")
                .await
                .path(),
            ""
        );
        let cipher = Arc::new(Cipher::load_or_create(dir.path()).expect("key"));
        for (url, lifetime) in [
            ("http://x/oidc", Duration::ZERO),
            ("http://x/oidc", Duration::from_secs(3 * 3600)),
            ("ftp://x", Duration::from_secs(60)),
        ] {
            let made = OidcIssuer::load_or_create(
                store.clone(),
                dir.path(),
                url,
                lifetime,
                cipher.clone(),
            )
            .await;
            assert!(made.is_err(), "{url} {lifetime:?}");
        }
    }
}
