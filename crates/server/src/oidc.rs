//! The server's OIDC issuer: the signing key ring kept in `<data-dir>/oidc-keys.json` (private
//! keys sealed by the server's [`Cipher`]), its discovery document and JWKS (served by
//! `http::issuer`), and one token per deployment.
//!
//! `keyless-server rotate-oidc-key` rewrites the key file; a running server notices the file
//! changed (its modification time, size or inode) and reloads the ring before answering or
//! minting, so the new key signs and the old one stays published until its tokens expire.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use keyless_oidc::{
    Deployment, DeploymentClaims, Discovery, Issuer, Jwks, KeyRing, MAX_TOKEN_LIFETIME, Sealer,
};

use crate::BoxError;
use crate::crypto::{Cipher, CryptoError};
use crate::store::StackRecord;

/// The key ring's file in the data directory.
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

/// What identifies a version of the key file.
type Stamp = (SystemTime, u64, u64);

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path)?;
    Ok((meta.modified()?, meta.len(), meta.ino()))
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
    path: PathBuf,
    cipher: Arc<Cipher>,
    ring: RwLock<(KeyRing, Stamp)>,
}

impl OidcIssuer {
    /// Loads the key ring from `data_dir`, generating it on first start. `lifetime` is how long
    /// each deployment token is valid (at most [`MAX_TOKEN_LIFETIME`]).
    pub fn load_or_create(
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
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            let ring = KeyRing::generate(unix_now())?;
            let json = ring.to_json(cipher.as_ref())?;
            match crate::files::write_private(&path, json.as_bytes(), true) {
                // Another process created it first: use theirs.
                Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
                other => other?,
            }
        }
        let loaded = read(&path, &cipher)?;
        Ok(Self {
            issuer,
            lifetime,
            path,
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
    pub fn jwks(&self) -> Result<Jwks, BoxError> {
        self.with_ring(|ring| Ok(keyless_oidc::jwks(ring, unix_now())))
    }

    /// A token for `operation` version `version` (0 for a test) of `stack`, signed by the
    /// active key, and its claims.
    pub fn mint(
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
        let token = self.with_ring(|ring| Ok(keyless_oidc::mint(ring, &claims)?))?;
        Ok((token, claims))
    }

    /// Runs `f` on the current ring, reloading it first when the file changed.
    fn with_ring<T>(&self, f: impl FnOnce(&KeyRing) -> Result<T, BoxError>) -> Result<T, BoxError> {
        let current = stamp(&self.path)?;
        let fresh = self
            .ring
            .read()
            .map_err(|_| "the key ring lock is poisoned")?
            .1
            == current;
        if !fresh {
            let loaded = read(&self.path, &self.cipher)?;
            tracing::info!(path = %self.path.display(), "reloaded the OIDC key ring");
            *self
                .ring
                .write()
                .map_err(|_| "the key ring lock is poisoned")? = loaded;
        }
        let guard = self
            .ring
            .read()
            .map_err(|_| "the key ring lock is poisoned")?;
        f(&guard.0)
    }
}

fn read(path: &Path, cipher: &Cipher) -> Result<(KeyRing, Stamp), BoxError> {
    let before = stamp(path)?;
    let json = std::fs::read_to_string(path)?;
    let ring = KeyRing::from_json(&json, cipher)?;
    Ok((ring, before))
}

/// Adds a new signing key to the ring in `data_dir` and drops retired keys whose tokens have all
/// expired; returns the new key's id. The file is replaced atomically, so a running server
/// reads either the old ring or the new one.
pub fn rotate(data_dir: &Path) -> Result<String, BoxError> {
    let cipher = Cipher::load_or_create(data_dir)?;
    let path = data_dir.join(KEY_FILE);
    let (mut ring, _) = read(&path, &cipher).map_err(|err| {
        format!(
            "cannot read {} ({err}); start the server once to create it",
            path.display()
        )
    })?;
    let now = unix_now();
    let kid = ring.rotate(now)?.kid().to_owned();
    ring.prune(now);
    let json = ring.to_json(&cipher)?;
    let temporary = data_dir.join(format!("{KEY_FILE}.new"));
    crate::files::write_private(&temporary, json.as_bytes(), false)?;
    std::fs::rename(&temporary, &path)?;
    Ok(kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer(dir: &Path, url: &str) -> OidcIssuer {
        let cipher = Arc::new(Cipher::load_or_create(dir).expect("key"));
        OidcIssuer::load_or_create(dir, url, Duration::from_secs(600), cipher).expect("issuer")
    }

    #[test]
    fn the_ring_persists_sealed_and_rotation_is_picked_up() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = issuer(dir.path(), "http://127.0.0.1:1/oidc");
        let kid = first.jwks().expect("keys").keys[0].kid.clone();
        let file = std::fs::read_to_string(dir.path().join(KEY_FILE)).expect("key file");
        assert!(
            file.contains(&kid) && !file.contains("PRIVATE KEY"),
            "{file}"
        );
        // A restart keeps the key.
        let again = issuer(dir.path(), "http://127.0.0.1:1/oidc");
        assert_eq!(again.jwks().expect("keys").keys[0].kid, kid);

        let new_kid = rotate(dir.path()).expect("rotates");
        let keys: Vec<String> = first
            .jwks()
            .expect("keys")
            .keys
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(keys, [new_kid, kid]);
    }

    #[test]
    fn the_issuer_path_and_lifetime_are_checked() {
        let dir = tempfile::tempdir().expect("temp dir");
        assert_eq!(
            issuer(dir.path(), "http://127.0.0.1:1/oidc").path(),
            "/oidc"
        );
        assert_eq!(issuer(dir.path(), "https://id.example.com").path(), "");
        let cipher = Arc::new(Cipher::load_or_create(dir.path()).expect("key"));
        for (url, lifetime) in [
            ("http://x/oidc", Duration::ZERO),
            ("http://x/oidc", Duration::from_secs(3 * 3600)),
            ("ftp://x", Duration::from_secs(60)),
        ] {
            assert!(
                OidcIssuer::load_or_create(dir.path(), url, lifetime, cipher.clone()).is_err(),
                "{url} {lifetime:?}"
            );
        }
    }
}
