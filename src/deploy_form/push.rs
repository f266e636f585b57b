//! Push to deploy: the `gitHub` keys the panel owns and the source's branch.

use keyless_api_types::GitHubSettings;
use serde_json::Value;

use super::trimmed;

/// An on/off setting of push to deploy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushSwitch {
    DeployCommits,
    PreviewPullRequests,
    DeployTags,
}

impl PushSwitch {
    /// The key under `gitHub`.
    pub fn key(self) -> &'static str {
        match self {
            PushSwitch::DeployCommits => "deployCommits",
            PushSwitch::PreviewPullRequests => "previewPullRequests",
            PushSwitch::DeployTags => "deployTags",
        }
    }

    /// The switch's label.
    pub fn label(self) -> &'static str {
        match self {
            PushSwitch::DeployCommits => "Deploy commits",
            PushSwitch::PreviewPullRequests => "Preview pull requests",
            PushSwitch::DeployTags => "Deploy tags",
        }
    }

    /// Whether the switch is on for `github`, with the server's defaults for absent keys.
    pub(super) fn value(self, github: &GitHubSettings) -> bool {
        match self {
            PushSwitch::DeployCommits => github.deploys_commits(),
            PushSwitch::PreviewPullRequests => github.previews_pull_requests(),
            PushSwitch::DeployTags => github.deploys_tags(),
        }
    }
}

/// The push-to-deploy form: the `gitHub` keys the panel owns and the source's branch. Switches
/// show what the server does, defaults included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushForm {
    pub repository: String,
    pub branch: String,
    pub deploy_commits: bool,
    pub preview_pull_requests: bool,
    pub paths: Vec<String>,
    pub deploy_tags: bool,
    pub tag_filters: Vec<String>,
}

impl Default for PushForm {
    fn default() -> Self {
        Self::new(&GitHubSettings::default(), String::new())
    }
}

impl PushForm {
    pub(super) fn new(github: &GitHubSettings, branch: String) -> Self {
        Self {
            repository: github.repository.clone().unwrap_or_default(),
            branch,
            deploy_commits: PushSwitch::DeployCommits.value(github),
            preview_pull_requests: PushSwitch::PreviewPullRequests.value(github),
            paths: github.paths.clone().unwrap_or_default(),
            deploy_tags: PushSwitch::DeployTags.value(github),
            tag_filters: github.tag_filters.clone().unwrap_or_default(),
        }
    }

    /// Whether a switch is on.
    pub fn switch(&self, switch: PushSwitch) -> bool {
        match switch {
            PushSwitch::DeployCommits => self.deploy_commits,
            PushSwitch::PreviewPullRequests => self.preview_pull_requests,
            PushSwitch::DeployTags => self.deploy_tags,
        }
    }

    /// Turns a switch on or off.
    pub fn set_switch(&mut self, switch: PushSwitch, on: bool) {
        match switch {
            PushSwitch::DeployCommits => self.deploy_commits = on,
            PushSwitch::PreviewPullRequests => self.preview_pull_requests = on,
            PushSwitch::DeployTags => self.deploy_tags = on,
        }
    }
}

/// A list's rows trimmed, or `None` for an empty list (saved as absent).
pub(super) fn list_value(items: &[String]) -> Option<Value> {
    (!items.is_empty()).then(|| Value::from(items.iter().map(|i| trimmed(i)).collect::<Vec<_>>()))
}
