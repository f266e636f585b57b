//! `Get source`: a git clone of `sourceContext.git` (a URL or a local path; the `gitHub`
//! block's repository when the URL is left out) at its branch, tag or commit, run in the
//! deployment's sandbox. A local repository's git dir alone (not its working tree, nor
//! anything around it) is shown to the sandbox read-only. Credentials reach git only through
//! this process's environment: a token or basic auth as an `http.extraHeader` set by
//! `GIT_CONFIG_*` variables, an SSH key as a 0600 file named by `GIT_SSH_COMMAND`. None of
//! them is logged.

use std::path::{Component, Path, PathBuf};

use keyless_api_types::{GitAuthConfig, SourceContextGit};

use super::{StepError, StepResult, on_path, run_process_with};
use crate::deploy::job::Job;
use crate::deploy::{local_repo, sandbox};
use crate::git_auth::{self, GitCredentials, url_password};

/// The SSH key's file name inside the work directory (outside the checkout).
const SSH_KEY_FILE: &str = "git-ssh-key";

pub async fn run(job: &mut Job, index: i64) -> StepResult {
    let git = job.deployment.settings.git_source().ok_or_else(|| {
        StepError::Failed("neither sourceContext.git.repoUrl nor gitHub.repository is set".into())
    })?;
    let mut url = git.repo_url.clone().unwrap_or_default();
    if let Some(git_dir) = local_repo::resolve(&url, &job.config).map_err(|why| {
        StepError::Failed(format!("the repository {url} cannot be deployed: {why}"))
    })? {
        // Owned by another user as seen from the sandbox; git refuses such a repository
        // unless the deployment's own (fresh) global configuration says it is safe.
        let gitconfig = format!("[safe]\n\tdirectory = {}\n", git_dir.display());
        std::fs::write(sandbox::home(&job.work_dir).join(".gitconfig"), gitconfig)
            .map_err(|err| StepError::Failed(format!("cannot write git's configuration: {err}")))?;
        job.view.read_only.push(git_dir.clone());
        url = git_dir.display().to_string();
    }
    let program = on_path("git", job.env.get("PATH").map(String::as_str))
        .ok_or_else(|| StepError::Failed("git is not installed on this server".into()))?;

    let (auth_env, key_file) = match &git.git_auth {
        Some(auth) => credentials(job, auth)?,
        None => (Vec::new(), None),
    };
    let mut auth_env = auth_env;
    auth_env.push(("GIT_TERMINAL_PROMPT".into(), "0".into()));
    if let Some(password) = url_password(&url) {
        job.sink.add_secret(&password);
    }

    let checkout = job.checkout_dir.clone();
    let options: Vec<String> = branch_or_tag(&git)
        .map(|reference| vec!["--branch".into(), reference])
        .unwrap_or_default();
    let mut args = vec!["clone".to_owned()];
    args.extend(options.iter().cloned());
    args.extend(["--".into(), url.clone(), checkout.display().to_string()]);
    let shown = format!(
        "git clone {}-- {} {}",
        options.iter().map(|o| format!("{o} ")).collect::<String>(),
        without_userinfo(&url),
        checkout.display()
    );
    let result = run_process_with(
        job,
        index,
        (&program, &args),
        &job.work_dir.clone(),
        &shown,
        &auth_env,
    )
    .await;
    if let Some(key_file) = key_file {
        let _ = std::fs::remove_file(key_file);
    }
    result?;

    if let Some(commit) = git.commit.as_deref().filter(|c| !c.is_empty()) {
        let args = vec![
            "checkout".into(),
            "--quiet".into(),
            "--detach".into(),
            commit.into(),
        ];
        let shown = format!("git checkout --quiet --detach {commit}");
        run_process_with(job, index, (&program, &args), &checkout, &shown, &[]).await?;
    }
    let args = vec![
        "log".into(),
        "-1".into(),
        "--format=Checked out %H: %s".into(),
    ];
    run_process_with(job, index, (&program, &args), &checkout, "git log -1", &[]).await?;

    job.program_dir = program_dir(&checkout, git.repo_dir.as_deref())?;
    job.sink
        .line(
            index,
            &format!("Program directory: {}", job.program_dir.display()),
        )
        .await;
    Ok(())
}

/// `refs/heads/main` → `main`; a tag when no branch is given.
fn branch_or_tag(git: &SourceContextGit) -> Option<String> {
    let branch = git.branch.as_deref().filter(|b| !b.is_empty());
    let reference = branch.or(git.tag.as_deref().filter(|t| !t.is_empty()))?;
    let short = reference
        .strip_prefix("refs/heads/")
        .or_else(|| reference.strip_prefix("refs/tags/"))
        .unwrap_or(reference);
    Some(short.to_owned())
}

/// Variables for the git process only.
type GitEnv = Vec<(String, String)>;

/// The environment that gives git the credentials, and the key file to delete afterwards.
fn credentials(job: &Job, auth: &GitAuthConfig) -> Result<(GitEnv, Option<PathBuf>), StepError> {
    let opened = git_auth::open(Some(auth), |secret| Some(secret.secret.clone()))
        .map_err(StepError::Failed)?;
    for secret in &opened.secrets {
        job.sink.add_secret(secret);
    }
    match opened.credentials {
        GitCredentials::None => Ok((Vec::new(), None)),
        GitCredentials::SshKey(key) => {
            let path = job.work_dir.join(SSH_KEY_FILE);
            crate::files::write_private(&path, key.as_bytes(), false).map_err(|err| {
                StepError::Failed(format!("cannot write the SSH key file: {err}"))
            })?;
            let command = format!(
                "ssh -i '{}' -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
                path.display()
            );
            Ok((vec![("GIT_SSH_COMMAND".into(), command)], Some(path)))
        }
        GitCredentials::Header(header) => {
            let env = vec![
                ("GIT_CONFIG_COUNT".into(), "1".into()),
                ("GIT_CONFIG_KEY_0".into(), "http.extraHeader".into()),
                ("GIT_CONFIG_VALUE_0".into(), header),
            ];
            Ok((env, None))
        }
    }
}

/// The URL as it may be shown: without `user:password@`.
fn without_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{path}"),
        None => url.to_owned(),
    }
}

/// The checkout's `repo_dir`, which must stay inside it and exist.
fn program_dir(checkout: &Path, repo_dir: Option<&str>) -> Result<PathBuf, StepError> {
    let Some(dir) = repo_dir
        .map(str::trim)
        .filter(|d| !d.is_empty() && *d != ".")
    else {
        return Ok(checkout.to_owned());
    };
    let relative = Path::new(dir);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(StepError::Failed(format!(
            "repoDir \"{dir}\" must be a path inside the repository"
        )));
    }
    let path = checkout.join(relative);
    // A symlink in the repository must not take the program out of the checkout.
    let inside = match (path.canonicalize(), checkout.canonicalize()) {
        (Ok(path), Ok(checkout)) => path.starts_with(checkout),
        _ => false,
    };
    if inside && path.is_dir() {
        Ok(path)
    } else {
        Err(StepError::Failed(format!(
            "repoDir \"{dir}\" does not exist in the repository"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials_when_shown() {
        let url = "https://bob:s3cret@git.example.com/acme/infra.git";
        assert_eq!(
            without_userinfo(url),
            "https://git.example.com/acme/infra.git"
        );
        assert_eq!(without_userinfo("/tmp/repo"), "/tmp/repo");
    }

    #[test]
    fn branches_are_short_names() {
        let git = SourceContextGit {
            branch: Some("refs/heads/main".into()),
            ..Default::default()
        };
        assert_eq!(branch_or_tag(&git).as_deref(), Some("main"));
        let git = SourceContextGit {
            tag: Some("refs/tags/v1".into()),
            ..Default::default()
        };
        assert_eq!(branch_or_tag(&git).as_deref(), Some("v1"));
    }

    #[test]
    fn repo_dir_stays_inside_the_checkout() {
        let root = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(root.path().join("infra")).expect("mkdir");
        assert_eq!(
            program_dir(root.path(), Some("infra")).expect("inside"),
            root.path().join("infra")
        );
        assert!(program_dir(root.path(), Some("../etc")).is_err());
        assert!(program_dir(root.path(), Some("/etc")).is_err());
        assert!(program_dir(root.path(), Some("missing")).is_err());
        assert_eq!(program_dir(root.path(), None).expect("root"), root.path());
        std::os::unix::fs::symlink("/etc", root.path().join("out")).expect("links");
        assert!(program_dir(root.path(), Some("out")).is_err());
    }
}
