//! How a deployment started: who asked from where, or which push or pull request.

use keyless_api_types::{DeploymentTrigger, UserInfo};
use leptos::prelude::*;

/// How a deployment started, in words: who asked, or which push or pull request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TriggerText {
    /// Up to the commit: `Push to main · `, `Pull request #42 · `, or all of a manual start
    /// (`Alice Admin in the console`).
    pub lead: String,
    /// The commit's short SHA and its page on GitHub, for pushes and pull requests.
    pub commit: Option<(String, String)>,
    /// After the commit: ` Fix the bucket by Mona`, or nothing.
    pub rest: String,
}

impl std::fmt::Display for TriggerText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.lead)?;
        if let Some((sha, _)) = &self.commit {
            f.write_str(sha)?;
        }
        f.write_str(&self.rest)
    }
}

/// Describes a deployment's start from its `initiator`, `requestedBy` and `trigger`.
pub fn trigger_text(
    initiator: &str,
    requested_by: &UserInfo,
    trigger: Option<&DeploymentTrigger>,
) -> TriggerText {
    let Some(trigger) = trigger else {
        let who = if requested_by.name.is_empty() {
            requested_by.github_login.as_str()
        } else {
            requested_by.name.as_str()
        };
        let via = match initiator {
            "" => String::new(),
            "console" => " in the console".to_owned(),
            "api" => " through the API".to_owned(),
            other => format!(" ({other})"),
        };
        return TriggerText {
            lead: format!("{who}{via}"),
            commit: None,
            rest: String::new(),
        };
    };
    let sha: String = trigger.commit.chars().take(7).collect();
    let url = format!(
        "https://github.com/{}/commit/{}",
        trigger.repository, trigger.commit
    );
    let lead = match trigger.pull_request {
        Some(number) => format!("Pull request #{number} · "),
        None => match trigger.git_ref.strip_prefix("refs/tags/") {
            Some(tag) => format!("Push of tag {tag} · "),
            None => {
                let branch = trigger
                    .git_ref
                    .strip_prefix("refs/heads/")
                    .unwrap_or(&trigger.git_ref);
                format!("Push to {branch} · ")
            }
        },
    };
    let mut rest = String::new();
    if trigger.pull_request.is_none() {
        if let Some(subject) = trigger
            .message
            .as_deref()
            .and_then(|m| m.lines().next())
            .filter(|s| !s.trim().is_empty())
        {
            rest.push(' ');
            rest.push_str(subject.trim());
        }
        if let Some(author) = trigger.author.as_deref().filter(|a| !a.is_empty()) {
            rest.push_str(" by ");
            rest.push_str(author);
        }
    }
    TriggerText {
        lead,
        commit: Some((sha, url)),
        rest,
    }
}

/// How a deployment started, under a "Started by" heading: "Alice Admin in the console",
/// "Push to main · 0d1a26e Update the bucket policy by Mona Octocat" or "Pull request #42 ·
/// 6dcb09b", the short SHA linking to the commit on GitHub. For the deployments list and a
/// deployment's page.
#[component]
pub fn Trigger(
    /// The deployment's `initiator` (`console`, `api`, `github-push`, …).
    #[prop(into)]
    initiator: String,
    /// Who the deployment was requested by.
    requested_by: UserInfo,
    /// The push or pull request that started it, if one did.
    trigger: Option<DeploymentTrigger>,
) -> impl IntoView {
    let text = trigger_text(&initiator, &requested_by, trigger.as_ref());
    // The whole message (a pull request's title too) on hover.
    let title = trigger.as_ref().and_then(|t| t.message.clone());
    view! {
        <span class="trigger" title=title>
            {text.lead}
            {text.commit.map(|(sha, url)| view! {
                <a href=url target="_blank" rel="noopener noreferrer"><code>{sha}</code></a>
            })}
            {text.rest}
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> UserInfo {
        UserInfo {
            name: "Alice Admin".into(),
            github_login: "alice".into(),
            avatar_url: String::new(),
        }
    }

    fn push(git_ref: &str) -> DeploymentTrigger {
        DeploymentTrigger {
            repository: "acme/website".into(),
            git_ref: git_ref.into(),
            commit: "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c".into(),
            message: Some("Update the bucket policy\n\nLonger explanation.".into()),
            author: Some("Mona Octocat".into()),
            pull_request: None,
            delivery_id: "d-1".into(),
        }
    }

    #[test]
    fn a_push_names_branch_commit_subject_and_author() {
        let text = trigger_text("github-push", &alice(), Some(&push("refs/heads/main")));
        assert_eq!(
            text.to_string(),
            "Push to main · 0d1a26e Update the bucket policy by Mona Octocat"
        );
        assert_eq!(
            text.commit.map(|(_, url)| url).as_deref(),
            Some("https://github.com/acme/website/commit/0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c")
        );
    }

    #[test]
    fn a_tag_push_and_a_push_without_details() {
        let mut tag = push("refs/tags/v1.2.0");
        tag.message = None;
        tag.author = None;
        assert_eq!(
            trigger_text("github-push", &alice(), Some(&tag)).to_string(),
            "Push of tag v1.2.0 · 0d1a26e"
        );
    }

    #[test]
    fn a_pull_request_names_its_number_and_head_commit() {
        let pr = DeploymentTrigger {
            git_ref: "feature".into(),
            commit: "6dcb09b5b57875f334f61aebed695e2e4193db5e".into(),
            message: Some("Add a logging bucket".into()),
            pull_request: Some(42),
            ..push("feature")
        };
        assert_eq!(
            trigger_text("github-pull-request", &alice(), Some(&pr)).to_string(),
            "Pull request #42 · 6dcb09b"
        );
    }

    #[test]
    fn a_manual_start_names_who_and_where() {
        assert_eq!(
            trigger_text("console", &alice(), None).to_string(),
            "Alice Admin in the console"
        );
        assert_eq!(
            trigger_text("api", &alice(), None).to_string(),
            "Alice Admin through the API"
        );
        let nameless = UserInfo {
            name: String::new(),
            ..alice()
        };
        assert_eq!(
            trigger_text("cli", &nameless, None).to_string(),
            "alice (cli)"
        );
    }
}
