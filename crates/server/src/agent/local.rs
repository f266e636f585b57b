//! The server's local agents: `--agents` child processes of the server (by default one) that
//! run the deployments of no pool, so that one command still runs everything while the server
//! itself runs no deployment's code. They reach the server through a listener of their own on
//! loopback, with a token made at every start and kept only in memory (and in their
//! environment). A local agent that exits is started again; all of them die with the server
//! (`PR_SET_PDEATHSIG`), so a server alone on SQLite knows, at start, that what they ran is
//! over.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::Command;
use tokio::task::JoinHandle;

use super::TOKEN_VAR;
use crate::config::RunConfig;
use crate::tokens;

/// How long after a local agent exits it is started again.
const RESTART_AFTER: Duration = Duration::from_secs(1);

/// What a local agent inherits of the server's environment: nothing else (not the database URL,
/// nor any other of the server's settings).
const INHERITED: &[&str] = &["PATH", "HOME", "USER", "LANG", "TMPDIR", "RUST_LOG"];

/// The server's local agents.
pub struct LocalAgents {
    token: String,
    token_hash: String,
    supervisors: Mutex<Vec<JoinHandle<()>>>,
}

/// How the server starts its local agents.
pub struct Launch<'a> {
    /// The `keyless-server` binary.
    pub program: &'a Path,
    /// How many.
    pub count: usize,
    /// How many deployments they run at once, all together.
    pub max_running: usize,
    /// How deployments run (the server's flags).
    pub run: &'a RunConfig,
    /// What deployments must never see: the server's data dir and secret key file.
    pub data_dir: &'a Path,
    pub secret_key: Option<&'a Path>,
}

impl Default for LocalAgents {
    fn default() -> Self {
        let token = tokens::generate();
        Self {
            token_hash: tokens::hash(&token),
            token,
            supervisors: Mutex::default(),
        }
    }
}

impl LocalAgents {
    /// Whether `token_hash` is the local agents' token's.
    pub fn accepts(&self, token_hash: &str) -> bool {
        self.token_hash == token_hash
    }

    /// Starts `launch.count` agents talking to the listener at `addr`.
    pub fn start(&self, launch: &Launch<'_>, addr: SocketAddr) {
        let count = launch.count;
        let each = launch.max_running.div_ceil(count.max(1)).max(1);
        let mut args: Vec<String> = vec![
            "agent".into(),
            "--server".into(),
            format!("http://{addr}"),
            "--max-running".into(),
            each.to_string(),
            "--server-data-dir".into(),
            launch.data_dir.display().to_string(),
        ];
        if let Some(key) = launch.secret_key {
            args.extend(["--server-secret-key".into(), key.display().to_string()]);
        }
        args.extend(launch.run.args());
        let Ok(mut supervisors) = self.supervisors.lock() else {
            return;
        };
        for n in 0..count {
            let program = launch.program.to_owned();
            let args = args.clone();
            let token = self.token.clone();
            supervisors.push(tokio::spawn(supervise(n, program, args, token)));
        }
    }

    /// Stops every local agent (their deployments' processes die with them).
    pub fn shutdown(&self) {
        if let Ok(mut supervisors) = self.supervisors.lock() {
            // Dropping a child kills it.
            supervisors.drain(..).for_each(|task| task.abort());
        }
    }
}

impl Drop for LocalAgents {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Runs local agent `n`, again whenever it exits.
async fn supervise(n: usize, program: PathBuf, args: Vec<String>, token: String) {
    loop {
        let mut command = Command::new(&program);
        command
            .args(&args)
            .env_clear()
            .envs(
                INHERITED
                    .iter()
                    .filter_map(|name| Some((name, std::env::var(name).ok()?))),
            )
            .env(TOKEN_VAR, &token)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        // SAFETY: prctl is async-signal-safe, and the closure touches nothing else of the
        // parent.
        unsafe {
            command.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL)
                    .map_err(std::io::Error::from)
            });
        }
        match command.spawn() {
            Ok(mut child) => {
                tracing::info!(agent = n, pid = child.id(), "local agent started");
                match child.wait().await {
                    Ok(status) => tracing::error!(agent = n, %status, "local agent exited"),
                    Err(err) => tracing::error!(agent = n, %err, "local agent lost"),
                }
            }
            Err(err) => {
                tracing::error!(agent = n, program = %program.display(), %err, "cannot start a local agent");
            }
        }
        tokio::time::sleep(RESTART_AFTER).await;
    }
}
