//! The state one deployment's steps share while it runs.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use super::ExecConfig;
use super::cancel::Cancel;
use super::control::Control;
use super::logs::LogSink;
use super::process::Spec;
use super::protocol::Assignment;
use super::sandbox::View;

/// A running deployment.
pub struct Job {
    /// The deployment, its secrets opened.
    pub deployment: Assignment,
    pub config: Arc<ExecConfig>,
    /// The deployment's own folder, named by its id in the server's work root.
    pub work_dir: PathBuf,
    /// What of the host the deployment's sandbox shows (its work dir, read-only paths).
    pub view: View,
    /// Where the source is checked out.
    pub checkout_dir: PathBuf,
    /// The program's directory: the checkout's `repoDir`.
    pub program_dir: PathBuf,
    /// The environment of every process from now on.
    pub env: BTreeMap<String, String>,
    pub sink: LogSink,
    pub cancel: Cancel,
    /// Where the token comes from.
    pub control: Arc<dyn Control>,
}

impl Job {
    pub fn new(
        deployment: Assignment,
        config: Arc<ExecConfig>,
        sink: LogSink,
        cancel: Cancel,
        control: Arc<dyn Control>,
    ) -> Self {
        let work_dir = config.work_root.join(deployment.id.as_str());
        let checkout_dir = work_dir.join("source");
        let mut env = config.sandbox.base_env(&work_dir);
        let mut view = View {
            work_dir: work_dir.clone(),
            read_only: Vec::new(),
        };
        if let Some(dir) = config.pulumi.as_ref().and_then(|p| p.parent()) {
            // The configured CLI comes first on PATH, for pre-run commands too, and its folder
            // (the CLI and its language plugins) is shown read-only.
            let path = env.get("PATH").map_or(String::new(), |p| format!(":{p}"));
            env.insert("PATH".into(), format!("{}{path}", dir.display()));
            view.read_only.push(dir.to_owned());
        }
        env.insert("PULUMI_SKIP_UPDATE_CHECK".into(), "true".into());
        Self {
            deployment,
            config,
            program_dir: checkout_dir.clone(),
            checkout_dir,
            work_dir,
            view,
            env,
            sink,
            cancel,
            control,
        }
    }

    /// `org/project/stack`.
    pub fn stack_name(&self) -> String {
        self.deployment.stack.stack.to_string()
    }

    /// Sets a variable for every later process; a secret value is redacted from the log.
    pub fn set_env(&mut self, name: &str, value: &str, secret: bool) {
        if secret {
            self.sink.add_secret(value);
        }
        self.env.insert(name.to_owned(), value.to_owned());
    }

    /// `spec` as it runs in this deployment's sandbox.
    pub fn sandboxed(&self, spec: Spec) -> Spec {
        self.config.sandbox.wrap(spec, &self.view)
    }
}
