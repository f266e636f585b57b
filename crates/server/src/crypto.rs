//! Secrets at rest: AES-256-GCM under a key generated on first start into
//! `<data-dir>/secret.key`, or given by `--secret-key-file` (as every server sharing a store
//! must be). A ciphertext is `base64(nonce || sealed)`, bound to a context (the
//! stack's id) so that it cannot be replayed into another stack.

use std::io;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The key's file in the data dir.
pub const KEY_FILE: &str = "secret.key";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 12;

/// Why a key could not be loaded or a value not sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("cannot use the key file {path}: {source}")]
    KeyFile { path: PathBuf, source: io::Error },
    #[error("the key file {0} does not hold exactly 32 bytes")]
    KeyLength(PathBuf),
    #[error("encryption failed")]
    Seal,
    #[error("not a ciphertext made by this server for this stack")]
    Open,
}

/// Seals and opens secret values.
pub struct Cipher {
    aead: Aes256Gcm,
}

impl Cipher {
    /// Loads `<data_dir>/secret.key`, generating it (mode 0600) when absent.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, CryptoError> {
        let path = data_dir.join(KEY_FILE);
        if !path.exists() {
            let key = Aes256Gcm::generate_key(OsRng);
            match crate::files::write_private(&path, key.as_slice(), true) {
                // Another process created it first: use theirs.
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
                other => other.map_err(|source| CryptoError::KeyFile {
                    path: path.clone(),
                    source,
                })?,
            }
        }
        Self::load(&path)
    }

    /// Loads the key in `path` (`--secret-key-file`), which must exist.
    pub fn load(path: &Path) -> Result<Self, CryptoError> {
        let bytes = std::fs::read(path).map_err(|source| CryptoError::KeyFile {
            path: path.to_owned(),
            source,
        })?;
        if bytes.len() != KEY_LEN {
            return Err(CryptoError::KeyLength(path.to_owned()));
        }
        Ok(Self {
            aead: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&bytes)),
        })
    }

    /// Encrypts `plaintext` for `context`.
    pub fn seal(&self, plaintext: &str, context: &str) -> Result<String, CryptoError> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: plaintext.as_bytes(),
            aad: context.as_bytes(),
        };
        let sealed = self
            .aead
            .encrypt(&nonce, payload)
            .map_err(|_| CryptoError::Seal)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts a ciphertext [`Cipher::seal`] made for `context`.
    pub fn open(&self, ciphertext: &str, context: &str) -> Result<String, CryptoError> {
        let bytes = STANDARD.decode(ciphertext).map_err(|_| CryptoError::Open)?;
        if bytes.len() < NONCE_LEN {
            return Err(CryptoError::Open);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let payload = Payload {
            msg: sealed,
            aad: context.as_bytes(),
        };
        let plain = self
            .aead
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| CryptoError::Open)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_a_persistent_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cipher = Cipher::load_or_create(dir.path()).expect("creates a key");
        let sealed = cipher.seal("hunter2", "stack-1").expect("seals");
        assert!(!sealed.contains("hunter2"));
        let again = Cipher::load_or_create(dir.path()).expect("loads the key");
        assert_eq!(again.open(&sealed, "stack-1").expect("opens"), "hunter2");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn rejects_other_contexts_and_forgeries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let cipher = Cipher::load_or_create(dir.path()).expect("creates a key");
        let sealed = cipher.seal("hunter2", "stack-1").expect("seals");
        assert!(cipher.open(&sealed, "stack-2").is_err());
        assert!(cipher.open("not base64!", "stack-1").is_err());
        assert!(cipher.open(&STANDARD.encode([0u8; 40]), "stack-1").is_err());
    }
}
