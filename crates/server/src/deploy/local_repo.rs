//! Local repositories (paths and `file://` URLs): which git dir a deployment may be shown, and
//! the webhook's reachability check may ask. Only the git dir, resolved, and only where
//! [`sandbox::may_show`] (and `--local-repos`, when set) allow it.

use std::path::{Path, PathBuf};

use super::ExecConfig;
use super::sandbox;

/// The git dir of `url` when it names a local repository that `config` allows; `None` when
/// `url` is not local; why not, when it is refused.
pub fn resolve(url: &str, config: &ExecConfig) -> Result<Option<PathBuf>, String> {
    let Some(path) = local_path(url) else {
        return Ok(None);
    };
    let git_dir = git_dir(&path)?;
    match &config.local_repos {
        Some(root) if !git_dir.starts_with(root) => Err(format!(
            "this server deploys local repositories only from {} (--local-repos)",
            root.display()
        )),
        _ => sandbox::may_show(&git_dir, &config.guarded()).map(|()| Some(git_dir)),
    }
}

/// The path of a local repository: `file://` URLs and paths (not `host:path`, nor any other
/// URL).
pub fn local_path(url: &str) -> Option<PathBuf> {
    if let Some(path) = url.strip_prefix("file://") {
        return Some(PathBuf::from(path));
    }
    if url.contains("://") {
        return None;
    }
    // `user@host:path` and `host:path` are SSH; a path with a colon needs `./` or `/`.
    let colon = url.find(':');
    let slash = url.find('/');
    match (colon, slash) {
        (Some(colon), Some(slash)) if colon < slash => None,
        (Some(_), None) => None,
        _ => Some(PathBuf::from(url)),
    }
}

/// The git dir of the local repository at `path`: the folder itself when it is a bare
/// repository or a `.git` folder, else its `.git`. Symlinks are resolved, so that what is
/// shown is what was checked.
fn git_dir(path: &Path) -> Result<PathBuf, String> {
    let not_a_repository = || format!("{} is not a git repository on this server", path.display());
    let path = path.canonicalize().map_err(|_| not_a_repository())?;
    let is_git_dir = |dir: &Path| dir.join("HEAD").is_file() && dir.join("objects").is_dir();
    if is_git_dir(&path) {
        return Ok(path);
    }
    let dot_git = path.join(".git");
    if dot_git.is_dir() && is_git_dir(&dot_git) {
        return Ok(dot_git);
    }
    Err(not_a_repository())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_repositories_are_paths_and_file_urls() {
        assert_eq!(local_path("/srv/repo"), Some(PathBuf::from("/srv/repo")));
        assert_eq!(
            local_path("file:///srv/repo"),
            Some(PathBuf::from("/srv/repo"))
        );
        assert_eq!(local_path("./a:b"), Some(PathBuf::from("./a:b")));
        assert_eq!(local_path("git@github.com:acme/infra.git"), None);
        assert_eq!(local_path("host:infra"), None);
        assert_eq!(local_path("https://github.com/acme/infra"), None);
        assert_eq!(local_path("ssh://git@host/infra"), None);
    }

    #[test]
    fn a_local_repository_shows_only_its_git_dir() {
        let root = tempfile::tempdir().expect("temp dir");
        let work = root.path().join("work");
        std::fs::create_dir_all(work.join(".git/objects")).expect("mkdir");
        std::fs::write(work.join(".git/HEAD"), "ref: refs/heads/main\n").expect("writes");
        let canonical = work.canonicalize().expect("canonical");
        assert_eq!(
            git_dir(&work).expect("a repository"),
            canonical.join(".git")
        );
        assert_eq!(
            git_dir(&work.join(".git")).expect("a git dir"),
            canonical.join(".git")
        );
        assert!(git_dir(root.path()).is_err());
        assert!(git_dir(&root.path().join("missing")).is_err());
    }
}
