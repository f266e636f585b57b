//! Whether a pushed commit is on the branch (or tag) it was pushed to, asked of the stack's
//! repository itself before anything is queued: a payload names a commit, and only the
//! repository can say that the commit belongs where the stack deploys from.
//!
//! This runs git in the server, not in a deployment's sandbox, so git gets nothing of the
//! server: an empty environment but `PATH`, a fresh `HOME` in a private temporary folder, no
//! system or global configuration (so no credential helper, `.netrc` or SSH key of the
//! operator's), no prompts, only the file, git, http(s) and ssh transports, and a time limit.
//! The stack's own git credentials are passed as a deployment's are ([`crate::git_auth`]).

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use keyless_api_types::{SecretValue, SourceContextGit};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::process::Command;

use crate::git_auth::{self, GitCredentials, Opened, url_password};

/// How long one git command may take. GitHub gives up on a delivery after 10 seconds, but the
/// delivery is handled to the end all the same.
const GIT_TIMEOUT: Duration = Duration::from_secs(20);

/// Where a stack's source is fetched from, and with what credentials.
pub struct Remote {
    url: String,
    auth: Opened,
}

impl Remote {
    /// The stack's `sourceContext.git` repository (a URL or a local path) with its
    /// credentials, each secret opened by `open`.
    pub fn new(
        git: &SourceContextGit,
        open: impl Fn(&SecretValue) -> Option<String>,
    ) -> Result<Self, String> {
        let url = git
            .repo_url
            .clone()
            .filter(|u| !u.trim().is_empty())
            .ok_or("it has no sourceContext.git.repoUrl")?;
        let auth = git_auth::open(git.git_auth.as_ref(), open)?;
        Ok(Self { url, auth })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

/// Checks that `commit` is `git_ref` (`refs/heads/<b>` or `refs/tags/<t>`) or an ancestor of
/// it in `remote`; the error says that it is not, or why that could not be told.
pub async fn verify(remote: &Remote, git_ref: &str, commit: &str) -> Result<(), String> {
    let on = match git_ref.strip_prefix("refs/heads/") {
        Some(branch) => format!("branch {branch}"),
        None => format!(
            "tag {}",
            git_ref.strip_prefix("refs/tags/").unwrap_or(git_ref)
        ),
    };
    let not_on = || format!("commit {commit} is not on {on}");
    if !matches!(commit.len(), 40 | 64) || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_on());
    }
    let cannot = |why: String| format!("cannot tell whether commit {commit} is on {on}: {why}");
    let scratch = Scratch::new().map_err(|err| cannot(format!("no temporary folder: {err}")))?;
    let git = Git::new(remote, &scratch).map_err(|err| cannot(err.to_string()))?;

    // The usual case: the commit is the tip, and one round trip tells.
    let listed = git
        .run(&["ls-remote", "--", &remote.url, git_ref])
        .await
        .map_err(cannot)?;
    let peeled = format!("{git_ref}^{{}}");
    let tips: Vec<&str> = listed
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(_, name)| *name == git_ref || *name == peeled)
        .map(|(id, _)| id)
        .collect();
    if tips.is_empty() {
        return Err(format!("{} ({on} does not exist)", not_on()));
    }
    if tips.iter().any(|tip| tip.eq_ignore_ascii_case(commit)) {
        return Ok(());
    }

    let repo = scratch.path().join("repo.git");
    let repo_arg = repo.display().to_string();
    git.run(&["init", "--quiet", "--bare", &repo_arg])
        .await
        .map_err(cannot)?;
    let refspec = format!("+{git_ref}:refs/keyless/tip");
    git.run(&[
        "-C",
        &repo_arg,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--",
        &remote.url,
        &refspec,
    ])
    .await
    .map_err(cannot)?;
    // The branch's whole history is here now: a commit it does not reach is not on it.
    let ancestor = format!("{commit}^{{commit}}");
    match git
        .run(&[
            "-C",
            &repo_arg,
            "merge-base",
            "--is-ancestor",
            &ancestor,
            "refs/keyless/tip",
        ])
        .await
    {
        Ok(_) => Ok(()),
        Err(_) => Err(not_on()),
    }
}

/// A private temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("keyless-webhook-{}", uuid::Uuid::new_v4()));
        std::fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self(path))
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// git with the environment described at the top, and secrets to keep out of its messages.
struct Git {
    env: Vec<(String, String)>,
    secrets: Vec<String>,
}

impl Git {
    fn new(remote: &Remote, scratch: &Scratch) -> std::io::Result<Self> {
        let home = scratch.path().display().to_string();
        let mut env = vec![
            ("PATH".to_owned(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".to_owned(), home.clone()),
            ("GIT_CONFIG_NOSYSTEM".to_owned(), "1".to_owned()),
            ("GIT_CONFIG_GLOBAL".to_owned(), "/dev/null".to_owned()),
            ("GIT_TERMINAL_PROMPT".to_owned(), "0".to_owned()),
            (
                "GIT_ALLOW_PROTOCOL".to_owned(),
                "file:git:http:https:ssh".to_owned(),
            ),
        ];
        let mut secrets: Vec<String> = url_password(&remote.url).into_iter().collect();
        secrets.extend(remote.auth.secrets.iter().cloned());
        // ssh reads the user's own files whatever HOME says: name every file it may use.
        let known_hosts = scratch.path().join("known_hosts").display().to_string();
        let identity = match &remote.auth.credentials {
            GitCredentials::SshKey(key) => {
                let path = scratch.path().join("ssh-key");
                std::fs::write(&path, key)?;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
                format!("'{}'", path.display())
            }
            _ => "none".to_owned(),
        };
        env.push((
            "GIT_SSH_COMMAND".to_owned(),
            format!(
                "ssh -F /dev/null -o IdentityFile={identity} -o IdentitiesOnly=yes \
                 -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
                 -o UserKnownHostsFile='{known_hosts}'"
            ),
        ));
        if let GitCredentials::Header(header) = &remote.auth.credentials {
            secrets.push(header.clone());
            env.extend([
                ("GIT_CONFIG_COUNT".to_owned(), "1".to_owned()),
                ("GIT_CONFIG_KEY_0".to_owned(), "http.extraHeader".to_owned()),
                ("GIT_CONFIG_VALUE_0".to_owned(), header.clone()),
            ]);
        }
        Ok(Self { env, secrets })
    }

    /// Runs git with `args`; its stdout, or why it failed (its last line of stderr, without
    /// secrets).
    async fn run(&self, args: &[&str]) -> Result<String, String> {
        let child = Command::new("git")
            .args(args)
            .env_clear()
            .envs(self.env.iter().cloned())
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| format!("git does not run: {err}"))?;
        let group = child.id().map(|id| Pid::from_raw(id as i32));
        let output = match tokio::time::timeout(GIT_TIMEOUT, child.wait_with_output()).await {
            Ok(output) => output.map_err(|err| format!("git {} failed: {err}", args[0]))?,
            Err(_) => {
                // git is killed on drop; what it started (ssh, a remote helper) with it.
                if let Some(group) = group {
                    let _ = killpg(group, Signal::SIGKILL);
                }
                return Err(format!(
                    "git {} took longer than {} seconds",
                    args[0],
                    GIT_TIMEOUT.as_secs()
                ));
            }
        };
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message")
            .trim()
            .chars()
            .take(300)
            .collect::<String>();
        for secret in &self.secrets {
            last = last.replace(secret.as_str(), "[secret]");
        }
        Err(format!("git {} failed: {last}", args[0]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(repo: &Path, args: &[&str]) -> String {
        let output = std::process::Command::new("git")
            .args(args)
            .current_dir(repo)
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .output()
            .expect("git runs");
        assert!(output.status.success(), "git {args:?}");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    fn local(path: &Path) -> Remote {
        let git = SourceContextGit {
            repo_url: Some(path.display().to_string()),
            ..SourceContextGit::default()
        };
        Remote::new(&git, |_| None).expect("a remote")
    }

    #[tokio::test]
    async fn commits_on_the_branch_pass_and_others_do_not() {
        let dir = std::env::temp_dir().join(format!("keyless-reach-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let scratch = Scratch(dir.clone());
        git(&dir, &["init", "--quiet", "--initial-branch=main"]);
        git(&dir, &["commit", "--quiet", "--allow-empty", "-m", "one"]);
        let first = git(&dir, &["rev-parse", "HEAD"]);
        git(&dir, &["commit", "--quiet", "--allow-empty", "-m", "two"]);
        let tip = git(&dir, &["rev-parse", "HEAD"]);
        git(&dir, &["checkout", "--quiet", "-b", "feature"]);
        git(&dir, &["commit", "--quiet", "--allow-empty", "-m", "three"]);
        let feature = git(&dir, &["rev-parse", "HEAD"]);
        git(&dir, &["tag", "-a", "-m", "release", "v1", &first]);

        let remote = local(scratch.path());
        assert_eq!(verify(&remote, "refs/heads/main", &tip).await, Ok(()));
        assert_eq!(verify(&remote, "refs/heads/main", &first).await, Ok(()));
        assert_eq!(
            verify(&remote, "refs/heads/main", &feature).await,
            Err(format!("commit {feature} is not on branch main"))
        );
        assert_eq!(verify(&remote, "refs/tags/v1", &first).await, Ok(()));
        assert!(verify(&remote, "refs/tags/v1", &tip).await.is_err());
        let unknown = "0123456789abcdef0123456789abcdef01234567";
        assert!(verify(&remote, "refs/heads/main", unknown).await.is_err());
        assert!(
            verify(&remote, "refs/heads/gone", &tip)
                .await
                .expect_err("no branch")
                .contains("branch gone does not exist")
        );
        assert!(verify(&remote, "refs/heads/main", "HEAD").await.is_err());
    }

    #[tokio::test]
    async fn an_unreachable_repository_says_why_and_keeps_its_secrets() {
        let missing = std::env::temp_dir().join("keyless-no-such-repository");
        let err = verify(
            &local(&missing),
            "refs/heads/main",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .await
        .expect_err("no repository");
        assert!(err.starts_with("cannot tell whether commit"), "{err}");
        assert_eq!(
            url_password("https://bob:s3cret@git.example.com/x"),
            Some("s3cret".into())
        );
    }
}
