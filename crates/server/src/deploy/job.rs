//! The state one deployment's steps share while it runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use keyless_api_types::{DeploymentSettings, SecretValue};

use super::ExecConfig;
use super::cancel::Cancel;
use super::logs::LogSink;
use crate::crypto::CryptoError;
use crate::store::DeploymentRecord;

/// Environment variables passed from the server's own environment to every step; nothing else
/// of it is.
const INHERITED_ENV: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// A running deployment.
pub struct Job {
    pub record: DeploymentRecord,
    pub settings: DeploymentSettings,
    pub config: Arc<ExecConfig>,
    /// The deployment's own folder: `work` in the data dir, then the deployment id.
    pub work_dir: PathBuf,
    /// Where the source is checked out.
    pub checkout_dir: PathBuf,
    /// The program's directory: the checkout's `repoDir`.
    pub program_dir: PathBuf,
    /// The environment of every process from now on.
    pub env: BTreeMap<String, String>,
    pub sink: LogSink,
    pub cancel: Cancel,
}

impl Job {
    pub fn new(
        record: DeploymentRecord,
        settings: DeploymentSettings,
        config: Arc<ExecConfig>,
        sink: LogSink,
        cancel: Cancel,
    ) -> Self {
        let work_dir = config.data_dir.join("work").join(&record.id);
        let checkout_dir = work_dir.join("source");
        let mut env: BTreeMap<String, String> = INHERITED_ENV
            .iter()
            .filter_map(|name| Some((name.to_string(), std::env::var(name).ok()?)))
            .collect();
        if let Some(dir) = config.pulumi.as_ref().and_then(|p| p.parent()) {
            // The configured CLI comes first on PATH, for pre-run commands too.
            let path = env.get("PATH").map_or(String::new(), |p| format!(":{p}"));
            env.insert("PATH".into(), format!("{}{path}", dir.display()));
        }
        env.insert("PULUMI_SKIP_UPDATE_CHECK".into(), "true".into());
        Self {
            record,
            settings,
            config,
            program_dir: checkout_dir.clone(),
            checkout_dir,
            work_dir,
            env,
            sink,
            cancel,
        }
    }

    /// `org/project/stack`.
    pub fn stack_name(&self) -> String {
        self.record.stack.stack.to_string()
    }

    /// Sets a variable for every later process; a secret value is redacted from the log.
    pub fn set_env(&mut self, name: &str, value: &str, secret: bool) {
        if secret {
            self.sink.add_secret(value);
        }
        self.env.insert(name.to_owned(), value.to_owned());
    }

    /// The plaintext of a secret of this deployment's settings (sealed for its stack).
    pub fn open_secret(&self, secret: &SecretValue) -> Result<String, CryptoError> {
        let ciphertext = secret.ciphertext.as_deref().ok_or(CryptoError::Open)?;
        self.config.cipher.open(ciphertext, &self.record.stack.id)
    }
}
