//! Which stacks a GitHub event deploys, and with what. Only the payload fields that decide it
//! are read; everything else GitHub sends is ignored.
//!
//! - `push` to `refs/heads/<b>`: an `update` of each stack whose `sourceContext.git.branch` is
//!   `<b>` (`refs/heads/<b>` or `<b>`), with `deployCommits` on (the default) and a changed file
//!   passing `gitHub.paths` (no paths: every push).
//! - `push` of `refs/tags/<t>`: an `update` of each stack with `deployTags` on whose
//!   `tagFilters` pass `<t>` (no filters: every tag); branch and paths do not apply.
//! - `pull_request` opened, synchronize or reopened: a `preview` of each stack with
//!   `previewPullRequests` on (the default) whose branch is the pull request's base; the payload
//!   lists no files, so paths do not apply.
//!
//! A deployment checks out the event's exact commit.

use std::collections::BTreeSet;

use keyless_api_types::{DeploymentTrigger, GitHubSettings, PulumiOperation, glob};
use serde::Deserialize;

/// A delivery's payload, by event.
#[derive(Debug)]
pub enum Event {
    Push(PushEvent),
    PullRequest(PullRequestEvent),
}

/// The fields of a `push` payload that matter here.
#[derive(Debug, Deserialize)]
pub struct PushEvent {
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub after: String,
    #[serde(default)]
    pub deleted: bool,
    pub repository: Repository,
    #[serde(default)]
    pub commits: Vec<Commit>,
    #[serde(default)]
    pub head_commit: Option<Commit>,
}

/// A commit of a push.
#[derive(Debug, Deserialize)]
pub struct Commit {
    pub id: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub author: Option<Author>,
    #[serde(default)]
    pub added: Vec<String>,
    #[serde(default)]
    pub modified: Vec<String>,
    #[serde(default)]
    pub removed: Vec<String>,
}

/// A commit's author.
#[derive(Debug, Deserialize)]
pub struct Author {
    #[serde(default)]
    pub name: String,
}

/// The fields of a `pull_request` payload that matter here.
#[derive(Debug, Deserialize)]
pub struct PullRequestEvent {
    pub action: String,
    pub number: i64,
    pub pull_request: PullRequest,
    pub repository: Repository,
}

/// The pull request of a `pull_request` event.
#[derive(Debug, Deserialize)]
pub struct PullRequest {
    #[serde(default)]
    pub title: String,
    pub head: GitRef,
    pub base: GitRef,
    #[serde(default)]
    pub user: Option<Login>,
}

/// A pull request's head or base.
#[derive(Debug, Deserialize)]
pub struct GitRef {
    #[serde(rename = "ref")]
    pub name: String,
    pub sha: String,
}

/// A GitHub account.
#[derive(Debug, Deserialize)]
pub struct Login {
    pub login: String,
}

/// The repository an event concerns.
#[derive(Debug, Deserialize)]
pub struct Repository {
    pub full_name: String,
}

/// Pull request actions that start a preview.
const PREVIEWED_ACTIONS: &[&str] = &["opened", "synchronize", "reopened"];

/// The `initiator` of a deployment a push starts.
pub const PUSH_INITIATOR: &str = "github-push";
/// The `initiator` of a deployment a pull request starts.
pub const PULL_REQUEST_INITIATOR: &str = "github-pull-request";
/// Every initiator a delivery gives; no client may claim one (they come with a `trigger`).
pub const INITIATORS: [&str; 2] = [PUSH_INITIATOR, PULL_REQUEST_INITIATOR];

/// A deployment to start for one stack.
#[derive(Debug, PartialEq)]
pub struct Start {
    pub operation: PulumiOperation,
    /// [`PUSH_INITIATOR`] or [`PULL_REQUEST_INITIATOR`].
    pub initiator: &'static str,
    pub trigger: DeploymentTrigger,
}

impl Event {
    /// Decodes the payload of a `push` or `pull_request` delivery; `Ok(None)` for other events.
    pub fn parse(event: &str, body: &[u8]) -> Result<Option<Self>, serde_json::Error> {
        Ok(match event {
            "push" => Some(Self::Push(serde_json::from_slice(body)?)),
            "pull_request" => Some(Self::PullRequest(serde_json::from_slice(body)?)),
            _ => None,
        })
    }

    /// `owner/repo`.
    pub fn repository(&self) -> &str {
        match self {
            Self::Push(push) => &push.repository.full_name,
            Self::PullRequest(pr) => &pr.repository.full_name,
        }
    }

    /// Why the event deploys nothing whatever the stacks say, if it does not.
    pub fn ignored(&self) -> Option<String> {
        match self {
            Self::Push(push) if push.deleted || push.after.chars().all(|c| c == '0') => {
                Some(format!("the push deleted {}", push.git_ref))
            }
            Self::PullRequest(pr) if !PREVIEWED_ACTIONS.contains(&pr.action.as_str()) => Some(
                format!("pull request action \"{}\" starts no preview", pr.action),
            ),
            _ => None,
        }
    }

    /// What the event starts on a stack with these GitHub settings and source branch, or why
    /// it starts nothing there.
    pub fn decide(
        &self,
        delivery_id: &str,
        github: &GitHubSettings,
        branch: Option<&str>,
    ) -> Result<Start, String> {
        let branch = branch
            .map(|b| b.strip_prefix("refs/heads/").unwrap_or(b))
            .filter(|b| !b.is_empty());
        match self {
            Self::Push(push) => push.decide(delivery_id, github, branch),
            Self::PullRequest(pr) => pr.decide(delivery_id, github, branch),
        }
    }
}

impl PushEvent {
    fn decide(
        &self,
        delivery_id: &str,
        github: &GitHubSettings,
        branch: Option<&str>,
    ) -> Result<Start, String> {
        if let Some(pushed) = self.git_ref.strip_prefix("refs/heads/") {
            if !github.deploys_commits() {
                return Err("deployCommits is off".into());
            }
            let branch = branch.ok_or("it has no sourceContext.git.branch")?;
            if branch != pushed {
                return Err(format!("it deploys branch {branch}, not {pushed}"));
            }
            let paths = github.paths.as_deref().unwrap_or_default();
            if !paths.is_empty() {
                let files = self.changed_files();
                if files.is_empty() {
                    return Err("the push lists no changed files to match gitHub.paths".into());
                }
                if !files.iter().any(|f| glob::filter_matches(paths, f)) {
                    return Err(format!(
                        "none of the {} changed files matches gitHub.paths",
                        files.len()
                    ));
                }
            }
        } else if let Some(tag) = self.git_ref.strip_prefix("refs/tags/") {
            if !github.deploys_tags() {
                return Err("deployTags is off".into());
            }
            let filters = github.tag_filters.as_deref().unwrap_or_default();
            if !glob::filter_matches(filters, tag) {
                return Err(format!("tag {tag} matches no gitHub.tagFilters"));
            }
        } else {
            return Err(format!("{} is neither a branch nor a tag", self.git_ref));
        }
        let head = self.head_commit.as_ref();
        Ok(Start {
            operation: PulumiOperation::Update,
            initiator: PUSH_INITIATOR,
            trigger: DeploymentTrigger {
                repository: self.repository.full_name.clone(),
                git_ref: self.git_ref.clone(),
                commit: head.map_or_else(|| self.after.clone(), |c| c.id.clone()),
                message: head.map(|c| c.message.clone()),
                author: head.and_then(|c| c.author.as_ref()).map(|a| a.name.clone()),
                pull_request: None,
                delivery_id: delivery_id.into(),
            },
        })
    }

    /// Every file the push's commits added, modified or removed.
    fn changed_files(&self) -> BTreeSet<&str> {
        self.commits
            .iter()
            .flat_map(|c| c.added.iter().chain(&c.modified).chain(&c.removed))
            .map(String::as_str)
            .collect()
    }
}

impl PullRequestEvent {
    fn decide(
        &self,
        delivery_id: &str,
        github: &GitHubSettings,
        branch: Option<&str>,
    ) -> Result<Start, String> {
        if !github.previews_pull_requests() {
            return Err("previewPullRequests is off".into());
        }
        let branch = branch.ok_or("it has no sourceContext.git.branch")?;
        let base = &self.pull_request.base.name;
        if branch != base {
            return Err(format!(
                "it deploys branch {branch}, and pull request #{} is into {base}",
                self.number
            ));
        }
        let pr = &self.pull_request;
        Ok(Start {
            operation: PulumiOperation::Preview,
            initiator: PULL_REQUEST_INITIATOR,
            trigger: DeploymentTrigger {
                repository: self.repository.full_name.clone(),
                git_ref: format!("refs/heads/{}", pr.head.name),
                commit: pr.head.sha.clone(),
                message: Some(pr.title.clone()),
                author: pr.user.as_ref().map(|u| u.login.clone()),
                pull_request: Some(self.number),
                delivery_id: delivery_id.into(),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn push(git_ref: &str, files: &[&str]) -> Event {
        let body = json!({
            "ref": git_ref,
            "before": "9049f1265b7d61be4a8904a9a27120d2064dab3b",
            "after": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "repository": {"full_name": "Acme/Website"},
            "commits": [{
                "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "message": "Update README.md",
                "author": {"name": "Mona Octocat", "username": "octocat"},
                "added": [], "modified": files, "removed": []
            }],
            "head_commit": {
                "id": "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
                "message": "Update README.md",
                "author": {"name": "Mona Octocat"}
            }
        });
        Event::parse("push", body.to_string().as_bytes())
            .expect("decodes")
            .expect("handled")
    }

    fn github(paths: &[&str]) -> GitHubSettings {
        GitHubSettings {
            repository: Some("acme/website".into()),
            paths: (!paths.is_empty()).then(|| paths.iter().map(|p| p.to_string()).collect()),
            ..GitHubSettings::default()
        }
    }

    #[test]
    fn pushes_to_the_stacks_branch_update_it_at_the_pushed_commit() {
        let event = push("refs/heads/main", &["infra/index.ts"]);
        let start = event
            .decide("d1", &github(&[]), Some("refs/heads/main"))
            .expect("starts");
        assert_eq!(start.operation, PulumiOperation::Update);
        assert_eq!(start.initiator, "github-push");
        assert_eq!(
            start.trigger.commit,
            "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"
        );
        assert_eq!(start.trigger.author.as_deref(), Some("Mona Octocat"));
        assert!(event.decide("d1", &github(&[]), Some("main")).is_ok());
        assert_eq!(
            event.decide("d1", &github(&[]), Some("dev")),
            Err("it deploys branch dev, not main".into())
        );
        let off = GitHubSettings {
            deploy_commits: Some(false),
            ..github(&[])
        };
        assert_eq!(
            event.decide("d1", &off, Some("main")),
            Err("deployCommits is off".into())
        );
    }

    #[test]
    fn path_filters_with_exclusions() {
        let filters = github(&["infra/**", "!infra/**/*.md"]);
        let code = push("refs/heads/main", &["infra/index.ts", "README.md"]);
        assert!(code.decide("d", &filters, Some("main")).is_ok());
        let docs = push("refs/heads/main", &["infra/docs/setup.md", "README.md"]);
        assert_eq!(
            docs.decide("d", &filters, Some("main")),
            Err("none of the 2 changed files matches gitHub.paths".into())
        );
    }

    #[test]
    fn tags_need_deploy_tags_and_a_matching_filter() {
        let event = push("refs/tags/v1.2.0", &[]);
        assert_eq!(
            event.decide("d", &github(&[]), Some("main")),
            Err("deployTags is off".into())
        );
        let tags = |filters: &[&str]| GitHubSettings {
            deploy_tags: Some(true),
            tag_filters: Some(filters.iter().map(|f| f.to_string()).collect()),
            ..github(&[])
        };
        assert!(event.decide("d", &tags(&["v*"]), None).is_ok());
        assert_eq!(
            event.decide("d", &tags(&["release-*"]), None),
            Err("tag v1.2.0 matches no gitHub.tagFilters".into())
        );
    }

    #[test]
    fn deleted_branches_and_closed_pull_requests_start_nothing() {
        let body = json!({
            "ref": "refs/heads/main", "after": "0000000000000000000000000000000000000000",
            "deleted": true, "repository": {"full_name": "acme/website"}
        });
        let deleted = Event::parse("push", body.to_string().as_bytes())
            .expect("decodes")
            .expect("handled");
        assert_eq!(
            deleted.ignored(),
            Some("the push deleted refs/heads/main".into())
        );
        let closed = pull_request("closed");
        assert!(closed.ignored().expect("ignored").contains("\"closed\""));
        assert!(Event::parse("issues", b"{}").expect("fine").is_none());
    }

    fn pull_request(action: &str) -> Event {
        let body = json!({
            "action": action, "number": 42,
            "pull_request": {
                "number": 42, "title": "Add a bucket",
                "head": {"ref": "feature", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e"},
                "base": {"ref": "main", "sha": "9049f1265b7d61be4a8904a9a27120d2064dab3b"},
                "user": {"login": "octocat"}
            },
            "repository": {"full_name": "acme/website"}
        });
        Event::parse("pull_request", body.to_string().as_bytes())
            .expect("decodes")
            .expect("handled")
    }

    #[test]
    fn pull_requests_into_the_stacks_branch_preview_the_head() {
        let event = pull_request("synchronize");
        assert_eq!(event.ignored(), None);
        let start = event
            .decide("d", &github(&[]), Some("refs/heads/main"))
            .expect("starts");
        assert_eq!(start.operation, PulumiOperation::Preview);
        assert_eq!(start.trigger.pull_request, Some(42));
        assert_eq!(
            start.trigger.commit,
            "6dcb09b5b57875f334f61aebed695e2e4193db5e"
        );
        assert!(
            event
                .decide("d", &github(&[]), Some("prod"))
                .expect_err("other base")
                .contains("into main")
        );
    }
}
